"""Checkpoints of an SVI fit: everything needed to continue it bit for bit.

A checkpoint holds the guide's parameters, the optimiser and learning-rate schedule state,
the convergence monitor, the loss trace, the torch RNG state(s) and a *fingerprint* of the
fit (model inputs, spec, seed, step budget, minibatch size, dtype, device type). Resuming
restores all of it, so an interrupted fit continued with :func:`bayesgrn.fit`
``(resume=True)`` ends at the same result as an uninterrupted one (same device).

Files are written atomically (temporary file + rename) and read with
``torch.load(weights_only=True)``, which unpickles only tensors and plain containers.
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import io
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from bayesgrn.errors import CheckpointError
from bayesgrn.model import ModelInputs
from bayesgrn.spec import ModelSpec

FORMAT_VERSION = 1


@dataclass(frozen=True)
class CheckpointConfig:
    """Where and how often an SVI fit saves its state.

    Attributes
    ----------
    path
        Checkpoint file (``None``: keep the last good state in memory only, used to
        recover from divergence).
    every
        Save every ``every`` steps (the in-memory recovery point too); ``0`` = only when
        interrupted.
    resume
        Start from ``path`` instead of from scratch.
    identity
        Extra text identifying the fit (seed, device type, dtype), part of the fingerprint.
    """

    path: Path | None = None
    every: int = 100
    resume: bool = False
    identity: str = ""


def fingerprint(
    inputs: ModelInputs, spec: ModelSpec, steps_max: int, subsample_size: int | None, identity: str
) -> str:
    """Digest of everything that determines the optimisation trajectory."""
    h = hashlib.blake2b(digest_size=16)
    h.update(f"{spec.hash}|{steps_max}|{subsample_size}|{identity}|{inputs.family}".encode())
    for name in (
        "x",
        "active",
        "regulator_index",
        "allowed",
        "local_scale",
        "condition",
        "tau0",
        "jacobian_targets",
        "clamped_regulators",
        "target_index",
    ):
        value = getattr(inputs, name)
        h.update(name.encode())
        if value is not None:
            array = value.detach().cpu().contiguous()
            h.update(str(tuple(array.shape)).encode() + str(array.dtype).encode())
            h.update(array.numpy().tobytes())
    return h.hexdigest()


def to_cpu(state: Any) -> Any:
    """Deep copy of a (nested) state with every tensor cloned to the CPU."""
    if isinstance(state, torch.Tensor):
        return state.detach().to("cpu", copy=True)
    if isinstance(state, dict):
        return {k: to_cpu(v) for k, v in state.items()}
    if isinstance(state, list | tuple):
        return type(state)(to_cpu(v) for v in state)
    return copy.deepcopy(state)


def save_checkpoint(path: Path, state: dict[str, Any]) -> None:
    """Write ``state`` to ``path`` atomically."""
    from bayesgrn.posterior import atomic_write_bytes

    buffer = io.BytesIO()
    torch.save({"format_version": FORMAT_VERSION, **state}, buffer)
    atomic_write_bytes(Path(path), buffer.getvalue())


def load_checkpoint(path: Path, expected_fingerprint: str) -> dict[str, Any]:
    """Read a checkpoint and check that it belongs to this fit.

    Raises
    ------
    CheckpointError
        When the file is missing or unreadable, has another format version, or was written
        by a fit with different data, spec, seed, step budget, dtype or device type.
    """
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(
            f"no checkpoint at {str(path)!r} to resume from; run without resume to start "
            "the fit from scratch"
        )
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # torch raises several types for a corrupt file
        raise CheckpointError(
            f"{str(path)!r} is not a readable bayesgrn checkpoint ({type(err).__name__}: "
            f"{err}); delete it and start the fit again"
        ) from None
    if not isinstance(state, dict) or state.get("format_version") != FORMAT_VERSION:
        raise CheckpointError(
            f"{str(path)!r} has an unsupported checkpoint format; delete it and start again"
        )
    if state.get("fingerprint") != expected_fingerprint:
        raise CheckpointError(
            f"{str(path)!r} was written by a different fit (data, model spec, seed, number "
            "of steps, minibatch size, dtype or device differ); resume with exactly the "
            "same inputs and options, or delete the checkpoint to start again"
        )
    return state


def remove_checkpoint(path: Path | None) -> None:
    """Delete a checkpoint once the fit it belongs to has finished."""
    if path is not None:
        with contextlib.suppress(FileNotFoundError):
            os.remove(path)
