"""The ``bayesgrn`` command line: ``fit``, ``simulate``, ``evaluate``, ``demo``, ``report``, ...

Every command that writes results writes a *run directory* atomically: the files go into a
temporary sibling directory (``DIR.tmp-XXXX``) that is renamed into place only once all of
them are complete, so an interrupted or failed run never leaves a partial ``DIR`` behind.

Errors in the input (:class:`ValueError`, including :class:`bayesgrn.BayesGRNInputError`,
and :class:`OSError` such as a missing file) are reported as one line,
``bayesgrn: error: <message>``, with exit status 2; Ctrl-C exits with status 130.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import shutil
import sys
import tempfile
import textwrap
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

import bayesgrn
from bayesgrn.data import PERTURBATIONS, ExpressionData
from bayesgrn.errors import FitDivergedError, FitInterrupted, ResourceError
from bayesgrn.infer.checkpoint import remove_checkpoint
from bayesgrn.io import read_small_table
from bayesgrn.memory import parse_bytes

logger = logging.getLogger(__name__)

EXIT_OK = 0
EXIT_ERROR = 2
EXIT_INTERRUPTED = 130
#: exit status after a signal stopped a fit cleanly: 128 + the signal number, as shells do
EXIT_SIGNALLED = {"SIGINT": 130, "SIGTERM": 143}

FIT_ORDER = ("edges.tsv", "selected.tsv", "posterior.npz", "summary.json")
#: ``bayesgrn report RUN_DIR`` adds this file to a run directory (so --overwrite may replace it)
REPORT_FILE = "report.html"
FIT_FILES = frozenset({*FIT_ORDER, REPORT_FILE})
SIMULATE_FILES = frozenset({"expression.tsv", "design.tsv", "gold.tsv"})
DEMO_FILES = FIT_FILES | SIMULATE_FILES
DESIGN_COLUMNS = ("sample", "perturbation", "perturbed_gene")
DEMO_TOP = 15
DEMO_CI = 0.9


class CLIError(ValueError):
    """A usage problem found by the command line itself (reported like any input error)."""


# ====================================================================== entry point
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
        return _exit_status(exc.code)
    with _cli_logging(args.log_level):
        return _run(args.handler, args)


def _exit_status(code: object) -> int:
    """Exit status of an argparse ``SystemExit`` (``None`` means success)."""
    if code is None:
        return EXIT_OK
    return code if isinstance(code, int) else EXIT_ERROR


def _run(handler: Callable[[argparse.Namespace], int], args: argparse.Namespace) -> int:
    """Call a command handler, turning expected failures into one-line messages."""
    try:
        return handler(args)
    except (ValueError, OSError, ResourceError, FitDivergedError) as err:
        logger.debug("traceback of the error below", exc_info=True)
        message = " ".join(str(err).split()) or type(err).__name__
        print(f"bayesgrn: error: {message}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("bayesgrn: interrupted; no output was written", file=sys.stderr)
        return EXIT_INTERRUPTED


@contextlib.contextmanager
def _cli_logging(level: int) -> Iterator[None]:
    """Send the package's log records to stderr for the duration of one command."""
    package_logger = logging.getLogger("bayesgrn")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("bayesgrn: %(message)s"))
    previous = package_logger.level
    package_logger.addHandler(handler)
    package_logger.setLevel(level)
    try:
        yield
    finally:
        package_logger.removeHandler(handler)
        package_logger.setLevel(previous)


# ====================================================================== argument parsing
class _HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Keep the hand-written layout of descriptions and epilogs."""


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
        epilog=_MAIN_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        parents=[_verbosity_parser(logging.INFO)],
    )
    parser.add_argument("--version", action="version", version=f"bayesgrn {bayesgrn.__version__}")
    common = _verbosity_parser(argparse.SUPPRESS)
    commands = parser.add_subparsers(title="commands", dest="command", metavar="COMMAND")
    commands.required = True
    for add in (
        _add_fit, _add_simulate, _add_evaluate, _add_demo, _add_report, _add_dream4, _add_specs,
        _add_compare,
    ):  # fmt: skip
        add(commands, common)
    return parser


def _verbosity_parser(default: Any) -> argparse.ArgumentParser:
    """``-v/--verbose`` and ``-q/--quiet``, accepted before and after the command.

    The subcommands' copies default to ``SUPPRESS`` so that they do not overwrite a choice
    made before the command name (``bayesgrn -q fit ...``).
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


def _subparser(
    commands: Any, name: str, common: argparse.ArgumentParser, summary: str, epilog: str
) -> argparse.ArgumentParser:
    sub = commands.add_parser(
        name,
        parents=[common],
        help=summary,
        description=summary,
        epilog=epilog,
        formatter_class=_HelpFormatter,
    )
    return sub


def _add_fit(commands: Any, common: argparse.ArgumentParser) -> None:
    sub = _subparser(commands, "fit", common, _FIT_SUMMARY, _FIT_EPILOG)
    sub.add_argument("expression", metavar="EXPR", help="samples x genes CSV/TSV (optionally .gz)")
    sub.add_argument("--out", required=True, metavar="DIR", help="run directory to create")
    sub.add_argument("--regulators", metavar="FILE", help="candidate regulators, one per line")
    sub.add_argument(
        "--design", metavar="FILE", help="design TSV: sample, perturbation, perturbed_gene"
    )
    _add_data_options(sub)
    _add_model_options(sub)
    sub.add_argument(
        "--known-edges",
        metavar="FILE",
        help="known/suspected edges: regulator, target, confidence in (0, 1] (TSV/CSV)",
    )
    sub.add_argument(
        "--forbidden-edges", metavar="FILE", help="edges to exclude: regulator, target (TSV/CSV)"
    )
    sub.add_argument(
        "--subsample-size", type=_positive_int, metavar="N", help="SVI minibatch size over samples"
    )
    sub.add_argument(
        "--ci-prob",
        type=float,
        default=0.9,
        metavar="P",
        help="mass of the equal-tailed credible intervals (default %(default)s)",
    )
    sub.add_argument(
        "--fdr",
        type=float,
        default=0.05,
        metavar="Q",
        help="write selected.tsv: the largest edge set with posterior expected FDR <= Q "
        "(default %(default)s)",
    )
    sub.add_argument(
        "--max-memory",
        metavar="SIZE",
        help="memory budget (e.g. 8G); the fit is refused up front when its plan exceeds it "
        "(default: 85%% of the free memory)",
    )
    sub.add_argument(
        "--checkpoint-every",
        type=_nonnegative_int,
        default=100,
        metavar="N",
        help="save the fit's state to DIR.checkpoint every N steps (0: only when "
        "interrupted; default %(default)s)",
    )
    sub.add_argument(
        "--resume",
        action="store_true",
        help="continue the interrupted fit saved in DIR.checkpoint (same inputs and options)",
    )
    sub.add_argument(
        "--shards",
        type=_positive_int,
        default=1,
        metavar="N",
        help="fit N target shards in parallel on a Dask cluster and merge them (needs "
        "bayesgrn[distributed]; default %(default)s = no sharding)",
    )
    sub.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="Dask scheduler for --shards (default: a local cluster of worker processes)",
    )
    _add_output_options(sub)
    sub.set_defaults(handler=_cmd_fit)


