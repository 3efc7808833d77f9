"""bayesgrn: Bayesian inference of gene regulatory networks from steady-state expression.

The public API::

    data = bayesgrn.read_expression("expr.tsv", regulators="tfs.txt")
    post = bayesgrn.fit(data, model="horseshoe", seed=0)
    post.edges(ci_prob=0.9)
"""

from __future__ import annotations

from bayesgrn.compare import compare
from bayesgrn.data import BayesGRNInputError, ExpressionData
from bayesgrn.differential import differential_edges
from bayesgrn.dream4 import read_dream4
from bayesgrn.fit import fit
from bayesgrn.io import read_expression, read_regulators
from bayesgrn.metrics import evaluate, read_gold_standard
from bayesgrn.posterior import Posterior
from bayesgrn.simulate import SimulatedData, simulate, simulate_counts
from bayesgrn.spec import ModelSpec, available_specs, load_spec

__version__ = "0.1.0"

__all__ = [
    "BayesGRNInputError",
    "ExpressionData",
    "ModelSpec",
    "Posterior",
    "SimulatedData",
    "__version__",
    "available_specs",
    "compare",
    "differential_edges",
    "evaluate",
    "fit",
    "load_spec",
    "read_dream4",
    "read_expression",
    "read_gold_standard",
    "read_regulators",
    "simulate",
    "simulate_counts",
]
