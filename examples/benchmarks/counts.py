"""Recovery from raw counts: the count family vs the linear family on log counts.

Simulates RNA-seq-like counts from a known network (:func:`bayesgrn.simulate_counts`: a
latent steady state of the linear or sigmoid family, log-mean link, per-sample size
factors, negative-binomial noise) and fits, on the same data:

* ``bayesgrn[negbinomial]`` -- the count family on the raw counts;
* ``bayesgrn[linear, log1p]`` -- the linear family on ``log(1 + count)`` (the transform the
  issue names; no library-size normalisation);
* ``bayesgrn[linear, log1p-norm]`` -- the linear family on ``log(1 + count / size factor)``,
  with the count family's own size factors (a stronger baseline);
* ``|Pearson|`` on ``log(1 + count / size factor)``.

It prints one row per (method, data set): seconds, peak RSS, AUROC, AUPR, and the mean AUPR
difference count family minus linear-on-log1p with its spread over data sets.

    python examples/benchmarks/counts.py --seeds 0 1 2 3 4
"""

from __future__ import annotations

import argparse
import logging
import resource
import time
from collections.abc import Sequence

import numpy as np
import pandas as pd

import bayesgrn as bg
from bayesgrn.counts import CountScale


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far (MiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _like(sim: bg.SimulatedData, values: np.ndarray) -> bg.ExpressionData:
    data = sim.data
    return bg.ExpressionData.from_array(
        values, data.genes, data.samples, perturbed=data.perturbed, source=data.source
    )


def run(args: argparse.Namespace) -> pd.DataFrame:
    """Fit every method on every simulated data set; return the table."""
    rows = []
    for seed in args.seeds:
        sim = bg.simulate_counts(
            args.genes,
            args.samples,
            family=args.family,
            knockouts="all" if args.knockouts else 0,
            mean_count=(args.min_count, args.max_count),
            dispersion=args.dispersion,
            seed=seed,
        )
        counts = sim.data.values
        log_sf = CountScale.from_data(sim.data).log_size_factors(sim.data)
        normalised = np.log1p(counts / np.exp(log_sf)[:, None])
        name = (
            f"{args.family}{args.genes}g{args.samples}s"
            f"{'+ko' if args.knockouts else ''}/seed{seed}"
        )
        methods = {
            "bayesgrn[negbinomial]": (sim.data, "negbinomial_horseshoe"),
            "bayesgrn[linear, log1p]": (_like(sim, np.log1p(counts)), "horseshoe"),
            "bayesgrn[linear, log1p-norm]": (_like(sim, normalised), "horseshoe"),
        }
        for method, (data, model) in methods.items():
            start = time.perf_counter()
            post = bg.fit(data, model=model, seed=0, num_steps=args.steps)
            seconds = time.perf_counter() - start
            ev = bg.evaluate(post, sim.gold[["regulator", "target"]])
            rows.append(_row(method, name, seconds, ev, post.diagnostics["steps"]))
        start = time.perf_counter()
        corr = np.abs(np.corrcoef(normalised, rowvar=False))
        np.fill_diagonal(corr, 0.0)
        edges = pd.DataFrame(corr, index=sim.data.genes, columns=sim.data.genes).stack()
        scored = edges.rename_axis(["regulator", "target"]).reset_index(name="score")
        seconds = time.perf_counter() - start
        ev = bg.evaluate(scored, sim.gold[["regulator", "target"]])
        rows.append(_row("|Pearson| log1p-norm", name, seconds, ev, 0))
    return pd.DataFrame(rows)


def _row(method: str, data: str, seconds: float, ev: dict, steps: int) -> dict:
    return {
        "method": method,
        "data": data,
        "seconds": round(seconds, 1),
        "steps": steps,
        "peak_rss_mb": round(peak_rss_mb()),
        "auroc": round(ev["auroc"], 3),
        "aupr": round(ev["aupr"], 3),
    }


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--genes", type=int, default=50)
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--family", choices=("linear", "sigmoid"), default="linear")
    parser.add_argument("--knockouts", action="store_true", help="add one knockout per gene")
    parser.add_argument("--min-count", type=float, default=5.0)
    parser.add_argument("--max-count", type=float, default=200.0)
    parser.add_argument("--dispersion", type=float, default=0.1)
    parser.add_argument("--steps", type=int, default=None, help="SVI steps (default: spec)")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> pd.DataFrame:
    """Run the benchmark and print the table."""
    args = parse_args(argv)
    logging.getLogger("bayesgrn").setLevel(logging.ERROR)  # k-hat warnings: not the point here
    table = run(args)
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print(table.to_string(index=False))
    pivot = table.pivot(index="data", columns="method", values="aupr")
    gain = pivot["bayesgrn[negbinomial]"] - pivot["bayesgrn[linear, log1p]"]
    print(
        f"\nAUPR, count family minus linear on log1p(count): mean {gain.mean():+.3f}, "
        f"min {gain.min():+.3f}, max {gain.max():+.3f} over {gain.size} data sets"
    )
    print("mean AUPR by method:")
    print(table.groupby("method")["aupr"].mean().round(3).to_string())
    return table


if __name__ == "__main__":
    main()
