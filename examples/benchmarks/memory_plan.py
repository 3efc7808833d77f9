"""Planned vs measured peak memory of SVI and Gibbs fits (calibrates bayesgrn.memory).

Each case runs in a fresh subprocess (so peaks do not mix): simulate a problem of the given
shape, fit a few steps (memory does not grow with steps), build the edge table, and report
the process's peak resident set (ru_maxrss) next to ``plan.host_bytes``.

    python examples/benchmarks/memory_plan.py                 # the default cases
    python examples/benchmarks/memory_plan.py --case 805 1643 195 1000
    python examples/benchmarks/memory_plan.py --method gibbs   # the Gibbs sampler's cases
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import textwrap

CASES = {  # samples, genes, regulators, draws
    "svi": [(200, 100, 100, 1000), (805, 1643, 195, 1000), (2000, 4000, 400, 300)],
    "gibbs": [(200, 100, 100, 500), (300, 400, 400, 200), (500, 1000, 300, 100)],
}

CHILD = textwrap.dedent(
    """
    import json, resource, sys
    import numpy as np
    import bayesgrn as bg
    n, g, r, draws = map(int, sys.argv[1:5])
    method = sys.argv[5]
    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, g))
    data = bg.ExpressionData.from_array(x, regulators=[f"G{i + 1}" for i in range(r)])
    if method == "gibbs":
        post = bg.fit(data, method="gibbs", num_samples=draws, warmup_steps=5)
    else:
        post = bg.fit(data, num_steps=20, svi={"num_draws": draws, "min_steps": 0})
    post.edges()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps({"measured": peak, "planned": post.diagnostics["planned_peak_host_bytes"]}))
    """
)


def run_case(n: int, g: int, r: int, draws: int, method: str) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(n), str(g), str(r), str(draws), method],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--case", nargs=4, type=int, action="append", metavar=("N", "G", "R", "D"))
    parser.add_argument("--method", choices=tuple(CASES), default="svi")
    args = parser.parse_args(argv)
    cases = [tuple(c) for c in args.case] if args.case else CASES[args.method]
    head = ("samples", 8), ("genes", 6), ("regs", 5), ("draws", 6), ("planned", 10)
    print(" ".join(f"{h:>{w}}" for h, w in head), f"{'measured':>10} {'ratio':>6}")
    for n, g, r, draws in cases:
        res = run_case(n, g, r, draws, args.method)
        gib = 2**30
        print(
            f"{n:>8} {g:>6} {r:>5} {draws:>6} {res['planned'] / gib:>9.2f}G "
            f"{res['measured'] / gib:>9.2f}G {res['planned'] / res['measured']:>6.2f}"
        )


if __name__ == "__main__":
    main()
