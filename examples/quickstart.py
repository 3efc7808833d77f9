"""Quickstart: simulate a network with knockouts, fit it, read the edges.

python examples/quickstart.py [--genes 30] [--samples 60] [--steps N] [--seed 0]
"""

from __future__ import annotations

import argparse

import bayesgrn as bg


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--genes", type=int, default=30)
    parser.add_argument("--samples", type=int, default=60, help="observational samples")
    parser.add_argument("--steps", type=int, default=None, help="max SVI steps (spec default)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    # 1. data: observational samples plus one knockout of every gene, with the true network
    sim = bg.simulate(args.genes, args.samples, knockouts="all", seed=args.seed)
    print(sim.data)

    # 2. fit: the default model ("horseshoe"), by SVI, seeded
    post = bg.fit(sim.data, seed=args.seed, num_steps=args.steps)
    print(post)

    # 3. read: edges ranked by posterior probability, with 90% credible intervals
    print(post.edges(ci_prob=0.9).head(10).to_string(index=False, float_format="%.3f"))
    chosen = post.select(fdr=0.1)
    print(f"{len(chosen)} edges selected at a posterior expected FDR of 10%")

    # 4. check against the truth
    scores = bg.evaluate(post, sim.gold)
    print({k: round(v, 3) for k, v in scores.items()})
    return scores


if __name__ == "__main__":
    main()
