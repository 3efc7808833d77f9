r"""Prior knowledge about edges: known (with a confidence) and forbidden.

A known edge ``r -> j`` with confidence :math:`\kappa \in (0, 1]` gets the local prior scale

.. math:: \ell_{rj} = \left(\frac{s}{\tau_{0j}}\right)^{\kappa},

a geometric interpolation between the default :math:`\ell = 1` (:math:`\kappa = 0`, the edge
is shrunk like any other) and :math:`s/\tau_{0j}` (:math:`\kappa = 1`, the edge's prior scale
:math:`\tau_{0j}\ell` equals the slab width :math:`s`, i.e. it is not shrunk at all).
Forbidden edges are removed from ``W`` (mask :math:`A_{rj} = 0`) and never reported.
"""

from __future__ import annotations

import os
from collections.abc import Iterable

import numpy as np
import pandas as pd

from bayesgrn.data import BayesGRNInputError, ExpressionData

EdgeSource = pd.DataFrame | str | os.PathLike[str] | Iterable[tuple[str, str]]


def read_edge_list(source: EdgeSource, what: str, with_confidence: bool) -> pd.DataFrame:
    """``regulator, target[, confidence]`` from a DataFrame, a TSV/CSV file or (r, t) pairs."""
    if isinstance(source, str | os.PathLike):
        path = str(source)
        if not os.path.isfile(path):
            raise BayesGRNInputError(f"{what} file {path!r} does not exist")
        frame = pd.read_csv(path, sep=None, engine="python", header=None, dtype=str, comment="#")
        if len(frame) and str(frame.iat[0, 0]).strip().lower() in ("regulator", "tf", "source"):
            frame = frame.iloc[1:]
        name = path
    elif isinstance(source, pd.DataFrame):
        frame, name = source.copy(), f"{what} table"
    else:
        frame, name = pd.DataFrame(list(source)), f"{what} list"
    if frame.shape[1] < 2:
        raise BayesGRNInputError(
            f"{name}: needs columns regulator, target"
            + (", confidence" if with_confidence else "")
        )
    cols = list(frame.columns)
    out = pd.DataFrame(
        {
            "regulator": frame[cols[0]].astype(str).str.strip().to_numpy(),
            "target": frame[cols[1]].astype(str).str.strip().to_numpy(),
        }
    )
    if with_confidence:
        raw = (
            frame["confidence"]
            if "confidence" in frame.columns
            else (frame[cols[2]] if frame.shape[1] >= 3 else pd.Series(1.0, index=frame.index))
        )
        conf = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=float)
        bad = ~((conf > 0) & (conf <= 1))
        if bad.any():
            row = int(np.nonzero(bad)[0][0])
            raise BayesGRNInputError(
                f"{name}: row {row + 1} ({out.regulator[row]} -> {out.target[row]}) has "
                f"confidence {raw.iloc[row]!r}; use a number in (0, 1]"
            )
        out["confidence"] = conf
    return out


def edge_positions(
    edges: pd.DataFrame, data: ExpressionData, what: str
) -> tuple[np.ndarray, np.ndarray]:
    """Row (regulator) and column (target) indices of ``edges`` in ``W``, with named errors."""
    reg_pos = {g: i for i, g in enumerate(data.regulators)}
    gene_pos = {g: i for i, g in enumerate(data.genes)}
    unknown_reg = sorted(set(edges["regulator"]) - set(reg_pos))
    unknown_tgt = sorted(set(edges["target"]) - set(gene_pos))
    if unknown_reg or unknown_tgt:
        parts = []
        if unknown_reg:
            parts.append(f"regulators not among the candidate regulators: {unknown_reg[:10]}")
        if unknown_tgt:
            parts.append(f"targets not in the table: {unknown_tgt[:10]}")
        raise BayesGRNInputError(f"{what}: " + "; ".join(parts))
    self_edges = edges[edges["regulator"] == edges["target"]]
    if len(self_edges):
        raise BayesGRNInputError(
            f"{what}: self-edges are not part of the model: "
            f"{self_edges['regulator'].tolist()[:10]}"
        )
    rows = edges["regulator"].map(reg_pos).to_numpy(dtype=np.int64)
    cols = edges["target"].map(gene_pos).to_numpy(dtype=np.int64)
    return rows, cols


def forbid_edges(
    data: ExpressionData, allowed: np.ndarray, forbidden_edges: EdgeSource | None
) -> np.ndarray:
    """Return a copy of the edge mask with the forbidden edges removed."""
    allowed = allowed.copy()
    if forbidden_edges is not None:
        forbidden = read_edge_list(forbidden_edges, "forbidden edges", with_confidence=False)
        rows, cols = edge_positions(forbidden, data, "forbidden edges")
        allowed[rows, cols] = False
    if not allowed.any():
        raise BayesGRNInputError("every candidate edge is forbidden; nothing is left to fit")
    return allowed


def known_edge_scales(
    data: ExpressionData,
    allowed: np.ndarray,
    tau0: np.ndarray,
    slab_scale: float,
    known_edges: EdgeSource | None,
) -> np.ndarray:
    """Return the local-scale matrix: ``(s / tau0_j) ** confidence`` on known edges, else 1."""
    local_scale = np.ones(allowed.shape)
    if known_edges is None:
        return local_scale
    known = read_edge_list(known_edges, "known edges", with_confidence=True)
    rows, cols = edge_positions(known, data, "known edges")
    clash = ~allowed[rows, cols]
    if clash.any():
        i = int(np.nonzero(clash)[0][0])
        raise BayesGRNInputError(
            f"known edge {known.regulator[i]} -> {known.target[i]} is also forbidden"
        )
    ratio = np.maximum(slab_scale / tau0[cols], 1.0)
    local_scale[rows, cols] = ratio ** known["confidence"].to_numpy()
    return local_scale
