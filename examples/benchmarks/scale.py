"""Speed and scale: bayesgrn SVI vs GRNBoost2 on synthetic data of DREAM5 size and larger.

Cases (samples x genes x regulators, observational data from ``bayesgrn.simulate`` with
edges only out of the regulators):

* ``dream5``: 805 x 1,643 x 195 (DREAM5 network 1), with GRNBoost2 measured too;
* ``5k``: 2,000 x 5,000 x 1,600;
* ``20k``: 10,000 x 20,000 x 1,600 (GPU; 100 posterior draws).

Every measurement runs in a fresh subprocess so that peak memory (``ru_maxrss`` on the
CPU, ``torch.cuda.max_memory_allocated`` on a GPU) belongs to that run alone. The table
reports steps/s, seconds to convergence (the fit stops by the ELBO criterion of the spec),
peak memory, AUROC/AUPR against the simulated truth, and an *arithmetic floor*: the
matrix-multiply FLOPs of all steps (forward ``x_R W`` and its weight gradient, 4 n R G
per step) divided by the device's measured matmul rate.

GRNBoost2 (arboreto's per-target regressor, ``peers.grnboost2_scores``) takes tens of
minutes at DREAM5 size on two cores; ``--grnboost-targets K`` times it on K random targets
and extrapolates its seconds linearly to all targets (marked ``*``); its accuracy is then
scored on those K targets only, next to bayesgrn's on the same K targets.

    python examples/benchmarks/scale.py                       # dream5 on this machine
    python examples/benchmarks/scale.py --cases dream5 5k 20k --device cuda
    python examples/benchmarks/scale.py --grnboost-targets 0  # all 1,643 targets
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

CASES = {  # samples, genes, regulators, posterior draws
    "dream5": (805, 1643, 195, 1000),
    "5k": (2000, 5000, 1600, 200),
    "20k": (10_000, 20_000, 1600, 100),
}
SEED = 0


def simulate_case(case: str):
    import bayesgrn as bg

    n, g, r, _ = CASES[case]
    sim = bg.simulate(g, n, n_regulators=r, seed=SEED)
    regs = [f"G{i + 1}" for i in range(r)]
    return sim, sim.data.with_regulators(regs)


def matmul_rate(device: str, n: int, r: int, g: int) -> float:
    """Measured multiply-add rate (FLOP/s) of the fit's own matmul shape."""
    import torch

    a = torch.randn(n, r, device=device)
    b = torch.randn(r, g, device=device)
    for _ in range(3):
        a @ b
    reps = 10
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(reps):
        a @ b
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    return 2.0 * n * r * g * reps / (time.perf_counter() - start)


def worker_bayesgrn(case: str, device: str, steps: int | None, targets_k: int) -> dict:
    import torch

    import bayesgrn as bg
    from bayesgrn.metrics import evaluate

    start = time.perf_counter()
    sim, data = simulate_case(case)
    _phase("simulated", start)
    n, g, r, draws = CASES[case]
    start = time.perf_counter()
    post = bg.fit(
        data,
        seed=SEED,
        device=device,
        num_steps=steps,
        svi={"num_draws": draws},
    )
    fit_seconds = post.diagnostics["seconds"]
    steps_done = post.diagnostics["steps"]
    _phase(f"fitted ({steps_done} steps in {fit_seconds:.1f} s)", start)
    edges = post.edges()  # the per-edge summaries and table: part of the call a user makes
    seconds = time.perf_counter() - start
    _phase("summarised", start)
    scores = evaluate(edges, sim.gold)
    _phase("scored", start)
    subset = _subset_scores(edges, sim, targets_k)
    if device.startswith("cuda"):
        peak = torch.cuda.max_memory_allocated()
    else:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    rate = matmul_rate(str(post.device), n, r, g)
    floor = 4.0 * n * r * g * steps_done / rate
    return {
        "method": "bayesgrn SVI",
        "device": post.device,
        "steps": steps_done,
        "converged": post.diagnostics["converged"],
        "steps_per_s": steps_done / fit_seconds,
        "seconds": seconds,
        "peak": peak,
        "auroc": scores["auroc"],
        "aupr": scores["aupr"],
        "subset": subset,
        "floor": floor,
        "threads": torch.get_num_threads(),
    }


def _phase(what: str, start: float) -> None:
    """Progress on stderr (seconds since ``start``), so a run cut short shows how far it got."""
    print(f"  [{time.perf_counter() - start:7.1f} s] {what}", file=sys.stderr, flush=True)


def _subset_targets(sim, k: int) -> list[str]:
    genes = list(sim.data.genes)
    if k <= 0 or k >= len(genes):
        return genes
    rng = np.random.default_rng(SEED)
    return sorted(rng.choice(genes, size=k, replace=False).tolist())


def _subset_scores(edges, sim, k: int) -> dict:
    from bayesgrn.metrics import evaluate

    keep = set(_subset_targets(sim, k))
    sub_edges = edges[edges["target"].isin(keep)]
    gold = sim.gold[sim.gold["target"].isin(keep)]
    res = evaluate(sub_edges, gold)
    return {"auroc": res["auroc"], "aupr": res["aupr"]}


