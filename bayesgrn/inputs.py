"""Turn :class:`~bayesgrn.data.ExpressionData` + a spec into the model's tensors."""

from __future__ import annotations

import dataclasses

import numpy as np
import torch

from bayesgrn.counts import CountScale
from bayesgrn.data import BayesGRNInputError, ExpressionData
from bayesgrn.knowledge import EdgeSource, forbid_edges, known_edge_scales
from bayesgrn.model import ModelInputs, global_scale_prior
from bayesgrn.spec import ModelSpec

#: families whose exact likelihood carries a change-of-variables term (the count family is
#: a per-target pseudo-likelihood: with the plug-in log counts the term lowered simulated
#: AUPR from 0.49 to 0.31, so it is not offered there)
JACOBIAN_FAMILIES = ("gaussian", "sigmoid")


def edge_mask(data: ExpressionData) -> np.ndarray:
    """``(n_regulators, n_genes)`` bool: True for candidate edges (every pair but self-edges)."""
    allowed = np.ones((len(data.regulators), data.n_genes), dtype=bool)
    allowed[np.arange(len(data.regulators)), data.regulator_index] = False
    return allowed


def build_inputs(
    data: ExpressionData,
    spec: ModelSpec,
    device: torch.device,
    dtype: torch.dtype = torch.float32,
    known_edges: EdgeSource | None = None,
    forbidden_edges: EdgeSource | None = None,
    targets: np.ndarray | None = None,
    reference: ExpressionData | None = None,
) -> ModelInputs:
    """Standardise, build the design masks and the per-target global-scale prior ``tau0``.

    ``targets`` (column indices into ``data.genes``) restricts the model to those genes'
    equations; every regulator still enters as a predictor. The likelihood factorises
    over targets except for the Jacobian term, which involves exactly the regulators'
    own columns, so a subset must hold all regulators or none of them when the Jacobian
    is used (see :func:`bayesgrn.distributed.plan_shards`).

    ``reference`` (the training data of a fit) puts ``data`` -- held-out samples -- on the
    training scale: genes in the reference's order, standardised with the reference's
    center/scale, condition codes into the reference's condition list (see
    :func:`align_to_reference`).
    """
    condition, n_conditions = data.condition_index, len(data.conditions)
    if reference is not None:
        data, condition = align_to_reference(data, reference)
        n_conditions = len(reference.conditions)
    allowed = forbid_edges(data, edge_mask(data), forbidden_edges)
    active = ~data.perturbed if spec.interventions == "cut" else np.ones_like(data.perturbed)
    n_candidates = allowed.sum(axis=0).astype(np.float64)
    n_active = active.sum(axis=0).astype(np.float64)
    tau0 = global_scale_prior(
        spec.prior.expected_edges_per_target,
        torch.as_tensor(n_candidates),
        torch.as_tensor(n_active),
    )

    local_scale = known_edge_scales(
        data, allowed, tau0.numpy(), spec.prior.slab_scale, known_edges
    )

    def tensor(arr: np.ndarray, kind: torch.dtype = dtype) -> torch.Tensor:
        return torch.as_tensor(np.array(arr, copy=True), dtype=kind, device=device)

    jacobian_targets = clamped = None
    clamped_rows = clamped_regulators(data, spec.interventions == "cut")
    jacobian = use_jacobian(spec, clamped_rows)
    regulator_columns = data.regulator_index
    target_index = None
    if targets is not None:
        targets = np.asarray(targets, dtype=np.int64)
        position = {int(g): k for k, g in enumerate(targets)}
        held = [int(r) in position for r in regulator_columns]
        if jacobian and any(held) and not all(held):
            raise BayesGRNInputError(
                f"{data.source}: this fit uses the exact likelihood's Jacobian term (some "
                "samples clamp regulators), which couples the regulators' own equations; a "
                "target subset must contain all regulators or none of them"
            )
        jacobian = jacobian and all(held)
        regulator_columns = np.array([position.get(int(r), -1) for r in regulator_columns])
        allowed, active = allowed[:, targets], active[:, targets]
        local_scale, tau0 = local_scale[:, targets], tau0[torch.as_tensor(targets)]
        target_index = tensor(targets, torch.int64)
    if jacobian:
        jacobian_targets = tensor(regulator_columns, torch.int64)
        clamped = tensor(clamped_rows, torch.int64)
    counts: dict[str, torch.Tensor] = {}
    if spec.family == "negbinomial":
        # held-out samples are normalised with the training data's scale
        count_scale = CountScale.from_data(data if reference is None else reference)
        x = count_scale.standardized(data)
        columns = np.arange(data.n_genes) if targets is None else targets
        counts = {
            "counts": tensor(data.values[:, columns], torch.float64),
            "log_size_factor": tensor(count_scale.log_size_factors(data)),
            "log_centre": tensor(count_scale.log_centre[columns]),
            "log_spread": tensor(count_scale.scale[columns]),
        }
    else:
        x = data.standardized()
    return ModelInputs(
        x=tensor(x),
        active=tensor(active, torch.bool),
        regulator_index=tensor(data.regulator_index, torch.int64),
        allowed=tensor(allowed),
        local_scale=tensor(local_scale),
        condition=tensor(condition, torch.int64),
        n_conditions=n_conditions,
        tau0=tau0.to(device=device, dtype=dtype),
        jacobian_targets=jacobian_targets,
        clamped_regulators=clamped,
        family=spec.family,
        target_index=target_index,
        **counts,
    )