def _add_data_options(sub: argparse.ArgumentParser) -> None:
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


def _add_model_options(sub: argparse.ArgumentParser) -> None:
    sub.add_argument(
        "--model",
        default="horseshoe",
        metavar="NAME|PATH",
        help="bundled spec (see 'bayesgrn specs') or path to a .toml spec (default %(default)s)",
    )
    sub.add_argument(
        "--seed", type=int, default=0, metavar="N", help="seed of the fit (default %(default)s)"
    )
    sub.add_argument(
        "--device",
        choices=("auto", "cpu", "cuda"),
        default="auto",
        help="where to fit (default %(default)s: CUDA when available)",
    )
    sub.add_argument(
        "--steps", type=_positive_int, metavar="N", help="maximum SVI steps (default: the spec's)"
    )


def _add_output_options(sub: argparse.ArgumentParser) -> None:
    sub.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    sub.add_argument(
        "--overwrite",
        action="store_true",
        help="replace an existing run directory (only one holding files bayesgrn writes)",
    )


def _add_simulate(commands: Any, common: argparse.ArgumentParser) -> None:
    sub = _subparser(commands, "simulate", common, _SIMULATE_SUMMARY, _SIMULATE_EPILOG)
    sub.add_argument(
        "--genes", type=_positive_int, required=True, metavar="N", help="number of genes"
    )
    sub.add_argument(
        "--samples",
        type=_nonnegative_int,
        required=True,
        metavar="N",
        help="number of observational samples",
    )
    sub.add_argument(
        "--knockouts",
        type=_knockouts,
        default=0,
        metavar="all|N",
        help="extra knockout samples: 'all' (one per gene) or N distinct random genes (default 0)",
    )
    sub.add_argument(
        "--seed",
        type=int,
        default=0,
        metavar="N",
        help="seed of the simulation (default %(default)s)",
    )
    sub.add_argument("--out", required=True, metavar="DIR", help="directory to create")
    sub.add_argument("--overwrite", action="store_true", help="replace an earlier simulate DIR")
    sub.set_defaults(handler=_cmd_simulate)


def _add_evaluate(commands: Any, common: argparse.ArgumentParser) -> None:
    sub = _subparser(commands, "evaluate", common, _EVALUATE_SUMMARY, _EVALUATE_EPILOG)
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
    sub.set_defaults(handler=_cmd_evaluate)


def _add_demo(commands: Any, common: argparse.ArgumentParser) -> None:
    sub = _subparser(commands, "demo", common, _DEMO_SUMMARY, _DEMO_EPILOG)
    sub.add_argument(
        "--genes", type=_positive_int, default=50, metavar="N", help="number of genes (default 50)"
    )
    sub.add_argument(
        "--samples",
        type=_nonnegative_int,
        default=100,
        metavar="N",
        help="observational samples; one knockout per gene is added (default %(default)s)",
    )
    sub.add_argument(
        "--seed",
        type=int,
        default=0,
        metavar="N",
        help="seed of simulation and fit (default %(default)s)",
    )
    sub.add_argument(
        "--steps", type=_positive_int, metavar="N", help="maximum SVI steps (default: the spec's)"
    )
    sub.add_argument(
        "--device",
        choices=("auto", "cpu", "cuda"),
        default="auto",
        help="where to fit (default %(default)s: CUDA when available)",
    )
    sub.add_argument("--out", metavar="DIR", help="also write the data and the run directory here")
    _add_output_options(sub)
    sub.set_defaults(handler=_cmd_demo)


def _add_specs(commands: Any, common: argparse.ArgumentParser) -> None:
    sub = _subparser(commands, "specs", common, _SPECS_SUMMARY, _SPECS_EPILOG)
    sub.set_defaults(handler=_cmd_specs)


def _positive_int(text: str) -> int:
    value = _int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text!r}")
    return value


def _nonnegative_int(text: str) -> int:
    value = _int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {text!r}")
    return value


def _int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None


def _knockouts(text: str) -> int | str:
    return "all" if text.strip().lower() == "all" else _nonnegative_int(text)


def _k_list(text: str) -> tuple[int, ...]:
    parts = [p for p in text.replace(" ", "").split(",") if p]
    if not parts:
        raise argparse.ArgumentTypeError("give at least one k, e.g. 10,50,100")
    return tuple(_positive_int(p) for p in parts)


