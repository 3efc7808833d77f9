"""Argument parsing shared by the subcommands: value types, option groups, subparsers."""

from __future__ import annotations

import argparse
import logging
from typing import Any


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Keep the hand-written layout of descriptions and epilogs."""


def verbosity_parser(default: Any) -> argparse.ArgumentParser:
    """Return a parent parser with ``-v/--verbose`` and ``-q/--quiet``.

    They are accepted before and after the command; the subcommands' copies default to
    ``SUPPRESS`` so that they do not overwrite a choice made before the command name
    (``bayesgrn -q fit ...``).
    """
    common = argparse.ArgumentParser(add_help=False)
    group = common.add_mutually_exclusive_group()
    group.add_argument(
        "-v",
        "--verbose",
        dest="log_level",
        action="store_const",
        const=logging.DEBUG,
        default=default,
        help="log debugging detail (and tracebacks of errors)",
    )
    group.add_argument(
        "-q",
        "--quiet",
        dest="log_level",
        action="store_const",
        const=logging.WARNING,
        default=default,
        help="log warnings only",
    )
    return common


def subparser(
    commands: Any, name: str, common: argparse.ArgumentParser, summary: str, epilog: str
) -> argparse.ArgumentParser:
    """Add the subcommand ``name`` (with the verbosity options of ``common``)."""
    return commands.add_parser(
        name,
        parents=[common],
        help=summary,
        description=summary,
        epilog=epilog,
        formatter_class=HelpFormatter,
    )


# ---------------------------------------------------------------------- value types
def positive_int(text: str) -> int:
    """Parse an integer >= 1."""
    value = _int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text!r}")
    return value


def nonnegative_int(text: str) -> int:
    """Parse an integer >= 0."""
    value = _int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {text!r}")
    return value


def _int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None


# ---------------------------------------------------------------------- option groups
def add_expression_argument(sub: argparse.ArgumentParser) -> None:
    """Add the positional ``EXPR``, the expression table (``fit`` and ``compare``)."""
    sub.add_argument("expression", metavar="EXPR", help="samples x genes CSV/TSV (optionally .gz)")


def add_data_options(sub: argparse.ArgumentParser) -> None:
    """Add ``--regulators``, ``--design`` and the options that read and transform ``EXPR``.

    They are the options :func:`bayesgrn.cli._inputs.load_expression` reads (``fit`` and
    ``compare``).
    """
    sub.add_argument("--regulators", metavar="FILE", help="candidate regulators, one per line")
    sub.add_argument(
        "--design", metavar="FILE", help="design TSV: sample, perturbation, perturbed_gene"
    )
    sub.add_argument(
        "--layer",
        metavar="NAME",
        help="for an .h5ad EXPR: the layer to fit instead of X (needs bayesgrn[anndata])",
    )
    sub.add_argument(
        "--orientation",
        choices=("samples_by_genes", "genes_by_samples", "auto"),
        default="samples_by_genes",
        help="layout of EXPR (default %(default)s; 'auto' needs --regulators)",
    )
    sub.add_argument(
        "--transform",
        choices=("none", "log", "log1p"),
        default="none",
        help="transform before fitting (default %(default)s); 'log' is log(x + pseudocount)",
    )
    sub.add_argument(
        "--pseudocount",
        type=float,
        default=1.0,
        metavar="X",
        help="for --transform log (default %(default)s)",
    )
    sub.add_argument(
        "--drop-constant",
        action="store_true",
        help="drop constant genes (warning) instead of failing",
    )


def add_model_options(sub: argparse.ArgumentParser) -> None:
    """Add ``--model``, ``--seed``, ``--device`` and ``--steps`` of a fit."""
    sub.add_argument(
        "--model",
        default="horseshoe",
        metavar="NAME|PATH",
        help="bundled spec (see 'bayesgrn specs') or path to a .toml spec (default %(default)s)",
    )
    sub.add_argument(
        "--seed", type=int, default=0, metavar="N", help="seed of the fit (default %(default)s)"
    )
    add_device_option(sub)
    add_steps_option(sub)


def add_device_option(sub: argparse.ArgumentParser) -> None:
    """Add ``--device``: where to fit."""
    sub.add_argument(
        "--device",
        choices=("auto", "cpu", "cuda"),
        default="auto",
        help="where to fit (default %(default)s: CUDA when available)",
    )


def add_steps_option(sub: argparse.ArgumentParser) -> None:
    """Add ``--steps``: the most SVI steps."""
    sub.add_argument(
        "--steps", type=positive_int, metavar="N", help="maximum SVI steps (default: the spec's)"
    )


def add_sampler_options(sub: argparse.ArgumentParser) -> None:
    """Add ``--method`` and the MCMC options ``--samples``, ``--warmup`` and ``--chains``."""
    sub.add_argument(
        "--method",
        choices=("svi", "nuts", "gibbs"),
        default="svi",
        help="svi (default), nuts (small problems: reference posterior) or gibbs (exact, "
        "Gaussian family: the observational model up to a few hundred genes, the knockout "
        "model with its Jacobian term on small networks)",
    )
    sub.add_argument(
        "--samples",
        type=positive_int,
        metavar="N",
        help="nuts/gibbs: draws kept per chain (default 500)",
    )
    sub.add_argument(
        "--warmup",
        type=nonnegative_int,
        metavar="N",
        help="nuts/gibbs: warm-up iterations per chain (default 500)",
    )
    sub.add_argument(
        "--chains",
        type=positive_int,
        default=1,
        metavar="N",
        help="nuts/gibbs: chains, pooled, with split R-hat when N >= 2 (default %(default)s)",
    )


def add_forbidden_edges_option(sub: argparse.ArgumentParser) -> None:
    """Add ``--forbidden-edges``: edges the fit leaves out."""
    sub.add_argument(
        "--forbidden-edges", metavar="FILE", help="edges to exclude: regulator, target (TSV/CSV)"
    )


def add_output_options(sub: argparse.ArgumentParser) -> None:
    """Add ``--no-progress`` and ``--overwrite`` of a command that fits and writes a run."""
    sub.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    sub.add_argument(
        "--overwrite",
        action="store_true",
        help="replace an existing run directory (only one holding files bayesgrn writes)",
    )
