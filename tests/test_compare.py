"""Held-out predictive density (fit(heldout=...)) and model comparison (compare)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

import bayesgrn as bg
from bayesgrn.cli import main
from bayesgrn.compare import (
    OBSERVATION_SCALE,
    assign_folds,
    check_comparable,
    subset_samples,
)
from bayesgrn.inputs import build_inputs
from bayesgrn.predictive import pointwise_lpd

STEPS = 300
FAST = {"num_steps": 100, "device": "cpu"}


@pytest.fixture(scope="module")
def sim() -> bg.SimulatedData:
    """10 genes, 90 observational samples + one knockout per gene."""
    return bg.simulate(10, 90, knockouts="all", seed=5)


@pytest.fixture(scope="module")
def split(sim: bg.SimulatedData) -> tuple[bg.ExpressionData, bg.ExpressionData]:
    fold = assign_folds(sim.data, 4, seed=0)
    return subset_samples(sim.data, fold != 0), subset_samples(sim.data, fold == 0)


def heldout_fit(train: bg.ExpressionData, test: bg.ExpressionData, **kwargs) -> dict:
    post = bg.fit(
        train, num_steps=STEPS, psis_draws=0, heldout=test, heldout_draws=100, device="cpu",
        **kwargs,
    )  # fmt: skip
    return post.diagnostics["heldout"]


def shifted(data: bg.ExpressionData, by: float) -> bg.ExpressionData:
    """The same samples with every value moved by ``by`` (their own standardisation is equal)."""
    return dataclasses.replace(data, values=data.values + by, center=data.center + by)


# ---------------------------------------------------------------------- held-out score
def test_heldout_score_prefers_the_generating_model(sim, split) -> None:
    train, test = split
    good = heldout_fit(train, test)
    # misspecified: every true edge forbidden
    bad = heldout_fit(train, test, forbidden_edges=sim.gold[["regulator", "target"]])
    assert good["elpd"] > bad["elpd"] + 10
    pointwise = np.array(good["pointwise"])
    assert pointwise.shape == (test.n_samples,)
    assert np.isfinite(pointwise).all()
    assert good["samples"] == list(test.samples)
    assert good["draws"] == 100
    assert good["elpd"] == pytest.approx(pointwise.sum())


def test_heldout_values_follow_the_heldout_sample_order(split) -> None:
    train, test = split
    reverse = np.arange(test.n_samples)[::-1]
    forward = heldout_fit(train, test)
    backward = heldout_fit(train, subset_samples(test, reverse))
    assert backward["samples"] == forward["samples"][::-1]
    np.testing.assert_allclose(backward["pointwise"], forward["pointwise"][::-1], rtol=1e-5)


def test_heldout_score_does_not_change_the_fit(split) -> None:
    train, test = split
    plain = bg.fit(train, num_steps=50, psis_draws=0, device="cpu")
    scored = bg.fit(train, num_steps=50, psis_draws=0, device="cpu", heldout=test)
    np.testing.assert_array_equal(plain.w_draws, scored.w_draws)
    assert "heldout" not in plain.diagnostics


def test_heldout_is_scored_on_the_training_scale(split) -> None:
    train, test = split
    # shifted held-out data standardise to the same values on their own scale, so only
    # the training scale tells them apart: they must score much worse
    same = heldout_fit(train, test)
    moved = heldout_fit(train, shifted(test, 3.0 * float(train.scale.mean())))
    assert moved["elpd"] < same["elpd"] - 100


def test_reference_uses_training_center_scale_genes_and_conditions() -> None:
    rng = np.random.default_rng(0)
    genes = ["b", "a", "c"]
    train = bg.ExpressionData.from_array(
        rng.normal(size=(8, 3)), genes=genes, condition=["x"] * 4 + ["y"] * 4
    )
    values = 10.0 + 5.0 * rng.normal(size=(4, 3))
    order = [2, 0, 1]  # held-out columns c, b, a
    test = bg.ExpressionData.from_array(
        values[:, order], genes=[genes[j] for j in order], condition=["y"] * 4
    )
    spec = bg.load_spec("horseshoe")
    inputs = build_inputs(test, spec, torch.device("cpu"), torch.float64, reference=train)
    expected = (values - train.center) / train.scale  # training gene order and scale
    np.testing.assert_allclose(inputs.x.numpy(), expected)
    assert not np.allclose(inputs.x.numpy(), test.standardized()[:, np.argsort(order)])
    assert inputs.n_conditions == 2
    assert inputs.condition.tolist() == [1, 1, 1, 1]  # "y" in the training list


def test_mismatched_genes_regulators_and_unseen_conditions_raise(split) -> None:
    train, test = split
    renamed = dataclasses.replace(test, genes=("X1", *test.genes[1:]), regulators=test.genes[1:])
    with pytest.raises(bg.BayesGRNInputError, match=r"genes must be the same.*X1.*G1"):
        bg.fit(train, num_steps=5, heldout=renamed, device="cpu")
    fewer = test.with_regulators(test.genes[:4])
    with pytest.raises(bg.BayesGRNInputError, match=r"regulators must be the same.*G5"):
        bg.fit(train, num_steps=5, heldout=fewer, device="cpu")
    unseen = dataclasses.replace(test, condition=("batch2",) * test.n_samples)
    with pytest.raises(bg.BayesGRNInputError, match=r"condition\(s\) \['batch2'\].*training"):
        bg.fit(train, num_steps=5, heldout=unseen, device="cpu")
    with pytest.raises(ValueError, match="method='svi'"):
        bg.fit(train, method="nuts", heldout=test, device="cpu")


def test_pointwise_lpd_is_a_stable_log_mean_exp() -> None:
    log_lik = np.array([[-1000.0, 0.0], [-1001.0, np.log(3.0)]])
    expected = [-1000.0 + np.log((1 + np.exp(-1.0)) / 2), np.log(2.0)]
    np.testing.assert_allclose(pointwise_lpd(log_lik), expected)


# ---------------------------------------------------------------------- folds and compare
def two_condition_data(sim: bg.SimulatedData) -> bg.ExpressionData:
    data = sim.data
    condition = ["a" if i % 3 else "b" for i in range(data.n_samples)]
    return dataclasses.replace(data, condition=tuple(condition))


def test_folds_are_stratified_balanced_and_row_order_free(sim) -> None:
    data = two_condition_data(sim)
    fold = assign_folds(data, 5, seed=1)
    assert sorted(np.bincount(fold)) in ([20] * 5, [19, 20, 20, 20, 21])
    assert np.ptp(np.bincount(fold)) <= 1
    for c in data.conditions:
        in_c = np.array(data.condition) == c
        for k in range(5):  # every training set holds every condition
            assert (in_c & (fold != k)).any()
    knockouts = np.array(data.perturbation) != "none"
    assert np.ptp(np.bincount(fold[knockouts], minlength=5)) <= 1
    rows = np.random.default_rng(0).permutation(data.n_samples)
    permuted = subset_samples(data, rows)
    assert (assign_folds(permuted, 5, seed=1) == fold[rows]).all()
    assert not (assign_folds(data, 5, seed=2) == fold).all()


def test_fold_errors(sim) -> None:
    data = sim.data
    lonely = dataclasses.replace(data, condition=("solo",) + data.condition[1:])
    with pytest.raises(bg.BayesGRNInputError, match=r"'solo' \(1 sample\).*every training"):
        assign_folds(lonely, 3)
    with pytest.raises(bg.BayesGRNInputError, match="too few for 40 folds"):
        assign_folds(data, 40)
    with pytest.raises(bg.BayesGRNInputError, match="folds must be an integer >= 2"):
        assign_folds(data, 1)


def test_mixed_or_unknown_observation_scales_are_refused(sim, monkeypatch) -> None:
    counts = dataclasses.replace(bg.load_spec("horseshoe"), name="counts")
    object.__setattr__(counts, "family", "negbinomial")  # the count family's scale
    with pytest.raises(bg.BayesGRNInputError, match=r"different scales.*counts \(negbinomial"):
        check_comparable([bg.load_spec("horseshoe"), counts])
    assert check_comparable([bg.load_spec("horseshoe"), bg.load_spec("sigmoid_horseshoe")]) == (
        "continuous"
    )
    monkeypatch.setitem(OBSERVATION_SCALE, "sigmoid", "counts")
    with pytest.raises(bg.BayesGRNInputError, match="different scales"):
        bg.compare(sim.data, folds=3, **FAST)
    monkeypatch.delitem(OBSERVATION_SCALE, "sigmoid")
    with pytest.raises(bg.BayesGRNInputError, match="'sigmoid' has no known observation scale"):
        bg.compare(sim.data, folds=3, **FAST)


def test_compare_is_deterministic_and_scores_every_sample_once(sim) -> None:
    data = two_condition_data(sim)
    first = bg.compare(data, folds=3, seed=4, draws=50, **FAST)
    second = bg.compare(data, folds=3, seed=4, draws=50, **FAST)
    columns = [c for c in first.columns if c != "seconds"]
    pd.testing.assert_frame_equal(first[columns], second[columns])
    assert list(first.columns) == [
        "model", "family", "elpd", "se", "elpd_diff", "se_diff",
        "n_samples", "n_params", "seconds", "notes",
    ]  # fmt: skip
    assert set(first["model"]) == {"horseshoe", "sigmoid_horseshoe"}
    assert first["elpd"].is_monotonic_decreasing
    assert first.loc[0, "elpd_diff"] == 0.0
    assert first.loc[0, "se_diff"] == 0.0
    pointwise = first.attrs["pointwise"]
    assert list(pointwise.index) == list(data.samples)
    assert np.isfinite(pointwise.to_numpy()).all()
    for row in first.itertuples():
        assert row.elpd == pytest.approx(pointwise[row.model].sum())
        diff = pointwise[row.model] - pointwise[first.loc[0, "model"]]
        assert row.elpd_diff == pytest.approx(diff.sum())
        assert row.se_diff == pytest.approx(np.sqrt(len(diff) * diff.var(ddof=1)))
    assert (first.attrs["folds"].to_numpy() == assign_folds(data, 3, seed=4)).all()


# ---------------------------------------------------------------------- CLI
def test_cli_compare_smoke(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sim_dir = tmp_path / "sim"
    assert main(["simulate", "--genes", "6", "--samples", "30", "--seed", "2",
                 "--out", str(sim_dir), "-q"]) == 0  # fmt: skip
    capsys.readouterr()
    table = tmp_path / "table.tsv"
    argv = ["compare", str(sim_dir / "expression.tsv"), "--folds", "3", "--steps", "30",
            "--draws", "20", "--device", "cpu", "--out", str(table), "-q"]  # fmt: skip
    assert main(argv) == 0
    out = capsys.readouterr().out
    for word in ("horseshoe", "sigmoid_horseshoe", "elpd_diff"):
        assert word in out
    written = pd.read_csv(table, sep="\t")
    assert list(written["model"]) == [line.split()[0] for line in out.splitlines()[1:3]]
    assert main(argv) == 2  # --out exists
    assert "--overwrite" in capsys.readouterr().err
    assert main([*argv, "--overwrite", "--models", "horseshoe", "no_such_spec"]) == 2
    assert "bayesgrn: error:" in capsys.readouterr().err
