"""Simulators: linear (unchanged), sigmoid steady states, negative-binomial counts."""

from __future__ import annotations

import math
import sys

import numpy as np
import pandas as pd
import pytest

import bayesgrn as bg

sim_mod = sys.modules["bayesgrn.simulate"]  # the attribute bg.simulate is the function


# ----------------------------------------------------------------------------- helpers
def sigmoid_argument(sim: bg.SimulatedData) -> np.ndarray:
    """``h + x W`` of every (sample, gene) cell, from the returned truth."""
    return sim.parameters["bias"] + sim.data.values @ sim.weights.to_numpy()


def sigmoid_residual(sim: bg.SimulatedData) -> np.ndarray:
    """``x - (b + v sigmoid(h + x W) + e)`` of every cell, from the returned truth."""
    p = sim.parameters
    fx = p["baseline"] + p["gain"] / (1.0 + np.exp(-sigmoid_argument(sim))) + p["noise"]
    return sim.data.values - fx


def linear_fit_miss(sim: bg.SimulatedData) -> float:
    """Share of the regulatory variance a least-squares linear fit on the true parents misses.

    Per gene with parents, over its unperturbed samples: (SSE of the linear fit - noise SS)
    / (total SS - noise SS), pooled over genes. In-sample least squares is at least as good
    as the true relation when that is linear, so the linear family gives <= 0.
    """
    x, w, e = sim.data.values, sim.weights.to_numpy(), sim.parameters["noise"]
    free = ~sim.data.perturbed
    miss = signal = 0.0
    for j in range(w.shape[0]):
        parents = np.nonzero(w[:, j])[0]
        if parents.size == 0:
            continue
        rows = free[:, j]
        design = np.column_stack([np.ones(rows.sum()), x[rows][:, parents]])
        y, noise = x[rows, j], e[rows, j]
        coef, *_ = np.linalg.lstsq(design, y, rcond=None)
        resid = y - design @ coef
        miss += resid @ resid - noise @ noise
        signal += np.sum((y - y.mean()) ** 2) - noise @ noise
    return miss / signal


# ----------------------------------------------------------------------------- linear
@pytest.mark.parametrize(
    "kwargs",
    [
        {"knockouts": "all", "seed": 4},
        {"knockouts": 5, "seed": 7, "n_regulators": 6},
        {"knockouts": [2, 0], "seed": 1, "noise_sd": 0.5, "weight_range": (0.5, 0.9)},
    ],
)
def test_linear_output_is_the_historical_draw(kwargs):
    """Same generator calls, same order: network, knockout genes, noise, linear solve."""
    n_genes, n_samples = 12, 30
    sim = bg.simulate(n_genes, n_samples, **kwargs)
    assert np.array_equal(
        bg.simulate(n_genes, n_samples, family="linear", **kwargs).data.values, sim.data.values
    )
    rng = np.random.default_rng(kwargs["seed"])
    w = sim_mod.random_network(
        n_genes,
        weight_range=kwargs.get("weight_range", (0.3, 0.8)),
        n_regulators=kwargs.get("n_regulators"),
        rng=rng,
    )
    ko = kwargs["knockouts"]
    if ko == "all":
        ko = list(range(n_genes))
    elif isinstance(ko, int):
        ko = sorted(rng.choice(n_genes, size=ko, replace=False).tolist())
    knocked = [None] * n_samples + list(ko)
    sd = kwargs.get("noise_sd", 1.0)
    noise = rng.normal(0.0, sd, size=(len(knocked), n_genes))
    x = sim_mod.steady_states(w, np.full(n_genes, 3.0 * sd), noise, knocked)
    assert np.array_equal(sim.weights.to_numpy(), w)
    assert np.array_equal(sim.data.values, x)
    assert np.array_equal(sim.parameters["noise"], noise)
    assert sim.size_factors is None


