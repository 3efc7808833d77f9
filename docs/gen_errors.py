"""Generate ``docs/errors.md``: a catalogue of bad inputs and the exact error each one gets.

Every entry is run, not written by hand: the call shown in the catalogue is the very
expression evaluated here (with ``file`` bound to a temporary file holding the snippet), and
the message is whatever bayesgrn raised, with the temporary path replaced by ``<file>``.
``tests/test_errors_doc.py`` regenerates the catalogue and compares it with the committed
file, so the catalogue cannot go stale.

Run from the repository root::

    .venv/bin/python docs/gen_errors.py
"""

from __future__ import annotations

import gzip
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

import bayesgrn as bg
from bayesgrn.cli import read_design
from bayesgrn.knowledge import read_edge_list

OUTPUT = Path(__file__).resolve().parent / "errors.md"
SCRIPT = "docs/gen_errors.py"


@dataclass(frozen=True)
class Case:
    """One bad input: the file it is (if any), the call, and why it is wrong."""

    title: str
    call: str
    content: str | bytes | None = None
    name: str = "expr.tsv"
    shown: str | None = None  # how to show ``content`` when it is not text


H = "sample\tperturbation\tperturbed_gene\n"
GOOD = "sample\tG1\tG2\tG3\na\t1.0\t2.5\t0.3\nb\t2.0\t0.5\t1.1\nc\t3.5\t1.0\t0.7\n"


def _gzip_truncated() -> bytes:
    return gzip.compress(GOOD.encode())[:-12]


