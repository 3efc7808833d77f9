r"""Stochastic variational inference for the horseshoe GRN model.

The loop is plain torch: ``Trace_ELBO.differentiable_loss`` gives the negative ELBO, a
``torch.optim.Adam`` with an exponential learning-rate schedule and gradient clipping
updates the guide's own ``nn.Parameter``\\ s. No Pyro param store is involved, so fits do
not leak into each other or into the caller's session.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyro
import torch
from pyro.infer.util import is_validation_enabled
from tqdm.auto import tqdm

from bayesgrn.errors import FitDivergedError, FitInterrupted
from bayesgrn.guide import HorseshoeGuide, resolve_noise
from bayesgrn.infer.checkpoint import (
    CheckpointConfig,
    fingerprint,
    load_checkpoint,
    save_checkpoint,
    to_cpu,
)
from bayesgrn.infer.control import StopFlag
from bayesgrn.infer.objective import make_objective
from bayesgrn.infer.psis import psis_diagnostics
from bayesgrn.infer.replay import chunks
from bayesgrn.model import ModelInputs, effective_local_scale, grn_model, horseshoe_weights
from bayesgrn.predictive import heldout_log_likelihood, pointwise_lpd
from bayesgrn.spec import ModelSpec, SVISpec

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
    restarts: tuple[dict[str, Any], ...] = ()
    resumed_from: int | None = None
    psis: dict[str, Any] | None = None
    heldout_lpd: np.ndarray | None = None  # (n_heldout,) log pointwise predictive density
    site_draws: dict[str, np.ndarray] | None = None  # per-draw sites a family needs


#: per family, the sites kept draw by draw (besides ``W``) for predictions
PER_DRAW_SITES = {"sigmoid": ("gain", "bias", "b")}

#: a restart after non-finite values multiplies the learning rate by this
LR_BACKOFF = 0.5

StepCallback = Callable[[int, HorseshoeGuide], None]


def run_svi(
    inputs: ModelInputs,
    spec: ModelSpec,
    *,
    subsample_size: int | None = None,
    progress: bool = False,
    num_steps: int | None = None,
    checkpoint: CheckpointConfig | None = None,
    stop: StopFlag | None = None,
    callback: StepCallback | None = None,
    psis_draws: int = 0,
    heldout: ModelInputs | None = None,
    heldout_draws: int = 200,
    num_particles: int = 1,
) -> SVIResult:
    """Fit the guide by SVI and draw from it. Call inside :func:`bayesgrn._torch.seeded`.

    Parameters
    ----------
    inputs, spec
        Model tensors and configuration.
    subsample_size
        Minibatch size over samples (``None``: all samples every step).
    progress
        Show a progress bar (on a terminal only).
    num_steps
        Step budget (default ``spec.svi.num_steps``).
    checkpoint
        Where/how often to save the state, and whether to resume (see
        :class:`~bayesgrn.infer.checkpoint.CheckpointConfig`). The last good state is kept
        in memory every ``checkpoint.every`` steps in any case.
    stop
        Flag set by SIGINT/SIGTERM (see :mod:`bayesgrn.infer.control`); the loop saves a
        checkpoint and raises :class:`~bayesgrn.errors.FitInterrupted` when it is set.
    callback
        Called as ``callback(step, guide)`` after each backward pass, before the update
        (monitoring; tests use it to inject faults).
    psis_draws
        Guide draws for the Pareto-k-hat diagnostic (:mod:`bayesgrn.infer.psis`); 0 skips
        it, as does a minibatched fit (the diagnostic needs full-data likelihoods).
    heldout
        Held-out samples on the training scale (``build_inputs(..., reference=...)``): their
        log pointwise predictive density over ``heldout_draws`` guide draws is returned in
        ``heldout_lpd`` (see :mod:`bayesgrn.predictive`). It is computed after every other
        draw, so it leaves the fit's draws unchanged.
    num_particles
        Particles per step, already resolved from ``spec.svi.num_particles`` on the whole
        problem (:func:`~bayesgrn.infer.objective.resolve_particles`, called by ``fit``).

    Notes
    -----
    A non-finite loss or gradient norm never reaches the parameters: the fit goes back to
    the last good state, multiplies the learning rate by ``LR_BACKOFF`` and continues, at
    most ``spec.svi.max_restarts`` times; then it raises
    :class:`~bayesgrn.errors.FitDivergedError` naming the likely causes.
    """
    cfg = spec.svi
    ckpt = checkpoint or CheckpointConfig()
    stop = stop or StopFlag()
    steps_max = int(num_steps if num_steps is not None else cfg.num_steps)
    noise = resolve_noise(spec.guide, spec.family, minibatched=subsample_size is not None)
    guide = HorseshoeGuide(inputs, spec.prior, dataclasses.replace(spec.guide, noise=noise))
    elbo = make_objective(cfg.objective, num_particles, max_plate_nesting=2)
    optimizer = torch.optim.Adam(guide.parameters(), lr=cfg.lr)
    gamma = cfg.lr_decay ** (1.0 / max(steps_max, 1))
    schedule = torch.optim.lr_scheduler.ExponentialLR(optimizer, gamma=gamma)
    # a conjugate guide with a mean-field start switches factors after this many steps; the
    # fit cannot be declared converged before the conjugate factor has had its windows
    switch_at = _conjugate_switch_step(spec, steps_max) if guide.awaiting_conjugate else 0
    min_steps = cfg.min_steps
    if switch_at > 0:
        min_steps = max(min_steps, switch_at + cfg.window * (cfg.patience + 1))
    run = _RunState(guide, optimizer, schedule, dataclasses.replace(cfg, min_steps=min_steps))
    fp = fingerprint(inputs, spec, steps_max, subsample_size, ckpt.identity)
    resumed_from = None
    if ckpt.resume:
        if ckpt.path is None:
            raise ValueError("resume=True needs a checkpoint path")
        run.restore(load_checkpoint(ckpt.path, fp), rng=True)
        resumed_from = run.step
        logger.info("resumed from %s at step %d", ckpt.path, run.step)
    good = run.capture(fp)
    args = (inputs, spec.prior, subsample_size)
    start = time.perf_counter() - run.elapsed
    # progress=True shows a bar on a terminal only (tqdm's disable=None), never in logs
    bar = tqdm(
        total=steps_max,
        initial=run.step,
        disable=None if progress else True,
        desc="SVI",
        unit="step",
    )
    validate = is_validation_enabled()
    while run.step < steps_max and not run.converged:
        optimizer.zero_grad(set_to_none=True)
        # distribution checks cost ~40% of a step: run them on the first step only
        with pyro.validation_enabled(validate and run.step == 0):
            loss = elbo.differentiable_loss(grn_model, guide, *args)
        loss.backward()
        if callback is not None:
            callback(run.step, guide)
        norm = torch.nn.utils.clip_grad_norm_(guide.parameters(), cfg.clip_norm)
        value = float(loss.detach())
        if not (math.isfinite(value) and math.isfinite(float(norm))):
            what = "loss" if not math.isfinite(value) else "gradient"
            _diverged_check(run, cfg.max_restarts, what, inputs)
            bad_step, lr = run.step, run.lr
            run.restore(good, rng=False)
            new_lr = run.set_lr(lr * LR_BACKOFF)
            run.restarts.append(
                {
                    "step": bad_step,
                    "cause": f"non-finite {what}",
                    "restart_from": run.step,
                    "lr": new_lr,
                }
            )
            logger.warning(
                "non-finite %s at step %d: restarting from step %d with learning rate %.3g",
                what,
                bad_step,
                run.step,
                new_lr,
            )
            bar.reset(total=steps_max)
            bar.update(run.step)
            continue
        optimizer.step()
        schedule.step()
        run.losses.append(value)
        run.step += 1
        if run.step == switch_at and guide.awaiting_conjugate:
            guide.to_conjugate()
            for param in (guide.w_loc, guide.w_raw):  # their meaning changed: fresh moments
                optimizer.state.pop(param, None)
        bar.update()
        if run.step % cfg.window == 1:
            bar.set_postfix(elbo=f"{-value:.4g}")
        run.converged = run.monitor.update(value)
        if ckpt.every and run.step % ckpt.every == 0:
            run.elapsed = time.perf_counter() - start
            good = run.capture(fp)
            if ckpt.path is not None:
                save_checkpoint(ckpt.path, good)
        if stop.signal_name is not None and not run.converged and run.step < steps_max:
            bar.close()
            if ckpt.path is not None:
                run.elapsed = time.perf_counter() - start
                save_checkpoint(ckpt.path, run.capture(fp))
            raise FitInterrupted(run.step, ckpt.path, stop.signal_name)
    bar.close()
    seconds = time.perf_counter() - start
    w_draws, means, site_draws = draw_weights(guide, inputs, spec, spec.svi.num_draws)
    if not np.isfinite(w_draws).all():
        raise FitDivergedError(
            "the fitted variational posterior gives non-finite weights; "
            + _likely_causes(inputs, optimizer)
        )
    psis = None
    if psis_draws > 0 and subsample_size is None:
        psis = psis_diagnostics(guide, inputs, spec, psis_draws)
    heldout_lpd = None
    if heldout is not None:
        log_lik = heldout_log_likelihood(guide, inputs, heldout, spec, heldout_draws)
        heldout_lpd = pointwise_lpd(log_lik)
    return SVIResult(
        w_draws,
        means,
        np.asarray(run.losses),
        run.step,
        run.converged,
        seconds,
        tuple(run.restarts),
        resumed_from,
        psis,
        heldout_lpd,
        site_draws,
    )


def _conjugate_switch_step(spec: ModelSpec, steps_max: int) -> int:
    """Step after which a conjugate guide's mean-field start is converted (0: never)."""
    return int(spec.guide.mean_field_fraction * steps_max)


