r"""Variational families for :func:`bayesgrn.model.grn_model`.

All guides are plain ``torch.nn.Module`` objects holding their parameters as
``nn.Parameter`` -- nothing touches Pyro's global param store -- and all use log-normal
factors for the positive scales :math:`\tau_j, c_j^2, \sigma_j, \lambda_{rj}` and normal
factors for the intercepts :math:`b_{kj}`. They differ in the weight factor:

``"normal"`` (mean-field)
    :math:`q(z_{rj}) = \mathcal N(m_{rj}, s_{rj}^2)`, independent of the scales. It ignores
    the posterior coupling of a strong weight's :math:`z` and :math:`\lambda`; measured on
    simulated 100-gene networks its 90% intervals still covered 82-94% of the true non-zero
    weights (docs/model.md), better than ``"conjugate"`` started from its first step.

``"conjugate"`` (structured; the default spec's, after a mean-field start)
    Each weight stays coupled to its own scale :math:`g_{rj} = \tau_j\tilde\lambda_{rj}`.
    The guide learns a Gaussian *likelihood factor* :math:`\mathcal N(W_{rj}; m_{rj}, v_{rj})`
    and multiplies it by the exact conditional prior :math:`\mathcal N(W_{rj}; 0, g_{rj}^2)`:

    .. math::

        q(W_{rj} \mid g_{rj}) = \mathcal N\!\left(\frac{g^2 m}{g^2 + v},\;
            \frac{g^2 v}{g^2 + v}\right), \qquad
        q(z_{rj} \mid g_{rj}) = \mathcal N\!\left(\frac{g\, m}{g^2 + v},\;
            \frac{v}{g^2 + v}\right).

    Where the data dominate (:math:`g^2 \gg v`) this is the centred posterior
    :math:`\mathcal N(m, v)`; where the prior dominates (:math:`g^2 \ll v`) it is the
    non-centred prior :math:`z \sim \mathcal N(0, 1)`, so it adapts its parameterisation
    weight by weight at no extra cost. With ``guide.mean_field_fraction = f > 0`` the
    first ``f`` of the steps fit the ``"normal"`` factor, which is then converted
    (:meth:`HorseshoeGuide.to_conjugate`): started from the first step, the conjugate
    factor commits to either orientation of an edge from its first noisy steps when the
    likelihood carries the Jacobian term, and different seeds commit differently.
``"lowrank"`` (per-target correlations)
    :math:`q(z_{\cdot j}) = \mathcal N(m_j, F_j F_j^\top + \mathrm{diag}(d_j))` with a rank-4
    factor :math:`F_j` per target, sampled as one auxiliary site per target and handed to
    the model's ``z`` through a ``Delta``. It keeps the correlations between the weights
    of one target's regulators (collinear regulators), not those across targets. Measured
    on 10 off-model 10-gene problems it did not improve calibration over mean-field
    (docs/calibration.md), so it is not the default.
``"conditional"`` (each target's regression posterior given the scales)
    The scales keep their log-normal factors; given them, each target's weights are drawn
    from their exact Gaussian posterior under the target's linear regression on its
    regulators (the Gibbs conditional of a Bayesian linear regression), times a learned
    diagonal Gaussian factor :math:`\mathcal N(W_{rj}; m_{rj}, v_{rj})` that can carry what
    that regression leaves out (the Jacobian term of the exact likelihood). It couples
    every weight with its own scale *and* with the other weights of its target, at the
    cost of one regulators x regulators Cholesky factor per target and step, from Gram
    matrices computed once (Gaussian family only; see :meth:`HorseshoeGuide._joint_z`).

The noise sds have a factor of their own (``guide.noise``):

``"free"``
    :math:`q(\sigma_j) = \mathrm{LogNormal}(\mu_j, s_j^2)`, independent of the weights.
``"residual"``
    :math:`q(\sigma_j \mid W, b) = \mathrm{LogNormal}(\log \hat s_j(W, b) + \mu_j, s_j^2)`,
    centred on the root mean square residual :math:`\hat s_j` of target ``j``'s equation
    under the draw (:func:`residual_rms`). In the posterior :math:`\sigma_j` follows the
    weights -- an explanation in which ``a → b`` carries the signal leaves ``b`` a small
    noise sd and ``a`` a large one, the reverse explanation the opposite -- and a free
    factor, fixed at one explanation's values, penalises every draw of the other. It costs
    one more pass over all samples per step (full-batch fits only).
"""