SECTIONS: list[tuple[str, str, list[Case]]] = [
    (
        "Expression tables: `read_expression`",
        "`bayesgrn.read_expression(path, ...)` and `bayesgrn fit EXPR`. The messages give the "
        "file, the line and -- for a cell -- the sample and gene.",
        [
            Case("The file does not exist", "read_expression(file)", None),
            Case("A directory instead of a file", "read_expression(file.parent)"),
            Case("An empty file", "read_expression(file)", ""),
            Case("Only blank lines", "read_expression(file)", "\n  \n\t\n"),
            Case("A header but no data rows", "read_expression(file)", "G1\tG2\tG3\n"),
            Case(
                "Not UTF-8 (a latin-1 file)",
                "read_expression(file)",
                b"sample\tG1\tG2\na\t1\t2\nb\xe9\t2\t3\nc\t3\t1\n",
            ),
            Case(
                "An Excel workbook",
                "read_expression(file)",
                b"PK\x03\x04...",
                "expr.xlsx",
                "(an .xlsx workbook: a zip archive)",
            ),
            Case(
                "A truncated gzip file",
                "read_expression(file)",
                _gzip_truncated(),
                "expr.tsv.gz",
                "(the first bytes of a gzip-compressed table)",
            ),
            Case("NUL bytes (a binary file)", "read_expression(file)", "G1\tG2\n1\t2\x00\n"),
            Case(
                "The separator is not tab, comma, semicolon or whitespace",
                "read_expression(file)",
                "G1|G2|G3\n1|2|3\n2|3|1\n3|1|2\n",
            ),
            Case(
                "An unsupported separator option",
                "read_expression(file, sep='||')",
                GOOD,
            ),
            Case(
                "An empty name in the header",
                "read_expression(file)",
                "sample\tG1\t\tG3\na\t1\t2\t3\nb\t2\t3\t1\nc\t3\t1\t2\n",
            ),
            Case(
                "No header (the first line holds numbers)",
                "read_expression(file)",
                "0.5\t1.2\t3.1\n1.5\t0.2\t2.2\n2.5\t1.1\t0.4\n",
            ),
            Case(
                "A row with a missing value (ragged)",
                "read_expression(file)",
                "sample\tG1\tG2\tG3\na\t1\t2\t3\nb\t2\t3\nc\t3\t1\t2\n",
            ),
            Case(
                "A row with an extra value (ragged)",
                "read_expression(file)",
                "sample,G1,G2\na,1,2\nb,2,3,4\nc,3,1\n",
            ),
            Case(
                "An unbalanced double quote",
                "read_expression(file)",
                'sample,G1,G2\na,1,2\n"b,2,3\nc,3,1\n',
            ),
            Case(
                "A first column that mixes names and numbers",
                "read_expression(file)",
                "G1\tG2\tG3\n1\t2\t3\nx1\t2\t1\n3\t1\t2\n",
            ),
            Case(
                "A non-numeric cell",
                "read_expression(file)",
                "sample\tG1\tG2\na\t1\t2\nb\t2\tabc\nc\t3\t1\n",
            ),
            Case(
                "A decimal comma without `decimal=','`",
                "read_expression(file)",
                "sample;G1;G2\na;1,5;2\nb;2,5;1\nc;0,5;3\n",
                "expr.csv",
            ),
            Case(
                "A decimal comma with a comma separator",
                "read_expression(file, sep=',', decimal=',')",
                GOOD,
            ),
            Case(
                "A missing value (`NA`)",
                "read_expression(file)",
                "sample,G1,G2\na,1,2\nb,2,NA\nc,3,1\n",
                "expr.csv",
            ),
            Case(
                "An empty cell",
                "read_expression(file)",
                "sample,G1,G2\na,1,2\nb,,3\nc,3,1\n",
                "expr.csv",
            ),
            Case(
                "An infinite value",
                "read_expression(file)",
                "sample\tG1\tG2\na\t1\t2\nb\t2\tinf\nc\t3\t1\n",
            ),
            Case(
                "A duplicated gene name",
                "read_expression(file)",
                "sample\tG1\tG2\tG1\na\t1\t2\t3\nb\t2\t3\t1\nc\t5\t1\t2\n",
            ),
            Case(
                "A duplicated sample name",
                "read_expression(file)",
                "sample\tG1\tG2\na\t1\t2\nb\t2\t3\na\t5\t1\n",
            ),
            Case(
                "Numeric gene IDs, or data? (genes x samples, no corner cell)",
                "read_expression(file, orientation='genes_by_samples')",
                "s1\ts2\ts3\n101\t1.0\t2.0\n102\t2.0\t3.0\n",
            ),
            Case(
                "Too few samples (the table is genes x samples)",
                "read_expression(file)",
                "gene\ts1\ts2\ts3\ts4\nG1\t1\t2\t3\t4\nG2\t2\t3\t1\t5\n",
            ),
            Case(
                "A constant (all-zero) gene",
                "read_expression(file)",
                "sample\tG1\tG2\tG3\na\t1\t0\t3\nb\t2\t0\t1\nc\t5\t0\t2\n",
            ),
            Case(
                "A regulator that is not a gene (wrong case)",
                "read_expression(file, regulators=['g1', 'TF9'])",
                GOOD,
            ),
            Case(
                "`orientation='auto'` without regulators",
                "read_expression(file, orientation='auto')",
                GOOD,
            ),
            Case(
                "`orientation='auto'` with regulators on both axes",
                "read_expression(file, orientation='auto', regulators=['G1', 'a'])",
                GOOD,
            ),
            Case("An unknown orientation", "read_expression(file, orientation='rows')", GOOD),
            Case(
                "The log of a negative value",
                "read_expression(file, transform='log')",
                "sample\tG1\tG2\na\t1\t5\nb\t-1\t3\nc\t4\t2\n",
            ),
            Case("An unknown transform", "read_expression(file, transform='log2')", GOOD),
            Case(
                "`row_names=False` for an R-style table (header one field short)",
                "read_expression(file, row_names=False)",
                "G1,G2\na,1,2\nb,2,3\nc,3,1\n",
                "expr.csv",
            ),
        ],
    ),
    (
        "Regulator lists: `read_regulators`",
        "`read_expression(..., regulators=path)`, `bayesgrn fit --regulators`.",
        [
            Case("An empty file", "read_regulators(file)", "", "tfs.txt"),
            Case("Only comments", "read_regulators(file)", "# candidate TFs\n\n", "tfs.txt"),
            Case(
                "Several names on the only line",
                "read_regulators(file)",
                "G1,G2,G3\n",
                "tfs.txt",
            ),
            Case("An empty quoted name", "read_regulators(file)", 'G1\n""\nG2\n', "tfs.txt"),
            Case("A name that is not a file", "read_regulators('G1')"),
            Case("Neither a path nor a list", "read_regulators(3)"),
        ],
    ),
    (
        "Known and forbidden edges",
        "`fit(..., known_edges=path, forbidden_edges=path)` and `bayesgrn fit --known-edges/"
        "--forbidden-edges`; files are read by `bayesgrn.knowledge.read_edge_list`.",
        [
            Case(
                "An empty file",
                "read_edge_list(file, 'known edges', with_confidence=True)",
                "# no edges yet\n",
                "known.tsv",
            ),
            Case(
                "A header but no edges",
                "read_edge_list(file, 'forbidden edges', with_confidence=False)",
                "regulator\ttarget\n",
                "forbidden.tsv",
            ),
            Case(
                "A single column",
                "read_edge_list(file, 'known edges', with_confidence=True)",
                "G1\nG2\n",
                "known.tsv",
            ),
            Case(
                "A ragged row",
                "read_edge_list(file, 'known edges', with_confidence=True)",
                "G1\tG2\t0.5\nG2\tG3\n",
                "known.tsv",
            ),
            Case(
                "An empty name",
                "read_edge_list(file, 'forbidden edges', with_confidence=False)",
                "G1,G2\n,G3\n",
                "forbidden.csv",
            ),
            Case(
                "A confidence outside (0, 1]",
                "read_edge_list(file, 'known edges', with_confidence=True)",
                "regulator\ttarget\tconfidence\nG1\tG2\t0.5\nG2\tG3\t2\n",
                "known.tsv",
            ),
            Case(
                "A missing confidence",
                "read_edge_list(file, 'known edges', with_confidence=True)",
                "G1\tG2\tNA\n",
                "known.tsv",
            ),
            Case(
                "A regulator that is not a candidate regulator",
                "fit(data, known_edges=[('X9', 'G1', 1.0)])",
            ),
            Case("A target that is not a gene", "fit(data, forbidden_edges=[('G1', 'nope')])"),
            Case("A self-edge", "fit(data, forbidden_edges=[('G1', 'G1')])"),
            Case(
                "An edge both known and forbidden",
                "fit(data, known_edges=[('G1', 'G2', 1.0)], forbidden_edges=[('G1', 'G2')])",
            ),
        ],
    ),
    (
        "Gold standards: `read_gold_standard`",
        "`bayesgrn.read_gold_standard(path)`, `bayesgrn.evaluate(..., gold)` and "
        "`bayesgrn evaluate EDGES GOLD`.",
        [
            Case("An empty file", "read_gold_standard(file)", "", "gold.tsv"),
            Case("A single column", "read_gold_standard(file)", "G1\nG2\n", "gold.tsv"),
            Case(
                "A ragged row",
                "read_gold_standard(file)",
                "G1\tG2\t1\nG2\tG3\nG1\tG3\t0\n",
                "gold.tsv",
            ),
            Case(
                "A label that is not 0/1", "read_gold_standard(file)", "G1\tG2\tyes\n", "gold.tsv"
            ),
            Case(
                "A non-numeric weight",
                "read_gold_standard(file)",
                "regulator\ttarget\tweight\nG1\tG2\t0.7\nG2\tG3\t-\n",
                "gold.tsv",
            ),
            Case(
                "An empty name",
                "read_gold_standard(file)",
                "G1\tG2\t1\n\tG3\t0\n",
                "gold.tsv",
            ),
        ],
    ),
    (
        "Design tables: `bayesgrn fit --design`",
        "Columns `sample, perturbation, perturbed_gene`, read by `bayesgrn.cli.read_design` "
        "against the expression table's samples (`a, b, c`) and genes (`G1, G2`).",
        [
            Case("An empty file", "read_design(file, *names)", "", "design.tsv"),
            Case(
                "A missing column",
                "read_design(file, *names)",
                "sample\tperturbation\na\tnone\n",
                "design.tsv",
            ),
            Case(
                "A ragged row",
                "read_design(file, *names)",
                H + "a\tnone\nb\tknockout\tG1\n",
                "design.tsv",
            ),
            Case(
                "A sample that is not in the table",
                "read_design(file, *names)",
                H + "a\tnone\t\nz\tknockout\tG1\n",
                "design.tsv",
            ),
            Case(
                "A sample listed twice",
                "read_design(file, *names)",
                H + "a\tnone\t\na\tknockout\tG1\n",
                "design.tsv",
            ),
            Case(
                "A perturbed gene that is not in the table",
                "read_design(file, *names)",
                H + "a\tknockout\tG9\n",
                "design.tsv",
            ),
            Case(
                "An unknown perturbation",
                "read_design(file, *names)",
                H + "a\tsilencing\tG1\n",
                "design.tsv",
            ),
            Case(
                "`none` with a perturbed gene",
                "read_design(file, *names)",
                H + "a\tnone\tG1\n",
                "design.tsv",
            ),
            Case(
                "A knockout without a gene",
                "read_design(file, *names)",
                H + "a\tknockout\t\n",
                "design.tsv",
            ),
        ],
    ),
    (
        "Tables in memory: `ExpressionData.from_array`",
        "Also `read_expression(array_or_frame)` and `fit(array_or_frame)`, which validate "
        "the same way.",
        [
            Case("A NaN", "ExpressionData.from_array(np.array([[1, 2], [np.nan, 3], [4, 1.0]]))"),
            Case(
                "An infinity", "ExpressionData.from_array(np.array([[1, 2], [3, np.inf], [4, 1]]))"
            ),
            Case(
                "A non-numeric cell in a DataFrame",
                "ExpressionData.from_array(pd.DataFrame({'G1': [1, 2, 3], 'G2': [1, 'x', 3]}))",
            ),
            Case(
                "Sample names in a column of the DataFrame",
                "ExpressionData.from_array(pd.DataFrame({'id': ['a', 'b', 'c'], 'G1': [1, 2, 3],"
                " 'G2': [3, 1, 2]}))",
            ),
            Case("Too few samples", "ExpressionData.from_array(np.arange(8.0).reshape(2, 4))"),
            Case("A single gene", "ExpressionData.from_array(np.array([[1.0], [2.0], [3.0]]))"),
            Case("A 1-d array", "ExpressionData.from_array(np.arange(4.0))"),
            Case("Complex values", "ExpressionData.from_array(np.ones((3, 2)) * 1j)"),
            Case(
                "Duplicated gene names",
                "ExpressionData.from_array(np.eye(3), genes=['G1', 'G2', 'G1'])",
            ),
            Case(
                "An empty gene name",
                "ExpressionData.from_array(np.eye(3), genes=['G1', ' ', 'G3'])",
            ),
            Case(
                "Names that do not fit the table",
                "ExpressionData.from_array(np.eye(3), genes=['G1', 'G2'])",
            ),
            Case(
                "A constant gene",
                "ExpressionData.from_array(np.array([[1, 5], [2, 5], [3, 5.0]]))",
            ),
            Case(
                "Values too spread out for float64",
                "ExpressionData.from_array(np.array([[1.7e308, 1], [-1.7e308, 2], [1.7e308, 3]]))",
            ),
            Case(
                "An unknown regulator",
                "ExpressionData.from_array(np.eye(3), regulators=['G1', 'TF9'])",
            ),
            Case(
                "A perturbation mask of the wrong shape",
                "ExpressionData.from_array(np.eye(3), perturbed=np.zeros((3, 2), bool))",
            ),
            Case(
                "An unknown perturbation kind",
                "ExpressionData.from_array(np.eye(3), perturbation=['none', 'knockout', 'cut'])",
            ),
            Case(
                "A condition list of the wrong length",
                "ExpressionData.from_array(np.eye(3), condition=['a', 'b'])",
            ),
            Case(
                "A negative pseudocount",
                "ExpressionData.from_array(np.eye(3), transform='log', pseudocount=-1)",
            ),
        ],
    ),
    (
        "Fit options and model specs: `fit`",
        "`bayesgrn.fit(data, ...)` and `bayesgrn fit`; `data` below is a valid 3-gene table.",
        [
            Case("An unknown method", "fit(data, method='mcmc')"),
            Case("An unknown dtype", "fit(data, dtype='float16')"),
            Case("Zero steps", "fit(data, num_steps=0)"),
            Case("A minibatch larger than the data", "fit(data, subsample_size=100)"),
            Case("`resume` without a checkpoint", "fit(data, resume=True)"),
            Case("An unknown model", "fit(data, model='lasso')"),
            Case("A spec file that does not exist", "fit(data, model='my_model.toml')"),
            Case("A spec option out of range", "fit(data, prior={'slab_scale': -1.0})"),
            Case("An unknown spec option", "fit(data, svi={'steps': 100})"),
            Case("A spec option of the wrong type", "fit(data, svi={'num_steps': '100'})"),
        ],
    ),
]


