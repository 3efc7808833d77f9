"""``bayesgrn evaluate``: score a ranked edge list against a gold standard."""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

import bayesgrn
from bayesgrn.cli._common import EXIT_OK, CLIError
from bayesgrn.cli._inputs import load_gold
from bayesgrn.cli._options import positive_int, subparser
from bayesgrn.cli._tables import read_table

SUMMARY = "Score a ranked edge list against a gold standard (AUROC, AUPR, precision@k)."
EPILOG = """\
EDGES is an edges.tsv written by 'bayesgrn fit' (ranked by p_edge, then |mean|), a
posterior.npz, or any table with regulator, target and a score or importance column.
GOLD is DREAM's headerless 'regulator target 0/1' file, a 2-column list of true edges, or
the gold.tsv of 'bayesgrn simulate' (edges with non-zero weight are true).

examples:
  bayesgrn evaluate run/edges.tsv sim/gold.tsv
  bayesgrn evaluate run/posterior.npz DREAM4_GoldStandard_InSilico_Size10_1.tsv --k 5,10
  bayesgrn evaluate run/edges.tsv gold.tsv --json
"""


def register(commands: Any, common: argparse.ArgumentParser) -> None:
    """Add the ``evaluate`` subcommand."""
    sub = subparser(commands, "evaluate", common, SUMMARY, EPILOG)
    sub.add_argument("edges", metavar="EDGES", help="edges.tsv (or posterior.npz) of a fit")
    sub.add_argument(
        "gold", metavar="GOLD", help="gold standard: DREAM 3-column, 2-column or gold.tsv"
    )
    sub.add_argument(
        "--k",
        type=_k_list,
        default=(10, 50, 100),
        metavar="K1,K2,...",
        help="cut-offs for precision at k (default 10,50,100)",
    )
    sub.add_argument("--json", action="store_true", help="print the metrics as JSON")
    sub.set_defaults(handler=run)


def _k_list(text: str) -> tuple[int, ...]:
    parts = [p for p in text.replace(" ", "").split(",") if p]
    if not parts:
        raise argparse.ArgumentTypeError("give at least one k, e.g. 10,50,100")
    return tuple(positive_int(p) for p in parts)


def run(args: argparse.Namespace) -> int:
    """Run ``bayesgrn evaluate``."""
    edges = load_edges(args.edges)
    gold = load_gold(args.gold)
    metrics = bayesgrn.evaluate(edges, gold, k=args.k)
    if args.json:
        print(json.dumps(metrics, indent=2))
    else:
        print(format_metrics(metrics))
    return EXIT_OK


def load_edges(path: str | os.PathLike[str]) -> pd.DataFrame:
    """Read a ranked edge list: an ``edges.tsv`` or a ``posterior.npz``.

    Parameters
    ----------
    path
        The file; a table needs ``regulator, target`` and ``p_edge`` + ``mean``, ``score`` or
        ``importance`` columns.

    Returns
    -------
    pandas.DataFrame
        The edge table.
    """
    if Path(path).suffix == ".npz":
        return bayesgrn.Posterior.load(path).edges()
    frame = read_table(path, "edge", required=("regulator", "target"))
    ranking = [c for c in ("p_edge", "mean", "score", "importance") if c in frame.columns]
    if not ({"p_edge", "mean"} <= set(ranking) or {"score", "importance"} & set(ranking)):
        raise CLIError(
            f"edge file {str(path)!r} needs p_edge and mean (a bayesgrn edges.tsv), or a score "
            "or importance column, to rank the edges"
        )
    for column in ranking:
        values = pd.to_numeric(frame[column], errors="coerce")
        if values.isna().any():
            row = int(np.flatnonzero(values.isna().to_numpy())[0])
            raise CLIError(
                f"edge file {str(path)!r}, line {frame.index[row]}: {column} "
                f"{frame[column].iloc[row]!r} is not a number"
            )
        frame[column] = values
    return frame


def format_metrics(metrics: dict[str, Any]) -> str:
    """Format :func:`bayesgrn.evaluate`'s result as a two-column table.

    Parameters
    ----------
    metrics
        ``auroc, aupr, precision_at_K..., n_true, n_pairs``.

    Returns
    -------
    str
        The table.
    """
    rows = [("AUROC", f"{metrics['auroc']:.4f}"), ("AUPR", f"{metrics['aupr']:.4f}")]
    rows += [
        (f"precision@{key.removeprefix('precision_at_')}", f"{value:.4f}")
        for key, value in metrics.items()
        if key.startswith("precision_at_")
    ]
    rows += [("true edges", str(metrics["n_true"])), ("scored pairs", str(metrics["n_pairs"]))]
    width = max(len(name) for name, _ in rows)
    return "\n".join(f"{name:<{width}}  {value}" for name, value in [("metric", "value"), *rows])
