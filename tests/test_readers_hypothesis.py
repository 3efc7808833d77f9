"""Property-based tests of the file readers: random tables, random dialects, injected defects.

Each test generates a known table (names and values), writes it in a random dialect --
separator, quoting, UTF-8 BOM, CRLF/CR line endings, blank and comment lines, trailing
separators, with or without a final newline, gzip/bz2/xz -- and possibly injects one defect
(missing or non-numeric cells, ragged rows, duplicated/empty names, constant genes, huge
values, bad bytes, ...). The property: a valid file reads back exactly what was written; a
defective one raises a bayesgrn input error whose message names the file and the place (line,
sample/gene name) of the defect. Any other exception fails the test.

The oracle for each reader is written from its documented rules, case by case; where a
format is genuinely ambiguous (e.g. which of two rows of different width is the ragged one)
the oracle says so and accepts either answer.
"""

from __future__ import annotations

import bz2
import gzip
import lzma
import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from bayesgrn.cli import CLIError, read_design
from bayesgrn.data import BayesGRNInputError
from bayesgrn.io import _is_number, read_expression, read_regulators
from bayesgrn.knowledge import read_edge_list
from bayesgrn.metrics import read_gold_standard

EXAMPLES = 500

PROPERTY = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,  # the same examples on every run: CI is reproducible
    database=None,
    # generating a table takes a few ms; a loaded CI runner must not turn that into a failure
    suppress_health_check=[HealthCheck.too_slow],
)

BAD_BYTE = "\udce9"  # written as the single byte 0xe9 (latin-1 "é"): not UTF-8


# ====================================================================== writing files
@dataclass(frozen=True)
class Dialect:
    """How a table is written: everything a reader must see through."""

    sep: str
    quote: bool
    bom: bool
    eol: str
    final_eol: bool
    compression: str
    trailing_sep: bool
    blank_lines: tuple[tuple[int, str], ...]  # (before row k, content)

    @property
    def whitespace(self) -> bool:
        """Whether fields are separated by runs of spaces (no empty cells possible)."""
        return self.sep.strip(" ") == ""

    def q(self, name: str) -> str:
        """A name, quoted when the dialect quotes names."""
        return f'"{name}"' if self.quote else name


def dialects(seps: tuple[str, ...] = ("\t", ",", ", ", ";", " ", "   ", "\t ")) -> Any:
    """Strategy of dialects over the given separators."""
    return st.builds(
        Dialect,
        sep=st.sampled_from(seps),
        quote=st.booleans(),
        bom=st.booleans(),
        eol=st.sampled_from(["\n", "\r\n", "\r"]),
        final_eol=st.booleans(),
        compression=st.sampled_from(["none", "none", "gzip", "bz2", "xz"]),
        trailing_sep=st.booleans(),
        blank_lines=st.lists(
            st.tuples(st.integers(0, 8), st.sampled_from(["", "  ", "\t", ",,", ";;"])),
            max_size=2,
        ).map(tuple),
    )


def render(
    rows: list[list[str]], d: Dialect, *, comments: tuple[int, ...] = ()
) -> tuple[bytes, list[int]]:
    """Write ``rows`` (cells already quoted) in dialect ``d``: the bytes and each row's line."""
    lines: list[str] = []
    numbers: list[int] = []
    # a line of separators is blank only where the separator shows in the other lines
    seps_visible = all(len(cells) > 1 for cells in rows)
    for k, cells in enumerate(rows):
        for before, blank in d.blank_lines:
            if before == k and blank.strip(d.sep + " \t") == "":
                if seps_visible or not blank.strip():
                    lines.append(blank)
        if k in comments:
            lines.append("# a comment, with; separators\tin it")
        numbers.append(len(lines) + 1)
        lines.append(d.sep.join(cells + ([""] if d.trailing_sep else [])))
    text = d.eol.join(lines) + (d.eol if d.final_eol else "")
    if d.bom:
        text = "\ufeff" + text
    return compress(text.encode("utf-8", errors="surrogateescape"), d.compression), numbers


def compress(data: bytes, how: str) -> bytes:
    """``data`` compressed with ``how`` (``none``, ``gzip``, ``bz2`` or ``xz``)."""
    return {
        "none": lambda b: b,
        "gzip": gzip.compress,
        "bz2": bz2.compress,
        "xz": lzma.compress,
    }[how](data)


SUFFIXES = (".tsv", ".csv", ".txt", ".tsv.gz", ".dat")


def empty_content(draw: st.DrawFn, d: Dialect, blanks: tuple[str, ...]) -> bytes:
    """An empty file (or one of blank lines) in dialect ``d``'s BOM and compression."""
    text = draw(st.sampled_from(blanks))
    return compress((("\ufeff" if d.bom else "") + text).encode(), d.compression)


def write_file(directory: str, content: bytes, suffix: str = ".tsv") -> Path:
    """Write ``content`` to a fresh file in ``directory``."""
    path = Path(directory) / f"table{suffix}"
    path.write_bytes(content)
    return path


