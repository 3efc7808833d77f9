"""Readers for expression tables and regulator lists; every error names the file and place.

The table reader is a small, strict, streaming parser (Python's :mod:`csv` for delimited
files, ``str.split`` for whitespace-separated ones) rather than :func:`pandas.read_csv`: it
has to report the *line* of a ragged row, keep numeric-looking gene names as strings,
recognise DREAM4-style files (quoted header of gene names, no sample-name column) and R-style
files (header one field shorter than the rows), and never pad a short row with NaN.
"""

from __future__ import annotations

import bz2
import csv
import gzip
import io
import itertools
import lzma
import os
import re
import zlib
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from bayesgrn.data import MIN_SAMPLES, BayesGRNInputError, ExpressionData

ORIENTATIONS = ("samples_by_genes", "genes_by_samples", "auto")

#: Cells read as "missing" (case-insensitive); they are reported as missing, not as text.
MISSING_TOKENS = frozenset({"", "na", "nan", "n/a", "#n/a", "null", "none", "missing"})

#: A first header cell with one of these (case-insensitive) names labels the row-name column.
ROW_LABEL_HEADERS = frozenset(
    {
        "sample", "samples", "sample_id", "sampleid", "sample_name", "samplename",
        "gene", "genes", "gene_id", "geneid", "gene_name", "gene_symbol", "symbol",
        "id", "id_ref", "name", "names", "rowname", "rownames", "row.names", "index",
        "probe", "probe_id", "probeset", "probeset_id", "feature", "feature_id",
    }
)  # fmt: skip

_WHITESPACE = "whitespace"
_SEP_ALIASES = {"\\t": "\t", "tab": "\t", r"\s+": _WHITESPACE, _WHITESPACE: _WHITESPACE}
_INTEGER = re.compile(r"[+-]?\d+")
_QUOTED_OR_WORD = re.compile(r'"([^"]*)"|(\S+)')
_LINE_END = re.compile(r"\r\n|\r|\n")
_LINE_END_BYTES = re.compile(rb"\r\n|\r|\n")
_SNIFF_LINES = 3
_COMMENT_LINE = re.compile(r"(?<![^\r\n])[ \t]*#[^\r\n]*")  # a line whose text starts with #


# ---------------------------------------------------------------------- raw text
def _read_text(path: Path, what: str = "file") -> str:
    """Read ``path`` as text: gzip/bz2/xz are decompressed, BOMs honoured, UTF-8 enforced."""
    if not path.exists():
        raise BayesGRNInputError(f"{what} {str(path)!r} does not exist; check the path")
    if path.is_dir():
        raise BayesGRNInputError(
            f"{what} {str(path)!r} is a directory; give the path of the file inside it"
        )
    try:
        raw = path.read_bytes()
    except OSError as err:
        raise BayesGRNInputError(f"{what} {str(path)!r} cannot be read: {err.strerror}") from None
    raw = _decompress(raw, path)
    return _decode(raw, path)


def _decompress(raw: bytes, path: Path) -> bytes:
    openers = (
        (b"\x1f\x8b", "gzip", gzip.decompress),
        (b"BZh", "bzip2", bz2.decompress),
        (b"\xfd7zXZ\x00", "xz", lzma.decompress),
    )
    for magic, kind, decompress in openers:
        if raw.startswith(magic):
            try:
                return decompress(raw)
            except (OSError, EOFError, ValueError, zlib.error, lzma.LZMAError) as err:
                raise BayesGRNInputError(
                    f"{path}: looks {kind}-compressed but cannot be decompressed ({err}); "
                    "the file may be truncated -- download or compress it again"
                ) from None
    if raw.startswith(b"PK\x03\x04"):
        raise BayesGRNInputError(
            f"{path}: is a zip archive or an Excel .xlsx workbook; unzip it, or export the "
            "sheet as CSV/TSV"
        )
    if raw.startswith(b"\xd0\xcf\x11\xe0"):
        raise BayesGRNInputError(f"{path}: is an Excel .xls workbook; export the sheet as CSV/TSV")
    return raw


def _decode(raw: bytes, path: Path) -> str:
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        encoding = "utf-16"
    else:
        # the BOM is dropped here, not by "utf-8-sig", whose error positions skip it
        encoding = "utf-8"
        raw = raw.removeprefix(b"\xef\xbb\xbf")
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError as err:
        line = len(_LINE_END_BYTES.findall(raw, 0, err.start)) + 1
        raise BayesGRNInputError(
            f"{path}: is not UTF-8 text (byte {raw[err.start]:#04x} at line {line}); save it as "
            "UTF-8 (e.g. `iconv -f latin1 -t utf-8 in.tsv > out.tsv`)"
        ) from None
    if "\x00" in text:
        line = len(_LINE_END.findall(text, 0, text.index("\x00"))) + 1
        raise BayesGRNInputError(
            f"{path}: contains NUL bytes (line {line}); it looks like a binary file, not a "
            "CSV/TSV table"
        )
    return text


