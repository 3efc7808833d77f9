"""Reading expression tables and regulator lists from files, and the errors they raise."""

from __future__ import annotations

import bz2
import gzip
import logging
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from bayesgrn import BayesGRNInputError, read_expression, read_regulators

GENES = ("G1", "G2", "G3")
VALUES = np.array([[1.0, 2.5, -0.5], [2.0, 0.5, 1.5], [3.5, 1.0, 0.25], [0.5, 3.0, 2.0]])
NAMED = ("a", "b", "c", "d")
DEFAULT = ("S1", "S2", "S3", "S4")


def write(tmp_path: Path, text: str | bytes, name: str = "expr.tsv") -> Path:
    path = tmp_path / name
    data = text.encode("utf-8") if isinstance(text, str) else text
    if name.endswith(".gz"):
        data = gzip.compress(data)
    path.write_bytes(data)
    return path


def table(sep: str = "\t", *, names: bool = True, corner: str = "sample", quote: bool = False,
          trailing: str = "", eol: str = "\n") -> str:  # fmt: skip
    """The reference table as text in many dialects."""
    q = '"' if quote else ""
    head = [f"{q}{g}{q}" for g in GENES]
    if names:
        head = ([corner] if corner is not None else []) + head
    lines = [sep.join(head) + trailing]
    for name, row in zip(NAMED, VALUES, strict=True):
        cells = [repr(float(v)) for v in row]
        lines.append(sep.join(([f"{q}{name}{q}"] if names else []) + cells) + trailing)
    return eol.join(lines) + eol


def assert_reference(data: object, samples: tuple[str, ...]) -> None:
    assert data.genes == GENES
    assert data.samples == samples
    np.testing.assert_array_equal(data.values, VALUES)


# ---------------------------------------------------------------------- dialects
@pytest.mark.parametrize(
    ("text", "samples"),
    [
        pytest.param(table("\t"), NAMED, id="tsv"),
        pytest.param(table(","), NAMED, id="csv"),
        pytest.param(table(";"), NAMED, id="semicolon"),
        pytest.param(table(" "), NAMED, id="space"),
        pytest.param(table("   "), NAMED, id="aligned-spaces"),
        pytest.param(table(" \t "), NAMED, id="mixed-whitespace"),
        pytest.param(table("\t", corner=""), NAMED, id="empty-corner"),
        pytest.param(table(",", corner=None), NAMED, id="r-style-header"),
        pytest.param(table("\t", corner="gene_id"), NAMED, id="label-corner"),
        pytest.param(table("\t", eol="\r\n"), NAMED, id="crlf"),
        pytest.param(table("\t", eol="\r"), NAMED, id="old-mac-cr"),
        pytest.param("\ufeff" + table(","), NAMED, id="utf8-bom"),
        pytest.param(table("\t", trailing="\t"), NAMED, id="trailing-tab"),
        pytest.param(table(",", trailing=","), NAMED, id="trailing-comma"),
        pytest.param(table(",", corner=None, trailing=","), NAMED, id="r-style-trailing"),
        pytest.param(table("\t") + "\n\n  \n", NAMED, id="blank-trailing-lines"),
        pytest.param(table(",") + ",,,,\n,,,,\n", NAMED, id="excel-empty-rows"),
        pytest.param("\n" + table("\t"), NAMED, id="leading-blank-line"),
        pytest.param(table("\t", names=False, quote=True), DEFAULT, id="dream4-quoted"),
        pytest.param(table(" ", names=False, quote=True), DEFAULT, id="quoted-whitespace"),
        pytest.param(table(",", quote=True, eol="\r\n"), NAMED, id="quoted-csv-crlf"),
        pytest.param(table(", ", quote=True), NAMED, id="quoted-csv-spaces"),
        pytest.param(table(",", quote=True).replace(",", " ,"), NAMED, id="space-before-comma"),
        pytest.param(table("\t", names=False, trailing="\t"), DEFAULT, id="no-names-trailing"),
    ],
)
def test_dialects_give_the_same_table(tmp_path: Path, text: str, samples: tuple[str, ...]) -> None:
    assert_reference(read_expression(write(tmp_path, text)), samples)