def worker_grnboost2(case: str, targets_k: int, n_jobs: int) -> dict:
    import pandas as pd

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from peers import grnboost2_scores

    sim, data = simulate_case(case)
    targets = _subset_targets(sim, targets_k)
    genes = list(data.genes)
    cols = [genes.index(t) for t in targets]
    regs = [genes.index(r) for r in data.regulators]
    x = data.values
    start = time.perf_counter()
    # fit only the chosen targets: pass the target columns plus the regulators' columns
    keep = sorted(set(cols) | set(regs))
    sub = x[:, keep]
    pos = {c: i for i, c in enumerate(keep)}
    scores = grnboost2_scores(sub, regulators=[pos[r] for r in regs], seed=SEED, n_jobs=n_jobs)
    seconds_fitted = time.perf_counter() - start
    # scores has a column for every kept gene; regulators not in the subset were fitted too
    fitted = len(keep)
    seconds = seconds_fitted * len(genes) / fitted
    rows = []
    for j, c in enumerate(keep):
        if genes[c] not in set(targets):
            continue
        for i, r in enumerate(regs):
            if r != c:
                rows.append((genes[r], genes[c], scores[i, j]))
    edges = pd.DataFrame(rows, columns=["regulator", "target", "score"])
    subset = _subset_scores(edges, sim, targets_k)
    return {
        "method": "GRNBoost2",
        "device": "cpu",
        "steps": None,
        "converged": None,
        "steps_per_s": None,
        "seconds": seconds,
        "extrapolated": fitted < len(genes),
        "fitted_targets": fitted,
        "peak": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
        "auroc": subset["auroc"],
        "aupr": subset["aupr"],
        "subset": subset,
        "floor": None,
        "threads": n_jobs,
    }


def run_worker(args: list[str], limit: float | None = None) -> dict | None:
    """Run one measurement in a fresh process; ``None`` when it outlasts ``limit`` seconds.

    The worker's progress lines pass through to this process's stderr as they come.
    """
    try:
        out = subprocess.run(
            [sys.executable, __file__, "--worker", *args],
            stdout=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONWARNINGS": "ignore"},
            timeout=limit,
        )
    except subprocess.TimeoutExpired:
        print(f"  worker {args[:2]} stopped after {limit:.0f} s (--case-limit)", file=sys.stderr)
        return None
    if out.returncode != 0:
        raise RuntimeError(f"worker {args} failed (its stderr is above)")
    return json.loads(out.stdout.strip().splitlines()[-1])


def fmt(value, spec: str, empty: str = "-") -> str:
    return empty if value is None else format(value, spec)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--cases", nargs="+", default=["dream5"], choices=[*sorted(CASES), "custom"]
    )
    parser.add_argument(
        "--custom",
        nargs=4,
        type=int,
        metavar=("N", "G", "R", "D"),
        help="the 'custom' case: samples, genes, regulators, posterior draws",
    )
    parser.add_argument("--device", default="auto")
    parser.add_argument("--steps", type=int, default=None, help="SVI step budget (spec's)")
    parser.add_argument(
        "--grnboost-targets",
        type=int,
        default=150,
        help="targets GRNBoost2 is timed on (0 = all; -1 = skip GRNBoost2)",
    )
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument(
        "--case-limit",
        type=float,
        default=None,
        metavar="SECONDS",
        help="stop a measurement after this long and go on with the next (default: none)",
    )
    parser.add_argument("--worker", nargs="+", help=argparse.SUPPRESS)
    parser.add_argument("--size", nargs=4, type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        kind, case, *rest = args.worker
        if args.size:
            CASES[case] = tuple(args.size)
        if kind == "bayesgrn":
            device, steps, k = rest
            res = worker_bayesgrn(case, device, None if steps == "None" else int(steps), int(k))
        else:
            k, jobs = rest
            res = worker_grnboost2(case, int(k), int(jobs))
        print(json.dumps(res))
        return
    if "custom" in args.cases:
        if not args.custom:
            parser.error("--cases custom needs --custom N G R D")
        CASES["custom"] = tuple(args.custom)
    header = (
        f"{'method':<14} {'data':<22} {'device':<7} {'steps':>6} {'steps/s':>8} "
        f"{'seconds':>9} {'floor s':>8} {'peak GiB':>9} {'AUROC':>6} {'AUPR':>6} "
        f"{'AUPR@K':>7}"
    )
    print(header)
    print("-" * len(header))
    for case in args.cases:
        n, g, r, _ = CASES[case]
        size = ["--size", str(n), str(g), str(r), str(CASES[case][3])]
        label = f"{n}x{g}x{r}"
        k = max(args.grnboost_targets, 0)
        worker = ["bayesgrn", case, args.device, str(args.steps), str(k), *size]
        res = [run_worker(worker, args.case_limit)]
        if case in ("dream5", "custom") and args.grnboost_targets >= 0:
            worker = ["grnboost2", case, str(k), str(args.jobs), *size]
            res.append(run_worker(worker, args.case_limit))
        for row in res:
            if row is None:
                print(f"{'(stopped)':<14} {label:<22} over --case-limit {args.case_limit:.0f} s")
                continue
            star = "*" if row.get("extrapolated") else ""
            whole = row["method"] != "GRNBoost2" or not row.get("extrapolated")
            print(
                f"{row['method']:<14} {label:<22} {row['device']:<7} "
                f"{fmt(row['steps'], 'd'):>6} {fmt(row['steps_per_s'], '.2f'):>8} "
                f"{row['seconds']:>8.1f}{star:1} {fmt(row['floor'], '.1f'):>8} "
                f"{row['peak'] / 2**30:>9.2f} "
                f"{fmt(row['auroc'] if whole else None, '.3f'):>6} "
                f"{fmt(row['aupr'] if whole else None, '.3f'):>6} "
                f"{row['subset']['aupr']:>7.3f}"
            )
    k = args.grnboost_targets
    print(
        f"\nAUPR@K: on the same {k if k > 0 else 'all'} targets for every method. "
        "* = GRNBoost2 timed on K targets (plus the regulators' own columns) and "
        "extrapolated linearly to all genes."
    )


if __name__ == "__main__":
    main()
