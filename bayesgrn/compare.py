r"""Choose between model families by cross-validated held-out predictive density.

:func:`compare` splits the samples into ``folds`` folds, stratified by condition, fits
every model on each fold's complement with :func:`bayesgrn.fit` and scores the held-out
fold (``fit(..., heldout=...)``, see :mod:`bayesgrn.predictive`): each sample is scored
exactly once, by a fit that did not see it. For model :math:`m` and sample :math:`s`,
:math:`\mathrm{lpd}_{ms}` is the log of the posterior-averaged product of the per-target
conditional densities of the structural equations (no Jacobian term), and

.. math::

    \mathrm{elpd}_m = \sum_s \mathrm{lpd}_{ms}, \qquad
    \mathrm{se}_m = \sqrt{n \operatorname{Var}_s(\mathrm{lpd}_{ms})},

    \mathrm{elpd\_diff}_m = \mathrm{elpd}_m - \mathrm{elpd}_{\mathrm{best}}, \qquad
    \mathrm{se\_diff}_m = \sqrt{n \operatorname{Var}_s(\mathrm{lpd}_{ms}
        - \mathrm{lpd}_{\mathrm{best},s})},

as in ``loo_compare`` (Vehtari, Gelman & Gabry 2017; sample variances with ``n - 1``). The
standard error of the difference comes from the pointwise differences, which are strongly
correlated between models, so it is much smaller than either ``se``.

Only models whose observations live on the same scale can be compared: a density of
standardised log expression and a probability mass of raw counts are different units
(:data:`OBSERVATION_SCALE`).
"""

from __future__ import annotations

import dataclasses
import logging
import math
import os
import time
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import pyro
import torch
from pyro import poutine

from bayesgrn._torch import seeded
from bayesgrn.canonical import canonicalize
from bayesgrn.data import BayesGRNInputError, ExpressionData, _masked_moments
from bayesgrn.fit import fit
from bayesgrn.inputs import build_inputs
from bayesgrn.model import grn_model
from bayesgrn.spec import ModelSpec, load_spec

logger = logging.getLogger(__name__)

#: ``likelihood.family`` -> what its observed site ``x`` is a distribution of. Held-out
#: scores are comparable only between families of one scale: ``continuous`` families
#: give densities of standardised (log) expression, ``counts`` a probability mass of raw
#: counts.
OBSERVATION_SCALE = {
    "gaussian": "continuous",
    "sigmoid": "continuous",
    "negbinomial": "counts",
}

#: columns of the table :func:`compare` returns, in order
COLUMNS = (
    "model", "family", "elpd", "se", "elpd_diff", "se_diff",
    "n_samples", "n_params", "seconds", "notes",
)  # fmt: skip

#: :func:`bayesgrn.fit` options that :func:`compare` sets itself
RESERVED = ("data", "model", "seed", "heldout", "heldout_draws", "targets", "resume", "checkpoint")

ModelLike = str | os.PathLike[str] | ModelSpec


def observation_scale(family: str) -> str:
    """Return the observation scale of a ``likelihood.family`` (see :data:`OBSERVATION_SCALE`).

    Raises
    ------
    BayesGRNInputError
        For a family the table does not list.
    """
    try:
        return OBSERVATION_SCALE[family]
    except KeyError:
        raise BayesGRNInputError(
            f"model family {family!r} has no known observation scale, so its held-out "
            f"score cannot be compared with others; known families: "
            f"{', '.join(f'{f} ({s})' for f, s in OBSERVATION_SCALE.items())} -- add it to "
            "bayesgrn.compare.OBSERVATION_SCALE"
        ) from None


def check_comparable(specs: Sequence[ModelSpec]) -> str:
    """Refuse models whose held-out scores are on different observation scales.

    Returns
    -------
    str
        The common scale.

    Raises
    ------
    BayesGRNInputError
        When the families' scales differ (or a family is unknown).
    """
    scales = {spec.name: observation_scale(spec.family) for spec in specs}
    if len(set(scales.values())) > 1:
        shown = ", ".join(f"{spec.name} ({spec.family}: {scales[spec.name]})" for spec in specs)
        raise BayesGRNInputError(
            f"cannot compare models whose observations are on different scales: {shown}. "
            "A density of (standardised log) expression and a probability mass of raw "
            "counts are not in the same units; compare continuous families with each other "
            "and count families with each other"
        )
    return next(iter(scales.values()))


