r"""Pareto k-hat: did the variational fit work? (Yao et al. 2018).

For draws :math:`\theta_s \sim q` the importance ratios
:math:`r_s = p(\theta_s, x) / q(\theta_s)` are heavy-tailed when :math:`q` misses mass
of the posterior. PSIS fits a generalized Pareto distribution to the largest ratios; its
shape :math:`\hat k` says how far to trust :math:`q`: below 0.5 importance sampling (and
the VI approximation) is reliable, 0.5-0.7 usable, above 0.7 the approximation is poor
for expectations that depend on the tails.

The model factorises over targets (up to the Jacobian term), so besides the joint
:math:`\hat k` -- which, in thousands of dimensions, is above 0.7 for practically any
variational family -- bayesgrn reports a :math:`\hat k_j` per target from the per-target
log-ratios :math:`\log p_j(\theta_{\cdot j}, x_{\cdot j}) - \log q_j(\theta_{\cdot j})`. These
answer the useful question: *for which genes' regulator sets is the fit untrustworthy?*

The generalized Pareto fit is Zhang & Stephens' (2009) empirical-Bayes estimator with the
weakly informative prior used by PSIS (Vehtari et al. 2024), as in ArviZ's ``psislw``;
``tests/test_psis.py`` checks it against ArviZ 0.2x.
"""

from __future__ import annotations

import numpy as np
import pyro
import torch

from bayesgrn.guide import HorseshoeGuide
from bayesgrn.infer.replay import chunks, replayed_traces
from bayesgrn.model import ModelInputs
from bayesgrn.spec import ModelSpec

#: k-hat above this: the importance ratios have (close to) infinite variance
KHAT_THRESHOLD = 0.7


def pareto_khat(log_weights: np.ndarray) -> float:
    """Pareto shape of the upper tail of ``exp(log_weights)`` (PSIS, relative ESS 1)."""
    lw = np.asarray(log_weights, dtype=np.float64).ravel()
    if lw.size < 10 or not np.isfinite(lw).all():
        return float("inf") if lw.size >= 10 else float("nan")
    lw = lw - lw.max()
    n = lw.size
    tail_len = int(np.ceil(min(0.2 * n, 3.0 * np.sqrt(n))))
    ordered = np.sort(lw)
    cutoff = max(ordered[-tail_len - 1], np.log(np.finfo(float).tiny))
    tail = lw[lw > cutoff]
    if tail.size <= 4:
        return float("inf")
    exceedances = np.sort(np.exp(tail) - np.exp(cutoff))
    return _gpd_shape(exceedances)


def _gpd_shape(x: np.ndarray) -> float:
    """Generalized Pareto shape of sorted positive exceedances (Zhang & Stephens 2009)."""
    prior_bs, prior_k = 3.0, 10.0
    n = x.size
    m = 30 + int(np.sqrt(n))
    b = 1.0 - np.sqrt(m / (np.arange(1, m + 1, dtype=np.float64) - 0.5))
    b /= prior_bs * x[int(n / 4 + 0.5) - 1]
    b += 1.0 / x[-1]
    k = np.log1p(-b[:, None] * x).mean(axis=1)
    profile = n * (np.log(-(b / k)) - k - 1.0)
    weights = 1.0 / np.exp(profile - profile[:, None]).sum(axis=1)
    keep = weights >= 10 * np.finfo(float).eps
    weights, b = weights[keep], b[keep]
    weights /= weights.sum()
    b_post = float(np.sum(b * weights))
    k_post = float(np.log1p(-b_post * x).mean())
    # shrink towards 0.5 with the weakly informative prior
    return (n * k_post + prior_k * 0.5) / (n + prior_k)


#: working-space budget of one vectorised chunk of draws
CHUNK_BYTES = 256 * 2**20


@torch.no_grad()
def importance_log_weights(
    guide: HorseshoeGuide, inputs: ModelInputs, spec: ModelSpec, num_draws: int
) -> tuple[np.ndarray, np.ndarray]:
    """``log p(theta, x) - log q(theta)`` for ``num_draws`` guide draws (full data).

    Draws are vectorised in chunks (a ``draws`` plate at dim -3) sized to ``CHUNK_BYTES``.

    Returns
    -------
    total
        ``(num_draws,)`` joint log-ratios.
    per_target
        ``(num_draws, n_targets)`` the per-target parts (every site whose last axis is the
        target axis; the Jacobian term is shared and only in ``total``).
    """
    n_tgt = inputs.n_targets
    per_draw = 8 * (inputs.n_regulators + inputs.n_samples) * n_tgt * inputs.x.element_size()
    if inputs.family == "sigmoid" and inputs.jacobian_targets is not None:
        # the nonlinear Jacobian holds one regulators x regulators matrix per sample
        per_draw += 4 * inputs.n_samples * inputs.n_regulators**2 * inputs.x.element_size()
    per_draw += guide.draw_bytes(inputs)
    totals, parts = [], []
    for _, size in chunks(num_draws, CHUNK_BYTES, per_draw):
        guide_trace, model_trace = replayed_traces(
            guide, inputs, inputs, spec.prior, size, "psis_draws"
        )
        shared = inputs.tau0.new_zeros(size)
        by_target = inputs.tau0.new_zeros(size, n_tgt)
        for trace, sign in ((model_trace, 1.0), (guide_trace, -1.0)):
            trace.compute_log_prob()
            for site in trace.nodes.values():
                if site["type"] != "sample" or "log_prob" not in site:
                    continue
                lp = site["log_prob"]
                while lp.dim() < 3:  # sites without a draws dimension
                    lp = lp.unsqueeze(0)
                lp = lp.expand(size, *lp.shape[1:])
                if lp.shape[-1] == n_tgt and site["name"] != "jacobian":
                    by_target = by_target + sign * lp.sum(1)
                else:
                    shared = shared + sign * lp.reshape(size, -1).sum(1)
        parts.append(by_target.double().cpu().numpy())
        totals.append((by_target.sum(1) + shared).double().cpu().numpy())
    return np.concatenate(totals), np.concatenate(parts)


def psis_diagnostics(
    guide: HorseshoeGuide, inputs: ModelInputs, spec: ModelSpec, num_draws: int
) -> dict[str, object]:
    """Joint and per-target Pareto-k-hat of the fitted guide (JSON-serialisable)."""
    with pyro.validation_enabled(False):
        total, per_target = importance_log_weights(guide, inputs, spec, num_draws)
    khat_targets = np.array([pareto_khat(per_target[:, j]) for j in range(per_target.shape[1])])
    above = khat_targets > KHAT_THRESHOLD
    return {
        "pareto_k": round(float(pareto_khat(total)), 4),
        "pareto_k_by_target": [round(float(k), 4) for k in khat_targets],
        "pareto_k_targets_above_0.7": int(above.sum()),
        "pareto_k_median_target": round(float(np.median(khat_targets)), 4),
        "psis_draws": int(num_draws),
    }