# ====================================================================== fit
def _cmd_fit(args: argparse.Namespace) -> int:
    out = Path(args.out)
    checkpoint = checkpoint_path(out)
    _check_resume(out, checkpoint, resume=args.resume, overwrite=args.overwrite)
    check_output_dir(out, overwrite=args.overwrite, known=FIT_FILES)
    if not 0.0 < args.ci_prob < 1.0:
        raise CLIError(f"--ci-prob must be strictly between 0 and 1, got {args.ci_prob}")
    if not 0.0 < args.fdr < 1.0:
        raise CLIError(f"--fdr must be strictly between 0 and 1, got {args.fdr}")
    max_memory = None if args.max_memory is None else parse_bytes(args.max_memory)
    if args.scheduler is not None and args.shards < 2:
        raise CLIError("--scheduler is for sharded fits: add --shards N (N >= 2)")
    if args.shards > 1 and args.resume:
        raise CLIError("--resume applies to unsharded fits; a sharded fit restarts its shards")
    spec = bayesgrn.load_spec(args.model)
    data = load_expression(args)
    logger.info("read %r", data)
    try:
        if args.shards > 1:
            posterior = _fit_sharded(args, data, spec, max_memory)
        else:
            posterior = _fit_checkpointed(args, data, spec, max_memory, checkpoint)
    except FitInterrupted as err:
        print(
            f"bayesgrn: {err.signal_name} received: stopped after {err.step} steps and saved "
            f"the state to {str(checkpoint)!r}; nothing was written to {str(out)!r}. Run the "
            "same command with --resume to continue.",
            file=sys.stderr,
        )
        return EXIT_SIGNALLED[err.signal_name]
    inputs = {
        "expression": str(args.expression),
        "regulators": args.regulators,
        "known_edges": args.known_edges,
        "forbidden_edges": args.forbidden_edges,
        "design": args.design,
        "orientation": args.orientation,
        "transform": args.transform,
        "pseudocount": args.pseudocount,
        "drop_constant": args.drop_constant,
    }
    with atomic_directory(out, overwrite=args.overwrite, known=FIT_FILES) as tmp:
        write_run(tmp, posterior, ci_prob=args.ci_prob, extra={"inputs": inputs}, fdr=args.fdr)
    remove_checkpoint(checkpoint)
    _report_fit(out, posterior)
    return EXIT_OK


def _fit_checkpointed(
    args: argparse.Namespace,
    data: ExpressionData,
    spec: bayesgrn.ModelSpec,
    max_memory: int | None,
    checkpoint: Path,
) -> bayesgrn.Posterior:
    return bayesgrn.fit(
        data,
        model=spec,
        seed=args.seed,
        device=args.device,
        num_steps=args.steps,
        subsample_size=args.subsample_size,
        known_edges=args.known_edges,
        forbidden_edges=args.forbidden_edges,
        progress=not args.no_progress,
        checkpoint=checkpoint,
        checkpoint_every=args.checkpoint_every,
        resume=args.resume,
        handle_signals=True,
        max_memory=max_memory,
    )


def _fit_sharded(
    args: argparse.Namespace,
    data: ExpressionData,
    spec: bayesgrn.ModelSpec,
    max_memory: int | None,
) -> bayesgrn.Posterior:
    try:
        from bayesgrn.distributed import fit_sharded
    except ImportError as err:  # pragma: no cover - depends on the environment
        raise CLIError(str(err)) from None
    try:
        import distributed  # noqa: F401
    except ImportError:
        raise CLIError(
            "--shards needs dask.distributed: pip install 'bayesgrn[distributed]'"
        ) from None
    return fit_sharded(
        data,
        shards=args.shards,
        scheduler=args.scheduler,
        seed=args.seed,
        model=spec,
        device=args.device,
        num_steps=args.steps,
        subsample_size=args.subsample_size,
        known_edges=args.known_edges,
        forbidden_edges=args.forbidden_edges,
        max_memory=max_memory,
    )


def checkpoint_path(out: Path) -> Path:
    """Return the checkpoint of the fit writing ``out``: the sibling ``out.checkpoint``."""
    out = Path(os.path.abspath(out))
    return out.with_name(out.name + ".checkpoint")


def _check_resume(out: Path, checkpoint: Path, *, resume: bool, overwrite: bool) -> None:
    """Refuse to silently discard an interrupted fit, or to resume a fit that is not there."""
    if resume:
        if overwrite:
            raise CLIError("--resume and --overwrite exclude each other")
        if not checkpoint.is_file():
            raise CLIError(
                f"--resume: there is no interrupted fit for --out {str(out)!r} (expected "
                f"{str(checkpoint)!r}); run without --resume to start the fit"
            )
    elif checkpoint.exists() and not overwrite:
        raise CLIError(
            f"{str(checkpoint)!r} holds an interrupted fit for --out {str(out)!r}; pass "
            "--resume to continue it, or --overwrite to discard it and start again"
        )


def load_expression(args: argparse.Namespace) -> ExpressionData:
    """Read ``EXPR`` with the data options of ``bayesgrn fit`` (and its ``--design``).

    Parameters
    ----------
    args
        Parsed ``fit`` arguments.

    Returns
    -------
    ExpressionData
        The validated data, with the design's perturbation mask when ``--design`` is given.
    """
    transform = None if args.transform == "none" else args.transform
    options = {
        "transform": transform,
        "pseudocount": args.pseudocount,
        "drop_constant": args.drop_constant,
    }
    layer = getattr(args, "layer", None)
    if str(args.expression).lower().endswith(".h5ad"):
        if args.design is not None:
            raise CLIError("--design is for text tables; an .h5ad carries its design in obs")
        from bayesgrn.anndata_io import read_anndata

        regulators = bayesgrn.read_regulators(args.regulators) if args.regulators else None
        return read_anndata(args.expression, layer=layer, regulators=regulators, **options)
    if layer is not None:
        raise CLIError("--layer applies to .h5ad input only")
    if args.design is None:
        return bayesgrn.read_expression(
            args.expression, orientation=args.orientation, regulators=args.regulators, **options
        )
    # the mask must follow the table's own sample/gene order, so read the table once untransformed
    raw = bayesgrn.read_expression(
        args.expression,
        orientation=args.orientation,
        regulators=args.regulators,
        drop_constant=args.drop_constant,
    )
    perturbed, perturbation = read_design(args.design, raw.samples, raw.genes, raw.source)
    regulators = list(raw.regulators) if args.regulators is not None else None
    return ExpressionData.from_array(
        raw.to_frame(),
        regulators=regulators,
        perturbed=perturbed,
        perturbation=perturbation,
        source=raw.source,
        **options,
    )