def assign_folds(data: ExpressionData, folds: int, seed: int = 0) -> np.ndarray:
    """Fold (``0..folds-1``) of each sample, in the data's sample order.

    Within each condition the samples are shuffled (``seed``), grouped by perturbation
    kind, and dealt to the folds in turn, continuing across conditions; fold sizes differ
    by at most one, and a condition with at least 2 samples is in every training set.
    The shuffle starts from the canonical sample order (:mod:`bayesgrn.canonical`), so the
    folds do not depend on the table's row order.

    Raises
    ------
    BayesGRNInputError
        For ``folds < 2``, fewer than ``3 * folds`` samples, or a condition with fewer than 2
        samples (one fold would train without it, so its intercept would be unknown).
    """
    if isinstance(folds, bool) or not isinstance(folds, int | np.integer) or folds < 2:
        raise BayesGRNInputError(f"folds must be an integer >= 2, got {folds!r}")
    if data.n_samples < 3 * folds:
        raise BayesGRNInputError(
            f"{data.source}: {data.n_samples} samples are too few for {folds} folds (each "
            f"held-out fold needs at least 3 samples, so at least {3 * folds}); use fewer folds"
        )
    counts = pd.Series(data.condition).value_counts(sort=False)
    few = counts[counts < 2]
    if len(few):
        shown = ", ".join(f"{c!r} ({n} sample)" for c, n in few.items())
        raise BayesGRNInputError(
            f"{data.source}: condition(s) {shown} have fewer than 2 samples; cross-validation "
            "needs every condition in every training fold (its intercept is learned there). "
            "Merge such conditions or remove those samples"
        )
    row = {s: i for i, s in enumerate(data.samples)}
    canonical = [row[s] for s in canonicalize(data).data.samples]
    rng = np.random.default_rng(seed)
    order: list[int] = []
    for condition in sorted(data.conditions):
        rows = np.array([i for i in canonical if data.condition[i] == condition])
        rows = rows[rng.permutation(rows.size)]
        kinds = np.array([data.perturbation[i] != "none" for i in rows])
        order.extend(rows[np.argsort(kinds, kind="stable")].tolist())
    fold = np.empty(data.n_samples, dtype=np.int64)
    fold[np.array(order)] = np.arange(len(order)) % folds
    return fold


def subset_samples(data: ExpressionData, rows: np.ndarray) -> ExpressionData:
    """Return the samples ``rows`` (mask or indices) of ``data`` with their own center/scale."""
    rows = np.flatnonzero(rows) if np.asarray(rows).dtype == bool else np.asarray(rows)
    values, perturbed = data.values[rows], data.perturbed[rows]
    center, scale = _masked_moments(values, perturbed)
    return dataclasses.replace(
        data,
        values=values,
        samples=tuple(data.samples[i] for i in rows),
        perturbed=perturbed,
        perturbation=tuple(data.perturbation[i] for i in rows),
        condition=tuple(data.condition[i] for i in rows),
        center=center,
        scale=scale,
    )


def compare(
    data: ExpressionData | pd.DataFrame | np.ndarray,
    models: Sequence[ModelLike] | ModelLike = ("horseshoe", "sigmoid_horseshoe"),
    *,
    folds: int = 5,
    seed: int = 0,
    draws: int = 200,
    **fit_kwargs: Any,
) -> pd.DataFrame:
    """Compare model families by K-fold cross-validated held-out predictive density.

    Parameters
    ----------
    data
        The expression data (as for :func:`bayesgrn.fit`).
    models
        Bundled spec names, TOML paths or :class:`~bayesgrn.spec.ModelSpec` objects. Their
        ``likelihood.family`` must share an observation scale (:data:`OBSERVATION_SCALE`).
    folds
        Number of folds ``K``; folds are stratified by condition (:func:`assign_folds`)
        and every sample is scored once, by the fit on the other ``K - 1`` folds.
    seed
        Seeds the fold assignment and the fits (fold ``k`` is fitted with ``seed + k``,
        the same for every model). The same seed gives the same table (bar ``seconds``).
    draws
        Guide draws per held-out score (``heldout_draws`` of :func:`bayesgrn.fit`).
    **fit_kwargs
        Passed to every :func:`bayesgrn.fit` call (e.g. ``num_steps``, ``device``,
        ``svi``, ``forbidden_edges``). ``psis_draws`` defaults to 0 here.

    Returns
    -------
    pandas.DataFrame
        One row per model, best (highest ``elpd``) first, with columns ``model``,
        ``family``, ``elpd``, ``se``, ``elpd_diff`` (``elpd - elpd`` of the best, so ``<= 0``),
        ``se_diff`` (from the pointwise differences with the best), ``n_samples``,
        ``n_params`` (latent values of the model, before shrinkage), ``seconds`` (all
        folds) and ``notes``. ``table.attrs["pointwise"]`` holds the per-sample ``lpd``
        (samples x models, the data's sample order) and ``table.attrs["folds"]`` the fold
        of each sample.

    Notes
    -----
    The score is the product of the per-target conditional densities of the structural
    equations without the Jacobian term (see :mod:`bayesgrn.predictive`). A linear fit
    trained with the Jacobian (``likelihood.jacobian = "auto"`` with clamped regulators)
    is thus scored by a rule it was not trained for; the table notes it. As a rule of
    thumb, a difference is clear when ``|elpd_diff|`` exceeds about 2-4 ``se_diff``.

    Raises
    ------
    BayesGRNInputError
        For models on different observation scales, too few samples for the folds, a
        condition with fewer than 2 samples, or a gene constant in a training fold.
    """
    if not isinstance(data, ExpressionData):
        data = ExpressionData.from_array(data)
    reserved = sorted(set(fit_kwargs) & set(RESERVED))
    if reserved:
        raise TypeError(f"compare() sets {', '.join(reserved)} itself; do not pass them")
    if fit_kwargs.get("method", "svi") != "svi":
        raise ValueError("compare() scores held-out data with the SVI guide: use method='svi'")
    if isinstance(models, str | os.PathLike | ModelSpec):
        models = [models]
    specs = [load_spec(m) for m in models]
    if not specs:
        raise ValueError("models is empty; name at least one model")
    check_comparable(specs)
    labels = _labels(specs)
    fold = assign_folds(data, folds, seed)
    splits = []
    for k in range(folds):
        train = subset_samples(data, fold != k)
        _check_training_fold(train, k, folds)
        splits.append((train, subset_samples(data, fold == k)))
    fit_kwargs.setdefault("psis_draws", 0)
    pointwise = np.full((len(specs), data.n_samples), np.nan)
    seconds = np.zeros(len(specs))
    unconverged = np.zeros(len(specs), dtype=np.int64)
    for m, (spec, label) in enumerate(zip(specs, labels, strict=True)):
        for k, (train, test) in enumerate(splits):
            start = time.perf_counter()
            post = fit(train, model=spec, seed=seed + k, heldout=test, heldout_draws=draws,
                       **fit_kwargs)  # fmt: skip
            seconds[m] += time.perf_counter() - start
            unconverged[m] += not post.diagnostics.get("converged", True)
            pointwise[m, fold == k] = post.diagnostics["heldout"]["pointwise"]
            logger.info(
                "compare: %s fold %d/%d: held-out elpd %.2f over %d samples",
                label, k + 1, folds, post.diagnostics["heldout"]["elpd"], len(test.samples),
            )  # fmt: skip
    return _table(data, specs, labels, pointwise, seconds, unconverged, fold, folds)


