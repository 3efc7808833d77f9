"""The SVI objectives: the importance-weighted bound against the ELBO on the same draws."""

import numpy as np
import pyro
import pytest
import torch
from pyro.infer import Trace_ELBO

import bayesgrn as bg
from bayesgrn.guide import HorseshoeGuide
from bayesgrn.infer.objective import (
    AUTO_SMALL_MAX_PARTICLES,
    ImportanceWeightedELBO,
    make_objective,
)
from bayesgrn.inputs import build_inputs
from bayesgrn.model import grn_model


@pytest.fixture(scope="module", params=["knockouts", "observational"])
def problem(request):
    """With knockouts the exact likelihood's Jacobian term (a site outside the targets
    plate) is in the model; observational data use the per-target pseudo-likelihood."""
    knockouts = "all" if request.param == "knockouts" else 0
    sim = bg.simulate(6, 30, knockouts=knockouts, seed=5)
    spec = bg.load_spec("horseshoe")
    inputs = build_inputs(sim.data, spec, torch.device("cpu"), torch.float64)
    guide = HorseshoeGuide(inputs, spec.prior, spec.guide)
    return inputs, spec, guide


def _loss(objective, problem, seed=0):
    inputs, spec, guide = problem
    pyro.set_rng_seed(seed)
    return objective.differentiable_loss(grn_model, guide, inputs, spec.prior)


def _value(loss):
    return loss.detach().item()


def test_one_particle_iw_is_the_elbo(problem):
    iw = _loss(ImportanceWeightedELBO(num_particles=1, max_plate_nesting=2), problem)
    elbo = _loss(Trace_ELBO(num_particles=1, max_plate_nesting=2), problem)
    torch.testing.assert_close(iw, elbo)


@pytest.mark.parametrize("particles", [2, 16])
def test_iw_bound_is_above_the_elbo_on_the_same_draws(problem, particles):
    """log mean exp(l_k) >= mean(l_k) (Jensen), with equality only for equal weights."""
    iw = _loss(make_objective("iw", particles, 2), problem)
    elbo = _loss(make_objective("elbo", particles, 2), problem)
    assert iw.dim() == 0
    assert _value(iw) < _value(elbo)  # losses are the negative bounds


def test_iw_gradients_reach_every_guide_parameter(problem):
    inputs, spec, guide = problem
    guide.zero_grad()
    _loss(make_objective("iw", 4, 2), problem).backward()
    for name, param in guide.named_parameters():
        assert param.grad is not None, name
        assert torch.isfinite(param.grad).all(), name


def test_unknown_objective_is_a_clear_error():
    with pytest.raises(ValueError, match="svi.objective must be one of"):
        make_objective("kl", 1, 2)
    sim = bg.simulate(4, 20, seed=0)
    with pytest.raises(ValueError, match="svi.objective must be one of"):
        bg.fit(sim.data, svi={"objective": "kl"})


def test_log_weights_average_to_the_elbo_on_the_same_draws(problem):
    """mean_k l_k is the ELBO estimate and log mean exp l_k the IW loss: this catches a bound
    that sums particles or keeps a per-target axis."""
    inputs, spec, guide = problem
    iw = make_objective("iw", 8, 2)
    pyro.set_rng_seed(3)
    lw = iw.log_weights(grn_model, guide, inputs, spec.prior)
    assert lw.shape == (8,)
    elbo = _loss(make_objective("elbo", 8, 2), problem, seed=3)
    torch.testing.assert_close(-lw.mean(), elbo)
    loss = _loss(iw, problem, seed=3)
    torch.testing.assert_close(loss, -(torch.logsumexp(lw, 0) - torch.log(torch.tensor(8.0))))


def test_default_fit_is_wider_than_the_mode_seeking_elbo_fit(tiny_sim):
    """A regression to the over-confident ELBO fit narrows every interval.

    Measured on this problem (8 genes, 48 samples, 800 steps, fit seeds 0-3): the median
    ratio of the default's posterior sds to the ELBO fit's with the same guide was
    1.07-1.13 with the default conjugate guide (1.32-1.42 with the mean-field guide, which
    the bound widens more); 1.04 is below that spread and still fails if the default falls
    back to the ELBO (ratio 1). The default's sds against the mean-field ELBO fit's were
    0.93-1.00 here; against NUTS, see docs/calibration.md.
    """
    kwargs = dict(seed=0, num_steps=800, psis_draws=0)
    default = bg.fit(tiny_sim.data, **kwargs)
    elbo = bg.fit(tiny_sim.data, svi={"objective": "elbo", "num_particles": 1}, **kwargs)
    assert default.diagnostics["objective"] == "iw"
    assert default.diagnostics["num_particles"] == AUTO_SMALL_MAX_PARTICLES
    mask = default.allowed
    ratio = default.matrix("sd").to_numpy()[mask] / elbo.matrix("sd").to_numpy()[mask]
    assert np.median(ratio) > 1.04


def test_automatic_particles_follow_the_problem_size():
    from bayesgrn.infer.objective import resolve_particles

    assert resolve_particles(3, 10_000, 20_000, 1_000) == 3  # an explicit number is kept
    assert resolve_particles(0, 10, 10, 110) == 64  # 10 genes: the small problems' cap
    assert resolve_particles(0, 30, 30, 90) == 36  # 30 genes: 2**17 elements
    assert resolve_particles(0, 50, 50, 150) == 16  # 50 genes: the cap of larger ones
    assert resolve_particles(0, 99, 100, 301) == 6  # DREAM4's 100 genes x 301 samples
    assert resolve_particles(0, 299, 300, 300) == 1  # a few hundred genes: the ELBO
    assert resolve_particles(0, 195, 1643, 805) == 1
    sim = bg.simulate(4, 20, seed=0)
    with pytest.raises(ValueError, match="svi.num_particles must be >= 0"):
        bg.fit(sim.data, svi={"num_particles": -1})


def test_a_shard_uses_the_whole_problems_particles():
    """targets=... (a shard) resolves the particles on all genes, so sharding keeps K."""
    sim = bg.simulate(100, 300, seed=0)  # observational: shards allowed; K = 6 for all genes
    shard = bg.fit(sim.data, targets=list(sim.data.genes[:5]), num_steps=5, psis_draws=0)
    assert shard.diagnostics["num_particles"] == 6


def test_objective_label_names_what_was_trained():
    from bayesgrn.spec import objective_label

    assert objective_label({"objective": "iw", "num_particles": 8}) == "IW bound (8 particles)"
    assert objective_label({"objective": "iw", "num_particles": 1}) == "ELBO"  # the same bound
    assert objective_label({"objective": "elbo", "num_particles": 4}) == "ELBO"
    assert objective_label({"final_elbo": -1.0}) == "ELBO"  # summaries from before stop 13