def read_design(
    path: str | os.PathLike[str], samples: Sequence[str], genes: Sequence[str], expression: str
) -> tuple[np.ndarray, list[str]]:
    """Read a design table into a perturbation mask and per-sample perturbation kinds.

    Parameters
    ----------
    path
        TSV/CSV with columns ``sample, perturbation, perturbed_gene``; ``perturbed_gene`` is
        empty for unperturbed samples and may list several genes separated by ``;``.
    samples, genes
        Names of the expression table's rows and columns (the mask follows their order).
    expression
        Name of the expression table, used in messages.

    Returns
    -------
    tuple of numpy.ndarray and list of str
        ``(n_samples, n_genes)`` bool mask and the perturbation kind of each sample (samples
        the design does not list are unperturbed).

    Raises
    ------
    CLIError, bayesgrn.BayesGRNInputError
        For a missing, empty or unreadable file, a ragged row, missing columns, unknown or
        repeated samples, unknown genes or perturbation kinds -- naming the file and line.
    """
    frame = read_table(path, "design", required=DESIGN_COLUMNS)
    name = str(path)
    _check_design_names(frame, samples, genes, name, expression)
    row_of = {s: i for i, s in enumerate(samples)}
    col_of = {g: j for j, g in enumerate(genes)}
    perturbed = np.zeros((len(samples), len(genes)), dtype=bool)
    kinds = ["none"] * len(samples)
    for line, (sample, kind, cell) in zip(
        frame.index, frame[list(DESIGN_COLUMNS)].itertuples(index=False), strict=True
    ):
        targets = _split_genes(cell)
        kinds[row_of[sample]] = _design_kind(kind, targets, name, line)
        perturbed[row_of[sample], [col_of[g] for g in targets]] = True
    unlisted = len(samples) - frame["sample"].nunique()
    if unlisted:
        logger.info(
            "%s: %d sample(s) of %s are not listed; treating them as unperturbed",
            name,
            unlisted,
            expression,
        )
    return perturbed, kinds


def _split_genes(cell: str) -> list[str]:
    return [g.strip() for g in cell.split(";") if g.strip()]


def _check_design_names(
    frame: pd.DataFrame, samples: Sequence[str], genes: Sequence[str], name: str, expression: str
) -> None:
    # the frame's index holds each row's line number
    duplicated = frame.loc[frame["sample"].duplicated(), "sample"].unique().tolist()
    if duplicated:
        lines = frame.index[frame["sample"] == duplicated[0]].tolist()
        raise CLIError(
            f"design file {name!r}: sample(s) listed more than once: {_shown(duplicated)} "
            f"({duplicated[0]!r} on line {lines[0]} and line {lines[1]})"
        )
    known = set(samples)
    unknown = [(s, line) for line, s in frame["sample"].items() if s not in known]
    if unknown:
        raise CLIError(
            f"design file {name!r}: {len(unknown)} sample(s) are not samples of {expression}: "
            f"{_shown([s for s, _ in unknown])} (the first on line {unknown[0][1]})"
        )
    known = set(genes)
    listed = [(g, line) for line, cell in frame["perturbed_gene"].items()
              for g in _split_genes(cell)]  # fmt: skip
    missing = list(dict.fromkeys(g for g, _ in listed if g not in known))
    if missing:
        line = next(line for g, line in listed if g == missing[0])
        raise CLIError(
            f"design file {name!r}: perturbed gene(s) not among the genes of {expression}: "
            f"{_shown(missing)} (the first on line {line})"
        )


def _design_kind(kind: str, targets: list[str], name: str, line: int) -> str:
    kind = kind.strip().lower() or ("knockout" if targets else "none")
    if kind not in ("none", *PERTURBATIONS):
        raise CLIError(
            f"design file {name!r}, line {line}: unknown perturbation {kind!r}; "
            f"use none or one of {', '.join(PERTURBATIONS)}"
        )
    if (kind == "none") != (not targets):
        raise CLIError(
            f"design file {name!r}, line {line}: perturbation {kind!r} with perturbed_gene "
            f"{';'.join(targets) or '(empty)'}; 'none' needs an empty perturbed_gene, any other "
            "kind at least one gene"
        )
    return kind


def _shown(names: Sequence[str], limit: int = 10) -> str:
    shown = ", ".join(repr(n) for n in list(names)[:limit])
    return shown + (" ..." if len(names) > limit else "")


def write_run(
    directory: Path,
    posterior: bayesgrn.Posterior,
    *,
    ci_prob: float,
    extra: dict[str, Any],
    fdr: float = 0.05,
) -> None:
    """Write ``edges.tsv``, ``selected.tsv``, ``posterior.npz`` and ``summary.json``.

    Parameters
    ----------
    directory
        An existing (temporary) directory.
    posterior
        The fit.
    ci_prob
        Mass of the credible intervals in ``edges.tsv``.
    extra
        More JSON-serialisable entries for ``summary.json`` (e.g. the inputs).
    fdr
        Level of the Bayesian FDR selection written to ``selected.tsv``.
    """
    edges = posterior.edges(ci_prob=ci_prob)
    edges.to_csv(directory / "edges.tsv", sep="\t", index=False, float_format="%.8g")
    selected = posterior.select(fdr=fdr, ci_prob=ci_prob)
    selected.to_csv(directory / "selected.tsv", sep="\t", index=False, float_format="%.8g")
    posterior.save(directory / "posterior.npz")
    summary = {
        **posterior.summary(),
        "ci_prob": ci_prob,
        "fdr": fdr,
        "n_selected": len(selected),
        "spec": posterior.spec,
        "bayesgrn_version": bayesgrn.__version__,
        **extra,
    }
    _write_json(directory / "summary.json", summary)


