r"""Edge decisions from posterior draws of ``W`` -- defined once, used everywhere.

With draws :math:`W^{(1)}, \dots, W^{(S)}` and the spec's threshold :math:`\delta`:

* ``p_edge``     :math:`= P(|W_{rj}| > \delta \mid \text{data})`, the posterior probability
  that the edge exists with a non-negligible effect (standardised units).
* ``p_positive`` :math:`= P(W_{rj} > 0 \mid \text{data})`.
* ``lfdr``       :math:`= 1 - p_\text{edge}`, the local false discovery rate.
* ``lfsr``       :math:`= \min(P(W \ge 0), P(W \le 0))`, the local false sign rate
  (Stephens 2017): the probability of getting the sign wrong when reporting the edge.

Bayesian FDR selection (Müller et al. 2004; Newton et al. 2004): sort edges by ``lfdr``
ascending and keep the largest prefix whose mean ``lfdr`` -- the posterior expected
proportion of false discoveries -- is at most the level ``q``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def edge_probability(draws: np.ndarray, threshold: float) -> np.ndarray:
    """``P(|W| > threshold)`` per entry, from draws with the draw axis first."""
    return (np.abs(draws) > threshold).mean(axis=0)


def sign_probability(draws: np.ndarray) -> np.ndarray:
    """``P(W > 0)`` per entry."""
    return (draws > 0).mean(axis=0)


def local_false_sign_rate(draws: np.ndarray) -> np.ndarray:
    """``min(P(W >= 0), P(W <= 0))`` per entry."""
    return np.minimum((draws >= 0).mean(axis=0), (draws <= 0).mean(axis=0))


def interval_levels(ci_prob: float) -> tuple[float, float]:
    """Quantile levels ``(1 - ci_prob)/2`` and ``(1 + ci_prob)/2`` of the equal-tailed interval."""
    if not 0.0 < ci_prob < 1.0:
        raise ValueError(f"ci_prob must lie strictly between 0 and 1, got {ci_prob}")
    alpha = 0.5 * (1.0 - ci_prob)
    return alpha, 1.0 - alpha


def credible_interval(draws: np.ndarray, ci_prob: float) -> tuple[np.ndarray, np.ndarray]:
    """Equal-tailed ``ci_prob`` interval per entry (quantiles ``(1 ± ci_prob)/2``)."""
    lower, upper = np.quantile(draws, list(interval_levels(ci_prob)), axis=0)
    return lower, upper


def name_ranks(names: np.ndarray) -> np.ndarray:
    """Return each name's rank in sorted (code-point) order; equal names share a rank."""
    codes, _ = pd.factorize(np.asarray(names, dtype=object).reshape(-1), sort=True)
    return codes


def edge_order(
    p_edge: np.ndarray,
    abs_mean: np.ndarray,
    regulator_rank: np.ndarray,
    target_rank: np.ndarray,
) -> np.ndarray:
    """Return the indices that rank edges by ``p_edge``, then ``|mean|``, both descending.

    Exact ties are broken by regulator then target name (their :func:`name_ranks`), so the
    order never depends on the table's layout. One ``np.lexsort`` over numeric keys: the
    ranking of tens of millions of edges compares no strings.
    """
    return np.lexsort((target_rank, regulator_rank, -np.asarray(abs_mean), -np.asarray(p_edge)))


def bayesian_fdr_selection(lfdr: np.ndarray, fdr: float) -> np.ndarray:
    """Return the largest set whose posterior expected FDR (mean ``lfdr``) is ``<= fdr``.

    Returned in order of increasing ``lfdr`` (ties broken by position, a stable sort).
    """
    if not 0.0 <= fdr <= 1.0:
        raise ValueError(f"fdr must lie in [0, 1], got {fdr}")
    flat = np.asarray(lfdr, dtype=np.float64).ravel()
    order = np.argsort(flat, kind="stable")
    running = np.cumsum(flat[order]) / np.arange(1, flat.size + 1)
    ok = np.nonzero(running <= fdr + 1e-12)[0]
    return order[: ok[-1] + 1] if ok.size else order[:0]
