"""``bayesgrn fit``: fit the network posterior to an expression table, with checkpoint/resume.

Ctrl-C or SIGTERM stops the fit cleanly (:class:`bayesgrn.errors.FitInterrupted`), leaving
its state in ``DIR.checkpoint``; ``--resume`` continues from there.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path
from typing import Any

import bayesgrn
from bayesgrn.cli._common import EXIT_OK, EXIT_SIGNALLED, CLIError
from bayesgrn.cli._inputs import load_expression
from bayesgrn.cli._options import (
    add_data_options,
    add_expression_argument,
    add_forbidden_edges_option,
    add_model_options,
    add_output_options,
    add_sampler_options,
    nonnegative_int,
    positive_int,
    subparser,
)
from bayesgrn.cli._rundir import atomic_directory, check_output_dir
from bayesgrn.cli._runfiles import FIT_FILES, report_fit, write_run
from bayesgrn.data import ExpressionData
from bayesgrn.errors import FitInterrupted
from bayesgrn.infer.checkpoint import remove_checkpoint
from bayesgrn.memory import parse_bytes

logger = logging.getLogger(__name__)

SUMMARY = "Fit the network posterior to an expression table and write a run directory."
EPILOG = """\
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
  bayesgrn fit small.tsv --out run --method nuts --chains 2    # reference posterior
  bayesgrn fit obs.tsv --out run --method gibbs --samples 1000 # exact (Gaussian family)

--method svi (the default) fits the variational posterior and is the only method with
checkpoints, --resume, --subsample-size and --shards; nuts and gibbs draw --samples
draws per chain after --warmup iterations (see docs/model.md for when each applies).
"""


def register(commands: Any, common: argparse.ArgumentParser) -> None:
    """Add the ``fit`` subcommand."""
    sub = subparser(commands, "fit", common, SUMMARY, EPILOG)
    add_expression_argument(sub)
    sub.add_argument("--out", required=True, metavar="DIR", help="run directory to create")
    add_data_options(sub)
    add_model_options(sub)
    sub.add_argument(
        "--known-edges",
        metavar="FILE",
        help="known/suspected edges: regulator, target, confidence in (0, 1] (TSV/CSV)",
    )
    add_forbidden_edges_option(sub)
    sub.add_argument(
        "--subsample-size", type=positive_int, metavar="N", help="SVI minibatch size over samples"
    )
    add_sampler_options(sub)
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
        type=nonnegative_int,
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
        type=positive_int,
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
    add_output_options(sub)
    sub.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Run ``bayesgrn fit``."""
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
    _check_method_options(args)
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
    report_fit(out, posterior)
    return EXIT_OK


def _fit_checkpointed(
    args: argparse.Namespace,
    data: ExpressionData,
    spec: bayesgrn.ModelSpec,
    max_memory: int | None,
    checkpoint: Path,
) -> bayesgrn.Posterior:
    common: dict[str, Any] = {
        "model": spec,
        "seed": args.seed,
        "device": args.device,
        "known_edges": args.known_edges,
        "forbidden_edges": args.forbidden_edges,
        "progress": not args.no_progress,
        "max_memory": max_memory,
    }
    if args.method != "svi":
        return bayesgrn.fit(
            data,
            method=args.method,
            num_samples=500 if args.samples is None else args.samples,
            warmup_steps=500 if args.warmup is None else args.warmup,
            num_chains=args.chains,
            **common,
        )
    return bayesgrn.fit(
        data,
        num_steps=args.steps,
        subsample_size=args.subsample_size,
        checkpoint=checkpoint,
        checkpoint_every=args.checkpoint_every,
        resume=args.resume,
        handle_signals=True,
        **common,
    )


def _check_method_options(args: argparse.Namespace) -> None:
    """Refuse options that do not apply to ``--method`` before any data are read."""
    if args.method == "svi":
        sampler_only = [
            flag
            for flag, value in (("--samples", args.samples), ("--warmup", args.warmup))
            if value is not None
        ]
        if args.chains != 1:
            sampler_only.append("--chains")
        if sampler_only:
            raise CLIError(
                f"{', '.join(sampler_only)}: only for --method nuts or gibbs (SVI takes --steps)"
            )
        return
    svi_only = [
        flag
        for flag, used in (
            ("--steps", args.steps is not None),
            ("--subsample-size", args.subsample_size is not None),
            ("--resume", args.resume),
            ("--shards", args.shards > 1),
        )
        if used
    ]
    if svi_only:
        raise CLIError(
            f"{', '.join(svi_only)}: only for --method svi (--method {args.method} takes "
            "--samples, --warmup and --chains)"
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