def test_simulated_data_stays_backward_compatible():
    sim = bg.simulate(6, 10, seed=0)
    bare = bg.SimulatedData(sim.data, sim.weights)
    assert bare.parameters is None
    assert bare.size_factors is None
    pd.testing.assert_frame_equal(bare.gold, sim.gold)
    with pytest.raises(ValueError, match="read-only"):
        sim.parameters["noise"][0, 0] = 1.0


def test_per_gene_knockout_level():
    level = np.arange(8.0) - 10.0
    for family in ("linear", "sigmoid"):
        sim = bg.simulate(8, 5, family=family, knockouts="all", knockout_level=level, seed=2)
        s, g = np.nonzero(sim.data.perturbed)
        assert np.array_equal(sim.data.values[s, g], level[g])


# ----------------------------------------------------------------------------- sigmoid
@pytest.fixture(scope="module")
def sigmoid_sim() -> bg.SimulatedData:
    return bg.simulate(50, 200, family="sigmoid", knockouts="all", seed=0)


def test_sigmoid_steady_state_solves_its_equations(sigmoid_sim):
    sim = sigmoid_sim
    clamped = sim.data.perturbed
    resid = sigmoid_residual(sim)
    assert np.max(np.abs(resid[~clamped])) < 1e-8
    # knocked-out genes sit at the knockout level, their own equation cut ...
    assert np.all(sim.data.values[clamped] == 0.0)
    assert np.median(np.abs(resid[clamped])) > 1.0
    # ... while they still drive their targets: against the same samples solved without the
    # knockouts, direct targets move and genes not downstream of the knocked gene do not
    w, p = sim.weights.to_numpy(), sim.parameters
    rows, knocked = np.nonzero(clamped)
    free = sim_mod.sigmoid_steady_states(
        w, p["gain"], p["bias"], p["baseline"], p["noise"][rows], [None] * rows.size
    )
    shift = np.abs(sim.data.values[rows] - free)
    edges = w != 0
    downstream = edges.copy()
    for _ in range(w.shape[0]):
        downstream |= (downstream.astype(float) @ edges) > 0
    moved = [shift[i, edges[k]].max() for i, k in enumerate(knocked) if edges[k].any()]
    assert np.median(moved) > 1.0  # measured 1.76 noise sds
    untouched = ~downstream[knocked]
    untouched[np.arange(rows.size), knocked] = False
    assert untouched.sum() > 1000
    assert np.max(shift[untouched]) < 1e-8


def test_sigmoid_steady_state_is_a_stable_contraction(sigmoid_sim):
    sim = sigmoid_sim
    w, gain = sim.weights.to_numpy(), sim.parameters["gain"]
    assert sim_mod.contraction_bound(w, gain) <= 0.8 + 1e-12
    # only edges on directed cycles were scaled: the others keep their drawn 1..3
    cyclic = sim_mod._cyclic_edges(w)
    acyclic = np.abs(w[(w != 0) & ~cyclic])
    assert acyclic.size > 0
    assert acyclic.min() >= 1.0
    assert acyclic.max() <= 3.0
    assert cyclic.any()
    assert np.abs(w[cyclic]).max() < 1.0
    # Jacobian of the map at the steady state: spectral radius < 1 in every sample
    a = sigmoid_argument(sim)
    slope = gain * 0.25 / np.cosh(0.5 * a) ** 2  # v sigmoid'(a)
    slope[sim.data.perturbed] = 0.0  # a clamped gene's equation is cut
    for s in range(0, sim.data.n_samples, 25):
        rho = np.max(np.abs(np.linalg.eigvals(w * slope[s][None, :])))
        assert rho < 0.8 + 1e-12


def test_sigmoid_is_measurably_nonlinear(sigmoid_sim):
    sat = np.abs(sigmoid_argument(sigmoid_sim))[~sigmoid_sim.data.perturbed] > sim_mod.HALF_SLOPE
    assert 0.3 < sat.mean() < 0.7  # measured 0.40 for this seed (0.37-0.56 over seeds 0-19)
    assert linear_fit_miss(sigmoid_sim) > 0.07  # measured 0.12 (0.10-0.19)
    linear = bg.simulate(50, 200, knockouts="all", seed=0)
    assert linear_fit_miss(linear) <= 1e-9  # the metric cannot see nonlinearity in linear data


