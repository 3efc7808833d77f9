"""Reader for the DREAM4 in-silico network-inference challenge files (GeneNetWeaver).

DREAM4 (Marbach et al. 2010, PNAS 107:6286; Prill et al. 2010, PLoS ONE 5:e9202) ships, per
network ``N`` of size ``S`` (10 or 100 genes), steady-state tables with a quoted header of
gene names (``"G1"  "G2" ...``) and one row of tab-separated numbers per sample::

    insilico_size{S}_{N}_wildtype.tsv        1 x S   unperturbed steady state
    insilico_size{S}_{N}_knockouts.tsv       S x S   row i: gene Gi deleted
    insilico_size{S}_{N}_knockdowns.tsv      S x S   row i: gene Gi transcription halved
    insilico_size{S}_{N}_multifactorial.tsv  S x S   random perturbations of basal rates,
                                                     genes RENAMED at random
    insilico_size{S}_multifactorial_{N}_goldstandard_ref.tsv    "New" -> "Old" gene names
    DREAM4_GoldStandard_InSilico_Size{S}_{N}.tsv                regulator target 0/1
    DREAM4_GoldStandard_InSilico_Size{S}_multifactorial_{N}.tsv  same, in the renamed genes

:func:`read_dream4` combines any of the four tables into one :class:`ExpressionData` with the
experimental design filled in; :func:`dream4_gold_standard` returns the matching gold standard.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from bayesgrn.data import BayesGRNInputError, ExpressionData

__all__ = ["DREAM4_TABLES", "default_pseudocount", "dream4_gold_standard", "read_dream4"]

#: The steady-state tables of a DREAM4 network, in the order they are stacked.
DREAM4_TABLES = ("wildtype", "knockouts", "knockdowns", "multifactorial")

#: Sample-name prefix, perturbation kind and condition label of each table's rows.
_PREFIX = {
    "wildtype": "wildtype",
    "knockouts": "knockout",
    "knockdowns": "knockdown",
    "multifactorial": "multifactorial",
}
_CONDITION = {
    "wildtype": "wildtype",
    "knockouts": "wildtype",
    "knockdowns": "wildtype",
    "multifactorial": "multifactorial",
}
_NAMES = ("original", "renamed")

#: Default pseudocount as a fraction of the largest level read, rounded up to a power of
#: ten (DREAM4: 0.01).
PSEUDOCOUNT_FRACTION = 0.01

_LAYOUT = (
    "expected the DREAM4 layout: insilico_size{S}_{N}_<table>.tsv for the tables wildtype, "
    "knockouts, knockdowns and multifactorial, insilico_size{S}_multifactorial_{N}_"
    "goldstandard_ref.tsv (renamed multifactorial genes, New -> Old) and "
    "DREAM4_GoldStandard_InSilico_Size{S}[_multifactorial]_{N}.tsv"
)


def read_dream4(
    directory: str | os.PathLike[str],
    network: int,
    *,
    size: int = 100,
    tables: Sequence[str] = DREAM4_TABLES,
    transform: str | None = "log",
    pseudocount: float | None = None,
    names: str = "original",
) -> ExpressionData:
    """Read DREAM4 steady-state tables of one network into one :class:`ExpressionData`.

    Parameters
    ----------
    directory
        Folder holding the files (e.g. ``.../dream4/size100``); a folder with a
        ``size{size}`` subfolder holding them is accepted too.
    network
        Network number ``N`` (1-5 in DREAM4).
    size
        Network size ``S`` (10 or 100).
    tables
        Which tables to stack, any of ``"wildtype"``, ``"knockouts"``, ``"knockdowns"``,
        ``"multifactorial"``; they are stacked in this canonical order whatever the order
        given.
    transform
        ``"log"`` (default: ``log(x + pseudocount)``), ``"log1p"`` or ``None`` (raw levels).
    pseudocount
        Offset of ``transform="log"``. ``None`` (default) is scale-free: 1% of the largest
        level in the tables read, that level first rounded up to a power of ten (so the
        default does not jitter with the sample). DREAM4 levels are normalised to
        ``[0, 1]`` (largest levels 0.83-0.93), so this is 0.01 there -- small enough to keep
        the dynamic range (knocked-out genes sit at 0), large enough not to blow near-zero
        levels up to huge negative logs. The choice matters a lot for a linear model on
        this data: ``log(x + 0.01)`` is the setting measured to work.
    names
        ``"original"`` (default): genes carry the network's own names ``G1..GS``; the
        multifactorial table's randomly renamed columns are mapped back with the
        ``_goldstandard_ref.tsv`` map (``New -> Old``), so the result is scored against
        ``DREAM4_GoldStandard_InSilico_Size{S}_{N}.tsv``. ``"renamed"``: every gene carries
        its name in the multifactorial table (the other tables, if any, are mapped
        ``Old -> New``), to score against the ``..._multifactorial_{N}.tsv`` gold standard;
        with ``tables=("multifactorial",)`` the file's own names are kept unchanged.

    Returns
    -------
    ExpressionData
        Samples stacked in the order wildtype, knockouts, knockdowns, multifactorial, named
        ``wildtype_1``, ``knockout_G7``, ``knockdown_G7``, ``multifactorial_12`` (the gene in
        a knockout/knockdown sample name is the perturbed gene, in the chosen ``names``);
        genes in the order ``G1..GS`` of the chosen naming.

    Raises
    ------
    BayesGRNInputError
        For a missing file (naming it and the expected layout), a table whose header is not
        the network's genes, a knockout/knockdown table without one row per gene, a
        non-numeric or missing cell, a bad rename map, or bad arguments.

    Notes
    -----
    The design follows the challenge's description of the data:

    * **Perturbations.** Knockout row ``i`` (1-based, counted over data rows) deleted gene
      ``Gi`` and knockdown row ``i`` halved the transcription rate of ``Gi`` -- by *name*,
      whatever the column order of the header. The gene is marked ``perturbed`` in that
      sample with perturbation ``"knockout"``/``"knockdown"``; wild-type and
      multifactorial rows are unperturbed.
    * **Knockdowns are modelled like knockouts**, as an intervention that *cuts* the
      gene's own equation and keeps its observed, externally set level as the input to its
      targets (the do-operator). GeneNetWeaver only halves the transcription rate, so a
      knocked-down gene is still partly regulated by its parents: cutting its equation
      throws that part of the information away, but it cannot bias ``W`` (the gene's
      level still enters its targets' equations exactly as observed), whereas treating it
      as unperturbed would wrongly attribute the externally forced drop to its regulators.
    * **Conditions.** Wild type, knockouts and knockdowns are perturbations of the same
      baseline and share condition ``"wildtype"``. The multifactorial experiments perturb
      the basal rates of all genes at random, which shifts every gene's mean, so they get
      their own condition ``"multifactorial"`` (their own intercepts).
    """
    tables = _check_arguments(network, size, tables, names)
    folder = _resolve_directory(Path(directory), network, size)
    needs_map = ("multifactorial" in tables and names == "original") or (
        names == "renamed" and any(t != "multifactorial" for t in tables)
    )
    new_to_old = _read_rename_map(folder, network, size) if needs_map else None
    canonical = [f"G{i + 1}" for i in range(size)]
    identity = {g: g for g in canonical}
    rename, multi_rename = identity, identity  # per table: file name -> output name
    if new_to_old is not None and names == "original":
        multi_rename = new_to_old
    elif new_to_old is not None:  # "renamed": the other tables are mapped Old -> New
        rename = {old: new for new, old in new_to_old.items()}
    genes = canonical  # the output gene order: G1..GS of the chosen naming

    frames: list[pd.DataFrame] = []
    samples: list[str] = []
    kinds: list[str] = []
    conditions: list[str] = []
    perturbed_gene: list[str | None] = []
    for table in tables:
        path = folder / f"insilico_size{size}_{network}_{table}.tsv"
        frame = _read_table(path, canonical)
        mapping = multi_rename if table == "multifactorial" else rename
        frame = frame.rename(columns=mapping)[genes]
        n = frame.shape[0]
        if table in ("knockouts", "knockdowns"):
            if n != size:
                raise BayesGRNInputError(
                    f"{path}: {n} data row(s); a {table} table has one row per gene "
                    f"({size}: row i perturbs gene Gi)"
                )
            targets: list[str | None] = [mapping[f"G{i + 1}"] for i in range(n)]
            labels = [f"{_PREFIX[table]}_{g}" for g in targets]
            kind = _PREFIX[table]
        else:
            targets = [None] * n
            labels = [f"{_PREFIX[table]}_{i + 1}" for i in range(n)]
            kind = "none"
        frames.append(frame)
        samples += labels
        kinds += [kind] * n
        conditions += [_CONDITION[table]] * n
        perturbed_gene += targets

    values = pd.concat(frames, axis=0, ignore_index=True).to_numpy(dtype=np.float64)
    column = {g: j for j, g in enumerate(genes)}
    perturbed = np.zeros(values.shape, dtype=bool)
    for row, gene in enumerate(perturbed_gene):
        if gene is not None:
            perturbed[row, column[gene]] = True
    if pseudocount is None:
        pseudocount = default_pseudocount(values)
    source = f"DREAM4 size{size} network {network} ({'+'.join(tables)}; {names} names)"
    return ExpressionData.from_array(
        values,
        genes=genes,
        samples=samples,
        perturbed=perturbed,
        perturbation=kinds,
        condition=conditions,
        transform=transform,
        pseudocount=pseudocount,
        source=source,
    )


def dream4_gold_standard(
    directory: str | os.PathLike[str], network: int, size: int = 100, multifactorial: bool = False
) -> Path:
    """Path of the gold standard of one DREAM4 network.

    Parameters
    ----------
    directory
        Folder holding the files (or a folder with a ``size{size}`` subfolder holding them).
    network
        Network number ``N``.
    size
        Network size ``S``.
    multifactorial
        ``False`` (default): ``DREAM4_GoldStandard_InSilico_Size{S}_{N}.tsv``, in the
        original gene names (data read with ``names="original"``). ``True``: the
        ``..._multifactorial_{N}.tsv`` file in the multifactorial table's renamed genes
        (data read with ``names="renamed"``).

    Returns
    -------
    pathlib.Path
        The existing gold-standard file (``regulator  target  0/1``, all ordered pairs); read
        it with :func:`bayesgrn.read_gold_standard` or pass it to :func:`bayesgrn.evaluate`.

    Raises
    ------
    BayesGRNInputError
        When the file does not exist (naming it and the expected layout).
    """
    _check_arguments(network, size, DREAM4_TABLES, "original")
    folder = _resolve_directory(Path(directory), network, size)
    middle = "_multifactorial" if multifactorial else ""
    path = folder / f"DREAM4_GoldStandard_InSilico_Size{size}{middle}_{network}.tsv"
    _require(path)
    return path


def default_pseudocount(values: np.ndarray) -> float:
    """Scale-free pseudocount: 1% of the largest value rounded up to a power of ten.

    Parameters
    ----------
    values
        The raw (untransformed) levels.

    Returns
    -------
    float
        ``0.01 * 10**ceil(log10(max(values)))``, e.g. 0.01 for levels in ``(0.1, 1]``;
        ``0.0`` when no value is positive (the log transform then reports the problem).
    """
    top = float(np.max(values))
    if not top > 0.0 or not np.isfinite(top):
        return 0.0
    return PSEUDOCOUNT_FRACTION * 10.0 ** float(np.ceil(np.log10(top)))


# ---------------------------------------------------------------------- helpers
def _check_arguments(
    network: int, size: int, tables: Sequence[str], names: str
) -> tuple[str, ...]:
    for what, value in (("network", network), ("size", size)):
        if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
            raise BayesGRNInputError(f"{what} must be a positive integer, got {value!r}")
    if isinstance(tables, str):
        tables = (tables,)
    tables = tuple(tables)
    unknown = [t for t in tables if t not in DREAM4_TABLES]
    if unknown or not tables:
        raise BayesGRNInputError(
            f"tables must be a non-empty selection of {', '.join(DREAM4_TABLES)}; got "
            f"{list(tables)}"
        )
    if names not in _NAMES:
        raise BayesGRNInputError(f"names must be 'original' or 'renamed', got {names!r}")
    return tuple(t for t in DREAM4_TABLES if t in tables)


def _resolve_directory(directory: Path, network: int, size: int) -> Path:
    if not directory.is_dir():
        raise BayesGRNInputError(
            f"DREAM4 folder {str(directory)!r} does not exist or is not a folder; {_LAYOUT}"
        )
    nested = directory / f"size{size}"
    probe = f"insilico_size{size}_{network}_"
    if nested.is_dir() and not any(p.name.startswith(probe) for p in directory.iterdir()):
        return nested
    return directory


def _require(path: Path) -> None:
    if not path.is_file():
        raise BayesGRNInputError(f"DREAM4 file {str(path)!r} is missing; {_LAYOUT}")


def _read_table(path: Path, canonical: list[str]) -> pd.DataFrame:
    """Read one quoted-header, tab-separated DREAM4 table (blank lines are skipped)."""
    _require(path)
    try:
        # index_col=False: a trailing tab on the data rows must not shift the columns
        frame = pd.read_csv(
            path, sep="\t", dtype=str, keep_default_na=False, quotechar='"', index_col=False
        )
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as err:
        raise BayesGRNInputError(f"{path}: cannot be read as a DREAM4 table: {err}") from None
    frame.columns = [str(c).strip().strip('"') for c in frame.columns]
    # a trailing tab on the header line gives an unnamed, empty last column
    empty = [
        c for c in frame.columns if c.startswith("Unnamed:") and not frame[c].str.strip().any()
    ]
    frame = frame.drop(columns=empty)
    if sorted(frame.columns) != sorted(canonical) or len(frame.columns) != len(canonical):
        odd = [c for c in frame.columns if c not in set(canonical)]
        lacking = [g for g in canonical if g not in set(frame.columns)]
        raise BayesGRNInputError(
            f"{path}: the header must name the genes G1..G{len(canonical)} once each; "
            f"unexpected {odd[:5]}, missing {lacking[:5]}"
        )
    if frame.shape[0] == 0:
        raise BayesGRNInputError(f"{path}: the table has a header but no data rows")
    numbers = frame.apply(lambda col: pd.to_numeric(col.str.strip(), errors="coerce"))
    bad = ~np.isfinite(numbers.to_numpy(dtype=np.float64))
    if bad.any():
        r, c = np.argwhere(bad)[0]
        raise BayesGRNInputError(
            f"{path}: data row {r + 1}, gene {frame.columns[c]!r} holds "
            f"{frame.iat[r, c]!r}, not a finite number"
        )
    return numbers.astype(np.float64)


def _read_rename_map(folder: Path, network: int, size: int) -> dict[str, str]:
    path = folder / f"insilico_size{size}_multifactorial_{network}_goldstandard_ref.tsv"
    _require(path)
    try:
        frame = pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False, quotechar='"')
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as err:
        raise BayesGRNInputError(f"{path}: cannot be read as a rename map: {err}") from None
    frame.columns = [str(c).strip().strip('"') for c in frame.columns]
    if not {"New", "Old"} <= set(frame.columns):
        raise BayesGRNInputError(
            f"{path}: needs the columns 'New' and 'Old' (renamed -> original gene name); its "
            f"header is {list(frame.columns)}"
        )
    new = frame["New"].str.strip().tolist()
    old = frame["Old"].str.strip().tolist()
    canonical = {f"G{i + 1}" for i in range(size)}
    if set(new) != canonical or set(old) != canonical or len(new) != size:
        raise BayesGRNInputError(
            f"{path}: 'New' and 'Old' must each list the genes G1..G{size} exactly once (a "
            "permutation)"
        )
    return dict(zip(new, old, strict=True))
