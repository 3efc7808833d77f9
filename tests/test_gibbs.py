"""The exact Gibbs sampler (method="gibbs") of the model without the Jacobian term."""

import numpy as np
import pytest

import bayesgrn as bg


@pytest.fixture(scope="module")
def observational():
    return bg.simulate(4, 60, knockouts=0, seed=3).data


@pytest.mark.parametrize("prior", [None, {"regulator_scale": False}], ids=["hubs", "no_hubs"])
def test_gibbs_agrees_with_nuts_on_the_same_model(observational, prior):
    # Both sample the same posterior exactly. Measured on seeds 3/4/5 of this design (NUTS
    # 300 + 300, Gibbs 2000 + 500): max |mean difference| / NUTS sd 0.13-0.23, median sd
    # ratio 0.97-1.00 (range 0.86-1.16), max p_edge difference 0.05-0.09; with the
    # regulator scale 0.13-0.30, 0.99-1.00 (range 0.91-1.16) and 0.05-0.13.
    draws = {"num_samples": 300, "warmup_steps": 300, "prior": prior}
    nuts = bg.fit(observational, method="nuts", seed=0, **draws)
    draws.update(num_samples=2000, warmup_steps=500)
    gibbs = bg.fit(observational, method="gibbs", seed=0, **draws)
    assert gibbs.method == "gibbs"
    assert gibbs.n_draws == 2000
    allowed = nuts.allowed
    mean_n, sd_n = nuts.w_draws.mean(0)[allowed], nuts.w_draws.std(0)[allowed]
    mean_g, sd_g = gibbs.w_draws.mean(0)[allowed], gibbs.w_draws.std(0)[allowed]
    assert np.max(np.abs(mean_g - mean_n) / sd_n) < 0.5
    assert 0.85 < np.median(sd_g / sd_n) < 1.15
    p_n = nuts.matrix("p_edge").to_numpy()[allowed]
    p_g = gibbs.matrix("p_edge").to_numpy()[allowed]
    assert np.abs(p_n - p_g).max() < 0.2
    assert (gibbs.w_draws[:, ~allowed] == 0).all()
    accept = gibbs.diagnostics["acceptance"]
    hub_steps = {"kappa", "kappa_row"} if prior is None else set()
    assert set(accept) == {"sigma", "lam", "tau", "c2"} | hub_steps
    assert min(accept.values()) > 0.2


def test_gibbs_is_reproducible_and_reports_rhat_with_chains(observational):
    a = bg.fit(observational, method="gibbs", seed=5, num_samples=50, warmup_steps=20)
    b = bg.fit(observational, method="gibbs", seed=5, num_samples=50, warmup_steps=20)
    np.testing.assert_array_equal(a.w_draws, b.w_draws)
    two = bg.fit(
        observational, method="gibbs", seed=5, num_samples=200, warmup_steps=100, num_chains=2
    )
    assert two.n_draws == 400
    assert two.diagnostics["num_chains"] == 2
    assert two.to_arviz().posterior["W"].sizes["chain"] == 2
    assert two.diagnostics["rhat_max"] < 1.1  # a unimodal posterior, 2 x 200 draws


def test_gibbs_refuses_models_it_cannot_sample_exactly(tiny_sim):
    # knockouts switch the Jacobian term on under the default likelihood.jacobian = "auto"
    with pytest.raises(ValueError, match="without the Jacobian term"):
        bg.fit(tiny_sim.data, method="gibbs", num_samples=10, warmup_steps=0)
    obs = bg.simulate(4, 30, knockouts=0, seed=0).data
    with pytest.raises(ValueError, match="family = 'gaussian'"):
        bg.fit(obs, model="sigmoid_horseshoe", method="gibbs", num_samples=10)
    with pytest.raises(ValueError, match="num_samples must be >= 1"):
        bg.fit(obs, method="gibbs", num_samples=0)
