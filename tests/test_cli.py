"""Tests of the ``bayesgrn`` command line (in-process via ``main``, plus one subprocess)."""

from __future__ import annotations

import gzip
import json
import logging
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import bayesgrn
from bayesgrn.cli import build_parser, main, read_design

N_GENES = 6
N_SAMPLES = 30
SEED = 1
STEPS = ["--steps", "30", "--no-progress", "--device", "cpu"]
EDGE_COLUMNS = [
    "regulator", "target", "mean", "sd", "ci_lower", "ci_upper",
    "p_edge", "p_positive", "lfsr", "lfdr", "TF", "importance",
]  # fmt: skip
SUMMARY_KEYS = {"seed", "spec_hash", "steps", "final_elbo", "seconds", "device", "spec"}
H = "sample\tperturbation\tperturbed_gene\n"  # a design header


def run_cli(capsys: pytest.CaptureFixture[str], *argv: object) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def leftovers(parent: Path) -> list[str]:
    return sorted(p.name for p in parent.iterdir() if ".tmp-" in p.name or ".old-" in p.name)


@pytest.fixture(scope="module")
def sim_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("sim") / "sim"
    sizes = ["--genes", str(N_GENES), "--samples", str(N_SAMPLES), "--knockouts", "all"]
    code = main(["simulate", *sizes, "--seed", str(SEED), "--out", str(out), "-q"])
    assert code == 0
    return out


@pytest.fixture(scope="module")
def fit_dir(sim_dir: Path) -> Path:
    out = sim_dir.parent / "run"
    code = main(["fit", str(sim_dir / "expression.tsv"), "--out", str(out), "-q", *STEPS])
    assert code == 0
    return out


# ---------------------------------------------------------------------- help and usage
def test_module_help_runs_in_a_subprocess() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bayesgrn", "--help"], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    for command in ("fit", "simulate", "evaluate", "demo", "specs"):
        assert command in result.stdout
    assert result.stdout.startswith("usage: bayesgrn")


@pytest.mark.parametrize("command", ["fit", "simulate", "evaluate", "demo", "specs"])
def test_every_command_has_help_with_examples(capsys, command) -> None:
    code, out, _ = run_cli(capsys, command, "--help")
    assert code == 0
    assert f"usage: bayesgrn {command}" in out
    assert "example" in out


def test_usage_errors_return_2_without_raising(capsys) -> None:
    code, _, err = run_cli(capsys, "fit", "expr.tsv")  # --out missing
    assert code == 2
    assert "--out" in err
    code, _, err = run_cli(capsys, "simulate", "--genes", "-3", "--samples", "5", "--out", "x")
    assert code == 2
    assert "positive integer" in err


@pytest.mark.parametrize(
    ("argv", "level"),
    [
        (["specs"], logging.INFO),
        (["-q", "specs"], logging.WARNING),
        (["specs", "-q"], logging.WARNING),
        (["-v", "specs"], logging.DEBUG),
    ],
)
def test_verbosity_is_accepted_before_and_after_the_command(argv, level) -> None:
    assert build_parser().parse_args(argv).log_level == level


def test_specs_lists_the_bundled_model(capsys) -> None:
    code, out, _ = run_cli(capsys, "specs")
    assert code == 0
    assert "horseshoe" in out
    assert bayesgrn.load_spec("horseshoe").hash in out


# ---------------------------------------------------------------------- simulate
def test_simulate_writes_expression_design_and_gold(sim_dir: Path) -> None:
    assert sorted(p.name for p in sim_dir.iterdir()) == [
        "design.tsv",
        "expression.tsv",
        "gold.tsv",
    ]
    expression = pd.read_csv(sim_dir / "expression.tsv", sep="\t", index_col=0)
    design = pd.read_csv(sim_dir / "design.tsv", sep="\t", keep_default_na=False)
    gold = pd.read_csv(sim_dir / "gold.tsv", sep="\t")
    sim = bayesgrn.simulate(N_GENES, N_SAMPLES, knockouts="all", seed=SEED)
    assert expression.index.name == "sample"
    assert expression.shape == (N_SAMPLES + N_GENES, N_GENES)
    np.testing.assert_allclose(expression.to_numpy(), sim.data.values, rtol=1e-12)
    assert list(design.columns) == ["sample", "perturbation", "perturbed_gene"]
    assert list(design["sample"]) == list(expression.index)
    knocked = design[design["perturbation"] == "knockout"]
    assert list(knocked["perturbed_gene"]) == list(sim.data.genes)
    assert (design.loc[design["perturbation"] == "none", "perturbed_gene"] == "").all()
    assert list(gold.columns) == ["regulator", "target", "weight"]
    pd.testing.assert_frame_equal(gold, sim.gold.astype({"regulator": str, "target": str}))


