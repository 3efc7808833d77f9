"""Tests for ``bayesgrn.dream4``: the DREAM4 in-silico reader and its gold-standard paths.

The tests on small synthetic files always run; those on the official challenge files skip
when ``../shared/data/dream4/size100`` (next to the repository) is absent.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import numpy as np
import pandas as pd
import pytest

import bayesgrn as bg
from bayesgrn.dream4 import DREAM4_TABLES, default_pseudocount, dream4_gold_standard

DREAM4_ROOT = Path(__file__).resolve().parents[2] / "shared" / "data" / "dream4"
SIZE100 = DREAM4_ROOT / "size100"
PEERS_PATH = Path(__file__).resolve().parents[1] / "examples" / "benchmarks" / "peers.py"

needs_data = pytest.mark.skipif(not SIZE100.is_dir(), reason=f"DREAM4 data not found at {SIZE100}")


def _load_peers() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bayesgrn_benchmark_peers_dream4", PEERS_PATH)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _raw(table: str, network: int = 1) -> pd.DataFrame:
    """A table read independently of bayesgrn (pandas strips the header's quotes)."""
    return pd.read_csv(SIZE100 / f"insilico_size100_{network}_{table}.tsv", sep="\t")


# ---------------------------------------------------------------------- synthetic files
SIZE = 3
# the multifactorial file's column New is original gene Old
NEW_TO_OLD = {"G1": "G3", "G2": "G1", "G3": "G2"}


def _write(path: Path, header: list[str], rows: np.ndarray) -> None:
    lines = ["\t".join(f'"{h}"' for h in header)]
    lines += ["\t".join(f"{v:.7f}" for v in row) for row in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


@pytest.fixture
def synthetic(tmp_path: Path) -> Path:
    """A size-3 network 1 in the DREAM4 layout, with values that identify genes.

    Every value of original gene ``Gk`` lies in ``[k/10, k/10 + 0.05)``, so a column
    landing under the wrong name is caught.
    """
    rng = np.random.default_rng(0)
    genes = [f"G{k + 1}" for k in range(SIZE)]
    base = np.arange(1, SIZE + 1) / 10.0

    def rows(n: int) -> np.ndarray:
        return base + 0.05 * rng.random((n, SIZE))

    prefix = f"insilico_size{SIZE}_1_"
    _write(tmp_path / f"{prefix}wildtype.tsv", genes, rows(1))
    knockouts = rows(SIZE)
    knockouts[np.arange(SIZE), np.arange(SIZE)] = 0.0  # row i deletes gene G(i+1)
    _write(tmp_path / f"{prefix}knockouts.tsv", genes, knockouts)
    knockdowns = rows(SIZE)
    knockdowns[np.arange(SIZE), np.arange(SIZE)] /= 2.0
    _write(tmp_path / f"{prefix}knockdowns.tsv", genes, knockdowns)
    multi = rows(4)  # columns in original order G1..G3 ...
    new_order = [next(n for n, o in NEW_TO_OLD.items() if o == g) for g in genes]
    _write(tmp_path / f"{prefix}multifactorial.tsv", new_order, multi)  # ... renamed
    ref = ['"New"\t"Old"'] + [f"{n}\t{o}" for n, o in NEW_TO_OLD.items()]
    (tmp_path / f"insilico_size{SIZE}_multifactorial_1_goldstandard_ref.tsv").write_text(
        "\n".join(ref) + "\n", encoding="utf-8"
    )
    return tmp_path


def test_synthetic_design_and_names(synthetic: Path) -> None:
    data = bg.read_dream4(synthetic, 1, size=SIZE, transform=None)
    assert data.genes == ("G1", "G2", "G3")
    assert data.samples == (
        "wildtype_1",
        "knockout_G1", "knockout_G2", "knockout_G3",
        "knockdown_G1", "knockdown_G2", "knockdown_G3",
        "multifactorial_1", "multifactorial_2", "multifactorial_3", "multifactorial_4",
    )  # fmt: skip
    assert data.perturbation == ("none",) + ("knockout",) * 3 + ("knockdown",) * 3 + ("none",) * 4
    assert data.condition == ("wildtype",) * 7 + ("multifactorial",) * 4
    expected = np.zeros((11, SIZE), dtype=bool)
    expected[1:4] = np.eye(SIZE, dtype=bool)
    expected[4:7] = np.eye(SIZE, dtype=bool)
    np.testing.assert_array_equal(data.perturbed, expected)
    # every original gene's values sit in its own band: the multifactorial columns moved
    frame = data.to_frame()
    unperturbed = frame.where(~expected)
    for k, gene in enumerate(data.genes, start=1):
        column = unperturbed[gene].dropna()
        assert ((column >= k / 10 - 1e-9) & (column < k / 10 + 0.05)).all(), gene


def test_synthetic_renamed_keeps_the_file_names(synthetic: Path) -> None:
    only = bg.read_dream4(
        synthetic, 1, size=SIZE, tables=("multifactorial",), names="renamed", transform=None
    )
    raw = pd.read_csv(synthetic / f"insilico_size{SIZE}_1_multifactorial.tsv", sep="\t")
    np.testing.assert_allclose(only.to_frame()[list(raw.columns)].to_numpy(), raw.to_numpy())
    # with other tables, "renamed" maps them Old -> New: knocking out original G1 = new G2
    both = bg.read_dream4(synthetic, 1, size=SIZE, names="renamed", transform=None)
    row = both.samples.index("knockout_G2")
    assert both.genes[int(np.flatnonzero(both.perturbed[row])[0])] == "G2"
    assert both.to_frame().loc["knockout_G2", "G2"] == 0.0
    band = both.to_frame().loc["wildtype_1", "G2"]  # new G2 is old G1: band [0.1, 0.15)
    assert 0.1 <= band < 0.15


def test_synthetic_tables_order_and_pseudocount(synthetic: Path) -> None:
    data = bg.read_dream4(synthetic, 1, size=SIZE, tables=["multifactorial", "knockouts"])
    assert data.samples[0] == "knockout_G1"  # canonical order, whatever the order given
    assert data.transform == "log"
    assert data.pseudocount == pytest.approx(0.01)  # largest level < 1: 1% of 1
    raw = bg.read_dream4(synthetic, 1, size=SIZE, tables=["multifactorial", "knockouts"],
                         transform=None)  # fmt: skip
    np.testing.assert_allclose(data.values, np.log(raw.values + 0.01))
    assert default_pseudocount(np.array([[0.0, 870.0]])) == pytest.approx(10.0)
    assert default_pseudocount(np.zeros((2, 2))) == 0.0


@pytest.mark.parametrize(
    ("missing", "tables", "names"),
    [
        ("insilico_size3_1_knockouts.tsv", DREAM4_TABLES, "original"),
        ("insilico_size3_1_wildtype.tsv", ("wildtype", "knockouts"), "original"),
        ("insilico_size3_multifactorial_1_goldstandard_ref.tsv", DREAM4_TABLES, "original"),
        ("insilico_size3_multifactorial_1_goldstandard_ref.tsv", ("knockouts",), "renamed"),
    ],
)
def test_missing_file_is_named(
    synthetic: Path, missing: str, tables: tuple[str, ...], names: str
) -> None:
    (synthetic / missing).unlink()
    with pytest.raises(bg.BayesGRNInputError, match=missing) as info:
        bg.read_dream4(synthetic, 1, size=SIZE, tables=tables, names=names)
    assert "expected the DREAM4 layout" in str(info.value)


def test_the_rename_map_is_only_needed_when_used(synthetic: Path) -> None:
    (synthetic / f"insilico_size{SIZE}_multifactorial_1_goldstandard_ref.tsv").unlink()
    data = bg.read_dream4(synthetic, 1, size=SIZE, tables=("wildtype", "knockouts"))
    assert data.n_samples == 1 + SIZE
    only = bg.read_dream4(synthetic, 1, size=SIZE, tables=("multifactorial",), names="renamed")
    assert only.n_samples == 4


def test_bad_files_and_arguments(synthetic: Path, tmp_path: Path) -> None:
    with pytest.raises(bg.BayesGRNInputError, match="does not exist"):
        bg.read_dream4(tmp_path / "nowhere", 1, size=SIZE)
    with pytest.raises(bg.BayesGRNInputError, match="tables must be"):
        bg.read_dream4(synthetic, 1, size=SIZE, tables=("timeseries",))
    with pytest.raises(bg.BayesGRNInputError, match="names must be"):
        bg.read_dream4(synthetic, 1, size=SIZE, names="new")
    with pytest.raises(bg.BayesGRNInputError, match="network must be"):
        bg.read_dream4(synthetic, 0, size=SIZE)
    with pytest.raises(bg.BayesGRNInputError, match="DREAM4_GoldStandard_InSilico_Size3_1.tsv"):
        dream4_gold_standard(synthetic, 1, size=SIZE)
    # one knockout row too few
    path = synthetic / f"insilico_size{SIZE}_1_knockouts.tsv"
    path.write_text("\n".join(path.read_text().splitlines()[:-1]) + "\n")
    with pytest.raises(bg.BayesGRNInputError, match="one row per gene"):
        bg.read_dream4(synthetic, 1, size=SIZE)
    # a header that is not the network's genes
    path = synthetic / f"insilico_size{SIZE}_1_knockdowns.tsv"
    path.write_text(path.read_text().replace('"G3"', '"G9"', 1))
    with pytest.raises(bg.BayesGRNInputError, match="header must name the genes"):
        bg.read_dream4(synthetic, 1, size=SIZE, tables=("knockdowns",))
    # a non-numeric cell
    path = synthetic / f"insilico_size{SIZE}_1_multifactorial.tsv"
    lines = path.read_text().splitlines()
    lines[2] = "x\t" + lines[2].split("\t", 1)[1]
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(bg.BayesGRNInputError, match=r"data row 2, gene 'G2' holds 'x'"):
        bg.read_dream4(synthetic, 1, size=SIZE, tables=("multifactorial",), names="renamed")


# ---------------------------------------------------------------------- the real files
@needs_data
@pytest.mark.parametrize("directory", [SIZE100, DREAM4_ROOT])
def test_shapes(directory: Path) -> None:
    data = bg.read_dream4(directory, 1)
    assert (data.n_samples, data.n_genes) == (201 + 100, 100)
    assert data.genes == tuple(f"G{k}" for k in range(1, 101))
    assert data.condition.count("wildtype") == 201
    assert data.condition.count("multifactorial") == 100
    assert data.perturbation.count("knockout") == data.perturbation.count("knockdown") == 100
    assert data.pseudocount == pytest.approx(0.01)
    assert data.samples[:2] == ("wildtype_1", "knockout_G1")
    assert data.samples[-1] == "multifactorial_100"


@needs_data
def test_knockout_and_knockdown_design() -> None:
    data = bg.read_dream4(SIZE100, 1, transform=None)
    frame = data.to_frame()
    knockouts, knockdowns = _raw("knockouts"), _raw("knockdowns")
    wildtype = _raw("wildtype").iloc[0]
    for i in range(100):
        gene = f"G{i + 1}"
        for kind, raw in (("knockout", knockouts), ("knockdown", knockdowns)):
            sample = f"{kind}_{gene}"
            row = data.samples.index(sample)
            assert data.perturbation[row] == kind
            assert [data.genes[j] for j in np.flatnonzero(data.perturbed[row])] == [gene]
            np.testing.assert_allclose(frame.loc[sample].to_numpy(), raw.iloc[i].to_numpy())
        # the deleted gene is the lowest of its knockout row (it sits at 0 in network 1)
        assert frame.loc[f"knockout_{gene}"].idxmin() == gene
    # knockdown halves the transcription rate: the gene drops to about half its wild type
    ratio = np.array(
        [frame.loc[f"knockdown_G{k}", f"G{k}"] / wildtype[f"G{k}"] for k in range(1, 101)]
    )
    assert 0.4 < np.median(ratio) < 0.6
    assert not data.perturbed[data.samples.index("wildtype_1")].any()
    assert not data.perturbed[[s.startswith("multifactorial") for s in data.samples]].any()


@needs_data
def test_multifactorial_mapped_back_to_original_names() -> None:
    raw = _raw("multifactorial")
    data = bg.read_dream4(SIZE100, 1, tables=("multifactorial",), transform=None)
    frame = data.to_frame()
    # hand-picked lines of insilico_size100_multifactorial_1_goldstandard_ref.tsv (New Old)
    for new, old in [("G56", "G1"), ("G45", "G2"), ("G100", "G3"), ("G20", "G4")]:
        np.testing.assert_array_equal(frame[old].to_numpy(), raw[new].to_numpy())
    # the same data in the combined table, after the 201 wild-type/knockout/knockdown rows
    combined = bg.read_dream4(SIZE100, 1, transform=None).to_frame()
    np.testing.assert_array_equal(combined.iloc[201:].to_numpy(), frame.to_numpy())
    # statistically: mapped back, each gene's multifactorial mean tracks its wild-type level
    wildtype = _raw("wildtype").iloc[0][list(data.genes)].to_numpy()
    assert np.corrcoef(wildtype, frame.mean().to_numpy())[0, 1] > 0.9
    assert np.corrcoef(wildtype, raw[list(data.genes)].mean().to_numpy())[0, 1] < 0.3


@needs_data
def test_renamed_matches_the_multifactorial_gold_standard() -> None:
    raw = _raw("multifactorial")
    renamed = bg.read_dream4(
        SIZE100, 1, tables=("multifactorial",), names="renamed", transform=None
    )
    np.testing.assert_array_equal(renamed.to_frame()[list(raw.columns)].to_numpy(), raw.to_numpy())
    original = bg.read_dream4(SIZE100, 1, tables=("multifactorial",), transform=None)
    gold_renamed = dream4_gold_standard(SIZE100, 1, multifactorial=True)
    gold = dream4_gold_standard(SIZE100, 1)
    assert gold_renamed.name == "DREAM4_GoldStandard_InSilico_Size100_multifactorial_1.tsv"
    assert gold.name == "DREAM4_GoldStandard_InSilico_Size100_1.tsv"
    # the same scores rank alike in either naming: the map and the gold standards agree
    # (up to the order of tied pairs -- |Pearson| is symmetric -- so not to the last digit)
    peers = _load_peers()

    def pearson(data: bg.ExpressionData) -> pd.DataFrame:
        return peers.scores_to_edges(peers.pearson_scores(data.values), data.genes, data.genes)

    in_renamed = bg.evaluate(pearson(renamed), gold_renamed)
    in_original = bg.evaluate(pearson(original), gold)
    assert in_renamed["aupr"] == pytest.approx(in_original["aupr"], abs=0.002)
    assert in_renamed["auroc"] == pytest.approx(in_original["auroc"], abs=0.002)
    assert in_original["auroc"] > 0.6  # and it is a real signal, not chance
    shuffled = bg.evaluate(pearson(renamed), gold)  # wrong naming: chance level
    assert shuffled["auroc"] < 0.56


@needs_data
def test_knockout_zscore_reproduces_the_dream4_baseline() -> None:
    peers = _load_peers()
    data = bg.read_dream4(SIZE100, 1, tables=("wildtype", "knockouts"), transform=None)
    is_ko = np.array([p == "knockout" for p in data.perturbation])
    knocked = data.perturbed[is_ko].argmax(axis=1)
    scores = peers.knockout_zscores(data.values[~is_ko], data.values[is_ko], knocked)
    edges = peers.scores_to_edges(scores, data.genes, data.genes)
    metrics = bg.evaluate(edges, dream4_gold_standard(SIZE100, 1))
    assert metrics["n_true"] == 176
    assert metrics["aupr"] == pytest.approx(0.456, abs=0.02)


def test_cli_dream4_fits_and_scores(synthetic: Path, tmp_path: Path, capsys) -> None:
    from bayesgrn.cli import main

    genes = [f"G{k + 1}" for k in range(SIZE)]
    pairs = [(r, t) for r in genes for t in genes if r != t]
    lines = [f"{r}\t{t}\t{int((r, t) in {('G1', 'G2'), ('G2', 'G3')})}" for r, t in pairs]
    (synthetic / f"DREAM4_GoldStandard_InSilico_Size{SIZE}_1.tsv").write_text(
        "\n".join(lines) + "\n"
    )
    out = tmp_path / "run"
    argv = ["dream4", str(synthetic), "--network", "1", "--size", str(SIZE), "--out", str(out)]
    assert main([*argv, "--steps", "5", "--no-progress", "--device", "cpu", "-q"]) == 0
    assert {p.name for p in out.iterdir()} == {
        "edges.tsv",
        "selected.tsv",
        "posterior.npz",
        "summary.json",
    }
    printed = capsys.readouterr().out
    assert "scored against DREAM4_GoldStandard_InSilico_Size3_1.tsv" in printed
    assert "AUPR" in printed
    # a missing table is one clear line and exit status 2
    (synthetic / f"insilico_size{SIZE}_1_knockdowns.tsv").unlink()
    assert main([*argv, "--overwrite"]) == 2
    assert "insilico_size3_1_knockdowns.tsv' is missing" in capsys.readouterr().err
