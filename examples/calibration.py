"""Calibration report: do bayesgrn's intervals, p_edge and FDR control mean what they say?

For each simulator, fit the default model to ``--datasets`` simulated data sets and report

* coverage of the equal-tailed credible intervals at 50/80/90/95% (all pairs, and the
  pairs whose true weight exceeds the decision threshold δ in standardised units);
* reliability of ``p_edge = P(|W| > δ)``: 10 equal-width bins of predicted probability
  against the observed frequency of ``|W_true| > δ`` and the expected calibration error
  ECE = Σ_b (n_b / n) |mean p_edge_b − freq_b|, and the ECE against "an edge in either
  direction" (what observational data can tell: the direction needs interventions);
* the realised FDR of ``select(fdr=q)`` (false selections / selections, 0 when nothing is
  selected, averaged over data sets) for q in {0.05, 0.1, 0.2}.

Simulators:

``standardized``
    The model's own prior on its own (standardised) scale: ``W`` from the regularized
    horseshoe with the fit's ``tau0``, noise variances solved so every gene has unit
    variance (see :func:`simulate_standardized`); 100 observational samples plus one
    knockout per gene. This is the "data simulated from the model" check.
``prior``
    Networks drawn from the model's own prior (regularized horseshoe with the default
    ``p0 = 2`` expected edges per target, slab scale 1, df 4; per-gene noise sd from
    HalfNormal(1) floored at 0.2; rejection of draws with spectral radius ≥ 0.9),
    100 observational samples plus one knockout per gene. The fit standardises the data,
    so the truth is compared on the data scale (``scale="data"``) and δ is applied to
    ``W_true · sd_r / sd_j`` with the fit's own standardisation.
``offmodel``
    ``bayesgrn.simulate``: Poisson(1.5) in-degree, weights ±U(0.3, 0.8), unit noise, the same
    design -- exact zeros, which the horseshoe prior never produces.

``--nuts K`` adds SVI-vs-NUTS distances on K data sets of the ``--nuts-simulator``
(default ``prior``; NUTS is slow: minutes per 10-gene problem): median ratio of per-weight
posterior sds, fraction of pairs whose ``p_edge`` differs by less than 0.1, and the
correlation of the means. ``--nuts-chains C`` runs C chains per data set and pools them as the
reference; it then also prints how well chain 1 agrees with chain 2 -- the reference's own
noise, which no SVI fit can be expected to beat -- and both posteriors against the truth.
``--nuts-cache DIR`` keeps each NUTS chain there and reuses it, so that several SVI variants
can be compared with one NUTS run each.

``--exact K`` compares the same SVI fit with an *exact* reference that costs about a minute
where NUTS takes ten: on K data sets of the ``--nuts-simulator``, the exact Gibbs sampler
(``method="gibbs"``, two chains of 4,000 draws after 1,000 warm-up) samples the same model's
posterior, Jacobian term included, and both are also scored against the truth.
``--no-jacobian`` fits both without the Jacobian term (``likelihood.jacobian = "never"``:
each target's equation is a regression, knocked-out genes' equations cut; two chains of
2,000 draws after 500, the stop-23 reference).

Every summary comes with its sampling error over data sets (the independent units): mean ±
standard error for coverage and realised FDR, a set-bootstrap 90% interval for the ECE, and
the ECE that perfectly calibrated probabilities would show on the same pairs
(:func:`bayesgrn.calibration.calibration_error_floor`).

``--model`` picks a bundled spec, both the prior the ``standardized`` and ``prior``
simulators draw from and the model fitted; ``--guide``, ``--objective`` and ``--particles``
override its guide kind, SVI objective (``elbo`` or ``iw``) and particles per step.

    python examples/calibration.py --datasets 20 --genes 10
    python examples/calibration.py --datasets 3 --genes 10 --nuts 3
    python examples/calibration.py --simulators standardized --datasets 0 --nuts 6 \
        --nuts-chains 2 --nuts-simulator standardized --nuts-cache nuts/ --guide conjugate
    python examples/calibration.py --datasets 0 --exact 24 --nuts-simulator offmodel
"""

from __future__ import annotations

import argparse
import dataclasses
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