# ---------------------------------------------------------------------- fit
def test_fit_writes_edges_posterior_and_summary(fit_dir: Path) -> None:
    assert sorted(p.name for p in fit_dir.iterdir()) == [
        "edges.tsv", "posterior.npz", "selected.tsv", "summary.json",
    ]  # fmt: skip
    assert leftovers(fit_dir.parent) == []
    edges = pd.read_csv(fit_dir / "edges.tsv", sep="\t")
    assert list(edges.columns) == EDGE_COLUMNS
    assert len(edges) == N_GENES * (N_GENES - 1)  # every regulator x every other gene
    assert (edges["regulator"] != edges["target"]).all()
    assert (np.diff(edges["p_edge"].to_numpy()) <= 0).all()
    assert edges["p_edge"].between(0, 1).all()
    assert (edges["ci_lower"] <= edges["mean"]).all()
    assert (edges["mean"] <= edges["ci_upper"]).all()
    summary = json.loads((fit_dir / "summary.json").read_text())
    assert SUMMARY_KEYS <= set(summary)
    assert summary["seed"] == 0
    assert summary["steps"] == 30
    assert summary["device"] == "cpu"
    assert summary["spec"]["name"] == "horseshoe"
    posterior = bayesgrn.Posterior.load(fit_dir / "posterior.npz")
    assert posterior.spec_hash == summary["spec_hash"]
    assert posterior.regulators == tuple(f"G{i + 1}" for i in range(N_GENES))
    reloaded = posterior.edges(ci_prob=summary["ci_prob"])
    np.testing.assert_allclose(edges["p_edge"], reloaded["p_edge"], rtol=1e-6)


def test_fit_with_regulators_limits_the_rows(capsys, sim_dir: Path, tmp_path: Path) -> None:
    regulators = tmp_path / "tfs.txt"
    regulators.write_text("G2\nG5\n")
    out = tmp_path / "run"
    args = ["fit", sim_dir / "expression.tsv", "--regulators", regulators, "--out", out, *STEPS]
    code, _, err = run_cli(capsys, *args)
    assert code == 0, err
    edges = pd.read_csv(out / "edges.tsv", sep="\t")
    assert len(edges) == 2 * (N_GENES - 1)
    assert set(edges["regulator"]) == {"G2", "G5"}


