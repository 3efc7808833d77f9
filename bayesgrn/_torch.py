"""Device, dtype and RNG policy shared by every fit.

Everything random in a fit runs inside :func:`seeded`, which forks torch's global RNG
(CPU and CUDA) so the caller's RNG state is untouched afterwards, and seeds Pyro/torch
from the fit's own ``seed``.
"""

from __future__ import annotations

import contextlib
import random
from collections.abc import Iterator

import numpy as np
import pyro
import torch

DEVICES = ("auto", "cpu", "cuda")


def resolve_device(device: str | torch.device = "auto") -> torch.device:
    """Turn ``"auto"|"cpu"|"cuda"|"cuda:N"`` into a :class:`torch.device`.

    ``"auto"`` picks CUDA when available, else the CPU. Asking for CUDA without it raises
    a ``ValueError`` saying so (rather than torch's lazy-init error mid-fit).
    """
    if isinstance(device, torch.device):
        device = str(device)
    if not isinstance(device, str):
        raise TypeError(f"device must be a string such as 'auto', 'cpu' or 'cuda'; got {device!r}")
    name = device.strip().lower()
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cpu":
        return torch.device("cpu")
    if name.startswith("cuda"):
        if not torch.cuda.is_available():
            raise ValueError(
                f"device={device!r} was requested but this torch build sees no CUDA device; "
                "use device='cpu' or device='auto'."
            )
        return torch.device(name)
    raise ValueError(
        f"unknown device {device!r}; choose one of {', '.join(DEVICES)} (or 'cuda:N')."
    )


@contextlib.contextmanager
def seeded(seed: int, device: torch.device | None = None) -> Iterator[None]:
    """Run a block with its own seeded RNG state, restoring the caller's afterwards.

    Seeds torch (CPU and, when used, CUDA), Python's ``random`` and numpy's legacy
    global generator via :func:`pyro.set_rng_seed`, and restores all of them on exit.
    """
    if not isinstance(seed, int | np.integer) or isinstance(seed, bool):
        raise TypeError(f"seed must be an integer; got {seed!r}")
    devices = []
    if device is not None and device.type == "cuda":
        devices = [device.index if device.index is not None else torch.cuda.current_device()]
    py_state = random.getstate()
    np_state = np.random.get_state()  # noqa: NPY002 - restoring the caller's legacy RNG
    with torch.random.fork_rng(devices=devices):
        pyro.set_rng_seed(int(seed))
        try:
            yield
        finally:
            random.setstate(py_state)
            np.random.set_state(np_state)  # noqa: NPY002


@contextlib.contextmanager
def isolated_param_store() -> Iterator[None]:
    """Give a fit its own empty Pyro param store and restore the user's afterwards."""
    store = pyro.get_param_store()
    saved = store.get_state()
    store.clear()
    try:
        yield
    finally:
        store.set_state(saved)


#: below this many multiply-adds per likelihood evaluation a step is dominated by per-op
#: overhead, and torch's intra-op threads only add synchronisation (measured: a 30-gene fit
#: ran 10x slower with 2 threads than with 1 on a loaded 2-core machine)
SMALL_PROBLEM_FLOPS = 20_000_000


def auto_threads(n_samples: int, n_regulators: int, n_targets: int, device: torch.device) -> int:
    """Intra-op CPU threads for a fit: 1 for small problems, torch's default otherwise."""
    if device.type != "cpu" or n_samples * n_regulators * n_targets < SMALL_PROBLEM_FLOPS:
        return 1
    return torch.get_num_threads()


@contextlib.contextmanager
def torch_threads(n: int) -> Iterator[None]:
    """Set torch's intra-op thread count for a block and restore it afterwards."""
    before = torch.get_num_threads()
    torch.set_num_threads(max(1, int(n)))
    try:
        yield
    finally:
        torch.set_num_threads(before)
