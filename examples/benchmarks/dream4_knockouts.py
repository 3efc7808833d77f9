"""Predict DREAM4 knockouts from multifactorial + wildtype data (held-out validation).

For each DREAM4 size-100 network, fit the default model to the wildtype and multifactorial
tables only, then predict every single-gene knockout with ``Posterior.predict_knockout``:
the change of the knocked-out gene is its observed drop (log scale) in its knockout row,
and the prediction is compared with the observed changes of all other genes,
``log(x_ko + c) - log(x_wt + c)``. Prints, per network, the Pearson correlation of predicted
and observed changes for bayesgrn and for the correlation-based prediction
``dx_j = corr(i, j) * sd_j / sd_i * dx_i`` (on the same multifactorial data), and the coverage
of bayesgrn's 90% intervals -- of the mean change, and with each target's posterior noise
sd added (predictive: knockout and wildtype are single noisy measurements).

    python examples/benchmarks/dream4_knockouts.py --networks 1 2 3
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd

import bayesgrn as bg

DEFAULT_DATA = Path(__file__).resolve().parents[3] / "shared" / "data" / "dream4" / "size100"


def run_network(
    directory: Path,
    network: int,
    seed: int,
    steps: int | None,
    limit: int | None,
    model: str = "horseshoe",
):
    train = bg.read_dream4(directory, network, tables=("wildtype", "multifactorial"))
    full = bg.read_dream4(directory, network, tables=("wildtype", "knockouts"))
    start = time.perf_counter()
    post = bg.fit(train, model=model, seed=seed, num_steps=steps)
    seconds = time.perf_counter() - start
    genes = list(train.genes)
    wt = full.values[0]  # analysis (log) scale, same pseudocount rule
    mf = train.values[np.array([c == "multifactorial" for c in train.condition])]
    corr, sd = np.corrcoef(mf.T), mf.std(axis=0, ddof=1)
    noise = post.site_means["sigma"] * post.target_scale  # per-target noise sd, data units
    pred, by_corr, observed, covered, covered_pred = [], [], [], [], []
    for k, gene in enumerate(genes[:limit]):
        row = full.values[1 + k]
        change = row[k] - wt[k]
        table = (
            post.predict_knockout(gene, change)
            .set_index("gene")
            .loc[[g for g in genes if g != gene]]
        )
        obs = np.delete(row - wt, k)
        pred.append(table["mean"].to_numpy())
        by_corr.append(np.delete(corr[k] * sd / sd[k] * change, k))
        observed.append(obs)
        covered.append((table["ci_lower"] <= obs) & (obs <= table["ci_upper"]))
        half = 0.5 * (table["ci_upper"] - table["ci_lower"]).to_numpy()
        spread = np.sqrt(half**2 + (1.645 * np.sqrt(2.0) * np.delete(noise, k)) ** 2)
        covered_pred.append(np.abs(obs - table["mean"].to_numpy()) <= spread)
    pred, by_corr, observed = map(np.concatenate, (pred, by_corr, observed))
    return {
        "network": network,
        "model": model,
        "r_bayesgrn": round(float(np.corrcoef(pred, observed)[0, 1]), 3),
        "r_correlation": round(float(np.corrcoef(by_corr, observed)[0, 1]), 3),
        "cover90_mean": round(float(np.concatenate(covered).mean()), 3),
        "cover90_predictive": round(float(np.concatenate(covered_pred).mean()), 3),
        "fit_seconds": round(seconds, 1),
    }


def main(argv: list[str] | None = None) -> pd.DataFrame:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--networks", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--steps", type=int, default=None)
    parser.add_argument("--limit", type=int, default=None, help="only the first N knockouts")
    parser.add_argument(
        "--model", default="horseshoe", help="model spec to fit (e.g. sigmoid_horseshoe)"
    )
    args = parser.parse_args(argv)
    rows = [
        run_network(args.data, n, args.seed, args.steps, args.limit, args.model)
        for n in args.networks
    ]
    table = pd.DataFrame(rows)
    print(table.to_string(index=False))
    return table


if __name__ == "__main__":
    main()
