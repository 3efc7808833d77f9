"""The default SVI fit against an exact posterior: no regression to an over-confident guide.

NUTS takes minutes on a 10-gene problem. Without the Jacobian term (each target's equation a
regression, knocked-out genes' equations cut) the blocked Gibbs sampler samples the model's
posterior exactly in seconds, and the SVI fit there uses the default guide, objective and
particle count -- only the likelihood differs from the default's. ``python
examples/calibration.py --datasets 0 --exact 24 --nuts-simulator standardized --no-jacobian``
measures the same over many data sets (docs/calibration.md). With the Jacobian the sampler
takes about a minute here and the default misses the targets below on these off-model
networks (edge directions the knockouts leave open, docs/calibration.md, stop 24), so this
test guards the part of the posterior the guide does capture.
"""

import dataclasses

import numpy as np
import pytest

import bayesgrn as bg


@pytest.fixture(scope="module")
def problem():
    """10 genes, 100 observational samples + one knockout per gene; model without Jacobian."""
    data = bg.simulate(10, 100, knockouts="all", seed=0).data
    spec = dataclasses.replace(bg.load_spec("horseshoe"), jacobian="never")
    exact = bg.fit(data, model=spec, method="gibbs", seed=0, num_samples=2000, warmup_steps=500)
    return data, spec, exact


def test_default_fit_agrees_with_the_exact_posterior(problem):
    """Issue 4's NUTS targets, checked against the exact sampler on one problem.

    Measured on this data set with one torch thread (``make test``), fit seeds 0-5: median
    per-weight sd ratio SVI / Gibbs 0.950-0.984 and ``p_edge`` within 0.1 of the exact one for
    93.3-95.6% of pairs. A regression to the mode-seeking ELBO (same guide, one particle)
    gives 0.847-0.870 and 86.7-88.9% on the same seeds; the mean-field guide with the ELBO
    74.4% (seed 0). Two Gibbs runs (seeds 1, 2) agree with this one on 100% of pairs with sd
    ratios 0.99-1.00, so the reference's own noise is far inside both bounds.
    """
    data, spec, exact = problem
    svi = bg.fit(data, model=spec, seed=0, psis_draws=0)
    mask = exact.allowed
    sd_ratio = svi.matrix("sd").to_numpy()[mask] / exact.matrix("sd").to_numpy()[mask]
    dp = np.abs(svi.matrix("p_edge").to_numpy() - exact.matrix("p_edge").to_numpy())[mask]
    assert 0.92 < np.median(sd_ratio) < 1.1
    assert np.mean(dp < 0.1) >= 0.9
