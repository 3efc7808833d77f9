"""Atomic run directories: all of a command's files appear at once, or none do.

The files go into a temporary sibling directory (``DIR.tmp-XXXX``) that is renamed into
place only once all of them are complete, so an interrupted or failed run never leaves a
partial ``DIR`` behind.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from bayesgrn.cli._common import CLIError, shown


def check_output_dir(out: Path, *, overwrite: bool, known: frozenset[str]) -> None:
    """Refuse an output directory that cannot (or must not) be replaced.

    Parameters
    ----------
    out
        The requested run directory.
    overwrite
        Whether a non-empty ``out`` may be replaced.
    known
        File names the command writes; ``--overwrite`` only replaces a directory holding
        nothing else, so it never deletes data bayesgrn did not write.

    Raises
    ------
    CLIError
        When ``out`` is a file or link, or is non-empty (without ``overwrite``, or holding
        other files).
    """
    if out.is_symlink() or (out.exists() and not out.is_dir()):
        raise CLIError(f"--out {str(out)!r} exists and is not a directory")
    if not out.exists() or not any(out.iterdir()):
        return
    if not overwrite:
        raise CLIError(
            f"output directory {str(out)!r} already exists and is not empty; pass --overwrite "
            "to replace it, or choose another --out"
        )
    foreign = sorted(p.name for p in out.iterdir() if p.name not in known or not p.is_file())
    if foreign:
        raise CLIError(
            f"refusing to --overwrite {str(out)!r}: it holds {shown(foreign, 5)}, which this "
            "command does not write; remove the directory yourself or choose another --out"
        )


@contextlib.contextmanager
def atomic_directory(out: Path, *, overwrite: bool, known: frozenset[str]) -> Iterator[Path]:
    """Yield a temporary sibling directory that becomes ``out`` when the block succeeds.

    Parameters
    ----------
    out
        The run directory to create (or replace, see :func:`check_output_dir`).
    overwrite, known
        Passed to :func:`check_output_dir`, checked again just before the rename.

    Yields
    ------
    pathlib.Path
        The temporary directory (``out.tmp-XXXX``) to write into. On any exception it is
        removed, together with parent directories this call created.
    """
    out = Path(os.path.abspath(out))
    check_output_dir(out, overwrite=overwrite, known=known)
    created = _make_parents(out.parent)
    tmp = Path(tempfile.mkdtemp(prefix=f"{out.name}.tmp-", dir=out.parent))
    try:
        yield tmp
        _apply_umask(tmp)
        check_output_dir(out, overwrite=overwrite, known=known)
        _swap_into_place(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        _remove_empty(created)
        raise


def _make_parents(parent: Path) -> list[Path]:
    """``mkdir -p parent``; return the directories it created, deepest first."""
    created = []
    probe = parent
    while not probe.exists():
        created.append(probe)
        probe = probe.parent
    parent.mkdir(parents=True, exist_ok=True)
    return created


def _remove_empty(directories: list[Path]) -> None:
    for directory in directories:
        try:
            directory.rmdir()
        except OSError:
            return


def _apply_umask(directory: Path) -> None:
    """Give ``directory`` and its files the modes ``mkdir``/``open`` would (not 0700/0600)."""
    mask = os.umask(0)
    os.umask(mask)
    os.chmod(directory, 0o777 & ~mask)
    for path in directory.iterdir():
        if path.is_file() and not path.is_symlink():
            os.chmod(path, 0o666 & ~mask)


def _swap_into_place(tmp: Path, out: Path) -> None:
    """Rename ``tmp`` to ``out``, replacing an empty or (already vetted) old ``out``."""
    if out.is_dir() and not any(out.iterdir()):
        out.rmdir()
    if not out.exists():
        os.rename(tmp, out)
        return
    backup = Path(tempfile.mkdtemp(prefix=f"{out.name}.old-", dir=out.parent))
    os.rename(out, backup / out.name)
    try:
        os.rename(tmp, out)
    except BaseException:
        os.rename(backup / out.name, out)
        backup.rmdir()
        raise
    shutil.rmtree(backup, ignore_errors=True)
