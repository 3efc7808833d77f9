r"""Held-out predictive density of a fitted guide (for model comparison).

For held-out samples :math:`s` and guide draws :math:`\theta_d \sim q`, :math:`d = 1..S`,
the log pointwise predictive density is

.. math::

    \mathrm{lpd}_s = \log \frac{1}{S} \sum_{d=1}^{S}
        \prod_{j \in U_s} p(x_{sj} \mid x_{s,\mathrm{reg}}, \theta_d),

where :math:`U_s` are the targets whose equation is active in sample :math:`s` (not cut by a
perturbation) and :math:`p(x_{sj} \mid x_{s,\mathrm{reg}}, \theta)` is the density of the
model's observed site ``x``: the structural equation of target :math:`j` given the sample's
regulator values. The expected log predictive density of the set is
:math:`\mathrm{elpd} = \sum_s \mathrm{lpd}_s`.

The score leaves out the Jacobian factor of the exact likelihood
(:math:`\log|\det(I - W)_{UU}|` for the linear family, its data-dependent analogue for a
nonlinear one). Whether a fit carries that term depends on the family, on
``likelihood.jacobian`` and on the data (``"auto"`` uses it only when regulators are
clamped; pseudo-likelihood specs and the count family never do), and it is one shared term
per sample rather than a prediction of any gene. Scoring every family by the product of
its conditional densities compares all of them by the same rule -- how well each target is
predicted from its regulators in new samples -- whatever their training likelihood. For an
acyclic ``W`` the Jacobian is exactly 1, so the score then equals the joint predictive
density; it differs only through cycles. The rule rewards what a pseudo-likelihood fit
optimises, so a fit trained with the Jacobian is scored by a rule it was not trained for
(:func:`bayesgrn.compare` notes this in its table).

The draws are vectorised in chunks (a plate at dim -3), as in :mod:`bayesgrn.infer.psis`:
the guide is traced on the training inputs and the model replayed on the held-out ones.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pyro
import torch

from bayesgrn.guide import HorseshoeGuide
from bayesgrn.infer.replay import chunks, replayed_traces
from bayesgrn.model import ModelInputs
from bayesgrn.spec import ModelSpec

#: working-space budget of one vectorised chunk of draws
CHUNK_BYTES = 256 * 2**20

#: per-sample fields of :class:`~bayesgrn.model.ModelInputs` (the rest describe the model)
SAMPLE_FIELDS = ("x", "active", "condition", "counts", "log_size_factor")


def scoring_inputs(train: ModelInputs, heldout: ModelInputs) -> ModelInputs:
    """Return the training inputs with the held-out samples' fields and no Jacobian.

    Everything that describes the model (edge mask, prior scales, number of conditions,
    target subset) comes from ``train``, so the replayed guide draws fit exactly; only the
    samples are ``heldout``'s (built with ``build_inputs(..., reference=training data)``).
    """
    if heldout.n_conditions != train.n_conditions:
        raise ValueError(
            f"held-out inputs have {heldout.n_conditions} conditions, the training inputs "
            f"{train.n_conditions}: build them with build_inputs(..., reference=training data)"
        )
    if heldout.x.shape[1] != train.x.shape[1]:
        raise ValueError("held-out and training inputs have different numbers of genes")
    fields = {f.name for f in dataclasses.fields(ModelInputs)}
    sample = {k: getattr(heldout, k) for k in SAMPLE_FIELDS if k in fields}
    return dataclasses.replace(train, **sample, jacobian_targets=None, clamped_regulators=None)


@torch.no_grad()
def heldout_log_likelihood(
    guide: HorseshoeGuide,
    train: ModelInputs,
    heldout: ModelInputs,
    spec: ModelSpec,
    num_draws: int,
    chunk_bytes: int = CHUNK_BYTES,
) -> np.ndarray:
    r"""``(num_draws, n_heldout)``: :math:`\sum_{j \in U_s} \log p(x_{sj} \mid \cdot, \theta_d)`.

    Parameters
    ----------
    guide
        The fitted guide (built on ``train``).
    train
        The training inputs the guide was fitted to.
    heldout
        Inputs of the held-out samples on the training scale (see :func:`scoring_inputs`).
    spec
        The fit's spec (its prior is passed to the model and guide).
    num_draws
        Guide draws ``S``.
    chunk_bytes
        Working-space budget of one chunk of vectorised draws.
    """
    held = scoring_inputs(train, heldout)
    n_reg, n_tgt, n_held = train.n_regulators, train.n_targets, held.n_samples
    per_draw = (8 * n_reg + 6 * n_held) * n_tgt * train.x.element_size()
    per_draw += guide.draw_bytes(train)
    out = np.empty((num_draws, n_held), dtype=np.float64)
    with pyro.validation_enabled(False):
        for done, size in chunks(num_draws, chunk_bytes, per_draw):
            _, model_trace = replayed_traces(guide, train, held, spec.prior, size, "heldout_draws")
            site = model_trace.nodes["x"]
            log_p = site["fn"].log_prob(site["value"])  # (size, n_held, n_targets)
            log_p = log_p.expand(size, n_held, n_tgt)
            if site["mask"] is not None:
                log_p = torch.where(site["mask"], log_p, torch.zeros_like(log_p))
            out[done : done + size] = log_p.double().sum(-1).cpu().numpy()
    return out


def pointwise_lpd(log_lik: np.ndarray) -> np.ndarray:
    r"""Per-sample :math:`\log \frac1S \sum_d \exp(\ell_{ds})` of an ``(S, n)`` matrix."""
    log_lik = np.asarray(log_lik, dtype=np.float64)
    top = log_lik.max(axis=0)
    safe = np.where(np.isfinite(top), top, 0.0)
    total = np.log(np.exp(log_lik - safe).sum(axis=0))
    return total + safe - math.log(log_lik.shape[0])