# ====================================================================== expected errors
@dataclass(frozen=True)
class Fails:
    """The reader must raise, naming the file, all ``fragments`` and one of ``lines``."""

    fragments: tuple[str, ...] = ()
    lines: tuple[int, ...] = ()


def check_raises(
    read: Callable[[], Any], path: Path, fails: Fails, errors: tuple[type[Exception], ...]
) -> None:
    """``read()`` raises one of ``errors`` with a message that names the file and place."""
    event("raises")
    with pytest.raises(errors) as info:
        read()
    assert type(info.value) in errors, f"{type(info.value).__name__}: {info.value}"
    msg = str(info.value)
    assert str(path) in msg, f"the message does not name the file: {msg}"
    for fragment in fails.fragments:
        assert fragment in msg, f"{fragment!r} not in: {msg}"
    if fails.lines:
        assert any(re.search(rf"\bline {n}\b", msg) for n in fails.lines), (
            f"none of lines {fails.lines} in: {msg}"
        )


# ====================================================================== names
GENE_PREFIXES = ("G", "gene", "Tf_", "ENSG0000", "β-", "Gène.", "g-")
SAMPLE_PREFIXES = ("S", "sample_", "ko.", "Échantillon")
TRICKY_TEXT = ("NA", "TRUE", "-", "null", "N/A", "none", "Missing")  # text, some "missing"
TRICKY_NUMBERS = ("nan", "inf", "1e5", "1.5", "0", "Inf", "-3")  # names that parse as numbers


@st.composite
def name_lists(
    draw: st.DrawFn, n: int, kind: str, *, tricky: bool = True
) -> tuple[list[str], str]:
    """``n`` distinct names and their style (``plain``, ``numeric`` or ``tricky``)."""
    styles = ["plain", "numeric"] + (["tricky"] if tricky else [])
    style = draw(st.sampled_from(styles))
    if style == "plain":
        prefix = draw(st.sampled_from(GENE_PREFIXES if kind == "gene" else SAMPLE_PREFIXES))
        ids = draw(st.lists(st.integers(1, 99), min_size=n, max_size=n, unique=True))
        return [f"{prefix}{i}" for i in ids], style
    if style == "numeric":
        low, high = (1, 999) if kind == "gene" else (1000, 99999)
        ids = draw(st.lists(st.integers(low, high), min_size=n, max_size=n, unique=True))
        return [str(i) for i in ids], style
    # at least two text names, so a header of them is never mistaken for numbers
    text = draw(st.lists(st.sampled_from(TRICKY_TEXT), min_size=2, max_size=2, unique=True))
    numbers = draw(
        st.lists(st.sampled_from(TRICKY_NUMBERS), min_size=n - 2, max_size=n - 2, unique=True)
    )
    return draw(st.permutations(text + numbers)), style


# ====================================================================== read_expression
VALUES = st.one_of(
    st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False),
    st.integers(-1000, 1000).map(float),
    st.sampled_from([0.0, -0.0, 1e300, -1e300, 1e308, -1e308, 1e-300, 5e-324, 123456789.0]),
)
MISSING = ("", "NA", "nan", "NaN", "null", "N/A", "#N/A")
INFINITE = ("inf", "-inf", "Infinity", "1e999", "-1E400")
TEXT = ("abc", "1.2.3", "1_000", "--", "x1", "TRUE", "0x10", "1,5")
ROW_LABELS = ("", "sample", "Gene", "ID_REF", "id", "gene_id", "SAMPLES")
EXPRESSION_DEFECTS = (
    "none", "none", "none", "missing", "infinite", "text", "short_row", "long_row",
    "dup_gene", "dup_sample", "constant", "few_samples", "empty", "header_only",
    "bad_byte", "nul", "open_quote", "empty_name", "unknown_regulator",
)  # fmt: skip


@dataclass
class ExpressionCase:
    """A generated expression file, the reader's arguments and the expected outcome."""

    content: bytes
    suffix: str
    kwargs: dict[str, Any]
    expected: Fails | tuple[list[str], list[str], np.ndarray, list[str]]
    defect: str


def fmt(value: float, decimal: str) -> str:
    """A value as the writer puts it: ``repr`` round-trips exactly."""
    text = repr(float(value))
    return text.replace(".", ",") if decimal == "," else text


