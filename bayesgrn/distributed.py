r"""Shard a fit over targets on a ``dask.distributed`` cluster and merge the posteriors.

Why sharding is exact
---------------------
With per-target global scales :math:`\tau_j, c_j^2, \sigma_j`, the model's joint density
factorises over targets :math:`j`, *except* for the Jacobian term
:math:`\log|\det(I - W)_{UU}|`, which only involves the block :math:`W_{RR}` of weights
into the regulators' own equations. A mean-field (per-target) guide factorises the same
way, so the ELBO is a sum over shards of targets, provided that the regulators' own
columns are kept together in one shard whenever the Jacobian is used. Fitting the shards
independently therefore optimises the same objective as the unsharded fit; the merged
posterior differs from it only by SVI noise (each shard has its own seed).

The one exception is the per-regulator scale :math:`\kappa_r` (``prior.regulator_scale``,
on by default), shared by all of a regulator's outgoing weights. A sharded fit gives every
shard its own :math:`\kappa_r`, estimated from that shard's targets: the merged posterior is
then an approximation to the unsharded one, close when each shard holds many targets (a
hub's targets spread over shards, each of which sees a hub). Set
``prior={"regulator_scale": False}`` where the exact factorisation matters more than the
pooling over a regulator's targets.

:func:`plan_shards` builds such shards (genes in name order; with the Jacobian, shard 0
holds the regulators' equations and the others split the remaining genes);
:func:`fit_sharded` runs one :func:`bayesgrn.fit` per shard on the cluster's workers
(``targets=`` restricts each fit) and :func:`merge_posteriors` joins the results.

Workers must be separate processes: a fit seeds and forks torch's global RNG, which is
per process, so two fits in threads of one process would disturb each other. Within a
worker process the shards therefore run one at a time. For GPUs, start one worker per GPU
(e.g. ``dask-cuda``'s ``LocalCUDACluster``, or ``CUDA_VISIBLE_DEVICES`` per worker) and
pass ``device="cuda"``.

Needs the optional dependency ``bayesgrn[distributed]`` (``dask[distributed]``).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from bayesgrn.data import BayesGRNInputError, ExpressionData
from bayesgrn.inputs import clamped_regulators, use_jacobian
from bayesgrn.posterior import Posterior
from bayesgrn.spec import ModelSpec, load_spec

logger = logging.getLogger(__name__)

#: one fit at a time per worker process (torch's global RNG is per process)
_FIT_LOCK = threading.Lock()


def plan_shards(data: ExpressionData, n_shards: int, spec: ModelSpec) -> list[tuple[str, ...]]:
    """Split the targets into at most ``n_shards`` shards over which the ELBO factorises.

    Genes are taken in name order, so the plan does not depend on the table's layout.
    Without the Jacobian term the genes are split into near-equal contiguous shards; with
    it, shard 0 holds every regulator's equation and the other shards split the rest.
    """
    if n_shards < 1:
        raise ValueError(f"the number of shards must be >= 1, got {n_shards}")
    genes = sorted(data.genes)
    jacobian = use_jacobian(spec, clamped_regulators(data, spec.interventions == "cut"))
    if not jacobian:
        parts = np.array_split(np.array(genes, dtype=object), min(n_shards, len(genes)))
        return [tuple(str(g) for g in part) for part in parts if len(part)]
    regulators = set(data.regulators)
    first = tuple(g for g in genes if g in regulators)
    rest = [g for g in genes if g not in regulators]
    if n_shards == 1 or not rest:
        if n_shards > 1:
            logger.warning(
                "every gene is a regulator and the fit uses the Jacobian term, which couples "
                "the regulators' equations: running one shard"
            )
        return [tuple(genes)]
    parts = np.array_split(np.array(rest, dtype=object), min(n_shards - 1, len(rest)))
    return [first, *(tuple(str(g) for g in part) for part in parts if len(part))]


def shard_seed(seed: int, shard: int) -> int:
    """Independent, reproducible seed of one shard."""
    return int(np.random.SeedSequence([int(seed), int(shard)]).generate_state(1)[0])


def _fit_shard(data: ExpressionData, targets: tuple[str, ...], seed: int, kwargs: dict) -> Any:
    from bayesgrn.fit import fit

    with _FIT_LOCK:
        return fit(data, targets=targets, seed=seed, **kwargs)


def fit_sharded(
    data: ExpressionData,
    *,
    shards: int = 2,
    scheduler: str | None = None,
    client: Any = None,
    n_workers: int | None = None,
    seed: int = 0,
    model: str | os.PathLike[str] | ModelSpec = "horseshoe",
    **fit_kwargs: Any,
) -> Posterior:
    """Fit the posterior in target shards on a Dask cluster and merge it.

    Parameters
    ----------
    data
        The expression data.
    shards
        Number of target shards (see :func:`plan_shards`).
    scheduler
        Address of a running Dask scheduler (``"tcp://host:8786"``); default: start a
        ``LocalCluster`` of ``n_workers`` single-threaded worker processes for this call.
    client
        An existing ``distributed.Client`` (takes precedence over ``scheduler``).
    n_workers
        Workers of the local cluster (default ``min(shards, cpu count)``).
    seed
        Seed of the whole fit; shard ``k`` uses :func:`shard_seed` ``(seed, k)``.
    model, **fit_kwargs
        Passed to :func:`bayesgrn.fit` for every shard (``svi=``, ``num_steps=``,
        ``device=``, ``dtype=``, ...). ``num_threads`` defaults to 1 per worker.

    Returns
    -------
    Posterior
        Over all targets, in ``data``'s gene order; ``diagnostics["shards"]`` holds each
        shard's diagnostics.
    """
    try:
        import distributed
    except ImportError as err:  # pragma: no cover - depends on the environment
        raise ImportError(
            "sharded fits need dask.distributed: pip install 'bayesgrn[distributed]'"
        ) from err
    for bad in ("targets", "checkpoint", "resume", "handle_signals", "method"):
        if bad in fit_kwargs:
            raise ValueError(f"fit_sharded does not take {bad}= (each shard is a whole fit)")
    spec = load_spec(model).with_overrides(
        {k: dict(fit_kwargs[k]) for k in ("prior", "guide", "svi") if fit_kwargs.get(k)}
    )
    plan = plan_shards(data, shards, spec)
    kwargs = {"model": model, "num_threads": 1, **fit_kwargs}
    start = time.perf_counter()
    own_cluster = None
    if client is None:
        if scheduler is not None:
            client = distributed.Client(scheduler)
        else:
            workers = n_workers or max(1, min(len(plan), os.cpu_count() or 1))
            own_cluster = distributed.LocalCluster(
                n_workers=workers,
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
            )
            client = distributed.Client(own_cluster)
    try:
        [data_future] = client.scatter([data], broadcast=True)
        futures = [
            client.submit(_fit_shard, data_future, part, shard_seed(seed, k), kwargs, pure=False)
            for k, part in enumerate(plan)
        ]
        parts = client.gather(futures)
    finally:
        if own_cluster is not None:
            client.close()
            own_cluster.close()
    merged = merge_posteriors(parts, data.genes, seed=seed)
    merged.diagnostics["seconds"] = round(time.perf_counter() - start, 3)
    return merged


def merge_posteriors(parts: Sequence[Posterior], genes: Sequence[str], seed: int) -> Posterior:
    """Join posteriors fitted on disjoint target sets into one, in ``genes`` order.

    The parts must share regulators, spec and number of draws; draws are combined by
    index, which is valid because the shards' posteriors are independent.
    """
    if not parts:
        raise ValueError("nothing to merge")
    first = parts[0]
    for part in parts[1:]:
        if part.regulators != first.regulators or part.spec_hash != first.spec_hash:
            raise ValueError("posteriors to merge must share regulators and model spec")
        if part.n_draws != first.n_draws:
            raise ValueError("posteriors to merge must have the same number of draws")
    names = [t for part in parts for t in part.targets]
    if len(set(names)) != len(names):
        raise ValueError("posteriors to merge must have disjoint targets")
    missing = set(genes) - set(names)
    if missing:
        raise BayesGRNInputError(f"the shards do not cover the genes {sorted(missing)[:10]}")
    where = {t: i for i, t in enumerate(names)}
    order = np.array([where[g] for g in genes], dtype=np.int64)
    draws = np.empty((first.n_draws, len(first.regulators), len(genes)), dtype=np.float32)
    offset = 0
    for part in parts:  # fill in place: never two full copies of the draws
        width = len(part.targets)
        cols = np.nonzero((order >= offset) & (order < offset + width))[0]
        draws[:, :, cols] = part.w_draws[:, :, order[cols] - offset]
        offset += width

    def joined(arrays: list[np.ndarray]) -> np.ndarray:
        return np.concatenate(arrays, axis=-1)[..., order]

    # each shard has its own regulator scales (see the module docstring): none is merged
    site_names = set.intersection(*(set(p.site_means) for p in parts)) - {"kappa"}
    draw_names = set.intersection(*(set(p.site_draws) for p in parts))
    longest = max(len(p.losses) for p in parts)
    losses = np.zeros(longest)
    for part in parts:  # total negative ELBO; a converged shard keeps its last value
        if len(part.losses):
            losses += np.pad(part.losses, (0, longest - len(part.losses)), mode="edge")
    shard_diagnostics = [dict(p.diagnostics, targets=len(p.targets)) for p in parts]
    diagnostics = {
        "shards": shard_diagnostics,
        "n_shards": len(parts),
        "steps": max(int(d.get("steps", 0)) for d in shard_diagnostics),
        "converged": all(bool(d.get("converged", True)) for d in shard_diagnostics),
        "final_elbo": float(sum(d.get("final_elbo", 0.0) for d in shard_diagnostics)),
        "n_samples": first.diagnostics.get("n_samples"),
        "n_genes": len(genes),
    }
    return Posterior(
        w_draws=draws,
        regulators=first.regulators,
        targets=tuple(genes),
        allowed=joined([p.allowed for p in parts]),
        regulator_scale=first.regulator_scale,
        target_scale=joined([p.target_scale for p in parts]),
        spec=first.spec,
        spec_hash=first.spec_hash,
        method=first.method,
        seed=int(seed),
        device=first.device,
        diagnostics=diagnostics,
        losses=losses,
        site_means={k: joined([p.site_means[k] for p in parts]) for k in sorted(site_names)},
        site_draws={k: joined([p.site_draws[k] for p in parts]) for k in sorted(draw_names)},
    )
