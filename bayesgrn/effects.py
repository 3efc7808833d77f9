r"""Predicted perturbation effects, per posterior draw, for the linear family.

Under the steady state :math:`x = x W + b + \varepsilon`, clamping the genes :math:`K` (a
knockout, knockdown or over-expression: the do-operator) changes them by :math:`\Delta_K`
and propagates through the remaining equations. With :math:`R` the regulators and
:math:`U = R \setminus K` the unclamped regulators,

.. math::

    \Delta x_U = \Delta_K\, W_{KU} (I - W_{UU})^{-1}, \qquad
    \Delta x_j = \sum_{r \in R} W_{rj}\, \Delta x_r \quad (j \notin K),

which is the total-effect matrix :math:`(I - W)^{-1}` of the mutilated network. Each draw of
``W`` gives one draw of :math:`\Delta x`; a draw whose unclamped regulator block has spectral
radius :math:`\ge 1` has no stable steady state and is dropped (and counted).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from bayesgrn import decision

if TYPE_CHECKING:
    from bayesgrn.posterior import Posterior


def stable_draws(block: np.ndarray, iterations: int = 30) -> np.ndarray:
    """Which ``(S, U, U)`` blocks have spectral radius < 1, cheaply and exactly.

    For a non-negative matrix and any positive vector ``v``, ``max_i (A v)_i / v_i`` bounds
    the spectral radius from above (Collatz-Wielandt), and ``rho(W) <= rho(|W|)``; also
    ``rho(W) <= ||W^16||^(1/16)`` (Gelfand). These certify most draws stable; only the rest
    get an eigenvalue decomposition.
    """
    n_draws, size = block.shape[0], block.shape[-1]
    if size == 0:
        return np.ones(n_draws, dtype=bool)
    magnitude = np.abs(block)
    v = np.ones((n_draws, size))
    for _ in range(iterations):
        v = np.einsum("sij,sj->si", magnitude, v) + 1e-12
        v /= v.max(axis=1, keepdims=True)
    bound = (np.einsum("sij,sj->si", magnitude, v) / v).max(axis=1)
    # Gelfand: rho(W) <= ||W^16||_F^(1/16), tight when many small weights cancel
    power = block.copy()
    for _ in range(4):
        power = power @ power
    with np.errstate(over="ignore", invalid="ignore"):
        gelfand = np.linalg.norm(power, axis=(1, 2)) ** (1.0 / 16.0)
    stable = (bound < 1.0) | (gelfand < 1.0)
    unsure = np.nonzero(~stable)[0]
    if unsure.size:
        radius = np.abs(np.linalg.eigvals(block[unsure])).max(axis=-1)
        stable[unsure] = radius < 1.0
    return stable


def effect_draws(
    w: np.ndarray, regulator_cols: np.ndarray, clamped: Mapping[int, float]
) -> tuple[np.ndarray, np.ndarray]:
    """Draws of the steady-state change of every gene.

    Parameters
    ----------
    w
        ``(n_draws, n_regulators, n_genes)`` weights on the scale of the changes.
    regulator_cols
        ``(n_regulators,)`` column of each regulator among the genes.
    clamped
        Gene column -> its change.

    Returns
    -------
    tuple
        ``(n_stable, n_genes)`` changes (clamped genes hold their own change) and the
        boolean mask of stable draws, ``(n_draws,)``.
    """
    n_draws, n_reg, n_genes = w.shape
    row_of = {int(c): i for i, c in enumerate(regulator_cols)}
    k_cols = np.array(sorted(clamped), dtype=np.int64)
    deltas = np.array([clamped[int(c)] for c in k_cols], dtype=np.float64)
    k_rows = np.array([row_of[c] for c in k_cols if c in row_of], dtype=np.int64)
    k_row_delta = np.array([clamped[int(c)] for c in k_cols if c in row_of], dtype=np.float64)
    free_rows = np.setdiff1d(np.arange(n_reg), k_rows)
    w = w.astype(np.float64)
    block = w[:, free_rows][:, :, regulator_cols[free_rows]]  # (S, U, U)
    stable = stable_draws(block)
    w, block = w[stable], block[stable]
    delta_reg = np.zeros((w.shape[0], n_reg))
    delta_reg[:, k_rows] = k_row_delta
    if free_rows.size and k_rows.size:
        drive = np.einsum("k,sku->su", k_row_delta, w[:, k_rows][:, :, regulator_cols[free_rows]])
        eye = np.eye(free_rows.size)
        # row vector times (I - W_UU)^{-1}  ==  solve((I - W_UU)^T, drive^T)
        solved = np.linalg.solve(np.transpose(eye - block, (0, 2, 1)), drive[..., None])[..., 0]
        delta_reg[:, free_rows] = solved
    out = np.einsum("sr,srg->sg", delta_reg, w)  # (S, n_genes)
    out[:, k_cols] = deltas
    return out, stable


def predict_effects(
    posterior: Posterior, changes: Mapping[str, float], ci_prob: float = 0.9
) -> pd.DataFrame:
    """Posterior of every gene's steady-state change when ``changes`` are imposed.

    ``changes`` maps each perturbed gene to its change on the analysis scale (the scale
    of the fitted data, after any log transform). Returns one row per gene not perturbed:
    ``gene, mean, sd, ci_lower, ci_upper, p_up`` (``P(change > 0)``), with
    ``attrs["n_stable_draws"]``.
    """
    family = posterior.spec.get("likelihood", {}).get("family", "gaussian")
    if family != "gaussian":
        raise ValueError(
            "predicted effects are implemented for the linear family; "
            f"this posterior is {family!r}"
        )
    if not changes:
        raise ValueError("give at least one perturbed gene and its change")
    col = {g: j for j, g in enumerate(posterior.targets)}
    unknown = [g for g in changes if g not in col]
    if unknown:
        raise ValueError(f"perturbed gene(s) not in the network: {unknown[:10]}")
    bad = {g: v for g, v in changes.items() if not np.isfinite(v)}
    if bad:
        raise ValueError(f"changes must be finite numbers; got {bad}")
    regulator_cols = np.array([col[r] for r in posterior.regulators], dtype=np.int64)
    draws, stable = effect_draws(
        posterior.draws("data"), regulator_cols, {col[g]: float(v) for g, v in changes.items()}
    )
    if not stable.any():
        raise ValueError("no posterior draw has a stable steady state; effects are undefined")
    keep = np.array([g not in changes for g in posterior.targets])
    draws = draws[:, keep]
    lower, upper = decision.credible_interval(draws, ci_prob)
    frame = pd.DataFrame(
        {
            "gene": np.asarray(posterior.targets, dtype=object)[keep],
            "mean": draws.mean(axis=0),
            "sd": draws.std(axis=0, ddof=1) if draws.shape[0] > 1 else 0.0,
            "ci_lower": lower,
            "ci_upper": upper,
            "p_up": (draws > 0).mean(axis=0),
        }
    )
    frame.attrs["n_stable_draws"] = int(stable.sum())
    frame.attrs["n_draws"] = int(stable.size)
    return frame
