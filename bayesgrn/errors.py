"""bayesgrn's own exceptions (the catalogue of messages is in ``docs/errors.md``).

* :class:`BayesGRNInputError` -- the input (table, names, options) is wrong; the message
  names the file, row, column or gene and what to do.
* :class:`CheckpointError` -- a checkpoint cannot be used to resume this fit.
* :class:`FitInterrupted` -- SIGINT/SIGTERM stopped a fit cleanly (after writing a
  checkpoint when one was configured).
* :class:`FitDivergedError` -- the optimisation kept producing non-finite values even after
  restarts from the last good state at smaller learning rates.
* :class:`ResourceError` -- the fit's memory plan exceeds the device or the given budget.
"""

from __future__ import annotations

from pathlib import Path

from bayesgrn.data import BayesGRNInputError


class CheckpointError(ValueError):
    """A checkpoint file is unreadable or was written by a different fit."""


class ResourceError(RuntimeError):
    """The planned memory of a fit exceeds what the device (or ``max_memory``) allows."""


class FitDivergedError(RuntimeError):
    """SVI produced non-finite values and could not recover."""


class FitInterrupted(RuntimeError):
    """A fit stopped on SIGINT/SIGTERM at a step boundary.

    Attributes
    ----------
    step
        Steps completed before stopping.
    checkpoint
        Where the state was saved (``None`` when no checkpoint path was configured).
    signal_name
        ``"SIGINT"`` or ``"SIGTERM"``.
    """

    def __init__(self, step: int, checkpoint: Path | None, signal_name: str) -> None:
        self.step, self.checkpoint, self.signal_name = step, checkpoint, signal_name
        where = (
            f"state saved to {str(checkpoint)!r}; resume with resume=True (CLI: --resume)"
            if checkpoint is not None
            else "no checkpoint path was set, so the progress is lost"
        )
        super().__init__(f"fit interrupted by {signal_name} after {step} steps; {where}")


__all__ = [
    "BayesGRNInputError",
    "CheckpointError",
    "FitDivergedError",
    "FitInterrupted",
    "ResourceError",
]
