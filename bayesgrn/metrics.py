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

from bayesgrn import decision
from bayesgrn.data import BayesGRNInputError
from bayesgrn.io import edge_endpoints, read_small_table

if TYPE_CHECKING:
    from bayesgrn.posterior import Posterior


def ranked_scores(edges: pd.DataFrame) -> pd.DataFrame:
    """``regulator, target, score`` with ``score`` decreasing down the ranking.

    Posterior edge tables rank by ``p_edge`` then ``|mean|`` (:func:`decision.edge_order`);
    other tables need a ``score`` or ``importance`` column (larger = more confident).
    """
    regulator = edges["regulator"].astype(str).to_numpy(dtype=object)
    target = edges["target"].astype(str).to_numpy(dtype=object)
    if {"p_edge", "mean"} <= set(edges.columns):
        order = decision.edge_order(
            edges["p_edge"].to_numpy(dtype=np.float64),
            np.abs(edges["mean"].to_numpy(dtype=np.float64)),
            decision.name_ranks(regulator),
            decision.name_ranks(target),
        )
    else:
        column = next((c for c in ("score", "importance") if c in edges.columns), None)
        if column is None:
            raise ValueError("edge table needs p_edge+mean, score or importance columns to rank")
        order = np.argsort(-edges[column].to_numpy(dtype=np.float64), kind="stable")
    n = len(order)
    return pd.DataFrame(
        {
            "regulator": regulator[order],
            "target": target[order],
            "score": np.arange(n, 0, -1, dtype=np.float64),
        }
    )


def read_gold_standard(source: str | os.PathLike[str] | pd.DataFrame) -> pd.DataFrame:
    """Read a gold standard: DREAM's ``regulator target 0/1`` TSV, or 2 columns (positives).

    A table with a ``weight`` column (as :attr:`SimulatedData.gold` and ``bayesgrn simulate``
    write) lists true edges: ``label = weight != 0``; otherwise the labels are a ``label``
    column, else the third column, else all 1. A file is read like an expression table
    (separator tab, comma, semicolon or whitespace; gzip/bz2/xz; BOM; quotes; any line
    ending) and may start with a header whose first cell is ``regulator``, ``tf`` or
    ``source``. Returns ``regulator, target, label`` with ``label`` in {0, 1}.

    Raises
    ------
    BayesGRNInputError
        For a missing, empty or unreadable file, a ragged row, an empty name, a label that
        is not 0/1 or a non-numeric weight -- naming the file and line (or row).
    """
    if isinstance(source, pd.DataFrame):
        frame = source.copy()
        name = "gold standard <DataFrame>"
        places = [f"row {i + 1}" for i in range(len(frame))]
        if frame.shape[1] < 2:
            raise BayesGRNInputError(f"{name}: needs at least 2 columns (regulator, target)")
    else:
        path = str(source)
        name = f"gold-standard file {path!r}"
        table = read_small_table(
            path,
            "gold-standard file",
            has_header=lambda fields: fields[0].lower() in ("regulator", "tf", "source"),
        )
        if not table.rows:
            has = f"only a header (line {table.header_line})" if table.header else "it is empty"
            raise BayesGRNInputError(
                f"{name} lists no edges: {has}; expected lines of regulator, target and a 0/1 "
                "label"
            )
        if len(table.rows[0]) < 2:
            raise BayesGRNInputError(
                f"{name}: line {table.header_line or table.lines[0]} has a single column; "
                "needs at least 2 columns (regulator, target) separated by tabs, commas, "
                "semicolons or spaces"
            )
        columns = [c.lower() for c in table.header] if table.header else None
        frame = pd.DataFrame(table.rows, columns=columns, dtype=object)
        places = [f"line {n}" for n in table.lines]
    cols = list(frame.columns)
    regulators, targets = edge_endpoints(
        frame[cols[0]].tolist(), frame[cols[1]].tolist(), places, name
    )
    if "weight" in frame.columns:
        raw = frame["weight"]
        weight = pd.to_numeric(raw, errors="coerce")
        if weight.isna().any():
            row = int(np.nonzero(weight.isna().to_numpy())[0][0])
            raise BayesGRNInputError(
                f"{name}: {places[row]} has a non-numeric weight {raw.iloc[row]!r}"
            )
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
        raise BayesGRNInputError(f"{name}: {places[row]} has label {labels.iloc[row]!r}; use 0/1")
    return pd.DataFrame(
        {"regulator": regulators, "target": targets, "label": numeric.astype(int).to_numpy()}
    )


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
    # pairs as integer keys (one code per name), so scoring millions of pairs joins no strings
    names = np.concatenate(
        [truth["regulator"], truth["target"], ranked["regulator"], ranked["target"]]
    ).astype(object)
    codes, uniques = pd.factorize(names)
    n_truth, n_ranked, width = len(truth), len(ranked), max(len(uniques), 1)
    truth_reg, truth_tgt = codes[:n_truth], codes[n_truth : 2 * n_truth]
    ranked_reg = codes[2 * n_truth : 2 * n_truth + n_ranked]
    ranked_tgt = codes[2 * n_truth + n_ranked :]
    truth_key = truth_reg.astype(np.int64) * width + truth_tgt
    ranked_key = ranked_reg.astype(np.int64) * width + ranked_tgt
    labels = truth["label"].to_numpy(dtype=np.int64)
    # a gold standard that lists negatives (DREAM lists every pair) defines the universe;
    # otherwise it is every pair of either table, the gold standard's label first
    if not (labels == 0).any():
        every = np.concatenate([truth_key, ranked_key])
        first = ~pd.Series(every).duplicated(keep="first").to_numpy()
        labels = np.concatenate([labels, np.zeros(n_ranked, dtype=np.int64)])[first]
        truth_key = every[first]
    keep = truth_key // width != truth_key % width  # self-pairs are not scored
    universe_key, labels = truth_key[keep], labels[keep]
    # each pair's score is its first (best) place in the ranking; unranked pairs score 0
    best = ~pd.Series(ranked_key).duplicated(keep="first").to_numpy()
    place = pd.Index(ranked_key[best]).get_indexer(universe_key)
    scores = np.where(place >= 0, ranked["score"].to_numpy()[best][place], 0.0)
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
