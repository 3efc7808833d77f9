"""Hand-made test inputs: a posterior for the pictures and the report (no fit needed), and
steady-state data from a given network."""

from __future__ import annotations

import numpy as np

import bayesgrn as bg
from bayesgrn.simulate import knockout_mask, steady_states


def make_posterior(losses: np.ndarray | None = None, n_genes: int = 8, seed: int = 0):
    """A hand-made posterior: a few strong signed edges, many near-zero ones."""
    rng = np.random.default_rng(seed)
    genes = tuple(f"G{i}" for i in range(1, n_genes + 1))
    means = np.zeros((n_genes, n_genes))
    means[0, 1], means[0, 2], means[3, 4], means[5, 6], means[2, 7] = 0.8, -0.6, 0.4, -0.3, 0.12
    spread = rng.uniform(0.02, 0.15, size=means.shape)
    draws = means + spread * rng.standard_normal((300, n_genes, n_genes))
    allowed = ~np.eye(n_genes, dtype=bool)
    if losses is None:
        steps = np.arange(600)
        losses = 2000 * np.exp(-steps / 60) + 500 + 5 * rng.standard_normal(600)
    return bg.Posterior(
        w_draws=draws.astype(np.float32),
        regulators=genes,
        targets=genes,
        allowed=allowed,
        regulator_scale=np.ones(n_genes),
        target_scale=np.ones(n_genes),
        spec=bg.load_spec("horseshoe").to_dict(),
        spec_hash="test",
        method="svi",
        seed=0,
        device="cpu",
        diagnostics={"converged": True, "steps": losses.size},
        losses=np.asarray(losses, dtype=np.float64),
    )


def knockout_data(w: np.ndarray, n_obs: int, seed: int) -> bg.ExpressionData:
    """Linear steady states of ``w``: ``n_obs`` observational samples, then one knockout per
    gene (unit noise, intercepts 3)."""
    rng = np.random.default_rng(seed)
    n_genes = w.shape[0]
    knocked = [None] * n_obs + list(range(n_genes))
    noise = rng.standard_normal((len(knocked), n_genes))
    x = steady_states(w, np.full(n_genes, 3.0), noise, knocked)
    return bg.ExpressionData.from_array(x, perturbed=knockout_mask(knocked, n_genes))
