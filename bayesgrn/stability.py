r"""Stability of the network behind each posterior draw.

The linear model reads the samples as steady states of
:math:`\dot x = (W^\top - I)\,x + b + \varepsilon`; a steady state that the data can come from
is stable, which needs every eigenvalue of :math:`W` to have real part below 1. The likelihood
does not know this: a cyclic linear model has observationally equivalent versions that reverse
a cycle and invert its weights, and of these only one is stable (Lacerda et al. 2008, "Discovering
cyclic causal models by independent components analysis"). A posterior whose draws mostly fail
the condition sits in such a mode -- a NUTS chain started far from :math:`W = 0`, for example --
and describes a network with no steady state at all.

:func:`unstable_fraction` is the check a fit reports (``diagnostics["unstable_fraction"]``);
it costs one eigen-decomposition of a :math:`G \times G` matrix per checked draw, so it runs on
at most :data:`MAX_DRAWS` draws and only up to :data:`MAX_GENES` genes.
"""

from __future__ import annotations

import numpy as np

#: largest network whose draws are checked (an eigen-decomposition per draw costs O(G^3))
MAX_GENES = 200
#: draws checked (evenly spaced over the posterior's draws)
MAX_DRAWS = 100
#: share of unstable draws above which a fit warns
UNSTABLE_WARN = 0.1


def square_weights(
    w_draws: np.ndarray, regulator_index: np.ndarray, n_genes: int
) -> np.ndarray:
    """Embed ``(S, R, G)`` regulator-by-target draws into ``(S, G, G)`` gene-by-gene matrices.

    Genes that are not candidate regulators get a zero row.
    """
    full = np.zeros((w_draws.shape[0], n_genes, n_genes), dtype=np.float64)
    full[:, np.asarray(regulator_index), :] = w_draws
    return full


def growth_rates(w: np.ndarray) -> np.ndarray:
    r"""Largest real part of the eigenvalues of each ``(..., G, G)`` matrix, minus 1.

    The steady state of :math:`\dot x = (W^\top - I)x + b` is stable when this is negative.
    """
    return np.linalg.eigvals(w).real.max(axis=-1) - 1.0


def unstable_fraction(
    w_draws: np.ndarray,
    regulator_index: np.ndarray,
    n_genes: int,
    max_draws: int = MAX_DRAWS,
) -> float | None:
    """Share of checked draws whose network has no stable steady state.

    Parameters
    ----------
    w_draws
        ``(S, R, G)`` draws of ``W`` with every gene a target (either scale: a diagonal
        rescaling of the genes does not change the eigenvalues).
    regulator_index
        Position of each of the ``R`` regulators among the ``G`` genes.
    n_genes
        ``G``.
    max_draws
        Draws checked, evenly spaced.

    Returns
    -------
    float or None
        The share in [0, 1]; ``None`` when the network is larger than :data:`MAX_GENES` or
        the draws do not cover every gene as a target.
    """
    if n_genes > MAX_GENES or w_draws.shape[-1] != n_genes or w_draws.shape[0] == 0:
        return None
    pick = np.unique(np.linspace(0, w_draws.shape[0] - 1, max_draws).round().astype(int))
    full = square_weights(w_draws[pick], regulator_index, n_genes)
    return float(np.mean(growth_rates(full) >= 0.0))
