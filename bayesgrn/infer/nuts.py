"""NUTS on the same model: a reference posterior for small problems."""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from pyro.infer import MCMC, NUTS
from pyro.infer.autoguide.initialization import init_to_median, init_to_value

from bayesgrn.infer.convergence import split_rhat
from bayesgrn.model import ModelInputs, effective_local_scale, grn_model, horseshoe_weights
from bayesgrn.spec import ModelSpec

logger = logging.getLogger(__name__)

#: above this many weights NUTS becomes impractical on a CPU (minutes to hours)
PRACTICAL_WEIGHTS = 2_000


#: sites whose posterior means a fit reports (``kappa`` with ``prior.regulator_scale``)
_SITES = ("tau", "c2", "sigma", "b", "kappa")


def stable_start(inputs: ModelInputs) -> Callable:
    """Pyro init strategy: ``z = 0`` (so :math:`W = 0`), every other site at its prior median."""
    zeros = torch.zeros_like(inputs.local_scale)
    return init_to_value(values={"z": zeros}, fallback=init_to_median(num_samples=15))


def run_nuts(
    inputs: ModelInputs,
    spec: ModelSpec,
    *,
    num_samples: int = 500,
    warmup_steps: int = 500,
    num_chains: int = 1,
    target_accept_prob: float = 0.9,
    progress: bool = False,
) -> tuple[np.ndarray, dict[str, np.ndarray], dict[str, Any]]:
    r"""Run ``num_chains`` NUTS chains one after another, each with its own warm-up.

    Returns the pooled ``W`` draws ``(num_chains * num_samples, R, T)`` (chain by chain),
    the global sites' means and diagnostics; with two or more chains the diagnostics hold
    ``rhat``, the split-:math:`\hat R` of every weight (:mod:`bayesgrn.infer.convergence`).
    Sequential chains keep the run reproducible from the fit's seed on any machine.

    Every chain starts at :math:`W = 0` (``z = 0``) with the other sites at their prior
    medians, inside the stable basin :math:`\rho(W) < 1`. The likelihood of a cyclic linear
    model has other modes, each reversing a cycle with inverted weights (one of a set of
    observationally equivalent models of which only one is stable, Lacerda et al. 2008);
    chains started at random points (Pyro's default, uniform on (-2, 2) in unconstrained
    space) fell into such unstable modes, with spectral radius about 3, and stayed there
    (docs/calibration.md).
    """
    n_weights = inputs.n_regulators * inputs.n_targets
    if n_weights > PRACTICAL_WEIGHTS:
        warnings.warn(
            f"NUTS on {n_weights} weights will be slow; it is meant as a reference for problems "
            f"up to about {PRACTICAL_WEIGHTS} weights. Use method='svi' for this size.",
            UserWarning,
            stacklevel=3,
        )
    chains_w, chains_sites, divergences = [], [], []
    for _ in range(num_chains):
        kernel = NUTS(
            grn_model,
            target_accept_prob=target_accept_prob,
            max_tree_depth=8,
            init_strategy=stable_start(inputs),
            jit_compile=True,
            ignore_jit_warnings=True,
        )
        mcmc = MCMC(
            kernel,
            num_samples=num_samples,
            warmup_steps=warmup_steps,
            disable_progbar=not progress,
        )
        mcmc.run(inputs, spec.prior)
        samples = mcmc.get_samples()
        with torch.no_grad():
            per_target = {k: samples[k].unsqueeze(-2) for k in ("tau", "c2")}  # (S, 1, T)
            local = effective_local_scale(samples)
            w = horseshoe_weights(
                samples["z"], local, per_target["tau"], per_target["c2"], inputs.allowed
            )
        chains_w.append(w.cpu().numpy())
        chains_sites.append({k: samples[k].cpu().numpy() for k in _SITES if k in samples})
        divergences.append(len(mcmc.diagnostics().get("divergences", {}).get("chain 0", [])))
    means = {
        k: np.concatenate([sites[k] for sites in chains_sites]).mean(0) for k in chains_sites[0]
    }
    if "kappa" in means:
        means["kappa"] = means["kappa"].reshape(-1)  # (n_regulators,)
    diagnostics: dict[str, Any] = {
        "num_samples": num_samples,
        "warmup_steps": warmup_steps,
        "num_chains": num_chains,
        "divergences": int(sum(divergences)),
    }
    if num_chains > 1:
        diagnostics["divergences_per_chain"] = divergences
        diagnostics["rhat"] = split_rhat(np.stack(chains_w))
    if sum(divergences):
        logger.warning("NUTS reported %d divergent transitions", sum(divergences))
    return np.concatenate(chains_w), means, diagnostics
