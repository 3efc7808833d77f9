"""AnnData (``.h5ad``) input: cells/samples x genes with the design in ``obs``.

Needs the optional dependency ``bayesgrn[anndata]``. ``X`` (or a chosen layer) becomes the
expression matrix, ``var_names`` the genes and ``obs_names`` the samples. A sparse matrix
is densified (the model works on dense tensors; the memory plan of the fit counts it).
Design columns in ``obs`` are optional:

* ``perturbed_key``: the perturbed gene(s) of each sample, ``;``-separated, empty/NaN for
  unperturbed samples;
* ``perturbation_key``: the kind per sample (``none``, ``knockout``, ``knockdown``,
  ``overexpression``; default ``knockout`` where a gene is perturbed);
* ``condition_key``: batch/condition label per sample.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from bayesgrn.data import BayesGRNInputError, ExpressionData


def read_anndata(
    source: str | os.PathLike[str] | Any,
    *,
    layer: str | None = None,
    regulators: Sequence[str] | None = None,
    transform: str | None = None,
    pseudocount: float = 1.0,
    drop_constant: bool = False,
    perturbed_key: str | None = None,
    perturbation_key: str | None = None,
    condition_key: str | None = None,
) -> ExpressionData:
    """Read an ``.h5ad`` file (or an in-memory ``AnnData``) into :class:`ExpressionData`.

    Parameters
    ----------
    source
        Path to an ``.h5ad`` file, or an ``anndata.AnnData``.
    layer
        Layer to use instead of ``X`` (e.g. ``"counts"``).
    regulators
        Candidate regulators (default all genes).
    transform, pseudocount, drop_constant
        As in :func:`bayesgrn.read_expression`.
    perturbed_key, perturbation_key, condition_key
        ``obs`` columns holding the design (see the module docstring).

    Raises
    ------
    BayesGRNInputError
        Missing file, layer or ``obs`` column, unknown perturbed genes, or any of
        :meth:`ExpressionData.from_array`'s checks -- naming the file.
    """
    try:
        import anndata
    except ImportError as err:  # pragma: no cover - depends on the environment
        raise ImportError("reading .h5ad needs anndata: pip install 'bayesgrn[anndata]'") from err
    if isinstance(source, anndata.AnnData):
        adata, where = source, "<AnnData>"
    else:
        path = Path(source)
        where = str(path)
        if not path.is_file():
            raise BayesGRNInputError(f"{where}: no such file")
        try:
            adata = anndata.read_h5ad(path)
        except Exception as err:  # h5py/anndata raise many kinds for a bad file
            raise BayesGRNInputError(
                f"{where}: not a readable .h5ad file ({type(err).__name__}: {err})"
            ) from None
    if layer is None:
        matrix = adata.X
    else:
        if layer not in adata.layers:
            known = ", ".join(repr(k) for k in adata.layers.keys()) or "none"
            raise BayesGRNInputError(f"{where}: no layer {layer!r} (layers: {known})")
        matrix = adata.layers[layer]
    if matrix is None:
        raise BayesGRNInputError(f"{where}: X is empty; choose a layer with layer=")
    if hasattr(matrix, "toarray"):
        matrix = matrix.toarray()
    values = np.asarray(matrix, dtype=np.float64)
    genes = [str(g) for g in adata.var_names]
    samples = [str(s) for s in adata.obs_names]
    obs = adata.obs
    perturbed = perturbation = condition = None
    if perturbed_key is not None:
        perturbed = _perturbed_mask(_column(obs, perturbed_key, where), genes, samples, where)
    if perturbation_key is not None:
        perturbation = [str(v) for v in _column(obs, perturbation_key, where)]
    if condition_key is not None:
        condition = [str(v) for v in _column(obs, condition_key, where)]
    return ExpressionData.from_array(
        values,
        genes,
        samples,
        regulators=regulators,
        perturbed=perturbed,
        perturbation=perturbation,
        condition=condition,
        transform=transform,
        pseudocount=pseudocount,
        drop_constant=drop_constant,
        source=where + (f" (layer {layer!r})" if layer else ""),
    )


def _column(obs: pd.DataFrame, key: str, where: str) -> pd.Series:
    if key not in obs.columns:
        known = ", ".join(repr(c) for c in obs.columns[:20]) or "none"
        raise BayesGRNInputError(f"{where}: obs has no column {key!r} (columns: {known})")
    return obs[key]


def _perturbed_mask(
    column: pd.Series, genes: list[str], samples: list[str], where: str
) -> np.ndarray:
    position = {g: j for j, g in enumerate(genes)}
    mask = np.zeros((len(samples), len(genes)), dtype=bool)
    for i, cell in enumerate(column.to_numpy()):
        if cell is None or (isinstance(cell, float) and np.isnan(cell)):
            continue
        for name in (part.strip() for part in str(cell).split(";")):
            if not name or name.lower() in {"none", "nan"}:
                continue
            if name not in position:
                raise BayesGRNInputError(
                    f"{where}: sample {samples[i]!r} lists perturbed gene {name!r}, which is "
                    "not among var_names"
                )
            mask[i, position[name]] = True
    return mask