import bayesgrn as bg
from bayesgrn.calibration import calibration_error_floor, reliability_table
from bayesgrn.infer.convergence import split_rhat
from bayesgrn.simulate import knockout_mask, steady_states
from bayesgrn.stability import unstable_fraction

LEVELS = (0.5, 0.8, 0.9, 0.95)
FDR_LEVELS = (0.05, 0.1, 0.2)
BOOTSTRAP = 1000  # resamples of the data sets behind each interval
EXACT_DRAWS = 4000  # draws of each Gibbs chain behind --exact, after a quarter as many warm-up
EXACT_DRAWS_NO_JACOBIAN = 2000  # the same with --no-jacobian (independent regressions)
#: an exact reference's two chains count as agreeing when p_edge is within 0.1 on this share
CHAINS_AGREE = 0.95
RHAT_MIXED = 1.1  # a NUTS reference counts as mixed when every weight's split R-hat is below


def mean_se(values: list[float]) -> str:
    """``mean ± standard error`` over data sets (the sets are the independent units)."""
    v = np.asarray(values, dtype=np.float64)
    v = v[np.isfinite(v)]
    se = v.std(ddof=1) / np.sqrt(v.size) if v.size > 1 else np.nan
    return f"{v.mean():.3f} ± {se:.3f}"


def ece_over_sets(results: list[dict], index: np.ndarray) -> float:
    p = np.concatenate([results[i]["p_edge"] for i in index])
    truth = np.concatenate([results[i]["truth"] for i in index])
    return reliability_table(p, truth).attrs["ece"]


def ece_interval(results: list[dict], seed: int = 0) -> tuple[float, float]:
    """90% percentile interval of the ECE, resampling whole data sets."""
    rng = np.random.default_rng(seed)
    n = len(results)
    eces = [ece_over_sets(results, rng.integers(0, n, n)) for _ in range(BOOTSTRAP)]
    lo, hi = np.quantile(eces, [0.05, 0.95])
    return float(lo), float(hi)


def prior_network(
    n_genes: int, n_obs: int, rng: np.random.Generator, model: str = "horseshoe"
) -> np.ndarray:
    """Draw a stable ``W`` from the regularized-horseshoe prior of the spec ``model``.

    With ``prior.regulator_scale`` each regulator's local scales are multiplied by its own
    ``kappa_r ~ C+(0, 1)``, as in the model.
    """
    spec = bg.load_spec(model).prior
    d = n_genes - 1
    p0 = min(spec.expected_edges_per_target, 0.5 * d)
    tau0 = p0 / (d - p0) / np.sqrt(n_obs)
    half_df = 0.5 * spec.slab_df
    for _ in range(1000):
        tau = tau0 * np.abs(rng.standard_cauchy(n_genes))
        lam = np.abs(rng.standard_cauchy((n_genes, n_genes)))
        if spec.regulator_scale:
            lam = lam * np.abs(rng.standard_cauchy((n_genes, 1)))  # kappa_r, row r
        c2 = 1.0 / rng.gamma(half_df, 1.0 / (half_df * spec.slab_scale**2), size=n_genes)
        lam_t = np.sqrt(c2 * lam**2 / (c2 + tau**2 * lam**2))
        w = rng.standard_normal((n_genes, n_genes)) * tau * lam_t
        np.fill_diagonal(w, 0.0)
        if np.max(np.abs(np.linalg.eigvals(w))) < 0.9:
            return w
    raise RuntimeError("no stable prior draw in 1000 tries")


def steady_state_data(
    w: np.ndarray,
    intercept: np.ndarray,
    noise_sd: np.ndarray,
    n_obs: int,
    knockouts: bool,
    rng: np.random.Generator,
) -> bg.ExpressionData:
    """``n_obs`` observational steady states of ``w``, then one knockout per gene if asked."""
    n_genes = w.shape[0]
    knocked = [None] * n_obs + (list(range(n_genes)) if knockouts else [])
    noise = rng.standard_normal((len(knocked), n_genes)) * noise_sd
    x = steady_states(w, intercept, noise, knocked)
    return bg.ExpressionData.from_array(x, perturbed=knockout_mask(knocked, n_genes))


