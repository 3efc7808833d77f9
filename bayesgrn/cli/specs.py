"""``bayesgrn specs``: list the bundled model specs."""

from __future__ import annotations

import argparse
import textwrap
from typing import Any

import bayesgrn
from bayesgrn.cli._common import EXIT_OK
from bayesgrn.cli._options import subparser

SUMMARY = "List the bundled model specs with their descriptions."
EPILOG = """\
Use a name with 'bayesgrn fit --model NAME', or copy a spec's .toml file, edit it, and pass
its path with --model PATH.

example:
  bayesgrn specs
"""


def register(commands: Any, common: argparse.ArgumentParser) -> None:
    """Add the ``specs`` subcommand."""
    sub = subparser(commands, "specs", common, SUMMARY, EPILOG)
    sub.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Run ``bayesgrn specs``."""
    del args
    for name in bayesgrn.available_specs():
        spec = bayesgrn.load_spec(name)
        print(f"{name}  (hash {spec.hash})")
        print(
            textwrap.fill(
                spec.description or "(no description)",
                width=100,
                initial_indent="    ",
                subsequent_indent="    ",
            )
        )
    return EXIT_OK