@st.composite
def expression_cases(draw: st.DrawFn) -> ExpressionCase:
    d = draw(dialects())
    orientation = draw(st.sampled_from(["samples_by_genes", "genes_by_samples", "auto"]))
    by_genes = orientation == "genes_by_samples" or (orientation == "auto" and draw(st.booleans()))
    defect = draw(st.sampled_from(EXPRESSION_DEFECTS))
    n_genes = draw(st.integers(2, 5))
    n_samples = draw(st.integers(1, 2)) if defect == "few_samples" else draw(st.integers(3, 6))
    if defect == "few_samples":
        orientation, by_genes = "samples_by_genes", False
    genes, gene_style = draw(name_lists(n_genes, "gene"))
    samples, sample_style = draw(name_lists(n_samples, "sample", tricky=False))

    # which names the file carries, and how the row-name column is marked
    header = True if orientation == "auto" and not by_genes else draw(st.booleans())
    has_row_names = True if orientation == "auto" and by_genes else draw(st.booleans())
    if defect == "header_only":
        header = True
    row_entities, col_entities = (genes, samples) if by_genes else (samples, genes)
    row_style = gene_style if by_genes else sample_style
    corner = draw(st.sampled_from((*ROW_LABELS, None, "Condition"))) if has_row_names else None
    if d.whitespace and corner == "":
        corner = None  # an empty corner cannot be written with whitespace separators
    # the reader detects row names from a label corner, an R-style header or all-text names
    detectable = header and (corner is None or corner.lower() in {"", *map(str.lower, ROW_LABELS)})
    detectable = detectable or row_style == "plain"
    if has_row_names:
        row_names = draw(st.sampled_from([True, None])) if detectable else True
    else:
        row_names = draw(st.sampled_from([False, None]))

    # values: every gene varies, so only the injected defect makes one constant
    transform = draw(st.sampled_from([None, None, "log", "log1p"]))
    pseudocount = draw(st.sampled_from([1.0, 0.5, 0.0])) if transform == "log" else 1.0
    values = np.array(
        draw(st.lists(st.lists(VALUES, min_size=n_genes, max_size=n_genes),
                      min_size=n_samples, max_size=n_samples)), dtype=np.float64,
    )  # fmt: skip
    if transform is not None:
        values = np.abs(values)
    if n_samples >= 2:
        for j in range(n_genes):
            step = max(1.0, 0.01 * float(np.max(np.abs(values[:, j]))))
            values[0, j] = values[1, j] + step
    decimal = "," if d.sep not in (",", ", ") and draw(st.integers(0, 4)) == 0 else "."

    regulators: list[str] | None = None
    if orientation == "auto":  # every gene: a defect in one name leaves the others to decide
        regulators = draw(st.permutations(genes))
    elif draw(st.booleans()):
        regulators = draw(st.lists(st.sampled_from(genes), min_size=1, unique=True))
    drop_constant = draw(st.booleans())
    kwargs: dict[str, Any] = {
        "orientation": orientation, "header": header, "row_names": row_names,
        "regulators": regulators, "transform": transform, "pseudocount": pseudocount,
        "drop_constant": drop_constant, "decimal": decimal,
    }  # fmt: skip
    if decimal == "," or draw(st.booleans()):
        spelled = {"\t": ["\t", "tab", "\\t"], ",": [","], ", ": [","], ";": [";"],
                   " ": ["whitespace", r"\s+"], "   ": ["whitespace"], "\t ": ["\t"]}  # fmt: skip
        kwargs["sep"] = draw(st.sampled_from(spelled[d.sep]))

    # the grid in file orientation
    grid_values = values.T if by_genes else values
    cells = [[fmt(v, decimal) for v in row] for row in grid_values]
    row_names_out = list(row_entities)
    col_names_out = list(col_entities)
    expected_samples = list(samples)
    expected_genes = list(genes)
    if not header:
        default = [f"{'S' if by_genes else 'G'}{k + 1}" for k in range(len(col_entities))]
        (expected_samples if by_genes else expected_genes)[:] = default
    if not has_row_names:
        default = [f"{'G' if by_genes else 'S'}{k + 1}" for k in range(len(row_entities))]
        (expected_genes if by_genes else expected_samples)[:] = default

    def cell_of(i: int, j: int) -> tuple[int, int]:  # (sample, gene) -> (grid row, grid col)
        return (j, i) if by_genes else (i, j)

    fails: Fails | None = None
    defect_row: int | None = None  # grid row of the defect (-1: the header)
    fragments: tuple[str, ...] = ()
    i = draw(st.integers(0, n_samples - 1))
    j = draw(st.integers(0, n_genes - 1))
    if defect == "missing":
        token = draw(st.sampled_from(MISSING[1:] if d.whitespace else MISSING))
        r, c = cell_of(i, j)
        cells[r][c] = token
        defect_row, fragments = r, ("missing value",)
    elif defect == "infinite":
        r, c = cell_of(i, j)
        cells[r][c] = draw(st.sampled_from(INFINITE))
        defect_row, fragments = r, ("infinite value",)
    elif defect == "text":
        choices = [t for t in TEXT if not (t == "1,5" and (decimal == "," or "," in d.sep))]
        token = draw(st.sampled_from(choices))
        r, c = cell_of(i, j)
        cells[r][c] = token
        defect_row, fragments = r, (repr(token),)
    elif defect in ("short_row", "long_row") and (header or len(cells) > 1):
        r = draw(st.integers(0, len(cells) - 1))
        if defect == "short_row":
            cells[r] = cells[r][:-1]
        else:
            cells[r] = [*cells[r], fmt(1.5, decimal)]
        defect_row = r
    elif defect == "dup_gene" and (header if not by_genes else has_row_names):
        a, b = draw(st.lists(st.integers(0, n_genes - 1), min_size=2, max_size=2, unique=True))
        genes = list(genes)
        genes[b] = genes[a]
        (row_names_out if by_genes else col_names_out)[b] = genes[a]
        fails = Fails(("duplicate gene", repr(genes[a])))
        if orientation == "auto":
            kwargs["regulators"] = [genes[a]]
    elif defect == "dup_sample" and (header if by_genes else has_row_names):
        a, b = draw(st.lists(st.integers(0, n_samples - 1), min_size=2, max_size=2, unique=True))
        (col_names_out if by_genes else row_names_out)[b] = samples[a]
        fails = Fails(("duplicate sample", repr(samples[a])))
    elif defect == "constant":
        level = draw(st.sampled_from([0.0, 5.0, 1e300]))
        values[:, j] = level
        for s in range(n_samples):
            r, c = cell_of(s, j)
            cells[r][c] = fmt(level, decimal)
    elif defect == "empty_name" and not d.whitespace and (header or has_row_names):
        if header and (not has_row_names or draw(st.booleans())):
            # an empty first name without a corner cell would read as an empty corner
            first = 0 if has_row_names and corner is None else 1
            col_names_out[draw(st.integers(first, len(col_names_out) - 1))] = ""
            fails = Fails(("empty", "column"))
        else:
            r = draw(st.integers(0, len(row_names_out) - 1))
            row_names_out[r] = ""
            defect_row = r
    elif defect == "bad_byte":
        names_out = col_names_out if header and draw(st.booleans()) else None
        if names_out is not None:
            k = draw(st.integers(0, len(names_out) - 1))
            names_out[k] = names_out[k] + BAD_BYTE
            defect_row = -1
        else:
            r = draw(st.integers(0, len(cells) - 1))
            cells[r][-1] = cells[r][-1] + BAD_BYTE
            defect_row = r
        fragments = ("not UTF-8",)
    elif defect == "nul":
        r = draw(st.integers(0, len(cells) - 1))
        cells[r][0] = cells[r][0] + "\x00"
        defect_row, fragments = r, ("NUL",)
    elif defect == "open_quote" and (header or has_row_names):
        if header and (not has_row_names or draw(st.booleans())):
            k = draw(st.integers(0, len(col_names_out) - 1))
            col_names_out[k] = '"' + col_names_out[k]
            defect_row = -1
        else:
            r = draw(st.integers(0, len(row_names_out) - 1))
            row_names_out[r] = '"' + row_names_out[r]
            defect_row = r
    elif defect == "unknown_regulator" and orientation != "auto":
        regulators = [*(regulators or []), "NOT_A_GENE"]
        kwargs["regulators"] = regulators
    elif defect not in ("few_samples", "empty", "header_only"):
        defect = "none"

    # render
    rows: list[list[str]] = []
    if header:
        head = [d.q(n) if not n.startswith('"') else n for n in col_names_out]
        if has_row_names and corner is not None:
            head = [d.q(corner) if corner else corner, *head]
        rows.append(head)
    for r, row in enumerate(cells):
        name = row_names_out[r]
        quoted = d.q(name) if name and not name.startswith('"') else name
        rows.append(([quoted] if has_row_names else []) + row)
    if defect == "header_only":
        rows = rows[:1]
    content, numbers = render(rows, d)
    header_line = numbers[0] if header else None
    data_lines = numbers[1:] if header else numbers
    if defect == "empty":
        content = empty_content(draw, d, ("", "\n", "  \n\n", "\r\n"))

    # the expected outcome: the file's own defect, else what from_array makes of the table
    expected: Fails | tuple[list[str], list[str], np.ndarray, list[str]]
    if defect == "empty":
        expected = Fails(("empty",))
    elif defect == "header_only":
        expected = Fails(("no data rows",), (header_line,))
    elif defect_row is not None:
        lines = (header_line if defect_row == -1 else data_lines[defect_row],)
        if defect in ("short_row", "long_row") and len(data_lines) == 2:
            lines = tuple(data_lines)  # two rows of different width: either may be the odd one
        expected = Fails(fragments, lines)
    elif fails is not None:
        expected = fails
    elif n_samples < 3:
        expected = Fails((f"only {n_samples} sample(s)",))
    else:
        expected = simulate_from_array(
            values, expected_genes, expected_samples, regulators, transform, pseudocount,
            drop_constant,
        )  # fmt: skip
    return ExpressionCase(content, draw(st.sampled_from(SUFFIXES)), kwargs, expected, defect)