def simulate_prior(
    n_genes: int, n_obs: int, seed: int, knockouts: bool = True, model: str = "horseshoe"
) -> tuple[bg.ExpressionData, np.ndarray]:
    rng = np.random.default_rng(seed)
    w = prior_network(n_genes, n_obs, rng, model)
    sigma = np.maximum(np.abs(rng.standard_normal(n_genes)), 0.2)
    intercept = 3.0 + rng.standard_normal(n_genes)
    return steady_state_data(w, intercept, sigma, n_obs, knockouts, rng), w


def simulate_standardized(
    n_genes: int, n_obs: int, seed: int, knockouts: bool = True, model: str = "horseshoe"
) -> tuple[bg.ExpressionData, np.ndarray]:
    """Draw ``W`` from the prior *on the model's standardised scale* and simulate to match.

    The model puts its prior on the weights between standardised genes. Here every gene's
    noise variance is solved so that its observational steady state has unit variance,
    ``Var(x_j) = sum_k A_kj^2 s_k^2 = 1`` with ``A = (I - W)^-1``, so the fit's empirical
    standardisation is the identity up to sampling noise and the simulated ``W`` is the
    standardised one. ``tau0`` uses the model's ``n_j`` (unperturbed samples of a target).
    Draws are rejected when the spectral radius is >= 0.9 or a gene's noise would explain
    less than 5% of its variance (conditioning the prior on a stable, noisy network). Means
    are 3 (sd units), knockouts set a gene to 0.
    """
    rng = np.random.default_rng(seed)
    for _ in range(1000):
        w = prior_network(n_genes, n_obs + (n_genes - 1 if knockouts else 0), rng, model)
        a = np.linalg.inv(np.eye(n_genes) - w)
        noise_var = np.linalg.solve((a * a).T, np.ones(n_genes))
        if (noise_var >= 0.05).all():
            break
    else:
        raise RuntimeError("no prior draw with positive noise variances in 1000 tries")
    intercept = 3.0 * (np.eye(n_genes) - w).sum(axis=0)  # E[x] = intercept A = 3
    return steady_state_data(w, intercept, np.sqrt(noise_var), n_obs, knockouts, rng), w


def simulate_offmodel(
    n_genes: int, n_obs: int, seed: int, knockouts: bool = True, model: str = "horseshoe"
) -> tuple[bg.ExpressionData, np.ndarray]:
    """``bayesgrn.simulate`` (its network does not depend on ``model``)."""
    sim = bg.simulate(n_genes, n_obs, knockouts="all" if knockouts else 0, seed=seed)
    return sim.data, sim.weights.to_numpy()


SIMULATORS = {
    "standardized": simulate_standardized,
    "prior": simulate_prior,
    "offmodel": simulate_offmodel,
}


def truth_standardized(data: bg.ExpressionData, w: np.ndarray) -> np.ndarray:
    return w * data.scale[:, None] / data.scale[None, :]


def assess(post: bg.Posterior, data: bg.ExpressionData, w: np.ndarray) -> dict:
    delta = post.edge_threshold
    mask = post.allowed
    w_std = truth_standardized(data, w)
    real = np.abs(w_std) > delta
    out: dict = {}
    draws = post.draws("data")
    for level in LEVELS:
        lo, hi = np.quantile(draws, [(1 - level) / 2, (1 + level) / 2], axis=0)
        inside = (w >= lo) & (w <= hi)
        out[f"cover{int(level * 100)}"] = inside[mask].mean()
        out[f"cover{int(level * 100)}_real"] = inside[mask & real].mean() if real.any() else np.nan
    p_edge = post.matrix("p_edge").to_numpy()[mask]
    truth = real[mask]
    out["p_edge"], out["truth"] = p_edge, truth
    out["truth_either"] = (real | real.T)[mask]  # an edge in either direction
    edges = post.edges()
    names = {g: i for i, g in enumerate(post.targets)}
    for q in FDR_LEVELS:
        chosen = post.select(fdr=q)
        if len(chosen) == 0:
            out[f"fdp{q}"], out[f"n_sel{q}"] = 0.0, 0
            continue
        r = chosen["regulator"].map(names).to_numpy()
        t = chosen["target"].map(names).to_numpy()
        out[f"fdp{q}"] = float((~real[r, t]).mean())
        out[f"n_sel{q}"] = len(chosen)
    out["n_real"] = int(truth.sum())
    out["n_edges_table"] = len(edges)
    return out


