"""Reading the small header-line tables the command line takes (designs, edge lists)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from bayesgrn.cli._common import CLIError
from bayesgrn.io import read_small_table


def read_table(
    path: str | os.PathLike[str], what: str, *, required: Sequence[str] = ()
) -> pd.DataFrame:
    """Read a small TSV/CSV with a header line as strings (tab or comma, from the header).

    Parameters
    ----------
    path
        The file.
    what
        What the file is (``"design"``, ``"edge"``, ...), for messages.
    required
        Columns that must be present.

    Returns
    -------
    pandas.DataFrame
        All cells as stripped strings (``NA`` stays text); empty cells are ``""``. The index
        holds each row's line number in the file, for messages.

    Raises
    ------
    CLIError, bayesgrn.BayesGRNInputError
        For a missing or empty file, missing columns, or what
        :func:`bayesgrn.io.read_small_table` refuses (bad bytes, ragged rows, ...).
    """
    path = Path(path)
    if not path.is_file():
        raise CLIError(f"{what} file {str(path)!r} does not exist")
    table = read_small_table(
        path, f"{what} file", has_header=True, separators=("\t", ","), fallback=","
    )
    if table.header is None:
        raise CLIError(
            f"{what} file {str(path)!r} is empty; expected a header line"
            + (f" ({', '.join(required)}) and rows" if required else "")
        )
    missing = [c for c in required if c not in table.header]
    if missing:
        raise CLIError(
            f"{what} file {str(path)!r} lacks column(s) {', '.join(missing)}; its header "
            f"(line {table.header_line}) is {', '.join(table.header)}"
        )
    return pd.DataFrame(
        table.rows, columns=table.header, index=pd.Index(table.lines, name="line"), dtype=str
    )
