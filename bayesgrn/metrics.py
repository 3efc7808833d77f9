"""Scoring a ranked edge list against a gold standard (AUROC, AUPR, precision at k).

AUPR is average precision (``sklearn.metrics.average_precision_score``), the step-wise
area that DREAM's own scoring approximates.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from sklearn.metrics import average_precision_score, roc_auc_score

if TYPE_CHECKING:
    from bayesgrn.posterior import Posterior


def ranked_scores(edges: pd.DataFrame) -> pd.DataFrame:
    """``regulator, target, score`` with ``score`` decreasing down the ranking.

    Posterior edge tables rank by ``p_edge`` then ``|mean|``; other tables need a
    ``score`` or ``importance`` column (larger = more confident).
    """
    if {"p_edge", "mean"} <= set(edges.columns):
        ordered = edges.assign(_abs=edges["mean"].abs()).sort_values(
            ["p_edge", "_abs"], ascending=[False, False], kind="stable"
        )
    else:
        column = next((c for c in ("score", "importance") if c in edges.columns), None)
        if column is None:
            raise ValueError("edge table needs p_edge+mean, score or importance columns to rank")
        ordered = edges.sort_values(column, ascending=False, kind="stable")
    n = len(ordered)
    return pd.DataFrame(
        {
            "regulator": ordered["regulator"].astype(str).to_numpy(),
            "target": ordered["target"].astype(str).to_numpy(),
            "score": np.arange(n, 0, -1, dtype=np.float64),
        }
    )


def read_gold_standard(source: str | os.PathLike[str] | pd.DataFrame) -> pd.DataFrame:
    """Read a gold standard: DREAM's ``regulator target 0/1`` TSV, or 2 columns (positives).

    A table with a ``weight`` column (as :attr:`SimulatedData.gold` and ``bayesgrn simulate``
    write) lists true edges: ``label = weight != 0``. Returns ``regulator, target, label``
    with ``label`` in {0, 1}.
    """
    if isinstance(source, pd.DataFrame):
        frame = source.copy()
        name = "<DataFrame>"
    else:
        name = str(source)
        if not os.path.isfile(name):
            raise ValueError(f"gold-standard file {name!r} does not exist")
        frame = pd.read_csv(name, sep=None, engine="python", header=None, dtype=str)
        first = str(frame.iloc[0, 0]).strip().lower() if len(frame) else ""
        if first in ("regulator", "tf", "source"):
            frame.columns = [str(c).strip().lower() for c in frame.iloc[0]]
            frame = frame.iloc[1:].reset_index(drop=True)
    if frame.shape[1] < 2:
        raise ValueError(f"gold standard {name}: needs at least 2 columns (regulator, target)")
    cols = list(frame.columns)
    out = pd.DataFrame(
        {
            "regulator": frame[cols[0]].astype(str).str.strip(),
            "target": frame[cols[1]].astype(str).str.strip(),
        }
    )
    if "weight" in frame.columns:
        weight = pd.to_numeric(frame["weight"], errors="coerce")
        if weight.isna().any():
            row = int(np.nonzero(weight.isna().to_numpy())[0][0])
            raise ValueError(f"gold standard {name}: row {row + 1} has a non-numeric weight")
        labels = (weight != 0).astype(int)
    elif "label" in frame.columns:
        labels = frame["label"]
    elif frame.shape[1] >= 3:
        labels = frame[cols[2]]
    else:
        labels = pd.Series(1, index=frame.index)
    numeric = pd.to_numeric(labels, errors="coerce")
    bad = numeric.isna() | ~numeric.isin([0, 1])
    if bad.any():
        row = int(np.nonzero(bad.to_numpy())[0][0])
        raise ValueError(
            f"gold standard {name}: row {row + 1} has label {labels.iloc[row]!r}; use 0/1"
        )
    out["label"] = numeric.astype(int).to_numpy()
    return out


def evaluate(
    prediction: Posterior | pd.DataFrame,
    gold: str | os.PathLike[str] | pd.DataFrame,
    *,
    k: Sequence[int] = (10, 50, 100),
) -> dict[str, Any]:
    """AUROC, AUPR and precision at ``k`` of a ranking against a gold standard.

    The scored universe is every pair the gold standard lists when it carries labels (DREAM's
    format lists all pairs), else every pair of the prediction plus the gold positives;
    pairs the prediction does not rank are tied at the bottom. Self-pairs are ignored.
    """
    edges = prediction.edges() if hasattr(prediction, "edges") else prediction
    ranked = ranked_scores(edges)
    truth = read_gold_standard(gold)
    # a gold standard that lists negatives (DREAM lists every pair) defines the universe
    if (truth["label"] == 0).any():
        universe = truth
    else:
        pairs = ranked[["regulator", "target"]].assign(label=0)
        universe = pd.concat([truth, pairs]).drop_duplicates(["regulator", "target"], keep="first")
    universe = universe[universe["regulator"] != universe["target"]]
    merged = universe.merge(ranked, on=["regulator", "target"], how="left")
    labels = merged["label"].to_numpy()
    scores = merged["score"].fillna(0.0).to_numpy()
    if labels.min() == labels.max():
        raise ValueError("gold standard must contain both true and false edges among scored pairs")
    order = np.argsort(-scores, kind="stable")
    out: dict[str, Any] = {
        "auroc": float(roc_auc_score(labels, scores)),
        "aupr": float(average_precision_score(labels, scores)),
        "n_true": int(labels.sum()),
        "n_pairs": int(labels.size),
    }
    for kk in k:
        out[f"precision_at_{kk}"] = float(labels[order[:kk]].mean())
    return out