def test_quoted_names_with_spaces_in_whitespace_file(tmp_path: Path) -> None:
    text = table(" ", quote=True).replace('"G2"', '"my gene"')
    data = read_expression(write(tmp_path, text))
    assert data.genes == ("G1", "my gene", "G3")
    np.testing.assert_array_equal(data.values, VALUES)


def test_header_trailing_separator_only(tmp_path: Path) -> None:
    text = table("\t").replace("G3\n", "G3\t\n", 1)
    assert_reference(read_expression(write(tmp_path, text)), NAMED)


@pytest.mark.parametrize("name", ["expr.tsv.gz", "expr.tsv"])
def test_gzip_detected_by_content(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_bytes(gzip.compress(("\ufeff" + table("\t", eol="\r\n")).encode()))
    assert_reference(read_expression(path), NAMED)


def test_bz2_and_utf16(tmp_path: Path) -> None:
    (tmp_path / "a.tsv.bz2").write_bytes(bz2.compress(table().encode()))
    assert_reference(read_expression(tmp_path / "a.tsv.bz2"), NAMED)
    (tmp_path / "b.tsv").write_bytes(table().encode("utf-16"))
    assert_reference(read_expression(tmp_path / "b.tsv"), NAMED)


def test_explicit_separator(tmp_path: Path) -> None:
    path = write(tmp_path, table("|"), "expr.txt")
    assert_reference(read_expression(path, sep="|"), NAMED)
    assert_reference(read_expression(write(tmp_path, table("\t")), sep="\\t"), NAMED)
    with pytest.raises(BayesGRNInputError, match="sep="):
        read_expression(path, sep="||")


def test_str_and_pathlike_sources(tmp_path: Path) -> None:
    path = write(tmp_path, table())
    a, b = read_expression(str(path)), read_expression(path)
    np.testing.assert_array_equal(a.values, b.values)
    assert a.source == str(path)


def test_reading_twice_is_identical(tmp_path: Path) -> None:
    path = write(tmp_path, table(","))
    a, b = read_expression(path), read_expression(path)
    np.testing.assert_array_equal(a.values, b.values)
    np.testing.assert_array_equal(a.center, b.center)
    np.testing.assert_array_equal(a.scale, b.scale)
    assert (a.genes, a.samples, a.regulators) == (b.genes, b.samples, b.regulators)


def test_numeric_gene_names_stay_strings(tmp_path: Path) -> None:
    text = "101\t102\t0103\n1\t2\t3\n2\t1\t3\n3\t3\t1\n"
    data = read_expression(write(tmp_path, text), regulators=[101, "0103"])
    assert data.genes == ("101", "102", "0103")
    assert all(isinstance(g, str) for g in data.genes)
    assert data.regulators == ("101", "0103")
    assert data.samples == ("S1", "S2", "S3")


def test_underscores_are_not_digit_separators(tmp_path: Path) -> None:
    # Python's float() accepts "1_000"; a table cell like that must not silently become 1000
    data = read_expression(write(tmp_path, "100_0\t101\n1\t2\n2\t1\n3\t3\n"))
    assert data.genes == ("100_0", "101")
    text = "sample\tG1\tG2\na\t1\t2\nb\t1_2\t1\nc\t3\t3\n"
    with pytest.raises(BayesGRNInputError, match=r"non-numeric value '1_2' at line 3"):
        read_expression(write(tmp_path, text, "u.tsv"))


def test_numeric_sample_names_with_label_corner(tmp_path: Path) -> None:
    text = "sample,G1,G2\n1,0.5,2\n2,1.5,1\n3,2.5,0\n"
    data = read_expression(write(tmp_path, text, "e.csv"))
    assert data.samples == ("1", "2", "3")
    assert data.genes == ("G1", "G2")


def test_float_header_means_no_header(tmp_path: Path) -> None:
    text = "0.5\t1.5\t2\n1\t2\t3\n2\t1\t3\n3\t3\t1\n"
    path = write(tmp_path, text)
    match = r"line 1\) holds numbers such as '1\.5'.*header=False"
    with pytest.raises(BayesGRNInputError, match=match):
        read_expression(path)
    data = read_expression(path, header=False)
    assert data.genes == GENES
    assert data.samples == DEFAULT
    assert data.values[0, 0] == 0.5


def test_headerless_with_row_names(tmp_path: Path) -> None:
    text = "a\t1\t2.5\nb\t2\t0.5\nc\t3\t1\n"
    data = read_expression(write(tmp_path, text), header=False)
    assert data.samples == ("a", "b", "c")
    assert data.genes == ("G1", "G2")


def test_row_names_override(tmp_path: Path) -> None:
    path = write(tmp_path, "x\tG1\tG2\n1\t0.5\t2\n2\t1.5\t1\n3\t2.5\t0\n")
    assert read_expression(path).genes == ("x", "G1", "G2")  # first column of numbers is data
    data = read_expression(path, row_names=True)
    assert data.genes == ("G1", "G2")
    assert data.samples == ("1", "2", "3")


def test_mixed_first_column_raises(tmp_path: Path) -> None:
    path = write(tmp_path, "x\tG1\tG2\nctrl\t0.5\t2\n2\t1.5\t1\n3\t2.5\t0\n")
    with pytest.raises(BayesGRNInputError, match=r"'ctrl' on line 2.*row_names=True"):
        read_expression(path)


def test_decimal_comma(tmp_path: Path) -> None:
    text = "sample;G1;G2\na;1,5;2\nb;2,5;1\nc;0,5;3\n"
    path = write(tmp_path, text, "e.csv")
    with pytest.raises(BayesGRNInputError, match="decimal=','"):
        read_expression(path)
    data = read_expression(path, decimal=",")
    np.testing.assert_array_equal(data.values[:, 0], [1.5, 2.5, 0.5])
    with pytest.raises(BayesGRNInputError, match="separator other than"):
        read_expression(path, sep=",", decimal=",")


# ---------------------------------------------------------------------- orientation
def genes_by_samples_text() -> str:
    lines = ["gene\t" + "\t".join(NAMED)]
    lines += [
        f"{g}\t" + "\t".join(repr(float(v)) for v in VALUES[:, j]) for j, g in enumerate(GENES)
    ]
    return "\n".join(lines) + "\n"


def test_genes_by_samples(tmp_path: Path) -> None:
    path = write(tmp_path, genes_by_samples_text())
    assert_reference(read_expression(path, orientation="genes_by_samples"), NAMED)


@pytest.mark.parametrize("transposed", [False, True])
def test_auto_orientation_from_regulators(tmp_path: Path, transposed: bool) -> None:
    path = write(tmp_path, genes_by_samples_text() if transposed else table())
    data = read_expression(path, orientation="auto", regulators=["G1", "G3"])
    assert_reference(data, NAMED)
    assert data.regulators == ("G1", "G3")


def test_auto_orientation_ambiguous(tmp_path: Path) -> None:
    path = write(tmp_path, table())
    with pytest.raises(BayesGRNInputError, match="no regulators were given.*orientation="):
        read_expression(path, orientation="auto")
    with pytest.raises(
        BayesGRNInputError, match=r"none of the regulators \(\['X1'\]\).*orientation="
    ):
        read_expression(path, orientation="auto", regulators=["X1"])
    both = write(tmp_path, "id\tG1\tG2\tG3\nG1\t1\t2\t3\nG2\t2\t1\t3\nG3\t3\t3\t1\n", "sq.tsv")
    with pytest.raises(BayesGRNInputError, match="both among the column names"):
        read_expression(both, orientation="auto", regulators=["G1"])


def test_auto_orientation_for_memory_inputs() -> None:
    frame = pd.DataFrame(VALUES.T, index=list(GENES), columns=list(NAMED))
    assert_reference(read_expression(frame, orientation="auto", regulators=["G2"]), NAMED)
    with pytest.raises(BayesGRNInputError, match="orientation="):
        read_expression(VALUES, orientation="auto", regulators=["G2"])


def test_genes_by_samples_numeric_ids_are_ambiguous(tmp_path: Path) -> None:
    path = write(tmp_path, "ENTREZ\ta\tb\tc\n101\t1.5\t2\t3\n102\t2\t1.5\t3\n103\t3\t3\t1.5\n")
    with pytest.raises(BayesGRNInputError, match="row_names=True"):
        read_expression(path, orientation="genes_by_samples")
    data = read_expression(path, orientation="genes_by_samples", row_names=True)
    assert data.genes == ("101", "102", "103")
    assert data.samples == ("a", "b", "c")


def test_unknown_orientation(tmp_path: Path) -> None:
    with pytest.raises(BayesGRNInputError, match="orientation must be one of"):
        read_expression(write(tmp_path, table()), orientation="rows")


def test_too_few_samples_suggests_orientation(tmp_path: Path) -> None:
    path = write(tmp_path, "gene\ts1\ts2\nG1\t1\t2\nG2\t2\t1\nG3\t3\t4\nG4\t0\t1\n")
    with pytest.raises(BayesGRNInputError, match="orientation='samples_by_genes'"):
        read_expression(path, orientation="genes_by_samples")
    wide = write(tmp_path, "sample\tG1\tG2\tG3\na\t1\t2\t3\nb\t2\t1\t0\n", "wide.tsv")
    with pytest.raises(BayesGRNInputError, match="only 2 sample.*orientation='genes_by_samples'"):
        read_expression(wide)
    tiny = write(tmp_path, "G1\tG2\n1\t2\n2\t1\n", "tiny.tsv")
    with pytest.raises(BayesGRNInputError, match="only 2 sample") as err:
        read_expression(tiny)
    assert "orientation" not in str(err.value)


# ---------------------------------------------------------------------- in-memory inputs
def test_numpy_and_dataframe_inputs() -> None:
    data = read_expression(VALUES)
    assert data.genes == GENES
    assert data.samples == DEFAULT
    assert data.source == "<array>"
    flipped = read_expression(VALUES.T, orientation="genes_by_samples")
    assert flipped.genes == GENES  # default names follow the orientation
    np.testing.assert_array_equal(flipped.values, VALUES)
    frame = pd.DataFrame(VALUES, index=list(NAMED), columns=list(GENES))
    assert_reference(read_expression(frame), NAMED)
    assert_reference(read_expression(frame.T, orientation="genes_by_samples"), NAMED)
    with pytest.raises(BayesGRNInputError, match="2-d"):
        read_expression(VALUES[0])
    with pytest.raises(BayesGRNInputError, match="file path, a pandas DataFrame"):
        read_expression(42)  # type: ignore[arg-type]


# ---------------------------------------------------------------------- file errors
def test_missing_file_and_directory(tmp_path: Path) -> None:
    with pytest.raises(BayesGRNInputError, match=r"'.*nope\.tsv' does not exist"):
        read_expression(tmp_path / "nope.tsv")
    with pytest.raises(BayesGRNInputError, match="is a directory"):
        read_expression(tmp_path)


@pytest.mark.parametrize(
    ("content", "match"),
    [
        pytest.param(b"", "file is empty", id="zero-bytes"),
        pytest.param(b"  \n\n\t\n", "file is empty", id="blank"),
        pytest.param(b",,,\n,,\n", "only empty fields", id="empty-fields"),
        pytest.param(b"G1\tG2\tG3\n", r"header \(line 1\) but no data rows", id="header-only"),
        pytest.param(b"G1\tG2\tG3\n\n\n", "no data rows", id="header-blank-lines"),
        pytest.param(b"G1 G2 G3 \xe9\n1 2 3\n", r"not UTF-8 .*0xe9 at line 1", id="latin1"),
        pytest.param(b"PK\x03\x04rest", "Excel .xlsx", id="xlsx"),
        pytest.param(b"\x1f\x8b\x08\x00garbage", "gzip-compressed but cannot", id="bad-gzip"),
        pytest.param(b"G1\tG2\x00\n", "NUL bytes", id="binary"),
        pytest.param(b"G1\n1\n2\n3\n", "single column 'G1'", id="one-column"),
        pytest.param(b"G1\t\tG3\n1\t2\t3\n", r"empty name in column\(s\) \[2\]", id="empty-name"),
        pytest.param(b'G1,"G2\n1,2\n', r"line 1 has an unbalanced double quote", id="open-quote"),
        pytest.param(b'G1,G2\n1,2\n"3,4\n5,6\n', r"line 3 has an unbalanced", id="open-quote-3"),
    ],
)
def test_unreadable_files(tmp_path: Path, content: bytes, match: str) -> None:
    path = tmp_path / "bad.tsv"
    path.write_bytes(content)
    with pytest.raises(BayesGRNInputError, match=match) as err:
        read_expression(path)
    assert "bad.tsv" in str(err.value)


def test_truncated_gzip(tmp_path: Path) -> None:
    path = tmp_path / "t.tsv.gz"
    path.write_bytes(gzip.compress(table().encode())[:-12])
    with pytest.raises(BayesGRNInputError, match="truncated"):
        read_expression(path)


@pytest.mark.parametrize(
    ("row", "got"),
    [("c\t1\t2\t3\t4", 5), ("c\t1\t2", 3), ("c\t1\t2\t3\t\t", 6)],
    ids=["too-many", "too-few", "two-trailing"],
)
def test_ragged_row_names_the_line(tmp_path: Path, row: str, got: int) -> None:
    text = f"sample\tG1\tG2\tG3\na\t1\t2\t3\nb\t2\t3\t1\n{row}\nd\t0\t1\t1\n"
    with pytest.raises(BayesGRNInputError, match=rf"line 4 has {got} fields but 4 were expected"):
        read_expression(write(tmp_path, text))


def test_ragged_row_without_header(tmp_path: Path) -> None:
    text = "1\t2\t3\n2\t3\n"
    with pytest.raises(BayesGRNInputError, match="line 2 has 2 fields but 3"):
        read_expression(write(tmp_path, text), header=False)


def test_non_numeric_cell_names_place_and_value(tmp_path: Path) -> None:
    text = table().replace("2.0\t0.5", "2.0\tabc")
    with pytest.raises(BayesGRNInputError) as err:
        read_expression(write(tmp_path, text))
    msg = str(err.value)
    for part in ("expr.tsv", "'abc'", "line 3", "sample 'b'", "gene 'G2'"):
        assert part in msg


def test_non_numeric_cell_in_transposed_file(tmp_path: Path) -> None:
    text = genes_by_samples_text().replace("G2\t2.5", "G2\toops")
    with pytest.raises(BayesGRNInputError, match=r"'oops' at line 3, gene 'G2', sample 'a'"):
        read_expression(write(tmp_path, text), orientation="genes_by_samples")


def test_non_numeric_in_first_data_column(tmp_path: Path) -> None:
    text = "G1\tG2\tG3\n1\t2\t3\nx1\t2\t1\n3\t1\t2\n"
    with pytest.raises(BayesGRNInputError, match=r"'x1' on line 3.*row_names=True"):
        read_expression(write(tmp_path, text))


@pytest.mark.parametrize(
    ("cell", "what"),
    [
        ("NA", r"missing value \('NA'\)"),
        ("", r"missing value \(empty cell\)"),
        ("nan", r"missing value \('NaN'\)"),
        ("#N/A", r"missing value \('#N/A'\)"),
        ("inf", r"infinite value \(inf\)"),
        ("-Infinity", r"infinite value \(-inf\)"),
    ],
)
def test_missing_and_infinite_cells_are_named(tmp_path: Path, cell: str, what: str) -> None:
    text = table(",").replace("b,2.0,0.5", f"b,2.0,{cell}")
    with pytest.raises(BayesGRNInputError, match=rf"{what} at line 3, sample 'b', gene 'G2'"):
        read_expression(write(tmp_path, text, "e.csv"))


def test_duplicate_gene_names(tmp_path: Path) -> None:
    text = "sample\tG1\tG2\tG1\na\t1\t2\t3\nb\t2\t3\t1\nc\t5\t1\t2\n"
    with pytest.raises(
        BayesGRNInputError, match=r"duplicate gene name.*'G1'.*column 2, .*column 4"
    ):
        read_expression(write(tmp_path, text))


def test_duplicate_sample_names(tmp_path: Path) -> None:
    text = "sample\tG1\tG2\na\t1\t2\nb\t2\t3\na\t5\t1\n"
    with pytest.raises(BayesGRNInputError, match=r"duplicate sample name.*'a'.*line 2, line 4"):
        read_expression(write(tmp_path, text))


def test_duplicate_genes_in_transposed_file(tmp_path: Path) -> None:
    text = "gene\ta\tb\tc\nG1\t1\t2\t3\nG1\t2\t3\t1\n"
    with pytest.raises(BayesGRNInputError, match=r"duplicate gene name.*line 2, line 3"):
        read_expression(write(tmp_path, text), orientation="genes_by_samples")


def test_constant_gene_raises_or_is_dropped(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    text = "sample\tG1\tG2\tG3\na\t1\t5\t3\nb\t2\t5\t1\nc\t5\t5\t2\n"
    path = write(tmp_path, text)
    with pytest.raises(BayesGRNInputError, match=r"constant.*'G2'.*drop_constant=True"):
        read_expression(path)
    with caplog.at_level(logging.WARNING, logger="bayesgrn"):
        data = read_expression(path, drop_constant=True, regulators=["G2", "G3"])
    assert data.genes == ("G1", "G3")
    assert data.regulators == ("G3",)
    assert any("G2" in r.getMessage() and r.levelno == logging.WARNING for r in caplog.records)


def test_log_transform_checks_values(tmp_path: Path) -> None:
    text = "sample\tG1\tG2\na\t1\t5\nb\t-1\t3\nc\t4\t2\n"
    path = write(tmp_path, text)
    with pytest.raises(BayesGRNInputError, match=r"-1\.0 \+ 1\.0 at sample 'b', gene 'G1'"):
        read_expression(path, transform="log")
    data = read_expression(path, transform="log", pseudocount=2.0)
    np.testing.assert_allclose(data.values[:, 0], np.log([3.0, 1.0, 6.0]))
    with pytest.raises(BayesGRNInputError, match="unknown transform 'log2'"):
        read_expression(path, transform="log2")


def test_bad_option_values(tmp_path: Path) -> None:
    path = write(tmp_path, table())
    with pytest.raises(BayesGRNInputError, match="decimal"):
        read_expression(path, decimal="'")
    with pytest.raises(BayesGRNInputError, match="row_names"):
        read_expression(path, row_names="yes")  # type: ignore[arg-type]
    with pytest.raises(BayesGRNInputError, match="row_names=False"):
        read_expression(write(tmp_path, table(",", corner=None), "r.csv"), row_names=False)


def test_errors_are_value_errors(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="does not exist"):
        read_expression(tmp_path / "nope.tsv")


# ---------------------------------------------------------------------- regulators
def test_regulators_from_list_and_file(tmp_path: Path) -> None:
    expr = write(tmp_path, table())
    regs = write(tmp_path, '# candidate TFs\n\nG3\t# a comment column\n"G1"\n  \nG3\n', "tfs.txt")
    assert read_regulators(regs) == ["G3", "G1"]
    assert read_regulators(str(regs)) == ["G3", "G1"]
    data = read_expression(expr, regulators=regs)
    assert data.regulators == ("G1", "G3")  # gene order, not file order
    assert read_expression(expr, regulators=["G3", "G2"]).regulators == ("G2", "G3")
    crlf = write(tmp_path, b"\xef\xbb\xbfG2\r\nG1, description\r\n", "crlf.txt")
    assert read_regulators(crlf) == ["G2", "G1"]


def test_unknown_regulators_are_named(tmp_path: Path) -> None:
    expr = write(tmp_path, table())
    with pytest.raises(BayesGRNInputError, match=r"\['TF9'\]"):
        read_expression(expr, regulators=["G1", "TF9"])
    regs = write(tmp_path, "G1\nTF9\ng2\n", "tfs.txt")
    with pytest.raises(BayesGRNInputError, match=r"\['TF9', 'g2'\].*Did you mean \['G2'\]"):
        read_expression(expr, regulators=regs)


@pytest.mark.parametrize(
    ("content", "match"),
    [
        ("", "lists no names"),
        ("# only a comment\n\n", "lists no names"),
        ("G1,G2,G3\n", "one regulator name per line"),
    ],
)
def test_bad_regulator_files(tmp_path: Path, content: str, match: str) -> None:
    path = write(tmp_path, content, "tfs.txt")
    with pytest.raises(BayesGRNInputError, match=match) as err:
        read_regulators(path)
    assert "tfs.txt" in str(err.value)


def test_regulator_source_errors(tmp_path: Path) -> None:
    with pytest.raises(BayesGRNInputError, match=r"regulator file .*missing\.txt' does not exist"):
        read_regulators(tmp_path / "missing.txt")
    with pytest.raises(BayesGRNInputError, match="does not exist"):
        read_regulators("missing_tfs.txt")
    with pytest.raises(BayesGRNInputError, match="is a directory"):
        read_regulators(tmp_path)
    with pytest.raises(BayesGRNInputError, match=r"pass \['G1'\]"):
        read_regulators("G1")
    with pytest.raises(BayesGRNInputError, match="file path or a list"):
        read_regulators(3)  # type: ignore[arg-type]
    assert read_regulators([101, " G2 ", "G2"]) == ["101", "G2"]


# ---------------------------------------------------------------------- regressions (hypothesis)
def test_short_first_line_does_not_decide_the_separator(tmp_path: Path) -> None:
    # the separator used to come from the first line alone: a ragged first line made the whole
    # file "whitespace-separated" and the error blamed line 2's "0.5,1.5" as one bad value
    path = write(tmp_path, "1.5\n0.5,1.5\n2.5,0.5\n3.5,1.0\n", "e.csv")
    with pytest.raises(BayesGRNInputError, match="line 1 has 1 fields but 2 were expected"):
        read_expression(path, header=False)


@pytest.mark.parametrize(
    ("text", "match"),
    [
        pytest.param(  # extra value on the first data row, which used to set the layout
            "sample\tG1\tG2\na\t1\t2\t9\nb\t2\t3\nc\t3\t4\n",
            "line 2 has 4 fields but 3 were expected",
            id="long-first-row",
        ),
        pytest.param(  # R-style header; the first row's last cell is empty
            "G1,G2\na,1,\nb,2,3\nc,3,4\n",
            r"missing value \(empty cell\) at line 2, sample 'a', gene 'G2'",
            id="r-style-empty-last-cell",
        ),
    ],
)
def test_first_data_row_is_blamed_for_its_own_defect(
    tmp_path: Path, text: str, match: str
) -> None:
    with pytest.raises(BayesGRNInputError, match=match):
        read_expression(write(tmp_path, text))


@pytest.mark.parametrize(
    ("content", "match"),
    [
        pytest.param(b"G1\rG2\xe9\r", r"0xe9 at line 2\)", id="cr-line-ends"),
        pytest.param(b"G1\r1\r2\x00\r", r"NUL bytes \(line 3\)", id="nul-cr-line-ends"),
        pytest.param(b"\xef\xbb\xbfG1\tG2\nS1\xe9\t1\n", r"byte 0xe9 at line 2\)", id="bom"),
    ],
)
def test_bad_bytes_are_located_after_a_bom_or_cr_line_ends(
    tmp_path: Path, content: bytes, match: str
) -> None:
    # line numbers counted only "\n", and the BOM shifted the reported byte and line
    with pytest.raises(BayesGRNInputError, match=match):
        read_expression(write(tmp_path, content))


@pytest.mark.parametrize(
    "text",
    [
        pytest.param('"G1\t"G2"\t"G3"\n1\t2\t3\n2\t3\t1\n3\t1\t2\n', id="closed-by-next-field"),
        pytest.param('"G1 "G2" G3\n1 2 3\n2 3 1\n3 1 2\n', id="whitespace"),
        pytest.param('G1\t"G2\n1\t2\n2\t3\n3\t1\n', id="last-field"),
    ],
)
def test_unbalanced_quote_within_a_line_is_named(tmp_path: Path, text: str) -> None:
    # the quote used to swallow the separator after it, stay in the name, or -- left open in
    # a line's last field -- take the rest of the file into one "name", silently
    with pytest.raises(BayesGRNInputError, match="line 1 has an unbalanced double quote"):
        read_expression(write(tmp_path, text))


def test_quote_left_open_at_the_end_of_the_file(tmp_path: Path) -> None:
    text = 'sample\tG1\tG2\na\t1\t2\nb\t2\t3\nc\t3\t"4'
    with pytest.raises(BayesGRNInputError, match="line 4 has an unbalanced.*never closed"):
        read_expression(write(tmp_path, text))


def test_empty_quoted_regulator_name_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, 'G1\n""\nG2\n', "tfs.txt")
    with pytest.raises(BayesGRNInputError, match="line 2 has an empty name"):
        read_regulators(path)


def test_huge_values_are_read_without_overflow(tmp_path: Path) -> None:
    # the per-gene mean and sd overflowed (RuntimeWarning, infinite scale) for values ~1e308
    text = "sample\tG1\tG2\na\t1e308\t1\nb\t-1e308\t2\nc\t1.5e308\t4\n"
    data = read_expression(write(tmp_path, text))
    assert data.values[2, 0] == 1.5e308
    assert np.isfinite(data.scale).all()
    assert np.isfinite(data.standardized()).all()
