"""The one entry point: ``bayesgrn.fit(data, ...) -> Posterior``."""

from __future__ import annotations

import dataclasses
import logging
import os
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyro
import torch

from bayesgrn._torch import (
    auto_threads,
    isolated_param_store,
    resolve_device,
    seeded,
    torch_threads,
)
from bayesgrn.canonical import CanonicalOrder, canonicalize
from bayesgrn.data import BayesGRNInputError, ExpressionData
from bayesgrn.guide import resolve_noise
from bayesgrn.infer import METHODS
from bayesgrn.infer.checkpoint import CheckpointConfig
from bayesgrn.infer.control import stop_on_signals
from bayesgrn.infer.convergence import RHAT_WARN
from bayesgrn.infer.objective import resolve_particles
from bayesgrn.infer.psis import KHAT_THRESHOLD
from bayesgrn.inputs import build_inputs, clamped_regulators, use_jacobian
from bayesgrn.knowledge import EdgeSource
from bayesgrn.memory import check_memory, parse_bytes, plan_memory
from bayesgrn.posterior import Posterior
from bayesgrn.spec import ModelSpec, load_spec
from bayesgrn.stability import UNSTABLE_WARN, unstable_fraction

logger = logging.getLogger(__name__)

DTYPES = {"float32": torch.float32, "float64": torch.float64}

#: an SVI fit of fewer genes than this warns that NUTS is affordable and SVI measured
#: over-confident there: on 5-gene networks the default's posterior sds were 0.80x NUTS's and
#: its p_edge within 0.1 of NUTS's for 77.5% of pairs; 0.90x and 92.5% at 7 genes; 0.92x and
#: 90.3% at 10 genes (docs/calibration.md, stop 22); NUTS takes about 2-4 minutes a chain there
SMALL_NETWORK_GENES = 10
#: what the warning and the report say was measured (SMALL_NETWORK_GENES)
SMALL_NETWORK_MEASURED = (
    "5 genes: posterior sds 0.80x NUTS's, p_edge within 0.1 of NUTS's for 77.5% of pairs"
)