def run_simulator(name: str, args: argparse.Namespace) -> None:
    results = []
    start = time.perf_counter()
    for k in range(args.datasets):
        data, w = SIMULATORS[name](
            args.genes, args.samples, args.seed + k, args.knockouts, args.model
        )
        post = bg.fit(
            data, model=args.model, seed=k, num_steps=args.steps, psis_draws=0, **guide_kw(args)
        )
        results.append(assess(post, data, w))
    seconds = time.perf_counter() - start
    p = np.concatenate([r["p_edge"] for r in results])
    truth = np.concatenate([r["truth"] for r in results])
    reliability = reliability_table(p, truth)
    err = reliability.attrs["ece"]
    print(
        f"\n== {name}, {args.model}{guide_label(args)}: {args.datasets} data sets, "
        f"{args.genes} genes, "
        f"{args.samples} observational samples{' + 1 knockout per gene' * args.knockouts}, "
        f"{seconds:.0f} s =="
    )
    cover = "  ".join(
        f"{int(lv * 100)}%: {np.mean([r[f'cover{int(lv * 100)}'] for r in results]):.3f}"
        for lv in LEVELS
    )
    cover_real = "  ".join(
        f"{int(lv * 100)}%: {np.nanmean([r[f'cover{int(lv * 100)}_real'] for r in results]):.3f}"
        for lv in LEVELS
    )
    print(f"interval coverage, all pairs        {cover}")
    print(f"interval coverage, |W_std| > delta  {cover_real}")
    print(f"90% coverage over data sets (mean ± SE): {mean_se([r['cover90'] for r in results])}")
    print(f"p_edge ECE (10 bins): {err:.3f}   (pairs: {p.size}, real edges: {int(truth.sum())})")
    if len(results) > 1:
        lo, hi = ece_interval(results)
        floor = calibration_error_floor(p)
        print(
            f"  90% interval over data sets [{lo:.3f}, {hi:.3f}]; ECE of perfectly calibrated "
            f"probabilities on these pairs: {floor.mean():.3f} (95% quantile "
            f"{np.quantile(floor, 0.95):.3f})"
        )
    either = np.concatenate([r["truth_either"] for r in results])
    print(
        "p_edge ECE against 'an edge in either direction': "
        f"{reliability_table(p, either).attrs['ece']:.3f}"
    )
    print(f"  {'bin':<11} {'n':>6} {'mean p_edge':>12} {'observed':>9}")
    for row in reliability[reliability["n"] > 0].itertuples():
        print(
            f"  [{row.bin_lower:.1f}, {row.bin_upper:.1f})  {row.n:>6} "
            f"{row.mean_p_edge:>12.3f} {row.observed:>9.3f}"
        )
    for q in FDR_LEVELS:
        fdr = mean_se([r[f"fdp{q}"] for r in results])
        n_sel = np.mean([r[f"n_sel{q}"] for r in results])
        print(f"select(fdr={q}): realised FDR {fdr} (SE), mean selected {n_sel:.1f}")


def guide_kw(args: argparse.Namespace) -> dict:
    """``fit`` keywords overriding the spec's guide kind and SVI objective, where given."""
    out: dict = {"guide": {"kind": args.guide}} if args.guide else {}
    svi = {"objective": args.objective, "num_particles": args.particles}
    svi = {k: v for k, v in svi.items() if v is not None}
    return {**out, "svi": svi} if svi else out


def guide_label(args: argparse.Namespace) -> str:
    parts = [
        f"guide {args.guide}" if args.guide else "",
        f"objective {args.objective}" if args.objective else "",
        f"{args.particles} particles" if args.particles else "",
    ]
    return "".join(f", {p}" for p in parts if p)


