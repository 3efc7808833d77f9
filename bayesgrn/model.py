r"""The linear steady-state model with a regularized horseshoe on ``W``.

For samples :math:`s`, targets :math:`j` and candidate regulators :math:`r` (all on the
standardised scale of :class:`~bayesgrn.data.ExpressionData`):

.. math::

    x_{sj} &= b_{k(s)j} + \sum_r W_{rj}\, x_{sr} + \varepsilon_{sj},
        \qquad \varepsilon_{sj} \sim \mathcal N(0, \sigma_j^2)
        \quad\text{for every } (s, j) \text{ with } j \text{ not perturbed in } s, \\
    W_{rj} &= z_{rj}\, \tau_j\, \tilde\lambda_{rj}\, A_{rj}, \qquad
        z_{rj} \sim \mathcal N(0, 1), \\
    \tilde\lambda_{rj}^2 &= \frac{c_j^2 \lambda_{rj}^2}{c_j^2 + \tau_j^2 \lambda_{rj}^2},
        \qquad \lambda_{rj} \sim \mathcal C^+(0, \ell_{rj}), \\
    \tau_j &\sim \mathcal C^+(0, \tau_{0j}), \qquad
        \tau_{0j} = \frac{p_0}{D_j - p_0} \frac{1}{\sqrt{n_j}}, \qquad
    c_j^2 \sim \mathrm{InvGamma}(\nu/2, \nu s^2/2), \\
    \sigma_j &\sim \mathcal N^+(0, s_\sigma^2), \qquad b_{kj} \sim \mathcal N(0, s_b^2).

With ``prior.regulator_scale`` every regulator also has a scale
:math:`\kappa_r \sim \mathcal C^+(0, 1)` shared by its outgoing weights, which then use
:math:`\kappa_r \lambda_{rj}` in place of :math:`\lambda_{rj}` (hub regulators are shrunk
less on each target; :func:`effective_local_scale`).

:math:`A_{rj} \in \{0, 1\}` removes self-edges (and forbidden edges); :math:`\ell_{rj}` is
the local prior scale (1 unless prior knowledge raises it); :math:`k(s)` is the sample's
condition; :math:`D_j` and :math:`n_j` are target ``j``'s number of candidate regulators
and of unperturbed samples. Perturbed entries (knockouts etc.) are *cut* from the
likelihood -- the do-operator -- but still act as regressors for their targets. The noise
scale in :math:`\tau_0` is 1 because the data are standardised.

The product over targets is an exact likelihood when ``W`` is acyclic and a pseudo-
likelihood (a dependency network) otherwise; it factorises over targets given the
per-target globals :math:`\tau_j, c_j^2, \sigma_j`.

Two other families share the prior and the interventions:

* ``family = "sigmoid"``, with gain :math:`v_j \sim \mathrm{LogNormal}(\log 4, 1)`,
  threshold :math:`h_j \sim \mathcal N(0, 2^2)` and, as its exact-likelihood term, the
  per-sample :func:`log_jacobian_nonlinear`:

  .. math::

      x_{sj} = b_{k(s)j} + v_j\,\sigma\Big(h_j + \sum_r W_{rj} x_{sr}\Big) + \varepsilon_{sj}.

* ``family = "negbinomial"``, raw counts with size factors :math:`o_s` (see
  :mod:`bayesgrn.counts`), a per-target pseudo-likelihood:

  .. math::

      y_{sj} \sim \mathrm{NB}(\mu_{sj},\; \mu_{sj} + \sigma_j^2 \mu_{sj}^2), \qquad
      \log\mu_{sj} = o_s + m_j + b_{k(s)j} + d_j \sum_r W_{rj} x_{sr}.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pyro
import pyro.distributions as dist
import torch
from pyro import poutine

from bayesgrn.spec import PriorSpec


@dataclass(frozen=True)
class ModelInputs:
    """Tensors the model needs, already on the fit's device.

    Attributes
    ----------
    x
        ``(n_samples, n_genes)`` standardised expression.
    active
        ``(n_samples, n_targets)`` bool; False where the target's equation is cut.
    regulator_index
        ``(n_regulators,)`` column of each regulator in ``x``.
    allowed
        ``(n_regulators, n_targets)`` 0/1; 0 for self-edges and forbidden edges.
    local_scale
        ``(n_regulators, n_targets)`` scale of the half-Cauchy on ``lambda``.
    condition
        ``(n_samples,)`` int64 condition code per sample.
    n_conditions
        Number of conditions (intercept rows).
    tau0
        ``(n_targets,)`` global-scale prior per target.
    jacobian_targets
        ``(n_regulators,)`` target column of each regulator, or None to drop the Jacobian
        term (the per-target pseudo-likelihood).
    clamped_regulators
        ``(n_samples, k_max)`` int64: the regulators (rows of ``W``) clamped in each
        sample, padded with ``-1``.
    family
        ``"gaussian"`` (linear mean), ``"sigmoid"`` (saturating mean) or
        ``"negbinomial"`` (raw counts), see :func:`grn_model`.
    target_index
        ``(n_targets,)`` columns of ``x`` whose equations are modelled (``None``: all
        genes, the usual case; a subset for sharded fits).
    counts
        ``negbinomial`` only: ``(n_samples, n_targets)`` raw counts of the targets (float64).
    log_size_factor
        ``negbinomial`` only: ``(n_samples,)`` log size factor :math:`o_s` per sample.
    log_centre, log_spread
        ``negbinomial`` only: ``(n_targets,)`` the target's log mean normalised count
        :math:`m_j` and the sd :math:`d_j` of its ``log(1 + y/s)``, which put ``W`` on the
        same standardised scale as in the continuous families (see :mod:`bayesgrn.counts`).
    """

    x: torch.Tensor
    active: torch.Tensor
    regulator_index: torch.Tensor
    allowed: torch.Tensor
    local_scale: torch.Tensor
    condition: torch.Tensor
    n_conditions: int
    tau0: torch.Tensor
    jacobian_targets: torch.Tensor | None = None
    clamped_regulators: torch.Tensor | None = None
    family: str = "gaussian"
    target_index: torch.Tensor | None = None
    counts: torch.Tensor | None = None
    log_size_factor: torch.Tensor | None = None
    log_centre: torch.Tensor | None = None
    log_spread: torch.Tensor | None = None

    @property
    def n_samples(self) -> int:  # noqa: D102
        return self.x.shape[0]

    @property
    def n_regulators(self) -> int:  # noqa: D102
        return self.allowed.shape[0]

    @property
    def n_targets(self) -> int:  # noqa: D102
        return self.allowed.shape[1]


def global_scale_prior(
    expected_edges: float, n_candidates: torch.Tensor, n_samples: torch.Tensor
) -> torch.Tensor:
    r"""Return Piironen & Vehtari's global scale :math:`\tau_0 = p_0/(D - p_0) \cdot 1/\sqrt{n}`.

    The noise sd in their formula is 1 on the standardised scale.

    ``p0`` is capped below ``D`` so that a target with few candidates keeps a positive scale.
    """
    d = n_candidates.clamp(min=1.0)
    p0 = torch.minimum(torch.full_like(d, expected_edges), 0.5 * d)
    return p0 / (d - p0) / n_samples.clamp(min=1.0).sqrt()


def regularized_scale(lam: torch.Tensor, tau: torch.Tensor, c2: torch.Tensor) -> torch.Tensor:
    r"""Compute the regularized local scale.

    :math:`\tilde\lambda = \sqrt{c^2\lambda^2 / (c^2 + \tau^2\lambda^2)}`.

    Limits: for :math:`\tau\lambda \to 0`, :math:`\tau\tilde\lambda \approx \tau\lambda \to 0`
    (horseshoe shrinkage); for :math:`\tau\lambda \to \infty`, :math:`\tau\tilde\lambda \to c`
    (a Gaussian slab of scale :math:`c`).
    """
    lam2 = lam.square()
    return torch.sqrt(c2 * lam2 / (c2 + tau.square() * lam2))


def prior_sd(lam: torch.Tensor, tau: torch.Tensor, c2: torch.Tensor) -> torch.Tensor:
    r"""Return the conditional prior sd :math:`g_{rj} = \tau_j\tilde\lambda_{rj}` of each weight.

    Given the scales, :math:`W_{rj} = g_{rj} z_{rj}` with :math:`z_{rj} \sim \mathcal N(0, 1)`.
    """
    return tau * regularized_scale(lam, tau, c2)


def effective_local_scale(latent: dict[str, torch.Tensor]) -> torch.Tensor:
    r"""Return :math:`\kappa_r \lambda_{rj}` from sampled sites (``lam`` without ``kappa``)."""
    lam = latent["lam"]
    kappa = latent.get("kappa")
    return lam if kappa is None else lam * kappa


def horseshoe_weights(
    z: torch.Tensor, lam: torch.Tensor, tau: torch.Tensor, c2: torch.Tensor, allowed: torch.Tensor
) -> torch.Tensor:
    r""":math:`W = z\,\tau\,\tilde\lambda\,A`; broadcasts over leading draw dimensions."""
    return z * prior_sd(lam, tau, c2) * allowed


def one_hot_rows(index: torch.Tensor, n_rows: int, dtype: torch.dtype) -> torch.Tensor:
    r"""One-hot matrix :math:`P` with :math:`P_{s,i} = 1[i = \text{index}_s]`.

    ``P @ table`` equals ``table[..., index, :]``, but its gradient with respect to ``table``
    is the product :math:`P^\top g` instead of an atomic scatter-add. Where ``index`` repeats
    (many samples share a condition or a clamped regulator), the scatter-add's summation
    order varies from run to run on CUDA, so the same seed would not give the same fit; the
    product is repeatable bit for bit.
    """
    return torch.nn.functional.one_hot(index, n_rows).to(dtype)


def log_jacobian(
    w: torch.Tensor, jacobian_targets: torch.Tensor, clamped: torch.Tensor
) -> torch.Tensor:
    r"""Per-sample :math:`\log|\det (I - W)_{UU}|` over each sample's unclamped genes :math:`U`.

    Only regulators have non-zero rows in ``W``, so the determinant reduces to the
    regulators' block :math:`B = I - W_{RR}`; clamping the regulators :math:`K` removes
    their rows and columns, and :math:`\det B_{-K,-K} = \det B \cdot \det (B^{-1})_{KK}`
    (Jacobi's complementary-minor identity).

    Parameters
    ----------
    w
        ``(..., n_regulators, n_targets)``, possibly with leading draw/particle dimensions.
    jacobian_targets
        ``(n_regulators,)`` target column of each regulator.
    clamped
        ``(batch, k_max)`` regulator rows clamped in each sample, padded with ``-1``.

    Returns
    -------
    torch.Tensor
        ``(..., batch)``.
    """
    n_reg = w.shape[-2]
    block = torch.eye(n_reg, dtype=w.dtype, device=w.device) - w.index_select(
        -1, jacobian_targets
    )  # (..., n_regulators, n_regulators)
    logdet = torch.linalg.slogdet(block).logabsdet  # (...)
    out = logdet.unsqueeze(-1).expand(*logdet.shape, clamped.shape[0])
    if clamped.shape[-1] == 0 or not bool((clamped >= 0).any()):
        return out
    inv = torch.linalg.inv(block)  # (..., n_regulators, n_regulators)
    pad = clamped < 0  # (batch, k_max)
    batch, k_max = clamped.shape
    # (B^{-1})_{KK} of each sample as P B^{-1} P^T: products, not gathers (see one_hot_rows);
    # P stays 2-d against B^{-1} so that B^{-1} is never copied per sample
    pick = one_hot_rows(clamped.clamp(min=0).reshape(-1), n_reg, w.dtype)  # (batch k_max, R)
    rows = (pick @ inv).unflatten(-2, (batch, k_max))  # (..., batch, k_max, n_regulators)
    sub = torch.einsum("...bir,bjr->...bij", rows, pick.view(batch, k_max, n_reg))
    keep = (~pad).unsqueeze(-1) & (~pad).unsqueeze(-2)  # (batch, k_max, k_max)
    eye = torch.eye(clamped.shape[-1], dtype=w.dtype, device=w.device)
    sub = torch.where(keep, sub, eye)  # padded rows/columns become identity
    return out + torch.linalg.slogdet(sub).logabsdet


def log_jacobian_nonlinear(
    w: torch.Tensor, slope: torch.Tensor, jacobian_targets: torch.Tensor
) -> torch.Tensor:
    r"""Per-sample :math:`\log|\det(I - W_{RR} G_s)|` for a nonlinear steady state.

    For :math:`x_j = f_j(\sum_r W_{rj} x_r) + e_j` the map :math:`x \mapsto e` has Jacobian
    :math:`I - W G_s`, with :math:`G_s = \operatorname{diag}(f_j'(\cdot)_s)` the slope of each
    equation in sample :math:`s`. A cut equation (perturbed gene) has slope 0, which turns
    its column into a unit column, and the determinant then equals that of the remaining
    genes' block -- no separate clamping step is needed. As in :func:`log_jacobian`, only
    the regulators' block matters.

    Parameters
    ----------
    w
        ``(..., n_regulators, n_targets)``.
    slope
        ``(..., batch, n_targets)`` :math:`f_j'` per sample, 0 for cut equations.
    jacobian_targets
        ``(n_regulators,)`` target column of each regulator.

    Returns
    -------
    torch.Tensor
        ``(..., batch)``.
    """
    n_reg = w.shape[-2]
    w_rr = w.index_select(-1, jacobian_targets).unsqueeze(-3)  # (..., 1, R, R)
    g = slope.index_select(-1, jacobian_targets).unsqueeze(-2)  # (..., batch, 1, R)
    eye = torch.eye(n_reg, dtype=w.dtype, device=w.device)
    return torch.linalg.slogdet(eye - w_rr * g).logabsdet


class _StableNegativeBinomial(dist.NegativeBinomial):
    r"""NB whose log-pmf is accurate for large ``total_count`` (near-Poisson genes).

    :math:`\log\Gamma(y + r) - \log\Gamma(r)` cancels catastrophically in float32 once
    :math:`r \gg 1`; it is computed in float64 and the result cast back.
    """

    def log_prob(self, value: torch.Tensor) -> torch.Tensor:
        if self._validate_args:
            self._validate_sample(value)
        r = self.total_count.double()
        logits = self.logits.double()
        y = value.double()
        out = (
            torch.lgamma(y + r)
            - torch.lgamma(r)
            - torch.lgamma(y + 1.0)
            - r * torch.nn.functional.softplus(logits)
            - y * torch.nn.functional.softplus(-logits)
        )
        return out.to(self.logits.dtype)


def negative_binomial(log_mu: torch.Tensor, sigma: torch.Tensor) -> dist.NegativeBinomial:
    r"""NB with mean :math:`\mu` and variance :math:`\mu + \sigma^2 \mu^2`.

    :math:`\sigma` is the coefficient of variation of the gamma mixing (biological
    variation); :math:`r = 1/\sigma^2` is the NB size and ``logits`` :math:`= \log\mu - \log r`.
    """
    sigma = sigma.clamp(min=1e-3)  # r <= 1e6: numerically a Poisson beyond that
    log_r = -2.0 * sigma.log()
    return _StableNegativeBinomial(total_count=log_r.exp(), logits=log_mu - log_r)


def grn_model(inputs: ModelInputs, prior: PriorSpec, subsample_size: int | None = None) -> None:
    """Pyro model of the linear steady state (equations in the module docstring).

    Sites: ``tau``, ``c2``, ``sigma`` (targets), ``b`` (conditions x targets), ``lam`` and
    ``z`` (regulators x targets), ``kappa`` (regulators x 1, with ``prior.regulator_scale``),
    deterministic ``W``, observed ``x``.
    """
    n_reg, n_tgt, device = inputs.n_regulators, inputs.n_targets, inputs.x.device
    half_df = 0.5 * prior.slab_df
    regulator_plate = pyro.plate("regulators", n_reg, dim=-2, device=device)
    kappa = None
    if prior.regulator_scale:
        with regulator_plate:
            one = inputs.tau0.new_ones((n_reg, 1))
            kappa = pyro.sample("kappa", dist.HalfCauchy(one))  # (n_regulators, 1)
    targets = pyro.plate("targets", n_tgt, dim=-1, device=device)
    with targets:
        tau = pyro.sample("tau", dist.HalfCauchy(inputs.tau0))  # (n_targets,)
        c2 = pyro.sample(
            "c2",
            dist.InverseGamma(  # (n_targets,)
                inputs.tau0.new_tensor(half_df),
                inputs.tau0.new_tensor(half_df * prior.slab_scale**2),
            ),
        )
        sigma = pyro.sample("sigma", dist.HalfNormal(inputs.tau0.new_tensor(prior.noise_scale)))
        if inputs.family == "sigmoid":
            # x_j = b_j + v_j sigmoid(h_j + sum_r W[r,j] x_r): gain v_j, threshold h_j
            one = inputs.tau0.new_tensor(1.0)
            gain = pyro.sample("gain", dist.LogNormal(one * math.log(4.0), one))
            bias = pyro.sample("bias", dist.Normal(0.0 * one, 2.0 * one))
        with pyro.plate("conditions", inputs.n_conditions, dim=-2, device=device):
            b = pyro.sample("b", dist.Normal(0.0, inputs.tau0.new_tensor(prior.intercept_scale)))
        with regulator_plate:
            lam = pyro.sample("lam", dist.HalfCauchy(inputs.local_scale))  # (n_reg, n_targets)
            z = pyro.sample("z", dist.Normal(0.0, torch.ones_like(inputs.local_scale)))
            local = lam if kappa is None else lam * kappa
            w = pyro.deterministic(  # (n_regulators, n_targets)
                "W", horseshoe_weights(z, local, tau, c2, inputs.allowed)
            )
    samples = pyro.plate(
        "samples", inputs.n_samples, subsample_size=subsample_size, dim=-2, device=device
    )
    with samples as idx:
        x = inputs.x.index_select(0, idx)  # (batch, n_genes)
        regulators = x.index_select(1, inputs.regulator_index)  # (batch, n_regulators)
        drive = regulators @ w  # (batch, n_targets)
        if inputs.family == "sigmoid":
            activation = torch.sigmoid(drive + bias)
            drive = gain * activation
        in_condition = inputs.condition.index_select(0, idx)  # k(s)
        intercept = one_hot_rows(in_condition, inputs.n_conditions, x.dtype) @ b  # b_{k(s)}
        active = inputs.active.index_select(0, idx)
        if inputs.family == "negbinomial":
            # log mu_sj = o_s + m_j + b_kj + d_j sum_r W[r,j] x_sr;  y ~ NB(mu, 1/sigma^2)
            log_mu = (
                inputs.log_size_factor.index_select(0, idx).unsqueeze(-1)
                + inputs.log_centre
                + intercept
                + inputs.log_spread * drive
            )
            y = inputs.counts.index_select(0, idx)  # (batch, n_targets)
            with targets, poutine.mask(mask=active):
                pyro.sample("x", negative_binomial(log_mu, sigma), obs=y)
        else:
            y = x if inputs.target_index is None else x.index_select(1, inputs.target_index)
            with targets, poutine.mask(mask=active):
                pyro.sample("x", dist.Normal(intercept + drive, sigma), obs=y)
        if inputs.jacobian_targets is not None:
            # change of variables e -> x of the structural equations: the exact likelihood
            # for any (also cyclic) W, per sample over its unclamped genes
            if inputs.family == "sigmoid":
                slope = gain * activation * (1.0 - activation) * active.to(activation.dtype)
                jac = log_jacobian_nonlinear(w, slope, inputs.jacobian_targets)
            else:
                clamped = inputs.clamped_regulators.index_select(0, idx)  # (batch, k_max)
                jac = log_jacobian(w, inputs.jacobian_targets, clamped)  # (..., batch)
            pyro.factor("jacobian", jac.unsqueeze(-1))  # (..., batch, 1)
