"""Pareto k-hat: the estimator against ArviZ, known tails, and the fit's report."""

from __future__ import annotations

import logging

import numpy as np
import pytest

import bayesgrn as bg
from bayesgrn.infer.psis import pareto_khat


@pytest.mark.parametrize("tail", ["normal", "student_t", "pareto"])
def test_khat_matches_arviz(tail):
    az = pytest.importorskip("arviz")
    if not hasattr(az, "psislw"):
        pytest.skip("ArviZ 1.x moved psislw")
    rng = np.random.default_rng(1)
    lw = {
        "normal": rng.normal(size=1000),
        "student_t": np.log(np.abs(rng.standard_t(3, size=1000))),
        "pareto": np.log1p(rng.pareto(1.25, size=2000)),
    }[tail]
    assert pareto_khat(lw) == pytest.approx(float(az.psislw(lw)[1]), abs=1e-10)


@pytest.mark.parametrize("shape", [0.3, 0.8, 1.5])
def test_khat_recovers_a_known_pareto_tail(shape):
    # ratios with a generalized-Pareto tail of shape k: k-hat within 0.15 (4,000 draws;
    # run-to-run sd measured over 20 seeds: 0.03-0.06)
    rng = np.random.default_rng(7)
    ratios = rng.pareto(1.0 / shape, size=4000) + 1.0
    assert pareto_khat(np.log(ratios)) == pytest.approx(shape, abs=0.15)


def test_khat_of_light_tails_is_small():
    rng = np.random.default_rng(3)
    assert pareto_khat(rng.normal(scale=0.1, size=2000)) < 0.5


def test_fit_reports_khat_per_target_and_warns(tiny_sim, caplog):
    with caplog.at_level(logging.WARNING, logger="bayesgrn"):
        post = bg.fit(tiny_sim.data, num_steps=30, psis_draws=100)
    diag = post.diagnostics
    assert len(diag["pareto_k_by_target"]) == tiny_sim.data.n_genes
    assert np.isfinite(diag["pareto_k"])
    assert diag["psis_draws"] == 100
    # 30 steps is far from converged: the guide is poor and k-hat says so
    assert diag["pareto_k_targets_above_0.7"] >= 1
    assert any("Pareto k-hat" in r.message for r in caplog.records)
    skipped = bg.fit(tiny_sim.data, num_steps=30, psis_draws=0)
    assert "pareto_k" not in skipped.diagnostics


def test_khat_falls_as_the_fit_converges(tiny_sim):
    early = bg.fit(tiny_sim.data, num_steps=20, psis_draws=400, seed=0)
    late = bg.fit(tiny_sim.data, num_steps=1500, psis_draws=400, seed=0)
    assert late.diagnostics["pareto_k"] < early.diagnostics["pareto_k"]
    assert (
        late.diagnostics["pareto_k_median_target"] < early.diagnostics["pareto_k_median_target"]
    )
