r"""Exact blocked Gibbs sampling of the linear Gaussian model.

Without the Jacobian (observational data, or ``likelihood.jacobian = "never"``) the linear
model is a set of independent Bayesian regressions, one per target :math:`j`, of its
unperturbed samples on the regulators and the condition intercepts:

.. math::

    x_{sj} = b_{k(s)j} + \sum_r W_{rj} x_{sr} + \varepsilon_{sj}, \qquad
    W_{rj} \sim \mathcal N(0, \tau_j^2 \tilde\lambda_{rj}^2), \quad
    \frac{1}{\tilde\lambda_{rj}^2} = \frac{1}{\lambda_{rj}^2} + \frac{\tau_j^2}{c_j^2}.

Its posterior can be sampled exactly, without a variational family, by a Gibbs sweep per
iteration (the regularized horseshoe's conditionals; Makalic & Schmidt 2016 for the
half-Cauchy augmentation, Piironen & Vehtari 2017 for the slab):

1. :math:`(W_{\cdot j}, b_{\cdot j})` jointly from their Gaussian conditional, whose
   precision is :math:`Z_j^\top Z_j/\sigma_j^2 + \operatorname{diag}(d_j)` with :math:`Z_j`
   the target's active rows of [regulators, condition one-hots] and :math:`d_j` the prior
   precisions :math:`1/(\tau_j^2\tilde\lambda_{rj}^2)` and :math:`1/s_b^2`; one batched
   Cholesky factor per target.
2. :math:`\sigma_j^2`: independence Metropolis-Hastings with the conjugate proposal
   :math:`\mathrm{IG}(n_j/2, \mathrm{RSS}_j/2)`; the half-normal prior on :math:`\sigma_j`
   enters the acceptance ratio :math:`w(\sigma) = \sigma\, e^{-\sigma^2/(2 s_\sigma^2)}`.
3. :math:`\lambda_{rj}` and :math:`\tau_j` through the auxiliary variables
   :math:`\lambda^2 \mid \nu \sim \mathrm{IG}(1/2, 1/\nu)`,
   :math:`\nu \sim \mathrm{IG}(1/2, 1/s_\lambda^2)` (and :math:`\xi` for :math:`\tau`):
   the plain horseshoe's inverse-gamma conditionals are the proposals, and the slab's
   factor :math:`r = \sqrt{1 + \tau^2\lambda^2/c^2}` (the ratio of the regularized to the
   plain Gaussian density of :math:`W`) is the acceptance ratio.
4. :math:`c_j^2`: random-walk Metropolis on :math:`\log c_j^2` with its exact conditional
   (step size adapted during warm-up).
5. With ``prior.regulator_scale``, each regulator's :math:`\kappa_r` like :math:`\tau_j`
   (augmentation :math:`\zeta_r`, the row's weights, the slab factor in the acceptance);
   :math:`\kappa_r \lambda_{rj}` then stands for :math:`\lambda_{rj}` in the other steps,
   and a random walk moves :math:`\kappa_r` against its whole row of :math:`\lambda_{rj}`
   (their product unchanged; :meth:`_GibbsSampler._rescale_row`), along the ridge the
   single-site steps cross slowly.

With clamped regulators (knockouts, knockdowns) the likelihood carries the Jacobian of the
structural equations, which couples the targets. Step 1 then keeps the targets that are not
regulators as above and updates each regulator's column by Metropolis-Hastings from a
proposal tilted by the unclamped samples' determinant, and every sweep offers the two-way
pairs a swap of their arms (:mod:`bayesgrn.infer.gibbs_jacobian`).

Every step leaves the model's posterior invariant, so the draws are exact up to Monte Carlo
error; all targets are updated at once on tensors. The cost per iteration is one
:math:`(R + K)^3` Cholesky factor per target, so the method suits up to a few hundred
regulators (the per-target Gram matrices take :math:`T (R + K)^2` numbers). The Jacobian
step adds one covariance per regulator's column and a loop over the regulators (and over
the two-way pairs offered a swap) of :math:`O(R^2)` work each.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from bayesgrn.infer.convergence import split_rhat
from bayesgrn.infer.gibbs_jacobian import JacobianWeightStep
from bayesgrn.model import ModelInputs
from bayesgrn.spec import ModelSpec

#: prior precision standing in for "this weight is zero" (forbidden and self edges)
_EXCLUDED_PRECISION = 1e12
#: random-walk steps on log c^2 per iteration
_SLAB_STEPS = 3


def gibbs_applicable(inputs: ModelInputs) -> str | None:
    """Return why the Gibbs sampler cannot fit ``inputs``, or None when it can."""
    if inputs.family != "gaussian":
        return f"method='gibbs' needs likelihood.family = 'gaussian', not {inputs.family!r}"
    return None


def _inv_gamma(shape: torch.Tensor, rate: torch.Tensor) -> torch.Tensor:
    """Draw from InverseGamma(shape, rate) elementwise (``rate / Gamma(shape, 1)``)."""
    shape = torch.as_tensor(shape, dtype=rate.dtype, device=rate.device).expand_as(rate)
    return rate / torch.distributions.Gamma(shape, torch.ones_like(rate)).sample()


def _log_normal_weights(w: torch.Tensor, var: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Sum over regulators of ``log N(w; 0, var)`` on the allowed entries: ``(..., T)``."""
    terms = -0.5 * (w.square() / var + var.log())
    return (terms * mask).sum(-2)


