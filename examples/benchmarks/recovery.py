"""Recovery of a simulated linear network: bayesgrn vs |Pearson| (issue 2 acceptance).

Simulates a 100-gene network (in-degree ~ Poisson(1.5), weights ±U(0.3, 0.8), unit noise,
spectral radius <= 0.8) with 200 samples -- by default 100 observational + one knockout per
gene -- fits the default model and prints one table row per (method, seed): seconds, peak
memory, AUROC, AUPR, and the coverage of the 90% intervals of all and of the non-zero true
weights (standardised scale).

    python examples/benchmarks/recovery.py --seeds 0 1 2
"""

from __future__ import annotations

import argparse
import resource
import time

import numpy as np
import pandas as pd
from sklearn.metrics import average_precision_score, roc_auc_score

import bayesgrn as bg


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def run(args: argparse.Namespace) -> pd.DataFrame:
    rows = []
    for seed in args.seeds:
        n_obs = args.samples - (args.genes if args.knockouts else 0)
        sim = bg.simulate(args.genes, n_obs, knockouts="all" if args.knockouts else 0, seed=seed)
        w_true = sim.weights.to_numpy()
        sd = sim.data.scale
        w_std = w_true * sd[:, None] / sd[None, :]
        mask = ~np.eye(args.genes, dtype=bool)
        truth = (w_true[mask] != 0).astype(int)
        data_name = f"sim{args.genes}g{args.samples}s{'+ko' if args.knockouts else ''}/seed{seed}"
        for guide in args.guides:
            start = time.perf_counter()
            post = bg.fit(sim.data, seed=0, guide={"kind": guide}, num_steps=args.steps)
            seconds = time.perf_counter() - start
            ev = bg.evaluate(post, sim.gold[["regulator", "target"]])
            lo, hi = post.matrix("ci_lower").to_numpy(), post.matrix("ci_upper").to_numpy()
            covered = ((lo <= w_std) & (w_std <= hi))[mask]
            rows.append(
                {
                    "method": f"bayesgrn[{guide}]",
                    "data": data_name,
                    "seconds": round(seconds, 1),
                    "steps": post.diagnostics["steps"],
                    "peak_rss_mb": round(peak_rss_mb()),
                    "auroc": round(ev["auroc"], 3),
                    "aupr": round(ev["aupr"], 3),
                    "cover90_all": round(covered.mean(), 3),
                    "cover90_nonzero": round(covered[truth == 1].mean(), 3),
                }
            )
        start = time.perf_counter()
        corr = np.abs(np.corrcoef(sim.data.standardized().T))[mask]
        seconds = time.perf_counter() - start
        rows.append(
            {
                "method": "|Pearson|",
                "data": data_name,
                "seconds": round(seconds, 3),
                "auroc": round(roc_auc_score(truth, corr), 3),
                "aupr": round(average_precision_score(truth, corr), 3),
            }
        )
        print(pd.DataFrame(rows[-len(args.guides) - 1 :]).to_string(index=False), flush=True)
    return pd.DataFrame(rows)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--genes", type=int, default=100)
    parser.add_argument("--samples", type=int, default=200, help="total samples incl. knockouts")
    parser.add_argument("--no-knockouts", dest="knockouts", action="store_false")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument(
        "--guides", nargs="+", default=[bg.load_spec().guide.kind], help="default: the spec's"
    )
    parser.add_argument("--steps", type=int, default=None)
    args = parser.parse_args(argv)
    table = run(args)
    print("\nAll runs:")
    print(table.to_string(index=False))
    print(f"\npeak RSS of this process: {peak_rss_mb():.0f} MB")


if __name__ == "__main__":
    main()