def _write_json(path: Path, payload: Any) -> None:
    path.write_text(json.dumps(payload, indent=2, default=_json_default) + "\n", encoding="utf-8")


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def _report_fit(out: Path, posterior: bayesgrn.Posterior) -> None:
    info = posterior.summary()
    n_edges = int(np.count_nonzero(posterior.allowed))
    print(
        f"fitted {info['n_regulators']} regulators x {info['n_targets']} targets "
        f"({n_edges} candidate edges) on {info['device']} in {info['seconds']:.1f} s, "
        f"{info.get('steps')} steps, final ELBO {info.get('final_elbo', float('nan')):.6g}, "
        f"converged={info.get('converged')}"
    )
    if "pareto_k" in info:
        print(
            f"Pareto k-hat (Yao et al. 2018) over {info['psis_draws']} draws: median per "
            f"target {info['pareto_k_median_target']:.2f}, "
            f"{info['pareto_k_targets_above_0.7']} of {info['n_targets']} targets above 0.7"
        )
    print(f"wrote {out}/: {', '.join(n for n in FIT_ORDER if (out / n).exists())}")


# ====================================================================== simulate
def _cmd_simulate(args: argparse.Namespace) -> int:
    out = Path(args.out)
    check_output_dir(out, overwrite=args.overwrite, known=SIMULATE_FILES)
    sim = bayesgrn.simulate(args.genes, args.samples, knockouts=args.knockouts, seed=args.seed)
    with atomic_directory(out, overwrite=args.overwrite, known=SIMULATE_FILES) as tmp:
        write_simulation(tmp, sim)
    print(
        f"simulated {sim.data.n_genes} genes, {sim.data.n_samples} samples "
        f"({int(sim.data.perturbed.any(axis=1).sum())} knockouts), {len(sim.gold)} true edges"
    )
    print(f"wrote {out}/: expression.tsv, design.tsv, gold.tsv")
    return EXIT_OK


def write_simulation(directory: Path, sim: bayesgrn.SimulatedData) -> None:
    """Write ``expression.tsv``, ``design.tsv`` and ``gold.tsv`` of a simulation.

    Parameters
    ----------
    directory
        An existing (temporary) directory.
    sim
        The simulation.
    """
    data = sim.data
    expression = data.to_frame()
    expression.index.name = "sample"
    expression.to_csv(directory / "expression.tsv", sep="\t")
    design_frame(data).to_csv(directory / "design.tsv", sep="\t", index=False)
    sim.gold.to_csv(directory / "gold.tsv", sep="\t", index=False)


def design_frame(data: ExpressionData) -> pd.DataFrame:
    """Tabulate the design of ``data`` as ``sample, perturbation, perturbed_gene``.

    Parameters
    ----------
    data
        Expression data with its perturbation mask.

    Returns
    -------
    pandas.DataFrame
        One row per sample (``;``-joined perturbed genes), the format of ``fit --design``.
    """
    genes = np.asarray(data.genes, dtype=object)
    return pd.DataFrame(
        {
            "sample": list(data.samples),
            "perturbation": list(data.perturbation),
            "perturbed_gene": [";".join(genes[row]) for row in data.perturbed],
        }
    )


# ====================================================================== evaluate
def _cmd_evaluate(args: argparse.Namespace) -> int:
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


def load_gold(path: str | os.PathLike[str]) -> str:
    """Check a gold-standard file exists and pass it to :func:`bayesgrn.evaluate`.

    :func:`bayesgrn.read_gold_standard` reads DREAM's 3-column 0/1 files, 2-column positives
    and ``bayesgrn simulate``'s ``gold.tsv`` (edges with non-zero ``weight`` are true).
    """
    if not Path(path).is_file():
        raise CLIError(f"gold-standard file {str(path)!r} does not exist")
    return os.fspath(path)


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


# ====================================================================== demo
def _cmd_demo(args: argparse.Namespace) -> int:
    out = Path(args.out) if args.out else None
    if out is not None:
        check_output_dir(out, overwrite=args.overwrite, known=DEMO_FILES)
    sim = bayesgrn.simulate(args.genes, args.samples, knockouts="all", seed=args.seed)
    posterior = bayesgrn.fit(
        sim.data,
        seed=args.seed,
        device=args.device,
        num_steps=args.steps,
        progress=not args.no_progress,
    )
    print(_demo_header(sim, posterior, args))
    print()
    print(demo_edge_table(posterior, sim).to_string(index=False))
    print()
    print(_demo_scores(posterior, sim))
    if out is not None:
        with atomic_directory(out, overwrite=args.overwrite, known=DEMO_FILES) as tmp:
            write_simulation(tmp, sim)
            write_run(tmp, posterior, ci_prob=DEMO_CI, extra={"inputs": {"demo": vars_of(args)}})
        print(
            f"wrote {out}/: expression.tsv, design.tsv, gold.tsv, edges.tsv, selected.tsv, "
            "posterior.npz, summary.json"
        )
        print(f"pictures and summary in one HTML file: bayesgrn report {out}")
    else:
        print("to keep the run and see its pictures: bayesgrn demo --out DIR; bayesgrn report DIR")
    return EXIT_OK


def vars_of(args: argparse.Namespace) -> dict[str, Any]:
    """Collect the JSON-serialisable options of a parsed command (for ``summary.json``).

    Parameters
    ----------
    args
        Parsed arguments.

    Returns
    -------
    dict
        Option name to value, without the handler.
    """
    return {k: v for k, v in vars(args).items() if k != "handler"}


def _demo_header(sim: bayesgrn.SimulatedData, posterior: bayesgrn.Posterior, args: Any) -> str:
    data = sim.data
    n_ko = int(data.perturbed.any(axis=1).sum())
    return textwrap.fill(
        f"bayesgrn demo: simulated a random signed network of {data.n_genes} genes with "
        f"{len(sim.gold)} true edges (seed {args.seed}), then {data.n_samples - n_ko} "
        f"observational samples plus {n_ko} single-gene knockouts from its linear steady "
        f"state; fitted the default '{posterior.spec.get('name')}' model by SVI on "
        f"{posterior.device} ({posterior.diagnostics.get('steps')} steps). Top {DEMO_TOP} of "
        f"{int(np.count_nonzero(posterior.allowed))} candidate edges by posterior edge "
        f"probability; 'true_w' is the simulated weight on the standardised scale.",
        width=100,
    )


