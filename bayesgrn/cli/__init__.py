"""The ``bayesgrn`` command line: ``fit``, ``simulate``, ``evaluate``, ``demo``, ``report``, ...

Every command that writes results writes a *run directory* atomically: the files go into a
temporary sibling directory (``DIR.tmp-XXXX``) that is renamed into place only once all of
them are complete, so an interrupted or failed run never leaves a partial ``DIR`` behind.

Errors in the input (:class:`ValueError`, including :class:`bayesgrn.BayesGRNInputError`,
and :class:`OSError` such as a missing file) are reported as one line,
``bayesgrn: error: <message>``, with exit status 2; Ctrl-C exits with status 130.

Layout: one module per subcommand (:mod:`~bayesgrn.cli.fit`, :mod:`~bayesgrn.cli.simulate`,
:mod:`~bayesgrn.cli.evaluate`, :mod:`~bayesgrn.cli.demo`, :mod:`~bayesgrn.cli.specs`,
:mod:`~bayesgrn.cli.dream4`, :mod:`~bayesgrn.cli.report`, :mod:`~bayesgrn.cli.compare`), each
with ``register`` (its options) and ``run`` (its handler), and shared private modules:
``_main`` (parser and entry point), ``_common`` (exit statuses, :class:`CLIError`, error
handling), ``_options`` (argument types and shared option groups), ``_inputs``, ``_design``
and ``_tables`` (reading inputs), ``_rundir`` (atomic run directories) and ``_runfiles``
(the files of a fit's run directory).
"""

from __future__ import annotations

from bayesgrn.cli._common import (
    EXIT_ERROR,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_SIGNALLED,
    CLIError,
)
from bayesgrn.cli._design import DESIGN_COLUMNS, read_design
from bayesgrn.cli._inputs import load_expression, load_gold
from bayesgrn.cli._main import build_parser, main
from bayesgrn.cli._rundir import atomic_directory, check_output_dir
from bayesgrn.cli._runfiles import FIT_FILES, FIT_ORDER, REPORT_FILE, vars_of, write_run
from bayesgrn.cli._tables import read_table
from bayesgrn.cli.demo import DEMO_CI, DEMO_FILES, DEMO_TOP, correlation_edges, demo_edge_table
from bayesgrn.cli.evaluate import format_metrics, load_edges
from bayesgrn.cli.fit import checkpoint_path
from bayesgrn.cli.simulate import SIMULATE_FILES, design_frame, write_simulation

__all__ = [
    "DEMO_CI",
    "DEMO_FILES",
    "DEMO_TOP",
    "DESIGN_COLUMNS",
    "EXIT_ERROR",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_SIGNALLED",
    "FIT_FILES",
    "FIT_ORDER",
    "REPORT_FILE",
    "SIMULATE_FILES",
    "CLIError",
    "atomic_directory",
    "build_parser",
    "check_output_dir",
    "checkpoint_path",
    "correlation_edges",
    "demo_edge_table",
    "design_frame",
    "format_metrics",
    "load_edges",
    "load_expression",
    "load_gold",
    "main",
    "read_design",
    "read_table",
    "vars_of",
    "write_run",
    "write_simulation",
]