def simulate_from_array(
    values: np.ndarray,
    genes: list[str],
    samples: list[str],
    regulators: list[str] | None,
    transform: str | None,
    pseudocount: float,
    drop_constant: bool,
) -> Fails | tuple[list[str], list[str], np.ndarray, list[str]]:
    """What ``ExpressionData.from_array`` documents for a clean table."""
    offset = pseudocount if transform == "log" else 1.0
    if transform is not None:
        low = values + offset <= 0
        if low.any():
            r, c = np.argwhere(low)[0]
            return Fails(("cannot take the log", f"sample {samples[r]!r}, gene {genes[c]!r}"))
        values = np.log(values + offset)
    constant = [g for g, col in zip(genes, values.T, strict=True) if np.all(col == col[0])]
    if constant:
        if not drop_constant:
            return Fails(("constant", repr(constant[0])))
        keep = [k for k, g in enumerate(genes) if g not in constant]
        values, genes = values[:, keep], [genes[k] for k in keep]
        if regulators is not None:
            regulators = [r for r in regulators if r not in constant]
            if not regulators:
                return Fails(("every regulator was dropped",))
    unknown = [r for r in regulators or [] if r not in genes]
    if unknown:
        return Fails((repr(unknown[0]), "not genes of"))
    if len(genes) < 2:
        return Fails(("at least 2 genes",))
    regs = list(genes) if regulators is None else [g for g in genes if g in set(regulators)]
    return genes, samples, values, regs