def demo_edge_table(posterior: bayesgrn.Posterior, sim: bayesgrn.SimulatedData) -> pd.DataFrame:
    """Tabulate the top edges of a demo fit next to the simulated truth.

    Parameters
    ----------
    posterior
        Fit of ``sim.data``.
    sim
        The simulation (its ``weights`` are the truth).

    Returns
    -------
    pandas.DataFrame
        Formatted ``regulator, target, mean, 90% CI, p_edge, p_positive, true, true_w``.
    """
    top = posterior.edges(ci_prob=DEMO_CI).head(DEMO_TOP)
    scale = pd.Series(sim.data.scale, index=list(sim.data.genes))
    true_w = [
        sim.weights.at[r, t] * scale[r] / scale[t]
        for r, t in zip(top["regulator"], top["target"], strict=True)
    ]
    return pd.DataFrame(
        {
            "regulator": top["regulator"],
            "target": top["target"],
            "mean": top["mean"].map("{:+.3f}".format),
            f"{DEMO_CI:.0%} CI": [
                f"[{lo:+.3f}, {hi:+.3f}]"
                for lo, hi in zip(top["ci_lower"], top["ci_upper"], strict=True)
            ],
            "p_edge": top["p_edge"].map("{:.3f}".format),
            "p_positive": top["p_positive"].map("{:.3f}".format),
            "true": ["yes" if w != 0 else "no" for w in true_w],
            "true_w": [f"{w:+.3f}" if w != 0 else "0" for w in true_w],
        }
    )


def correlation_edges(data: ExpressionData) -> pd.DataFrame:
    """Rank every ordered gene pair by ``|Pearson correlation|`` of the standardised data.

    Parameters
    ----------
    data
        Expression data.

    Returns
    -------
    pandas.DataFrame
        ``regulator, target, score`` over all pairs of distinct genes.
    """
    corr = np.abs(np.corrcoef(data.standardized(), rowvar=False))
    r_idx, t_idx = np.nonzero(~np.eye(data.n_genes, dtype=bool))
    genes = np.asarray(data.genes, dtype=object)
    return pd.DataFrame(
        {"regulator": genes[r_idx], "target": genes[t_idx], "score": corr[r_idx, t_idx]}
    )


def _demo_scores(posterior: bayesgrn.Posterior, sim: bayesgrn.SimulatedData) -> str:
    positives = sim.gold[["regulator", "target"]]
    ours = bayesgrn.evaluate(posterior, positives)
    corr = bayesgrn.evaluate(correlation_edges(sim.data), positives)
    width = len("|correlation|")
    lines = [
        f"{'ranking':<{width}}  AUROC   AUPR   (against the {ours['n_true']} true edges among "
        f"{ours['n_pairs']} pairs; random AUPR ~ {ours['n_true'] / ours['n_pairs']:.3f})",
        f"{'bayesgrn':<{width}}  {ours['auroc']:.3f}   {ours['aupr']:.3f}",
        f"{'|correlation|':<{width}}  {corr['auroc']:.3f}   {corr['aupr']:.3f}",
        "",
        f"fit time: {posterior.diagnostics.get('seconds', float('nan')):.1f} s",
    ]
    return "\n".join(lines)


# ====================================================================== report
_REPORT_SUMMARY = "Write a self-contained HTML report (pictures, summary, top edges) of a run."
_REPORT_EPILOG = """\
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


def _add_report(commands: Any, common: argparse.ArgumentParser) -> None:
    sub = _subparser(commands, "report", common, _REPORT_SUMMARY, _REPORT_EPILOG)
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
        type=_positive_int,
        default=30,
        metavar="N",
        help="edges in the forest plot and the table (default %(default)s)",
    )
    sub.set_defaults(handler=_cmd_report)


def _cmd_report(args: argparse.Namespace) -> int:
    from bayesgrn.report import write_report

    if args.gold is not None:
        load_gold(args.gold)
    path = write_report(args.run_dir, out=args.out, gold=args.gold, top=args.top)
    print(f"wrote {path}")
    return EXIT_OK


# ====================================================================== dream4
_DREAM4_SUMMARY = "Fit one DREAM4 in-silico network (read with bayesgrn.read_dream4) and score it."
_DREAM4_EPILOG = """\
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


def _add_dream4(commands: Any, common: argparse.ArgumentParser) -> None:
    from bayesgrn.dream4 import DREAM4_TABLES

    sub = _subparser(commands, "dream4", common, _DREAM4_SUMMARY, _DREAM4_EPILOG)
    sub.add_argument("directory", metavar="DIR", help="folder with the DREAM4 files")
    sub.add_argument("--network", type=_positive_int, required=True, metavar="N")
    sub.add_argument("--size", type=_positive_int, default=100, metavar="S", help="default 100")
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
    _add_model_options(sub)
    _add_output_options(sub)
    sub.set_defaults(handler=_cmd_dream4)


def _cmd_dream4(args: argparse.Namespace) -> int:
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
    _report_fit(out, posterior)
    print(f"scored against {gold.name}:")
    print(format_metrics(bayesgrn.evaluate(posterior, gold)))
    return EXIT_OK