# ---------------------------------------------------------------------- tokenising
def _normalise_sep(sep: str | None) -> str | None:
    if sep is None:
        return None
    sep = _SEP_ALIASES.get(sep, sep)
    if sep != _WHITESPACE and len(sep) != 1:
        raise BayesGRNInputError(
            f"sep={sep!r} is not supported; give one character (e.g. '\\t', ',', ';') or "
            "'whitespace' (any run of spaces/tabs), or leave it out to detect it"
        )
    return sep


def _sep_name(sep: str) -> str:
    names = {"\t": "tab", ",": "comma", ";": "semicolon", _WHITESPACE: "whitespace"}
    return names.get(sep, repr(sep))


def _sniff_separator(
    text: str, candidates: Sequence[str] = ("\t", ",", ";"), fallback: str = _WHITESPACE
) -> str:
    """Return the candidate that splits the most of the first non-blank lines (at least half).

    Ties go to the earlier candidate. Looking at a few lines, not only the first, keeps one
    short or ragged first line from deciding the separator of the whole file.
    """
    sample: list[str] = []
    for line in io.StringIO(text, newline=None):
        if line.strip():
            sample.append(line.rstrip("\n"))
            if len(sample) == _SNIFF_LINES:
                break
    splits = {
        sep: sum(len(next(csv.reader([line], delimiter=sep), [])) > 1 for line in sample)
        for sep in candidates
    }
    best = max(candidates, key=splits.__getitem__, default=None)
    if best is not None and sample and 2 * splits[best] >= len(sample):
        return best
    return fallback


def _unquote(token: str) -> str:
    if len(token) >= 2 and token[0] == token[-1] and token[0] in "\"'":
        return token[1:-1].strip()
    return token


def _records(text: str, sep: str, path: Path) -> Iterator[tuple[int, list[str]]]:
    """Yield ``(line_number, fields)`` for every non-blank row; fields are stripped."""
    if sep == _WHITESPACE:
        for number, line in enumerate(io.StringIO(text, newline=None), start=1):
            if '"' in line:  # quoted names may contain spaces
                fields = [q if q or not w else w for q, w in _QUOTED_OR_WORD.findall(line)]
                if any('"' in f for f in fields):
                    raise BayesGRNInputError(
                        f'{path}: line {number} has an unbalanced double quote ("); close or '
                        "remove the quote"
                    )
            else:
                fields = [_unquote(tok) for tok in line.split()]
            if fields:
                yield number, fields
        return
    if not text.endswith(("\n", "\r")):
        text += "\n"  # so that a quote left open on the last line shows as a line break
    reader = csv.reader(
        io.StringIO(text, newline=""), delimiter=sep, quotechar='"', skipinitialspace=True
    )
    start = 1
    try:
        for fields in reader:
            joined = "".join(fields)  # one scan per row for the rare quote problems
            if "\n" in joined or "\r" in joined:
                runs = (
                    f"runs on to line {reader.line_num}" if reader.line_num > start
                    else "is never closed"
                )  # fmt: skip
                raise BayesGRNInputError(
                    f'{path}: line {start} has an unbalanced double quote ("): the quoted field '
                    f"{runs}; close or remove the quote"
                )
            stripped = list(map(str.strip, fields))
            if '"' in joined and any('"' in f and sep in f for f in stripped):
                raise BayesGRNInputError(
                    f'{path}: line {start} has an unbalanced double quote ("): a quoted field '
                    f"swallowed the {_sep_name(sep)} after it; close or remove the quote"
                )
            if any(stripped):
                yield start, stripped
            start = reader.line_num + 1
    except csv.Error as err:
        raise BayesGRNInputError(
            f"{path}: line {reader.line_num} cannot be parsed ({err}); check the double "
            'quotes (") in that line'
        ) from None


# ---------------------------------------------------------------------- the table
@dataclass
class _Table:
    """A parsed table in file orientation; ``None`` names mean the file had none."""

    values: np.ndarray
    columns: list[str] | None
    rows: list[str] | None
    lines: list[int]
    col_offset: int
    bad_cells: list[tuple[int, int, str]]
    n_bad: int


