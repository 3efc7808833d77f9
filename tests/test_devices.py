"""Every model family and inference path on every device: the CPU always, CUDA when present.

The CUDA half is what a GPU session runs (``pytest -m gpu``); the first such session found
a CPU-built plate index that broke every CUDA fit, which no CPU test could see. Each case is
small (a few dozen steps) and checks what must hold on any device: finite draws that
respect the edge mask, the same result for the same seed, and the downstream calls.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

import bayesgrn as bg

DEVICES = ["cpu", pytest.param("cuda", marks=pytest.mark.gpu)]
STEPS = 40


@pytest.fixture(scope="module")
def ko_sim():
    """6 genes, 30 observational samples + one knockout per gene."""
    return bg.simulate(6, 30, knockouts="all", seed=5)


@pytest.fixture(scope="module")
def ko_two_tables(ko_sim):
    """The same samples split into two tables (two condition intercepts)."""
    n = ko_sim.data.n_samples
    return dataclasses.replace(ko_sim.data, condition=tuple("ab"[i % 2] for i in range(n)))


def _check(post: bg.Posterior, device: str) -> None:
    assert torch.device(post.device).type == device
    assert np.isfinite(post.w_draws).all()
    assert (post.w_draws[:, ~post.allowed] == 0).all()
    table = post.edges()
    assert np.isfinite(table[["mean", "sd", "p_edge"]].to_numpy()).all()


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("guide", ["normal", "conjugate", "lowrank", "conditional"])
def test_linear_family_with_knockouts_is_repeatable(ko_two_tables, device, guide):
    """Knockouts clamp regulators, so this runs the exact likelihood's Jacobian term.

    Bit-for-bit equality on CUDA needs gradients free of atomic scatter-adds over repeated
    indices (the clamped regulators, the samples of one condition): the first CUDA run of
    this test found them (differences of 3e-7 between two fits with the same seed).
    """
    kwargs = dict(
        device=device, num_steps=STEPS, guide={"kind": guide}, svi={"num_draws": 50},
        psis_draws=20,
    )  # fmt: skip
    first = bg.fit(ko_two_tables, seed=1, **kwargs)
    again = bg.fit(ko_two_tables, seed=1, **kwargs)
    _check(first, device)
    assert not np.isnan(first.diagnostics["pareto_k"]).any()  # replayed on the device
    np.testing.assert_array_equal(first.w_draws, again.w_draws)
    effects = first.predict_knockout("G1", -1.0)
    assert np.isfinite(effects["mean"]).all()


@pytest.mark.parametrize("device", DEVICES)
def test_minibatched_fit(ko_sim, device):
    post = bg.fit(ko_sim.data, seed=0, device=device, num_steps=STEPS, subsample_size=16,
                  svi={"num_draws": 50})  # fmt: skip
    _check(post, device)


@pytest.mark.parametrize("device", DEVICES)
def test_sigmoid_family_and_its_knockout_prediction(ko_sim, device):
    post = bg.fit(ko_sim.data, model="sigmoid_horseshoe", seed=0, device=device,
                  num_steps=STEPS, svi={"num_draws": 30}, psis_draws=10)  # fmt: skip
    _check(post, device)
    effects = post.predict_knockout("G2", -1.0)
    assert np.isfinite(effects["mean"]).all()


@pytest.mark.parametrize("device", DEVICES)
def test_count_family(device):
    sim = bg.simulate_counts(6, 40, seed=2)
    post = bg.fit(sim.data, model="negbinomial_horseshoe", seed=0, device=device,
                  num_steps=STEPS, svi={"num_draws": 30}, psis_draws=10)  # fmt: skip
    _check(post, device)


@pytest.mark.parametrize("device", DEVICES)
def test_heldout_comparison(ko_sim, device):
    table = bg.compare(ko_sim.data, models=["horseshoe"], folds=2, draws=20, device=device,
                       num_steps=STEPS)  # fmt: skip
    assert np.isfinite(table["elpd"]).all()


@pytest.mark.parametrize("device", DEVICES)
def test_nuts(device):
    sim = bg.simulate(3, 30, seed=1)
    post = bg.fit(sim.data, method="nuts", seed=0, device=device, num_samples=20,
                  warmup_steps=20)  # fmt: skip
    _check(post, device)
    assert post.n_draws == 20


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("model", ["horseshoe", "horseshoe_no_hubs"])
def test_gibbs(device, model):
    """The exact sampler: batched Cholesky draws and the per-regulator scale step."""
    sim = bg.simulate(5, 40, seed=3)
    kwargs = dict(method="gibbs", model=model, device=device, num_samples=30,
                  warmup_steps=30, psis_draws=0)  # fmt: skip
    post = bg.fit(sim.data, seed=0, **kwargs)
    again = bg.fit(sim.data, seed=0, **kwargs)
    _check(post, device)
    np.testing.assert_array_equal(post.w_draws, again.w_draws)


@pytest.mark.parametrize("device", DEVICES)
def test_per_regulator_scale_with_svi_and_nuts(ko_sim, device):
    post = bg.fit(ko_sim.data, model="horseshoe", seed=0, device=device, num_steps=STEPS,
                  svi={"num_draws": 30}, psis_draws=10)  # fmt: skip
    _check(post, device)
    sim = bg.simulate(3, 30, seed=1)
    nuts = bg.fit(sim.data, model="horseshoe", method="nuts", seed=0, device=device,
                  num_samples=10, warmup_steps=10)  # fmt: skip
    _check(nuts, device)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("ci_prob", [0.5, 0.9, 0.95])
def test_torch_summaries_equal_the_numpy_ones(device, ci_prob):
    """After a GPU fit the per-edge summaries run in torch on the GPU; same numbers."""
    from bayesgrn import decision
    from bayesgrn.posterior import _block_stats_torch

    rng = np.random.default_rng(0)
    raw = rng.standard_normal((200, 7, 5))  # interpolated quantiles.astype(np.float32) * 0.2
    raw[:, 0, 0] = 0.0  # a forbidden edge: every draw is zero
    factor = rng.uniform(0.5, 2.0, size=(7, 5)).astype(np.float32)
    block = raw * factor
    got = _block_stats_torch(raw, block, 0.1, ci_prob, torch.device(device))
    lower, upper = decision.credible_interval(block, ci_prob)
    want = {
        "ci_lower": lower,
        "ci_upper": upper,
        "mean": block.mean(axis=0, dtype=np.float64),
        "sd": block.std(axis=0, ddof=1, dtype=np.float64),
        "p_edge": decision.edge_probability(raw, 0.1),
        "p_positive": decision.sign_probability(raw),
        "lfsr": decision.local_false_sign_rate(raw),
    }
    assert set(got) == set(want)
    for name, value in want.items():
        np.testing.assert_allclose(got[name], value, rtol=1e-6, atol=1e-7, err_msg=name)
    assert got["ci_lower"][0, 0] == got["ci_upper"][0, 0] == got["mean"][0, 0] == 0.0


def test_posterior_uses_the_torch_summaries_after_a_gpu_fit(ko_sim, monkeypatch):
    """The wiring: a posterior whose fit device has CUDA summarises in torch, same table."""
    import bayesgrn.posterior as posterior_module

    post = bg.fit(ko_sim.data, seed=0, num_steps=STEPS, svi={"num_draws": 60}, psis_draws=0)
    numpy_table = post.edges(ci_prob=0.8, scale="data")
    calls = []

    def pretend_gpu(device):
        calls.append(device)
        return torch.device("cpu")

    monkeypatch.setattr(posterior_module, "_summary_device", pretend_gpu)
    post.__dict__.pop("_stats_cache", None)
    torch_table = post.edges(ci_prob=0.8, scale="data")
    assert calls
    assert list(torch_table["regulator"]) == list(numpy_table["regulator"])
    numeric = ["mean", "sd", "ci_lower", "ci_upper", "p_edge", "p_positive", "lfsr"]
    np.testing.assert_allclose(
        torch_table[numeric].to_numpy(), numpy_table[numeric].to_numpy(), rtol=1e-6, atol=1e-7
    )