def test_sigmoid_solver_raises_when_it_does_not_converge():
    sim = bg.simulate(10, 5, family="sigmoid", seed=3)
    p = sim.parameters
    args = (sim.weights.to_numpy(), p["gain"], p["bias"], p["baseline"], p["noise"], [None] * 5)
    x = sim_mod.sigmoid_steady_states(*args)
    assert np.array_equal(x, sim.data.values)
    with pytest.raises(RuntimeError, match="did not converge in 2 iterations"):
        sim_mod.sigmoid_steady_states(*args, max_iter=2)


@pytest.mark.parametrize("family", ["linear", "sigmoid"])
def test_same_seed_same_data_other_seed_other_data(family):
    one = bg.simulate(15, 20, family=family, knockouts=3, seed=5)
    two = bg.simulate(15, 20, family=family, knockouts=3, seed=5)
    other = bg.simulate(15, 20, family=family, knockouts=3, seed=6)
    assert np.array_equal(one.data.values, two.data.values)
    assert one.data.samples == two.data.samples
    assert np.array_equal(one.weights.to_numpy(), two.weights.to_numpy())
    assert not np.allclose(one.data.values, other.data.values)
    counts = [bg.simulate_counts(15, 20, family=family, knockouts=3, seed=s) for s in (5, 5, 6)]
    assert np.array_equal(counts[0].data.values, counts[1].data.values)
    assert np.array_equal(counts[0].size_factors, counts[1].size_factors)
    assert not np.array_equal(counts[0].data.values, counts[2].data.values)


# ----------------------------------------------------------------------------- counts
@pytest.mark.parametrize("family", ["linear", "sigmoid"])
def test_counts_are_integers_with_the_latent_design(family):
    sim = bg.simulate_counts(20, 150, family=family, knockouts="all", seed=1)
    latent = bg.simulate(20, 150, family=family, knockouts="all", seed=1)
    y = sim.data.values
    assert y.dtype == np.float64
    assert np.all(y >= 0)
    assert np.array_equal(y, np.round(y))
    assert sim.data.transform is None
    assert sim.data.genes == latent.data.genes
    assert sim.data.samples == latent.data.samples
    assert np.array_equal(sim.data.perturbed, latent.data.perturbed)
    pd.testing.assert_frame_equal(sim.weights, latent.weights)
    # unperturbed samples share the latent simulation's steady states
    obs = ~latent.data.perturbed.any(axis=1)
    assert np.allclose(sim.parameters["latent"][obs], latent.data.values[obs])
    # library sizes follow the size factors, which vary like LogNormal(0, 0.3)
    log_sf = np.log(sim.size_factors)
    assert 0.2 < log_sf.std() < 0.4
    assert np.corrcoef(log_sf, np.log(y.sum(axis=1)))[0, 1] > 0.5


@pytest.mark.parametrize("family", ["linear", "sigmoid"])
def test_knockouts_lower_the_knocked_genes_counts(family):
    sim = bg.simulate_counts(30, 100, family=family, knockouts="all", seed=2)
    s, g = np.nonzero(sim.data.perturbed)
    p, sf = sim.parameters, sim.size_factors
    # the knocked-out gene's mean is exactly knockout_fraction (5%) of its typical mean
    assert np.allclose(p["mean"][s, g], 0.05 * p["base_mean"][g] * sf[s])
    normalised = sim.data.values / sf[:, None]
    obs = ~sim.data.perturbed.any(axis=1)
    ratio = normalised[s, g] / normalised[obs][:, g].mean(axis=0)
    assert np.median(ratio) < 0.15
    assert np.mean(ratio < 0.5) > 0.9


