"""The HTML report of a run directory (bayesgrn.report) and ``bayesgrn report``."""

from __future__ import annotations

import base64
import io
import json
import re
from pathlib import Path

import numpy as np
import pytest
from handmade import make_posterior
from matplotlib.image import imread

from bayesgrn import BayesGRNInputError
from bayesgrn.cli import DEMO_FILES, FIT_FILES, check_output_dir, main, write_run
from bayesgrn.report import render_report, write_report

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
DATA_URI = re.compile(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"')
GOLD = "regulator\ttarget\tweight\nG1\tG2\t0.8\nG1\tG3\t-0.6\nG4\tG5\t0.4\nG6\tG7\t-0.3\n"
TINY_DEMO = ["--genes", "6", "--samples", "30", "--steps", "30", "--seed", "1"]
QUIET = ["--no-progress", "--device", "cpu", "-q"]


@pytest.fixture(scope="module")
def post():
    return make_posterior()


def make_run_dir(post, directory: Path) -> Path:
    """A run directory as 'bayesgrn demo --out' writes it (without the simulated data)."""
    directory.mkdir()
    write_run(directory, post, ci_prob=0.9, extra={"inputs": {}}, fdr=0.05)
    (directory / "gold.tsv").write_text(GOLD)
    return directory


@pytest.fixture
def run_dir(post, tmp_path: Path) -> Path:
    return make_run_dir(post, tmp_path / "run")


@pytest.fixture(scope="module")
def written(post, tmp_path_factory) -> tuple[Path, str]:
    """A run directory and its report, written once for several tests."""
    directory = make_run_dir(post, tmp_path_factory.mktemp("written") / "run")
    summary = json.loads((directory / "summary.json").read_text())
    summary.update({"final_elbo": -1234.5, "seconds": 7.25, "pareto_k": 0.42,
                    "pareto_k_median_target": 0.31, "pareto_k_targets_above_0.7": 2,
                    "psis_draws": 200, "seed": 17})  # fmt: skip
    (directory / "summary.json").write_text(json.dumps(summary))
    before = {p.name for p in directory.iterdir()}
    path = write_report(directory, top=7)
    assert path == directory / "report.html"
    assert {p.name for p in directory.iterdir()} - before == {"report.html"}  # nothing else
    return directory, path.read_text(encoding="utf-8")


def images(text: str) -> list[bytes]:
    return [base64.b64decode(m, validate=True) for m in DATA_URI.findall(text)]


def assert_self_contained(text: str) -> None:
    assert text.startswith("<!DOCTYPE html>")
    markup = DATA_URI.sub("", text).lower()  # base64 may spell anything
    assert "http" not in markup  # no external links or resources of any kind
    assert "<script" not in markup
    assert "<link" not in markup
    assert "url(" not in markup
    sources = re.findall(r'src="([^"]*)"', text)
    assert all(s.startswith("data:image/png;base64,") for s in sources)
    for png in images(text):
        assert png.startswith(PNG_MAGIC)
        pixels = imread(io.BytesIO(png), format="png")  # decodes the whole image
        assert pixels.shape[0] > 100
        assert pixels.shape[1] > 100
        assert pixels[..., :3].std() > 0.005  # not a blank picture


# ---------------------------------------------------------------------- write_report
def test_report_is_one_self_contained_file_with_every_picture(written):
    _, text = written
    assert_self_contained(text)
    assert text.count("<img") == len(images(text)) == 5  # ELBO, forest, network, heat, calib
    for heading in ("Optimisation", "Top 7 edges", "Network", "Edge probabilities",
                    "Calibration against the gold standard"):  # fmt: skip
        assert f"<h2>{heading}</h2>" in text


def test_report_summary_and_edge_table_come_from_the_run(written, post):
    _, text = written
    cells = dict(re.findall(r"<tr><th>([^<]*)</th><td>([^<]*)</td></tr>", text))
    assert cells["seed"] == "17"
    assert cells["final ELBO"] == "-1234.5"
    assert cells["fit time"] == "7.2 s"
    assert cells["steps"] == "600 (converged)"
    assert cells["Pareto k-hat"].startswith("0.42 joint; median per target 0.31; 2 of 8")
    n_selected = len(post.select(fdr=0.05))
    assert cells["selected edges"].startswith(f"{n_selected} at posterior expected FDR ≤ 0.05")
    assert "Pareto k-hat is above 0.7 for 2 of 8 targets" in text  # a warning
    rows = re.findall(r"<tr><td>(\d+)</td><td>([^<]+)</td><td>([^<]+)</td>", text)
    top = post.edges().head(7)
    assert rows == [(str(i + 1), r, t) for i, (r, t) in
                    enumerate(zip(top["regulator"], top["target"], strict=True))]  # fmt: skip
    assert float(cells["AUROC"]) > 0.5  # the gold standard's ranking metrics
    assert float(cells["AUPR"]) > 0.5


def test_same_run_gives_the_same_report(written, tmp_path):
    directory, text = written
    again = write_report(directory, out=tmp_path / "again.html", top=7)
    assert again.read_text(encoding="utf-8") == text


def test_report_without_a_gold_standard_has_no_calibration(run_dir):
    (run_dir / "gold.tsv").unlink()
    out = run_dir.parent / "elsewhere" / "r.html"
    text = write_report(run_dir, out=out, top=3).read_text()
    assert_self_contained(text)
    assert len(images(text)) == 4
    assert "Calibration" not in text
    assert not (run_dir / "report.html").exists()


def test_report_uses_an_explicit_gold_standard(run_dir, tmp_path):
    (run_dir / "gold.tsv").unlink()
    gold = tmp_path / "truth.txt"
    gold.write_text("G1 G2\nG4 G5\n")
    text = write_report(run_dir, gold=gold, top=3).read_text()
    assert len(images(text)) == 5
    assert "against truth.txt" in text


def test_report_of_a_posterior_without_an_elbo_trace_escapes_names(post):
    odd = post.replace(
        regulators=("<b>G1</b>", *post.regulators[1:]),
        losses=np.zeros(0),
        method="nuts",
        diagnostics={},
    )
    text = render_report(odd, top=3)
    assert_self_contained(text)
    assert len(images(text)) == 3  # forest, network, heat map
    assert "No ELBO trace" in text
    assert "&lt;b&gt;G1&lt;/b&gt;" in text
    assert "<b>" not in text


def test_report_of_nuts_chains_shows_rhat_and_warns_when_they_disagree(post):
    diagnostics = {
        "num_chains": 2,
        "num_samples": 500,
        "divergences": 3,
        "rhat_max": 1.83,
        "rhat_n_above": 2,
        "rhat_threshold": 1.05,
        "rhat_worst": ["G1 -> G2 (1.83)", "G2 -> G1 (1.61)"],
    }
    nuts = post.replace(losses=np.zeros(0), method="nuts", diagnostics=diagnostics)
    text = render_report(nuts, top=3)
    assert "2 × 500 draws, 3 divergent transitions; max split R-hat 1.83" in text
    assert "The NUTS chains disagree for 2 weights" in text
    assert "G1 -&gt; G2 (1.83)" in text
    mixed = nuts.replace(diagnostics={**diagnostics, "rhat_max": 1.01, "rhat_n_above": 0})
    assert "chains disagree" not in render_report(mixed, top=3)


def test_report_errors_name_the_missing_file(run_dir, tmp_path):
    with pytest.raises(BayesGRNInputError, match=r"nowhere.*does not exist.*bayesgrn fit"):
        write_report(tmp_path / "nowhere")
    (run_dir / "summary.json").unlink()
    with pytest.raises(BayesGRNInputError, match=r"has no summary\.json"):
        write_report(run_dir)
    (run_dir / "summary.json").write_text("{not json")
    with pytest.raises(BayesGRNInputError, match=r"summary\.json.*is not valid JSON"):
        write_report(run_dir)
    (run_dir / "summary.json").write_text("{}")
    (run_dir / "posterior.npz").write_bytes(b"garbage")
    with pytest.raises(ValueError, match=r"posterior\.npz.*is not a bayesgrn posterior"):
        write_report(run_dir)
    assert not (run_dir / "report.html").exists()


def test_report_refuses_a_directory_as_output(run_dir):
    (run_dir / "sub").mkdir()
    with pytest.raises(BayesGRNInputError, match="is a directory"):
        write_report(run_dir, out=run_dir / "sub")


def test_report_refuses_a_gold_standard_with_other_names(run_dir):
    (run_dir / "gold.tsv").write_text("regulator\ttarget\tweight\nTF1\tTF2\t1\n")
    with pytest.raises(ValueError, match="same gene names"):
        write_report(run_dir)


# ---------------------------------------------------------------------- the command line
def test_cli_report_of_a_demo_run(tmp_path, capsys):
    out = tmp_path / "demo"
    assert main(["demo", *TINY_DEMO, *QUIET, "--out", str(out)]) == 0
    assert f"bayesgrn report {out}" in capsys.readouterr().out
    assert main(["report", str(out), "--top", "5", "-q"]) == 0
    assert capsys.readouterr().out.strip() == f"wrote {out / 'report.html'}"
    text = (out / "report.html").read_text(encoding="utf-8")
    assert_self_contained(text)
    assert text.count("<img") == 5
    assert "Calibration" in text  # the demo's gold.tsv is picked up
    # report.html is a file bayesgrn writes: --overwrite may replace the run directory
    assert "report.html" in FIT_FILES
    check_output_dir(out, overwrite=True, known=DEMO_FILES)


def test_cli_report_options(run_dir, tmp_path):
    target = tmp_path / "r.html"
    assert main(["report", str(run_dir), "--out", str(target), "--top", "4", "-q"]) == 0
    text = target.read_text()
    assert "<h2>Top 4 edges</h2>" in text
    assert len(re.findall(r"<tr><td>\d+</td>", text)) == 4


def test_cli_report_errors_exit_2(tmp_path, capsys, run_dir):
    assert main(["report", str(tmp_path / "missing")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("bayesgrn: error: run directory")
    assert "missing" in err
    assert main(["report", str(run_dir), "--gold", str(tmp_path / "no_gold.tsv")]) == 2
    assert "no_gold.tsv" in capsys.readouterr().err


def test_report_shows_the_share_of_unstable_draws_and_warns_above_a_tenth(post):
    unstable = post.replace(diagnostics={**post.diagnostics, "unstable_fraction": 0.62})
    text = render_report(unstable, top=3)
    assert "62% of checked draws have no stable steady state" in text
    assert "reverses a feedback loop" in text
    stable = post.replace(diagnostics={**post.diagnostics, "unstable_fraction": 0.0})
    text = render_report(stable, top=3)
    assert "0% of checked draws have no stable steady state" in text
    assert "reverses a feedback loop" not in text


def test_report_points_small_svi_fits_to_the_exact_sampler(post):
    small = post.replace(diagnostics={**post.diagnostics, "small_network": True, "n_genes": 6})
    assert "SVI on 6 genes" in render_report(small, top=3)
    assert "samples the posterior exactly" in render_report(small, top=3)
    assert "SVI on" not in render_report(post, top=3)
