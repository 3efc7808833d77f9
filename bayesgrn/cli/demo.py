"""``bayesgrn demo``: simulate a network with knockouts, fit it, and compare with the truth."""

from __future__ import annotations

import argparse
import textwrap
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

import bayesgrn
from bayesgrn.cli._common import EXIT_OK
from bayesgrn.cli._options import (
    add_device_option,
    add_output_options,
    add_steps_option,
    nonnegative_int,
    positive_int,
    subparser,
)
from bayesgrn.cli._rundir import atomic_directory, check_output_dir
from bayesgrn.cli._runfiles import FIT_FILES, vars_of, write_run
from bayesgrn.cli.simulate import SIMULATE_FILES, write_simulation
from bayesgrn.data import ExpressionData

DEMO_FILES = FIT_FILES | SIMULATE_FILES
DEMO_TOP = 15
DEMO_CI = 0.9

SUMMARY = "Simulate a network with knockouts, fit it, and compare with the known truth."
EPILOG = """\
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


def register(commands: Any, common: argparse.ArgumentParser) -> None:
    """Add the ``demo`` subcommand."""
    sub = subparser(commands, "demo", common, SUMMARY, EPILOG)
    sub.add_argument(
        "--genes", type=positive_int, default=50, metavar="N", help="number of genes (default 50)"
    )
    sub.add_argument(
        "--samples",
        type=nonnegative_int,
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
    add_steps_option(sub)
    add_device_option(sub)
    sub.add_argument("--out", metavar="DIR", help="also write the data and the run directory here")
    add_output_options(sub)
    sub.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Run ``bayesgrn demo``."""
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
