"""``bayesgrn dream4``: fit one DREAM4 in-silico network and score it."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import Any

import bayesgrn
from bayesgrn.cli._common import EXIT_OK
from bayesgrn.cli._options import add_model_options, add_output_options, positive_int, subparser
from bayesgrn.cli._rundir import atomic_directory, check_output_dir
from bayesgrn.cli._runfiles import FIT_FILES, report_fit, vars_of, write_run
from bayesgrn.cli.evaluate import format_metrics

logger = logging.getLogger(__name__)

SUMMARY = "Fit one DREAM4 in-silico network (read with bayesgrn.read_dream4) and score it."
EPILOG = """\
DIR holds the official DREAM4 files (insilico_size100_N_wildtype.tsv, ..._knockouts.tsv,
..._knockdowns.tsv, ..._multifactorial.tsv, the multifactorial rename map and the gold
standards). The tables are stacked with their design (knockouts/knockdowns perturb their
gene; multifactorial samples get their own condition), log(x + 0.01)-transformed by default,
fitted, written to the run directory like 'bayesgrn fit', and scored against the network's
gold standard (the multifactorial one with --names renamed).

example:
  bayesgrn dream4 ../shared/data/dream4/size100 --network 1 --out run1
  bayesgrn dream4 DIR --network 1 --tables multifactorial --names renamed --out run1m
"""


def register(commands: Any, common: argparse.ArgumentParser) -> None:
    """Add the ``dream4`` subcommand."""
    from bayesgrn.dream4 import DREAM4_TABLES

    sub = subparser(commands, "dream4", common, SUMMARY, EPILOG)
    sub.add_argument("directory", metavar="DIR", help="folder with the DREAM4 files")
    sub.add_argument("--network", type=positive_int, required=True, metavar="N")
    sub.add_argument("--size", type=positive_int, default=100, metavar="S", help="default 100")
    sub.add_argument(
        "--tables", nargs="+", choices=DREAM4_TABLES, default=list(DREAM4_TABLES),
        help="tables to stack (default: all four)",
    )  # fmt: skip
    sub.add_argument(
        "--names", choices=("original", "renamed"), default="original",
        help="gene names: the network's own, or the multifactorial table's (default original)",
    )  # fmt: skip
    sub.add_argument("--transform", choices=("log", "log1p", "none"), default="log")
    sub.add_argument(
        "--pseudocount", type=float, metavar="X",
        help="for --transform log (default: 1%% of the largest level, rounded up to a power "
        "of ten: 0.01 for DREAM4)",
    )  # fmt: skip
    sub.add_argument("--out", required=True, metavar="DIR", help="run directory to create")
    add_model_options(sub)
    add_output_options(sub)
    sub.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Run ``bayesgrn dream4``."""
    from bayesgrn.dream4 import dream4_gold_standard

    out = Path(args.out)
    check_output_dir(out, overwrite=args.overwrite, known=FIT_FILES)
    data = bayesgrn.read_dream4(
        args.directory, args.network, size=args.size, tables=args.tables,
        transform=None if args.transform == "none" else args.transform,
        pseudocount=args.pseudocount, names=args.names,
    )  # fmt: skip
    logger.info("read %r", data)
    gold = dream4_gold_standard(
        args.directory, args.network, args.size, multifactorial=args.names == "renamed"
    )
    posterior = bayesgrn.fit(
        data, model=bayesgrn.load_spec(args.model), seed=args.seed, device=args.device,
        num_steps=args.steps, progress=not args.no_progress,
    )  # fmt: skip
    extra = {"inputs": {"dream4": vars_of(args), "pseudocount": data.pseudocount}}
    with atomic_directory(out, overwrite=args.overwrite, known=FIT_FILES) as tmp:
        write_run(tmp, posterior, ci_prob=0.9, extra=extra)
    report_fit(out, posterior)
    print(f"scored against {gold.name}:")
    print(format_metrics(bayesgrn.evaluate(posterior, gold)))
    return EXIT_OK