@pytest.mark.parametrize("dispersion", [0.2, 0.0])
def test_count_variance_follows_the_negative_binomial(dispersion):
    sim = bg.simulate_counts(20, 3000, dispersion=dispersion, seed=0)
    y, m = sim.data.values, sim.parameters["mean"]
    for cells in (m < 30, (m > 100) & (m < 1000)):  # Poisson-like, dispersion-dominated
        assert cells.sum() > 5000
        ratio = np.sum((y[cells] - m[cells]) ** 2) / np.sum(m[cells] + dispersion * m[cells] ** 2)
        assert ratio == pytest.approx(1.0, abs=0.1)
    phi = np.sum((y - m) ** 2 - m) / np.sum(m**2)  # moment estimate of the dispersion
    assert phi == pytest.approx(dispersion, abs=0.03)


# ----------------------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"family": "relu"}, "unknown family 'relu'; choose one of 'linear', 'sigmoid'"),
        ({"n_genes": 1}, "n_genes >= 2"),
        ({"knockouts": -1}, "number of knockouts must be >= 0"),
        ({"knockouts": [0, 9]}, r"indices must be in 0\.\.7, got \[9\]"),
        ({"knockouts": "some"}, "knockouts must be 'all'"),
        ({"noise_sd": 0.0}, "noise_sd must be positive"),
        ({"weight_range": (0.8, 0.3)}, "weight_range must be finite with low <= high"),
        ({"weight_range": 0.5}, r"weight_range must be a pair \(low, high\)"),
        ({"family": "sigmoid", "gain_range": (0.0, 2.0)}, "gain_range must be positive"),
        ({"family": "sigmoid", "operating_range": (1, math.nan)}, "operating_range must be"),
        ({"family": "sigmoid", "spectral_radius": 1.0}, r"0 < spectral_radius < 1"),
    ],
)
def test_simulate_rejects_bad_arguments(kwargs, match):
    kwargs = {"n_genes": 8, "n_samples": 5, **kwargs}
    with pytest.raises(ValueError, match=match):
        bg.simulate(**kwargs)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"family": "poisson"}, "unknown family 'poisson'"),
        ({"mean_count": (0.0, 10.0)}, "mean_count must be positive"),
        ({"mean_count": (10.0, 5.0)}, "mean_count must be finite with low <= high"),
        ({"dispersion": -0.1}, r"dispersion must be finite and >= 0, got -0\.1"),
        ({"size_factor_sd": -1.0}, "size_factor_sd must be finite and >= 0"),
        ({"log_scale": 0.0}, "log_scale must be finite and > 0"),
        ({"knockout_fraction": 0.0}, r"knockout_fraction must be finite and in \(0, 1\]"),
        ({"knockout_fraction": 1.5}, r"knockout_fraction must be finite and in \(0, 1\]"),
        ({"knockout_level": -3.0}, "do not pass knockout_level"),
        ({"family": "sigmoid", "spectral_radius": 1.5}, r"0 < spectral_radius < 1"),
    ],
)
def test_simulate_counts_rejects_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        bg.simulate_counts(8, 5, **kwargs)


def test_simulate_counts_rejects_unknown_latent_options():
    with pytest.raises(TypeError, match=r"unexpected keyword argument\(s\) \['gains'\]"):
        bg.simulate_counts(8, 5, gains=(1, 2))


def test_knockout_mask_marks_each_samples_knocked_out_gene():
    from bayesgrn.simulate import knockout_mask

    assert knockout_mask([None, 2, None, 0], 3).tolist() == [
        [False, False, False],
        [False, False, True],
        [False, False, False],
        [True, False, False],
    ]
    sim = bg.simulate(5, 4, knockouts=[3, 1], seed=0)
    perturbed = pd.DataFrame(
        np.asarray(sim.data.perturbed), index=sim.data.samples, columns=sim.data.genes
    )
    assert perturbed.sum().sum() == 2
    assert perturbed.loc["ko_G4", "G4"]
    assert perturbed.loc["ko_G2", "G2"]
