"""Griffe extension: render the reStructuredText bits of bayesgrn's docstrings as Markdown.

The docstrings are numpy style -- which mkdocstrings parses -- but their prose uses a few
Sphinx constructs that Markdown would print verbatim. Before the docstrings are parsed, this
extension (loaded by ``mkdocs.yml``) rewrites

* roles -- ``:func:`~bayesgrn.memory.plan_memory```, ``:class:``, ``:meth:``, ``:mod:``,
  ``:attr:``, ``:exc:``, ``:data:``, ``:obj:`` -- as code spans (``plan_memory()``; a
  leading ``~`` keeps the last component only, as in Sphinx);
* ``:math:`x``` as the code span ``x`` and ``.. math::`` directives as fenced blocks, so
  the LaTeX stays readable without a math renderer;
* simple tables (rows framed by ``=== ===`` borders) as fenced blocks, keeping their layout;
* a paragraph's closing ``::`` (a literal block follows) as ``:``.

It changes what the site shows, never the source.
"""

from __future__ import annotations

import re
from typing import Any

from griffe import Extension, Object

ROLE = re.compile(r":(?:py:)?(func|meth|class|mod|attr|exc|data|obj|math):`([^`]+)`")
MATH_DIRECTIVE = re.compile(r"^(?P<indent>\s*)\.\. math::\s*(?P<inline>.*)$")
TABLE_BORDER = re.compile(r"^\s*=+(?: +=+)+\s*$")
FENCE = "```"


def _role(match: re.Match[str]) -> str:
    kind, target = match.group(1), match.group(2).strip()
    if kind == "math":
        return f"`{target}`"
    if target.startswith("~"):
        target = target[1:].rsplit(".", 1)[-1]
    if kind in ("func", "meth") and not target.endswith(")"):
        target += "()"
    return f"`{target}`"


def _bare(match: re.Match[str]) -> str:
    """Return a role's text without markup, padded to the role's width (keeps columns)."""
    return _role(match).strip("`").ljust(len(match.group(0)))


def _indent_of(line: str) -> int:
    return len(line) - len(line.lstrip())


def _fenced(lines: list[str], indent: str) -> list[str]:
    """Return ``lines`` in a fenced text block at ``indent``, blank lines around it."""
    width = min((_indent_of(x) for x in lines if x.strip()), default=0)
    body = [(indent + x[width:]).rstrip() if x.strip() else "" for x in lines]
    return ["", indent + FENCE + "text", *body, indent + FENCE, ""]


def _math_blocks(lines: list[str]) -> list[str]:
    out: list[str] = []
    i = 0
    while i < len(lines):
        match = MATH_DIRECTIVE.match(lines[i])
        if not match:
            out.append(lines[i])
            i += 1
            continue
        indent, inline = match.group("indent"), match.group("inline")
        body = [indent + inline] if inline else []
        i += 1
        while i < len(lines) and (not lines[i].strip() or _indent_of(lines[i]) > len(indent)):
            body.append(lines[i])
            i += 1
        while body and not body[-1].strip():
            body.pop()
        while body and not body[0].strip():
            body.pop(0)
        out.extend(_fenced(body, indent))
    return out


def _tables(lines: list[str]) -> list[str]:
    out: list[str] = []
    i = 0
    while i < len(lines):
        if not TABLE_BORDER.match(lines[i]):
            out.append(lines[i])
            i += 1
            continue
        end = i + 1  # the table ends at a border followed by a blank line (or the end)
        while end < len(lines) and not (
            TABLE_BORDER.match(lines[end]) and not "".join(lines[end + 1 : end + 2]).strip()
        ):
            end += 1
        if end == len(lines):  # no closing border: not a table
            out.append(lines[i])
            i += 1
            continue
        table = [ROLE.sub(_bare, x) for x in lines[i : end + 1]]
        out.extend(_fenced(table, " " * _indent_of(lines[i])))
        i = end + 1
    return out


def rst_to_markdown(text: str) -> str:
    """Rewrite the Sphinx constructs of one docstring as Markdown (see the module doc)."""
    lines = _tables(_math_blocks(text.splitlines()))  # fenced: no markup inside
    in_fence = False
    for k, line in enumerate(lines):
        if line.lstrip().startswith(FENCE):
            in_fence = not in_fence
        if in_fence:
            continue
        line = ROLE.sub(_role, line)
        if line.endswith("::") and not line.rstrip(":").endswith(" "):
            line = line[:-1]
        lines[k] = line
    return "\n".join(lines)


class RstToMarkdown(Extension):
    """Rewrite every docstring with :func:`rst_to_markdown` as objects are loaded."""

    def on_instance(self, *, obj: Object, **kwargs: Any) -> None:
        """Rewrite ``obj``'s docstring, if it has one."""
        if obj.docstring is not None:
            obj.docstring.value = rst_to_markdown(obj.docstring.value)
