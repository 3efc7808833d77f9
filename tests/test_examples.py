"""Every example script runs with tiny arguments (the Pyro/NumPyro pattern)."""

import importlib.util
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"

TINY_ARGS = {
    "calibration.py": [
        "--datasets", "2", "--genes", "5", "--steps", "20", "--nuts", "1", "--nuts-samples", "5",
        "--nuts-chains", "2", "--exact", "1", "--exact-draws", "40",
    ],  # fmt: skip
    "quickstart.py": ["--genes", "6", "--samples", "20", "--steps", "30"],
    "benchmarks/recovery.py": ["--genes", "6", "--samples", "30", "--seeds", "0", "--steps", "30"],
    "benchmarks/compare_families.py": [
        "--datasets", "1", "--genes", "5", "--samples", "15", "--steps", "10", "--draws", "10",
    ],  # fmt: skip
    "benchmarks/counts.py": ["--seeds", "0", "--genes", "6", "--samples", "30", "--steps", "20"],
    "benchmarks/knockout_effects.py": ["--seeds", "0", "--genes", "4", "--samples", "20",
                                       "--steps", "20"],  # fmt: skip
    "benchmarks/memory_plan.py": ["--case", "40", "8", "8", "20"],
    "benchmarks/scale.py": [
        "--cases", "custom", "--custom", "40", "12", "4", "20",
        "--grnboost-targets", "5", "--steps", "20", "--jobs", "1",
    ],  # fmt: skip
    "benchmarks/dream4_knockouts.py": ["--networks", "1", "--limit", "2", "--steps", "10"],
    "benchmarks/dream4.py": [
        "--networks",
        "1",
        "--settings",
        "multifactorial",
        "--methods",
        "pearson",
        "bayesgrn",
        "--steps",
        "10",
        "--trees",
        "5",
    ],
}


def _load(path):
    spec = importlib.util.spec_from_file_location(f"example_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_every_example_has_tiny_arguments():
    scripts = {
        str(p.relative_to(EXAMPLES))
        for p in EXAMPLES.rglob("*.py")
        if p.name != "peers.py" and not p.name.startswith("_")
    }
    assert scripts <= set(TINY_ARGS), f"add tiny arguments for {scripts - set(TINY_ARGS)}"


@pytest.mark.parametrize("name", sorted(TINY_ARGS))
def test_example_runs(name, capsys):
    path = EXAMPLES / name
    if not path.exists():
        pytest.skip(f"{name} not present")
    if (
        name == "benchmarks/dream4.py"
        and not (
            Path(__file__).resolve().parents[2] / "shared" / "data" / "dream4" / "size100"
        ).is_dir()
    ):
        pytest.skip("DREAM4 data not found")
    _load(path).main(TINY_ARGS[name])
    assert capsys.readouterr().out.strip()


def test_scale_benchmark_reports_a_case_over_its_limit(capsys):
    """A case that outlasts --case-limit is reported as stopped and the table goes on."""
    scale = _load(EXAMPLES / "benchmarks" / "scale.py")
    args = ["--cases", "custom", "--custom", "40", "12", "4", "20", "--grnboost-targets", "-1"]
    scale.main([*args, "--case-limit", "0.01"])
    out = capsys.readouterr().out
    assert "(stopped)" in out
    assert "40x12x4" in out
    assert "bayesgrn SVI" not in out