class _State:
    """The sampler's current values, all on the sampler's device in float64."""

    def __init__(self, inputs: ModelInputs, spec: ModelSpec) -> None:
        like = torch.zeros((), dtype=torch.float64, device=inputs.x.device)
        r, t, k = inputs.n_regulators, inputs.n_targets, inputs.n_conditions
        self.w = like.new_zeros((r, t))
        self.b = like.new_zeros((k, t))
        self.lam2 = like.new_ones((r, t))
        self.nu = like.new_ones((r, t))
        self.tau2 = inputs.tau0.to(like.dtype).square().clone()
        self.xi = like.new_ones((t,))
        self.c2 = like.new_full((t,), spec.prior.slab_scale**2)
        self.sigma2 = like.new_full((t,), 0.25 * spec.prior.noise_scale**2)
        self.kappa2 = like.new_ones((r, 1))  # stays 1 without prior.regulator_scale
        self.zeta = like.new_ones((r, 1))


class _GibbsSampler:
    """One chain of the blocked Gibbs sampler (see the module docstring)."""

    def __init__(self, inputs: ModelInputs, spec: ModelSpec) -> None:
        f64 = torch.float64
        x = inputs.x.to(f64)
        regs = x.index_select(1, inputs.regulator_index)  # (S, R)
        y = x if inputs.target_index is None else x.index_select(1, inputs.target_index)
        onehot = torch.nn.functional.one_hot(inputs.condition, inputs.n_conditions).to(f64)
        design = torch.cat([regs, onehot], 1)  # (S, P), P = R + K
        active = inputs.active.to(f64)  # (S, T)
        self.gram = torch.einsum("sp,st,sq->tpq", design, active, design)  # (T, P, P)
        self.cross = torch.einsum("sp,st->tp", design, active * y)  # (T, P)
        self.design, self.y, self.active = design, y, active
        self.n_obs = active.sum(0)  # (T,)
        self.allowed = inputs.allowed.to(f64)  # (R, T)
        self.excluded = inputs.allowed == 0
        self.local2 = inputs.local_scale.to(f64).square()  # half-Cauchy scale^2 of lambda
        self.tau0_2 = inputs.tau0.to(f64).square()
        self.n_allowed = self.allowed.sum(0)
        self.prior = spec.prior
        self.n_reg = inputs.n_regulators
        self.slab_step = torch.full_like(self.n_obs, 0.5)
        self.accepted = {"sigma": 0.0, "lam": 0.0, "tau": 0.0, "c2": 0.0}
        if spec.prior.regulator_scale:
            self.accepted["kappa"] = self.accepted["kappa_row"] = 0.0
            self.row_step = torch.full((self.n_reg, 1), 0.5, dtype=f64, device=x.device)
            self.n_allowed_row = self.allowed.sum(1, keepdim=True)  # (R, 1)
        self.jacobian = (
            None
            if inputs.jacobian_targets is None
            else JacobianWeightStep(
                inputs,
                self.gram,
                self.cross,
                (active * y.square()).sum(0),
                self.n_obs,
                self.local2,
                spec.prior.noise_scale,
            )
        )

    @staticmethod
    def _weight_var(lam2: torch.Tensor, tau2: torch.Tensor, c2: torch.Tensor) -> torch.Tensor:
        """Prior variance tau^2 lambda~^2 of every weight."""
        return 1.0 / (1.0 / (tau2 * lam2) + 1.0 / c2)

    def sweep(self, s: _State, adapt: bool) -> None:
        """One Gibbs iteration, in place."""
        prior = self.prior
        # 1. weights and intercepts, jointly per target
        w_prec = 1.0 / self._weight_var(s.lam2 * s.kappa2, s.tau2, s.c2)
        w_prec = torch.where(self.excluded, _EXCLUDED_PRECISION, w_prec)
        b_prec = torch.full_like(s.b, 1.0 / prior.intercept_scale**2)
        diag = torch.cat([w_prec, b_prec], 0).T  # (T, P)
        precision = self.gram / s.sigma2[:, None, None] + torch.diag_embed(diag)
        chol = torch.linalg.cholesky(precision)
        mean = torch.cholesky_solve((self.cross / s.sigma2[:, None]).unsqueeze(-1), chol)
        noise = torch.randn_like(mean)
        draw = mean + torch.linalg.solve_triangular(chol.transpose(-1, -2), noise, upper=True)
        coef = draw.squeeze(-1).T  # (P, T)
        if self.jacobian is None:
            s.w = torch.where(self.excluded, 0.0, coef[: self.n_reg])
            s.b = coef[self.n_reg :]
        else:  # regulators' columns by Metropolis-Hastings (bayesgrn.infer.gibbs_jacobian)
            s.w, s.b = self.jacobian.update(
                s.w, s.b, coef, mean.squeeze(-1).T, chol, self.excluded
            )
            self.jacobian.swap_pairs(s)
        # 2. noise variance: conjugate proposal, half-normal prior in the acceptance
        resid = (self.y - self.design @ torch.cat([s.w, s.b], 0)) * self.active
        proposal = _inv_gamma(0.5 * self.n_obs, 0.5 * resid.square().sum(0))

        def log_w_sigma(v: torch.Tensor) -> torch.Tensor:
            return 0.5 * v.log() - v / (2.0 * prior.noise_scale**2)

        log_ratio = log_w_sigma(proposal) - log_w_sigma(s.sigma2)
        s.sigma2 = self._accept("sigma", s.sigma2, proposal, log_ratio)
        # 3a. local scales: plain horseshoe conditional as proposal, slab factor accepts
        tk2 = s.tau2 * s.kappa2  # (R, T): tau_j^2 kappa_r^2
        proposal = _inv_gamma(1.0, 1.0 / s.nu + s.w.square() / (2.0 * tk2))
        log_ratio = 0.5 * (torch.log1p(tk2 * proposal / s.c2) - torch.log1p(tk2 * s.lam2 / s.c2))
        s.lam2 = self._accept("lam", s.lam2, proposal, log_ratio)
        s.nu = _inv_gamma(1.0, 1.0 / self.local2 + 1.0 / s.lam2)
        # 3b. global scale per target, likewise
        lk2 = s.lam2 * s.kappa2
        shape = 0.5 * (self.n_allowed + 1.0)
        spread = (s.w.square() / (2.0 * lk2) * self.allowed).sum(0)
        proposal = _inv_gamma(shape, 1.0 / s.xi + spread)
        log_ratio = 0.5 * (
            (torch.log1p(proposal * lk2 / s.c2) - torch.log1p(s.tau2 * lk2 / s.c2)) * self.allowed
        ).sum(0)
        s.tau2 = self._accept("tau", s.tau2, proposal, log_ratio)
        s.xi = _inv_gamma(1.0, 1.0 / self.tau0_2 + 1.0 / s.tau2)
        if "kappa" in self.accepted:
            # 3c. each regulator's scale over its row of weights, likewise (C+(0, 1) prior)
            tl2 = s.tau2 * s.lam2
            shape = 0.5 * (self.n_allowed_row + 1.0)
            spread = (s.w.square() / (2.0 * tl2) * self.allowed).sum(1, keepdim=True)
            proposal = _inv_gamma(shape, 1.0 / s.zeta + spread)
            log_ratio = 0.5 * (
                (torch.log1p(tl2 * proposal / s.c2) - torch.log1p(tl2 * s.kappa2 / s.c2))
                * self.allowed
            ).sum(1, keepdim=True)
            s.kappa2 = self._accept("kappa", s.kappa2, proposal, log_ratio)
            s.zeta = _inv_gamma(1.0, 1.0 + 1.0 / s.kappa2)
            self._rescale_row(s, adapt)
        # 4. slab width: random walk on log c^2 with the exact conditional
        for _ in range(_SLAB_STEPS):
            proposal = s.c2 * torch.exp(self.slab_step * torch.randn_like(s.c2))
            log_ratio = self._log_slab(proposal, s) - self._log_slab(s.c2, s)
            take = self._metropolis("c2", log_ratio, weight=1.0 / _SLAB_STEPS)
            s.c2 = torch.where(take, proposal, s.c2)
            if adapt:  # towards ~44% acceptance, target by target
                self.slab_step = self.slab_step * torch.exp(0.1 * (take.to(s.c2.dtype) - 0.44))

    def _rescale_row(self, s: _State, adapt: bool) -> None:
        r"""3d. Move each regulator's scale against its row of local scales.

        Only the products :math:`\kappa_r^2 \lambda_{rj}^2` enter the weights, so
        :math:`\kappa_r` and its row of :math:`\lambda_{rj}` trade scale freely and the
        single-site steps above move along that ridge slowly. This random walk shifts
        :math:`\log\kappa_r^2` by :math:`2u` and every :math:`\log\lambda_{rj}^2` by
        :math:`-2u` at once: the products, and so every other conditional, stay the same,
        the shift has unit Jacobian on the log scale, and only the inverse-gamma priors
        :math:`\kappa^2 \mid \zeta` and :math:`\lambda^2 \mid \nu` (times their log-scale
        Jacobians) enter the acceptance ratio.
        """

        def log_scales(kappa2: torch.Tensor, lam2: torch.Tensor) -> torch.Tensor:
            # log IG(x | 1/2, 1/aux) + log x = -x.log()/2 - 1/(aux x), summed per regulator
            row = -0.5 * lam2.log() - 1.0 / (s.nu * lam2)
            return -0.5 * kappa2.log() - 1.0 / (s.zeta * kappa2) + row.sum(1, keepdim=True)

        factor = torch.exp(2.0 * self.row_step * torch.randn_like(s.kappa2))  # (R, 1)
        kappa2, lam2 = s.kappa2 * factor, s.lam2 / factor
        log_ratio = log_scales(kappa2, lam2) - log_scales(s.kappa2, s.lam2)
        take = self._metropolis("kappa_row", log_ratio)
        s.kappa2 = torch.where(take, kappa2, s.kappa2)
        s.lam2 = torch.where(take, lam2, s.lam2)
        if adapt:  # towards ~44% acceptance, regulator by regulator
            self.row_step = self.row_step * torch.exp(0.1 * (take.to(s.kappa2.dtype) - 0.44))

    def _log_slab(self, c2: torch.Tensor, s: _State) -> torch.Tensor:
        """Log conditional of c^2 (times c^2, the Jacobian of the log scale), up to a constant."""
        half_df = 0.5 * self.prior.slab_df
        log_prior = -(half_df + 1.0) * c2.log() - half_df * self.prior.slab_scale**2 / c2
        var = self._weight_var(s.lam2 * s.kappa2, s.tau2, c2)
        return log_prior + c2.log() + _log_normal_weights(s.w, var, self.allowed)

    def _metropolis(self, name: str, log_ratio: torch.Tensor, weight: float = 1.0) -> torch.Tensor:
        """Metropolis-Hastings test ``log u < log_ratio``; counts the acceptance rate."""
        take = torch.rand_like(log_ratio).log() < log_ratio
        self.accepted[name] += weight * float(take.to(torch.float64).mean())
        return take

    def _accept(
        self,
        name: str,
        current: torch.Tensor,
        proposal: torch.Tensor,
        log_ratio: torch.Tensor,
    ) -> torch.Tensor:
        """Keep ``proposal`` where it passes :meth:`_metropolis`, ``current`` elsewhere."""
        return torch.where(self._metropolis(name, log_ratio), proposal, current)


