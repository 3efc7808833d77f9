"""Tests for the baseline GRN methods in ``examples/benchmarks/peers.py``."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import GradientBoostingRegressor, RandomForestRegressor
from sklearn.metrics import roc_auc_score

PEERS_PATH = Path(__file__).resolve().parents[1] / "examples" / "benchmarks" / "peers.py"

N_GENES = 8
# chain 0 -> 1 -> 2 -> 3, star 0 -> 4, 0 -> 5; genes 6 and 7 are independent
TRUE_EDGES = [(0, 1), (1, 2), (2, 3), (0, 4), (0, 5)]


def _load_peers() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bayesgrn_benchmark_peers", PEERS_PATH)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


peers = _load_peers()


def _simulate(n_samples: int = 300, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n_samples, N_GENES))
    for parent, child in TRUE_EDGES:  # parents are always generated before children
        X[:, child] = 0.8 * X[:, parent] + 0.5 * rng.normal(size=n_samples)
    return X


def _undirected_auroc(scores: np.ndarray) -> float:
    truth = np.zeros((N_GENES, N_GENES), dtype=bool)
    for parent, child in TRUE_EDGES:
        truth[parent, child] = truth[child, parent] = True
    off_diagonal = ~np.eye(N_GENES, dtype=bool)
    return float(roc_auc_score(truth[off_diagonal], scores[off_diagonal]))


@pytest.fixture(scope="module")
def X() -> np.ndarray:
    return _simulate()


@pytest.fixture(scope="module")
def all_scores(X: np.ndarray) -> dict[str, np.ndarray]:
    return {
        "pearson": peers.pearson_scores(X),
        "genie3_rf": peers.genie3_scores(X, n_trees=50),
        "genie3_et": peers.genie3_scores(X, tree_method="ET", n_trees=50),
        "grnboost2": peers.grnboost2_scores(X),
    }


METHODS = ["pearson", "genie3_rf", "genie3_et", "grnboost2"]


@pytest.mark.parametrize("method", METHODS)
def test_shape_diagonal_and_finiteness(all_scores: dict[str, np.ndarray], method: str) -> None:
    scores = all_scores[method]
    assert scores.shape == (N_GENES, N_GENES)
    assert np.all(np.isfinite(scores))
    assert np.all(scores >= 0.0)
    assert np.all(np.diag(scores) == 0.0)
    assert scores.sum() > 0.0


@pytest.mark.parametrize("method", METHODS)
def test_true_edges_rank_above_non_edges(all_scores: dict[str, np.ndarray], method: str) -> None:
    assert _undirected_auroc(all_scores[method]) >= 0.9


def test_pearson_matches_numpy(X: np.ndarray, all_scores: dict[str, np.ndarray]) -> None:
    expected = np.abs(np.corrcoef(X, rowvar=False))
    np.fill_diagonal(expected, 0.0)
    np.testing.assert_allclose(all_scores["pearson"], expected, atol=1e-12)


def test_pearson_constant_gene_scores_zero() -> None:
    X = _simulate(n_samples=50)
    X[:, 3] = 2.5
    scores = peers.pearson_scores(X)
    assert np.all(scores[3] == 0.0)
    assert np.all(scores[:, 3] == 0.0)
    assert np.all(np.isfinite(scores))


def test_genie3_matches_reference_importances(X: np.ndarray) -> None:
    """Target 2 by hand, following vahuynh/GENIE3 ``GENIE3_single``."""
    scores = peers.genie3_scores(X, n_trees=20, seed=3)
    inputs = [g for g in range(N_GENES) if g != 2]
    y = X[:, 2] / np.std(X[:, 2])
    forest = RandomForestRegressor(n_estimators=20, max_features="sqrt", random_state=3)
    forest.fit(X[:, inputs], y)
    per_tree = [t.tree_.compute_feature_importances(normalize=False) for t in forest]
    np.testing.assert_allclose(scores[inputs, 2], np.mean(per_tree, axis=0), rtol=1e-12)


def test_genie3_importances_are_unnormalised_variance_reductions(
    all_scores: dict[str, np.ndarray],
) -> None:
    # fully grown trees on a unit-variance target explain (about) all bootstrap variance
    col_sums = all_scores["genie3_rf"].sum(axis=0)
    np.testing.assert_allclose(col_sums, 1.0, atol=0.15)
    # ... but are not renormalised to sum exactly 1 as sklearn's feature_importances_ are
    assert not np.allclose(col_sums, 1.0, atol=1e-9)


def test_genie3_invariant_to_gene_scaling(X: np.ndarray) -> None:
    scale = 2.0 ** np.arange(-3, N_GENES - 3)  # exact in floating point
    base = peers.genie3_scores(X, n_trees=20)
    scaled = peers.genie3_scores(X * scale, n_trees=20)
    np.testing.assert_allclose(scaled, base, rtol=1e-10, atol=1e-12)


def test_genie3_n_jobs_does_not_change_result(X: np.ndarray) -> None:
    a = peers.genie3_scores(X, regulators=[0, 1, 2], n_trees=20, n_jobs=1)
    b = peers.genie3_scores(X, regulators=[0, 1, 2], n_trees=20, n_jobs=2)
    np.testing.assert_allclose(a, b, rtol=1e-12)


def test_genie3_integer_max_features_capped(X: np.ndarray) -> None:
    # K >= number of candidate regulators means "all", as in the reference
    big = peers.genie3_scores(X[:60], n_trees=5, max_features=100)
    every = peers.genie3_scores(X[:60], n_trees=5, max_features="all")
    np.testing.assert_allclose(big, every)


def test_grnboost2_column_sums_count_boosting_stages(all_scores: dict[str, np.ndarray]) -> None:
    col_sums = all_scores["grnboost2"].sum(axis=0)
    # arboreto's importance = feature_importances_ (sums to 1) * number of stages used
    np.testing.assert_allclose(col_sums, np.round(col_sums), atol=1e-8)
    assert np.all(col_sums >= peers.EARLY_STOP_WINDOW_LENGTH)
    assert np.all(col_sums < peers.SGBM_KWARGS["n_estimators"])
    # regressions with real signal keep improving out-of-bag for longer than pure noise
    assert col_sums[[1, 2, 3, 4, 5]].min() > col_sums[[6, 7]].max()


def test_grnboost2_matches_arboreto_for_one_target(
    X: np.ndarray, all_scores: dict[str, np.ndarray]
) -> None:
    scores = all_scores["grnboost2"]  # seed=0
    inputs = [g for g in range(N_GENES) if g != 4]
    monitor = peers.EarlyStopMonitor(window_length=25)
    model = GradientBoostingRegressor(random_state=0, **peers.SGBM_KWARGS)
    model.fit(X[:, inputs], X[:, 4], monitor=monitor)
    assert len(model.estimators_) == len(monitor.improvements_)
    expected = model.feature_importances_ * len(model.estimators_)
    np.testing.assert_allclose(scores[inputs, 4], expected, rtol=1e-12)
    assert np.argmax(scores[:, 4]) == 0


def test_early_stop_monitor_same_mask_improvement() -> None:
    rng = np.random.default_rng(1)
    Xs = rng.normal(size=(200, 5))
    y = Xs[:, 0] + 0.3 * rng.normal(size=200)

    class Recorder(peers.EarlyStopMonitor):
        """Also checks each improvement against saved pre-stage predictions."""

        def __init__(self) -> None:
            super().__init__(window_length=25)
            self.previous: np.ndarray | None = None
            self.errors: list[float] = []

        def __call__(self, current_round: int, regressor, state) -> bool:
            stop = super().__call__(current_round, regressor, state)
            raw = np.asarray(state["raw_predictions"])[:, 0].copy()
            if self.previous is not None:
                oob = ~state["sample_mask"]
                y_oob = state["y"][oob]
                reference = np.mean((y_oob - self.previous[oob]) ** 2) - np.mean(
                    (y_oob - raw[oob]) ** 2
                )
                self.errors.append(abs(reference - self.improvements_[-1]))
            self.previous = raw
            return stop

    monitor = Recorder()
    model = GradientBoostingRegressor(random_state=0, **peers.SGBM_KWARGS)
    model.fit(Xs, y, monitor=monitor)
    assert monitor.errors
    assert max(monitor.errors) < 1e-12
    n_stages = len(model.estimators_)
    assert 25 <= n_stages < peers.SGBM_KWARGS["n_estimators"]
    # it stopped because the windowed mean turned negative, and not before
    assert np.mean(monitor.improvements_[-25:]) < 0.0
    means = [np.mean(monitor.improvements_[i - 24 : i + 1]) for i in range(24, n_stages - 1)]
    assert min(means) >= 0.0


@pytest.mark.parametrize(
    "method",
    [
        peers.pearson_scores,
        lambda X, regulators: peers.genie3_scores(X, regulators, n_trees=30),
        peers.grnboost2_scores,
    ],
    ids=["pearson", "genie3", "grnboost2"],
)
def test_regulator_subset(X: np.ndarray, method) -> None:
    regulators = [0, 2, 6]
    scores = method(X, regulators=regulators)
    assert scores.shape == (3, N_GENES)
    assert np.all(scores[np.arange(3), regulators] == 0.0)
    assert np.all(np.isfinite(scores))
    # the true parent, when it is a candidate, is the strongest regulator of its child
    assert np.argmax(scores[:, 1]) == 0  # 0 -> 1
    assert np.argmax(scores[:, 3]) == 1  # 2 -> 3
    assert np.argmax(scores[:, 5]) == 0  # 0 -> 5


def test_pearson_subset_equals_rows_of_full(X: np.ndarray, all_scores) -> None:
    np.testing.assert_allclose(
        peers.pearson_scores(X, regulators=[5, 1]), all_scores["pearson"][[5, 1]]
    )


def test_single_regulator_has_no_self_model(X: np.ndarray) -> None:
    scores = peers.genie3_scores(X, regulators=[0], n_trees=10)
    assert scores.shape == (1, N_GENES)
    assert scores[0, 0] == 0.0
    assert np.all(scores[0, 1:] > 0.0)


@pytest.mark.parametrize("regulators", [[0, 8], [-1], [1, 1], []])
def test_invalid_regulators_raise(X: np.ndarray, regulators: list[int]) -> None:
    with pytest.raises(ValueError, match="regulator"):
        peers.pearson_scores(X, regulators=regulators)


def test_invalid_tree_method_raises(X: np.ndarray) -> None:
    with pytest.raises(ValueError, match="tree_method"):
        peers.genie3_scores(X, tree_method="GBM")


def _knockout_example() -> tuple[np.ndarray, np.ndarray, list[int]]:
    """Genes 0 -> 1 (activation) and 2 -> 3 (repression); gene 4 is never knocked out."""
    wildtype = np.array(
        [
            [1.00, 0.80, 0.60, 0.30, 0.50],
            [1.02, 0.82, 0.59, 0.31, 0.51],
            [0.98, 0.79, 0.61, 0.29, 0.49],
        ]
    )
    knockouts = np.array(
        [
            [0.00, 0.10, 0.62, 0.31, 0.50],  # KO 0: child 1 collapses
            [1.01, 0.00, 0.60, 0.30, 0.52],  # KO 1: nothing downstream
            [0.99, 0.81, 0.00, 0.95, 0.49],  # KO 2: repressed child 3 rises
            [1.00, 0.80, 0.61, 0.00, 0.50],  # KO 3: nothing downstream
        ]
    )
    return wildtype, knockouts, [0, 1, 2, 3]


def test_knockout_zscores_recovers_parent_child_signal() -> None:
    wildtype, knockouts, knocked_out = _knockout_example()
    scores = peers.knockout_zscores(wildtype, knockouts, knocked_out)
    assert scores.shape == (5, 5)
    assert np.all(np.diag(scores) == 0.0)
    assert np.all(scores[4] == 0.0)  # gene 4 never knocked out
    true_pairs = [(0, 1), (2, 3)]
    true_scores = [scores[k, j] for k, j in true_pairs]
    off = ~np.eye(5, dtype=bool)
    for k, j in true_pairs:
        off[k, j] = False
    assert min(true_scores) > scores[off].max()
    # definition: |x_ko - mean(wt)| / sd over the knockout rows (ddof=0)
    expected = abs(0.10 - wildtype[:, 1].mean()) / knockouts[:, 1].std()
    assert scores[0, 1] == pytest.approx(expected)


def test_knockout_zscores_replicates_and_degenerate_columns() -> None:
    wildtype, knockouts, knocked_out = _knockout_example()
    knockouts = knockouts.copy()
    replicated = np.vstack([knockouts, knockouts[[0]] + 0.02])
    replicated[:, 4] = 0.7  # gene 4 identical in every knockout: no usable spread
    scores = peers.knockout_zscores(wildtype[0], replicated, [*knocked_out, 0])
    assert np.all(scores[:, 4] == 0.0)
    assert np.all(np.isfinite(scores))
    ko0 = (replicated[0] + replicated[-1]) / 2.0
    expected = abs(ko0[1] - wildtype[0, 1]) / replicated[:, 1].std()
    assert scores[0, 1] == pytest.approx(expected)


def test_knockout_zscores_validates_input() -> None:
    wildtype, knockouts, _ = _knockout_example()
    with pytest.raises(ValueError, match="knocked_out"):
        peers.knockout_zscores(wildtype, knockouts, [0, 1, 2])
    with pytest.raises(ValueError, match="knocked_out"):
        peers.knockout_zscores(wildtype, knockouts, [0, 1, 2, 9])
    with pytest.raises(ValueError, match="X_wildtype"):
        peers.knockout_zscores(wildtype[:, :3], knockouts, [0, 1, 2, 3])


def test_scores_to_edges() -> None:
    genes = ["a", "b", "c", "d"]
    regulators = ["c", "a"]
    scores = np.array([[0.1, 0.9, 0.0, 0.3], [0.0, 0.5, 0.7, 0.2]])
    edges = peers.scores_to_edges(scores, genes, regulators)
    assert isinstance(edges, pd.DataFrame)
    assert list(edges.columns) == ["regulator", "target", "score"]
    assert len(edges) == 2 * 4 - 2  # self-edges c->c and a->a removed
    assert not (edges["regulator"] == edges["target"]).any()
    assert edges["score"].is_monotonic_decreasing
    assert edges.index.equals(pd.RangeIndex(len(edges)))
    top = edges.iloc[0]
    assert (top["regulator"], top["target"], top["score"]) == ("c", "b", 0.9)
    lookup = {(r, t): s for r, t, s in edges.itertuples(index=False)}
    assert lookup[("a", "c")] == 0.7
    assert lookup[("c", "a")] == 0.1
    with pytest.raises(ValueError, match="shape"):
        peers.scores_to_edges(scores.T, genes, regulators)