def fit(
    data: ExpressionData | pd.DataFrame | np.ndarray,
    *,
    model: str | os.PathLike[str] | ModelSpec = "horseshoe",
    method: str = "svi",
    seed: int = 0,
    device: str = "auto",
    prior: Mapping[str, Any] | None = None,
    guide: Mapping[str, Any] | None = None,
    svi: Mapping[str, Any] | None = None,
    num_steps: int | None = None,
    subsample_size: int | None = None,
    num_samples: int = 500,
    warmup_steps: int = 500,
    num_chains: int = 1,
    dtype: str = "float32",
    num_threads: int | None = None,
    known_edges: EdgeSource | None = None,
    forbidden_edges: EdgeSource | None = None,
    progress: bool = False,
    checkpoint: str | os.PathLike[str] | None = None,
    checkpoint_every: int = 100,
    resume: bool = False,
    handle_signals: bool = False,
    max_memory: int | str | None = None,
    targets: Sequence[str] | None = None,
    psis_draws: int = 200,
    heldout: ExpressionData | pd.DataFrame | np.ndarray | None = None,
    heldout_draws: int = 200,
) -> Posterior:
    r"""Fit the network posterior.

    Parameters
    ----------
    data
        An :class:`ExpressionData` (see :func:`bayesgrn.read_expression`), or a samples x genes
        DataFrame/array (validated with default options).
    model
        A bundled spec name (``"horseshoe"``), a path to a TOML spec, or a :class:`ModelSpec`.
    method
        ``"svi"`` (default), ``"nuts"`` (small problems; reference posterior) or ``"gibbs"``
        (exact Markov chain sampling of the Gaussian family, with or without the Jacobian
        term, up to a few hundred regulators; see :mod:`bayesgrn.infer.gibbs`). An SVI fit
        of fewer than :data:`SMALL_NETWORK_GENES` genes warns that SVI was measured
        over-confident there (``diagnostics["small_network"]``).
    seed
        Seeds everything random in the fit; the caller's global RNG is left untouched.
    device
        ``"auto"`` (CUDA when available), ``"cpu"`` or ``"cuda"``.
    prior, guide, svi
        Overrides of the spec's sections, e.g. ``prior={"slab_scale": 2.0}``.
    num_steps
        Maximum SVI steps (overrides ``svi.num_steps``).
    subsample_size
        Minibatch size over samples for SVI (likelihood rescaled by Pyro's plate).
    num_samples, warmup_steps
        NUTS or Gibbs draws and warm-up iterations (per chain).
    num_chains
        NUTS or Gibbs chains, run one after another and pooled (``num_chains * num_samples``
        draws).
        With two or more, the split-:math:`\hat R` of every weight is computed and a
        warning names the weights whose chains disagree (``diagnostics["rhat_max"]``,
        ``"rhat_n_above"``, ``"rhat_worst"``); on multimodal horseshoe posteriors one chain
        can look converged while missing a mode. Every linear-Gaussian fit of up to 200
        genes also records the share of draws whose network has no stable steady state
        (``diagnostics["unstable_fraction"]``, :mod:`bayesgrn.stability`), with a warning
        above 10%.
    dtype
        ``"float32"`` (default) or ``"float64"``.
    num_threads
        CPU threads for torch inside the fit (restored afterwards); default: 1 for small
        problems, where threads only add overhead, else torch's current setting.
    known_edges
        Known or suspected edges with a confidence in (0, 1] (DataFrame or file with
        ``regulator, target, confidence``): their local prior scale is raised, see
        :mod:`bayesgrn.knowledge`.
    forbidden_edges
        Edges excluded from the model (``regulator, target`` pairs, DataFrame or file).
    progress
        Show a tqdm progress bar.
    checkpoint
        SVI only: file to save the optimisation state to every ``checkpoint_every`` steps
        (and when interrupted), written atomically. It is left in place after the fit.
    checkpoint_every
        Steps between checkpoints, also the in-memory recovery point used when the loss
        turns non-finite (``0``: save only when interrupted).
    resume
        Continue from ``checkpoint`` (which must exist and belong to the same data,
        spec, seed, step budget, dtype and device type); the result equals that of an
        uninterrupted fit on the same device.
    targets
        Fit only these genes' equations (every regulator still predicts them); the
        posterior's targets are these genes, in the data's gene order. The likelihood
        factorises over targets (the Jacobian term, used with clamped regulators, involves
        the regulators' own equations together), so fits of disjoint target sets combine
        into the full posterior -- :func:`bayesgrn.distributed.fit_sharded` does this --
        except for ``prior.regulator_scale`` (the default): each regulator's scale is then
        estimated from these targets alone, an approximation to the full fit that improves
        as the target sets grow (``prior={"regulator_scale": False}`` keeps it exact).
    psis_draws
        SVI: guide draws for the Pareto-k-hat check of the fit (Yao et al. 2018; see
        :mod:`bayesgrn.infer.psis`), reported in ``diagnostics`` jointly and per target,
        with a logged warning for targets whose k-hat exceeds 0.7. ``0`` skips it; it is
        skipped for minibatched fits.
    heldout
        SVI: held-out samples to score after the fit (same genes, regulators, transform
        and conditions as ``data``). They are put on the training scale (standardised with
        the training data's center/scale, see :func:`bayesgrn.inputs.align_to_reference`)
        and their log pointwise predictive density over ``heldout_draws`` guide draws is
        stored in ``diagnostics["heldout"]``: ``elpd`` (the sum), ``pointwise`` (one value
        per held-out sample, in ``heldout``'s sample order, with ``samples`` naming them) and
        ``draws``. The score is the product of the per-target conditional densities of the
        structural equations, without the Jacobian term, so families are scored alike (see
        :mod:`bayesgrn.predictive`). It does not change the fit's draws.
    heldout_draws
        Guide draws ``S`` for the held-out score.
    max_memory
        Memory budget for the fit's planned peak (bytes or ``"4G"``-style text). The plan
        (:func:`bayesgrn.memory.plan_memory`) is always checked before the fit starts,
        by default against 85% of the free memory of the host and device.
    handle_signals
        Catch SIGINT/SIGTERM (main thread only) and stop at the end of the current step,
        saving ``checkpoint``, then raise :class:`~bayesgrn.errors.FitInterrupted`.

    Returns
    -------
    Posterior
        Immutable posterior over ``W[regulator, target]``.

    Notes
    -----
    The fit runs on the data in a canonical order (genes by name, samples by content; see
    :mod:`bayesgrn.canonical`), so permuting a table's genes or samples gives the same
    posterior for the same seed. The seed makes a fit repeatable on the same device, torch
    version and thread count; CPU and GPU (or different GPUs) give draws that agree only
    within Monte-Carlo and SVI noise.

    Raises
    ------
    BayesGRNInputError
        Invalid data or options.
    FitInterrupted
        ``handle_signals`` and a SIGINT/SIGTERM arrived.
    FitDivergedError
        Non-finite values persisted after ``svi.max_restarts`` restarts.
    CheckpointError
        ``resume`` with a missing, corrupt or foreign checkpoint.
    ResourceError
        The memory plan exceeds the budget (the message lists the plan and the options).
    """
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; choose one of {', '.join(METHODS)}")
    if dtype not in DTYPES:
        raise ValueError(f"unknown dtype {dtype!r}; choose one of {', '.join(DTYPES)}")
    if not isinstance(data, ExpressionData):
        data = ExpressionData.from_array(data)
    overrides = {k: dict(v) for k, v in (("prior", prior), ("guide", guide), ("svi", svi)) if v}
    spec = load_spec(model).with_overrides(overrides)
    if num_steps is not None and num_steps < 1:
        raise ValueError(f"num_steps must be >= 1, got {num_steps}")
    if subsample_size is not None and not 1 <= subsample_size <= data.n_samples:
        raise ValueError(
            f"subsample_size must be between 1 and the number of samples ({data.n_samples}); "
            f"got {subsample_size}"
        )
    # the noise sds' guide factor (guide.noise = "auto": "residual" where it applies)
    noise = None
    if method == "svi":
        noise = resolve_noise(spec.guide, spec.family, minibatched=subsample_size is not None)
    if checkpoint_every < 0:
        raise ValueError(f"checkpoint_every must be >= 0, got {checkpoint_every}")
    if not isinstance(num_chains, int) or num_chains < 1:
        raise ValueError(f"num_chains must be an integer >= 1, got {num_chains!r}")
    if num_chains > 1 and method == "svi":
        raise ValueError(
            "num_chains applies to method='nuts' or 'gibbs' only (SVI fits one guide)"
        )
    if method != "svi" and (num_samples < 1 or warmup_steps < 0):
        raise ValueError(
            f"num_samples must be >= 1 and warmup_steps >= 0, got {num_samples} and {warmup_steps}"
        )
    if num_chains > 1 and num_samples < 4:
        raise ValueError(
            f"num_samples must be >= 4 per chain to compare {num_chains} chains "
            f"(split R-hat halves each chain), got {num_samples}"
        )
    if (checkpoint is not None or resume) and method != "svi":
        raise ValueError("checkpoint/resume apply to method='svi' only")
    if resume and checkpoint is None:
        raise ValueError("resume=True needs checkpoint=PATH (the file to resume from)")
    if heldout is not None:
        if method != "svi":
            raise ValueError(
                "heldout scoring needs method='svi' (it draws from the fitted variational "
                "posterior); fit with method='svi' to compare models on held-out data"
            )
        if heldout_draws < 1:
            raise ValueError(f"heldout_draws must be >= 1, got {heldout_draws}")
        if not isinstance(heldout, ExpressionData):
            heldout = ExpressionData.from_array(heldout, source="<heldout array>")
    torch_device = resolve_device(device)
    start = time.perf_counter()
    # particles per step from the whole problem's size, also in a sharded fit (targets=...),
    # so that a target's posterior does not depend on how the targets were split
    batch = subsample_size or data.n_samples
    n_regulators = len(data.regulators)
    particles = resolve_particles(spec.svi.num_particles, n_regulators, data.n_genes, batch)
    plan = plan_memory(
        data.n_samples,
        data.n_genes,
        n_regulators,
        n_targets=None if targets is None else len(targets),
        subsample_size=subsample_size if method == "svi" else None,
        num_draws=spec.svi.num_draws if method == "svi" else num_samples * num_chains,
        num_particles=particles,
        dtype=DTYPES[dtype],
        device_type=torch_device.type,
        jacobian=use_jacobian(spec, clamped_regulators(data, spec.interventions == "cut")),
        per_sample_jacobian=spec.family == "sigmoid",
        counts=spec.family == "negbinomial",
        conditional=spec.guide.kind == "conditional",
        residual_noise=noise == "residual",
        gibbs=method == "gibbs",
        n_conditions=len(data.conditions),
    )
    check_memory(plan, torch_device, None if max_memory is None else parse_bytes(max_memory))
    target_names = _resolve_targets(data, targets)
    # fit in a canonical gene/sample order so the result does not depend on table layout
    order = canonicalize(data)
    caller_data, data = data, order.data
    full_gene_back = order.gene_back
    target_columns = None
    if targets is not None:
        order, target_columns = order.restricted_to(target_names)
    if num_threads is None:
        num_threads = auto_threads(
            data.n_samples, len(data.regulators), data.n_genes, torch_device
        )
    with seeded(seed, torch_device), isolated_param_store(), torch_threads(num_threads):
        inputs = build_inputs(
            data, spec, torch_device, DTYPES[dtype], known_edges, forbidden_edges, target_columns
        )
        heldout_inputs = None
        if heldout is not None:  # on the training (canonical) gene order and scale
            heldout_inputs = build_inputs(  # scored without the Jacobian term
                heldout, dataclasses.replace(spec, jacobian="never"), torch_device,
                DTYPES[dtype], known_edges, forbidden_edges, target_columns, reference=data,
            )  # fmt: skip
        if method == "svi":
            from bayesgrn.infer.svi import run_svi

            config = CheckpointConfig(
                path=None if checkpoint is None else Path(checkpoint),
                every=checkpoint_every,
                resume=resume,
                identity=f"seed={seed}|device={torch_device.type}|dtype={dtype}",
            )
            with stop_on_signals(handle_signals) as stop:
                result = run_svi(
                    inputs,
                    spec,
                    subsample_size=subsample_size,
                    progress=progress,
                    num_steps=num_steps,
                    checkpoint=config,
                    stop=stop,
                    psis_draws=psis_draws,
                    heldout=heldout_inputs,
                    heldout_draws=heldout_draws,
                    num_particles=particles,
                )
            w_draws, site_means, losses = result.w_draws, result.site_means, result.losses
            site_draws = result.site_draws or {}
            diagnostics: dict[str, Any] = {
                "steps": result.steps,
                "converged": result.converged,
                # the training objective's value (the IW bound for svi.objective = "iw")
                "final_elbo": float(-np.mean(losses[-min(len(losses), spec.svi.window) :])),
                "objective": spec.svi.objective,
                "num_particles": particles,
                "noise_factor": noise,
                "subsample_size": subsample_size,
                "restarts": list(result.restarts),
                "resumed_from_step": result.resumed_from,
            }
            if result.psis is not None:
                diagnostics.update(_psis_to_caller(result.psis, order, target_names))
            if result.heldout_lpd is not None and heldout is not None:
                lpd = result.heldout_lpd
                diagnostics["heldout"] = {
                    "elpd": float(lpd.sum()),
                    "pointwise": [float(v) for v in lpd],
                    "samples": list(heldout.samples),
                    "draws": int(heldout_draws),
                    "rule": "conditional densities of the structural equations, no Jacobian",
                }
        else:
            if method == "gibbs":
                from bayesgrn.infer.gibbs import run_gibbs as run_sampler
            else:
                from bayesgrn.infer.nuts import run_nuts as run_sampler

            w_draws, site_means, diagnostics = run_sampler(
                inputs,
                spec,
                num_samples=num_samples,
                warmup_steps=warmup_steps,
                num_chains=num_chains,
                progress=progress,
            )
            if "rhat" in diagnostics:
                rhat = order.weights_to_caller(diagnostics.pop("rhat"))
                diagnostics.update(_rhat_summary(rhat, caller_data.regulators, target_names))
            losses, site_draws = np.zeros(0), {}
    if method == "svi" and data.n_genes < SMALL_NETWORK_GENES:
        diagnostics["small_network"] = True
        logger.warning(
            "SVI on %d genes: on networks this small the variational posterior was measured "
            "over-confident against NUTS (%s; docs/calibration.md); method='gibbs' samples "
            "this model's posterior exactly in about a minute at this size (Gaussian "
            "family) and is the posterior to base decisions on",
            data.n_genes,
            SMALL_NETWORK_MEASURED,
        )
    if spec.family == "gaussian" and target_columns is None:
        unstable = unstable_fraction(w_draws, data.regulator_index, data.n_genes)
        diagnostics["unstable_fraction"] = unstable
        if unstable is not None and unstable > UNSTABLE_WARN:
            logger.warning(
                "%.0f%% of the checked draws describe a network with no stable steady state "
                "(an eigenvalue of W with real part >= 1): the fit sits in a mode that reverses "
                "a feedback loop (diagnostics['unstable_fraction'])",
                100 * unstable,
            )
    seconds = time.perf_counter() - start
    diagnostics.update(
        {
            "seconds": round(seconds, 3),
            "n_samples": data.n_samples,
            "n_genes": data.n_genes,
            "data_source": data.source,
            "transform": data.transform,
            "dtype": dtype,
            "planned_peak_host_bytes": plan.host_bytes,
            "planned_peak_device_bytes": plan.device_bytes,
            "torch_version": torch.__version__,
            "pyro_version": pyro.__version__,
        }
    )
    scale = data.scale[full_gene_back]  # caller's gene order
    target_rows = [caller_data.genes.index(g) for g in target_names]
    return Posterior(
        w_draws=order.draws_to_caller(w_draws.astype(np.float32, copy=False)),
        regulators=caller_data.regulators,
        targets=target_names,
        allowed=order.weights_to_caller(inputs.allowed.bool().cpu().numpy()),
        regulator_scale=scale[caller_data.regulator_index].copy(),
        target_scale=scale[target_rows].copy(),
        spec=spec.to_dict(),
        spec_hash=spec.hash,
        method=method,
        seed=int(seed),
        device=str(torch_device),
        diagnostics=diagnostics,
        losses=np.asarray(losses, dtype=np.float64),
        site_means={
            k: np.asarray(order.site_to_caller(k, v), dtype=np.float64)
            for k, v in site_means.items()
        },
        site_draws={
            k: np.ascontiguousarray(order.site_to_caller(k, v), dtype=np.float32)
            for k, v in site_draws.items()
        },
    )


