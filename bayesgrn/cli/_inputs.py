"""Reading a command's inputs: the expression table with its data options, a gold standard."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import bayesgrn
from bayesgrn.cli._common import CLIError
from bayesgrn.cli._design import read_design
from bayesgrn.data import ExpressionData


def load_expression(args: argparse.Namespace) -> ExpressionData:
    """Read ``EXPR`` with the data options of ``bayesgrn fit`` (and its ``--design``).

    Parameters
    ----------
    args
        Parsed ``fit`` arguments.

    Returns
    -------
    ExpressionData
        The validated data, with the design's perturbation mask when ``--design`` is given.
    """
    transform = None if args.transform == "none" else args.transform
    options = {
        "transform": transform,
        "pseudocount": args.pseudocount,
        "drop_constant": args.drop_constant,
    }
    layer = getattr(args, "layer", None)
    if str(args.expression).lower().endswith(".h5ad"):
        if args.design is not None:
            raise CLIError("--design is for text tables; an .h5ad carries its design in obs")
        from bayesgrn.anndata_io import read_anndata

        regulators = bayesgrn.read_regulators(args.regulators) if args.regulators else None
        return read_anndata(args.expression, layer=layer, regulators=regulators, **options)
    if layer is not None:
        raise CLIError("--layer applies to .h5ad input only")
    if args.design is None:
        return bayesgrn.read_expression(
            args.expression, orientation=args.orientation, regulators=args.regulators, **options
        )
    # the mask must follow the table's own sample/gene order, so read the table once untransformed
    raw = bayesgrn.read_expression(
        args.expression,
        orientation=args.orientation,
        regulators=args.regulators,
        drop_constant=args.drop_constant,
    )
    perturbed, perturbation = read_design(args.design, raw.samples, raw.genes, raw.source)
    regulators = list(raw.regulators) if args.regulators is not None else None
    return ExpressionData.from_array(
        raw.to_frame(),
        regulators=regulators,
        perturbed=perturbed,
        perturbation=perturbation,
        source=raw.source,
        **options,
    )


def load_gold(path: str | os.PathLike[str]) -> str:
    """Check a gold-standard file exists and pass it to :func:`bayesgrn.evaluate`.

    :func:`bayesgrn.read_gold_standard` reads DREAM's 3-column 0/1 files, 2-column positives
    and ``bayesgrn simulate``'s ``gold.tsv`` (edges with non-zero ``weight`` are true).
    """
    if not Path(path).is_file():
        raise CLIError(f"gold-standard file {str(path)!r} does not exist")
    return os.fspath(path)
