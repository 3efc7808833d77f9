"""The entry point: the top-level parser, its subcommands, and running one of them."""

from __future__ import annotations

import argparse
import logging
from collections.abc import Sequence

import bayesgrn
from bayesgrn.cli import compare, demo, dream4, evaluate, fit, report, simulate, specs
from bayesgrn.cli._common import cli_logging, exit_status, run_handler
from bayesgrn.cli._options import verbosity_parser

#: the subcommands, in the order ``bayesgrn --help`` lists them
COMMANDS = (fit, simulate, evaluate, demo, report, dream4, specs, compare)

MAIN_EPILOG = """\
commands in a typical session:
  bayesgrn demo                                  # simulate, fit and score in one go
  bayesgrn simulate --genes 20 --samples 100 --knockouts all --out sim
  bayesgrn fit sim/expression.tsv --design sim/design.tsv --out run
  bayesgrn evaluate run/edges.tsv sim/gold.tsv
  bayesgrn report run                            # run/report.html: pictures and summary
  bayesgrn specs

Run 'bayesgrn COMMAND --help' for the options of each command. Input errors are reported as
one line 'bayesgrn: error: ...' with exit status 2.
"""


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``bayesgrn`` command line.

    Parameters
    ----------
    argv
        Arguments without the program name; default ``sys.argv[1:]``.

    Returns
    -------
    int
        Exit status: 0 on success, 2 for bad input or usage, 130 when interrupted.
    """
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version, or an argparse usage error
        return exit_status(exc.code)
    with cli_logging(args.log_level):
        return run_handler(args.handler, args)


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser with all subcommands.

    Returns
    -------
    argparse.ArgumentParser
        The top-level ``bayesgrn`` parser.
    """
    parser = argparse.ArgumentParser(
        prog="bayesgrn",
        description=(
            "Bayesian inference of gene regulatory networks from steady-state expression\n"
            "(linear steady-state model, regularized horseshoe prior, fitted by SVI)."
        ),
        epilog=MAIN_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        parents=[verbosity_parser(logging.INFO)],
    )
    parser.add_argument("--version", action="version", version=f"bayesgrn {bayesgrn.__version__}")
    common = verbosity_parser(argparse.SUPPRESS)
    commands = parser.add_subparsers(title="commands", dest="command", metavar="COMMAND")
    commands.required = True
    for command in COMMANDS:
        command.register(commands, common)
    return parser