# ====================================================================== compare
_COMPARE_SUMMARY = "Choose between model families by cross-validated held-out predictive density."
_COMPARE_EPILOG = """\
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


def _add_compare(commands: Any, common: argparse.ArgumentParser) -> None:
    sub = _subparser(commands, "compare", common, _COMPARE_SUMMARY, _COMPARE_EPILOG)
    sub.add_argument("expression", metavar="EXPR", help="samples x genes CSV/TSV (optionally .gz)")
    sub.add_argument(
        "--models", nargs="+", default=["horseshoe", "sigmoid_horseshoe"], metavar="NAME|PATH",
        help="bundled specs or .toml paths to compare (default: horseshoe sigmoid_horseshoe)",
    )  # fmt: skip
    sub.add_argument(
        "--folds", type=_positive_int, default=5, metavar="K",
        help="cross-validation folds (default %(default)s)",
    )  # fmt: skip
    sub.add_argument(
        "--seed", type=int, default=0, metavar="N",
        help="seed of the folds and the fits (default %(default)s)",
    )  # fmt: skip
    sub.add_argument(
        "--draws", type=_positive_int, default=200, metavar="S",
        help="posterior draws per held-out score (default %(default)s)",
    )  # fmt: skip
    sub.add_argument("--regulators", metavar="FILE", help="candidate regulators, one per line")
    sub.add_argument(
        "--design", metavar="FILE", help="design TSV: sample, perturbation, perturbed_gene"
    )
    _add_data_options(sub)
    sub.add_argument(
        "--device", choices=("auto", "cpu", "cuda"), default="auto",
        help="where to fit (default %(default)s: CUDA when available)",
    )  # fmt: skip
    sub.add_argument(
        "--steps", type=_positive_int, metavar="N", help="maximum SVI steps (default: the spec's)"
    )
    sub.add_argument(
        "--forbidden-edges", metavar="FILE", help="edges to exclude: regulator, target (TSV/CSV)"
    )
    sub.add_argument("--out", metavar="FILE", help="also write the table to FILE (TSV)")
    sub.add_argument("--overwrite", action="store_true", help="replace an existing --out FILE")
    sub.set_defaults(handler=_cmd_compare)


def _cmd_compare(args: argparse.Namespace) -> int:
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
        tmp = out.with_name(f".{out.name}.tmp-{os.getpid()}")
        try:
            table.to_csv(tmp, sep="\t", index=False, float_format="%.6g")
            os.replace(tmp, out)
        finally:
            tmp.unlink(missing_ok=True)
        print(f"wrote {out}")
    return EXIT_OK


# ====================================================================== specs
def _cmd_specs(args: argparse.Namespace) -> int:
    del args
    for name in bayesgrn.available_specs():
        spec = bayesgrn.load_spec(name)
        print(f"{name}  (hash {spec.hash})")
        print(
            textwrap.fill(
                spec.description or "(no description)",
                width=100,
                initial_indent="    ",
                subsequent_indent="    ",
            )
        )
    return EXIT_OK


# ====================================================================== small tables
def read_table(
    path: str | os.PathLike[str], what: str, *, required: Sequence[str] = ()
) -> pd.DataFrame:
    """Read a small TSV/CSV with a header line as strings (tab or comma, from the header).

    Parameters
    ----------
    path
        The file.
    what
        What the file is (``"design"``, ``"edge"``, ...), for messages.
    required
        Columns that must be present.

    Returns
    -------
    pandas.DataFrame
        All cells as stripped strings (``NA`` stays text); empty cells are ``""``. The index
        holds each row's line number in the file, for messages.

    Raises
    ------
    CLIError, bayesgrn.BayesGRNInputError
        For a missing or empty file, missing columns, or what
        :func:`bayesgrn.io.read_small_table` refuses (bad bytes, ragged rows, ...).
    """
    path = Path(path)
    if not path.is_file():
        raise CLIError(f"{what} file {str(path)!r} does not exist")
    table = read_small_table(
        path, f"{what} file", has_header=True, separators=("\t", ","), fallback=","
    )
    if table.header is None:
        raise CLIError(
            f"{what} file {str(path)!r} is empty; expected a header line"
            + (f" ({', '.join(required)}) and rows" if required else "")
        )
    missing = [c for c in required if c not in table.header]
    if missing:
        raise CLIError(
            f"{what} file {str(path)!r} lacks column(s) {', '.join(missing)}; its header "
            f"(line {table.header_line}) is {', '.join(table.header)}"
        )
    return pd.DataFrame(
        table.rows, columns=table.header, index=pd.Index(table.lines, name="line"), dtype=str
    )


# ====================================================================== atomic run directories
def check_output_dir(out: Path, *, overwrite: bool, known: frozenset[str]) -> None:
    """Refuse an output directory that cannot (or must not) be replaced.

    Parameters
    ----------
    out
        The requested run directory.
    overwrite
        Whether a non-empty ``out`` may be replaced.
    known
        File names the command writes; ``--overwrite`` only replaces a directory holding
        nothing else, so it never deletes data bayesgrn did not write.

    Raises
    ------
    CLIError
        When ``out`` is a file or link, or is non-empty (without ``overwrite``, or holding
        other files).
    """
    if out.is_symlink() or (out.exists() and not out.is_dir()):
        raise CLIError(f"--out {str(out)!r} exists and is not a directory")
    if not out.exists() or not any(out.iterdir()):
        return
    if not overwrite:
        raise CLIError(
            f"output directory {str(out)!r} already exists and is not empty; pass --overwrite "
            "to replace it, or choose another --out"
        )
    foreign = sorted(p.name for p in out.iterdir() if p.name not in known or not p.is_file())
    if foreign:
        raise CLIError(
            f"refusing to --overwrite {str(out)!r}: it holds {_shown(foreign, 5)}, which this "
            "command does not write; remove the directory yourself or choose another --out"
        )


@contextlib.contextmanager
def atomic_directory(out: Path, *, overwrite: bool, known: frozenset[str]) -> Iterator[Path]:
    """Yield a temporary sibling directory that becomes ``out`` when the block succeeds.

    Parameters
    ----------
    out
        The run directory to create (or replace, see :func:`check_output_dir`).
    overwrite, known
        Passed to :func:`check_output_dir`, checked again just before the rename.

    Yields
    ------
    pathlib.Path
        The temporary directory (``out.tmp-XXXX``) to write into. On any exception it is
        removed, together with parent directories this call created.
    """
    out = Path(os.path.abspath(out))
    check_output_dir(out, overwrite=overwrite, known=known)
    created = _make_parents(out.parent)
    tmp = Path(tempfile.mkdtemp(prefix=f"{out.name}.tmp-", dir=out.parent))
    try:
        yield tmp
        _apply_umask(tmp)
        check_output_dir(out, overwrite=overwrite, known=known)
        _swap_into_place(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        _remove_empty(created)
        raise


def _make_parents(parent: Path) -> list[Path]:
    """``mkdir -p parent``; return the directories it created, deepest first."""
    created = []
    probe = parent
    while not probe.exists():
        created.append(probe)
        probe = probe.parent
    parent.mkdir(parents=True, exist_ok=True)
    return created


def _remove_empty(directories: list[Path]) -> None:
    for directory in directories:
        try:
            directory.rmdir()
        except OSError:
            return


def _apply_umask(directory: Path) -> None:
    """Give ``directory`` and its files the modes ``mkdir``/``open`` would (not 0700/0600)."""
    mask = os.umask(0)
    os.umask(mask)
    os.chmod(directory, 0o777 & ~mask)
    for path in directory.iterdir():
        if path.is_file() and not path.is_symlink():
            os.chmod(path, 0o666 & ~mask)


def _swap_into_place(tmp: Path, out: Path) -> None:
    """Rename ``tmp`` to ``out``, replacing an empty or (already vetted) old ``out``."""
    if out.is_dir() and not any(out.iterdir()):
        out.rmdir()
    if not out.exists():
        os.rename(tmp, out)
        return
    backup = Path(tempfile.mkdtemp(prefix=f"{out.name}.old-", dir=out.parent))
    os.rename(out, backup / out.name)
    try:
        os.rename(tmp, out)
    except BaseException:
        os.rename(backup / out.name, out)
        backup.rmdir()
        raise
    shutil.rmtree(backup, ignore_errors=True)


# ====================================================================== help texts
_MAIN_EPILOG = """\
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

