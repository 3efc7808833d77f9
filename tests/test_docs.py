"""The documentation site builds without a warning, and the links between the pages resolve."""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
DOCS_TOOLS = ("mkdocs", "material", "mkdocstrings", "mkdocstrings_handlers.python", "griffe")


def _missing(modules: tuple[str, ...]) -> list[str]:
    missing = []
    for name in modules:
        try:
            if importlib.util.find_spec(name) is None:
                missing.append(name)
        except ModuleNotFoundError:  # a parent package is missing
            missing.append(name)
    return missing


MISSING = _missing(DOCS_TOOLS)
needs_docs_tools = pytest.mark.skipif(
    bool(MISSING),
    reason=f"documentation tools not installed ({', '.join(MISSING)}); "
    "install them with: pip install -e '.[docs]'",
)

#: pages of the site, as mkdocs.yml's nav lists them (use_directory_urls: page/index.html)
PAGES = (
    "index",
    "install",
    "tutorial",
    "interpretation",
    "model",
    "benchmarks",
    "calibration",
    "reliability",
    "errors",
    "api",
)

#: objects the API reference must document (their anchors on the API page)
API_OBJECTS = (
    "bayesgrn.fit.fit",
    "bayesgrn.Posterior",
    "bayesgrn.Posterior.edges",
    "bayesgrn.Posterior.select",
    "bayesgrn.ExpressionData",
    "bayesgrn.read_expression",
    "bayesgrn.read_dream4",
    "bayesgrn.simulate",
    "bayesgrn.evaluate",
    "bayesgrn.memory",
    "bayesgrn.distributed",
    "bayesgrn.errors",
    "bayesgrn.spec.ModelSpec",
)


@needs_docs_tools
def test_docs_build_strict(tmp_path: Path) -> None:
    site = tmp_path / "site"
    # Material for MkDocs prints a banner about its successor unless this is set
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    log = result.stdout + result.stderr
    assert result.returncode == 0, log
    problems = [line for line in log.splitlines() if line.startswith(("WARNING", "ERROR"))]
    assert not problems, log

    for page in PAGES:
        path = site / "index.html" if page == "index" else site / page / "index.html"
        assert path.is_file(), f"{page} was not built"
    assert not list(site.rglob("*.py")), "scripts in docs/ must not be published"

    api = (site / "api" / "index.html").read_text(encoding="utf-8")
    for name in API_OBJECTS:
        assert f'id="{name}"' in api, f"{name} is not in the API reference"
    assert ">fit<" in api
    # the docstrings' Sphinx roles were rewritten (docs/griffe_rst.py)
    assert not re.search(r":(func|class|meth|mod|math):<code>", api)


# ----------------------------------------------------------------------------- links
FENCED = re.compile(r"^(```|~~~).*?^\1", re.S | re.M)
INLINE_CODE = re.compile(r"`+[^`\n]*`+")
INLINE_LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
REFERENCE = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)", re.M)
SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")


def _relative_links(path: Path) -> list[str]:
    text = INLINE_CODE.sub("", FENCED.sub("", path.read_text(encoding="utf-8")))
    targets = INLINE_LINK.findall(text) + REFERENCE.findall(text)
    return [t for t in targets if not SCHEME.match(t) and not t.startswith("#")]


def test_markdown_links_point_to_existing_files() -> None:
    sources = [*sorted(DOCS.glob("*.md")), ROOT / "README.md"]
    broken, checked = [], 0
    for source in sources:
        for target in _relative_links(source):
            checked += 1
            if not (source.parent / target.split("#", 1)[0]).exists():
                broken.append(f"{source.relative_to(ROOT)}: {target}")
    assert checked > 10, "no relative links found: the link pattern is wrong"
    assert not broken, "broken links:\n" + "\n".join(broken)


def test_link_pattern() -> None:
    text = (
        '[a](model.md) ![b](img/x.png "t") [c](https://x.org) [d](#anchor)\n'
        "`[e](not-a-link.md)`\n```\n[f](in-a-fence.md)\n```\n[g]: ref.md\n"
    )
    stripped = INLINE_CODE.sub("", FENCED.sub("", text))
    targets = INLINE_LINK.findall(stripped) + REFERENCE.findall(stripped)
    assert [t for t in targets if not SCHEME.match(t) and not t.startswith("#")] == [
        "model.md",
        "img/x.png",
        "ref.md",
    ]


# ----------------------------------------------------------------------------- griffe_rst
@pytest.mark.skipif(bool(_missing(("griffe",))), reason="griffe not installed (the docs extra)")
def test_griffe_rst_rewrites_sphinx_markup() -> None:
    spec = importlib.util.spec_from_file_location("griffe_rst", DOCS / "griffe_rst.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    text = (
        "See :func:`~bayesgrn.memory.plan_memory` and :class:`ExpressionData`, "
        "with :math:`\\tau_j`::\n\n"
        "    code\n\n"
        ".. math:: x = y W\n\n"
        "==== =====\n"
        "a    :math:`b`\n"
        "==== =====\n\n"
        "after"
    )
    assert module.rst_to_markdown(text).splitlines() == [
        "See `plan_memory()` and `ExpressionData`, with `\\tau_j`:",
        "",
        "    code",
        "",
        "",
        "```text",
        "x = y W",
        "```",
        "",
        "",
        "```text",
        "==== =====",
        "a    b",
        "==== =====",
        "```",
        "",
        "",
        "after",
    ]