@PROPERTY
@given(case=expression_cases())
def test_read_expression_round_trips_or_names_the_defect(case: ExpressionCase) -> None:
    event(f"defect: {case.defect}")
    with tempfile.TemporaryDirectory() as tmp:
        path = write_file(tmp, case.content, case.suffix)
        read = lambda: read_expression(path, **case.kwargs)  # noqa: E731
        if isinstance(case.expected, Fails):
            check_raises(read, path, case.expected, (BayesGRNInputError,))
            return
        data = read()
    genes, samples, values, regulators = case.expected
    assert list(data.genes) == genes
    assert list(data.samples) == samples
    np.testing.assert_array_equal(data.values, values)
    assert list(data.regulators) == regulators
    assert np.isfinite(data.center).all()
    assert np.isfinite(data.scale).all()
    assert (data.scale > 0).all()


# ====================================================================== read_regulators
@dataclass
class RegulatorCase:
    """A generated regulator file and its expected outcome."""

    content: bytes
    expected: Fails | list[str]
    defect: str


@st.composite
def regulator_cases(draw: st.DrawFn) -> RegulatorCase:
    d = draw(dialects(("\t", ",", ";", " ", "  ")))
    pool, _ = draw(name_lists(6, "gene"))
    names = draw(st.lists(st.sampled_from(pool), min_size=1, max_size=8))
    extras = [draw(st.sampled_from([[], [], ["a description"], ["TF", "family 2"]]))
              for _ in names]  # fmt: skip
    comments = tuple(draw(st.lists(st.integers(0, len(names)), max_size=2)))
    rows = [[d.q(n), *extra] for n, extra in zip(names, extras, strict=True)]
    defect = draw(st.sampled_from(["none", "none", "empty", "comments_only", "empty_name",
                                   "bad_byte"]))  # fmt: skip
    expected: Fails | list[str] = list(dict.fromkeys(names))
    if defect == "empty_name":
        k = draw(st.integers(0, len(rows) - 1))
        rows[k][0] = '""'
    if defect == "bad_byte":
        k = draw(st.integers(0, len(rows) - 1))
        rows[k][0] = rows[k][0] + BAD_BYTE
    content, numbers = render(rows, d, comments=comments)
    if defect in ("empty", "comments_only"):
        blanks = ("", "\n\n", "  \r\n") if defect == "empty" else ("# TFs\n\n#none yet\n",)
        content = empty_content(draw, d, blanks)
        expected = Fails(("lists no names",))
    elif defect == "empty_name":
        expected = Fails(("empty",), (numbers[k],))
    elif defect == "bad_byte":
        expected = Fails(("not UTF-8",), (numbers[k],))
    elif len(names) == 1 and extras[0]:
        expected = Fails(("one regulator name per line",), (numbers[0],))
    return RegulatorCase(content, expected, defect)


@PROPERTY
@given(case=regulator_cases(), as_str=st.booleans())
def test_read_regulators_round_trips_or_names_the_defect(
    case: RegulatorCase, as_str: bool
) -> None:
    event(f"defect: {case.defect}")
    with tempfile.TemporaryDirectory() as tmp:
        path = write_file(tmp, case.content, ".txt")
        source = str(path) if as_str else path
        if isinstance(case.expected, Fails):
            check_raises(lambda: read_regulators(source), path, case.expected,
                         (BayesGRNInputError,))  # fmt: skip
            return
        assert read_regulators(source) == case.expected


# ====================================================================== edge lists
EDGE_NAMES = ("G1", "G2", "gene_3", "101", "7", "NA", "nan", "β-cat", "Tf.4", "null")
CONFIDENCES = ("1", "1.0", "0.5", ".25", "1e-3", "0.999", "5E-1", "1e-300")
BAD_CONFIDENCES = ("0", "1.5", "-0.5", "high", "nan", "NA", "inf", "1e999", "2")


@dataclass
class EdgeCase:
    """A generated edge-list file, the reader's arguments and the expected table."""

    content: bytes
    with_confidence: bool
    expected: Fails | dict[str, list[Any]]
    defect: str