def nuts_posterior(
    data: bg.ExpressionData, k: int, args: argparse.Namespace, chain: int = 0
) -> bg.Posterior:
    """One NUTS chain on one data set, read from ``--nuts-cache`` when saved there before.

    Chain ``c`` runs with seed ``k + 100 c``. The cache name ends in ``_w0``: chains started
    at ``W = 0`` (since stop 19); chains cached before started at random points and some sit
    in unstable modes (docs/calibration.md).
    """
    suffix = f"_m{args.nuts_samples}{f'_c{chain}' if chain else ''}_w0.npz"
    return cached_chain(
        args,
        f"nuts{set_label(args, k)}{suffix}",
        lambda: bg.fit(
            data,
            model=args.model,
            method="nuts",
            seed=k + 100 * chain,
            num_samples=args.nuts_samples,
            warmup_steps=args.nuts_samples,
        ),
    )


def set_label(args: argparse.Namespace, k: int) -> str:
    """The part of a cache name that names data set ``k`` of the reference simulator."""
    return (
        f"_{args.nuts_simulator}_{Path(args.model).stem}_g{args.genes}_n{args.samples}"
        f"_ko{int(args.knockouts)}_s{args.seed + 1000 + k}"
    )


def cached_chain(
    args: argparse.Namespace, name: str, run: Callable[[], bg.Posterior]
) -> bg.Posterior:
    """``run()``, read from ``--nuts-cache``/``name`` when saved there before, else saved."""
    cache = Path(args.nuts_cache) / name if args.nuts_cache else None
    if cache is not None and cache.is_file():
        return bg.Posterior.load(cache)
    post = run()
    if cache is not None:
        post.save(cache)
    return post


def agreement(a: bg.Posterior, b: bg.Posterior) -> tuple[float, float, float]:
    """Median sd ratio a/b, share of pairs with ``|p_edge|`` within 0.1, corr of the means."""
    mask = a.allowed
    sd_ratio = a.matrix("sd").to_numpy()[mask] / b.matrix("sd").to_numpy()[mask]
    dp = np.abs(a.matrix("p_edge").to_numpy() - b.matrix("p_edge").to_numpy())[mask]
    corr = np.corrcoef(a.matrix("mean").to_numpy()[mask], b.matrix("mean").to_numpy()[mask])
    return float(np.median(sd_ratio)), float(np.mean(dp < 0.1)), float(corr[0, 1])


def pooled(runs: list[bg.Posterior]) -> bg.Posterior:
    """One posterior holding the draws of every chain (the reference of a comparison)."""
    return runs[0].replace(w_draws=np.concatenate([r.w_draws for r in runs]))


def unstable_share(runs: list[bg.Posterior]) -> float:
    """Largest share of draws without a stable steady state over the chains of one set."""
    shares = []
    for run in runs:
        index = np.array([run.targets.index(g) for g in run.regulators])
        share = unstable_fraction(run.w_draws, index, len(run.targets), run.n_draws)
        shares.append(np.nan if share is None else share)
    return float(np.max(shares))


def print_against_truth(results: dict[str, list[dict]]) -> None:
    """90% coverage and realised FDR at q = 0.1 of each method, mean ± SE over data sets."""
    for label, res in results.items():
        print(
            f"{label:>5} against the truth: 90% coverage {mean_se([r['cover90'] for r in res])}, "
            f"realised FDR at q=0.1 {mean_se([r['fdp0.1'] for r in res])}"
        )