def _resolve_targets(data: ExpressionData, targets: Sequence[str] | None) -> tuple[str, ...]:
    """Validate a target subset; return it in the data's gene order."""
    if targets is None:
        return data.genes
    if isinstance(targets, str):
        raise BayesGRNInputError("targets must be a list of gene names, not one string")
    wanted = [str(t) for t in targets]
    if not wanted:
        raise BayesGRNInputError("targets is empty; pass None to fit every gene")
    unknown = sorted(set(wanted) - set(data.genes))
    if unknown:
        raise BayesGRNInputError(
            f"{data.source}: targets {unknown[:10]} are not genes of the data"
            + (" ..." if len(unknown) > 10 else "")
        )
    if len(set(wanted)) != len(wanted):
        raise BayesGRNInputError("targets lists a gene more than once")
    keep = set(wanted)
    return tuple(g for g in data.genes if g in keep)


def _rhat_summary(
    rhat: np.ndarray, regulators: tuple[str, ...], target_names: tuple[str, ...]
) -> dict[str, Any]:
    """Summarise the weights' split-R-hat (caller's order) and warn when chains disagree."""
    finite = np.where(np.isfinite(rhat), rhat, 0.0)
    bad = np.argwhere(finite > RHAT_WARN)
    order = np.argsort(-finite[bad[:, 0], bad[:, 1]])[:5]
    worst = [f"{regulators[r]} -> {target_names[t]} ({finite[r, t]:.2f})" for r, t in bad[order]]
    if bad.size:
        logger.warning(
            "Chains disagree (split R-hat > %.2f) for %d of %d weights (worst: %s): "
            "the posterior has modes the chains do not all visit, or the chains are too "
            "short; run more or longer chains before using this posterior as a reference",
            RHAT_WARN,
            len(bad),
            int(np.isfinite(rhat).sum()),
            ", ".join(worst),
        )
    return {
        "rhat_max": float(finite.max(initial=0.0)),
        "rhat_n_above": int(len(bad)),
        "rhat_threshold": RHAT_WARN,
        "rhat_worst": worst,
    }


def _psis_to_caller(
    psis: dict[str, Any], order: CanonicalOrder, target_names: tuple[str, ...]
) -> dict[str, Any]:
    """Put per-target k-hats in the caller's target order and warn about bad targets."""
    by_target = order.site_to_caller("k", np.asarray(psis["pareto_k_by_target"]))
    out = dict(psis, pareto_k_by_target=[float(k) for k in by_target])
    bad = np.nonzero(by_target > KHAT_THRESHOLD)[0]
    if bad.size:
        worst = bad[np.argsort(-by_target[bad])][:5]
        shown = ", ".join(f"{target_names[j]} ({by_target[j]:.2f})" for j in worst)
        logger.warning(
            "Pareto k-hat > %.1f for %d of %d targets (worst: %s): the variational "
            "posterior of their incoming weights may be unreliable; check them with more "
            "steps, another guide or method='nuts' on a subset",
            KHAT_THRESHOLD,
            bad.size,
            by_target.size,
            shown,
        )
    return out
