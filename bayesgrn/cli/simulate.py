"""``bayesgrn simulate``: steady-state expression from a random sparse signed network."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

import bayesgrn
from bayesgrn.cli._common import EXIT_OK
from bayesgrn.cli._options import nonnegative_int, positive_int, subparser
from bayesgrn.cli._rundir import atomic_directory, check_output_dir
from bayesgrn.data import ExpressionData

SIMULATE_FILES = frozenset({"expression.tsv", "design.tsv", "gold.tsv"})

SUMMARY = "Simulate steady-state expression from a random sparse signed network."
EPILOG = """\
DIR receives, atomically:
  expression.tsv  samples x genes, first column 'sample'
  design.tsv      sample, perturbation, perturbed_gene (the format of 'fit --design')
  gold.tsv        regulator, target, weight: the true (non-zero) edges

examples:
  bayesgrn simulate --genes 20 --samples 100 --out sim
  bayesgrn simulate --genes 50 --samples 200 --knockouts all --seed 3 --out sim50
"""


def register(commands: Any, common: argparse.ArgumentParser) -> None:
    """Add the ``simulate`` subcommand."""
    sub = subparser(commands, "simulate", common, SUMMARY, EPILOG)
    sub.add_argument(
        "--genes", type=positive_int, required=True, metavar="N", help="number of genes"
    )
    sub.add_argument(
        "--samples",
        type=nonnegative_int,
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
    sub.set_defaults(handler=run)


def _knockouts(text: str) -> int | str:
    return "all" if text.strip().lower() == "all" else nonnegative_int(text)


def run(args: argparse.Namespace) -> int:
    """Run ``bayesgrn simulate``."""
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