_FIT_SUMMARY = "Fit the network posterior to an expression table and write a run directory."
_FIT_EPILOG = """\
EXPR is a samples x genes table (tab/comma separated, optionally gzipped) whose first
column holds the sample names and whose header holds the gene names. The run directory
DIR receives, atomically (all or nothing):
  edges.tsv      one row per candidate edge, most probable first: regulator, target, mean,
                 sd, ci_lower, ci_upper, p_edge, p_positive, lfsr, lfdr, TF, importance
  selected.tsv   the largest top set of edges.tsv whose posterior expected FDR (mean lfdr)
                 is <= --fdr
  posterior.npz  the posterior draws (bayesgrn.Posterior.load)
  summary.json   diagnostics (seed, spec_hash, steps, final_elbo, seconds, device, ...),
                 the resolved model spec and the inputs

--design FILE is a table with columns sample, perturbation, perturbed_gene: perturbation
is none, knockout, knockdown or overexpression; perturbed_gene is empty for none and may
list several genes separated by ';'. Samples it does not list are unperturbed.

Long fits: the state is saved to DIR.checkpoint every --checkpoint-every steps. Ctrl-C or
SIGTERM stops the fit at the end of the current step, saves the state and exits with
status 130/143 without writing DIR; the same command with --resume continues it and ends
at the same result as an uninterrupted run (same device). The checkpoint is deleted once
DIR is written. Before fitting, the memory the fit needs is planned and the fit is refused
(with the plan and the options) when it exceeds --max-memory or the free memory.

examples:
  bayesgrn fit expr.tsv --out run
  bayesgrn fit expr.tsv --out run --resume          # after an interruption
  bayesgrn fit expr.tsv --regulators tfs.txt --out run --seed 1 --steps 2000
  bayesgrn fit counts.csv --transform log1p --drop-constant --out run --device cuda
  bayesgrn fit sim/expression.tsv --design sim/design.tsv --out run --overwrite
"""

_SIMULATE_SUMMARY = "Simulate steady-state expression from a random sparse signed network."
_SIMULATE_EPILOG = """\
DIR receives, atomically:
  expression.tsv  samples x genes, first column 'sample'
  design.tsv      sample, perturbation, perturbed_gene (the format of 'fit --design')
  gold.tsv        regulator, target, weight: the true (non-zero) edges

examples:
  bayesgrn simulate --genes 20 --samples 100 --out sim
  bayesgrn simulate --genes 50 --samples 200 --knockouts all --seed 3 --out sim50
"""

_EVALUATE_SUMMARY = "Score a ranked edge list against a gold standard (AUROC, AUPR, precision@k)."
_EVALUATE_EPILOG = """\
EDGES is an edges.tsv written by 'bayesgrn fit' (ranked by p_edge, then |mean|), a
posterior.npz, or any table with regulator, target and a score or importance column.
GOLD is DREAM's headerless 'regulator target 0/1' file, a 2-column list of true edges, or
the gold.tsv of 'bayesgrn simulate' (edges with non-zero weight are true).

examples:
  bayesgrn evaluate run/edges.tsv sim/gold.tsv
  bayesgrn evaluate run/posterior.npz DREAM4_GoldStandard_InSilico_Size10_1.tsv --k 5,10
  bayesgrn evaluate run/edges.tsv gold.tsv --json
"""

_DEMO_SUMMARY = "Simulate a network with knockouts, fit it, and compare with the known truth."
_DEMO_EPILOG = """\
Simulates GENES genes with SAMPLES observational samples plus one knockout per gene, fits
the default model, prints the top edges next to the true (standardised) weights, and
scores the ranking (AUROC/AUPR) against the truth, next to a |Pearson correlation| ranking.

With --out DIR, 'bayesgrn report DIR' then writes DIR/report.html: the ELBO trace, the top
edges with intervals, the network, the p_edge heat map and the calibration of p_edge
against the simulated truth, in one self-contained HTML file.

examples:
  bayesgrn demo
  bayesgrn demo --genes 20 --samples 50 --steps 500
  bayesgrn demo --out demo-run && bayesgrn report demo-run
"""

_SPECS_SUMMARY = "List the bundled model specs with their descriptions."
_SPECS_EPILOG = """\
Use a name with 'bayesgrn fit --model NAME', or copy a spec's .toml file, edit it, and pass
its path with --model PATH.

example:
  bayesgrn specs
"""
