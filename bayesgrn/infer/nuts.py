"""NUTS on the same model: a reference posterior for small problems."""

from __future__ import annotations

import logging
import warnings
from typing import Any

import numpy as np
import torch
from pyro.infer import MCMC, NUTS

from bayesgrn.model import ModelInputs, grn_model, horseshoe_weights
from bayesgrn.spec import ModelSpec

logger = logging.getLogger(__name__)

#: above this many weights NUTS becomes impractical on a CPU (minutes to hours)
PRACTICAL_WEIGHTS = 2_000


def run_nuts(
    inputs: ModelInputs,
    spec: ModelSpec,
    *,
    num_samples: int = 500,
    warmup_steps: int = 500,
    target_accept_prob: float = 0.9,
    progress: bool = False,
) -> tuple[np.ndarray, dict[str, np.ndarray], dict[str, Any]]:
    """Run one NUTS chain; returns ``W`` draws, global-site means and diagnostics."""
    n_weights = inputs.n_regulators * inputs.n_targets
    if n_weights > PRACTICAL_WEIGHTS:
        warnings.warn(
            f"NUTS on {n_weights} weights will be slow; it is meant as a reference for problems "
            f"up to about {PRACTICAL_WEIGHTS} weights. Use method='svi' for this size.",
            UserWarning,
            stacklevel=3,
        )
    kernel = NUTS(
        grn_model,
        target_accept_prob=target_accept_prob,
        max_tree_depth=8,
        jit_compile=True,
        ignore_jit_warnings=True,
    )
    mcmc = MCMC(
        kernel, num_samples=num_samples, warmup_steps=warmup_steps, disable_progbar=not progress
    )
    mcmc.run(inputs, spec.prior)
    samples = mcmc.get_samples()
    with torch.no_grad():
        per_target = {k: samples[k].unsqueeze(-2) for k in ("tau", "c2")}  # (S, 1, T)
        w = horseshoe_weights(
            samples["z"], samples["lam"], per_target["tau"], per_target["c2"], inputs.allowed
        )
    means = {k: samples[k].mean(0).cpu().numpy() for k in ("tau", "c2", "sigma", "b")}
    diverging = mcmc.diagnostics().get("divergences", {}).get("chain 0", [])
    diagnostics = {
        "num_samples": num_samples,
        "warmup_steps": warmup_steps,
        "divergences": len(diverging),
    }
    if diverging:
        logger.warning("NUTS reported %d divergent transitions", len(diverging))
    return w.cpu().numpy(), means, diagnostics
