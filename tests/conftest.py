"""Shared fixtures: seeded, validated Pyro; tiny simulated networks; the DREAM4 folder."""

from __future__ import annotations

import os
from pathlib import Path

import pyro
import pytest
import torch

import bayesgrn as bg

DREAM4_DIR = Path(__file__).resolve().parents[2] / "shared" / "data" / "dream4"

if os.environ.get("PYTEST_XDIST_WORKER"):
    # `make test` runs one pytest-xdist worker per core: one torch thread each, so that the
    # workers do not oversubscribe the cores (and a worker's results do not depend on how
    # many cores the machine has)
    torch.set_num_threads(1)


def pytest_addoption(parser):
    parser.addoption("--runslow", action="store_true", default=False, help="run slow tests")


def pytest_collection_modifyitems(config, items):
    skip_slow = pytest.mark.skip(reason="slow: pass --runslow to run")
    skip_gpu = pytest.mark.skip(reason="needs CUDA")
    for item in items:
        if "slow" in item.keywords and not config.getoption("--runslow"):
            item.add_marker(skip_slow)
        if "gpu" in item.keywords and not torch.cuda.is_available():
            item.add_marker(skip_gpu)


@pytest.fixture(autouse=True)
def _pyro_hygiene():
    """Validate distributions, start from a known seed, and leave the param store empty."""
    pyro.enable_validation(True)
    pyro.set_rng_seed(0)
    yield
    assert len(pyro.get_param_store()) == 0, "a test leaked parameters into Pyro's global store"


@pytest.fixture(scope="session")
def tiny_sim():
    """8 genes, 40 observational samples + one knockout per gene."""
    return bg.simulate(8, 40, knockouts="all", seed=3)


@pytest.fixture(scope="session")
def small_sim():
    """30 genes, 60 observational samples + one knockout per gene."""
    return bg.simulate(30, 60, knockouts="all", seed=11)


@pytest.fixture(scope="session")
def dream4_dir():
    path = DREAM4_DIR / "size100"
    if not path.is_dir():
        pytest.skip("DREAM4 data not found beside the project (../shared/data/dream4)")
    return path
