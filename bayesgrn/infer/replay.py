"""Guide draws, vectorised in chunks, replayed through the model.

Both the Pareto-k-hat check (:mod:`bayesgrn.infer.psis`) and the held-out score
(:mod:`bayesgrn.predictive`) draw the fitted guide many times at once -- a plate of draws at
dim -3 -- and evaluate the model at those draws; :func:`replayed_traces` is that step and
:func:`chunks` splits the draws into blocks that fit a memory budget.
"""

from __future__ import annotations

from collections.abc import Iterator

import pyro
from pyro import poutine
from pyro.poutine.trace_struct import Trace

from bayesgrn.guide import HorseshoeGuide
from bayesgrn.model import ModelInputs, grn_model
from bayesgrn.spec import PriorSpec


def chunks(total: int, budget_bytes: int, bytes_per_draw: int) -> Iterator[tuple[int, int]]:
    """``(start, size)`` of consecutive blocks of draws covering ``range(total)``.

    Each block holds as many draws as ``budget_bytes`` allows at ``bytes_per_draw`` (at
    least one).
    """
    step = int(max(1, min(total, budget_bytes // max(bytes_per_draw, 1))))
    for start in range(0, total, step):
        yield start, min(step, total - start)


def replayed_traces(
    guide: HorseshoeGuide,
    guide_inputs: ModelInputs,
    model_inputs: ModelInputs,
    prior: PriorSpec,
    size: int,
    name: str,
) -> tuple[Trace, Trace]:
    """Trace ``size`` guide draws (on ``guide_inputs``) and the model replayed at them.

    The draws form the plate ``name`` at dim -3; the model runs on ``model_inputs``
    (the same inputs, or held-out samples on the training scale) without subsampling.
    """

    def guide_draws() -> dict:
        with pyro.plate(name, size, dim=-3, device=guide_inputs.x.device):
            return guide(guide_inputs, prior)

    def model_draws() -> None:
        with pyro.plate(name, size, dim=-3, device=model_inputs.x.device):
            grn_model(model_inputs, prior, None)

    guide_trace = poutine.trace(guide_draws).get_trace()
    model_trace = poutine.trace(poutine.replay(model_draws, trace=guide_trace)).get_trace()
    return guide_trace, model_trace