from __future__ import annotations

import math

import pyro
import pyro.distributions as dist
import torch
from torch import nn
from torch.nn.functional import softplus

from bayesgrn.model import ModelInputs, horseshoe_weights, one_hot_rows, prior_sd
from bayesgrn.spec import GuideSpec, PriorSpec, residual_noise_applies

_MIN_SCALE = 1e-4
#: rank of the per-target covariance factor of the "lowrank" guide
LOW_RANK = 4


def _positive(raw: torch.Tensor) -> torch.Tensor:
    return softplus(raw) + _MIN_SCALE


def _inv_positive(value: float) -> float:
    return math.log(math.expm1(max(value - _MIN_SCALE, 1e-6)))


#: spectral radius allowed to the random part of the initial draws of ``W_RR`` when the
#: likelihood carries ``log|det(I - W_RR)|`` (see :func:`_jacobian_safe_scale`)
JACOBIAN_INIT_RADIUS = 0.2


def _jacobian_safe_scale(g0: torch.Tensor, v0: torch.Tensor, n_regulators: int) -> torch.Tensor:
    r"""Return the conjugate guide's initial prior scale, keeping ``det(I - W_RR)`` tame.

    At the start the conjugate guide draws every weight as
    :math:`W \sim \mathcal N(0, s^2)`, :math:`s^2 = g_0^2 v_0 / (g_0^2 + v_0)`, independently;
    by the circular law the spectral radius of such an :math:`R \times R` matrix is about
    :math:`s\sqrt R`. Close to 1, the Jacobian term :math:`\log|\det(I - W_{RR})|` and its
    gradient :math:`-(I - W_{RR})^{-\top}` are dominated by noise, and the fit never
    recovers the orientation information that term carries (measured on DREAM4 with
    knockouts: AUPR 0.41 with :math:`g_0 = 0.1`, :math:`s\sqrt R \approx 0.6`, against 0.54
    with the radius kept at 0.2). This returns the largest :math:`g_0` up to the spec's
    ``init_weight_scale`` with :math:`s\sqrt R \le` :data:`JACOBIAN_INIT_RADIUS`. Small
    problems are barely affected (10 genes: :math:`g_0` 0.1 → 0.093).
    """
    s2 = JACOBIAN_INIT_RADIUS**2 / max(n_regulators, 1)
    bounded = torch.sqrt(s2 * v0 / (v0 - s2).clamp(min=1e-12))
    return torch.where(v0 > s2, torch.minimum(g0, bounded), g0)


def resolve_noise(guide: GuideSpec, family: str, minibatched: bool) -> str:
    """Return the noise factor an SVI fit uses: ``guide.noise`` with ``"auto"`` resolved.

    ``"auto"`` is ``"residual"`` where :func:`~bayesgrn.spec.residual_noise_applies` (the
    Gaussian family with the ``"conjugate"``, ``"normal"`` or ``"lowrank"`` kind) in a
    full-batch fit, else ``"free"``. An explicit ``"residual"`` in a minibatched fit raises
    (it needs every sample at every step).
    """
    if guide.noise == "residual" and minibatched:
        raise ValueError(
            'guide.noise = "residual" computes every target\'s residuals over all samples at '
            "each step, which a minibatched fit cannot afford; drop subsample_size or use "
            "guide={'noise': 'free'} (or 'auto')"
        )
    if guide.noise != "auto":
        return guide.noise
    applies = residual_noise_applies(family, guide.kind)
    return "residual" if applies and not minibatched else "free"


