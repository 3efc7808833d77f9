"""Baseline ("peer") gene-regulatory-network inference methods for the bayesgrn benchmarks.

This module is deliberately standalone: it depends only on numpy, pandas, scipy,
scikit-learn and the standard library, so the benchmarks can score the peers without
installing GENIE3, arboreto/dask or any other third-party GRN package.

Every scoring function takes an expression matrix ``X`` (samples x genes) and an
optional sequence of candidate-regulator column indices, and returns a dense array
``scores`` of shape ``(n_regulators, n_genes)`` where ``scores[r, j]`` is the score of
the directed edge ``regulators[r] -> j``.  Self-edges are always 0 and every score is
finite and non-negative, so the arrays can be fed straight into ranking metrics.

Methods
-------
pearson_scores
    Absolute Pearson correlation (undirected; the same value in both directions).
genie3_scores
    GENIE3 (Huynh-Thu et al., 2010, PLoS ONE 5:e12776), reproducing the reference
    ``GENIE3_python/GENIE3.py`` (github.com/vahuynh/GENIE3) on top of scikit-learn.
grnboost2_scores
    GRNBoost2 (Moerman et al., 2019, Bioinformatics 35:2159), reproducing
    ``arboreto.core`` (github.com/aertslab/arboreto) without dask.
knockout_zscores
    Knockout z-scores in the spirit of the DREAM4 knockout baselines.
scores_to_edges
    Flatten a score matrix into a ranked ``regulator, target, score`` edge table.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from sklearn.ensemble import (
    ExtraTreesRegressor,
    GradientBoostingRegressor,
    RandomForestRegressor,
)
from sklearn.utils.parallel import Parallel, delayed

__all__ = [
    "EARLY_STOP_WINDOW_LENGTH",
    "SGBM_KWARGS",
    "EarlyStopMonitor",
    "genie3_scores",
    "grnboost2_scores",
    "knockout_zscores",
    "pearson_scores",
    "scores_to_edges",
]

#: arboreto's stochastic gradient boosting settings for GRNBoost2 (``arboreto.core``).
SGBM_KWARGS: dict[str, Any] = {
    "learning_rate": 0.01,
    "n_estimators": 5000,  # "can be arbitrarily large": early stopping decides
    "max_features": 0.1,
    "subsample": 0.9,
}

#: arboreto's default window of the out-of-bag early-stopping monitor.
EARLY_STOP_WINDOW_LENGTH = 25


# ----------------------------------------------------------------------------- helpers


def _as_matrix(X: ArrayLike, name: str = "X") -> NDArray[np.float64]:
    arr = np.asarray(X, dtype=np.float64)
    if arr.ndim != 2:
        raise ValueError(f"{name} must be a 2-D (samples x genes) array, got shape {arr.shape}")
    if arr.shape[0] < 2 or arr.shape[1] < 1:
        raise ValueError(f"{name} needs at least 2 samples and 1 gene, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or infinite values")
    return arr


def _regulator_indices(regulators: Sequence[int] | None, n_genes: int) -> NDArray[np.intp]:
    if regulators is None:
        return np.arange(n_genes, dtype=np.intp)
    regs = np.asarray(regulators)
    if regs.ndim != 1 or regs.size == 0:
        raise ValueError("regulators must be a non-empty 1-D sequence of column indices")
    if not np.issubdtype(regs.dtype, np.integer):
        raise TypeError(f"regulators must be integer column indices, got dtype {regs.dtype}")
    if regs.min() < 0 or regs.max() >= n_genes:
        raise ValueError(f"regulator indices must lie in [0, {n_genes}), got {regs.tolist()}")
    if np.unique(regs).size != regs.size:
        raise ValueError("regulators contains duplicate indices")
    return regs.astype(np.intp)


def _zero_self_edges(scores: NDArray[np.float64], regs: NDArray[np.intp]) -> None:
    scores[np.arange(regs.size), regs] = 0.0


def _per_target_inputs(regs: NDArray[np.intp], target: int) -> NDArray[np.intp]:
    """Row positions (into ``regs``) of the candidate regulators of ``target``."""
    return np.flatnonzero(regs != target)


# ----------------------------------------------------------------------------- Pearson


def pearson_scores(X: ArrayLike, regulators: Sequence[int] | None = None) -> NDArray[np.float64]:
    """Absolute Pearson correlation between every regulator and every gene.

    Parameters
    ----------
    X : array_like of shape (n_samples, n_genes)
        Expression matrix.
    regulators : sequence of int, optional
        Column indices of the candidate regulators (default: all genes).

    Returns
    -------
    numpy.ndarray of shape (n_regulators, n_genes)
        ``|corr(x_regulators[r], x_j)|`` in ``[0, 1]``; self-edges are 0.  Pairs that
        involve a constant gene (undefined correlation) score 0.
    """
    X = _as_matrix(X)
    regs = _regulator_indices(regulators, X.shape[1])
    centred = X - X.mean(axis=0)
    sd = np.sqrt(np.mean(centred**2, axis=0))
    constant = sd <= np.finfo(np.float64).eps * np.maximum(1.0, np.abs(X).max(axis=0))
    z = np.divide(centred, sd, out=np.zeros_like(centred), where=~constant)
    scores = np.abs(z[:, regs].T @ z) / X.shape[0]
    np.clip(scores, 0.0, 1.0, out=scores)
    _zero_self_edges(scores, regs)
    return scores


# ----------------------------------------------------------------------------- GENIE3


def _forest_importances(estimator: RandomForestRegressor | ExtraTreesRegressor) -> np.ndarray:
    """Reference GENIE3 ``compute_feature_importances`` for a fitted forest.

    Un-normalised impurity importances of each tree (total weighted variance reduction
    per feature, divided by the root's weighted sample count), averaged over all trees,
    single-node trees included (they contribute zeros).
    """
    per_tree = [tree.tree_.compute_feature_importances(normalize=False) for tree in estimator]
    return np.mean(per_tree, axis=0)


def genie3_scores(
    X: ArrayLike,
    regulators: Sequence[int] | None = None,
    tree_method: Literal["RF", "ET"] = "RF",
    n_trees: int = 1000,
    max_features: str | int | float | None = "sqrt",
    seed: int | None = 0,
    n_jobs: int | None = 1,
) -> NDArray[np.float64]:
    """GENIE3 tree-ensemble importance scores.

    For each target gene ``j`` a random forest (``tree_method="RF"``) or extra-trees
    ensemble (``"ET"``) is trained to predict ``x_j`` from the candidate regulators
    other than ``j``; the score of ``i -> j`` is the importance of ``x_i`` in that
    ensemble.

    Parameters
    ----------
    X : array_like of shape (n_samples, n_genes)
        Expression matrix.
    regulators : sequence of int, optional
        Column indices of the candidate regulators (default: all genes).
    tree_method : {"RF", "ET"}, default="RF"
        Random forests or extremely randomised trees.
    n_trees : int, default=1000
        Trees per ensemble (GENIE3's ``ntrees``).
    max_features : {"sqrt", "all"}, int, float or None, default="sqrt"
        GENIE3's ``K``: features tried at each split.  ``"sqrt"`` uses the square root
        of the number of candidate regulators, ``"all"`` (or ``None``) all of them, an
        int that many (capped at the number of candidates, as in the reference), and a
        float is passed to scikit-learn as a fraction.
    seed : int or None, default=0
        ``random_state`` of every ensemble (the same seed is used for each target, as
        arboreto does; the reference GENIE3.py leaves the forests unseeded).
    n_jobs : int or None, default=1
        Passed to the scikit-learn ensemble (parallel over trees).

    Returns
    -------
    numpy.ndarray of shape (n_regulators, n_genes)
        ``scores[r, j]`` = importance of ``regulators[r]`` for target ``j``; self-edges
        are 0.  A constant target gene gets an all-zero column.

    Notes
    -----
    This matches ``GENIE3_single`` / ``compute_feature_importances`` of the reference
    implementation (vahuynh/GENIE3, ``GENIE3_python/GENIE3.py``) as closely as current
    scikit-learn allows:

    * the target is divided by its (population, ``ddof=0``) standard deviation, so
      importances are comparable across targets.  The reference scales only the output;
      rescaling the inputs would not change any split of a tree, so it is not done.
    * importances are **not** scikit-learn's ``feature_importances_`` (which renormalises
      each tree and the average to sum 1).  As in the reference, each tree's importances
      are taken un-normalised, ``tree_.compute_feature_importances(normalize=False)``
      (total variance reduction brought by a feature, weighted by node sample counts and
      divided by the root's), and averaged over all trees.  With fully grown trees the
      importances of one target therefore sum to roughly the (bootstrap) variance of the
      standardised target, i.e. about 1.
    * forest settings are the reference ones (and scikit-learn defaults): bootstrap for
      RF, none for ET, fully grown trees, squared-error criterion.  The reference's
      ``max_features="auto"`` for ``K="all"`` (removed from scikit-learn) is expressed as
      ``1.0`` (all features).
    """
    X = _as_matrix(X)
    n_genes = X.shape[1]
    regs = _regulator_indices(regulators, n_genes)
    if tree_method not in ("RF", "ET"):
        raise ValueError(f'tree_method must be "RF" or "ET", got {tree_method!r}')
    if isinstance(n_trees, bool) or not isinstance(n_trees, int | np.integer) or n_trees < 1:
        raise ValueError(f"n_trees must be a positive integer, got {n_trees!r}")
    if isinstance(max_features, str) and max_features not in ("sqrt", "all", "log2"):
        raise ValueError(
            f'max_features must be "sqrt", "all", an int or a float, got {max_features!r}'
        )
    ensemble_cls = RandomForestRegressor if tree_method == "RF" else ExtraTreesRegressor

    scores = np.zeros((regs.size, n_genes), dtype=np.float64)
    for target in range(n_genes):
        inputs = _per_target_inputs(regs, target)
        y = X[:, target]
        sd = np.std(y)  # per column, exactly as the reference (rounding affects near-ties)
        if inputs.size == 0 or not sd > 0.0:
            continue
        n_inputs = inputs.size
        if max_features is None or max_features == "all":
            k: str | int | float = 1.0
        elif isinstance(max_features, int | np.integer) and not isinstance(max_features, bool):
            if max_features < 1:
                raise ValueError(f"integer max_features must be >= 1, got {max_features}")
            k = 1.0 if max_features >= n_inputs else int(max_features)
        else:
            k = max_features
        model = ensemble_cls(
            n_estimators=n_trees, max_features=k, random_state=seed, n_jobs=n_jobs
        )
        model.fit(X[:, regs[inputs]], y / sd)
        scores[inputs, target] = _forest_importances(model)
    _zero_self_edges(scores, regs)
    return scores


# ----------------------------------------------------------------------------- GRNBoost2


class EarlyStopMonitor:
    """arboreto's out-of-bag early-stopping monitor for ``GradientBoostingRegressor.fit``.

    Boosting stops after round ``i`` (0-based, ``i >= window_length - 1``) as soon as the
    mean out-of-bag improvement of the last ``window_length`` rounds is negative.  The
    stage that triggers the stop is kept by scikit-learn.

    Parameters
    ----------
    window_length : int, default=25
        Number of most recent boosting rounds averaged.
    same_mask : bool, default=True
        How the out-of-bag improvement of a round is measured.  arboreto's monitor reads
        ``regressor.oob_improvement_``, which scikit-learn < 1.3 (the versions arboreto
        was written and published against) defined as the drop in squared-error loss on
        the *current* round's out-of-bag samples caused by the round's tree.
        scikit-learn >= 1.3 redefined it as the difference between the out-of-bag losses
        of two consecutive rounds, each on its *own* random out-of-bag subset; the
        windowed mean then telescopes to a difference of two noisy subset losses and
        stops GRNBoost2 after a few dozen rounds.  With ``same_mask=True`` (default) the
        monitor recomputes the old, same-subset quantity from the state scikit-learn
        passes to monitors (squared-error loss only, the GRNBoost2 setting); with
        ``False`` it uses ``regressor.oob_improvement_`` as is.

    Attributes
    ----------
    improvements_ : list of float
        The out-of-bag improvement of every round seen so far.
    """

    def __init__(
        self, window_length: int = EARLY_STOP_WINDOW_LENGTH, same_mask: bool = True
    ) -> None:
        if window_length < 1:
            raise ValueError(f"window_length must be >= 1, got {window_length}")
        self.window_length = int(window_length)
        self.same_mask = bool(same_mask)
        self.improvements_: list[float] = []

    @staticmethod
    def _same_mask_improvement(
        current_round: int, regressor: GradientBoostingRegressor, state: dict[str, Any]
    ) -> float:
        """Legacy ``oob_improvement_[current_round]`` (scikit-learn < 1.3 definition)."""
        try:
            X = state["X"]
            y = state["y"]
            in_bag = state["sample_mask"]
            raw = state["raw_predictions"]
            weight = state["sample_weight"]
        except KeyError as err:  # pragma: no cover - depends on scikit-learn internals
            raise RuntimeError(
                "this scikit-learn version no longer passes the boosting state needed for "
                "the same-mask out-of-bag improvement; use EarlyStopMonitor(same_mask=False)"
            ) from err
        oob = ~np.asarray(in_bag, dtype=bool)
        if not oob.any():
            return 0.0
        y_oob = np.asarray(y, dtype=np.float64)[oob]
        w_oob = None if weight is None else np.asarray(weight, dtype=np.float64)[oob]
        after = np.asarray(raw, dtype=np.float64).reshape(len(oob), -1)[oob, 0]
        # For squared error the stage adds learning_rate * tree prediction to every
        # sample's raw prediction, so the pre-stage predictions are recovered exactly.
        tree = regressor.estimators_[current_round, 0]
        before = after - regressor.learning_rate * tree.predict(X[oob])
        loss_before = np.average((y_oob - before) ** 2, weights=w_oob)
        loss_after = np.average((y_oob - after) ** 2, weights=w_oob)
        return float(loss_before - loss_after)

    def __call__(
        self, current_round: int, regressor: GradientBoostingRegressor, state: dict[str, Any]
    ) -> bool:
        """Record round ``current_round``; return True when boosting should stop."""
        if self.same_mask:
            improvement = self._same_mask_improvement(current_round, regressor, state)
        else:
            improvement = float(regressor.oob_improvement_[current_round])
        self.improvements_.append(improvement)
        if current_round < self.window_length - 1:
            return False
        lo = max(0, current_round - self.window_length + 1)
        return bool(np.mean(self.improvements_[lo : current_round + 1]) < 0.0)


def _grnboost2_target(
    X_inputs: NDArray[np.float64], y: NDArray[np.float64], seed: int | None, window_length: int
) -> NDArray[np.float64]:
    model = GradientBoostingRegressor(random_state=seed, **SGBM_KWARGS)
    model.fit(X_inputs, y, monitor=EarlyStopMonitor(window_length))
    # arboreto ``to_feature_importances``: undo the normalisation of feature_importances_
    # by multiplying with the number of boosting stages actually fitted.
    return model.feature_importances_ * len(model.estimators_)


def grnboost2_scores(
    X: ArrayLike,
    regulators: Sequence[int] | None = None,
    seed: int | None = 0,
    early_stop_window_length: int = EARLY_STOP_WINDOW_LENGTH,
    n_jobs: int | None = 1,
) -> NDArray[np.float64]:
    """GRNBoost2 stochastic-gradient-boosting importance scores (arboreto's definition).

    Parameters
    ----------
    X : array_like of shape (n_samples, n_genes)
        Expression matrix, used as is (arboreto does not normalise it).
    regulators : sequence of int, optional
        Column indices of the candidate regulators (default: all genes).
    seed : int or None, default=0
        ``random_state`` of every regressor (arboreto also uses one seed for all
        targets; its ``grnboost2`` default is ``None``, its core default 666).
    early_stop_window_length : int, default=25
        Window of the out-of-bag early-stopping monitor.
    n_jobs : int or None, default=1
        Targets fitted in parallel (``GradientBoostingRegressor`` itself is serial).
        Results do not depend on it.

    Returns
    -------
    numpy.ndarray of shape (n_regulators, n_genes)
        ``scores[r, j]`` = importance of ``regulators[r]`` for target ``j``; self-edges
        are 0.  Each target's column sums to the number of boosting stages used for it
        (unless some stages are single-node trees).  Constant targets score 0.

    Notes
    -----
    Reproduces ``arboreto.algo.grnboost2`` -> ``arboreto.core`` (aertslab/arboreto):

    * one ``GradientBoostingRegressor(random_state=seed, **SGBM_KWARGS)`` per target with
      ``SGBM_KWARGS = {learning_rate: 0.01, n_estimators: 5000, max_features: 0.1,
      subsample: 0.9}`` and the other scikit-learn defaults (squared error, depth 3),
      inputs = candidate regulators minus the target (arboreto's ``clean``);
    * fitted with ``monitor=EarlyStopMonitor(25)``: stop once the mean out-of-bag
      improvement of the last 25 rounds is negative.  The improvement is computed with
      the scikit-learn < 1.3 definition arboreto was built on (loss drop on the round's
      own out-of-bag samples), not today's ``oob_improvement_``, which would stop every
      target after a few dozen rounds -- see :class:`EarlyStopMonitor`;
    * importance = ``feature_importances_ * len(estimators_)`` (arboreto's
      ``to_feature_importances`` when the out-of-bag heuristic is active), so targets
      whose regression keeps improving for longer get larger scores.

    arboreto drops zero-importance links from its edge list; here they stay as zeros in
    the dense matrix.
    """
    X = _as_matrix(X)
    n_genes = X.shape[1]
    regs = _regulator_indices(regulators, n_genes)
    sd = X.std(axis=0)
    jobs = []
    targets = []
    for target in range(n_genes):
        inputs = _per_target_inputs(regs, target)
        if inputs.size == 0 or not sd[target] > 0.0:
            continue
        targets.append((target, inputs))
        jobs.append(
            delayed(_grnboost2_target)(
                X[:, regs[inputs]], X[:, target], seed, early_stop_window_length
            )
        )
    results = Parallel(n_jobs=n_jobs)(jobs) if jobs else []
    scores = np.zeros((regs.size, n_genes), dtype=np.float64)
    for (target, inputs), importances in zip(targets, results, strict=True):
        scores[inputs, target] = importances
    _zero_self_edges(scores, regs)
    return scores


# ----------------------------------------------------------------------------- knockouts


def knockout_zscores(
    X_wildtype: ArrayLike, X_knockouts: ArrayLike, knocked_out: Sequence[int]
) -> NDArray[np.float64]:
    """Knockout z-scores: how far each gene moves from wild type when a regulator is deleted.

    Parameters
    ----------
    X_wildtype : array_like of shape (n_wt, n_genes) or (n_genes,)
        Wild-type (unperturbed) samples; their mean is the reference profile ``x_wt``.
    X_knockouts : array_like of shape (n_ko, n_genes)
        Knockout samples; row ``i`` has gene ``knocked_out[i]`` deleted.
    knocked_out : sequence of int, length n_ko
        Column index of the gene knocked out in each knockout row.

    Returns
    -------
    numpy.ndarray of shape (n_genes, n_genes)
        ``scores[k, j] = |x_ko(k)[j] - x_wt[j]| / sd_j``: rows are the knocked-out
        regulator, columns the responding gene.  The diagonal and the rows of genes that
        were never knocked out are 0.

    Notes
    -----
    * ``x_ko(k)`` is the mean of the knockout rows that delete gene ``k`` (a single row
      in the usual one-knockout-per-gene design, e.g. DREAM4).
    * ``sd_j`` is the population standard deviation (``ddof=0``) of gene ``j`` across all
      knockout rows, i.e. the spread of ``j``'s response over the perturbation screen, as
      in the DREAM knockout z-score baselines (Prill et al., 2010).  Where ``sd_j`` is 0
      (``j`` is identical in every knockout row, which also covers a single knockout
      row) no knockout is distinguishable from the others and column ``j`` scores 0.
    """
    ko = _as_matrix(np.atleast_2d(np.asarray(X_knockouts, dtype=np.float64)), "X_knockouts")
    n_ko, n_genes = ko.shape
    wt = np.asarray(X_wildtype, dtype=np.float64)
    if wt.ndim == 1:
        wt = wt[None, :]
    if wt.ndim != 2 or wt.shape[1] != n_genes or wt.shape[0] < 1:
        raise ValueError(
            f"X_wildtype must have shape (n_wt, {n_genes}) or ({n_genes},), got {wt.shape}"
        )
    if not np.all(np.isfinite(wt)):
        raise ValueError("X_wildtype contains NaN or infinite values")
    idx = np.asarray(knocked_out)
    if idx.shape != (n_ko,):
        raise ValueError(f"knocked_out must have length {n_ko} (one per knockout row)")
    if not np.issubdtype(idx.dtype, np.integer):
        raise TypeError(f"knocked_out must hold integer gene indices, got dtype {idx.dtype}")
    if idx.min() < 0 or idx.max() >= n_genes:
        raise ValueError(f"knocked_out indices must lie in [0, {n_genes})")

    x_wt = wt.mean(axis=0)
    sd = ko.std(axis=0)
    scale = np.abs(ko).max(axis=0)
    varies = sd > np.finfo(np.float64).eps * np.maximum(1.0, scale)

    scores = np.zeros((n_genes, n_genes), dtype=np.float64)
    for k in np.unique(idx):
        x_ko = ko[idx == k].mean(axis=0)
        np.divide(np.abs(x_ko - x_wt), sd, out=scores[k], where=varies)
    np.fill_diagonal(scores, 0.0)
    return scores


# ----------------------------------------------------------------------------- edge list


def scores_to_edges(
    scores: ArrayLike, gene_names: Sequence[str], regulator_names: Sequence[str]
) -> pd.DataFrame:
    """Flatten a score matrix into a ranked edge list.

    Parameters
    ----------
    scores : array_like of shape (n_regulators, n_genes)
        ``scores[r, j]`` = score of ``regulator_names[r] -> gene_names[j]``.
    gene_names : sequence of str, length n_genes
        Target (column) names.
    regulator_names : sequence of str, length n_regulators
        Regulator (row) names.

    Returns
    -------
    pandas.DataFrame
        Columns ``regulator, target, score``, sorted by decreasing score (ties keep the
        row-major order of ``scores``), self-edges (``regulator == target``) removed,
        with a fresh ``RangeIndex``.
    """
    s = np.asarray(scores, dtype=np.float64)
    genes = np.asarray(list(gene_names), dtype=object)
    regs = np.asarray(list(regulator_names), dtype=object)
    if s.shape != (regs.size, genes.size):
        raise ValueError(
            f"scores has shape {s.shape}, expected ({regs.size}, {genes.size}) "
            "= (len(regulator_names), len(gene_names))"
        )
    edges = pd.DataFrame(
        {
            "regulator": np.repeat(regs, genes.size),
            "target": np.tile(genes, regs.size),
            "score": s.ravel(),
        }
    )
    edges = edges[edges["regulator"] != edges["target"]]
    edges = edges.sort_values("score", ascending=False, kind="mergesort")
    return edges.reset_index(drop=True)
