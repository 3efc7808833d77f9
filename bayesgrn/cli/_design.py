"""Reading a design table (``fit --design``) into a perturbation mask."""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence

import numpy as np
import pandas as pd

from bayesgrn.cli._common import CLIError, shown
from bayesgrn.cli._tables import read_table
from bayesgrn.data import PERTURBATIONS

logger = logging.getLogger(__name__)

DESIGN_COLUMNS = ("sample", "perturbation", "perturbed_gene")


def read_design(
    path: str | os.PathLike[str], samples: Sequence[str], genes: Sequence[str], expression: str
) -> tuple[np.ndarray, list[str]]:
    """Read a design table into a perturbation mask and per-sample perturbation kinds.

    Parameters
    ----------
    path
        TSV/CSV with columns ``sample, perturbation, perturbed_gene``; ``perturbed_gene`` is
        empty for unperturbed samples and may list several genes separated by ``;``.
    samples, genes
        Names of the expression table's rows and columns (the mask follows their order).
    expression
        Name of the expression table, used in messages.

    Returns
    -------
    tuple of numpy.ndarray and list of str
        ``(n_samples, n_genes)`` bool mask and the perturbation kind of each sample (samples
        the design does not list are unperturbed).

    Raises
    ------
    CLIError, bayesgrn.BayesGRNInputError
        For a missing, empty or unreadable file, a ragged row, missing columns, unknown or
        repeated samples, unknown genes or perturbation kinds -- naming the file and line.
    """
    frame = read_table(path, "design", required=DESIGN_COLUMNS)
    name = str(path)
    _check_design_names(frame, samples, genes, name, expression)
    row_of = {s: i for i, s in enumerate(samples)}
    col_of = {g: j for j, g in enumerate(genes)}
    perturbed = np.zeros((len(samples), len(genes)), dtype=bool)
    kinds = ["none"] * len(samples)
    for line, (sample, kind, cell) in zip(
        frame.index, frame[list(DESIGN_COLUMNS)].itertuples(index=False), strict=True
    ):
        targets = _split_genes(cell)
        kinds[row_of[sample]] = _design_kind(kind, targets, name, line)
        perturbed[row_of[sample], [col_of[g] for g in targets]] = True
    unlisted = len(samples) - frame["sample"].nunique()
    if unlisted:
        logger.info(
            "%s: %d sample(s) of %s are not listed; treating them as unperturbed",
            name,
            unlisted,
            expression,
        )
    return perturbed, kinds


def _split_genes(cell: str) -> list[str]:
    return [g.strip() for g in cell.split(";") if g.strip()]


def _check_design_names(
    frame: pd.DataFrame, samples: Sequence[str], genes: Sequence[str], name: str, expression: str
) -> None:
    # the frame's index holds each row's line number
    duplicated = frame.loc[frame["sample"].duplicated(), "sample"].unique().tolist()
    if duplicated:
        lines = frame.index[frame["sample"] == duplicated[0]].tolist()
        raise CLIError(
            f"design file {name!r}: sample(s) listed more than once: {shown(duplicated)} "
            f"({duplicated[0]!r} on line {lines[0]} and line {lines[1]})"
        )
    known = set(samples)
    unknown = [(s, line) for line, s in frame["sample"].items() if s not in known]
    if unknown:
        raise CLIError(
            f"design file {name!r}: {len(unknown)} sample(s) are not samples of {expression}: "
            f"{shown([s for s, _ in unknown])} (the first on line {unknown[0][1]})"
        )
    known = set(genes)
    listed = [(g, line) for line, cell in frame["perturbed_gene"].items()
              for g in _split_genes(cell)]  # fmt: skip
    missing = list(dict.fromkeys(g for g, _ in listed if g not in known))
    if missing:
        line = next(line for g, line in listed if g == missing[0])
        raise CLIError(
            f"design file {name!r}: perturbed gene(s) not among the genes of {expression}: "
            f"{shown(missing)} (the first on line {line})"
        )


def _design_kind(kind: str, targets: list[str], name: str, line: int) -> str:
    kind = kind.strip().lower() or ("knockout" if targets else "none")
    if kind not in ("none", *PERTURBATIONS):
        raise CLIError(
            f"design file {name!r}, line {line}: unknown perturbation {kind!r}; "
            f"use none or one of {', '.join(PERTURBATIONS)}"
        )
    if (kind == "none") != (not targets):
        raise CLIError(
            f"design file {name!r}, line {line}: perturbation {kind!r} with perturbed_gene "
            f"{';'.join(targets) or '(empty)'}; 'none' needs an empty perturbed_gene, any other "
            "kind at least one gene"
        )
    return kind