def run_gibbs(
    inputs: ModelInputs,
    spec: ModelSpec,
    *,
    num_samples: int = 1000,
    warmup_steps: int = 1000,
    num_chains: int = 1,
    progress: bool = False,
) -> tuple[np.ndarray, dict[str, np.ndarray], dict[str, Any]]:
    r"""Run ``num_chains`` Gibbs chains one after another (see the module docstring).

    Returns the pooled ``W`` draws ``(num_chains * num_samples, R, T)``, the global sites'
    posterior means and diagnostics (acceptance rates of the Metropolis steps; with two or
    more chains ``rhat``, the split-:math:`\hat R` of every weight).
    """
    reason = gibbs_applicable(inputs)
    if reason is not None:
        raise ValueError(reason)
    sampler = _GibbsSampler(inputs, spec)
    has_kappa = spec.prior.regulator_scale
    total = num_chains * (warmup_steps + num_samples)
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=total, desc="gibbs")
    chains_w: list[np.ndarray] = []
    sums: dict[str, torch.Tensor] = {}
    for _ in range(num_chains):
        state, draws = _State(inputs, spec), []
        for step in range(warmup_steps + num_samples):
            sampler.sweep(state, adapt=step < warmup_steps)
            if bar is not None:
                bar.update()
            if step < warmup_steps:
                continue
            draws.append(state.w.to(torch.float32).cpu().numpy())
            for name, value in (
                ("tau", state.tau2.sqrt()), ("c2", state.c2), ("sigma", state.sigma2.sqrt()),
                ("b", state.b), *((("kappa", state.kappa2.sqrt()[:, 0]),) * has_kappa),
            ):  # fmt: skip
                sums[name] = sums[name] + value if name in sums else value.clone()
        chains_w.append(np.stack(draws))
    if bar is not None:
        bar.close()
    diagnostics: dict[str, Any] = {
        "num_samples": num_samples,
        "warmup_steps": warmup_steps,
        "num_chains": num_chains,
        "acceptance": {k: round(v / total, 4) for k, v in sampler.accepted.items()},
    }
    if sampler.jacobian is not None:  # the regulators' weight columns (Jacobian step)
        step = sampler.jacobian
        diagnostics["acceptance"]["weights"] = round(step.accepted / max(step.proposed, 1), 4)
        diagnostics["acceptance"]["swap"] = round(
            step.swaps_accepted / max(step.swaps_proposed, 1), 4
        )
    if num_chains > 1:
        diagnostics["rhat"] = split_rhat(np.stack(chains_w))
    means = {k: (v / (num_chains * num_samples)).cpu().numpy() for k, v in sums.items()}
    return np.concatenate(chains_w), means, diagnostics
