"""The conjugate guide with a mean-field start (``guide.mean_field_fraction``)."""

from __future__ import annotations

import dataclasses
import functools

import numpy as np
import pytest
import torch

import bayesgrn as bg
from bayesgrn.guide import HorseshoeGuide
from bayesgrn.infer import svi as svi_module
from bayesgrn.inputs import build_inputs
from bayesgrn.model import regularized_scale

STAGED = {"kind": "conjugate", "mean_field_fraction": 0.5}


def _staged_spec() -> bg.ModelSpec:
    spec = bg.load_spec("horseshoe")
    return dataclasses.replace(spec, guide=dataclasses.replace(spec.guide, **STAGED))


def test_conversion_keeps_each_weights_mean_at_the_scales_medians(tiny_sim):
    spec = _staged_spec()
    inputs = build_inputs(tiny_sim.data, spec, torch.device("cpu"), torch.float64)
    guide = HorseshoeGuide(inputs, spec.prior, spec.guide)
    assert guide.awaiting_conjugate
    gen = torch.Generator().manual_seed(1)
    with torch.no_grad():  # a mean-field state far from the start
        for param in (guide.w_loc, guide.lam_loc, guide.kappa_loc):
            param.add_(torch.randn(param.shape, generator=gen, dtype=torch.float64))
    mu = guide.w_loc.detach().clone()
    guide.to_conjugate()
    assert not guide.awaiting_conjugate
    tau, c2 = guide.tau_loc.exp(), guide.c2_loc.exp()
    g = tau * regularized_scale(guide.lam_loc.exp() * guide.kappa_loc.exp(), tau, c2)
    v = guide.w_raw.exp()
    z_loc = g * guide.w_loc / (g.square() + v)  # the conjugate factor's mean at g*
    torch.testing.assert_close(z_loc, mu)
    # the likelihood factor's variance starts at the data's 1/n_j
    n_obs = inputs.active.sum(0).to(torch.float64)
    torch.testing.assert_close(v, (1.0 / n_obs).expand_as(v))
    with pytest.raises(RuntimeError, match="not a conjugate guide awaiting"):
        guide.to_conjugate()


def test_fit_switches_factor_after_its_share_of_the_steps(tiny_sim, monkeypatch):
    phases: list[bool] = []

    def record(step, guide):
        phases.append(guide.awaiting_conjugate)

    monkeypatch.setattr(
        svi_module, "run_svi", functools.partial(svi_module.run_svi, callback=record)
    )
    post = bg.fit(tiny_sim.data, seed=0, num_steps=40, guide=STAGED, svi={"num_draws": 50})
    # steps 0-19 use the mean-field factor, 20-39 the conjugate one
    assert phases == [True] * 20 + [False] * 20
    assert post.spec["guide"]["mean_field_fraction"] == 0.5
    assert np.isfinite(post.w_draws).all()


def test_the_fit_cannot_converge_before_the_conjugate_factor_has_run(tiny_sim):
    # min_steps 0 would let the monitor stop within the mean-field start; it must not
    post = bg.fit(
        tiny_sim.data,
        seed=0,
        num_steps=2000,
        guide=STAGED,
        svi={"min_steps": 0, "window": 20, "tol": 1.0, "num_draws": 50},
    )
    assert post.diagnostics["converged"]
    # switch at 1000, then (patience + 1) windows of the conjugate factor
    assert post.diagnostics["steps"] == 1000 + 20 * (3 + 1)


def test_same_seed_same_fit_and_resume_across_the_switch(tiny_sim, tmp_path, monkeypatch):
    ckpt = tmp_path / "staged.ckpt"
    kwargs = dict(seed=2, num_steps=120, guide=STAGED, checkpoint_every=20)
    reference = bg.fit(tiny_sim.data, **kwargs)
    again = bg.fit(tiny_sim.data, **kwargs)
    np.testing.assert_array_equal(again.w_draws, reference.w_draws)

    def interrupt(step, guide):  # stop in the mean-field start, resume past the switch
        if step == 45:
            raise KeyboardInterrupt

    with monkeypatch.context() as patch:
        patch.setattr(
            svi_module, "run_svi", functools.partial(svi_module.run_svi, callback=interrupt)
        )
        with pytest.raises(KeyboardInterrupt):
            bg.fit(tiny_sim.data, checkpoint=ckpt, **kwargs)
    resumed = bg.fit(tiny_sim.data, checkpoint=ckpt, resume=True, **kwargs)
    assert resumed.diagnostics["resumed_from_step"] == 40
    np.testing.assert_array_equal(resumed.losses, reference.losses)
    np.testing.assert_allclose(resumed.w_draws, reference.w_draws, atol=1e-5, rtol=0)


def test_other_guides_ignore_the_fraction(tiny_sim):
    """``guide={"kind": "normal"}`` on the default spec is the mean-field guide."""
    spec = bg.load_spec("horseshoe").with_overrides({"guide": {"kind": "normal"}})
    inputs = build_inputs(tiny_sim.data, spec, torch.device("cpu"), torch.float32)
    guide = HorseshoeGuide(inputs, spec.prior, spec.guide)
    assert not guide.awaiting_conjugate
    # the mean-field factor's sd starts at init_scale (the conjugate one's at 1/sqrt(n_j))
    sd = torch.nn.functional.softplus(guide.w_raw) + 1e-4
    torch.testing.assert_close(sd, torch.full_like(sd, spec.guide.init_scale))
