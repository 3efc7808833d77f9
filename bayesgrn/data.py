"""Validated expression data with its experimental design.

:class:`ExpressionData` is the one object every fit consumes. It holds a samples x genes
matrix on the *analysis scale* (after the optional log transform), the gene and sample
names, the candidate regulators, which genes were perturbed in which sample, each
sample's condition (table/batch), and the per-gene standardisation used by the model, so
weights can be reported in standardised and in analysis units.

Standardisation of gene ``j`` uses only the samples in which ``j`` was *not* perturbed:
``center_j`` and ``scale_j`` are the mean and sd of its unperturbed values, so a knockout
shows up as a large standardised deviation instead of inflating the gene's sd.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

logger = logging.getLogger(__name__)

PERTURBATIONS = ("knockout", "knockdown", "overexpression")
TRANSFORMS = (None, "log", "log1p")
MIN_SAMPLES = 3


class BayesGRNInputError(ValueError):
    """Bad input data: the message names the file, row, column or gene and what to do."""


@dataclass(frozen=True, eq=False)
class ExpressionData:
    """Samples x genes expression with design, ready to fit.

    Build it with :func:`bayesgrn.read_expression` or :meth:`from_array`; the constructor
    validates everything and raises :class:`BayesGRNInputError` naming what is wrong.

    Attributes
    ----------
    values
        ``(n_samples, n_genes)`` float64 on the analysis scale (after ``transform``).
    genes, samples
        Names, unique, in column/row order.
    regulators
        Candidate regulators (a subset of ``genes``, in gene order). ``W`` is
        ``regulators x genes``; self-edges are always excluded.
    perturbed
        ``(n_samples, n_genes)`` bool; True where the gene was set from outside
        (knockout/knockdown/overexpression) in that sample.
    perturbation
        Per sample: ``"none"`` or one of ``knockout``, ``knockdown``, ``overexpression``.
    condition
        Per sample: the table/batch label; each condition gets its own intercept.
    center, scale
        Per gene standardisation (mean/sd over unperturbed samples).
    transform, pseudocount
        The transform applied to the input (``None``, ``"log"`` = log(x + pseudocount),
        ``"log1p"``).
    source
        Where the data came from (file name or ``"<array>"``), used in messages.
    """

    values: np.ndarray
    genes: tuple[str, ...]
    samples: tuple[str, ...]
    regulators: tuple[str, ...]
    perturbed: np.ndarray
    perturbation: tuple[str, ...]
    condition: tuple[str, ...]
    center: np.ndarray
    scale: np.ndarray
    transform: str | None = None
    pseudocount: float = 0.0
    source: str = "<array>"

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_array(
        cls,
        values: np.ndarray | pd.DataFrame,
        genes: Sequence[str] | None = None,
        samples: Sequence[str] | None = None,
        *,
        regulators: Sequence[str] | None = None,
        perturbed: np.ndarray | None = None,
        perturbation: Sequence[str] | None = None,
        condition: Sequence[str] | str | None = None,
        transform: str | None = None,
        pseudocount: float = 1.0,
        drop_constant: bool = False,
        source: str = "<array>",
    ) -> ExpressionData:
        """Validate a samples x genes array (or DataFrame) and build the data object.

        Parameters
        ----------
        values
            Samples x genes numbers. A DataFrame supplies gene (column) and sample (index) names.
        genes, samples
            Names (default: a DataFrame's columns/index, else ``G1..``, ``S1..``); converted
            with ``str`` and stripped, so gene ``101`` becomes ``"101"``. They must be unique
            and non-empty.
        regulators
            Candidate regulators; default all genes. Unknown names raise. The result keeps
            gene order, whatever the order given.
        perturbed
            Bool mask ``(n_samples, n_genes)`` of intervened genes; default none. It is
            copied, so the caller's array is neither aliased nor made read-only.
        perturbation
            Per sample kind (``"none"``, ``"knockout"``, ...); default ``"knockout"`` for
            samples with a perturbed gene and ``"none"`` otherwise.
        condition
            Per sample condition label, or one label for all (default ``"1"``).
        transform
            ``None``, ``"log"`` (``log(x + pseudocount)``) or ``"log1p"``. A value at or below
            ``-pseudocount`` (``-1`` for ``log1p``) raises, naming the cell.
        pseudocount
            Offset for ``transform="log"``; finite and ``>= 0``.
        drop_constant
            Drop genes that do not vary over their unperturbed samples (or have fewer than 2
            of them) with a logged warning -- also from ``regulators`` -- instead of raising.
            "Constant" means an sd of at most ``1e-12`` times ``max(|mean|, 1)``.
        source
            Name used in error messages.

        Returns
        -------
        ExpressionData
            The validated data; its arrays are read-only.

        Raises
        ------
        BayesGRNInputError
            For a table that is not 2-d, empty, non-numeric, missing or infinite cells,
            duplicate or empty names, a design of the wrong length, constant genes, unknown
            regulators, an unknown transform, fewer than 3 samples or fewer than 2 genes.
        """
        if transform not in TRANSFORMS:
            raise BayesGRNInputError(
                f"unknown transform {transform!r}; choose one of "
                f"{', '.join(map(repr, TRANSFORMS))}"
            )
        frame = _as_frame(values, genes, samples, source)
        n_samples, n_genes = frame.shape
        if perturbed is None:
            perturbed = np.zeros((n_samples, n_genes), dtype=bool)
        # always a private copy: the caller's array is neither aliased nor frozen
        perturbed = np.array(perturbed, dtype=bool, copy=True)
        if perturbed.shape != frame.shape:
            raise BayesGRNInputError(
                f"{source}: perturbation mask has shape {perturbed.shape} but the table is "
                f"{frame.shape} (samples x genes)"
            )
        if perturbation is None:
            perturbation = ["knockout" if row.any() else "none" for row in perturbed]
        if condition is None or isinstance(condition, str):
            condition = [condition or "1"] * n_samples
        perturbation, condition = [str(p) for p in perturbation], [str(c) for c in condition]
        for name, seq in (("perturbation", perturbation), ("condition", condition)):
            if len(seq) != n_samples:
                raise BayesGRNInputError(
                    f"{source}: {name} has {len(seq)} entries for {n_samples} samples"
                )
        bad = sorted({p for p in perturbation if p not in ("none", *PERTURBATIONS)})
        if bad:
            raise BayesGRNInputError(
                f"{source}: unknown perturbation kind(s) {bad}; use 'none' or one of "
                f"{PERTURBATIONS}"
            )
        # copy=True: with pandas < 3 (no copy-on-write) the frame may share the caller's array
        matrix = _transform(
            frame.to_numpy(dtype=np.float64, copy=True), transform, pseudocount, frame, source
        )
        frame = pd.DataFrame(matrix, index=frame.index, columns=frame.columns)

        center, scale = _masked_moments(matrix, perturbed)
        if not np.isfinite(scale).all():
            gene = frame.columns[int(np.argmin(np.isfinite(scale)))]
            raise BayesGRNInputError(
                f"{source}: the values of gene {gene!r} spread too widely for float64 (their sd "
                f"overflows; largest |value| {np.max(np.abs(frame[gene])):g}); rescale the data "
                "(e.g. transform='log')"
            )
        few = (~perturbed).sum(axis=0) < 2
        flat = ~few & ~(scale > 1e-12 * np.maximum(np.abs(center), 1.0))
        constant = [g for g, c in zip(frame.columns, few | flat, strict=True) if c]
        if constant:
            shown = ", ".join(map(repr, constant[:10])) + (" ..." if len(constant) > 10 else "")
            why = (
                "are constant across their unperturbed samples"
                if not few.any()
                else "are constant or unperturbed in fewer than 2 samples"
            )
            if not drop_constant:
                raise BayesGRNInputError(
                    f"{source}: {len(constant)} gene(s) {why} and carry no information: {shown}. "
                    "Remove them, or pass drop_constant=True (CLI: --drop-constant) to drop "
                    "them with a warning."
                )
            dropped = set(constant)
            in_regs = [] if regulators is None else [r for r in regulators if str(r) in dropped]
            logger.warning(
                "%s: dropping %d gene(s) that %s: %s%s",
                source, len(constant), why, shown,
                f" (also removed from the regulators: {in_regs[:10]})" if in_regs else "",
            )  # fmt: skip
            keep = ~frame.columns.isin(constant)
            frame, perturbed = frame.loc[:, keep], perturbed[:, keep]
            center, scale = center[keep], scale[keep]
            if regulators is not None and not isinstance(regulators, str):
                regulators = [r for r in regulators if str(r).strip() not in dropped]
                if not regulators:
                    raise BayesGRNInputError(
                        f"{source}: every regulator was dropped as constant ({in_regs[:10]}); "
                        "no candidate regulators are left"
                    )

        gene_names = tuple(str(g) for g in frame.columns)
        regs = _resolve_regulators(regulators, gene_names, source)
        return cls(
            values=_frozen(np.ascontiguousarray(frame.to_numpy(dtype=np.float64))),
            genes=gene_names,
            samples=tuple(str(s) for s in frame.index),
            regulators=regs,
            perturbed=_frozen(np.ascontiguousarray(perturbed)),
            perturbation=tuple(perturbation),
            condition=tuple(condition),
            center=_frozen(center),
            scale=_frozen(scale),
            transform=transform,
            pseudocount=float(pseudocount) if transform == "log" else 0.0,
            source=source,
        )

    def __post_init__(self) -> None:
        values = np.asarray(self.values)
        if values.ndim != 2:
            raise BayesGRNInputError(f"{self.source}: values must be 2-d (samples x genes)")
        n, g = values.shape
        if len(self.genes) != g or len(self.samples) != n:
            raise BayesGRNInputError(f"{self.source}: names do not match the table shape")
        if n < MIN_SAMPLES:
            hint = (
                " If the table is genes x samples, transpose it (read_expression: "
                "orientation='genes_by_samples')."
                if g >= MIN_SAMPLES
                else ""
            )
            raise BayesGRNInputError(
                f"{self.source}: {n} sample(s); at least {MIN_SAMPLES} are needed to fit a "
                f"network.{hint}"
            )
        if g < 2:
            raise BayesGRNInputError(f"{self.source}: at least 2 genes are needed, got {g}")
        if not self.regulators:
            raise BayesGRNInputError(f"{self.source}: the regulator list is empty")
        missing = set(self.regulators) - set(self.genes)
        if missing:
            raise BayesGRNInputError(f"{self.source}: regulators {sorted(missing)} are not genes")
        shapes = {"perturbed": (n, g), "center": (g,), "scale": (g,)}
        for name, shape in shapes.items():
            if np.shape(getattr(self, name)) != shape:
                raise BayesGRNInputError(
                    f"{self.source}: {name} has shape {np.shape(getattr(self, name))}, "
                    f"expected {shape}"
                )
        for name in ("values", "perturbed", "center", "scale"):
            arr = getattr(self, name)
            kind = bool if name == "perturbed" else np.float64
            if not isinstance(arr, np.ndarray) or arr.dtype != kind or arr.flags.writeable:
                # a private read-only copy, so nobody can change the data behind our back
                arr = np.array(arr, dtype=kind, copy=True)
            arr.setflags(write=False)
            object.__setattr__(self, name, arr)

    # ------------------------------------------------------------------ views
    @property
    def n_samples(self) -> int:
        """Number of samples (rows)."""
        return self.values.shape[0]

    @property
    def n_genes(self) -> int:
        """Number of genes (columns, = targets)."""
        return self.values.shape[1]

    @property
    def regulator_index(self) -> np.ndarray:
        """Column index of each regulator in ``genes``."""
        pos = {g: i for i, g in enumerate(self.genes)}
        return np.array([pos[r] for r in self.regulators], dtype=np.int64)

    @property
    def conditions(self) -> tuple[str, ...]:
        """Distinct condition labels in first-seen order."""
        return tuple(dict.fromkeys(self.condition))

    @property
    def condition_index(self) -> np.ndarray:
        """Per-sample integer code into :attr:`conditions`."""
        pos = {c: i for i, c in enumerate(self.conditions)}
        return np.array([pos[c] for c in self.condition], dtype=np.int64)

    def standardized(self) -> np.ndarray:
        """``(values - center) / scale``: the model's scale."""
        return (self.values - self.center) / self.scale

    def to_frame(self) -> pd.DataFrame:
        """Return the analysis-scale values as a DataFrame (samples x genes)."""
        return pd.DataFrame(self.values, index=list(self.samples), columns=list(self.genes))

    def with_regulators(self, regulators: Sequence[str] | None) -> ExpressionData:
        """Return a copy with a different candidate-regulator list."""
        regs = _resolve_regulators(regulators, self.genes, self.source)
        return dataclasses.replace(self, regulators=regs)

    def __repr__(self) -> str:
        kinds = pd.Series(self.perturbation).value_counts().to_dict()
        return (
            f"ExpressionData({self.n_samples} samples x {self.n_genes} genes, "
            f"{len(self.regulators)} regulators, conditions={list(self.conditions)}, "
            f"perturbations={kinds}, transform={self.transform!r}, source={self.source!r})"
        )


# ---------------------------------------------------------------------- helpers
def _frozen(arr: np.ndarray) -> np.ndarray:
    arr.setflags(write=False)
    return arr


def _as_frame(
    values: np.ndarray | pd.DataFrame,
    genes: Sequence[str] | None,
    samples: Sequence[str] | None,
    source: str,
) -> pd.DataFrame:
    """Validate ``values`` into a samples x genes float frame with unique string names."""
    if isinstance(values, pd.DataFrame):
        frame = values.copy()
        for what, names, axis in (("genes", genes, 1), ("samples", samples, 0)):
            if names is not None:
                names = list(names)
                if len(names) != frame.shape[axis]:
                    raise BayesGRNInputError(
                        f"{source}: {len(names)} {what} names for a table with "
                        f"{frame.shape[axis]} {what}"
                    )
                frame = frame.set_axis(names, axis=axis)
    else:
        try:
            arr = np.asarray(values)
        except (ValueError, TypeError) as err:
            raise BayesGRNInputError(
                f"{source}: cannot read the values as a table: {err}"
            ) from None
        if arr.ndim != 2:
            raise BayesGRNInputError(
                f"{source}: expected a 2-d samples x genes table, got {arr.ndim}-d "
                f"(shape {arr.shape})"
            )
        n, g = arr.shape
        genes = list(genes) if genes is not None else [f"G{j + 1}" for j in range(g)]
        samples = list(samples) if samples is not None else [f"S{i + 1}" for i in range(n)]
        if len(genes) != g or len(samples) != n:
            raise BayesGRNInputError(
                f"{source}: {len(samples)} sample and {len(genes)} gene names for a table of "
                f"{n} samples x {g} genes"
            )
        if arr.dtype.kind == "c":
            raise BayesGRNInputError(f"{source}: complex values are not expression data")
        frame = pd.DataFrame(arr if arr.dtype.kind in "biuf" else arr.astype(object))
        frame.index, frame.columns = samples, genes
    if frame.shape[0] == 0 or frame.shape[1] == 0:
        raise BayesGRNInputError(f"{source}: the table is empty (shape {frame.shape})")
    frame.columns = [str(c).strip() for c in frame.columns]
    frame.index = [str(i).strip() for i in frame.index]
    for kind, names in (("gene", frame.columns), ("sample", frame.index)):
        empty = [i + 1 for i, c in enumerate(names) if c == ""]
        if empty:
            raise BayesGRNInputError(
                f"{source}: {kind}(s) number {empty[:10]} have an empty name; name every {kind}"
            )
        dup = names[names.duplicated()].unique().tolist()
        if dup:
            raise BayesGRNInputError(
                f"{source}: duplicate {kind} name(s) {dup[:10]}; {kind} names must be unique "
                "(rename or aggregate the duplicates first)"
            )
    arr = _numeric(frame, source)
    finite = np.isfinite(arr)
    if not finite.all():
        r, c = np.argwhere(~finite)[0]
        what = "missing (NaN)" if np.isnan(arr[r, c]) else f"infinite ({arr[r, c]})"
        raise BayesGRNInputError(
            f"{source}: {int((~finite).sum())} missing or infinite value(s); the first is "
            f"{what} at sample {frame.index[r]!r} (row {r + 1}), gene {frame.columns[c]!r}. "
            "Impute or drop those samples/genes before fitting."
        )
    return pd.DataFrame(arr, index=frame.index, columns=frame.columns)


def _numeric(frame: pd.DataFrame, source: str) -> np.ndarray:
    """Convert ``frame`` to float64, raising on the first cell that is not a number."""
    if all(pd.api.types.is_numeric_dtype(t) and t.kind != "c" for t in frame.dtypes):
        try:
            return frame.to_numpy(dtype=np.float64, na_value=np.nan)
        except (TypeError, ValueError):  # pragma: no cover - exotic extension dtypes
            pass
    raw = frame.to_numpy(dtype=object)
    out = np.empty(raw.shape, dtype=np.float64)
    for (r, c), cell in np.ndenumerate(raw):
        try:
            if isinstance(cell, str) and "_" in cell:  # float() would read "1_000" as 1000
                raise ValueError(cell)
            out[r, c] = np.nan if pd.isna(cell) else float(cell)
        except (TypeError, ValueError):
            cell = cell.item() if isinstance(cell, np.generic) else cell
            column = raw[:, c]
            hint = ""
            if not any(isinstance(x, int | float | np.number) for x in column):
                hint = (
                    f" Column {frame.columns[c]!r} holds no numbers: if it holds sample names, "
                    "make it the index (df.set_index(...))."
                )
            raise BayesGRNInputError(
                f"{source}: non-numeric value {cell!r} at sample {frame.index[r]!r} "
                f"(row {r + 1}), gene {frame.columns[c]!r}; every cell must be a number.{hint}"
            ) from None
    return out


def _transform(
    matrix: np.ndarray, transform: str | None, pseudocount: float, frame: pd.DataFrame, source: str
) -> np.ndarray:
    if transform not in TRANSFORMS:
        raise BayesGRNInputError(
            f"unknown transform {transform!r}; choose one of {', '.join(map(repr, TRANSFORMS))}"
        )
    if transform is None:
        return matrix
    if transform == "log":
        try:
            offset = float(pseudocount)
        except (TypeError, ValueError):
            raise BayesGRNInputError(
                f"pseudocount must be a number, got {pseudocount!r}"
            ) from None
        if not offset >= 0 or not np.isfinite(offset):
            raise BayesGRNInputError(
                f"pseudocount must be a finite number >= 0, got {pseudocount}"
            )
    else:
        offset = 1.0
    low = matrix + offset <= 0
    if low.any():
        r, c = np.argwhere(low)[0]
        raise BayesGRNInputError(
            f"{source}: cannot take the log of {float(matrix[r, c])!r} + {offset} at sample "
            f"{frame.index[r]!r}, gene {frame.columns[c]!r} ({int(low.sum())} value(s) are "
            f"<= -{offset}); raise the pseudocount, or pass transform=None for data already on "
            "a log scale"
        )
    return np.log(matrix + offset)


def _masked_moments(matrix: np.ndarray, perturbed: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-gene mean and sd over the unperturbed samples, without overflow for huge values.

    Each gene is first divided by a power of two near its largest magnitude -- exact in
    floating point, so ordinary data give bit-for-bit the unscaled result -- which keeps sums
    and squares of values up to the float maximum (~1.8e308) finite.
    """
    free = ~perturbed
    count = free.sum(axis=0)
    safe = np.maximum(count, 1)
    _, exponent = np.frexp(np.max(np.abs(np.where(free, matrix, 0.0)), axis=0, initial=0.0))
    scaled = np.ldexp(matrix, -exponent)
    center = np.where(free, scaled, 0.0).sum(axis=0) / safe
    dev = np.where(free, scaled - center, 0.0)
    var = (dev**2).sum(axis=0) / np.maximum(count - 1, 1)
    scale = np.sqrt(var)
    scale[count < 2] = 0.0
    with np.errstate(over="ignore"):  # an sd beyond the float maximum is reported by the caller
        return np.ldexp(center, exponent), np.ldexp(scale, exponent)


def _resolve_regulators(
    regulators: Sequence[str] | None, genes: tuple[str, ...], source: str
) -> tuple[str, ...]:
    if regulators is None:
        return genes
    if isinstance(regulators, str):
        raise BayesGRNInputError(
            "regulators must be a list of gene names (or a file path given to read_expression)"
        )
    wanted = [str(r).strip() for r in regulators]
    known = set(genes)
    missing = [r for r in wanted if r not in known]
    if missing:
        by_case = {g.casefold(): g for g in genes}
        close = {r: by_case[r.casefold()] for r in missing if r.casefold() in by_case}
        hint = (
            f" Did you mean {list(close.values())[:5]}? Names are case-sensitive." if close else ""
        )
        raise BayesGRNInputError(
            f"{len(missing)} regulator(s) are not genes of {source}: {missing[:10]}"
            f"{' ...' if len(missing) > 10 else ''}.{hint} Check the spelling, or drop them "
            "from the regulator list."
        )
    chosen = set(wanted)
    return tuple(g for g in genes if g in chosen)
