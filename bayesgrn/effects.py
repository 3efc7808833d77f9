r"""Predicted perturbation effects, per posterior draw.

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

For the sigmoid family the steady state
:math:`x_j = b_j + v_j\,\sigma(h_j + \sum_r W_{rj} x_r)` has no closed form: each draw
(of :math:`W, v, h, b`) is solved by damped fixed-point iteration, once unperturbed and once
with the clamped genes moved by :math:`\Delta_K`; the difference is that draw's effect
(:func:`sigmoid_effect_draws`). The baseline uses the intercepts averaged over the fit's
conditions. Effects are then not proportional to :math:`\Delta_K`: saturation bounds them.
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


#: damping of the fixed-point iteration of the sigmoid family's steady state
DAMPING = 0.5


def sigmoid_steady_state(
    w: np.ndarray,
    gain: np.ndarray,
    bias: np.ndarray,
    intercept: np.ndarray,
    regulator_cols: np.ndarray,
    clamped: Mapping[int, np.ndarray] | None = None,
    *,
    tol: float = 1e-6,
    max_iter: int = 500,
) -> tuple[np.ndarray, np.ndarray]:
    r"""Noise-free steady state of the sigmoid family, draw by draw.

    Solves :math:`x_j = b_j + v_j\,\sigma(h_j + \sum_r W_{rj} x_r)` for every draw by the
    damped fixed-point iteration :math:`x \leftarrow (1 - \alpha) x + \alpha\, g(x)`
    (:data:`DAMPING`), vectorised over draws, with the genes in ``clamped`` held at the
    given values (their own equations cut).

    Parameters
    ----------
    w
        ``(S, n_regulators, n_genes)`` weights (standardised scale).
    gain, bias, intercept
        ``(S, n_genes)`` :math:`v, h, b`.
    regulator_cols
        ``(n_regulators,)`` column of each regulator among the genes.
    clamped
        Gene column -> ``(S,)`` value it is held at.

    Returns
    -------
    tuple
        ``(S, n_genes)`` states and the ``(S,)`` mask of draws that converged (max change
        below ``tol`` within ``max_iter`` iterations); a draw that does not converge has no
        unique stable steady state reachable from the start.
    """
    clamped = dict(clamped or {})
    cols = np.array(sorted(clamped), dtype=np.int64)
    values = np.stack([clamped[int(c)] for c in cols], axis=1) if cols.size else None
    x = intercept + gain / (1.0 + np.exp(-bias))
    if cols.size:
        x[:, cols] = values
    converged = np.zeros(x.shape[0], dtype=bool)
    todo = np.arange(x.shape[0])  # draws still iterating: converged ones stop costing
    for _ in range(max_iter):
        xs = x[todo]
        drive = np.matmul(xs[:, None, regulator_cols], w[todo])[:, 0]  # (n_todo, n_genes)
        target = intercept[todo] + gain[todo] / (1.0 + np.exp(-(bias[todo] + drive)))
        if cols.size:
            target[:, cols] = values[todo]
        done = np.abs(target - xs).max(axis=1) < tol
        x[todo] = (1.0 - DAMPING) * xs + DAMPING * target
        converged[todo[done]] = True
        todo = todo[~done]
        if not todo.size:
            break
    return x, converged & np.isfinite(x).all(axis=1)


def sigmoid_effect_draws(
    w: np.ndarray,
    gain: np.ndarray,
    bias: np.ndarray,
    intercept: np.ndarray,
    regulator_cols: np.ndarray,
    clamped: Mapping[int, float],
    base: tuple[np.ndarray, np.ndarray] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    r"""Draws of every gene's steady-state change for the sigmoid family.

    The change is the difference of two per-draw fixed-point solves: the unperturbed
    steady state :math:`x^0` and the one with each clamped gene held at
    :math:`x^0_k + \Delta_k`. Draws where either solve does not converge are dropped
    (like unstable draws in the linear family). Arguments as in
    :func:`sigmoid_steady_state` (``base``: the unperturbed solve, if already at hand);
    returns ``(n_kept, n_genes)`` changes and the mask.
    """
    w, gain, bias, intercept = (
        np.asarray(a, dtype=np.float64) for a in (w, gain, bias, intercept)
    )
    base, ok_base = base or sigmoid_steady_state(w, gain, bias, intercept, regulator_cols)
    held = {int(c): base[:, int(c)] + float(d) for c, d in clamped.items()}
    moved, ok_moved = sigmoid_steady_state(w, gain, bias, intercept, regulator_cols, held)
    keep = ok_base & ok_moved
    return (moved - base)[keep], keep


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
    if family not in ("gaussian", "sigmoid"):
        raise ValueError(
            "predicted effects are implemented for the linear and sigmoid families; "
            f"this posterior is {family!r}"
        )
    if family == "sigmoid" and not {"gain", "bias", "b"} <= set(posterior.site_draws):
        raise ValueError(
            "this sigmoid-family posterior has no per-draw gain/threshold/intercept draws "
            "(NUTS posteriors and files from older versions lack them); refit with "
            "method='svi' to predict effects"
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
    if family == "sigmoid":
        # the model's own scale is standardised: impose Delta/sd, report sd * change
        sd = np.asarray(posterior.target_scale, dtype=np.float64)
        args = (
            posterior.w_draws,
            posterior.site_draws["gain"],
            posterior.site_draws["bias"],
            posterior.site_draws["b"].mean(axis=1),  # baseline: average over conditions
            regulator_cols,
        )
        # the unperturbed solve is the same for every perturbation: once per posterior
        base = posterior.cached("sigmoid_baseline", lambda: sigmoid_steady_state(*args))
        draws, stable = sigmoid_effect_draws(
            *args, {col[g]: float(v) / sd[col[g]] for g, v in changes.items()}, base=base
        )
        draws = draws * sd
    else:
        draws, stable = effect_draws(
            posterior.draws("data"),
            regulator_cols,
            {col[g]: float(v) for g, v in changes.items()},
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
