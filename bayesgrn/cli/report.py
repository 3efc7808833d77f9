"""``bayesgrn report``: a self-contained HTML report of a run directory."""

from __future__ import annotations

import argparse
from typing import Any

from bayesgrn.cli._common import EXIT_OK
from bayesgrn.cli._inputs import load_gold
from bayesgrn.cli._options import positive_int, subparser
from bayesgrn.cli._runfiles import REPORT_FILE

SUMMARY = "Write a self-contained HTML report (pictures, summary, top edges) of a run."
EPILOG = """\
RUN_DIR is a run directory written by 'bayesgrn fit', 'bayesgrn demo --out' or
'bayesgrn dream4' (it needs posterior.npz and summary.json). The report is one HTML file
with the run summary (seed, model, steps, convergence, final ELBO, time, device, Pareto
k-hat, the edges selected at the run's FDR level), the ELBO trace, a forest plot of the top
edges with their intervals, the network, a heat map of p_edge and a table of the top edges.
With a gold standard (--gold, or RUN_DIR/gold.tsv, which 'bayesgrn demo' writes) it adds a
calibration plot of p_edge and AUROC/AUPR. The pictures are embedded; the file links to
nothing and needs no JavaScript. The network needs networkx (pip install 'bayesgrn[graph]').

examples:
  bayesgrn demo --out demo-run && bayesgrn report demo-run
  bayesgrn report run --out run-report.html
  bayesgrn report dream4run --gold DREAM4_GoldStandard_InSilico_Size100_1.tsv
"""


def register(commands: Any, common: argparse.ArgumentParser) -> None:
    """Add the ``report`` subcommand."""
    sub = subparser(commands, "report", common, SUMMARY, EPILOG)
    sub.add_argument("run_dir", metavar="RUN_DIR", help="run directory of a fit")
    sub.add_argument(
        "--out", metavar="FILE", help=f"HTML file to write (default RUN_DIR/{REPORT_FILE})"
    )
    sub.add_argument(
        "--gold",
        metavar="FILE",
        help="gold standard for the calibration plot (default RUN_DIR/gold.tsv when present)",
    )
    sub.add_argument(
        "--top",
        type=positive_int,
        default=30,
        metavar="N",
        help="edges in the forest plot and the table (default %(default)s)",
    )
    sub.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Run ``bayesgrn report``."""
    from bayesgrn.report import write_report

    if args.gold is not None:
        load_gold(args.gold)
    path = write_report(args.run_dir, out=args.out, gold=args.gold, top=args.top)
    print(f"wrote {path}")
    return EXIT_OK
