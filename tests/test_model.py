import itertools

import numpy as np
import pyro
import pytest
import torch

import bayesgrn as bg
from bayesgrn.inputs import build_inputs, clamped_regulators
from bayesgrn.model import (
    global_scale_prior,
    grn_model,
    horseshoe_weights,
    log_jacobian,
    regularized_scale,
)


def test_regularized_scale_shrinks_to_zero_for_small_tau_lambda():
    lam = torch.tensor([1e-6, 1e-4, 1e-2])
    tau = torch.tensor(0.1)
    c2 = torch.tensor(4.0)
    effective = tau * regularized_scale(lam, tau, c2)
    # tau*lam -> 0: the regularized scale equals the plain horseshoe scale tau*lam
    torch.testing.assert_close(effective, tau * lam, rtol=1e-4, atol=0.0)
    assert effective.max() < 2e-3


def test_regularized_scale_reaches_slab_for_large_tau_lambda():
    lam = torch.tensor([1e4, 1e6, 1e8], dtype=torch.float64)
    tau = torch.tensor(1.0, dtype=torch.float64)
    c2 = torch.tensor(2.25, dtype=torch.float64)
    effective = tau * regularized_scale(lam, tau, c2)
    # tau*lam -> infinity: the scale saturates at the slab width c = 1.5
    torch.testing.assert_close(effective, torch.full_like(effective, 1.5), rtol=1e-6, atol=0.0)


def test_regularized_scale_is_monotone_and_below_both_limits():
    lam = torch.logspace(-3, 3, 50)
    tau, c2 = torch.tensor(0.3), torch.tensor(1.0)
    effective = tau * regularized_scale(lam, tau, c2)
    assert torch.all(effective[1:] > effective[:-1])
    assert torch.all(effective <= torch.minimum(tau * lam, c2.sqrt()) + 1e-6)


def test_global_scale_prior_matches_piironen_vehtari():
    tau0 = global_scale_prior(3.0, torch.tensor([99.0]), torch.tensor([400.0]))
    expected = 3.0 / (99.0 - 3.0) / np.sqrt(400.0)
    assert tau0.item() == pytest.approx(expected, rel=1e-6)
    # with fewer candidates than p0, p0 is capped at D/2 so tau0 stays positive and finite
    small = global_scale_prior(3.0, torch.tensor([2.0]), torch.tensor([100.0]))
    assert small.item() == pytest.approx(1.0 / 10.0)


def test_weights_are_zero_on_self_edges(tiny_sim):
    spec = bg.load_spec("horseshoe")
    inputs = build_inputs(tiny_sim.data, spec, torch.device("cpu"))
    shape = inputs.allowed.shape
    w = horseshoe_weights(
        torch.randn(shape),
        torch.rand(shape) + 0.5,
        torch.ones(shape[1]),
        torch.ones(shape[1]),
        inputs.allowed,
    )
    assert torch.all(w.diagonal() == 0)
    assert torch.all(w[inputs.allowed.bool()] != 0)


def _brute_force_logdet(w_rr, clamped):
    keep = [i for i in range(w_rr.shape[0]) if i not in clamped]
    block = np.eye(len(keep)) - w_rr[np.ix_(keep, keep)]
    return np.linalg.slogdet(block)[1]


def test_log_jacobian_matches_principal_minors():
    rng = np.random.default_rng(0)
    n = 6
    w = rng.normal(0, 0.3, size=(n, n))
    np.fill_diagonal(w, 0)
    patterns = [(), (0,), (3,), (1, 4), (0, 2, 5)]
    k_max = max(len(p) for p in patterns)
    clamped = np.full((len(patterns), k_max), -1)
    for s, pattern in enumerate(patterns):
        clamped[s, : len(pattern)] = pattern
    got = log_jacobian(
        torch.tensor(w), torch.arange(n), torch.tensor(clamped, dtype=torch.int64)
    ).numpy()
    expected = [_brute_force_logdet(w, p) for p in patterns]
    np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-10)


def test_log_jacobian_broadcasts_over_draws():
    w = torch.randn(3, 4, 4, dtype=torch.float64) * 0.2
    clamped = torch.tensor([[-1], [2]])
    batched = log_jacobian(w, torch.arange(4), clamped)
    assert batched.shape == (3, 2)
    for d in range(3):
        torch.testing.assert_close(batched[d], log_jacobian(w[d], torch.arange(4), clamped))


