import dataclasses

import numpy as np
import pandas as pd
import pytest

import bayesgrn as bg
from bayesgrn import decision
from bayesgrn._arviz import arviz_major


@pytest.fixture(scope="module")
def post(tiny_sim):
    return bg.fit(tiny_sim.data, num_steps=300, seed=1)


COLUMNS = ["regulator", "target", "mean", "sd", "ci_lower", "ci_upper", "p_edge", "p_positive"]


def test_edges_table_schema_and_order(post, tiny_sim):
    edges = post.edges()
    g = tiny_sim.data.n_genes
    assert list(edges.columns[: len(COLUMNS)]) == COLUMNS
    assert {"lfdr", "lfsr", "TF", "importance"} <= set(edges.columns)
    assert len(edges) == g * (g - 1)
    assert (edges["regulator"] != edges["target"]).all()
    key = list(zip(edges["p_edge"], edges["mean"].abs(), strict=True))
    assert key == sorted(key, reverse=True)
    assert ((edges["ci_lower"] <= edges["mean"]) & (edges["mean"] <= edges["ci_upper"])).all()
    assert edges["p_edge"].between(0, 1).all()
    assert edges["p_positive"].between(0, 1).all()


def test_wider_ci_prob_gives_wider_intervals(post):
    narrow = post.edges(ci_prob=0.5).set_index(["regulator", "target"])
    wide = post.edges(ci_prob=0.95).set_index(["regulator", "target"]).loc[narrow.index]
    assert (wide["ci_lower"] <= narrow["ci_lower"] + 1e-12).all()
    assert (wide["ci_upper"] >= narrow["ci_upper"] - 1e-12).all()
    with pytest.raises(ValueError, match="ci_prob"):
        post.edges(ci_prob=1.5)


def test_data_scale_rescales_by_gene_sds(post, tiny_sim):
    std = post.matrix("mean")
    data = post.matrix("mean", scale="data")
    sd = pd.Series(tiny_sim.data.scale, index=tiny_sim.data.genes)
    expected = std * np.outer(1 / sd[std.index], sd[std.columns])
    np.testing.assert_allclose(data.to_numpy(), expected.to_numpy(), rtol=1e-5, atol=1e-8)


def test_matrix_orientation_and_zero_diagonal(post, tiny_sim):
    m = post.matrix("p_edge")
    assert list(m.index) == list(tiny_sim.data.regulators)
    assert list(m.columns) == list(tiny_sim.data.genes)
    assert np.all(np.diag(m.to_numpy()) == 0)
    with pytest.raises(ValueError, match="unknown stat"):
        post.matrix("median")


def test_select_controls_posterior_expected_fdr(post):
    for q in (0.01, 0.05, 0.2):
        chosen = post.select(fdr=q)
        if len(chosen):
            assert chosen["lfdr"].mean() <= q + 1e-12
        bigger = post.edges().head(len(chosen) + 1)
        if len(bigger) > len(chosen):
            assert bigger["lfdr"].mean() > q  # the set is the largest such prefix


def test_bayesian_fdr_selection_by_hand():
    lfdr = np.array([0.5, 0.01, 0.02, 0.2, 0.03])
    # sorted 0.01, 0.02, 0.03 -> running means 0.01, 0.015, 0.02
    np.testing.assert_array_equal(decision.bayesian_fdr_selection(lfdr, 0.019), [1, 2])
    np.testing.assert_array_equal(decision.bayesian_fdr_selection(lfdr, 0.02), [1, 2, 4])
    # 0.01, 0.02, 0.03, 0.2 -> running means 0.01, 0.015, 0.02, 0.065
    np.testing.assert_array_equal(decision.bayesian_fdr_selection(lfdr, 0.07), [1, 2, 4, 3])
    assert decision.bayesian_fdr_selection(lfdr, 0.0).size == 0


def test_decision_functions_by_hand():
    draws = np.array([[0.5], [-0.05], [0.2], [0.0]])
    assert decision.edge_probability(draws, 0.1)[0] == pytest.approx(0.5)
    assert decision.sign_probability(draws)[0] == pytest.approx(0.5)
    assert decision.local_false_sign_rate(draws)[0] == pytest.approx(0.5)
    lo, hi = decision.credible_interval(np.arange(101.0)[:, None], 0.9)
    assert (lo[0], hi[0]) == (pytest.approx(5.0), pytest.approx(95.0))


def test_save_load_round_trip(post, tmp_path):
    path = post.save(tmp_path / "run.npz")
    again = bg.Posterior.load(path)
    np.testing.assert_array_equal(again.w_draws, post.w_draws)
    pd.testing.assert_frame_equal(again.edges(), post.edges())
    assert again.summary() == post.summary()
    assert again.spec == post.spec
    assert again.spec_hash == post.spec_hash
    assert [p.name for p in tmp_path.iterdir()] == ["run.npz"]  # no temp files left
    with np.load(path, allow_pickle=False) as npz:  # no pickled objects inside
        assert "w_draws" in npz.files


def test_load_rejects_other_files(tmp_path):
    bad = tmp_path / "x.npz"
    bad.write_bytes(b"not a zip")
    with pytest.raises(ValueError, match="not a bayesgrn posterior"):
        bg.Posterior.load(bad)
    with pytest.raises(ValueError, match="does not exist"):
        bg.Posterior.load(tmp_path / "missing.npz")


def test_posterior_is_immutable(post):
    with pytest.raises(dataclasses.FrozenInstanceError):
        post.seed = 3
    with pytest.raises(ValueError, match="read-only"):
        post.w_draws[0, 0, 0] = 1.0
    edges = post.edges()
    edges.loc[0, "mean"] = 99.0
    assert post.edges().loc[0, "mean"] != 99.0


def test_to_arviz_has_named_dims_and_provenance(post, tiny_sim):
    idata = post.to_arviz()
    w = idata.posterior["W"] if arviz_major() < 1 else idata["posterior"]["W"]
    assert tuple(w.dims) == ("chain", "draw", "regulator", "target")
    assert list(w["regulator"].values) == list(tiny_sim.data.regulators)
    attrs = idata.posterior.attrs if arviz_major() < 1 else idata.attrs
    assert attrs["spec_hash"] == post.spec_hash


def test_summary_and_repr(post):
    summary = post.summary()
    for key in ("seed", "spec_hash", "steps", "final_elbo", "seconds", "device", "model"):
        assert key in summary
    assert "Posterior(" in repr(post)
    assert "seed=1" in repr(post)
