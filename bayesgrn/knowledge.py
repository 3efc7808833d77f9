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
from bayesgrn.io import edge_endpoints, read_small_table

EdgeSource = pd.DataFrame | str | os.PathLike[str] | Iterable[tuple[str, str]]


_HEADER_FIRST_CELLS = ("regulator", "tf", "source")


def read_edge_list(source: EdgeSource, what: str, with_confidence: bool) -> pd.DataFrame:
    """``regulator, target[, confidence]`` from a DataFrame, a TSV/CSV file or (r, t) pairs.

    A file is read like an expression table (separator tab, comma, semicolon or whitespace;
    gzip/bz2/xz; BOM; quotes; any line ending); it may start with a header whose first cell
    is ``regulator``, ``tf`` or ``source``, and lines starting with ``#`` are comments. The
    confidence is the ``confidence`` column of a header, else the third column, else 1. Names
    are kept as text (``NA`` and ``101`` are gene names). Errors name the file and line (or
    the table and row).
    """
    if isinstance(source, str | os.PathLike):
        name = f"{what} file {str(source)!r}"
        table = read_small_table(
            source,
            f"{what} file",
            has_header=lambda fields: fields[0].lower() in _HEADER_FIRST_CELLS,
            comments=True,
        )
        if not table.rows:
            has = (
                f"only a header (line {table.header_line})" if table.header
                else "it is empty or holds only blank lines and '#' comments"
            )  # fmt: skip
            raise BayesGRNInputError(
                f"{name} lists no edges: {has}; expected lines of regulator, target"
                + (", confidence" if with_confidence else "")
            )
        header = [c.lower() for c in table.header] if table.header else None
        columns = list(zip(*table.rows, strict=True))
        places = [f"line {n}" for n in table.lines]
        if len(columns) < 2:
            raise BayesGRNInputError(
                f"{name}: line {table.header_line or table.lines[0]} has a single column; "
                "needs columns regulator, target"
                + (", confidence" if with_confidence else "")
                + " separated by tabs, commas, semicolons or spaces"
            )
        conf_at = (
            header.index("confidence") if header and "confidence" in header
            else 2 if len(columns) >= 3 else None
        )  # fmt: skip
        confidence = columns[conf_at] if conf_at is not None else None
    else:
        if isinstance(source, pd.DataFrame):
            frame, name = source.copy(), f"{what} table"
        else:
            frame, name = pd.DataFrame(list(source)), f"{what} list"
        if frame.shape[1] < 2:
            raise BayesGRNInputError(
                f"{name}: needs columns regulator, target"
                + (", confidence" if with_confidence else "")
            )
        cols = list(frame.columns)
        columns = [frame.iloc[:, k].tolist() for k in range(frame.shape[1])]
        places = [f"row {i + 1}" for i in range(len(frame))]
        confidence = (
            frame["confidence"].tolist() if "confidence" in cols
            else columns[2] if len(cols) >= 3 else None
        )  # fmt: skip
    regulators, targets = edge_endpoints(columns[0], columns[1], places, name)
    out = pd.DataFrame({"regulator": regulators, "target": targets})
    if with_confidence:
        conf = (
            np.ones(len(out))
            if confidence is None
            else np.array([_number(c) for c in confidence], dtype=np.float64)
        )
        bad = ~((conf > 0) & (conf <= 1))
        if bad.any():
            row = int(np.nonzero(bad)[0][0])
            raise BayesGRNInputError(
                f"{name}: {places[row]} ({regulators[row]} -> {targets[row]}) has confidence "
                f"{confidence[row]!r}; use a number in (0, 1]"  # type: ignore[index]
            )
        out["confidence"] = conf
    return out


def _number(cell: object) -> float:
    """``cell`` as a float; NaN where it is not a number (``1_000`` is not)."""
    if isinstance(cell, str) and "_" in cell:
        return np.nan
    try:
        return float(cell)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return np.nan


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