@st.composite
def edge_cases(draw: st.DrawFn) -> EdgeCase:
    d = draw(dialects(("\t", ",", ", ", ";", " ", "   ")))
    defect = draw(st.sampled_from(["none", "none", "none", "empty", "header_only",
                                   "single_column", "short_row", "long_row", "empty_name",
                                   "bad_confidence", "bad_byte", "open_quote"]))  # fmt: skip
    with_confidence = defect == "bad_confidence" or draw(st.booleans())
    pairs = draw(st.lists(st.tuples(st.sampled_from(EDGE_NAMES), st.sampled_from(EDGE_NAMES)),
                          min_size=1, max_size=6))  # fmt: skip
    conf_column = defect == "bad_confidence" or draw(st.booleans())
    confs = [draw(st.sampled_from(CONFIDENCES)) for _ in pairs]
    header = draw(
        st.sampled_from(
            [
                None,
                None,
                ("regulator", "target", "confidence"),
                ("TF", "Target", "Confidence"),
                ("source", "target", "score"),
            ]
        )
    )
    width = 3 if conf_column else 2
    rows = [
        [d.q(r), d.q(t), *([c] if conf_column else [])]
        for (r, t), c in zip(pairs, confs, strict=True)
    ]
    head = [d.q(h) for h in header[:width]] if header else None
    comments = tuple(draw(st.lists(st.integers(0, len(rows)), max_size=2)))
    k = draw(st.integers(0, len(rows) - 1))
    expected: Fails | dict[str, list[Any]] = {
        "regulator": [r for r, _ in pairs], "target": [t for _, t in pairs],
    }  # fmt: skip
    if with_confidence:
        expected["confidence"] = [float(c) if conf_column else 1.0 for c in confs]
    fragments: tuple[str, ...] = ()
    if defect == "single_column":
        rows = [row[:1] for row in rows]
        head = head[:1] if head else None
        fragments = ("regulator, target",)
        k = 0
    elif defect == "short_row" and (head or len(rows) > 1) and not d.trailing_sep:
        rows[k] = rows[k][:-1]  # (with trailing separators it would read as an empty last cell)
    elif defect == "long_row" and (
        head or len(rows) > 2 or (len(rows) > 1 and not d.trailing_sep)
    ):
        # (two header-less rows with trailing separators: the short one has an empty cell)
        rows[k] = [*rows[k], "0.5"]
    elif defect == "empty_name" and not d.whitespace:
        rows[k][draw(st.integers(0, 1))] = ""
    elif defect == "bad_confidence" and with_confidence and conf_column:
        token = draw(st.sampled_from(BAD_CONFIDENCES))
        rows[k][2] = token
        fragments = ("confidence", repr(token))
    elif defect == "bad_byte":
        rows[k][1] = rows[k][1] + BAD_BYTE
        fragments = ("not UTF-8",)
    elif defect == "open_quote":
        c = draw(st.integers(0, 1))  # in the last field, the quote runs to the end of the line
        rows[k][c] = '"' + rows[k][c].strip('"')
    elif defect not in ("empty", "header_only"):
        defect = "none"
    if defect == "header_only":
        if head is None:
            head = [d.q(h) for h in ("regulator", "target", "confidence")[:width]]
        rows = []
    all_rows = ([head] if head else []) + rows
    content, numbers = render(all_rows, d, comments=comments)
    data_lines = numbers[1:] if head else numbers
    if defect == "empty":
        content = empty_content(draw, d, ("", "\n\n", "# nothing here\n", "  \r\n"))
        expected = Fails(("no edges",))
    elif defect == "header_only":
        expected = Fails(("no edges",))
    elif defect == "single_column":
        expected = Fails(fragments, (numbers[0],))
    elif defect in ("short_row", "long_row"):
        lines = (data_lines[k],)
        if not head and len(rows) <= 2:
            lines = tuple(data_lines)  # two rows of different width: either may be the odd one
        expected = Fails(fragments, lines)
    elif defect != "none":
        expected = Fails(fragments, (data_lines[k],))
    return EdgeCase(content, with_confidence, expected, defect)


@PROPERTY
@given(case=edge_cases())
def test_read_edge_list_round_trips_or_names_the_defect(case: EdgeCase) -> None:
    event(f"defect: {case.defect}")
    what = "known edges" if case.with_confidence else "forbidden edges"
    with tempfile.TemporaryDirectory() as tmp:
        path = write_file(tmp, case.content)
        read = lambda: read_edge_list(path, what, with_confidence=case.with_confidence)  # noqa: E731
        if isinstance(case.expected, Fails):
            check_raises(read, path, case.expected, (BayesGRNInputError,))
            return
        edges = read()
    assert list(edges.columns) == list(case.expected)
    for column, values in case.expected.items():
        assert edges[column].tolist() == values, column


# ====================================================================== gold standards
@dataclass
class GoldCase:
    """A generated gold-standard file and the expected ``regulator, target, label``."""

    content: bytes
    expected: Fails | dict[str, list[Any]]
    defect: str