class _RunState:
    """The mutable state of one optimisation run, and its (de)serialisation."""

    def __init__(
        self,
        guide: HorseshoeGuide,
        optimizer: torch.optim.Optimizer,
        schedule: torch.optim.lr_scheduler.LRScheduler,
        cfg: SVISpec,
    ) -> None:
        self.guide, self.optimizer, self.schedule = guide, optimizer, schedule
        self.monitor = _ConvergenceMonitor(cfg.window, cfg.tol, cfg.patience, cfg.min_steps)
        self.losses: list[float] = []
        self.restarts: list[dict[str, Any]] = []
        self.step = 0
        self.converged = False
        self.elapsed = 0.0

    def capture(self, fp: str) -> dict[str, Any]:
        """Return a CPU copy of everything needed to continue from here."""
        device = next(self.guide.parameters()).device
        return to_cpu(
            {
                "fingerprint": fp,
                "step": self.step,
                "converged": self.converged,
                "elapsed": self.elapsed,
                "guide": self.guide.state_dict(),
                "optimizer": self.optimizer.state_dict(),
                "schedule": self.schedule.state_dict(),
                "monitor": self.monitor.state_dict(),
                "losses": torch.tensor(self.losses, dtype=torch.float64),
                "restarts": [dict(r) for r in self.restarts],
                "rng_cpu": torch.get_rng_state(),
                "rng_cuda": torch.cuda.get_rng_state(device) if device.type == "cuda" else None,
            }
        )

    def restore(self, state: dict[str, Any], *, rng: bool) -> None:
        """Load a captured state (and the RNG state, when resuming from disk)."""
        self.guide.load_state_dict(state["guide"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.schedule.load_state_dict(state["schedule"])
        self.monitor.load_state_dict(state["monitor"])
        self.losses = [float(v) for v in state["losses"]]
        if rng:  # resuming from disk; an in-memory restart keeps its own restart record
            self.restarts = [dict(r) for r in state["restarts"]]
        self.step = int(state["step"])
        self.converged = bool(state["converged"])
        self.elapsed = float(state["elapsed"])
        if rng:
            torch.set_rng_state(state["rng_cpu"])
            if state["rng_cuda"] is not None:
                device = next(self.guide.parameters()).device
                torch.cuda.set_rng_state(state["rng_cuda"], device)

    @property
    def lr(self) -> float:
        """The current learning rate."""
        return float(self.optimizer.param_groups[0]["lr"])

    def set_lr(self, lr: float) -> float:
        """Set the learning rate (the schedule decays from there); return it."""
        for group in self.optimizer.param_groups:
            group["lr"] = lr
        return lr


def _diverged_check(run: _RunState, max_restarts: int, what: str, inputs: ModelInputs) -> None:
    if len(run.restarts) < max_restarts:
        return
    raise FitDivergedError(
        f"SVI produced a non-finite {what} at step {run.step} and had already restarted "
        f"{len(run.restarts)} time(s) from the last good state with a smaller learning rate; "
        + _likely_causes(inputs, run.optimizer)
    )


def _likely_causes(inputs: ModelInputs, optimizer: torch.optim.Optimizer) -> str:
    x = inputs.x
    biggest = float(x[torch.isfinite(x)].abs().max()) if x.numel() else 0.0
    lr = float(optimizer.param_groups[0]["lr"])
    return (
        f"likely causes: the scale of the data (largest |standardised value| is {biggest:.3g}; "
        "values beyond ~20 usually mean outliers or untransformed counts -- try "
        "transform='log' or remove the outlying samples) or a learning rate too high for "
        f"this problem (now {lr:.3g}; try svi={{'lr': {lr / 4:.2g}}}, or dtype='float64')."
    )


#: regulator x target tensors alive per draw while sampling the guide (z, lambda, their
#: noise, scales, W) and the working-space budget of one chunk of draws
DRAW_TENSORS = 8
DRAW_BLOCK_BYTES = 256 * 2**20


@torch.no_grad()
def draw_weights(
    guide: HorseshoeGuide, inputs: ModelInputs, spec: ModelSpec, num_draws: int
) -> tuple[np.ndarray, dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Draw ``W`` from the fitted guide in chunks; also posterior means of the globals.

    A chunk of ``k`` draws materialises about ``DRAW_TENSORS`` regulator x target tensors
    per draw on the device; ``k`` is chosen so that they fit in ``DRAW_BLOCK_BYTES``.
    The third value holds, draw by draw and alongside ``W``, the per-target sites that
    predictions need besides ``W`` (:data:`PER_DRAW_SITES`; the sigmoid family's gain,
    threshold and intercepts).
    """
    per_draw = DRAW_TENSORS * inputs.n_regulators * inputs.n_targets * inputs.x.element_size()
    per_draw += guide.draw_bytes(inputs)
    # one preallocated float32 array: a list of chunks plus np.concatenate would hold the
    # draws twice at the peak
    draws = np.empty((num_draws, inputs.n_regulators, inputs.n_targets), dtype=np.float32)
    sums: dict[str, torch.Tensor] = {}
    kept: dict[str, list[np.ndarray]] = {k: [] for k in PER_DRAW_SITES.get(inputs.family, ())}
    budget = min(DRAW_BLOCK_BYTES, 100 * per_draw)  # and at most 100 draws a block
    for done, size in chunks(num_draws, budget, per_draw):
        with pyro.plate("draws", size, dim=-3, device=inputs.x.device):
            latent = guide(inputs, spec.prior)
        w = horseshoe_weights(
            latent["z"], effective_local_scale(latent), latent["tau"], latent["c2"], inputs.allowed
        )  # (size, n_regulators, n_targets)
        draws[done : done + size] = w.float().cpu().numpy()
        for name in ("tau", "c2", "sigma", "b", "kappa"):
            if name not in latent:  # kappa: only with prior.regulator_scale
                continue
            total = latent[name].sum(0)
            sums[name] = sums[name] + total if name in sums else total
        for name, parts in kept.items():
            value = latent[name]  # (size, 1, n_targets) or (size, n_conditions, n_targets)
            parts.append(value.float().cpu().numpy().reshape(size, *value.shape[-2:]))
    means = {k: (v / num_draws).cpu().numpy() for k, v in sums.items()}
    # one value per target (kappa: per regulator); b keeps its condition axis,
    # (n_conditions, n_targets), as after NUTS and Gibbs
    means = {k: v if k == "b" else v.reshape(-1) for k, v in means.items()}
    site_draws = {k: np.concatenate(v) for k, v in kept.items()}
    site_draws = {k: v if k == "b" else v[:, 0] for k, v in site_draws.items()}
    return draws, means, site_draws


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

    def state_dict(self) -> dict[str, Any]:
        """Return the monitor's progress, for checkpoints."""
        return {"buffer": list(self.buffer), "means": list(self.means), "seen": self.seen}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Continue from :meth:`state_dict`."""
        self.buffer = [float(v) for v in state["buffer"]]
        self.means = [float(v) for v in state["means"]]
        self.seen = int(state["seen"])

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
