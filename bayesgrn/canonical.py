r"""A canonical order for genes and samples, so results do not depend on table layout.

A variational fit is a stochastic optimisation: the noise a step draws for a weight is
keyed by that weight's *position* in the tensors, and sums run in memory order. Fitting the
same data with the columns or rows shuffled would therefore give a different (equally
valid) answer for the same seed. :func:`fit` avoids this by fitting in a canonical order
and mapping the results back to the caller's order:

* genes (and so regulators and targets) sorted by name;
* samples sorted by a digest of their content (values in canonical gene order, the
  intervention mask, perturbation kind and condition), ties by sample name;
* conditions in first-seen order of the canonical samples;
* per-gene standardisation recomputed in the canonical order, so even floating-point sums
  are the same.

With this, permuting the genes or samples of a table gives bit-identical posteriors for
the same seed on the same device.
"""

from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import dataclass

import numpy as np

from bayesgrn.data import ExpressionData, _masked_moments


@dataclass(frozen=True)
class CanonicalOrder:
    """``data`` in canonical order and the maps back to the caller's order.

    Attributes
    ----------
    data
        The reordered data the fit runs on.
    gene_back, regulator_back, condition_back
        Index arrays: ``canonical_array[..., gene_back]`` is in the caller's gene order
        (likewise for regulators and conditions).
    """

    data: ExpressionData
    gene_back: np.ndarray
    regulator_back: np.ndarray
    condition_back: np.ndarray

    def restricted_to(self, targets: tuple[str, ...]) -> tuple[CanonicalOrder, np.ndarray]:
        """Restrict the target axis to ``targets`` (names, in the caller's order).

        Returns the order whose ``gene_back`` maps the canonical target subset back to
        ``targets``, and the canonical column indices of the subset (sorted).
        """
        position = {g: j for j, g in enumerate(self.data.genes)}
        columns = np.sort(np.array([position[g] for g in targets], dtype=np.int64))
        rank = {int(c): k for k, c in enumerate(columns)}
        back = np.array([rank[position[g]] for g in targets], dtype=np.int64)
        return dataclasses.replace(self, gene_back=back), columns

    def weights_to_caller(self, w: np.ndarray) -> np.ndarray:
        """Reorder ``(..., n_regulators, n_genes)`` from canonical to the caller's order."""
        return w[..., self.regulator_back, :][..., self.gene_back]

    def draws_to_caller(self, draws: np.ndarray, block_bytes: int = 64 * 2**20) -> np.ndarray:
        """Reorder ``(n_draws, n_regulators, n_genes)`` draws in place, a chunk at a time.

        The draws are the largest array of a fit; reordering them in chunks keeps the peak
        at one copy plus a chunk instead of two copies.
        """
        identity = np.array_equal(self.gene_back, np.arange(self.gene_back.size)) and (
            np.array_equal(self.regulator_back, np.arange(self.regulator_back.size))
        )
        if not identity:
            chunk = max(1, block_bytes // max(1, draws[0].nbytes))
            for lo in range(0, draws.shape[0], chunk):
                draws[lo : lo + chunk] = self.weights_to_caller(draws[lo : lo + chunk])
        return draws

    def site_to_caller(self, name: str, value: np.ndarray) -> np.ndarray:
        """Reorder a per-target (``b``: per condition too; ``kappa``: per regulator) site."""
        value = np.asarray(value)
        if name == "kappa":
            return value[..., self.regulator_back]
        if value.ndim >= 1:  # every site is per target (last axis)
            value = value[..., self.gene_back]
        if name == "b" and value.ndim >= 2:
            value = value[..., self.condition_back, :]
        return value


def sample_digests(data: ExpressionData, gene_order: np.ndarray) -> list[bytes]:
    """Per-sample SHA-1 of its content in ``gene_order`` (independent of names and order)."""
    values = np.ascontiguousarray(data.values[:, gene_order], dtype=np.float64)
    perturbed = np.ascontiguousarray(data.perturbed[:, gene_order])
    digests = []
    for i in range(data.n_samples):
        h = hashlib.sha1(values[i].tobytes(), usedforsecurity=False)
        h.update(perturbed[i].tobytes())
        h.update(f"\0{data.perturbation[i]}\0{data.condition[i]}".encode())
        digests.append(h.digest())
    return digests


def canonicalize(data: ExpressionData) -> CanonicalOrder:
    """Return ``data`` with genes sorted by name and samples by content (see module doc)."""
    genes = np.array(data.genes, dtype=object)
    gene_order = np.array(sorted(range(data.n_genes), key=lambda j: data.genes[j]))
    digests = sample_digests(data, gene_order)
    sample_order = np.array(
        sorted(range(data.n_samples), key=lambda i: (digests[i], data.samples[i]))
    )
    values = data.values[np.ix_(sample_order, gene_order)]
    perturbed = data.perturbed[np.ix_(sample_order, gene_order)]
    regulator_set = set(data.regulators)
    regulators = tuple(str(g) for g in genes[gene_order] if g in regulator_set)
    condition = tuple(data.condition[i] for i in sample_order)
    center, scale = _masked_moments(values, perturbed)
    canonical = dataclasses.replace(
        data,
        values=values,
        genes=tuple(str(g) for g in genes[gene_order]),
        samples=tuple(data.samples[i] for i in sample_order),
        regulators=regulators,
        perturbed=perturbed,
        perturbation=tuple(data.perturbation[i] for i in sample_order),
        condition=condition,
        center=center,
        scale=scale,
    )
    gene_pos = {g: j for j, g in enumerate(canonical.genes)}
    reg_pos = {r: j for j, r in enumerate(regulators)}
    cond_pos = {c: j for j, c in enumerate(canonical.conditions)}
    return CanonicalOrder(
        data=canonical,
        gene_back=np.array([gene_pos[g] for g in data.genes], dtype=np.int64),
        regulator_back=np.array([reg_pos[r] for r in data.regulators], dtype=np.int64),
        condition_back=np.array([cond_pos[c] for c in data.conditions], dtype=np.int64),
    )