@st.composite
def gold_cases(draw: st.DrawFn) -> GoldCase:
    d = draw(dialects(("\t", ",", ";", " ", "  ")))
    layout = draw(st.sampled_from(["dream", "positives", "weight", "label"]))
    pairs = draw(st.lists(st.tuples(st.sampled_from(EDGE_NAMES), st.sampled_from(EDGE_NAMES)),
                          min_size=1, max_size=6))  # fmt: skip
    labels = [draw(st.sampled_from([0, 1])) for _ in pairs]
    head: list[str] | None = None
    rows: list[list[str]] = []
    col = 2
    for (r, t), y in zip(pairs, labels, strict=True):
        if layout == "dream":
            rows.append(
                [d.q(r), d.q(t), draw(st.sampled_from(["0", "0.0"] if y == 0 else ["1", "1.0"]))]
            )
        elif layout == "positives":
            rows.append([d.q(r), d.q(t)])
        elif layout == "weight":
            w = 0.0 if y == 0 else draw(st.sampled_from([0.5, -1.25, 1e300, 3.0]))
            rows.append([d.q(r), d.q(t), repr(w)])
        else:
            rows.append([d.q(r), d.q(t), str(draw(st.integers(1, 99))), str(y)])
    if layout == "positives":
        labels = [1] * len(pairs)
    if layout == "weight":
        head = [d.q(h) for h in draw(st.sampled_from([("regulator", "target", "weight"),
                                                      ("TF", "target", "Weight")]))]  # fmt: skip
    elif layout == "label":
        head = [d.q(h) for h in ("regulator", "target", "score", "label")]
        col = 3
    elif draw(st.booleans()) and layout == "dream":
        head = [d.q(h) for h in ("source", "target", "label")]
    defect = draw(st.sampled_from(["none", "none", "none", "empty", "header_only",
                                   "single_column", "short_row", "long_row", "empty_name",
                                   "bad_label", "bad_byte"]))  # fmt: skip
    k = draw(st.integers(0, len(rows) - 1))
    expected: Fails | dict[str, list[Any]] = {
        "regulator": [r for r, _ in pairs], "target": [t for _, t in pairs], "label": labels,
    }  # fmt: skip
    fragments: tuple[str, ...] = ()
    if defect == "header_only" and head is None:
        defect = "none"
    elif defect == "single_column" and head is None:
        rows = [row[:1] for row in rows]
        k = 0
    elif defect == "short_row" and (head or len(rows) > 1):
        rows[k] = rows[k][:-1]
    elif defect == "long_row" and (head or len(rows) > 1):
        rows[k] = [*rows[k], "1"]
    elif defect == "empty_name" and not d.whitespace:
        rows[k][draw(st.integers(0, 1))] = ""
    elif defect == "bad_label" and layout != "positives":
        tokens = ["2", "yes", "-1", "0.5", "NA", "abc", "nan", "inf"]
        if head and not d.whitespace:  # an empty last cell needs a header to fix the width
            tokens += ["", "x"]
        token = draw(st.sampled_from(tokens))
        if layout == "weight" and _is_number(token, ".") and token.lower() != "nan":
            token = "abc"
        rows[k][col] = token
        fragments = (repr(token),) if layout != "weight" else ("weight",)
    elif defect == "bad_byte":
        rows[k][0] = rows[k][0] + BAD_BYTE
        fragments = ("not UTF-8",)
    elif defect not in ("empty", "header_only"):
        defect = "none"
    if defect == "header_only":
        rows = []
    content, numbers = render(([head] if head else []) + rows, d)
    data_lines = numbers[1:] if head else numbers
    if defect == "empty":
        content = empty_content(draw, d, ("", "\n\n", "  \r\n"))
        expected = Fails(("no edges",))
    elif defect == "header_only":
        expected = Fails(("no edges",))
    elif defect in ("short_row", "long_row"):
        lines = (data_lines[k],)
        if not head and len(rows) <= 2:
            lines = tuple(data_lines)
        expected = Fails(fragments, lines)
    elif defect != "none":
        expected = Fails(fragments, (data_lines[k],))
    return GoldCase(content, expected, defect)


@PROPERTY
@given(case=gold_cases())
def test_read_gold_standard_round_trips_or_names_the_defect(case: GoldCase) -> None:
    event(f"defect: {case.defect}")
    with tempfile.TemporaryDirectory() as tmp:
        path = write_file(tmp, case.content, ".tsv")
        if isinstance(case.expected, Fails):
            check_raises(lambda: read_gold_standard(path), path, case.expected,
                         (BayesGRNInputError,))  # fmt: skip
            return
        gold = read_gold_standard(path)
    assert list(gold.columns) == ["regulator", "target", "label"]
    for column, values in case.expected.items():
        assert gold[column].tolist() == values, column


# ====================================================================== design tables
KINDS = ("none", "knockout", "knockdown", "overexpression", "")


@dataclass
class DesignCase:
    """A generated design file, the expression names it refers to, and the expected design."""

    content: bytes
    samples: list[str]
    genes: list[str]
    expected: Fails | tuple[np.ndarray, list[str]]
    defect: str


