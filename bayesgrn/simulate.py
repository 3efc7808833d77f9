r"""Simulate steady-state expression from a known sparse, signed network.

Linear steady state with intercepts :math:`\beta_j` and noise
:math:`e_s \sim \mathcal N(0, \sigma^2 I)`:

.. math:: x_s = x_s W + \beta + e_s \quad\Longrightarrow\quad x_s = (\beta + e_s)(I - W)^{-1},

which exists because the spectral radius of ``W`` is scaled to at most ``spectral_radius``
< 1. A knockout of gene ``k`` replaces ``k``'s equation by ``x_k = 0`` (its regulators no
longer act on it, it still acts on its targets): column ``k`` of ``W`` is zeroed and
``beta_k + e_k`` set to 0 in that sample.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from bayesgrn.data import ExpressionData


@dataclass(frozen=True, eq=False)
class SimulatedData:
    """Simulated expression with its ground truth.

    Attributes
    ----------
    data
        The expression (observational samples first, then one sample per knockout).
    weights
        True ``W`` as a genes x genes DataFrame (rows regulators, columns targets).
    """

    data: ExpressionData
    weights: pd.DataFrame

    @property
    def gold(self) -> pd.DataFrame:
        """True edges as ``regulator, target, weight`` (non-zero entries of ``W``)."""
        stacked = self.weights.stack()
        stacked = stacked[stacked != 0]
        return pd.DataFrame(
            {
                "regulator": stacked.index.get_level_values(0),
                "target": stacked.index.get_level_values(1),
                "weight": stacked.to_numpy(),
            }
        )


def random_network(
    n_genes: int,
    *,
    mean_in_degree: float = 1.5,
    weight_range: tuple[float, float] = (0.3, 0.8),
    spectral_radius: float = 0.8,
    n_regulators: int | None = None,
    rng: np.random.Generator,
) -> np.ndarray:
    """Sparse signed ``W`` (regulator x target): in-degree ~ Poisson, weights ±U(range).

    Regulators of each target are drawn from the first ``n_regulators`` genes (all genes by
    default), never the target itself; ``W`` is rescaled so its spectral radius is at most
    ``spectral_radius``.
    """
    pool = n_genes if n_regulators is None else n_regulators
    w = np.zeros((n_genes, n_genes))
    low, high = weight_range
    for j in range(n_genes):  # one draw per target (a loop over genes, not pairs)
        candidates = np.setdiff1d(np.arange(pool), [j])
        k = min(rng.poisson(mean_in_degree), candidates.size)
        parents = rng.choice(candidates, size=k, replace=False)
        w[parents, j] = rng.uniform(low, high, size=k) * rng.choice([-1.0, 1.0], size=k)
    rho = np.max(np.abs(np.linalg.eigvals(w))) if n_genes else 0.0
    if rho > spectral_radius:
        w *= spectral_radius / rho
    return w


def steady_states(
    w: np.ndarray,
    intercept: np.ndarray,
    noise: np.ndarray,
    knocked_out: Sequence[int | None],
    knockout_level: float = 0.0,
) -> np.ndarray:
    """Solve ``x = x W + intercept + noise`` per sample, with knocked-out genes clamped."""
    n_samples, n_genes = noise.shape
    eye = np.eye(n_genes)
    drive = intercept[None, :] + noise
    out = np.empty((n_samples, n_genes))
    observational = np.array([k is None for k in knocked_out])
    if observational.any():
        out[observational] = np.linalg.solve((eye - w).T, drive[observational].T).T
    for s in np.nonzero(~observational)[0]:
        k = int(knocked_out[s])
        w_cut = w.copy()
        w_cut[:, k] = 0.0
        rhs = drive[s].copy()
        rhs[k] = knockout_level
        out[s] = np.linalg.solve((eye - w_cut).T, rhs)
    return out


def simulate(
    n_genes: int = 50,
    n_samples: int = 200,
    *,
    knockouts: int | Sequence[int] | str = 0,
    mean_in_degree: float = 1.5,
    weight_range: tuple[float, float] = (0.3, 0.8),
    spectral_radius: float = 0.8,
    noise_sd: float = 1.0,
    baseline: float = 3.0,
    n_regulators: int | None = None,
    seed: int = 0,
) -> SimulatedData:
    """Simulate a random network and its steady-state samples.

    Parameters
    ----------
    n_genes
        Number of genes ``G1..Gn``.
    n_samples
        Number of observational samples.
    knockouts
        Extra knockout samples: ``"all"`` (one per gene), a count (that many distinct genes
        at random), or explicit gene indices.
    mean_in_degree, weight_range, spectral_radius, n_regulators
        Network shape, see :func:`random_network`.
    noise_sd
        Sd of the per-gene noise.
    baseline
        Intercept of every gene (in noise units), so a knockout to 0 is a visible change.
    seed
        Seed of the numpy generator; same seed, same data.
    """
    if n_genes < 2 or n_samples < 0:
        raise ValueError("simulate needs n_genes >= 2 and n_samples >= 0")
    rng = np.random.default_rng(seed)
    w = random_network(
        n_genes,
        mean_in_degree=mean_in_degree,
        weight_range=weight_range,
        spectral_radius=spectral_radius,
        n_regulators=n_regulators,
        rng=rng,
    )
    if isinstance(knockouts, str):
        if knockouts != "all":
            raise ValueError(
                f"knockouts must be 'all', a count or gene indices, got {knockouts!r}"
            )
        ko = list(range(n_genes))
    elif isinstance(knockouts, int | np.integer):
        ko = sorted(rng.choice(n_genes, size=min(int(knockouts), n_genes), replace=False).tolist())
    else:
        ko = [int(k) for k in knockouts]
    knocked: list[int | None] = [None] * n_samples + ko
    noise = rng.normal(0.0, noise_sd, size=(len(knocked), n_genes))
    x = steady_states(w, np.full(n_genes, baseline * noise_sd), noise, knocked)
    genes = [f"G{i + 1}" for i in range(n_genes)]
    samples = [f"obs{i + 1}" for i in range(n_samples)] + [f"ko_{genes[k]}" for k in ko]
    perturbed = np.zeros_like(x, dtype=bool)
    for s, k in enumerate(knocked):
        if k is not None:
            perturbed[s, k] = True
    regulators = genes[:n_regulators] if n_regulators is not None else None
    data = ExpressionData.from_array(
        x, genes, samples, regulators=regulators, perturbed=perturbed, source="<simulated>"
    )
    return SimulatedData(data=data, weights=pd.DataFrame(w, index=genes, columns=genes))
