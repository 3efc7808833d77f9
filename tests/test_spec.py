import dataclasses

import pytest

import bayesgrn as bg
from bayesgrn.spec import ModelSpec, models_dir


def test_python_defaults_equal_the_bundled_default_spec():
    bundled = bg.load_spec("horseshoe")
    default = ModelSpec()
    for section in ("prior", "guide", "svi", "decision"):
        assert getattr(default, section) == getattr(bundled, section), section
    assert (default.family, default.interventions, default.jacobian) == (
        bundled.family,
        bundled.interventions,
        bundled.jacobian,
    )


def test_round_trip_and_hash_is_stable():
    spec = bg.load_spec("horseshoe")
    again = ModelSpec.from_dict(spec.to_dict())
    assert again == spec
    assert again.hash == spec.hash
    assert len(spec.hash) == 16


def test_overrides_change_hash_and_keep_the_rest():
    spec = bg.load_spec("horseshoe")
    changed = spec.with_overrides({"prior": {"slab_scale": 2}})
    assert changed.prior.slab_scale == 2.0
    assert changed.prior.slab_df == spec.prior.slab_df
    assert changed.hash != spec.hash
    assert spec.prior.slab_scale != 2.0  # original untouched


def test_load_by_path(tmp_path):
    text = (models_dir() / "horseshoe.toml").read_text().replace("slab_df = 4.0", "slab_df = 7.0")
    path = tmp_path / "mine.toml"
    path.write_text(text)
    assert bg.load_spec(path).prior.slab_df == 7.0
    assert bg.load_spec(str(path)).prior.slab_df == 7.0


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"prior": {"slab_scael": 1.0}}, "unknown keys"),
        ({"prior": {"slab_scale": -1.0}}, "slab_scale"),
        ({"prior": {"slab_scale": "wide"}}, "must be float"),
        ({"guide": {"kind": "flow"}}, "guide.kind"),
        ({"guide": {"kind": "conjugate", "mean_field_fraction": 1.0}}, r"in \[0, 1\)"),
        ({"svi": {"lr": 0.0}}, "svi.lr"),
        ({"likelihood": {"family": "poisson"}}, "likelihood.family"),
        ({"likelihood": {"jacobian": "yes"}}, "jacobian"),
        ({"likelihood": {"jacobian": True}}, "jacobian must be one of"),
        ({"nonsense": 1}, "unknown top-level"),
    ],
)
def test_bad_specs_are_rejected_by_name(overrides, message):
    with pytest.raises(ValueError, match=message):
        bg.load_spec("horseshoe").with_overrides(overrides)


def test_unknown_name_lists_bundled_specs():
    with pytest.raises(ValueError, match="bundled specs: .*horseshoe"):
        bg.load_spec("horsehoe")


def test_missing_or_broken_file(tmp_path):
    with pytest.raises(ValueError, match="does not exist"):
        bg.load_spec(tmp_path / "nope.toml")
    broken = tmp_path / "broken.toml"
    broken.write_text("name = [unclosed")
    with pytest.raises(ValueError, match="not valid TOML"):
        bg.load_spec(broken)


def test_spec_is_frozen():
    spec = bg.load_spec("horseshoe")
    with pytest.raises(dataclasses.FrozenInstanceError):
        spec.name = "x"
