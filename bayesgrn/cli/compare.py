"""``bayesgrn compare``: choose between model families by cross-validated predictive density."""

from __future__ import annotations

import argparse
import logging
import os
from pathlib import Path
from typing import Any

import pandas as pd

import bayesgrn
from bayesgrn.cli._common import EXIT_OK, CLIError
from bayesgrn.cli._inputs import load_expression
from bayesgrn.cli._options import (
    add_data_options,
    add_device_option,
    add_expression_argument,
    add_forbidden_edges_option,
    add_steps_option,
    positive_int,
    subparser,
)

logger = logging.getLogger(__name__)

SUMMARY = "Choose between model families by cross-validated held-out predictive density."
EPILOG = """\
Splits the samples of EXPR into --folds folds (stratified by condition), fits every model
on each fold's complement and scores the held-out fold: per sample, the log of the
posterior-averaged product of the targets' conditional densities given their regulators
(no Jacobian term; see bayesgrn.predictive). Prints one row per model, best first: elpd
(the sum over samples), se, elpd_diff and se_diff against the best (from the pointwise
differences, as in loo_compare), n_params, seconds; a difference is clear when |elpd_diff|
exceeds about 2-4 se_diff. Models must share an observation scale (continuous families
with each other, count families with each other). The same --seed gives the same table.

examples:
  bayesgrn compare expr.tsv
  bayesgrn compare sim/expression.tsv --design sim/design.tsv --folds 3 --steps 1000
  bayesgrn compare expr.tsv --models horseshoe sigmoid_horseshoe --out table.tsv
"""


def register(commands: Any, common: argparse.ArgumentParser) -> None:
    """Add the ``compare`` subcommand."""
    sub = subparser(commands, "compare", common, SUMMARY, EPILOG)
    add_expression_argument(sub)
    sub.add_argument(
        "--models", nargs="+", default=["horseshoe", "sigmoid_horseshoe"], metavar="NAME|PATH",
        help="bundled specs or .toml paths to compare (default: horseshoe sigmoid_horseshoe)",
    )  # fmt: skip
    sub.add_argument(
        "--folds", type=positive_int, default=5, metavar="K",
        help="cross-validation folds (default %(default)s)",
    )  # fmt: skip
    sub.add_argument(
        "--seed", type=int, default=0, metavar="N",
        help="seed of the folds and the fits (default %(default)s)",
    )  # fmt: skip
    sub.add_argument(
        "--draws", type=positive_int, default=200, metavar="S",
        help="posterior draws per held-out score (default %(default)s)",
    )  # fmt: skip
    add_data_options(sub)
    add_device_option(sub)
    add_steps_option(sub)
    add_forbidden_edges_option(sub)
    sub.add_argument("--out", metavar="FILE", help="also write the table to FILE (TSV)")
    sub.add_argument("--overwrite", action="store_true", help="replace an existing --out FILE")
    sub.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Run ``bayesgrn compare``."""
    out = None if args.out is None else Path(args.out)
    if out is not None and (out.is_dir() or (out.exists() and not args.overwrite)):
        what = "is a directory" if out.is_dir() else "exists; pass --overwrite to replace it"
        raise CLIError(f"--out {str(out)!r} {what}")
    if args.folds < 2:
        raise CLIError(f"--folds must be at least 2, got {args.folds}")
    from bayesgrn.compare import check_comparable

    specs = [bayesgrn.load_spec(m) for m in args.models]
    check_comparable(specs)  # before reading the data
    data = load_expression(args)
    logger.info("read %r", data)
    table = bayesgrn.compare(
        data, specs, folds=args.folds, seed=args.seed, draws=args.draws, device=args.device,
        num_steps=args.steps, forbidden_edges=args.forbidden_edges,
    )  # fmt: skip
    shown = table.drop(columns="notes")
    print(shown.to_string(index=False, float_format=lambda v: f"{v:.2f}"))
    for row in table.itertuples(index=False):
        if row.notes:
            print(f"note: {row.model}: {row.notes}")
    if out is not None:
        _write_table(table, out)
        print(f"wrote {out}")
    return EXIT_OK


def _write_table(table: pd.DataFrame, out: Path) -> None:
    """Write ``table`` to ``out`` (TSV) through a temporary sibling, so all or nothing."""
    tmp = out.with_name(f".{out.name}.tmp-{os.getpid()}")
    try:
        table.to_csv(tmp, sep="\t", index=False, float_format="%.6g")
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)
