"""Exit statuses, :class:`CLIError`, and turning a command's failures into one-line messages."""

from __future__ import annotations

import argparse
import contextlib
import logging
import sys
from collections.abc import Callable, Iterator, Sequence

from bayesgrn.errors import FitDivergedError, ResourceError

logger = logging.getLogger(__name__)

EXIT_OK = 0
EXIT_ERROR = 2
EXIT_INTERRUPTED = 130
#: exit status after a signal stopped a fit cleanly: 128 + the signal number, as shells do
EXIT_SIGNALLED = {"SIGINT": 130, "SIGTERM": 143}


class CLIError(ValueError):
    """A usage problem found by the command line itself (reported like any input error)."""


def exit_status(code: object) -> int:
    """Exit status of an argparse ``SystemExit`` (``None`` means success)."""
    if code is None:
        return EXIT_OK
    return code if isinstance(code, int) else EXIT_ERROR


def run_handler(handler: Callable[[argparse.Namespace], int], args: argparse.Namespace) -> int:
    """Call a command handler, turning expected failures into one-line messages."""
    try:
        return handler(args)
    except (ValueError, OSError, ResourceError, FitDivergedError) as err:
        logger.debug("traceback of the error below", exc_info=True)
        message = " ".join(str(err).split()) or type(err).__name__
        print(f"bayesgrn: error: {message}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("bayesgrn: interrupted; no output was written", file=sys.stderr)
        return EXIT_INTERRUPTED


@contextlib.contextmanager
def cli_logging(level: int) -> Iterator[None]:
    """Send the package's log records to stderr for the duration of one command."""
    package_logger = logging.getLogger("bayesgrn")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("bayesgrn: %(message)s"))
    previous = package_logger.level
    package_logger.addHandler(handler)
    package_logger.setLevel(level)
    try:
        yield
    finally:
        package_logger.removeHandler(handler)
        package_logger.setLevel(previous)


def shown(names: Sequence[str], limit: int = 10) -> str:
    """Quote the first ``limit`` names for a message, with `` ...`` when there are more."""
    text = ", ".join(repr(n) for n in list(names)[:limit])
    return text + (" ..." if len(names) > limit else "")