def run_nuts(args: argparse.Namespace) -> None:
    chains = args.nuts_chains
    print(
        f"\n== SVI{guide_label(args)} vs NUTS ({chains} chain(s) of {args.nuts_samples} pooled): "
        f"{args.nuts} {args.nuts_simulator} data sets, {args.genes} genes =="
    )
    print(
        f"{'set':>4} {'sd ratio (median)':>18} {'|dp_edge|<0.1':>14} {'corr(mean)':>11} "
        f"{'svi s':>7} {'nuts s':>7}"
        + f" {'unstable':>9}"
        + ("   NUTS chain 1 vs 2: sd ratio, |dp|<0.1, max R-hat" * (chains > 1))
    )
    simulator = SIMULATORS[args.nuts_simulator]
    rows, chain_rows, svi_truth, nuts_truth = [], [], [], []
    for k in range(args.nuts):
        data, w = simulator(
            args.genes, args.samples, args.seed + 1000 + k, args.knockouts, args.model
        )
        t0 = time.perf_counter()
        svi = bg.fit(
            data, model=args.model, seed=k, num_steps=args.steps, psis_draws=0, **guide_kw(args)
        )
        t1 = time.perf_counter()
        runs = [nuts_posterior(data, k, args, chain) for chain in range(chains)]
        t2 = time.perf_counter()
        nuts = pooled(runs)
        rows.append(agreement(svi, nuts))
        svi_truth.append(assess(svi, data, w))
        nuts_truth.append(assess(nuts, data, w))
        line = (
            f"{k:>4} {rows[-1][0]:>18.3f} {rows[-1][1]:>14.3f} {rows[-1][2]:>11.3f} "
            f"{t1 - t0:>7.0f} {t2 - t1:>7.0f} {unstable_share(runs):>9.2f}"
        )
        if chains > 1:
            rhat = float(np.nanmax(split_rhat(np.stack([r.w_draws for r in runs]))))
            chain_rows.append((*agreement(runs[0], runs[1]), rhat))
            line += f"   {chain_rows[-1][0]:>8.3f} {chain_rows[-1][1]:>8.3f} {rhat:>10.2f}"
        print(line)
    sd, close, _ = np.array(rows).T
    print(
        f"SVI vs NUTS: median over sets of the median sd ratio {np.median(sd):.2f}; "
        f"p_edge within 0.1 for a share {mean_se(close)} of pairs (mean ± SE over sets)"
    )
    if chain_rows:
        csd, cclose, _, rhat = np.array(chain_rows).T
        print(
            f"NUTS chain 1 vs chain 2 (the reference's own Monte Carlo noise): sd ratio "
            f"{np.median(csd):.2f}, p_edge within 0.1 for {np.mean(cclose):.1%} of pairs"
        )
        mixed = rhat < RHAT_MIXED
        if mixed.any():
            print(
                f"on the {int(mixed.sum())} set(s) whose chains mixed (every split R-hat < "
                f"{RHAT_MIXED}): SVI sd ratio {np.median(sd[mixed]):.2f}, p_edge within 0.1 for "
                f"a share {mean_se(close[mixed])} of pairs; chain vs chain "
                f"{np.mean(cclose[mixed]):.1%}"
            )
    print_against_truth({"SVI": svi_truth, "NUTS": nuts_truth})


def exact_draws(args: argparse.Namespace) -> int:
    """Draws per Gibbs chain behind ``--exact`` (warm-up: a quarter as many)."""
    return args.exact_draws or (EXACT_DRAWS_NO_JACOBIAN if args.no_jacobian else EXACT_DRAWS)


def exact_posterior(
    data: bg.ExpressionData, k: int, args: argparse.Namespace, spec: bg.ModelSpec, chain: int
) -> bg.Posterior:
    """One Gibbs chain on one data set (seed ``k + 100 chain``), cached like NUTS chains."""
    draws = exact_draws(args)
    suffix = f"_m{draws}{'_nojac' if args.no_jacobian else ''}_c{chain}.npz"
    return cached_chain(
        args,
        f"gibbs{set_label(args, k)}{suffix}",
        lambda: bg.fit(
            data,
            model=spec,
            method="gibbs",
            seed=k + 100 * chain,
            num_samples=draws,
            warmup_steps=draws // 4,
        ),
    )