def test_clamped_regulators_pads_and_skips_non_regulators():
    x = np.random.default_rng(1).normal(size=(5, 4))
    perturbed = np.zeros((5, 4), dtype=bool)
    perturbed[1, 0] = True
    perturbed[2, [1, 3]] = True  # G4 is not a regulator: it does not enter the Jacobian
    data = bg.ExpressionData.from_array(x, regulators=["G1", "G2", "G3"], perturbed=perturbed)
    np.testing.assert_array_equal(clamped_regulators(data, cut=True), [[-1], [0], [1], [-1], [-1]])
    assert clamped_regulators(data, cut=False).shape == (5, 0)


def test_model_trace_shapes_and_cut_equations(tiny_sim):
    spec = bg.load_spec("horseshoe")
    inputs = build_inputs(tiny_sim.data, spec, torch.device("cpu"))
    trace = pyro.poutine.trace(grn_model).get_trace(inputs, spec.prior)
    n, g = tiny_sim.data.n_samples, tiny_sim.data.n_genes
    assert trace.nodes["W"]["value"].shape == (g, g)
    assert trace.nodes["z"]["value"].shape == (g, g)
    assert trace.nodes["tau"]["value"].shape == (g,)
    assert trace.nodes["b"]["value"].shape == (1, g)
    obs = trace.nodes["x"]
    assert obs["value"].shape == (n, g)
    # the knocked-out gene's own equation is masked out in its knockout sample
    mask = obs["mask"]
    assert mask.shape == (n, g)
    perturbed = torch.as_tensor(tiny_sim.data.perturbed.copy())
    assert not mask[perturbed].any()
    assert mask[~perturbed].all()


@pytest.mark.parametrize(
    ("interventions", "jacobian"),
    list(itertools.product(["cut", "ignore"], ["always", "never", "auto"])),
)
def test_model_log_density_is_finite_for_every_variant(tiny_sim, interventions, jacobian):
    spec = bg.load_spec("horseshoe").with_overrides(
        {"likelihood": {"interventions": interventions, "jacobian": jacobian}}
    )
    inputs = build_inputs(tiny_sim.data, spec, torch.device("cpu"))
    trace = pyro.poutine.trace(grn_model).get_trace(inputs, spec.prior)
    assert torch.isfinite(trace.log_prob_sum())
    # tiny_sim has knockouts: "auto" uses the Jacobian when they are cut
    expected = jacobian == "always" or (jacobian == "auto" and interventions == "cut")
    assert ("jacobian" in trace.nodes) == expected


def test_auto_jacobian_only_with_clamped_regulators(tiny_sim):
    spec = bg.load_spec("horseshoe")
    with_ko = build_inputs(tiny_sim.data, spec, torch.device("cpu"))
    assert with_ko.jacobian_targets is not None
    observational = bg.ExpressionData.from_array(tiny_sim.data.values[:40])
    assert build_inputs(observational, spec, torch.device("cpu")).jacobian_targets is None


def test_nonlinear_jacobian_reduces_to_the_linear_one_at_unit_slope():
    # slope 1 everywhere is the linear SEM; a cut equation (slope 0) is the clamped case
    from bayesgrn.model import log_jacobian, log_jacobian_nonlinear

    gen = torch.Generator().manual_seed(0)
    w = 0.3 * torch.randn(5, 8, generator=gen, dtype=torch.float64)
    targets = torch.tensor([0, 2, 3, 5, 7])
    clamped = torch.tensor([[-1, -1], [0, -1], [1, 3], [-1, -1], [4, -1], [2, 0]])
    slope = torch.ones(6, 8, dtype=torch.float64)
    for s, row in enumerate(clamped.tolist()):
        for k in row:
            if k >= 0:
                slope[s, targets[k]] = 0.0
    torch.testing.assert_close(
        log_jacobian_nonlinear(w, slope, targets), log_jacobian(w, targets, clamped)
    )
    # and it is the log-determinant of I - W_RR diag(slope) for a general slope
    slope = torch.rand(6, 8, generator=gen, dtype=torch.float64)
    direct = torch.stack(
        [
            torch.linalg.slogdet(
                torch.eye(5, dtype=torch.float64) - w[:, targets] * slope[s, targets]
            ).logabsdet
            for s in range(6)
        ]
    )
    torch.testing.assert_close(log_jacobian_nonlinear(w, slope, targets), direct)
