"""docs/errors.md is generated from the code by docs/gen_errors.py and must stay current."""

from __future__ import annotations

import difflib
import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[1]
CATALOGUE = ROOT / "docs" / "errors.md"
GENERATOR = ROOT / "docs" / "gen_errors.py"
FIX = "run `.venv/bin/python docs/gen_errors.py` and commit docs/errors.md"


def load_generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("_bayesgrn_gen_errors", GENERATOR)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while it executes
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def generator() -> ModuleType:
    return load_generator()


def test_error_catalogue_is_current(generator: ModuleType) -> None:
    fresh = generator.render()
    committed = CATALOGUE.read_text(encoding="utf-8")
    if fresh != committed:
        diff = "".join(
            difflib.unified_diff(
                committed.splitlines(keepends=True),
                fresh.splitlines(keepends=True),
                "docs/errors.md (committed)",
                "docs/errors.md (what the code raises now)",
                n=1,
            )
        )
        pytest.fail(f"docs/errors.md is out of date: {FIX}.\n{diff[:6000]}", pytrace=False)


def test_catalogue_covers_every_reader(generator: ModuleType) -> None:
    cases = [case for _, _, section in generator.SECTIONS for case in section]
    assert len(cases) >= 25
    calls = " ".join(case.call for case in cases)
    for reader in ("read_expression", "read_regulators", "read_edge_list",
                   "read_gold_standard", "read_design", "from_array", "fit("):  # fmt: skip
        assert reader in calls


def test_file_errors_name_the_file(generator: ModuleType) -> None:
    # a message about a file's content must say which file; only option errors may not
    for _, _, section in generator.SECTIONS:
        for case in section:
            if case.content is None or "=" in case.call.replace("with_confidence=", ""):
                continue  # no file, or a bad option
            _, message = generator.run(case)
            assert "<file>" in message, f"{case.title}: {message}"