def _namespace(file: Path) -> dict[str, Any]:
    """Return what a case's call may use: the readers, the file, and small valid inputs."""
    rng = np.random.default_rng(0)
    data = bg.ExpressionData.from_array(rng.normal(size=(12, 3)))
    return {
        "file": file,
        "read_expression": bg.read_expression,
        "read_regulators": bg.read_regulators,
        "read_edge_list": read_edge_list,
        "read_gold_standard": bg.read_gold_standard,
        "read_design": read_design,
        "names": (["a", "b", "c"], ["G1", "G2"], "expr.tsv"),
        "ExpressionData": bg.ExpressionData,
        "fit": bg.fit,
        "data": data,
        "np": np,
        "pd": pd,
    }


def run(case: Case) -> tuple[str, str]:
    """Run ``case``; return the error's class name and its message with stable paths."""
    with tempfile.TemporaryDirectory() as tmp:
        file = Path(tmp) / case.name
        if case.content is not None:
            data = case.content.encode() if isinstance(case.content, str) else case.content
            file.write_bytes(data)
        try:
            eval(case.call, _namespace(file))  # the catalogue's own literals
        except Exception as err:  # recorded, whatever its class
            message = str(err).replace(str(file), "<file>").replace(tmp, "<dir>")
            return type(err).__name__, message
    raise AssertionError(f"{case.title!r}: {case.call} raised nothing; fix the catalogue")