def _parse_floats(fields: list[str], decimal: str) -> tuple[np.ndarray, list[int]]:
    """Fields as float64 (NaN where unparseable) and the indices that did not parse."""
    if decimal != ".":
        fields = [f.replace(decimal, ".") for f in fields]
    try:
        if "_" not in "".join(fields):  # float() would read "1_000" as 1000
            return np.array(list(map(float, fields)), dtype=np.float64), []
    except ValueError:
        pass
    out = np.empty(len(fields), dtype=np.float64)
    bad = []
    for j, field in enumerate(fields):
        try:
            if "_" in field:
                raise ValueError(field)
            out[j] = float(field)
        except ValueError:
            out[j] = np.nan
            bad.append(j)
    return out, bad


def _is_number(token: str, decimal: str) -> bool:
    if "_" in token:
        return False
    try:
        float(token.replace(decimal, ".") if decimal != "." else token)
    except ValueError:
        return False
    return True


def _parse_table(
    text: str,
    path: Path,
    sep: str | None,
    header: bool,
    row_names: bool | None,
    decimal: str,
    orientation: str,
) -> _Table:
    if not text.strip():
        raise BayesGRNInputError(
            f"{path}: the file is empty; expected a table of expression values"
        )
    sep = sep or _sniff_separator(text)
    records = _records(text, sep, path)
    head: list[str] | None = None
    header_line = None
    if header:
        first = next(records, None)
        if first is None:
            raise BayesGRNInputError(f"{path}: the file holds only empty fields; expected a table")
        header_line, head = first
        if len(head) > 1 and head[-1] == "":
            head = head[:-1]  # trailing separator
        _check_header(head, header_line, path, sep, decimal)

    first_col: list[str] = []
    rest: list[np.ndarray] = []
    lines: list[int] = []
    bad_cells: list[tuple[int, int, str]] = []
    n_bad = 0
    first_rows = list(itertools.islice(records, _SNIFF_LINES))
    width, r_style = (
        _layout(head, first_rows, header_line, path, sep) if first_rows else (0, False)
    )
    for number, fields in itertools.chain(first_rows, records):
        if len(fields) == width + 1 and fields[-1] == "":
            fields = fields[:-1]  # trailing separator
        if len(fields) != width:
            _ragged(path, number, len(fields), width, header_line, sep)
        values, bad = _parse_floats(fields[1:], decimal)
        if bad:
            n_bad += len(bad)
            bad_cells.extend((len(lines), j + 1, fields[j + 1]) for j in bad[:5])
        first_col.append(fields[0])
        rest.append(values)
        lines.append(number)
    if not lines:
        raise BayesGRNInputError(
            f"{path}: the table has a header (line {header_line}) but no data rows"
            if header
            else f"{path}: the table has no data rows"
        )

    has_row_names = _has_row_names(
        head, first_col, lines, r_style, row_names, orientation, path, decimal
    )
    if has_row_names:
        rows: list[str] | None = first_col
        matrix = np.vstack(rest) if width > 1 else np.empty((len(lines), 0))
        bad_cells = [(i, j - 1, v) for i, j, v in bad_cells]
        if head is None:
            columns = None
        else:
            columns = head if r_style else head[1:]
    else:
        rows = None
        first, bad_first = _parse_floats(first_col, decimal)
        n_bad += len(bad_first)
        bad_cells.extend((i, 0, first_col[i]) for i in bad_first[:5])
        matrix = np.column_stack([first, np.vstack(rest)]) if width > 1 else first[:, None]
        columns = head
    if columns is not None and len(columns) != matrix.shape[1]:  # pragma: no cover - layout bug
        raise BayesGRNInputError(f"{path}: header and rows disagree on the number of columns")
    offset = 1 if has_row_names and not r_style else 0
    return _Table(matrix, columns, rows, lines, offset, bad_cells, n_bad)


def _check_header(head: list[str], line: int, path: Path, sep: str, decimal: str) -> None:
    names = head[1:] if len(head) > 1 else head
    if len(head) == 1:
        raise BayesGRNInputError(
            f"{path}: line {line} (the header) has a single column {head[0]!r} when split on "
            f"{_sep_name(sep)}; pass sep= with the file's separator (tab, ',', ';' or "
            "'whitespace')"
        )
    empty = [j + 1 for j, name in enumerate(head) if name == "" and j > 0]
    if empty:
        raise BayesGRNInputError(
            f"{path}: the header (line {line}) has an empty name in column(s) {empty}; every "
            "gene/sample column needs a name"
        )
    if all(_is_number(name, decimal) for name in names) and not all(
        _INTEGER.fullmatch(name) for name in names
    ):
        shown = next(name for name in names if not _INTEGER.fullmatch(name))
        raise BayesGRNInputError(
            f"{path}: the first line (line {line}) holds numbers such as {shown!r}, not names: "
            "the file seems to have no header. Add a header line of gene names, or pass "
            "header=False to use default names (G1, G2, ... / S1, S2, ...)."
        )


