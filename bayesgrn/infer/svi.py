r"""Stochastic variational inference for the horseshoe GRN model.

The loop is plain torch: ``Trace_ELBO.differentiable_loss`` gives the negative ELBO, a
``torch.optim.Adam`` with an exponential learning-rate schedule and gradient clipping
updates the guide's own ``nn.Parameter``\\ s. No Pyro param store is involved, so fits do
not leak into each other or into the caller's session.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import numpy as np
import pyro
import torch
from pyro.infer import Trace_ELBO
from pyro.infer.util import is_validation_enabled
from tqdm.auto import tqdm

from bayesgrn.guide import HorseshoeGuide
from bayesgrn.model import ModelInputs, grn_model, horseshoe_weights
from bayesgrn.spec import ModelSpec

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SVIResult:
    """What a variational fit hands to :class:`~bayesgrn.posterior.Posterior`."""

    w_draws: np.ndarray  # (n_draws, n_regulators, n_targets)
    site_means: dict[str, np.ndarray]
    losses: np.ndarray  # negative ELBO per step
    steps: int
    converged: bool
    seconds: float


def run_svi(
    inputs: ModelInputs,
    spec: ModelSpec,
    *,
    subsample_size: int | None = None,
    progress: bool = False,
    num_steps: int | None = None,
) -> SVIResult:
    """Fit the guide by SVI and draw from it. Call inside :func:`bayesgrn._torch.seeded`."""
    cfg = spec.svi
    steps_max = int(num_steps if num_steps is not None else cfg.num_steps)
    guide = HorseshoeGuide(inputs, spec.prior, spec.guide)
    elbo = Trace_ELBO(
        num_particles=cfg.num_particles,
        vectorize_particles=cfg.num_particles > 1,
        max_plate_nesting=2,
    )
    optimizer = torch.optim.Adam(guide.parameters(), lr=cfg.lr)
    gamma = cfg.lr_decay ** (1.0 / max(steps_max, 1))
    schedule = torch.optim.lr_scheduler.ExponentialLR(optimizer, gamma=gamma)
    args = (inputs, spec.prior, subsample_size)
    losses: list[float] = []
    monitor = _ConvergenceMonitor(cfg.window, cfg.tol, cfg.patience, cfg.min_steps)
    converged = False
    start = time.perf_counter()
    # progress=True shows a bar on a terminal only (tqdm's disable=None), never in logs
    bar = tqdm(total=steps_max, disable=None if progress else True, desc="SVI", unit="step")
    validate = is_validation_enabled()
    for step in range(steps_max):
        optimizer.zero_grad(set_to_none=True)
        # distribution checks cost ~40% of a step: run them on the first step only
        with pyro.validation_enabled(validate and step == 0):
            loss = elbo.differentiable_loss(grn_model, guide, *args)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(guide.parameters(), cfg.clip_norm)
        optimizer.step()
        schedule.step()
        value = float(loss.detach())
        losses.append(value)
        bar.update()
        if step % cfg.window == 0:
            bar.set_postfix(elbo=f"{-value:.4g}")
        if monitor.update(value):
            converged = True
            break
    bar.close()
    seconds = time.perf_counter() - start
    w_draws, means = draw_weights(guide, inputs, spec, spec.svi.num_draws)
    return SVIResult(w_draws, means, np.asarray(losses), len(losses), converged, seconds)


@torch.no_grad()
def draw_weights(
    guide: HorseshoeGuide, inputs: ModelInputs, spec: ModelSpec, num_draws: int, chunk: int = 100
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Draw ``W`` from the fitted guide in chunks; also return posterior means of the globals."""
    draws: list[np.ndarray] = []
    sums: dict[str, torch.Tensor] = {}
    done = 0
    while done < num_draws:
        size = min(chunk, num_draws - done)
        with pyro.plate("draws", size, dim=-3):
            latent = guide(inputs, spec.prior)
        w = horseshoe_weights(
            latent["z"], latent["lam"], latent["tau"], latent["c2"], inputs.allowed
        )  # (size, n_regulators, n_targets)
        draws.append(w.float().cpu().numpy())
        for name in ("tau", "c2", "sigma", "b"):
            total = latent[name].sum(0)
            sums[name] = sums[name] + total if name in sums else total
        done += size
    means = {k: (v / num_draws).squeeze(0).cpu().numpy() for k, v in sums.items()}
    return np.concatenate(draws, axis=0), means


class _ConvergenceMonitor:
    """Stop once the loss has stopped falling.

    The loss is averaged over windows of ``window`` steps; the fit has converged when the
    mean of the latest window is less than ``tol * patience`` (relative) below the mean
    ``patience`` windows earlier, and at least ``min_steps`` steps have run. Comparing
    windows ``patience`` apart, rather than neighbours, keeps the single-particle noise of
    the ELBO from resetting the test.
    """

    def __init__(self, window: int, tol: float, patience: int, min_steps: int) -> None:
        self.window, self.tol, self.patience, self.min_steps = window, tol, patience, min_steps
        self.buffer: list[float] = []
        self.means: list[float] = []
        self.seen = 0

    def update(self, loss: float) -> bool:
        """Record one step's loss; return True when the fit has converged."""
        self.seen += 1
        self.buffer.append(loss)
        if len(self.buffer) < self.window:
            return False
        self.means.append(float(np.mean(self.buffer)))
        self.buffer.clear()
        if len(self.means) <= self.patience or self.seen < self.min_steps:
            return False
        before, now = self.means[-1 - self.patience], self.means[-1]
        return (before - now) / max(abs(now), 1.0) < self.tol * self.patience