@st.composite
def design_cases(draw: st.DrawFn) -> DesignCase:
    d = draw(dialects(("\t", ",", ", ")))
    n_samples, n_genes = draw(st.integers(3, 6)), draw(st.integers(2, 5))
    samples, _ = draw(name_lists(n_samples, "sample"))
    genes, _ = draw(name_lists(n_genes, "gene"))
    listed = draw(st.lists(st.integers(0, n_samples - 1), unique=True, max_size=n_samples))
    columns = draw(st.permutations(["sample", "perturbation", "perturbed_gene"]))
    if draw(st.booleans()):
        columns = [*columns, "note"]
    mask = np.zeros((n_samples, n_genes), dtype=bool)
    kinds = ["none"] * n_samples
    records: list[dict[str, str]] = []
    for s in listed:
        kind = draw(st.sampled_from(KINDS))
        targets = (
            []
            if kind in ("none", "") and draw(st.booleans())
            else draw(st.lists(st.integers(0, n_genes - 1), min_size=1, max_size=2, unique=True))
        )
        if kind == "none":
            targets = []
        mask[s, targets] = True
        kinds[s] = kind or ("knockout" if targets else "none")
        joiner = draw(st.sampled_from([";", "; ", " ;"]))
        spelled = draw(st.sampled_from([kind, kind.upper(), kind.capitalize(), f" {kind} "]))
        records.append({"sample": samples[s], "perturbation": spelled,
                        "perturbed_gene": joiner.join(genes[g] for g in targets),
                        "note": "a note"})  # fmt: skip
    defect = draw(st.sampled_from(["none", "none", "none", "empty", "unknown_sample",
                                   "dup_sample", "unknown_gene", "unknown_kind", "none_with_gene",
                                   "kind_without_gene", "missing_column", "short_row",
                                   "long_row", "bad_byte"]))  # fmt: skip
    expected: Fails | tuple[np.ndarray, list[str]] = (mask, kinds)
    k = draw(st.integers(0, len(records) - 1)) if records else None
    if k is None and defect not in ("empty", "missing_column", "unknown_sample"):
        defect = "none"
    fragments: tuple[str, ...] = ()
    with_line = True
    if defect == "unknown_sample":
        records.append({"sample": "NOT_A_SAMPLE", "perturbation": "none", "perturbed_gene": "",
                        "note": ""})  # fmt: skip
        k = len(records) - 1
        fragments = ("'NOT_A_SAMPLE'",)
    elif defect == "dup_sample":
        records.append(dict(records[k]))
        fragments = (repr(records[k]["sample"]), "more than once")
        k = len(records) - 1
    elif defect == "unknown_gene":
        records[k]["perturbation"] = "knockout"
        records[k]["perturbed_gene"] = "NOT_A_GENE"
        fragments = ("'NOT_A_GENE'",)
    elif defect == "unknown_kind":
        records[k]["perturbation"] = "silencing"
        fragments = ("'silencing'",)
    elif defect == "none_with_gene":
        records[k]["perturbation"] = "none"
        records[k]["perturbed_gene"] = genes[0]
        fragments = ("'none'",)
    elif defect == "kind_without_gene":
        records[k]["perturbation"] = "knockdown"
        records[k]["perturbed_gene"] = ""
        fragments = ("'knockdown'",)
    elif defect == "missing_column":
        dropped = draw(st.sampled_from(["sample", "perturbation", "perturbed_gene"]))
        columns = [c for c in columns if c != dropped]
        fragments, with_line = (dropped,), False

    def cell(value: str) -> str:
        return d.q(value) if value.strip() else value

    rows = [[d.q(c) for c in columns]]
    rows += [[cell(rec[c]) for c in columns] for rec in records]
    if defect == "short_row" and not d.trailing_sep:
        rows[k + 1] = rows[k + 1][:-1]
    elif defect == "long_row":
        rows[k + 1] = [*rows[k + 1], "x"]
    elif defect == "bad_byte":
        rows[k + 1][0] = rows[k + 1][0] + BAD_BYTE
        fragments = ("not UTF-8",)
    content, numbers = render(rows, d)
    if defect == "empty":
        content = empty_content(draw, d, ("", "\n\n", "  \r\n"))
        expected = Fails(("empty",))
    elif defect == "short_row" and d.trailing_sep:
        pass  # with trailing separators a short row reads as an empty last cell: not a defect
    elif defect != "none":
        expected = Fails(fragments, (numbers[k + 1],) if with_line and k is not None else ())
    return DesignCase(content, samples, genes, expected, defect)


@PROPERTY
@given(case=design_cases())
def test_read_design_round_trips_or_names_the_defect(case: DesignCase) -> None:
    event(f"defect: {case.defect}")
    with tempfile.TemporaryDirectory() as tmp:
        path = write_file(
            tmp, case.content, ".tsv.gz" if case.content[:2] == b"\x1f\x8b" else ".tsv"
        )
        read = lambda: read_design(path, case.samples, case.genes, "expr.tsv")  # noqa: E731
        if isinstance(case.expected, Fails):
            check_raises(read, path, case.expected, (BayesGRNInputError, CLIError))
            return
        mask, kinds = read()
    expected_mask, expected_kinds = case.expected
    np.testing.assert_array_equal(mask, expected_mask)
    assert kinds == expected_kinds