def use_jacobian(spec: ModelSpec, clamped_rows: np.ndarray) -> bool:
    """Whether the likelihood carries the Jacobian term: the one rule for every caller.

    Only the :data:`JACOBIAN_FAMILIES` have the term; ``likelihood.jacobian`` then decides,
    given the regulators each sample clamps (:func:`clamped_regulators`). ``"auto"`` uses
    it exactly when some sample clamps a regulator. With interventions the
    exact likelihood orients edges (measured on DREAM4 all-steady-state data: AUPR 0.52 /
    0.33 / 0.48 with it vs 0.44 / 0.27 / 0.40 without). With observational samples alone,
    Markov-equivalent directions fit a Gaussian SEM equally well; a variational posterior
    cannot hold both modes and commits to one, often the wrong one, whereas the
    pseudo-likelihood keeps both directions of a dependence (DREAM4 multifactorial: AUPR
    0.17 / 0.11 / 0.26 without it vs 0.09 / 0.08 / 0.19 with it).
    """
    if spec.family not in JACOBIAN_FAMILIES or spec.jacobian == "never":
        return False
    if spec.jacobian == "always":
        return True
    return bool((clamped_rows >= 0).any())


def clamped_regulators(data: ExpressionData, cut: bool) -> np.ndarray:
    """``(n_samples, k_max)`` regulator rows clamped per sample, padded with -1."""
    if not cut:
        return np.full((data.n_samples, 0), -1, dtype=np.int64)
    clamped_regs = data.perturbed[:, data.regulator_index]  # (n_samples, n_regulators)
    k_max = int(clamped_regs.sum(axis=1).max(initial=0))
    out = np.full((data.n_samples, k_max), -1, dtype=np.int64)
    rows, cols = np.nonzero(clamped_regs)
    slot = np.zeros(data.n_samples, dtype=np.int64)
    for s, r in zip(rows, cols, strict=True):  # one entry per clamped (sample, gene)
        out[s, slot[s]] = r
        slot[s] += 1
    return out


def align_to_reference(
    data: ExpressionData, reference: ExpressionData
) -> tuple[ExpressionData, np.ndarray]:
    """Put held-out ``data`` on the scale of the training data ``reference``.

    Returns ``data`` with its genes in the reference's order, the reference's regulators
    and the reference's ``center``/``scale`` (so ``standardized()`` is on the training
    scale), and the per-sample condition codes into ``reference.conditions``. The samples
    keep their order.

    Raises
    ------
    BayesGRNInputError
        When the genes, the regulators or the transform differ from the reference's, or a
        sample's condition does not occur in the reference (its intercept is unknown).
    """
    where = f"held-out data {data.source} vs training data {reference.source}"
    for what, mine, theirs in (
        ("genes", data.genes, reference.genes),
        ("regulators", data.regulators, reference.regulators),
    ):
        if set(mine) != set(theirs):
            extra = sorted(set(mine) - set(theirs))
            missing = sorted(set(theirs) - set(mine))
            parts = [f"not in the training data: {extra[:10]}"] if extra else []
            parts += [f"missing from the held-out data: {missing[:10]}"] if missing else []
            raise BayesGRNInputError(f"{where}: the {what} must be the same; " + "; ".join(parts))
    if (data.transform, data.pseudocount) != (reference.transform, reference.pseudocount):
        raise BayesGRNInputError(
            f"{where}: the transforms differ ({data.transform!r}, pseudocount "
            f"{data.pseudocount:g} vs {reference.transform!r}, pseudocount "
            f"{reference.pseudocount:g}); read both with the same transform"
        )
    known = {c: k for k, c in enumerate(reference.conditions)}
    unseen = [c for c in data.conditions if c not in known]
    if unseen:
        raise BayesGRNInputError(
            f"{where}: condition(s) {unseen[:10]} of the held-out samples do not occur in "
            f"the training data (conditions {list(reference.conditions)[:10]}); each "
            "condition's intercept is learned from training samples, so put samples of it "
            "in the training data or leave those samples out"
        )
    position = {g: j for j, g in enumerate(data.genes)}
    columns = np.array([position[g] for g in reference.genes], dtype=np.int64)
    aligned = dataclasses.replace(
        data,
        values=data.values[:, columns],
        genes=reference.genes,
        regulators=reference.regulators,
        perturbed=data.perturbed[:, columns],
        center=reference.center,
        scale=reference.scale,
    )
    codes = np.array([known[c] for c in data.condition], dtype=np.int64)
    return aligned, codes