def run_exact(args: argparse.Namespace) -> None:
    """SVI against two pooled chains of the exact Gibbs sampler on the same model."""
    spec = bg.load_spec(args.model)
    if args.no_jacobian:
        spec = dataclasses.replace(spec, jacobian="never")
    draws = exact_draws(args)
    print(
        f"\n== SVI{guide_label(args)} vs the exact Gibbs sampler (2 chains of {draws} pooled; "
        f"likelihood.jacobian = {spec.jacobian}): {args.exact} {args.nuts_simulator} data "
        f"sets, {args.genes} genes =="
    )
    print(
        f"{'set':>4} {'sd ratio (median)':>18} {'|dp_edge|<0.1':>14} {'corr(mean)':>11} "
        f"{'svi s':>7} {'gibbs s':>8}   Gibbs chain 1 vs 2: sd ratio, |dp|<0.1"
    )
    simulator = SIMULATORS[args.nuts_simulator]
    rows, chain_rows, svi_truth, exact_truth = [], [], [], []
    for k in range(args.exact):
        data, w = simulator(
            args.genes, args.samples, args.seed + 1000 + k, args.knockouts, args.model
        )
        t0 = time.perf_counter()
        svi = bg.fit(
            data, model=spec, seed=k, num_steps=args.steps, psis_draws=0, **guide_kw(args)
        )
        t1 = time.perf_counter()
        runs = [exact_posterior(data, k, args, spec, chain) for chain in range(2)]
        t2 = time.perf_counter()
        exact = pooled(runs)
        rows.append(agreement(svi, exact))
        chain_rows.append(agreement(runs[0], runs[1]))
        svi_truth.append(assess(svi, data, w))
        exact_truth.append(assess(exact, data, w))
        (sd, close, corr), (chain_sd, chain_close, _) = rows[-1], chain_rows[-1]
        print(
            f"{k:>4} {sd:>18.3f} {close:>14.3f} {corr:>11.3f} {t1 - t0:>7.0f} {t2 - t1:>8.0f}"
            f"   {chain_sd:>8.3f} {chain_close:>8.3f}"
        )
    sd, close, _ = np.array(rows).T
    csd, cclose, _ = np.array(chain_rows).T
    print(
        f"SVI vs Gibbs: median over sets of the median sd ratio {np.median(sd):.2f}; "
        f"p_edge within 0.1 for a share {mean_se(close)} of pairs (mean ± SE over sets); "
        f"Gibbs chain vs chain: sd ratio {np.median(csd):.2f}, {np.mean(cclose):.1%}"
    )
    agree = cclose >= CHAINS_AGREE
    if agree.any() and not agree.all():
        print(
            f"on the {int(agree.sum())} set(s) whose Gibbs chains agree on >= "
            f"{CHAINS_AGREE:.0%} of pairs: SVI sd ratio {np.median(sd[agree]):.2f}, p_edge "
            f"within 0.1 for a share {mean_se(close[agree])} of pairs"
        )
    print_against_truth({"SVI": svi_truth, "Gibbs": exact_truth})


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", type=int, default=20)
    parser.add_argument("--genes", type=int, default=10)
    parser.add_argument("--samples", type=int, default=100, help="observational samples")
    parser.add_argument("--steps", type=int, default=None, help="SVI steps (spec default)")
    parser.add_argument("--simulators", nargs="+", default=list(SIMULATORS), choices=SIMULATORS)
    parser.add_argument("--nuts", type=int, default=0, help="data sets for SVI vs NUTS")
    parser.add_argument("--nuts-samples", type=int, default=500)
    parser.add_argument(
        "--nuts-chains",
        type=int,
        default=1,
        help="NUTS chains per data set, pooled (seeds k + 100 c)",
    )
    parser.add_argument(
        "--nuts-simulator",
        default="prior",
        choices=SIMULATORS,
        help="data sets for --nuts and --exact",
    )
    parser.add_argument(
        "--nuts-cache", default=None, help="folder to keep NUTS posteriors in (reused if present)"
    )
    parser.add_argument(
        "--exact",
        type=int,
        default=0,
        help="data sets for SVI vs the exact Gibbs sampler on the same model",
    )
    parser.add_argument(
        "--exact-draws",
        type=int,
        default=0,
        help=f"draws per Gibbs chain for --exact (default {EXACT_DRAWS}; "
        f"{EXACT_DRAWS_NO_JACOBIAN} with --no-jacobian)",
    )
    parser.add_argument(
        "--no-jacobian",
        action="store_true",
        help="--exact on the model without the Jacobian term (likelihood.jacobian = never)",
    )
    parser.add_argument("--guide", default=None, help="override the spec's guide kind")
    parser.add_argument("--objective", default=None, choices=("elbo", "iw"), help="SVI objective")
    parser.add_argument("--particles", type=int, default=None, help="SVI particles per step")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--model", default="horseshoe", help="bundled spec name or TOML path")
    parser.add_argument(
        "--no-knockouts",
        dest="knockouts",
        action="store_false",
        help="observational samples only (default: plus one knockout per gene)",
    )
    args = parser.parse_args(argv)
    for name in args.simulators if args.datasets > 0 else ():
        run_simulator(name, args)
    if args.nuts:
        run_nuts(args)
    if args.exact:
        run_exact(args)


if __name__ == "__main__":
    main()
