"""Stopping a fit cleanly on SIGINT/SIGTERM.

:func:`stop_on_signals` installs handlers that only *record* the signal; the SVI loop
polls :attr:`StopFlag.signal_name` at every step boundary, writes a checkpoint and raises
:class:`~bayesgrn.errors.FitInterrupted`. The previous handlers are restored on exit.
Handlers can only be installed from the main thread; elsewhere the flag stays inert.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import threading
from collections.abc import Iterator
from types import FrameType

logger = logging.getLogger(__name__)

SIGNALS = (signal.SIGINT, signal.SIGTERM)


class StopFlag:
    """Set by a signal handler; read by the optimisation loop."""

    def __init__(self) -> None:
        self.signal_name: str | None = None

    def handler(self, signum: int, frame: FrameType | None) -> None:
        """Record the signal (the loop stops at the end of the current step)."""
        self.signal_name = signal.Signals(signum).name


@contextlib.contextmanager
def stop_on_signals(enabled: bool = True) -> Iterator[StopFlag]:
    """Yield a :class:`StopFlag` set by SIGINT/SIGTERM while the block runs."""
    flag = StopFlag()
    if not enabled or threading.current_thread() is not threading.main_thread():
        if enabled:
            logger.debug("not in the main thread: signals are left to the caller")
        yield flag
        return
    previous = {sig: signal.signal(sig, flag.handler) for sig in SIGNALS}
    try:
        yield flag
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