def _labels(specs: Sequence[ModelSpec]) -> list[str]:
    """Spec names, made unique with ``#2``, ``#3``, ... suffixes."""
    seen: dict[str, int] = {}
    labels = []
    for spec in specs:
        seen[spec.name] = seen.get(spec.name, 0) + 1
        labels.append(spec.name if seen[spec.name] == 1 else f"{spec.name}#{seen[spec.name]}")
    return labels


def _check_training_fold(train: ExpressionData, k: int, folds: int) -> None:
    bad = ~(train.scale > 1e-12 * np.maximum(np.abs(train.center), 1.0))
    if bad.any():
        genes = [g for g, b in zip(train.genes, bad, strict=True) if b]
        raise BayesGRNInputError(
            f"{train.source}: in the training set of fold {k + 1}/{folds}, gene(s) "
            f"{genes[:10]} are constant or unperturbed in fewer than 2 samples; use fewer "
            "folds or remove those genes"
        )


def _table(
    data: ExpressionData,
    specs: Sequence[ModelSpec],
    labels: Sequence[str],
    pointwise: np.ndarray,
    seconds: np.ndarray,
    unconverged: np.ndarray,
    fold: np.ndarray,
    folds: int,
) -> pd.DataFrame:
    n = data.n_samples
    elpd = pointwise.sum(axis=1)
    best = int(np.argmax(elpd))
    rows = []
    for m, (spec, label) in enumerate(zip(specs, labels, strict=True)):
        diff = pointwise[m] - pointwise[best]
        notes = []
        n_params, jacobian = _model_facts(data, spec)
        if jacobian:
            notes.append("trained with the Jacobian term, scored without it")
        if unconverged[m]:
            notes.append(f"{unconverged[m]}/{folds} fits stopped at num_steps unconverged")
        rows.append(
            {
                "model": label,
                "family": spec.family,
                "elpd": float(elpd[m]),
                "se": _se(pointwise[m]),
                "elpd_diff": float(diff.sum()),
                "se_diff": 0.0 if m == best else _se(diff),
                "n_samples": n,
                "n_params": n_params,
                "seconds": round(float(seconds[m]), 2),
                "notes": "; ".join(notes),
            }
        )
    table = pd.DataFrame(rows, columns=list(COLUMNS))
    table = table.sort_values("elpd", ascending=False, kind="stable").reset_index(drop=True)
    table.attrs["pointwise"] = pd.DataFrame(
        pointwise.T, index=list(data.samples), columns=list(labels)
    )
    table.attrs["folds"] = pd.Series(fold, index=list(data.samples), name="fold")
    return table


def _se(values: np.ndarray) -> float:
    n = values.size
    return float(math.sqrt(n * np.var(values, ddof=1))) if n > 1 else float("nan")


def _model_facts(data: ExpressionData, spec: ModelSpec) -> tuple[int, bool]:
    """Count the model's latent values on ``data``; say whether it uses the Jacobian there.

    Weights count for the candidate edges only.
    """
    inputs = build_inputs(data, spec, torch.device("cpu"))
    with seeded(0), pyro.validation_enabled(False):
        trace = poutine.trace(grn_model).get_trace(inputs, spec.prior)
    n_edges = int(inputs.allowed.sum())
    total = 0
    for name, site in trace.nodes.items():
        if site["type"] != "sample" or site["is_observed"]:
            continue
        total += n_edges if name in ("lam", "z") else int(site["value"].numel())
    return total, inputs.jacobian_targets is not None
