"""Calibration of ``p_edge`` against a gold standard (the numbers behind a reliability diagram).

Edges are binned by their posterior edge probability; in a calibrated posterior the share of
true edges in each bin matches the bin's mean ``p_edge``. The pairs scored are the
posterior's candidate edges that the gold standard labels: every candidate when the gold
standard lists only true edges (the rest are false), and only the listed pairs when it also
lists false ones (DREAM's format lists every pair). True edges that are not candidates
(self-edges, forbidden edges, genes that are not regulators) have no ``p_edge`` and are left
out; :func:`calibration_table` counts them in ``attrs["n_true_not_candidates"]``.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from scipy import stats

from bayesgrn.metrics import read_gold_standard

if TYPE_CHECKING:
    from bayesgrn.posterior import Posterior

COLUMNS = (
    "bin_lower", "bin_upper", "n", "n_true", "mean_p_edge", "observed", "lower", "upper",
)  # fmt: skip


def labelled_edges(
    prediction: Posterior | pd.DataFrame, gold: str | os.PathLike[str] | pd.DataFrame
) -> pd.DataFrame:
    """Pair each scored candidate edge's ``p_edge`` with its gold-standard label.

    Parameters
    ----------
    prediction
        A :class:`~bayesgrn.Posterior`, or its :meth:`~bayesgrn.Posterior.edges` table.
    gold
        Anything :func:`bayesgrn.read_gold_standard` reads (a path or a DataFrame).

    Returns
    -------
    pandas.DataFrame
        ``regulator, target, p_edge, label`` (label in {0, 1}) in the prediction's order;
        ``attrs["n_true_not_candidates"]`` counts true edges that are not candidates.

    Raises
    ------
    ValueError
        When the gold standard labels none of the candidate edges (different gene names?).
    """
    edges = prediction.edges() if hasattr(prediction, "edges") else prediction
    pairs = edges[["regulator", "target", "p_edge"]].astype({"p_edge": np.float64})
    truth = read_gold_standard(gold)
    truth = truth.drop_duplicates(["regulator", "target"], keep="first")
    lists_negatives = bool((truth["label"] == 0).any())
    merged = pairs.merge(truth, on=["regulator", "target"], how="left", sort=False)
    if lists_negatives:
        merged = merged[merged["label"].notna()]
    merged["label"] = merged["label"].fillna(0).astype(int)
    positives = truth[truth["label"] == 1]
    matched = positives.merge(pairs[["regulator", "target"]], on=["regulator", "target"])
    if merged.empty or (not lists_negatives and matched.empty):
        source = (
            "the gold-standard DataFrame" if isinstance(gold, pd.DataFrame) else repr(str(gold))
        )
        raise ValueError(
            f"gold standard {source} labels none of the posterior's {len(pairs)} candidate "
            "edges; check that it uses the same gene names as the expression table"
        )
    merged = merged.reset_index(drop=True)
    merged.attrs["n_true_not_candidates"] = int(len(positives) - len(matched))
    return merged


def calibration_table(
    prediction: Posterior | pd.DataFrame,
    gold: str | os.PathLike[str] | pd.DataFrame,
    bins: int = 10,
    ci_prob: float = 0.9,
) -> pd.DataFrame:
    """Bin the candidate edges by ``p_edge`` and count the true edges in each bin.

    Parameters
    ----------
    prediction
        A :class:`~bayesgrn.Posterior`, or its :meth:`~bayesgrn.Posterior.edges` table.
    gold
        The gold standard (see :func:`labelled_edges`).
    bins
        Number of equal-width bins on ``[0, 1]``; ``p_edge = 1`` falls in the last one.
    ci_prob
        Mass of each bin's Jeffreys interval for the observed frequency.

    Returns
    -------
    pandas.DataFrame
        The :func:`reliability_table` of the labelled candidate edges; ``attrs`` also holds
        ``n_true_not_candidates``.
    """
    if bins < 1:
        raise ValueError(f"bins must be >= 1, got {bins}")
    if not 0.0 < ci_prob < 1.0:
        raise ValueError(f"ci_prob must lie strictly between 0 and 1, got {ci_prob}")
    labelled = labelled_edges(prediction, gold)
    table = reliability_table(
        labelled["p_edge"].to_numpy(), labelled["label"].to_numpy(), bins, ci_prob
    )
    table.attrs["n_true_not_candidates"] = labelled.attrs["n_true_not_candidates"]
    return table


def reliability_table(
    p_edge: np.ndarray, label: np.ndarray, bins: int = 10, ci_prob: float = 0.9
) -> pd.DataFrame:
    """Reliability of predicted probabilities ``p_edge`` against 0/1 outcomes ``label``.

    Returns
    -------
    pandas.DataFrame
        One row per equal-width bin on ``[0, 1]`` (``p_edge = 1`` in the last one):
        ``bin_lower, bin_upper, n, n_true, mean_p_edge, observed, lower, upper``;
        ``observed = n_true / n`` (NaN, like ``mean_p_edge``, for an empty bin) with its
        Jeffreys interval ``[lower, upper]`` of mass ``ci_prob``. ``attrs`` holds
        ``n_pairs``, ``n_true``, ``brier`` (mean squared difference of ``p_edge`` and label)
        and ``ece`` (count-weighted mean ``|observed - mean_p_edge|``).
    """
    p = np.asarray(p_edge, dtype=np.float64)
    y = np.asarray(label, dtype=np.float64)
    index = np.clip(np.floor(p * bins).astype(int), 0, bins - 1)
    n = np.bincount(index, minlength=bins)
    n_true = np.bincount(index, weights=y, minlength=bins).astype(int)
    sum_p = np.bincount(index, weights=p, minlength=bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        observed = np.where(n > 0, n_true / np.maximum(n, 1), np.nan)
        mean_p = np.where(n > 0, sum_p / np.maximum(n, 1), np.nan)
    tail = (1.0 - ci_prob) / 2.0
    lower = np.where(n_true > 0, stats.beta.ppf(tail, n_true + 0.5, n - n_true + 0.5), 0.0)
    upper = np.where(n_true < n, stats.beta.ppf(1 - tail, n_true + 0.5, n - n_true + 0.5), 1.0)
    empty = n == 0
    lower[empty], upper[empty] = np.nan, np.nan
    edges = np.linspace(0.0, 1.0, bins + 1)
    table = pd.DataFrame(
        {
            "bin_lower": edges[:-1],
            "bin_upper": edges[1:],
            "n": n,
            "n_true": n_true,
            "mean_p_edge": mean_p,
            "observed": observed,
            "lower": lower,
            "upper": upper,
        }
    )
    filled = ~empty
    table.attrs.update(
        {
            "n_pairs": int(n.sum()),
            "n_true": int(y.sum()),
            "brier": float(np.mean((p - y) ** 2)),
            "ece": float(np.sum(n[filled] * np.abs(observed[filled] - mean_p[filled])) / n.sum()),
        }
    )
    return table


def calibration_error_floor(
    p_edge: np.ndarray, bins: int = 10, n_sim: int = 200, seed: int = 0
) -> np.ndarray:
    r"""ECEs of *perfectly calibrated* probabilities: the noise floor of :func:`reliability_table`.

    The expected calibration error of a finite set of pairs is positive even when every
    ``p_edge`` is exactly right, because each bin's observed frequency is a binomial
    proportion. This draws ``n_sim`` label sets :math:`y_i \sim \mathrm{Bernoulli}(p_i)`
    (labels that ``p_edge`` describes exactly) and returns their ECEs, so a measured ECE can
    be read against what calibrated probabilities on the same pairs would show.

    Parameters
    ----------
    p_edge
        The predicted probabilities, any shape (flattened).
    bins, n_sim, seed
        Bins of the ECE, number of simulated label sets, seed of their generator.

    Returns
    -------
    numpy.ndarray
        ``(n_sim,)`` ECEs; compare a measured ECE with, e.g., their mean and 95% quantile.
    """
    if n_sim < 1:
        raise ValueError(f"n_sim must be >= 1, got {n_sim}")
    p = np.clip(np.asarray(p_edge, dtype=np.float64).ravel(), 0.0, 1.0)
    rng = np.random.default_rng(seed)
    return np.array(
        [reliability_table(p, rng.random(p.size) < p, bins).attrs["ece"] for _ in range(n_sim)]
    )