def residual_rms(inputs: ModelInputs, w: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    r"""Root mean square residual :math:`\hat s_j` of each target's equation given ``W`` and ``b``.

    .. math::

        \hat s_j^2 = \frac{1}{n_j} \sum_{s:\,j \text{ active in } s}
            \Big(x_{sj} - b_{k(s)j} - \sum_r W_{rj} x_{sr}\Big)^2

    over all samples (never a minibatch). ``w`` is ``(..., n_regulators, n_targets)`` and
    ``b`` ``(..., n_conditions, n_targets)``; returns ``(n_targets,)``, or ``(..., 1,
    n_targets)`` with leading draw/particle dimensions (the shape of a targets-plate site).
    """
    x = inputs.x
    regulators = x.index_select(1, inputs.regulator_index)  # (n_samples, n_regulators)
    y = x if inputs.target_index is None else x.index_select(1, inputs.target_index)
    active = inputs.active.to(x.dtype)  # (n_samples, n_targets)
    intercept = one_hot_rows(inputs.condition, inputs.n_conditions, x.dtype) @ b
    resid2 = ((y - intercept - regulators @ w).square() * active).sum(-2)  # (..., n_targets)
    rms = torch.sqrt(resid2 / active.sum(0).clamp(min=1.0) + _MIN_SCALE**2)
    return rms if rms.dim() == 1 else rms.unsqueeze(-2)


class HorseshoeGuide(nn.Module):
    """Guide for :func:`~bayesgrn.model.grn_model` (see the module docstring).

    Parameters
    ----------
    inputs
        The model inputs (shapes and ``tau0`` for initialisation).
    prior
        The prior spec (slab scale for initialisation).
    spec
        Guide kind and initial scale.
    """

    def __init__(self, inputs: ModelInputs, prior: PriorSpec, spec: GuideSpec) -> None:
        super().__init__()
        self.kind = spec.kind
        n_reg, n_tgt, n_cond = inputs.n_regulators, inputs.n_targets, inputs.n_conditions
        like = inputs.tau0
        s0 = _inv_positive(spec.init_scale)

        def param(shape: tuple[int, ...], value: float) -> nn.Parameter:
            return nn.Parameter(torch.full(shape, value, dtype=like.dtype, device=like.device))

        self.tau_loc = nn.Parameter(inputs.tau0.log().clone())
        self.tau_raw = param((n_tgt,), s0)
        self.c2_loc = param((n_tgt,), math.log(prior.slab_scale**2))
        self.c2_raw = param((n_tgt,), s0)
        # run_svi passes "auto" resolved; a guide built on its own resolves it for a full batch
        self.noise = resolve_noise(spec, inputs.family, minibatched=False)
        # "residual": sigma_loc is the log-ratio of sigma_j to the draw's residual rms
        sigma0 = 0.0 if self.noise == "residual" else math.log(0.5 * prior.noise_scale)
        self.sigma_loc = param((n_tgt,), sigma0)
        self.sigma_raw = param((n_tgt,), s0)
        self.family = inputs.family
        if self.family == "sigmoid":
            self.gain_loc = param((n_tgt,), math.log(4.0))
            self.gain_raw = param((n_tgt,), s0)
            self.bias_loc = param((n_tgt,), 0.0)
            self.bias_raw = param((n_tgt,), s0)
        self.b_loc = param((n_cond, n_tgt), 0.0)
        self.b_raw = param((n_cond, n_tgt), s0)
        # conjugate: log-variance of the likelihood factor; normal: raw sd of z
        n_obs = inputs.active.sum(0).clamp(min=1).to(like.dtype)  # (n_targets,)
        log_v0 = (-n_obs.log()).expand(n_reg, n_tgt)
        # start every weight "free" (prior sd tau0*lam ~ init_weight_scale, larger than the
        # likelihood factor's sd) so the data move W from step one; shrinkage then acts
        # on the null weights. This avoids the vanishing gradients of a start at the prior.
        g0 = torch.full_like(inputs.tau0, spec.init_weight_scale)  # (n_targets,)
        # conjugate with a mean-field start: the weight factor is mean-field until
        # to_conjugate() (the flag is a buffer, so checkpoints and restarts carry it)
        staged = self.kind == "conjugate" and spec.mean_field_fraction > 0
        self.register_buffer("conjugate_phase", torch.tensor(not staged))
        self.register_buffer("log_v0", log_v0.clone(), persistent=False)
        if self.kind == "conjugate" and not staged and inputs.jacobian_targets is not None:
            g0 = _jacobian_safe_scale(g0, 1.0 / n_obs, n_reg)
        lam0 = torch.log(g0 / inputs.tau0).expand(n_reg, n_tgt)
        self.lam_loc = nn.Parameter(lam0.clone())
        self.lam_raw = param((n_reg, n_tgt), s0)
        self.regulator_scale = prior.regulator_scale
        if self.regulator_scale:  # kappa_r starts at 1: the start of the other scales holds
            self.kappa_loc = param((n_reg, 1), 0.0)
            self.kappa_raw = param((n_reg, 1), s0)
        self.w_loc = param((n_reg, n_tgt), 0.0)
        self.w_raw = (
            nn.Parameter(log_v0.clone())
            if self.kind == "conjugate" and not staged
            else param((n_reg, n_tgt), s0)
        )
        if self.kind == "conditional":
            self._init_conditional(inputs)
            # the learned factor N(W; m, v) starts flat (v = 10 against the data's 1/n_j)
            self.w_raw = nn.Parameter(torch.full_like(self.w_loc, math.log(10.0)))
        if self.kind == "lowrank":
            # per target: z_{.j} ~ N(m_j, F_j F_j^T + diag(d_j)) with F_j of rank LOW_RANK;
            # small random factors break the symmetry between the columns of F_j
            rank = min(LOW_RANK, n_reg)
            gen = torch.Generator(device="cpu").manual_seed(0)
            factor = 0.01 * torch.randn(n_tgt, n_reg, rank, generator=gen, dtype=like.dtype)
            self.w_factor = nn.Parameter(factor.to(like.device))

    @property
    def awaiting_conjugate(self) -> bool:
        """True while a conjugate guide with a mean-field start is still mean-field."""
        return self.kind == "conjugate" and not bool(self.conjugate_phase)

    @torch.no_grad()
    def to_conjugate(self) -> None:
        r"""Convert the fitted mean-field weight factor into the conjugate one.

        Keeps the mean of each weight at the scales' medians :math:`g^*_{rj}` (the
        log-normal factors' :math:`e^{\mu}`): the conjugate factor's variance starts at
        the data's :math:`v_{rj} = 1/n_j` (its own initial value) and its mean at

        .. math::

            m_{rj} = \mu^z_{rj}\, \frac{g^{*2}_{rj} + v_{rj}}{g^*_{rj}},
            \qquad\text{so that}\qquad
            \mathrm E_q[z_{rj} \mid g^*_{rj}] = \frac{g^* m}{g^{*2} + v} = \mu^z_{rj}.

        The mean-field start settles which of two orientations a weight takes (the
        conjugate factor, started free, commits to either from its first noisy steps);
        the conjugate factor then restores the coupling of each weight with its scale.
        """
        if not self.awaiting_conjugate:
            raise RuntimeError("to_conjugate: the guide is not a conjugate guide awaiting it")
        tau, c2, lam = self.tau_loc.exp(), self.c2_loc.exp(), self.lam_loc.exp()
        if self.regulator_scale:
            lam = lam * self.kappa_loc.exp()
        g = prior_sd(lam, tau, c2)
        v = self.log_v0.exp()
        self.w_loc.copy_(self.w_loc * (g.square() + v) / g)
        self.w_raw.copy_(self.log_v0)
        self.conjugate_phase.fill_(True)

    def draw_bytes(self, inputs: ModelInputs) -> int:
        """Working bytes per vectorised draw beyond the regulator x target tensors.

        The ``"conditional"`` guide builds a regulators x regulators precision matrix, its
        Cholesky factor and the distribution's ``scale_tril`` for every target in each draw.
        """
        if self.kind != "conditional":
            return 0
        return 4 * inputs.n_targets * inputs.n_regulators**2 * inputs.x.element_size()

    def _init_conditional(self, inputs: ModelInputs) -> None:
        """Store each target's sufficient statistics of its regression on the regulators."""
        x = inputs.x
        regs = x.index_select(1, inputs.regulator_index)  # (n_samples, n_reg)
        y = x if inputs.target_index is None else x.index_select(1, inputs.target_index)
        a = inputs.active.to(x.dtype)  # (n_samples, n_targets)
        onehot = torch.nn.functional.one_hot(inputs.condition, inputs.n_conditions).to(x.dtype)
        self.register_buffer(
            "gram", torch.einsum("sr,st,sq->trq", regs, a, regs), persistent=False
        )
        self.register_buffer("xy", torch.einsum("sr,st->tr", regs, a * y), persistent=False)
        self.register_buffer(
            "xsum", torch.einsum("sk,st,sr->tkr", onehot, a, regs), persistent=False
        )

    def _joint_z(
        self,
        inputs: ModelInputs,
        tau: torch.Tensor,
        c2: torch.Tensor,
        sigma: torch.Tensor | None,
        b: torch.Tensor,
        lam: torch.Tensor,
    ) -> dist.TorchDistribution:
        r"""Return the per-target joint factor of ``z`` ("lowrank" and "conditional" guides).

        ``"lowrank"``: :math:`\mathcal N(m_j, F_j F_j^\top + \operatorname{diag}(d_j))`.
        ``"conditional"``: target ``j``'s Gaussian regression posterior in ``z`` given the
        scales. With :math:`g = \tau_j\tilde\lambda_{.j} A_{.j}`, Gram matrix :math:`G_j`,
        residual cross-products :math:`c_j = X^\top(y_j - b_{k(\cdot)j})` over the target's
        active samples and the learned factor :math:`\mathcal N(W; m, \operatorname{diag} v)`:

        .. math::

            P_j = I + \operatorname{diag}(g)\,(G_j/\sigma_j^2 + \operatorname{diag}(1/v))
                \operatorname{diag}(g), \qquad
            q(z_{.j}) = \mathcal N\big(P_j^{-1} g \circ (c_j/\sigma_j^2 + m/v),\; P_j^{-1}\big).
        """
        if self.kind == "lowrank":
            return dist.LowRankMultivariateNormal(
                self.w_loc.T, self.w_factor, _positive(self.w_raw).T.square()
            )
        assert sigma is not None, "the conditional guide draws sigma before z (noise 'free')"
        g = (prior_sd(lam, tau, c2) * inputs.allowed).transpose(-1, -2)
        s2 = sigma.square()
        s2 = (s2 if s2.dim() == 1 else s2.squeeze(-2)).unsqueeze(-1)  # (..., n_targets, 1)
        cross = self.xy - torch.einsum("...kt,tkr->...tr", b, self.xsum)  # (..., T, R)
        inv_v = torch.exp(-self.w_raw).T  # (T, R)
        lin = g * (cross / s2 + self.w_loc.T * inv_v)
        prec = self.gram / s2.unsqueeze(-1) + torch.diag_embed(inv_v)
        eye = torch.eye(g.shape[-1], dtype=g.dtype, device=g.device)
        precision = eye + g.unsqueeze(-1) * prec * g.unsqueeze(-2)
        chol = torch.linalg.cholesky(precision)
        mean = torch.cholesky_solve(lin.unsqueeze(-1), chol).squeeze(-1)
        if g.dim() > 2:  # draws/particles: keep the plate's singleton regulators dim
            mean, precision = mean.unsqueeze(-3), precision.unsqueeze(-4)
        return dist.MultivariateNormal(mean, precision_matrix=precision)

    def forward(
        self, inputs: ModelInputs, prior: PriorSpec, subsample_size: int | None = None
    ) -> dict[str, torch.Tensor]:
        """Sample every latent site of the model; returns them by name."""
        n_reg, n_tgt, device = inputs.n_regulators, inputs.n_targets, inputs.x.device
        regulators = pyro.plate("regulators", n_reg, dim=-2, device=device)
        kappa = None
        if self.regulator_scale:
            with regulators:
                kappa = pyro.sample(
                    "kappa", dist.LogNormal(self.kappa_loc, _positive(self.kappa_raw))
                )
        with pyro.plate("targets", n_tgt, dim=-1, device=device):
            tau = pyro.sample("tau", dist.LogNormal(self.tau_loc, _positive(self.tau_raw)))
            c2 = pyro.sample("c2", dist.LogNormal(self.c2_loc, _positive(self.c2_raw)))
            sigma = None  # "residual": drawn after the weights, below
            if self.noise == "free":
                sigma = pyro.sample(
                    "sigma", dist.LogNormal(self.sigma_loc, _positive(self.sigma_raw))
                )
            nonlinear = {}
            if self.family == "sigmoid":
                nonlinear["gain"] = pyro.sample(
                    "gain", dist.LogNormal(self.gain_loc, _positive(self.gain_raw))
                )
                nonlinear["bias"] = pyro.sample(
                    "bias", dist.Normal(self.bias_loc, _positive(self.bias_raw))
                )
            with pyro.plate("conditions", inputs.n_conditions, dim=-2, device=device):
                b = pyro.sample("b", dist.Normal(self.b_loc, _positive(self.b_raw)))
            with regulators:
                lam = pyro.sample("lam", dist.LogNormal(self.lam_loc, _positive(self.lam_raw)))
            local = lam if kappa is None else lam * kappa
            if self.kind in ("lowrank", "conditional"):
                # one multivariate draw per target (targets the batch, regulators the event),
                # handed to the model's z through a Delta that carries no density
                joint = pyro.sample(
                    "z_targets", self._joint_z(inputs, tau, c2, sigma, b, local),
                    infer={"is_auxiliary": True},
                )  # fmt: skip
                z_joint = (joint.squeeze(-3) if joint.dim() == 4 else joint).transpose(-1, -2)
            with regulators:
                if self.kind in ("lowrank", "conditional"):
                    z = pyro.sample("z", dist.Delta(z_joint))
                elif self.kind == "conjugate" and not self.awaiting_conjugate:
                    g = prior_sd(local, tau, c2)  # (n_reg, n_targets)
                    g2, v = g.square(), self.w_raw.exp()
                    z_loc = g * self.w_loc / (g2 + v)
                    z_scale = torch.sqrt(v / (g2 + v)).clamp(min=_MIN_SCALE)
                    z = pyro.sample("z", dist.Normal(z_loc, z_scale))
                else:
                    z = pyro.sample("z", dist.Normal(self.w_loc, _positive(self.w_raw)))
            if self.noise == "residual":
                w = horseshoe_weights(z, local, tau, c2, inputs.allowed)  # the draw's W
                rms = residual_rms(inputs, w, b)  # (n_targets,) or (..., 1, n_targets)
                sigma = pyro.sample(
                    "sigma", dist.LogNormal(rms.log() + self.sigma_loc, _positive(self.sigma_raw))
                )
        out = {"tau": tau, "c2": c2, "sigma": sigma, "b": b, "lam": lam, "z": z, **nonlinear}
        if kappa is not None:
            out["kappa"] = kappa
        return out
