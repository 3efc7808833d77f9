r"""Network summaries with uncertainty, computed per posterior draw.

In draw :math:`s` the edge :math:`r \to j` is present when :math:`|W^{(s)}_{rj}| > \delta`
(the same rule as ``p_edge``). Each summary -- in- and out-degree of every gene, the number
of edges, each regulator's rank by out-degree -- is computed per draw, so its spread is the
posterior uncertainty of the summary, not a plug-in of point estimates.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from bayesgrn import decision

if TYPE_CHECKING:
    from bayesgrn.posterior import Posterior


def _present(posterior: Posterior) -> np.ndarray:
    return (np.abs(posterior.w_draws) > posterior.edge_threshold) & posterior.allowed


def degree_summary(posterior: Posterior, ci_prob: float = 0.9) -> pd.DataFrame:
    """Posterior mean and interval of each gene's in- and out-degree.

    Columns: ``gene, in_mean, in_lower, in_upper, out_mean, out_lower, out_upper`` (genes that
    are not candidate regulators have out-degree 0).
    """
    present = _present(posterior)  # (S, R, T)
    indeg = present.sum(axis=1).astype(float)  # (S, T)
    outdeg_reg = present.sum(axis=2).astype(float)  # (S, R)
    col = {g: j for j, g in enumerate(posterior.targets)}
    outdeg = np.zeros_like(indeg)
    outdeg[:, [col[r] for r in posterior.regulators]] = outdeg_reg
    in_lo, in_hi = decision.credible_interval(indeg, ci_prob)
    out_lo, out_hi = decision.credible_interval(outdeg, ci_prob)
    return pd.DataFrame(
        {
            "gene": list(posterior.targets),
            "in_mean": indeg.mean(axis=0),
            "in_lower": in_lo,
            "in_upper": in_hi,
            "out_mean": outdeg.mean(axis=0),
            "out_lower": out_lo,
            "out_upper": out_hi,
        }
    )


def edge_count(posterior: Posterior, ci_prob: float = 0.9) -> dict[str, float]:
    """Posterior mean and equal-tailed interval of the number of edges."""
    counts = _present(posterior).sum(axis=(1, 2)).astype(float)
    lower, upper = decision.credible_interval(counts[:, None], ci_prob)
    return {"mean": float(counts.mean()), "lower": float(lower[0]), "upper": float(upper[0])}


def regulator_ranking(posterior: Posterior, top: int = 10) -> pd.DataFrame:
    """Probability that each regulator is among the ``top`` hubs (by out-degree).

    Ties in a draw are broken by the sum of ``|W|`` over the regulator's targets. Columns:
    ``regulator, p_top, mean_rank, out_degree_mean``, sorted by ``p_top``.
    """
    if top < 1:
        raise ValueError(f"top must be >= 1, got {top}")
    present = _present(posterior)
    outdeg = present.sum(axis=2).astype(float)  # (S, R)
    strength = np.abs(posterior.w_draws).sum(axis=2)  # (S, R)
    key = outdeg + strength / (strength.max() + 1.0)  # degree first, strength breaks ties
    ranks = (-key).argsort(axis=1).argsort(axis=1) + 1  # (S, R), 1 = largest hub
    frame = pd.DataFrame(
        {
            "regulator": list(posterior.regulators),
            "p_top": (ranks <= top).mean(axis=0),
            "mean_rank": ranks.mean(axis=0),
            "out_degree_mean": outdeg.mean(axis=0),
        }
    )
    return frame.sort_values(["p_top", "mean_rank"], ascending=[False, True]).reset_index(
        drop=True
    )
