"""Does held-out model comparison pick the family that generated the data? (issue "Beyond linear")

Simulates ``--datasets`` data sets from each family of ``bg.simulate`` (``linear`` and
``sigmoid``; continuous expression, observational samples plus one knockout per gene),
runs ``bg.compare`` with a linear and a nonlinear spec on each, and prints one row per data
set: the generating family, the data set (seed), the family chosen (highest held-out
elpd), the elpd difference nonlinear - linear with its standard error (from the pointwise
differences), and the seconds of the comparison; then the number of correct picks per
generating family. Acceptance target: the generating family is chosen in at least 8 of 10
data sets per family.

    python examples/benchmarks/compare_families.py                  # 2 x 10 data sets
    python examples/benchmarks/compare_families.py --datasets 3 --steps 500
"""

from __future__ import annotations

import argparse
import time

import pandas as pd

import bayesgrn as bg

#: the spec family each simulator family corresponds to
SPEC_FAMILY = {"linear": "gaussian", "sigmoid": "sigmoid"}


def run(args: argparse.Namespace) -> pd.DataFrame:
    rows = []
    for family in args.families:
        for k in range(args.datasets):
            seed = args.seed + k
            sim = bg.simulate(
                args.genes, args.samples, knockouts=args.knockouts, family=family, seed=seed
            )
            start = time.perf_counter()
            table = bg.compare(
                sim.data,
                models=(args.linear, args.nonlinear),
                folds=args.folds,
                seed=0,
                draws=args.draws,
                num_steps=args.steps,
                device=args.device,
            )
            seconds = time.perf_counter() - start
            by_family = table.set_index("family")
            best = table.loc[0]
            linear = by_family.loc["gaussian"]
            other = table[table["family"] != "gaussian"].iloc[0]
            diff = (
                table.attrs["pointwise"][other["model"]]
                - table.attrs["pointwise"][linear["model"]]
            )
            rows.append(
                {
                    "generating": family,
                    "dataset": seed,
                    "chosen": {v: k for k, v in SPEC_FAMILY.items()}.get(
                        best["family"], best["family"]
                    ),
                    "elpd_nonlinear_minus_linear": round(float(diff.sum()), 1),
                    "se": round(float((len(diff) * diff.var(ddof=1)) ** 0.5), 1),
                    "correct": best["family"] == SPEC_FAMILY[family],
                    "seconds": round(seconds, 1),
                }
            )
            row = rows[-1]
            print(
                f"{family} data set {seed}: chose {row['chosen']}, elpd nonlinear - linear "
                f"{row['elpd_nonlinear_minus_linear']} +- {row['se']} ({row['seconds']} s)",
                flush=True,
            )
    return pd.DataFrame(rows)


def main(argv: list[str] | None = None) -> pd.DataFrame:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--families", nargs="+", default=["linear", "sigmoid"])
    parser.add_argument("--datasets", type=int, default=10, help="data sets per family")
    parser.add_argument("--genes", type=int, default=15)
    parser.add_argument("--samples", type=int, default=200, help="observational samples")
    parser.add_argument("--knockouts", default="all", help="'all', or a number of knockouts")
    parser.add_argument("--folds", type=int, default=3)
    parser.add_argument("--steps", type=int, default=1000, help="SVI steps per fit")
    parser.add_argument("--draws", type=int, default=200, help="guide draws per score")
    parser.add_argument("--linear", default="horseshoe")
    parser.add_argument("--nonlinear", default="sigmoid_horseshoe")
    parser.add_argument("--seed", type=int, default=0, help="first data-set seed")
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args(argv)
    if args.knockouts != "all":
        args.knockouts = int(args.knockouts)
    start = time.perf_counter()
    results = run(args)
    print()
    print(results.to_string(index=False))
    print()
    for family, group in results.groupby("generating", sort=False):
        hits = int(group["correct"].sum())
        print(f"{family}: generating family chosen in {hits} of {len(group)}")
    print(f"total {time.perf_counter() - start:.0f} s")
    return results


if __name__ == "__main__":
    main()
