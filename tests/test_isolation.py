"""Fits do not leak state: param store, global RNGs, interleaving."""
# ruff: noqa: NPY002 - the legacy global numpy RNG is exactly what these tests guard

import random

import numpy as np
import pyro
import torch

import bayesgrn as bg


def _fit(data, seed):
    return bg.fit(data, num_steps=60, svi={"num_draws": 100}, seed=seed)


def test_same_seed_same_result(tiny_sim):
    a, b = _fit(tiny_sim.data, 5), _fit(tiny_sim.data, 5)
    np.testing.assert_array_equal(a.w_draws, b.w_draws)
    c = _fit(tiny_sim.data, 6)
    assert not np.array_equal(a.w_draws, c.w_draws)


def test_interleaved_fits_equal_separate_fits(tiny_sim, small_sim):
    alone_a = _fit(tiny_sim.data, 1)
    alone_b = _fit(small_sim.data, 2)
    # interleave: both fits in one process, other order, with Pyro/torch state in between
    pyro.param("user_param", torch.ones(3))
    torch.manual_seed(123)
    inter_b = _fit(small_sim.data, 2)
    inter_a = _fit(tiny_sim.data, 1)
    np.testing.assert_array_equal(alone_a.w_draws, inter_a.w_draws)
    np.testing.assert_array_equal(alone_b.w_draws, inter_b.w_draws)
    # the user's parameter survives untouched
    assert torch.equal(pyro.param("user_param"), torch.ones(3))
    pyro.clear_param_store()


def test_caller_rng_state_is_untouched(tiny_sim):
    torch.manual_seed(42)
    random.seed(42)
    np.random.seed(42)
    expected = (torch.rand(3), random.random(), np.random.rand())
    torch.manual_seed(42)
    random.seed(42)
    np.random.seed(42)
    _fit(tiny_sim.data, 0)
    got = (torch.rand(3), random.random(), np.random.rand())
    assert torch.equal(expected[0], got[0])
    assert expected[1:] == got[1:]
