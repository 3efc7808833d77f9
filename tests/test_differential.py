"""Differential networks between two conditions."""

from __future__ import annotations

import numpy as np
import pytest
from handmade import knockout_data

import bayesgrn as bg
from bayesgrn.differential import differential_edges


def test_rewired_edges_are_found():
    # condition B loses G3 -> G4 and gains G1 -> G6; the other edges are shared
    w_a = np.zeros((6, 6))
    w_a[0, 1], w_a[2, 3], w_a[4, 5] = 0.6, -0.6, 0.6
    w_b = w_a.copy()
    w_b[2, 3], w_b[0, 5] = 0.0, 0.6
    a = bg.fit(knockout_data(w_a, 300, 0), seed=0, num_steps=1500, psis_draws=0)
    b = bg.fit(knockout_data(w_b, 300, 1), seed=0, num_steps=1500, psis_draws=0)
    table = differential_edges(a, b)
    # orientation is a separate question; the changed gene pairs must come first
    top = {frozenset(p) for p in zip(table["regulator"][:2], table["target"][:2], strict=True)}
    assert top == {frozenset({"G3", "G4"}), frozenset({"G1", "G6"})}
    assert (table["p_differ"][:2] > 0.9).all()
    rows = table.set_index(["regulator", "target"])
    for shared in (("G1", "G2"), ("G5", "G6")):
        assert rows.loc[shared, "p_differ"] < 0.5
    assert table["p_differ"].between(0, 1).all()
    assert (table["diff_lower"] <= table["diff_upper"]).all()


def test_mismatched_posteriors_are_refused(tiny_sim):
    a = bg.fit(tiny_sim.data, num_steps=5, psis_draws=0)
    b = bg.fit(tiny_sim.data.with_regulators(["G1", "G2"]), num_steps=5, psis_draws=0)
    with pytest.raises(ValueError, match="same regulators and targets"):
        differential_edges(a, b)
    with pytest.raises(ValueError, match="delta"):
        differential_edges(a, a, delta=-1)