def _layout(
    head: list[str] | None,
    first_rows: list[tuple[int, list[str]]],
    header_line: int | None,
    path: Path,
    sep: str,
) -> tuple[int, bool]:
    """Row width and whether the header lacks the row-name cell (R ``write.table`` style).

    Decided by the number of fields most of the first rows have (the first row on a tie), so
    that one ragged row among them is reported as such instead of setting the width.
    """
    counts = Counter(len(fields) for _, fields in first_rows)
    n = max(counts, key=counts.__getitem__)  # ties: the first row's count (insertion order)
    typical = [fields for _, fields in first_rows if len(fields) == n]
    trailing = n > 1 and all(fields[-1] == "" for fields in typical)
    if head is None:
        return (n - 1 if trailing else n), False
    h = len(head)
    if n == h or (n == h + 1 and trailing):
        return h, False
    if n == h + 1 or (n == h + 2 and trailing):
        return h + 1, True
    number, fields = first_rows[0]
    _ragged(path, number, len(fields), h, header_line, sep)
    raise AssertionError  # pragma: no cover


def _ragged(
    path: Path, number: int, got: int, width: int, header_line: int | None, sep: str
) -> None:
    origin = f"the header on line {header_line}" if header_line else "the first row"
    raise BayesGRNInputError(
        f"{path}: line {number} has {got} fields but {width} were expected (from {origin}); "
        f"every row needs one value per column. Look for a missing or extra value, or a "
        f"{_sep_name(sep)} inside a name; if the separator is not {_sep_name(sep)}, pass sep=."
    )


def _has_row_names(
    head: list[str] | None,
    first_col: list[str],
    lines: list[int],
    r_style: bool | None,
    row_names: bool | None,
    orientation: str,
    path: Path,
    decimal: str,
) -> bool:
    if r_style:
        if row_names is False:
            raise BayesGRNInputError(
                f"{path}: the data rows (from line {lines[0]}) have one field more than the "
                "header, so their first field must be a row name, but row_names=False was given"
            )
        return True
    if row_names is not None:
        return row_names
    if head is not None and (head[0] == "" or head[0].lower() in ROW_LABEL_HEADERS):
        return True
    kinds = [
        "missing"
        if c.lower() in MISSING_TOKENS
        else "number"
        if _is_number(c, decimal)
        else "text"
        for c in first_col
    ]
    if all(kind == "text" for kind in kinds):
        return True
    if "text" in kinds:
        i = kinds.index("text")
        k = next(k for k, kind in enumerate(kinds) if kind != "text")
        raise BayesGRNInputError(
            f"{path}: the first column mixes text ({first_col[i]!r} on line {lines[i]}) and "
            f"numbers ({first_col[k]!r} on line {lines[k]}). If it holds row names (sample or "
            "gene names), pass row_names=True; otherwise fix the non-numeric value."
        )
    if orientation == "genes_by_samples" and len(set(first_col)) == len(first_col):
        if all(_INTEGER.fullmatch(c) for c in first_col):
            raise BayesGRNInputError(
                f"{path}: the first column holds distinct whole numbers ({first_col[0]!r}, "
                f"{first_col[1] if len(first_col) > 1 else ''!r}, ...): are they numeric gene "
                "IDs? Pass row_names=True if so, or row_names=False if the column is "
                "expression data."
            )
    return False


# ---------------------------------------------------------------------- small tables
@dataclass(frozen=True)
class SmallTable:
    """A small delimited text file as stripped strings, checked to be rectangular.

    Attributes
    ----------
    header
        The header's fields, or ``None`` when the file has no header.
    header_line
        The header's line number, or ``None``.
    rows
        The data rows' fields; all as long as the header (without one: as most rows).
    lines
        The line number of each data row.
    """

    header: list[str] | None
    header_line: int | None
    rows: list[list[str]]
    lines: list[int]


