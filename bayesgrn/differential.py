r"""Differential networks: the probability that an edge differs between two conditions.

Fit each condition separately (same regulators and genes, same spec), then compare the
posteriors draw by draw. The two fits are independent, so pairing draw :math:`s` of one
with draw :math:`s` of the other is a draw from the joint posterior of
:math:`(W^A, W^B)`, and

.. math:: P(|W^A_{rj} - W^B_{rj}| > \delta \mid \text{data})
          \approx \frac1S \sum_s \mathbb 1\{|W^{A(s)}_{rj} - W^{B(s)}_{rj}| > \delta\}.

Differences are taken on the standardised scale by default (each condition standardised
on its own samples), or on the analysis scale with ``scale="data"``. The default
:math:`\delta` is twice the edge threshold, so that an edge appearing at the threshold in
one condition and vanishing in the other does not count as a difference by itself.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from bayesgrn import decision
from bayesgrn.posterior import Posterior


def differential_edges(
    a: Posterior,
    b: Posterior,
    *,
    delta: float | None = None,
    ci_prob: float = 0.9,
    scale: str = "standardized",
) -> pd.DataFrame:
    """Per edge, the posterior of ``W_a - W_b`` and ``P(|W_a - W_b| > delta)``.

    Parameters
    ----------
    a, b
        Posteriors of the two conditions, over the same regulators and targets.
    delta
        Smallest difference that matters (default: twice ``a``'s edge threshold).
    ci_prob
        Mass of the equal-tailed interval of the difference.
    scale
        ``"standardized"`` (default) or ``"data"``.

    Returns
    -------
    pandas.DataFrame
        ``regulator, target, mean_a, mean_b, diff_mean, diff_lower, diff_upper, p_differ,
        p_edge_a, p_edge_b``, most probably different first.
    """
    if a.regulators != b.regulators or a.targets != b.targets:
        raise ValueError(
            "the two posteriors must have the same regulators and targets in the same order "
            "(fit both conditions with the same genes and regulators)"
        )
    delta = 2.0 * a.edge_threshold if delta is None else float(delta)
    if not delta >= 0:
        raise ValueError(f"delta must be >= 0, got {delta}")
    n = min(a.n_draws, b.n_draws)
    wa, wb = a.draws(scale)[:n], b.draws(scale)[:n]
    diff = wa - wb
    lower, upper = decision.credible_interval(diff, ci_prob)
    allowed = a.allowed & b.allowed
    r_idx, t_idx = np.nonzero(allowed)
    frame = pd.DataFrame(
        {
            "regulator": np.asarray(a.regulators, dtype=object)[r_idx],
            "target": np.asarray(a.targets, dtype=object)[t_idx],
            "mean_a": wa.mean(axis=0)[r_idx, t_idx],
            "mean_b": wb.mean(axis=0)[r_idx, t_idx],
            "diff_mean": diff.mean(axis=0)[r_idx, t_idx],
            "diff_lower": lower[r_idx, t_idx],
            "diff_upper": upper[r_idx, t_idx],
            "p_differ": (np.abs(diff) > delta).mean(axis=0)[r_idx, t_idx],
            "p_edge_a": decision.edge_probability(a.w_draws, a.edge_threshold)[r_idx, t_idx],
            "p_edge_b": decision.edge_probability(b.w_draws, b.edge_threshold)[r_idx, t_idx],
        }
    )
    frame = frame.sort_values(
        ["p_differ", "regulator", "target"], ascending=[False, True, True], kind="stable"
    )
    return frame.reset_index(drop=True)
