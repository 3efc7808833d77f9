r"""Raw counts for the negative-binomial family: validation, size factors, log scale.

The count family (:func:`bayesgrn.model.grn_model` with ``family = "negbinomial"``) models
the raw counts :math:`y_{sj}` of each target directly and lets regulators enter through
their normalised log expression. This module computes, from the *training* counts,

* per-sample **size factors** by the median-of-ratios rule (Anders & Huber 2010):
  :math:`\log s_s = \operatorname{median}_{j \in G_+} (\log y_{sj} - \overline{\log y_j})`
  over the genes :math:`G_+` with a positive count in every unperturbed sample, where
  :math:`\overline{\log y_j}` is the gene's mean log count over those samples. When fewer
  than :data:`MIN_RATIO_GENES` genes qualify (sparse single-cell counts), the size factor is
  the library size over its geometric mean instead. Size factors are normalised to a
  geometric mean of 1 over the unperturbed samples.
* the **log-normalised expression** :math:`\ell_{sj} = \log(1 + y_{sj}/s_s)`, standardised
  with the mean and sd of each gene over its unperturbed samples, which is what the
  regulators contribute to the model;
* each gene's **log centre** :math:`m_j = \log \bar y_j`, the log of its mean normalised
  count over unperturbed samples, the offset around which the model's intercepts live.

A :class:`CountScale` built on training data applies unchanged to held-out samples
(their size factors come from the training genes' mean log counts).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bayesgrn.data import BayesGRNInputError, ExpressionData, _masked_moments

#: fewest all-positive genes for the median-of-ratios size factors
MIN_RATIO_GENES = 10


def check_counts(data: ExpressionData) -> None:
    """Raise unless ``data`` holds raw counts: untransformed, finite, integer, >= 0.

    The error names the first offending cell and what to do instead.
    """
    if data.transform is not None:
        raise BayesGRNInputError(
            f"{data.source}: the negative-binomial (count) family models raw counts, but "
            f"the data were transformed with {data.transform!r}; read the table without a "
            "transform (CLI: --transform none), or use the gaussian family on log expression"
        )
    values = data.values
    bad = ~np.isfinite(values) | (values < 0) | (values != np.round(values))
    if bad.any():
        s, g = (int(i[0]) for i in np.nonzero(bad))
        raise BayesGRNInputError(
            f"{data.source}: the negative-binomial (count) family needs non-negative integer "
            f"counts, but sample {data.samples[s]!r}, gene {data.genes[g]!r} is "
            f"{values[s, g]!r}; pass the raw count matrix (not normalised or log values), or "
            "use the gaussian family (model='horseshoe') on log expression"
        )


@dataclass(frozen=True)
class CountScale:
    """Normalisation learned from training counts (see the module docstring).

    Attributes
    ----------
    log_geo_mean
        ``(n_genes,)`` mean log count over unperturbed training samples (``nan`` for genes
        with a zero there; they do not vote in the median of ratios).
    use_ratios
        Whether size factors are medians of ratios (else library sizes).
    log_offset
        Subtracted from the raw log size factor (median ratio or log library size) so
        the unperturbed training samples have geometric-mean size factor 1.
    log_centre
        ``(n_genes,)`` ``m_j``, log mean normalised count.
    centre, scale
        ``(n_genes,)`` mean and sd of ``log(1 + y/s)`` over unperturbed training samples.
    """

    log_geo_mean: np.ndarray
    use_ratios: bool
    log_offset: float
    log_centre: np.ndarray
    centre: np.ndarray
    scale: np.ndarray

    @classmethod
    def from_data(cls, data: ExpressionData) -> CountScale:
        """Learn the scale from training counts (validated with :func:`check_counts`)."""
        check_counts(data)
        y = data.values
        unperturbed = np.array([p == "none" for p in data.perturbation], dtype=bool)
        if not unperturbed.any():
            unperturbed[:] = True
        reference = y[unperturbed]
        positive = (reference > 0).all(axis=0)
        with np.errstate(divide="ignore"):
            log_ref = np.log(reference)
        log_geo = np.full(data.n_genes, np.nan)
        log_geo[positive] = log_ref[:, positive].mean(axis=0)
        use_ratios = int(positive.sum()) >= MIN_RATIO_GENES
        raw = cls(log_geo, use_ratios, 0.0, *(np.zeros(0),) * 3)
        log_sf = raw.log_size_factors(data)
        offset = float(log_sf[unperturbed].mean())
        log_sf = log_sf - offset
        normalised = y / np.exp(log_sf)[:, None]
        mean_count, _ = _masked_moments(normalised, data.perturbed)
        log_centre = np.log(mean_count + 1e-8)
        logged = np.log1p(normalised)
        centre, sd = _masked_moments(logged, data.perturbed)
        n = (~data.perturbed).sum(axis=0)
        scale = sd * np.sqrt((n - 1) / np.maximum(n, 1))  # population sd (divisor n)
        flat = np.nonzero(scale <= 0)[0]
        if flat.size:
            raise BayesGRNInputError(
                f"{data.source}: gene {data.genes[int(flat[0])]!r} has the same normalised "
                "count in every sample where it is not perturbed, so it carries no "
                "information; drop it (read with drop_constant=True / CLI --drop-constant)"
            )
        return cls(log_geo, use_ratios, offset, log_centre, centre, scale)

    def log_size_factors(self, data: ExpressionData) -> np.ndarray:
        """``(n_samples,)`` log size factors of ``data`` on this training scale."""
        y = data.values
        if self.use_ratios:
            keep = np.isfinite(self.log_geo_mean)
            with np.errstate(divide="ignore"):
                ratios = np.log(y[:, keep]) - self.log_geo_mean[keep]
            ratios[~np.isfinite(ratios)] = np.nan  # zero counts do not vote
            empty = np.isnan(ratios).all(axis=1)
            if empty.any():
                s = int(np.nonzero(empty)[0][0])
                raise BayesGRNInputError(
                    f"{data.source}: sample {data.samples[s]!r} has zero counts in every "
                    "reference gene, so its size factor is undefined; drop that sample"
                )
            return np.nanmedian(ratios, axis=1) - self.log_offset
        library = y.sum(axis=1)
        if (library <= 0).any():
            s = int(np.nonzero(library <= 0)[0][0])
            raise BayesGRNInputError(
                f"{data.source}: sample {data.samples[s]!r} has no counts at all; drop it"
            )
        return np.log(library) - self.log_offset

    def standardized(self, data: ExpressionData) -> np.ndarray:
        """``(n_samples, n_genes)`` standardised ``log(1 + y/s)`` of ``data``."""
        log_sf = self.log_size_factors(data)
        logged = np.log1p(data.values / np.exp(log_sf)[:, None])
        return (logged - self.centre) / self.scale