def read_small_table(
    path: str | os.PathLike[str],
    what: str,
    *,
    has_header: bool | Callable[[list[str]], bool],
    separators: Sequence[str] = ("\t", ",", ";"),
    fallback: str = _WHITESPACE,
    comments: bool = False,
) -> SmallTable:
    """Read a small delimited text file (edge list, gold standard, design table) as strings.

    The file is read like an expression table: gzip/bz2/xz-compressed or not, UTF-8 with or
    without a BOM, any line ending, double quotes around fields, blank lines skipped and one
    trailing separator per line tolerated. Cells are kept as text (``NA`` is a name).

    Parameters
    ----------
    path
        The file.
    what
        What the file is (e.g. ``"known edges file"``), the start of every message.
    has_header
        Whether the first non-blank line is a header, or a test of its fields.
    separators, fallback
        The separator is the one of ``separators`` that splits the most of the first lines
        (at least half of them), else ``fallback`` (``"whitespace"``: any run of
        spaces/tabs).
    comments
        Whether lines starting with ``#`` are comments.

    Returns
    -------
    SmallTable
        Header, rows and their line numbers; no rows at all for an empty file.

    Raises
    ------
    BayesGRNInputError
        For a missing, unreadable or non-UTF-8 file, an unbalanced quote, a header that names
        a column twice, or a row with a different number of fields than the header (or, without
        a header, than most rows) -- naming the file and line.
    """
    path = Path(path)
    label = f"{what} {str(path)!r}"
    text = _read_text(path, what=what)
    if comments:
        text = _COMMENT_LINE.sub("", text)
    sep = _sniff_separator(text, separators, fallback)
    records = list(_records(text, sep, path))
    header = header_line = None
    width, origin = 0, "most rows"
    if records and (has_header(records[0][1]) if callable(has_header) else has_header):
        header_line, header = records.pop(0)
        if len(header) > 1 and header[-1] == "":
            header = header[:-1]  # trailing separator
        named = [name for name in header if name]
        twice = next((name for name in named if named.count(name) > 1), None)
        if twice is not None:
            raise BayesGRNInputError(
                f"{label}: the header (line {header_line}) names column {twice!r} twice; "
                "give every column its own name"
            )
        width = len(header)
        origin = f"the header on line {header_line}"
    elif records:
        counts = Counter(len(fields) for _, fields in records)
        n = max(counts, key=counts.__getitem__)
        trailing = n > 1 and all(fields[-1] == "" for _, fields in records if len(fields) == n)
        width = n - 1 if trailing else n
    rows: list[list[str]] = []
    lines: list[int] = []
    for number, fields in records:
        if len(fields) == width + 1 and fields[-1] == "":
            fields = fields[:-1]  # trailing separator
        if len(fields) != width:
            raise BayesGRNInputError(
                f"{label}: line {number} has {len(fields)} field(s) but {width} were expected "
                f"(as in {origin}); look for a missing or extra value, or a {_sep_name(sep)} "
                "inside a name"
            )
        rows.append(fields)
        lines.append(number)
    return SmallTable(header, header_line, rows, lines)


def edge_endpoints(
    regulators: Sequence[object], targets: Sequence[object], places: Sequence[str], source: str
) -> tuple[list[str], list[str]]:
    """Regulator and target names of an edge list as stripped text; empty or missing raise.

    Parameters
    ----------
    regulators, targets
        The two name columns (cells of a file or a DataFrame).
    places
        Where each edge is (``"line 4"``, ``"row 2"``), for messages.
    source
        The edge list, for messages.

    Returns
    -------
    tuple of list of str
        Regulator and target names.

    Raises
    ------
    BayesGRNInputError
        For an empty or missing (``None``/NaN) name, naming the place.
    """
    out: tuple[list[str], list[str]] = ([], [])
    for role, cells, names in zip(
        ("regulator", "target"), (regulators, targets), out, strict=True
    ):
        for cell, place in zip(cells, places, strict=True):
            name = (
                "" if cell is None or (isinstance(cell, float) and np.isnan(cell)) else str(cell)
            )
            if not name.strip():
                raise BayesGRNInputError(
                    f"{source}: {place} has an empty {role} name; every edge needs a regulator "
                    "and a target"
                )
            names.append(name.strip())
    return out


# ---------------------------------------------------------------------- regulators
def _looks_like_path(text: str) -> bool:
    return os.sep in text or "/" in text or bool(re.search(r"\.(txt|tsv|csv|list|gz)$", text))


