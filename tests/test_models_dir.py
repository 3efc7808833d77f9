"""Every spec in models/ loads, validates, round-trips and fits briefly."""

import numpy as np
import pytest

import bayesgrn as bg
from bayesgrn.spec import ModelSpec, models_dir

SPECS = sorted(p.stem for p in models_dir().glob("*.toml"))


def test_models_dir_is_not_empty():
    assert "horseshoe" in SPECS


@pytest.mark.parametrize("name", SPECS)
def test_spec_loads_round_trips_and_fits(name, tiny_sim):
    spec = bg.load_spec(name)
    assert spec.name == name, "a spec's name must match its file name"
    assert spec.description
    assert spec.references
    assert ModelSpec.from_dict(spec.to_dict()) == spec
    data = tiny_sim.data
    if spec.family == "negbinomial":  # a count model gets counts
        rng = np.random.default_rng(0)
        counts = rng.poisson(np.exp(2.0 + 0.5 * data.standardized())).astype(float)
        data = bg.ExpressionData.from_array(
            counts, data.genes, data.samples, perturbed=data.perturbed
        )
    post = bg.fit(data, model=name, num_steps=30, svi={"num_draws": 50}, seed=0)
    assert post.spec_hash == spec.with_overrides({"svi": {"num_draws": 50}}).hash
    assert post.spec["name"] == name
    assert np.isfinite(post.w_draws).all()
