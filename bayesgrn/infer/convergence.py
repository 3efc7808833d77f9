r"""Convergence of several MCMC chains: the rank-normalised split-:math:`\hat R`.

Following Vehtari, Gelman, Simpson, Carpenter & Bürkner (2021), for draws
:math:`\theta^{(c, s)}` of ``C`` chains with ``S`` draws each:

1. split every chain into halves (``2C`` chains of ``N = S/2`` draws), so that a chain that
   drifts disagrees with itself;
2. replace the draws by their normal scores
   :math:`z = \Phi^{-1}\big((r - 3/8) / (2CN + 1/4)\big)`, :math:`r` the pooled rank
   (average rank for ties), so heavy tails -- the horseshoe's -- do not dominate;
3. with :math:`W` the mean within-chain variance and :math:`B/N` the variance of the chain
   means, :math:`\hat R = \sqrt{\big(\tfrac{N-1}{N} W + B/N\big) / W}`;
4. take the larger of that and the same computed on the folded draws
   :math:`|\theta - \mathrm{median}(\theta)|` (chains that agree in location but not in
   scale).

:math:`\hat R` near 1 says the chains sample the same distribution; above 1.01 (their
recommendation) they do not yet -- for the horseshoe typically because the posterior has
several modes (an edge in one orientation or the other, one of two collinear regulators)
and each chain stays in one. Computed in numpy for every weight at once; it agrees with
ArviZ's ``rhat(method="rank")`` (tested), without depending on its version.
"""

from __future__ import annotations

import numpy as np
from scipy import special, stats

#: chains whose weights exceed this split-R-hat are reported as not converged (warning)
RHAT_WARN = 1.05


def _rank_normal_scores(draws: np.ndarray) -> np.ndarray:
    """Return the normal scores of the pooled ranks over the first two axes (chains, draws)."""
    n_chains, n_draws = draws.shape[:2]
    total = n_chains * n_draws
    ranks = stats.rankdata(draws.reshape(total, -1), axis=0).reshape(draws.shape)
    return special.ndtri((ranks - 0.375) / (total + 0.25))


def _rhat_of_split_chains(z: np.ndarray) -> np.ndarray:
    n = z.shape[1]
    chain_means = z.mean(axis=1)
    within = z.var(axis=1, ddof=1).mean(axis=0)
    between_over_n = chain_means.var(axis=0, ddof=1)
    var_plus = (n - 1) / n * within + between_over_n
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.sqrt(var_plus / within)


def split_rhat(draws: np.ndarray) -> np.ndarray:
    r"""Return the rank-normalised split-:math:`\hat R` per element (module docstring).

    Parameters
    ----------
    draws
        ``(n_chains, n_draws, ...)`` with at least 4 draws per chain (one chain is split
        into two halves and compared with itself).

    Returns
    -------
    numpy.ndarray
        ``draws.shape[2:]``; NaN where every draw is identical (a weight fixed at 0).
    """
    draws = np.asarray(draws, dtype=np.float64)
    if draws.ndim < 2 or draws.shape[1] < 4:
        raise ValueError(f"split_rhat needs (chains, draws >= 4, ...) draws, got {draws.shape}")
    half = draws.shape[1] // 2
    # an odd draw count drops the middle draw (as ArviZ does)
    split = np.concatenate([draws[:, :half], draws[:, -half:]], axis=0)
    constant = np.ptp(split.reshape(-1, *split.shape[2:]), axis=0) == 0
    bulk = _rhat_of_split_chains(_rank_normal_scores(split))
    folded = np.abs(split - np.median(split.reshape(-1, *split.shape[2:]), axis=0))
    tail = _rhat_of_split_chains(_rank_normal_scores(folded))
    out = np.maximum(bulk, tail)
    return np.where(constant, np.nan, out)