def show(content: str | bytes) -> str:
    """Return a file's content as text, with the invisible characters made visible."""
    text = content.decode("utf-8", "surrogateescape") if isinstance(content, bytes) else content
    out = []
    for char in text:
        if "\udc80" <= char <= "\udcff":
            out.append(f"[0x{ord(char) - 0xDC00:02X}]")
        else:
            out.append({"\t": "→", "\r": "␍", "\ufeff": "[BOM]", "\x00": "[NUL]"}.get(char, char))
    if not text:
        return "(an empty file)"
    return "".join(out) if text.strip() else f"(only blank lines: {text!r})"


def _fence(text: str) -> list[str]:
    return ["```text", *text.rstrip("\n").split("\n"), "```"]


def render() -> str:
    """Return the whole catalogue as Markdown."""
    lines = [
        "# Input errors: a catalogue of bad inputs and their messages",
        "",
        f"<!-- Generated by {SCRIPT}; do not edit by hand. After changing a message, run "
        f"`.venv/bin/python {SCRIPT}` (tests/test_errors_doc.py checks this file is current). "
        "-->",
        "",
        "Every reader in bayesgrn checks its input and stops at the first problem with an error "
        "that names the file and the place -- line, column, sample or gene -- and says what to "
        "do. This catalogue is generated by running each case below, so the messages are "
        "exactly what bayesgrn prints.",
        "",
        "The error classes are all `ValueError` subclasses (or `ValueError` itself), so "
        "`except ValueError` catches every input problem:",
        "",
        "* `BayesGRNInputError` (`bayesgrn.BayesGRNInputError`): a file, table or option is "
        "wrong.",
        "* `CLIError` (`bayesgrn.cli.CLIError`): a problem found by the command line, such as "
        "a design table that does not match the expression table.",
        "* `ValueError`: fit options and model specs.",
        "",
        "The command line prints any of them as one line, `bayesgrn: error: <message>`, and "
        "exits with status 2.",
        "",
        "In the snippets, `<file>` is the path of the file shown, `→` is a tab, `␍` a "
        "carriage return, `[BOM]` a UTF-8 byte-order mark and `[0xE9]` a byte that is not "
        "UTF-8.",
        "",
        "## Contents",
        "",
    ]
    for title, _, cases in SECTIONS:
        anchor = "".join(c for c in title.lower() if c.isalnum() or c in " -_").replace(" ", "-")
        lines.append(f"* [{title}](#{anchor}) ({len(cases)} cases)")
    for title, intro, cases in SECTIONS:
        lines += ["", f"## {title}", "", intro]
        for number, case in enumerate(cases, start=1):
            kind, message = run(case)
            lines += ["", f"### {number}. {case.title}", ""]
            if case.content is not None:
                lines += [f"`{case.name}`:", "", *_fence(case.shown or show(case.content)), ""]
            lines += [f"`{case.call}` raises `{kind}`:", "", *_fence(message)]
    return "\n".join(lines) + "\n"


def main() -> int:
    """Rewrite ``docs/errors.md``."""
    OUTPUT.write_text(render(), encoding="utf-8")
    print(f"wrote {OUTPUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