def test_fit_refuses_a_non_empty_out(capsys, sim_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    out.mkdir()
    (out / "notes.txt").write_text("keep me")
    code, stdout, err = run_cli(capsys, "fit", sim_dir / "expression.tsv", "--out", out, *STEPS)
    assert code == 2
    assert err.startswith("bayesgrn: error: ")
    assert err.count("\n") == 1
    assert "--overwrite" in err
    assert str(out) in err
    assert stdout == ""
    assert [p.name for p in out.iterdir()] == ["notes.txt"]
    assert (out / "notes.txt").read_text() == "keep me"
    # --overwrite never deletes files bayesgrn did not write
    code, _, err = run_cli(
        capsys, "fit", sim_dir / "expression.tsv", "--out", out, "--overwrite", *STEPS
    )
    assert code == 2
    assert "notes.txt" in err
    assert (out / "notes.txt").read_text() == "keep me"
    assert leftovers(tmp_path) == []


def test_fit_into_an_existing_empty_directory(capsys, sim_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    out.mkdir()
    code, _, _ = run_cli(capsys, "fit", sim_dir / "expression.tsv", "--out", out, *STEPS)
    assert code == 0
    assert (out / "edges.tsv").is_file()
    assert leftovers(tmp_path) == []


def test_overwrite_replaces_a_previous_run(capsys, sim_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "nested" / "run"
    expr = sim_dir / "expression.tsv"
    assert run_cli(capsys, "fit", expr, "--out", out, "--seed", "1", *STEPS)[0] == 0
    first = (out / "edges.tsv").read_text()
    code, _, err = run_cli(capsys, "fit", expr, "--out", out, "--seed", "2", "--overwrite", *STEPS)
    assert code == 0, err
    assert json.loads((out / "summary.json").read_text())["seed"] == 2
    assert (out / "edges.tsv").read_text() != first
    assert sorted(p.name for p in out.iterdir()) == [
        "edges.tsv", "posterior.npz", "selected.tsv", "summary.json",
    ]  # fmt: skip
    assert leftovers(out.parent) == []


def _bad_table(tmp_path: Path, sim_dir: Path) -> tuple[Path, str]:
    frame = pd.read_csv(sim_dir / "expression.tsv", sep="\t", index_col=0)
    frame = frame.astype(object)
    frame.iloc[4, 2] = "oops"
    path = tmp_path / "bad.tsv"
    frame.to_csv(path, sep="\t")
    return path, "oops"


@pytest.mark.parametrize("problem", ["non_numeric", "missing_file", "unknown_regulator", "design"])
def test_failing_fit_leaves_no_output(capsys, sim_dir: Path, tmp_path: Path, problem: str) -> None:
    expr = sim_dir / "expression.tsv"
    extra: list[object] = []
    if problem == "non_numeric":
        expr, needle = _bad_table(tmp_path, sim_dir)
    elif problem == "missing_file":
        expr = tmp_path / "no_such_table.tsv"
        needle = "no_such_table.tsv"
    elif problem == "unknown_regulator":
        regulators = tmp_path / "tfs.txt"
        regulators.write_text("G1\nNOTAGENE\n")
        extra, needle = ["--regulators", regulators], "NOTAGENE"
    else:
        design = pd.read_csv(sim_dir / "design.tsv", sep="\t", keep_default_na=False)
        design.loc[N_SAMPLES, "perturbed_gene"] = "G99"
        design.to_csv(tmp_path / "design.tsv", sep="\t", index=False)
        extra, needle = ["--design", tmp_path / "design.tsv"], "G99"
    out = tmp_path / "run"
    code, stdout, err = run_cli(capsys, "fit", expr, "--out", out, *extra, *STEPS)
    assert code == 2
    assert err.startswith("bayesgrn: error: ")
    assert err.count("\n") == 1  # one line, no traceback
    assert "Traceback" not in err
    assert needle in err
    assert stdout == ""
    assert not out.exists()
    assert leftovers(tmp_path) == []


def test_design_with_unknown_sample_is_named(capsys, sim_dir: Path, tmp_path: Path) -> None:
    design = tmp_path / "design.tsv"
    design.write_text("sample\tperturbation\tperturbed_gene\nnot_a_sample\tknockout\tG1\n")
    out = tmp_path / "run"
    args = ["fit", sim_dir / "expression.tsv", "--design", design, "--out", out, *STEPS]
    code, _, err = run_cli(capsys, *args)
    assert code == 2
    assert "not_a_sample" in err
    assert str(design) in err
    assert not out.exists()


def test_failure_while_writing_leaves_nothing(capsys, monkeypatch, sim_dir, tmp_path) -> None:
    def broken_save(self, path):
        Path(path).write_bytes(b"partial")
        raise OSError("disk full")

    monkeypatch.setattr(bayesgrn.Posterior, "save", broken_save)
    out = tmp_path / "deep" / "run"
    code, _, err = run_cli(capsys, "fit", sim_dir / "expression.tsv", "--out", out, *STEPS)
    assert code == 2
    assert "disk full" in err
    assert not (tmp_path / "deep").exists()  # nor the parent it created
    assert leftovers(tmp_path) == []


def test_interrupt_exits_130_without_output(capsys, monkeypatch, sim_dir, tmp_path) -> None:
    def interrupted_save(self, path):
        raise KeyboardInterrupt

    monkeypatch.setattr(bayesgrn.Posterior, "save", interrupted_save)
    out = tmp_path / "run"
    code, _, err = run_cli(capsys, "fit", sim_dir / "expression.tsv", "--out", out, *STEPS)
    assert code == 130
    assert "interrupted" in err
    assert not out.exists()
    assert leftovers(tmp_path) == []


def test_bad_ci_prob_is_refused_before_fitting(capsys, monkeypatch, sim_dir, tmp_path) -> None:
    monkeypatch.setattr(bayesgrn, "fit", lambda *a, **k: pytest.fail("fit must not run"))
    args = ["fit", sim_dir / "expression.tsv", "--out", tmp_path / "run", "--ci-prob", "1.5"]
    code, _, err = run_cli(capsys, *args)
    assert code == 2
    assert "--ci-prob" in err


# ---------------------------------------------------------------------- round trip
def test_simulate_fit_design_evaluate_round_trip(capsys, sim_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    expr, design = sim_dir / "expression.tsv", sim_dir / "design.tsv"
    code, _, err = run_cli(capsys, "fit", expr, "--design", design, "--out", out, *STEPS)
    assert code == 0, err
    # the design sets the standardisation: sds over each gene's unperturbed samples only
    sim = bayesgrn.simulate(N_GENES, N_SAMPLES, knockouts="all", seed=SEED)
    posterior = bayesgrn.Posterior.load(out / "posterior.npz")
    np.testing.assert_allclose(posterior.target_scale, sim.data.scale, rtol=1e-6)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["inputs"]["design"] == str(design)

    code, table, err = run_cli(capsys, "evaluate", out / "edges.tsv", sim_dir / "gold.tsv")
    assert code == 0, err
    assert "AUROC" in table
    assert "AUPR" in table
    assert "precision@10" in table
    args = ["evaluate", out / "edges.tsv", sim_dir / "gold.tsv", "--json", "--k", "3,5"]
    code, text, _ = run_cli(capsys, *args)
    assert code == 0
    metrics = json.loads(text)
    assert set(metrics) == {
        "auroc",
        "aupr",
        "n_true",
        "n_pairs",
        "precision_at_3",
        "precision_at_5",
    }
    assert metrics["n_true"] == len(sim.gold)
    assert metrics["n_pairs"] == N_GENES * (N_GENES - 1)
    assert 0.0 <= metrics["auroc"] <= 1.0
    expected = bayesgrn.evaluate(posterior, sim.gold[["regulator", "target"]], k=(3, 5))
    assert metrics == pytest.approx(expected)
    # the posterior file ranks exactly like its edges table
    args = ["evaluate", out / "posterior.npz", sim_dir / "gold.tsv", "--json", "--k", "3,5"]
    code, text, _ = run_cli(capsys, *args)
    assert code == 0
    assert json.loads(text) == pytest.approx(metrics)


def test_evaluate_reads_a_dream_gold_standard(capsys, fit_dir: Path, tmp_path: Path) -> None:
    gold = tmp_path / "dream_gold.tsv"
    genes = [f"G{i + 1}" for i in range(N_GENES)]
    lines = [f"{r}\t{t}\t{int((r, t) == ('G1', 'G2'))}" for r in genes for t in genes if r != t]
    gold.write_text("\n".join(lines) + "\n")
    code, text, err = run_cli(capsys, "evaluate", fit_dir / "edges.tsv", gold, "--json")
    assert code == 0, err
    metrics = json.loads(text)
    assert metrics["n_true"] == 1
    assert metrics["n_pairs"] == len(lines)


def test_evaluate_names_a_missing_file(capsys, fit_dir: Path, tmp_path: Path) -> None:
    code, _, err = run_cli(capsys, "evaluate", fit_dir / "edges.tsv", tmp_path / "nope.tsv")
    assert code == 2
    assert "nope.tsv" in err
    code, _, err = run_cli(capsys, "evaluate", tmp_path / "missing_edges.tsv", fit_dir / "x")
    assert code == 2
    assert "missing_edges.tsv" in err


# ---------------------------------------------------------------------- demo
def test_demo_prints_top_edges_and_scores(capsys, tmp_path: Path) -> None:
    out = tmp_path / "demo"
    args = ["demo", "--genes", N_GENES, "--samples", N_SAMPLES, "--out", out, *STEPS]
    code, text, err = run_cli(capsys, *args)
    assert code == 0, err
    assert text.startswith("bayesgrn demo: simulated")
    for word in ("regulator", "90% CI", "p_edge", "p_positive", "true_w", "AUPR", "AUROC"):
        assert word in text
    assert "|correlation|" in text
    assert "fit time" in text
    table = [line for line in text.splitlines() if line.strip().startswith("G")]
    assert len(table) == 15
    assert sorted(p.name for p in out.iterdir()) == sorted(
        ["edges.tsv", "posterior.npz", "summary.json", "expression.tsv", "design.tsv", "gold.tsv"]
        + ["selected.tsv"]
    )
    assert leftovers(tmp_path) == []


def test_demo_true_weights_are_on_the_standardised_scale(capsys) -> None:
    code, text, _ = run_cli(capsys, "demo", "--genes", N_GENES, "--samples", N_SAMPLES, *STEPS)
    assert code == 0
    sim = bayesgrn.simulate(N_GENES, N_SAMPLES, knockouts="all", seed=0)
    scale = dict(zip(sim.data.genes, sim.data.scale, strict=True))
    rows = [line.split() for line in text.splitlines() if line.strip().startswith("G")]
    for row in rows:
        regulator, target, true_w = row[0], row[1], row[-1]
        expected = sim.weights.at[regulator, target] * scale[regulator] / scale[target]
        assert float(true_w) == pytest.approx(expected, abs=1e-3)
        assert (row[-2] == "yes") == (expected != 0)


def test_fit_with_known_and_forbidden_edges(tmp_path):
    sim = bayesgrn.simulate(6, 25, knockouts="all", seed=2)
    expr = tmp_path / "expr.tsv"
    sim.data.to_frame().to_csv(expr, sep="\t")
    known = tmp_path / "known.tsv"
    known.write_text("regulator\ttarget\tconfidence\nG1\tG2\t0.9\n")
    forbidden = tmp_path / "forbidden.tsv"
    forbidden.write_text("G3\tG4\n")
    out = tmp_path / "run"
    code = main(
        [
            "fit",
            str(expr),
            "--out",
            str(out),
            "--steps",
            "20",
            "--no-progress",
            "--known-edges",
            str(known),
            "--forbidden-edges",
            str(forbidden),
        ]
    )
    assert code == 0
    edges = pd.read_csv(out / "edges.tsv", sep="\t")
    assert not ((edges["regulator"] == "G3") & (edges["target"] == "G4")).any()
    assert len(edges) == 6 * 5 - 1
    bad = tmp_path / "bad.tsv"
    bad.write_text("G1\tXX\t0.5\n")
    code = main(
        [
            "fit",
            str(expr),
            "--out",
            str(tmp_path / "r2"),
            "--steps",
            "5",
            "--no-progress",
            "--known-edges",
            str(bad),
        ]
    )
    assert code == 2
    assert not (tmp_path / "r2").exists()


# ---------------------------------------------------------------------- design tables
def test_design_in_any_dialect(tmp_path: Path) -> None:
    # gzip used to be "not UTF-8 text"; the mask follows the expression table's order
    path = tmp_path / "design.csv.gz"
    text = (
        '\ufeff"sample","perturbed_gene","perturbation"\r\n'
        '"NA","G2; G1","Knockdown"\r\n\r\n"S1","",none\r\n'
    )
    path.write_bytes(gzip.compress(text.encode()))
    mask, kinds = read_design(path, ["S1", "NA", "S3"], ["G1", "G2"], "expr.tsv")
    np.testing.assert_array_equal(mask, [[False, False], [True, True], [False, False]])
    assert kinds == ["none", "knockdown", "none"]


@pytest.mark.parametrize(
    ("text", "match"),
    [
        # blank lines used to shift the reported line (it was the row index + 2)
        pytest.param(
            H + "\nS1\tnone\t\n\nS2\tbogus\tG1\n",
            r"line 5: unknown perturbation 'bogus'",
            id="blank-lines",
        ),
        pytest.param(
            H + "S1\tnone\t\nS9\tnone\t\n", r"'S9' \(the first on line 3\)", id="unknown-sample"
        ),
        pytest.param(H + "S1\tnone\t\nS1\tnone\t\n", r"'S1' on line 2 and line 3", id="twice"),
        pytest.param(H + "S1\tknockout\tG9\n", r"'G9' \(the first on line 2\)", id="gene"),
        pytest.param(H + 'S1\t"none\t\nS2\tnone\t\n', "line 2 has an unbalanced", id="quote"),
        pytest.param(H + "S1\tnone\n", "line 2 has 2 field", id="ragged"),
        pytest.param("", "is empty", id="empty"),
    ],
)
def test_bad_design_files_name_the_line(tmp_path: Path, text: str, match: str) -> None:
    path = tmp_path / "design.tsv"
    path.write_text(text)
    with pytest.raises(ValueError, match=match) as err:
        read_design(path, ["S1", "S2"], ["G1", "G2"], "expr.tsv")
    assert str(path) in str(err.value)


# ---------------------------------------------------------------------- interruption
def test_sigterm_stops_cleanly_and_resume_gives_the_uninterrupted_result(
    capsys, sim_dir: Path, tmp_path: Path
) -> None:
    import os
    import signal
    import sys
    import time

    expr = sim_dir / "expression.tsv"
    opts = ["--steps", "1500", "--checkpoint-every", "10", "--no-progress", "--device", "cpu"]
    out = tmp_path / "run"
    checkpoint = tmp_path / "run.checkpoint"
    proc = subprocess.Popen(
        [sys.executable, "-m", "bayesgrn", "fit", str(expr), "--out", str(out), *opts],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 120
    while not checkpoint.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert proc.poll() is None, "the fit ended before it could be interrupted"
    os.kill(proc.pid, signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 143, err
    assert "--resume" in err
    assert not out.exists(), "an interrupted fit must not write --out"
    assert checkpoint.is_file()

    code, _, err = run_cli(capsys, "fit", expr, "--out", out, "-q", *opts)
    assert code == 2
    assert "interrupted fit" in err
    assert "--resume" in err

    code, _, err = run_cli(capsys, "fit", expr, "--out", out, "-q", "--resume", *opts)
    assert code == 0, err
    assert not checkpoint.exists(), "the checkpoint is removed once the run is written"
    summary = json.loads((out / "summary.json").read_text())
    assert summary["resumed_from_step"] >= 10

    reference = tmp_path / "reference"
    code, _, err = run_cli(capsys, "fit", expr, "--out", reference, "-q", *opts)
    assert code == 0, err
    a = pd.read_csv(out / "edges.tsv", sep="\t")
    b = pd.read_csv(reference / "edges.tsv", sep="\t")
    assert a[["regulator", "target"]].equals(b[["regulator", "target"]])
    np.testing.assert_allclose(a["mean"], b["mean"], atol=1e-5)
    np.testing.assert_allclose(a["p_edge"], b["p_edge"], atol=1e-5)


def test_resume_without_a_checkpoint_is_refused(capsys, sim_dir: Path, tmp_path: Path) -> None:
    expr = sim_dir / "expression.tsv"
    code, _, err = run_cli(capsys, "fit", expr, "--out", tmp_path / "run", "--resume", *STEPS)
    assert code == 2
    assert "no interrupted fit" in err


def test_max_memory_refuses_up_front(capsys, sim_dir: Path, tmp_path: Path) -> None:
    expr = sim_dir / "expression.tsv"
    out = tmp_path / "run"
    code, _, err = run_cli(capsys, "fit", expr, "--out", out, "--max-memory", "10M", *STEPS)
    assert code == 2
    assert "needs about" in err
    assert "10.00 MiB" in err
    assert not out.exists()
    code, _, err = run_cli(capsys, "fit", expr, "--out", out, "--max-memory", "lots", *STEPS)
    assert code == 2
    assert "memory size" in err


def test_fdr_selection_file(fit_dir: Path) -> None:
    edges = pd.read_csv(fit_dir / "edges.tsv", sep="\t")
    selected = pd.read_csv(fit_dir / "selected.tsv", sep="\t")
    # the selection is a top set of the ranking whose mean lfdr is within the level
    pairs = list(zip(edges["regulator"], edges["target"], strict=True))
    assert (
        list(zip(selected["regulator"], selected["target"], strict=True)) == pairs[: len(selected)]
    )
    if len(selected):
        assert selected["lfdr"].mean() <= 0.05 + 1e-12
    # one more edge would break the level
    if len(selected) < len(edges):
        assert edges["lfdr"].head(len(selected) + 1).mean() > 0.05
    summary = json.loads((fit_dir / "summary.json").read_text())
    assert summary["fdr"] == 0.05
    assert summary["n_selected"] == len(selected)


def test_sharded_fit_writes_a_full_run(capsys, sim_dir: Path, tmp_path: Path) -> None:
    pytest.importorskip("distributed")
    expr = sim_dir / "expression.tsv"
    out = tmp_path / "run"
    # no --design: observational, no Jacobian term, so the genes split into two shards
    code, _, err = run_cli(capsys, "fit", expr, "--out", out, "--shards", "2", "-q", *STEPS)
    assert code == 0, err
    edges = pd.read_csv(out / "edges.tsv", sep="\t")
    assert len(edges) == N_GENES * (N_GENES - 1)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["n_shards"] == 2
    other = tmp_path / "other"
    code, _, err = run_cli(capsys, "fit", expr, "--out", other, "--scheduler", "tcp://x:1", *STEPS)
    assert code == 2
    assert "--shards" in err


# ---------------------------------------------------------------------- --method
def test_fit_by_gibbs_matches_the_api_and_reports_its_chains(
    capsys, sim_dir: Path, tmp_path: Path
) -> None:
    expr = sim_dir / "expression.tsv"  # without --design: observational, no Jacobian term
    out = tmp_path / "run"
    sampler = ["--samples", "40", "--warmup", "40", "--chains", "2"]
    code, stdout, _ = run_cli(capsys, "fit", expr, "--out", out, "--method", "gibbs", *sampler)
    assert code == 0
    assert "GIBBS: 2 chain(s) x 40 draws, max split R-hat" in stdout
    summary = json.loads((out / "summary.json").read_text())
    assert summary["method"] == "gibbs"
    assert summary["num_chains"] == 2
    assert summary["n_draws"] == 80
    data = bayesgrn.read_expression(expr)
    direct = bayesgrn.fit(
        data, method="gibbs", seed=0, num_samples=40, warmup_steps=40, num_chains=2
    )
    written = bayesgrn.Posterior.load(out / "posterior.npz")
    np.testing.assert_array_equal(written.draws(), direct.draws())


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--method", "gibbs", "--steps", "10"], "--steps: only for --method svi"),
        (["--method", "nuts", "--subsample-size", "5"], "--subsample-size: only for --method svi"),
        (["--method", "nuts", "--shards", "2"], "--shards: only for --method svi"),
        (["--samples", "10", "--chains", "2"], "--samples, --chains: only for --method nuts or"),
        (["--warmup", "10"], "--warmup: only for --method nuts or gibbs"),
    ],
)
def test_options_of_another_method_are_refused(
    capsys, sim_dir: Path, tmp_path: Path, options: list[str], message: str
) -> None:
    out = tmp_path / "run"
    code, _, err = run_cli(capsys, "fit", sim_dir / "expression.tsv", "--out", out, *options)
    assert code == 2
    assert message in err
    assert not out.exists()


def test_gibbs_on_knockout_data_samples_the_jacobian_model(
    capsys, sim_dir: Path, tmp_path: Path
) -> None:
    expr, design = sim_dir / "expression.tsv", sim_dir / "design.tsv"
    out = tmp_path / "run"
    args = ["fit", expr, "--design", design, "--out", out, "--method", "gibbs"]
    code, _, _ = run_cli(capsys, *args, "--samples", "20", "--warmup", "10")
    assert code == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["method"] == "gibbs"
    assert {"weights", "swap"} <= set(summary["acceptance"])  # the Jacobian step ran
    assert leftovers(tmp_path) == []
