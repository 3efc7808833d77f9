"""The memory plan: sizes add up, budgets refuse up front with the numbers."""

from __future__ import annotations

import pytest
import torch

import bayesgrn as bg
from bayesgrn.errors import ResourceError
from bayesgrn.memory import check_memory, format_bytes, parse_bytes, plan_memory


def test_plan_scales_with_the_problem():
    small = plan_memory(100, 100, 100)
    wide = plan_memory(100, 1000, 100)
    minibatch = plan_memory(10_000, 1000, 100, subsample_size=100)
    full = plan_memory(10_000, 1000, 100)
    assert wide.parameters == 10 * small.parameters
    assert wide.draws > 2 * small.draws
    assert minibatch.activations < full.activations
    # draws are float32 on the host whatever the fit's dtype
    assert plan_memory(100, 100, 100, dtype=torch.float64).draws == small.draws
    assert plan_memory(100, 100, 100, num_draws=10).draws < small.draws


def test_dream5_sized_plan_is_below_4_gib():
    # 1,643 genes x 805 samples x 195 regulators: measured peak 2.4 GiB
    # (examples/benchmarks/memory_plan.py); the plan must stay close to and below 4 GiB
    plan = plan_memory(805, 1643, 195)
    assert 1.5 * 2**30 < plan.host_bytes < 4 * 2**30


def test_check_memory_refuses_with_the_plan_and_the_options():
    plan = plan_memory(1000, 20_000, 1600)
    with pytest.raises(ResourceError) as info:
        check_memory(plan, torch.device("cpu"), max_memory=parse_bytes("1G"))
    message = str(info.value)
    assert "needs about" in message
    assert "1.00 GiB" in message
    assert "posterior draws" in message
    assert "--regulators" in message
    assert "--subsample-size" in message
    check_memory(plan, torch.device("cpu"), max_memory=plan.host_bytes + 1)


def test_fit_refuses_before_fitting(tiny_sim):
    with pytest.raises(ResourceError, match="max_memory budget is 1.00 MiB"):
        bg.fit(tiny_sim.data, num_steps=5, max_memory="1M")
    post = bg.fit(tiny_sim.data, num_steps=5)
    assert post.diagnostics["planned_peak_host_bytes"] > 0


def test_gibbs_plan_counts_a_gram_matrix_per_target(tiny_sim):
    # measured (examples/benchmarks/memory_plan.py --method gibbs): planned/measured peak
    # 1.03-1.18 on 100-1000 genes; the sampler's float64 matrices grow with R^2 per target
    svi = plan_memory(500, 1000, 300)
    gibbs = plan_memory(500, 1000, 300, gibbs=True, num_draws=100)
    assert gibbs.parameters == gibbs.optimizer == 0
    assert gibbs.activations >= 4 * 1000 * 301**2 * 8
    assert gibbs.activations > 10 * svi.activations
    doubled = plan_memory(500, 1000, 600, gibbs=True, num_draws=100)
    assert doubled.activations > 3.5 * gibbs.activations
    assert "sampler working set" in gibbs.table()
    with pytest.raises(ResourceError, match="method='svi'") as info:
        bg.fit(tiny_sim.data, model="horseshoe_pseudolikelihood", method="gibbs",
               max_memory="1M")  # fmt: skip
    assert "--subsample-size" not in str(info.value)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("4G", 4 * 2**30), ("512MiB", 512 * 2**20), ("1.5gb", int(1.5 * 2**30)), ("100", 100)],
)
def test_parse_bytes(text, expected):
    assert parse_bytes(text) == expected


@pytest.mark.parametrize("text", ["", "lots", "-1G", "0", "4X"])
def test_parse_bytes_rejects_nonsense(text):
    with pytest.raises(ValueError, match="memory size"):
        parse_bytes(text)


def test_format_bytes():
    assert format_bytes(512) == "512 B"
    assert format_bytes(3 * 2**30) == "3.00 GiB"