def read_regulators(source: str | os.PathLike[str] | Sequence[str]) -> list[str]:
    """Read a regulator list from a file, or validate a sequence of names.

    Parameters
    ----------
    source
        A path to a text file (optionally gzip-compressed) with one name per line -- blank
        lines and lines starting with ``#`` are skipped, and further columns (tab, comma,
        semicolon or whitespace separated, e.g. a description) are ignored -- or a sequence
        of names (numbers are converted with ``str``).

    Returns
    -------
    list of str
        The names, in file order, without duplicates.

    Raises
    ------
    BayesGRNInputError
        For a missing, unreadable or empty file, a one-line file with several names on it, or
        a string that is neither an existing file nor obviously a path.
    """
    if isinstance(source, os.PathLike) or (
        isinstance(source, str) and (os.path.exists(source) or _looks_like_path(source))
    ):
        path = Path(source)
        text = _read_text(path, what="regulator file")
        names: list[str] = []
        multi: list[tuple[int, list[str]]] = []
        for number, line in enumerate(io.StringIO(text, newline=None), start=1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            fields = [_unquote(f) for f in re.split(r"[\t,;]|\s+", line) if f.strip()]
            if not fields:
                continue
            if not fields[0]:
                raise BayesGRNInputError(
                    f"regulator file {str(path)!r}: line {number} has an empty name ({line!r}); "
                    "put one regulator name per line"
                )
            if len(fields) > 1:
                multi.append((number, fields))
            names.append(fields[0])
        if not names:
            raise BayesGRNInputError(
                f"regulator file {str(path)!r} lists no names; put one regulator name per line "
                "('#' starts a comment)"
            )
        if len(names) == 1 and multi:
            raise BayesGRNInputError(
                f"regulator file {str(path)!r}: line {multi[0][0]} holds several names "
                f"({', '.join(multi[0][1][:3])}, ...); put one regulator name per line"
            )
        return list(dict.fromkeys(names))
    if isinstance(source, str):
        raise BayesGRNInputError(
            f"regulators={source!r} is neither an existing file nor a list of names; for a "
            f"single regulator pass [{source!r}]"
        )
    try:
        names = [str(s).strip() for s in source]
    except TypeError:
        raise BayesGRNInputError(
            f"regulators must be a file path or a list of gene names, got {type(source).__name__}"
        ) from None
    return list(dict.fromkeys(names))


# ---------------------------------------------------------------------- public reader
def read_expression(
    source: str | os.PathLike[str] | pd.DataFrame | np.ndarray,
    *,
    orientation: str = "samples_by_genes",
    sep: str | None = None,
    regulators: str | os.PathLike[str] | Sequence[str] | None = None,
    transform: str | None = None,
    pseudocount: float = 1.0,
    drop_constant: bool = False,
    perturbed: np.ndarray | None = None,
    perturbation: Sequence[str] | None = None,
    condition: Sequence[str] | str | None = None,
    header: bool = True,
    row_names: bool | None = None,
    decimal: str = ".",
) -> ExpressionData:
    """Read and validate an expression table.

    Parameters
    ----------
    source
        A path to a delimited text table (optionally gzip/bz2/xz-compressed), a DataFrame
        (columns and index supply the names) or a 2-d numpy array (default names). A path
        ending in ``.h5ad`` is read with :func:`bayesgrn.anndata_io.read_anndata` (``X``;
        use that function for layers and ``obs`` design columns).
    orientation
        ``"samples_by_genes"`` (default: rows are samples, columns genes),
        ``"genes_by_samples"``, or ``"auto"`` -- which looks the regulator names up among the
        column and the row names and decides only when they are found along exactly one
        axis; otherwise (or without ``regulators``) it raises.
    sep
        Field separator. Default: detected from the first non-blank line -- tab, else comma,
        else semicolon, else any run of whitespace. Give one character, or ``"whitespace"``.
    regulators
        Candidate regulators: a file (see :func:`read_regulators`) or a list of names;
        default all genes.
    transform, pseudocount
        ``None``, ``"log"`` (``log(x + pseudocount)``) or ``"log1p"``.
    drop_constant
        Drop genes without variation (logged warning; also dropped from ``regulators``)
        instead of raising.
    perturbed, perturbation, condition
        Optional design in samples x genes orientation (after ``orientation`` is applied),
        see :meth:`ExpressionData.from_array`.
    header
        Whether the first non-blank line holds the column names. With ``False`` the columns
        get default names (``G1, G2, ...`` for genes, ``S1, S2, ...`` for samples).
    row_names
        Whether the first column holds row names (sample names; gene names when
        ``orientation="genes_by_samples"``). Default ``None`` detects it, see Notes.
    decimal
        Decimal mark of the numbers, ``"."`` or ``","`` (only with a non-comma separator).

    Returns
    -------
    ExpressionData
        The validated samples x genes data.

    Raises
    ------
    BayesGRNInputError
        For a missing/empty/unreadable/non-UTF-8 file, a ragged row, non-numeric, missing or
        infinite cells, duplicate or empty names, constant genes, unknown regulators, fewer
        than 3 samples, or bad options -- naming the file, line, sample and gene.

    Notes
    -----
    File layout rules, applied in this order:

    * Blank lines (and rows of empty fields) are skipped anywhere; a UTF-8/UTF-16 byte-order
      mark, Windows/old-Mac line endings, quotes around fields (``"G1"``) and one trailing
      separator at the end of a line are all accepted.
    * Names are always kept as text: a header ``101  102`` gives genes ``"101"`` and
      ``"102"``. A header whose names are *all* numbers and not all whole numbers (e.g.
      ``0.53  1.2``) is taken to be a data row of a file without a header and raises;
      pass ``header=False`` for such files. (Whole numbers are accepted as numeric gene IDs.)
    * If the data rows have one field more than the header, the header lacks the corner cell
      (R ``write.table`` style) and the first field of each row is its name.
    * Otherwise the first column holds row names when the header's first cell is empty or a
      usual label (``sample``, ``gene``, ``id``, ``ID_REF``, ...; see
      ``ROW_LABEL_HEADERS``), or when every cell of that column is text. A first column of
      numbers is data (DREAM4 style: header of gene names, rows of numbers; samples are
      then named ``S1, S2, ...``). A column mixing text and numbers raises, as does -- for
      ``genes_by_samples`` -- a first column of distinct whole numbers, which could be
      numeric gene IDs: pass ``row_names=`` to decide.
    * Cells ``NA``, ``NaN``, ``N/A``, ``null``, empty, ... are missing values and raise (as do
      ``inf``): impute or drop them first. Reading never silently changes a value.
    """
    if isinstance(source, str | os.PathLike) and str(source).lower().endswith(".h5ad"):
        from bayesgrn.anndata_io import read_anndata

        return read_anndata(
            source,
            regulators=read_regulators(regulators) if regulators is not None else None,
            transform=transform,
            pseudocount=pseudocount,
            drop_constant=drop_constant,
        )
    if orientation not in ORIENTATIONS:
        raise BayesGRNInputError(
            f"orientation must be one of {', '.join(map(repr, ORIENTATIONS))}, got {orientation!r}"
        )
    if decimal not in (".", ","):
        raise BayesGRNInputError(f"decimal must be '.' or ',', got {decimal!r}")
    sep = _normalise_sep(sep)
    if decimal == "," and sep == ",":
        raise BayesGRNInputError("decimal=',' needs a separator other than ',' (e.g. sep=';')")
    if row_names is not None and not isinstance(row_names, bool):
        raise BayesGRNInputError(f"row_names must be True, False or None, got {row_names!r}")
    regs = read_regulators(regulators) if regulators is not None else None

    if isinstance(source, pd.DataFrame | np.ndarray):
        frame, orientation, name = _from_memory(source, orientation, regs)
    else:
        frame, orientation, name = _from_file(
            source, orientation, regs, sep, header, row_names, decimal
        )
    _check_min_samples(frame.shape, orientation, name)
    return ExpressionData.from_array(
        frame, regulators=regs, perturbed=perturbed, perturbation=perturbation,
        condition=condition, transform=transform, pseudocount=pseudocount,
        drop_constant=drop_constant, source=name,
    )  # fmt: skip


def _from_file(
    source: object,
    orientation: str,
    regs: list[str] | None,
    sep: str | None,
    header: bool,
    row_names: bool | None,
    decimal: str,
) -> tuple[pd.DataFrame, str, str]:
    if not isinstance(source, str | os.PathLike):
        raise BayesGRNInputError(
            "read_expression needs a file path, a pandas DataFrame or a numpy array, got "
            f"{type(source).__name__}"
        )
    path = Path(source)
    name = str(path)
    text = _read_text(path, what="expression file")
    table = _parse_table(text, path, sep, header, row_names, decimal, orientation)
    if orientation == "auto":
        orientation = _detect_orientation(table.columns, table.rows, regs, name)
    by_genes = orientation == "genes_by_samples"
    row_kind, col_kind = ("gene", "sample") if by_genes else ("sample", "gene")
    n_rows, n_cols = table.values.shape
    rows = table.rows or [f"{row_kind[0].upper()}{i + 1}" for i in range(n_rows)]
    cols = table.columns or [f"{col_kind[0].upper()}{j + 1}" for j in range(n_cols)]
    _check_names(rows, row_kind, [f"line {n}" for n in table.lines], name)
    _check_names(cols, col_kind, [f"header column {j + 1 + table.col_offset}"
                                  for j in range(n_cols)], name)  # fmt: skip
    _check_cells(table, rows, cols, row_kind, col_kind, name, decimal)
    frame = pd.DataFrame(table.values, index=rows, columns=cols)
    return (frame.T if by_genes else frame), orientation, name


def _from_memory(
    source: pd.DataFrame | np.ndarray, orientation: str, regs: list[str] | None
) -> tuple[pd.DataFrame | np.ndarray, str, str]:
    if isinstance(source, pd.DataFrame):
        name = "<DataFrame>"
        if orientation == "auto":
            cols = [str(c) for c in source.columns]
            orientation = _detect_orientation(cols, [str(i) for i in source.index], regs, name)
        frame: pd.DataFrame | np.ndarray = (
            source.T if orientation == "genes_by_samples" else source
        )
    else:
        name = "<array>"
        if source.ndim != 2:
            raise BayesGRNInputError(
                f"{name}: expected a 2-d table, got a {source.ndim}-d array of shape "
                f"{source.shape}"
            )
        if orientation == "auto":
            orientation = _detect_orientation(None, None, regs, name)
        frame = source.T if orientation == "genes_by_samples" else source
    return frame, orientation, name


def _check_names(names: list[str], kind: str, where: list[str], source: str) -> None:
    for name, place in zip(names, where, strict=True):
        if name == "":
            raise BayesGRNInputError(
                f"{source}: empty {kind} name at {place}; every {kind} needs one"
            )
    counts = Counter(names)
    dups = [n for n, c in counts.items() if c > 1]
    if dups:
        places = [p for n, p in zip(names, where, strict=True) if n == dups[0]]
        raise BayesGRNInputError(
            f"{source}: duplicate {kind} name(s) {dups[:10]}{' ...' if len(dups) > 10 else ''}"
            f" ({dups[0]!r} at {', '.join(places[:5])}); {kind} names must be unique -- "
            "rename or aggregate the duplicates"
        )


def _check_cells(
    table: _Table,
    rows: list[str],
    cols: list[str],
    row_kind: str,
    col_kind: str,
    source: str,
    decimal: str,
) -> None:
    def place(i: int, j: int) -> str:
        return f"line {table.lines[i]}, {row_kind} {rows[i]!r}, {col_kind} {cols[j]!r}"

    text_cells = sorted(c for c in table.bad_cells if c[2].lower() not in MISSING_TOKENS)
    if text_cells:
        i, j, value = text_cells[0]
        hint = ""
        if decimal == "." and re.fullmatch(r"[+-]?\d+,\d*([eE][+-]?\d+)?", value):
            hint = " It looks like a decimal comma: pass decimal=','."
        elif table.rows is None and j == 0:
            hint = " If the first column holds row names, pass row_names=True."
        raise BayesGRNInputError(
            f"{source}: non-numeric value {value!r} at {place(i, j)} ({table.n_bad} cell(s) "
            f"are not numbers); every expression value must be a number.{hint}"
        )
    finite = np.isfinite(table.values)
    if not finite.all():
        i, j = (int(k) for k in np.argwhere(~finite)[0])
        value = table.values[i, j]
        missing = int(np.isnan(table.values).sum())
        if np.isnan(value):
            raw = next((v for a, b, v in table.bad_cells if (a, b) == (i, j)), "NaN")
            what = f"missing value ({'empty cell' if raw == '' else repr(raw)})"
        else:
            what = f"infinite value ({value})"
        raise BayesGRNInputError(
            f"{source}: {what} at {place(i, j)}; the table has {missing} missing and "
            f"{int(np.isinf(table.values).sum())} infinite value(s). Impute or drop those "
            f"{row_kind}s/{col_kind}s before fitting."
        )


def _check_min_samples(shape: tuple[int, ...], orientation: str, source: str) -> None:
    n_samples, n_genes = shape[0], shape[1]
    if n_samples >= MIN_SAMPLES:
        return
    msg = (
        f"{source}: only {n_samples} sample(s); at least {MIN_SAMPLES} are needed to fit a "
        "network."
    )
    if n_genes >= MIN_SAMPLES:
        other = "samples_by_genes" if orientation == "genes_by_samples" else "genes_by_samples"
        axis = "columns" if orientation == "genes_by_samples" else "rows"
        msg += (
            f" The table was read as {orientation.replace('_', ' ')} ({n_samples} {axis} of "
            f"samples, {n_genes} genes); if it is the other way round, pass "
            f"orientation={other!r} (CLI: --orientation)."
        )
    raise BayesGRNInputError(msg)


def _detect_orientation(
    columns: Sequence[str] | None,
    rows: Sequence[str] | None,
    regulators: list[str] | None,
    name: str,
) -> str:
    how = (
        "pass orientation='samples_by_genes' or orientation='genes_by_samples' "
        "(CLI: --orientation)"
    )
    if not regulators:
        raise BayesGRNInputError(
            f"{name}: orientation='auto' decides from the regulator names, but no regulators "
            f"were given; {how}"
        )
    col_set, row_set = set(columns or ()), set(rows or ())
    in_cols = [r for r in regulators if r in col_set]
    in_rows = [r for r in regulators if r in row_set]
    if in_cols and not in_rows:
        return "samples_by_genes"
    if in_rows and not in_cols:
        return "genes_by_samples"
    if in_cols and in_rows:
        detail = (
            f"regulator names occur both among the column names ({in_cols[:3]}) and the row "
            f"names ({in_rows[:3]})"
        )
    else:
        detail = (
            f"none of the regulators ({regulators[:3]}{' ...' if len(regulators) > 3 else ''}) "
            f"is a column name ({list(columns or [])[:3] or 'none'}) or a row name "
            f"({list(rows or [])[:3] or 'none'})"
        )
    raise BayesGRNInputError(
        f"{name}: cannot tell whether rows are samples or genes: {detail}; {how}"
    )
