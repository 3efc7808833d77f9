r"""Simulate steady-state expression from a known sparse, signed network.

Two latent families (:func:`simulate`), and raw counts on top of either
(:func:`simulate_counts`), so every model family can be tested on data it did not generate.

**Linear** (``family="linear"``): steady state with intercepts :math:`\beta_j` and noise
:math:`e_s \sim \mathcal N(0, \sigma^2 I)`:

.. math:: x_s = x_s W + \beta + e_s \quad\Longrightarrow\quad x_s = (\beta + e_s)(I - W)^{-1},

which exists because the spectral radius of ``W`` is scaled to at most ``spectral_radius``
< 1. A knockout of gene ``k`` replaces ``k``'s equation by ``x_k = 0`` (or
``knockout_level``): its regulators no longer act on it, it still acts on its targets;
column ``k`` of ``W`` is zeroed and ``beta_k + e_k`` set to 0 in that sample.

**Sigmoid** (``family="sigmoid"``): the structural equations of the package's saturating
model (``model="sigmoid_horseshoe"``),

.. math:: x_{sj} = b_j + v_j\,\varsigma\Big(h_j + \sum_r W_{rj} x_{sr}\Big) + e_{sj},
    \qquad \varsigma(a) = \frac{1}{1 + e^{-a}},

with gain :math:`v_j`, bias (threshold) :math:`h_j` and baseline :math:`b_j` per gene. The
map :math:`F(x) = b + e + v \odot \varsigma(h + xW)` has Jacobian
:math:`W \operatorname{diag}(v \odot \varsigma')` with :math:`0 < \varsigma' \le 1/4`, bounded
entrywise by :math:`M = |W| \operatorname{diag}(v)/4`; the edges of ``W`` on directed
cycles are rescaled so that :math:`\rho(M) \le` ``spectral_radius`` < 1 (edges on no cycle
do not change :math:`\rho(M)`; also :math:`\rho(M) \le \max_j v_j\,\rho(|W|)/4`).
Then :math:`F` is a contraction in the max-norm weighted by a near-Perron vector of
:math:`M`, so every sample (and every knockout, which only removes a column of :math:`M`)
has exactly one steady state, it is stable (the Jacobian there has spectral radius < 1),
and fixed-point iteration reaches it from anywhere (:func:`sigmoid_steady_states`).

**Counts** (:func:`simulate_counts`): negative-binomial counts whose log mean moves with
the latent steady state, with per-sample size factors (library sizes) as in RNA-seq.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy.sparse.csgraph import connected_components

from bayesgrn.data import ExpressionData

FAMILIES = ("linear", "sigmoid")
#: default ``weight_range`` per family (the sigmoid's is rescaled to a contraction anyway)
DEFAULT_WEIGHT_RANGE = {"linear": (0.3, 0.8), "sigmoid": (1.0, 3.0)}
#: keyword arguments of :func:`simulate` that :func:`simulate_counts` passes on
LATENT_OPTIONS = (
    "mean_in_degree",
    "weight_range",
    "spectral_radius",
    "noise_sd",
    "baseline",
    "gain_range",
    "operating_range",
    "n_regulators",
)
#: :math:`|a|` beyond which :math:`\varsigma'(a)` is below half its maximum 1/4
HALF_SLOPE = 2.0 * math.acosh(math.sqrt(2.0))  # = log(3 + 2 sqrt 2) ~ 1.763


@dataclass(frozen=True, eq=False)
class SimulatedData:
    r"""Simulated expression with its ground truth.

    Attributes
    ----------
    data
        The expression (observational samples first, then one sample per knockout).
    weights
        True ``W`` as a genes x genes DataFrame (rows regulators, columns targets).
    parameters
        The rest of the truth, read-only arrays by name (``None`` only when built by hand).
        Both families: ``noise`` (samples x genes :math:`e`) and ``typical`` (per gene: the
        noise-free unperturbed steady state). Linear: ``intercept`` :math:`\beta`. Sigmoid:
        ``gain`` :math:`v`, ``bias`` :math:`h`, ``baseline`` :math:`b` and
        ``operating_point`` (the sigmoid argument at ``typical``). Counts add ``latent``
        (samples x genes latent steady state), ``base_mean`` and ``mean`` (see
        :func:`simulate_counts`).
    size_factors
        Counts only: the per-sample size factor (library size) multiplying every mean.
    """

    data: ExpressionData
    weights: pd.DataFrame
    parameters: Mapping[str, np.ndarray] | None = None
    size_factors: np.ndarray | None = None

    @property
    def gold(self) -> pd.DataFrame:
        """True edges as ``regulator, target, weight`` (non-zero entries of ``W``)."""
        stacked = self.weights.stack()
        stacked = stacked[stacked != 0]
        return pd.DataFrame(
            {
                "regulator": stacked.index.get_level_values(0),
                "target": stacked.index.get_level_values(1),
                "weight": stacked.to_numpy(),
            }
        )


def random_network(
    n_genes: int,
    *,
    mean_in_degree: float = 1.5,
    weight_range: tuple[float, float] = (0.3, 0.8),
    spectral_radius: float = 0.8,
    n_regulators: int | None = None,
    rng: np.random.Generator,
) -> np.ndarray:
    """Sparse signed ``W`` (regulator x target): in-degree ~ Poisson, weights ±U(range).

    Regulators of each target are drawn from the first ``n_regulators`` genes (all genes by
    default), never the target itself; ``W`` is rescaled so its spectral radius is at most
    ``spectral_radius``.
    """
    pool = n_genes if n_regulators is None else n_regulators
    w = np.zeros((n_genes, n_genes))
    low, high = weight_range
    for j in range(n_genes):  # one draw per target (a loop over genes, not pairs)
        candidates = np.setdiff1d(np.arange(pool), [j])
        k = min(rng.poisson(mean_in_degree), candidates.size)
        parents = rng.choice(candidates, size=k, replace=False)
        w[parents, j] = rng.uniform(low, high, size=k) * rng.choice([-1.0, 1.0], size=k)
    rho = np.max(np.abs(np.linalg.eigvals(w))) if n_genes else 0.0
    if rho > spectral_radius:
        w *= spectral_radius / rho
    return w


def knockout_mask(knocked_out: Sequence[int | None], n_genes: int) -> np.ndarray:
    """Return the samples x genes ``perturbed`` mask: True at each sample's knocked-out gene.

    ``knocked_out`` holds per sample ``None`` (observational) or the knocked-out gene's index,
    as for :func:`steady_states`; the result is the ``perturbed=`` argument of
    :meth:`~bayesgrn.data.ExpressionData.from_array` for those samples.
    """
    mask = np.zeros((len(knocked_out), n_genes), dtype=bool)
    for sample, gene in enumerate(knocked_out):
        if gene is not None:
            mask[sample, int(gene)] = True
    return mask


def steady_states(
    w: np.ndarray,
    intercept: np.ndarray,
    noise: np.ndarray,
    knocked_out: Sequence[int | None],
    knockout_level: float | np.ndarray = 0.0,
) -> np.ndarray:
    """Solve ``x = x W + intercept + noise`` per sample, with knocked-out genes clamped.

    ``knockout_level`` is one level for every gene or one per gene (``(n_genes,)``).
    """
    n_samples, n_genes = noise.shape
    level = np.broadcast_to(np.asarray(knockout_level, dtype=np.float64), (n_genes,))
    eye = np.eye(n_genes)
    drive = intercept[None, :] + noise
    out = np.empty((n_samples, n_genes))
    observational = np.array([k is None for k in knocked_out])
    if observational.any():
        out[observational] = np.linalg.solve((eye - w).T, drive[observational].T).T
    for s in np.nonzero(~observational)[0]:
        k = int(knocked_out[s])
        w_cut = w.copy()
        w_cut[:, k] = 0.0
        rhs = drive[s].copy()
        rhs[k] = level[k]
        out[s] = np.linalg.solve((eye - w_cut).T, rhs)
    return out


def sigmoid(a: np.ndarray) -> np.ndarray:
    r"""Logistic :math:`\varsigma(a) = 1/(1 + e^{-a}) = (1 + \tanh(a/2))/2`, overflow-free."""
    return 0.5 * (1.0 + np.tanh(0.5 * a))


def contraction_bound(w: np.ndarray, gain: np.ndarray) -> float:
    r"""Lipschitz bound :math:`\rho(|W|\operatorname{diag}(v))/4` of the sigmoid steady-state map.

    Below 1 the steady state of :func:`sigmoid_steady_states` is unique and stable, for any
    noise and any knockouts; it is at most :math:`\max_j v_j\,\rho(|W|)/4`.
    """
    m = np.abs(w) * (np.asarray(gain, dtype=np.float64)[None, :] / 4.0)
    return float(np.max(np.abs(np.linalg.eigvals(m)))) if m.size else 0.0


def _cyclic_edges(w: np.ndarray) -> np.ndarray:
    """Bool mask of the edges of ``w`` that lie on a directed cycle (both ends in one SCC)."""
    _, label = connected_components(w != 0, directed=True, connection="strong")
    return (w != 0) & (label[:, None] == label[None, :])


def sigmoid_steady_states(
    w: np.ndarray,
    gain: np.ndarray,
    bias: np.ndarray,
    baseline: np.ndarray,
    noise: np.ndarray,
    knocked_out: Sequence[int | None],
    knockout_level: float | np.ndarray = 0.0,
    *,
    tol: float = 1e-10,
    max_iter: int = 10_000,
) -> np.ndarray:
    r"""Solve :math:`x_s = b + v \odot \varsigma(h + x_s W) + e_s` for all samples at once.

    Fixed-point iteration :math:`x \leftarrow F(x)`, vectorised over samples, from
    :math:`x^{(0)} = b + v \odot \varsigma(h) + e`; in a sample whose ``knocked_out`` entry is
    gene ``k``, ``x_k`` is held at its ``knockout_level`` (its equation is cut, it still
    regulates its targets). It converges geometrically at rate
    :func:`contraction_bound` when that is < 1.

    Parameters
    ----------
    w
        ``(n_genes, n_genes)`` weights, regulators x targets.
    gain, bias, baseline
        ``(n_genes,)`` :math:`v`, :math:`h`, :math:`b`.
    noise
        ``(n_samples, n_genes)`` :math:`e`.
    knocked_out
        Per sample ``None`` or the index of the knocked-out gene.
    knockout_level
        One clamp level for every gene, or one per gene.
    tol
        Stop once :math:`\max_{s,j} |F(x)_{sj} - x_{sj}| <` ``tol``.
    max_iter
        Iterations before giving up.

    Returns
    -------
    numpy.ndarray
        ``(n_samples, n_genes)`` steady states, whose largest residual is below ``tol``.

    Raises
    ------
    RuntimeError
        If the residual is still above ``tol`` after ``max_iter`` iterations.
    """
    n_samples, n_genes = noise.shape
    level = np.broadcast_to(np.asarray(knockout_level, dtype=np.float64), (n_genes,))
    codes = np.array([-1 if k is None else int(k) for k in knocked_out], dtype=np.int64)
    rows = np.nonzero(codes >= 0)[0]
    cols = codes[rows]
    offset = baseline[None, :] + noise
    x = offset + gain * sigmoid(bias)[None, :]
    x[rows, cols] = level[cols]
    residual = math.inf
    for _ in range(max_iter):
        fx = offset + gain * sigmoid(bias + x @ w)
        fx[rows, cols] = level[cols]
        residual = float(np.max(np.abs(fx - x))) if fx.size else 0.0
        if residual < tol:
            return x
        x = fx
    raise RuntimeError(
        f"sigmoid steady state did not converge in {max_iter} iterations (largest residual "
        f"{residual:.3g} >= tol {tol:g}); its contraction bound rho(|W| diag(gain))/4 is "
        f"{contraction_bound(w, gain):.3g}, which must be < 1"
    )


@dataclass(frozen=True, eq=False)
class _Draw:
    """Everything :func:`simulate` draws before solving for the steady states."""

    family: str
    w: np.ndarray
    knocked: list[int | None]
    noise: np.ndarray
    params: dict[str, np.ndarray]
    tol: float
    rng: np.random.Generator


def _check_range(name: str, value: Any, *, positive: bool = False) -> tuple[float, float]:
    """``(low, high)`` with finite ``low <= high`` (and ``low > 0`` if ``positive``)."""
    try:
        low, high = (float(v) for v in value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a pair (low, high), got {value!r}") from None
    if not (math.isfinite(low) and math.isfinite(high) and low <= high):
        raise ValueError(f"{name} must be finite with low <= high, got {value!r}")
    if positive and low <= 0:
        raise ValueError(f"{name} must be positive, got {value!r}")
    return low, high


def _draw(
    n_genes: int,
    n_samples: int,
    *,
    family: str,
    knockouts: int | Sequence[int] | str,
    mean_in_degree: float = 1.5,
    weight_range: tuple[float, float] | None = None,
    spectral_radius: float = 0.8,
    noise_sd: float = 1.0,
    baseline: float = 3.0,
    gain_range: tuple[float, float] = (2.0, 4.0),
    operating_range: tuple[float, float] = (-2.5, 2.5),
    n_regulators: int | None = None,
    seed: int = 0,
) -> _Draw:
    """Validate the arguments and draw the network, per-gene parameters, knockouts, noise.

    The linear family's generator calls (network, knockouts, noise) keep their historical
    order, so its data are the same for the same seed.
    """
    if family not in FAMILIES:
        raise ValueError(
            f"unknown family {family!r}; choose one of {', '.join(map(repr, FAMILIES))}"
        )
    if n_genes < 2 or n_samples < 0:
        raise ValueError("simulate needs n_genes >= 2 and n_samples >= 0")
    if not (math.isfinite(noise_sd) and noise_sd > 0):
        raise ValueError(f"noise_sd must be positive and finite, got {noise_sd!r}")
    if weight_range is None:
        weight_range = DEFAULT_WEIGHT_RANGE[family]
    if _check_range("weight_range", weight_range)[0] < 0:
        raise ValueError(f"weight_range must be >= 0 (signs are drawn), got {weight_range!r}")
    if family == "sigmoid":
        gain_low, gain_high = _check_range("gain_range", gain_range, positive=True)
        op_low, op_high = _check_range("operating_range", operating_range)
        if not 0 < spectral_radius < 1:
            raise ValueError(
                "the sigmoid family needs 0 < spectral_radius < 1 (the contraction bound of "
                f"its steady-state map), got {spectral_radius!r}"
            )
    if isinstance(knockouts, str):
        if knockouts != "all":
            raise ValueError(
                f"knockouts must be 'all', a count or gene indices, got {knockouts!r}"
            )
    elif isinstance(knockouts, int | np.integer):
        if knockouts < 0:
            raise ValueError(f"the number of knockouts must be >= 0, got {knockouts}")
    else:
        bad = [k for k in knockouts if not 0 <= int(k) < n_genes]
        if bad:
            raise ValueError(
                f"knockout gene indices must be in 0..{n_genes - 1}, got {bad} (n_genes={n_genes})"
            )

    rng = np.random.default_rng(seed)
    w = random_network(
        n_genes,
        mean_in_degree=mean_in_degree,
        weight_range=weight_range,
        spectral_radius=spectral_radius if family == "linear" else math.inf,
        n_regulators=n_regulators,
        rng=rng,
    )
    if family == "linear":
        intercept = np.full(n_genes, baseline * noise_sd)
        typical = np.linalg.solve((np.eye(n_genes) - w).T, intercept)
        params = {"intercept": intercept, "typical": typical}
    else:
        # gains and baselines in noise units, W in 1/noise units: x / noise_sd has one law
        w = w / noise_sd
        gain = noise_sd * rng.uniform(gain_low, gain_high, size=n_genes)
        base = noise_sd * rng.uniform(baseline - 1.0, baseline + 1.0, size=n_genes)
        operating = rng.uniform(op_low, op_high, size=n_genes)
        bound = contraction_bound(w, gain)
        if bound > spectral_radius:
            # only edges on cycles (inside a strongly connected component) enter rho(M)
            w[_cyclic_edges(w)] *= spectral_radius / bound
        # noise-free unperturbed steady state: x* = b + v sigmoid(t), with h = t - x* W
        typical = base + gain * sigmoid(operating)
        bias = operating - typical @ w
        params = {
            "gain": gain,
            "bias": bias,
            "baseline": base,
            "operating_point": operating,
            "typical": typical,
        }
    if isinstance(knockouts, str):
        ko = list(range(n_genes))
    elif isinstance(knockouts, int | np.integer):
        ko = sorted(rng.choice(n_genes, size=min(int(knockouts), n_genes), replace=False).tolist())
    else:
        ko = [int(k) for k in knockouts]
    knocked: list[int | None] = [None] * n_samples + ko
    noise = rng.normal(0.0, noise_sd, size=(len(knocked), n_genes))
    params["noise"] = noise
    return _Draw(family, w, knocked, noise, params, 1e-10 * max(1.0, noise_sd), rng)


def _solve(draw: _Draw, knockout_level: float | np.ndarray) -> np.ndarray:
    """Solve for the latent steady states, knocked-out genes clamped at ``knockout_level``."""
    p = draw.params
    if draw.family == "linear":
        return steady_states(draw.w, p["intercept"], draw.noise, draw.knocked, knockout_level)
    return sigmoid_steady_states(
        draw.w,
        p["gain"],
        p["bias"],
        p["baseline"],
        draw.noise,
        draw.knocked,
        knockout_level,
        tol=draw.tol,
    )


def _frozen(params: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Read-only copies of the parameter arrays."""
    out = {}
    for name, value in params.items():
        arr = np.array(value, dtype=np.float64, copy=True)
        arr.setflags(write=False)
        out[name] = arr
    return out


def _package(
    draw: _Draw,
    values: np.ndarray,
    *,
    n_samples: int,
    n_regulators: int | None,
    params: Mapping[str, np.ndarray],
    source: str,
    size_factors: np.ndarray | None = None,
) -> SimulatedData:
    """Names, perturbation mask and ground truth around simulated values."""
    n_genes = draw.w.shape[0]
    genes = [f"G{i + 1}" for i in range(n_genes)]
    ko = [int(k) for k in draw.knocked[n_samples:]]
    samples = [f"obs{i + 1}" for i in range(n_samples)] + [f"ko_{genes[k]}" for k in ko]
    perturbed = knockout_mask(draw.knocked, n_genes)
    regulators = genes[:n_regulators] if n_regulators is not None else None
    data = ExpressionData.from_array(
        values, genes, samples, regulators=regulators, perturbed=perturbed, source=source
    )
    if size_factors is not None:
        size_factors = np.array(size_factors, dtype=np.float64, copy=True)
        size_factors.setflags(write=False)
    return SimulatedData(
        data=data,
        weights=pd.DataFrame(draw.w, index=genes, columns=genes),
        parameters=_frozen(params),
        size_factors=size_factors,
    )


def simulate(
    n_genes: int = 50,
    n_samples: int = 200,
    *,
    family: str = "linear",
    knockouts: int | Sequence[int] | str = 0,
    mean_in_degree: float = 1.5,
    weight_range: tuple[float, float] | None = None,
    spectral_radius: float = 0.8,
    noise_sd: float = 1.0,
    baseline: float = 3.0,
    gain_range: tuple[float, float] = (2.0, 4.0),
    operating_range: tuple[float, float] = (-2.5, 2.5),
    knockout_level: float | np.ndarray = 0.0,
    n_regulators: int | None = None,
    seed: int = 0,
) -> SimulatedData:
    r"""Simulate a random network and its steady-state samples.

    ``family="linear"`` solves :math:`x_s = x_s W + \beta + e_s` (see the module
    docstring); ``family="sigmoid"`` solves
    :math:`x_{sj} = b_j + v_j \varsigma(h_j + \sum_r W_{rj} x_{sr}) + e_{sj}` by fixed-point
    iteration to a residual below :math:`10^{-10}` (times ``noise_sd`` when that is > 1).

    Sigmoid draws, per gene (gains and baselines in units of ``noise_sd``):
    :math:`v_j \sim U(\text{gain\_range})`,
    :math:`b_j \sim U(\text{baseline} - 1, \text{baseline} + 1)`, and the *operating point*
    :math:`t_j \sim U(\text{operating\_range})`, the sigmoid argument at the noise-free
    unperturbed steady state :math:`x^*_j = b_j + v_j \varsigma(t_j)`, which sets the bias
    :math:`h_j = t_j - \sum_r W_{rj} x^*_r`.

    Weights are drawn :math:`\pm U(1, 3)` per noise unit; the edges on directed cycles
    (inside a strongly connected component: the only ones that enter :math:`\rho(M)`) are
    then scaled down together until the contraction bound
    :math:`\rho(|W| \operatorname{diag}(v))/4 \le` ``spectral_radius`` (to about 0.5-1 for
    the defaults), the others keep 1-3. So one noise sd of a regulator moves its target's
    sigmoid argument by 1-3 and a gene's parents sweep it across the knee into saturation.
    Measured with the defaults, ``knockouts="all"``, seeds 0-19: 48% (37-56%) of the
    (sample, unclamped gene) cells sit where :math:`\varsigma'` is below half its maximum
    (:math:`|a| > 1.76`), and a least-squares linear fit of each gene on its true parents
    misses 15% (10-19%) of the regulatory variance (variance minus noise; a linear family
    misses none). Scaling all of ``W`` instead gave 37% and 4.5%, and the linear range
    0.3-0.8 gave 32% and -1%: saturated operating points, but no visible nonlinearity.

    Parameters
    ----------
    n_genes
        Number of genes ``G1..Gn``.
    n_samples
        Number of observational samples.
    family
        ``"linear"`` or ``"sigmoid"``.
    knockouts
        Extra knockout samples: ``"all"`` (one per gene), a count (that many distinct genes
        at random), or explicit gene indices.
    mean_in_degree, n_regulators
        Network shape, see :func:`random_network`.
    weight_range
        Magnitudes of the drawn weights; default ``(0.3, 0.8)`` (linear) or ``(1, 3)`` per
        noise unit (sigmoid, before the contraction rescaling).
    spectral_radius
        Linear: largest ``rho(W)``; sigmoid: largest contraction bound
        :math:`\rho(|W| \operatorname{diag}(v))/4`, in ``(0, 1)``.
    noise_sd
        Sd of the per-gene noise (> 0).
    baseline
        Linear: intercept of every gene (in noise units), so a knockout to 0 is a visible
        change. Sigmoid: centre of the baselines :math:`b_j` (in noise units).
    gain_range, operating_range
        Sigmoid only: ranges of the gains :math:`v_j` (noise units, > 0) and operating points
        :math:`t_j`.
    knockout_level
        The value a knocked-out gene is clamped to: one for all genes or one per gene.
    seed
        Seed of the numpy generator; same seed, same data. ``family="linear"`` gives the
        same data as before the sigmoid family existed.

    Returns
    -------
    SimulatedData
        The data, the true ``W`` and the other true parameters (``parameters``).

    Raises
    ------
    ValueError
        For an unknown family, fewer than 2 genes, negative sample or knockout counts,
        knockout indices out of range, a non-positive ``noise_sd``, bad ranges, or (sigmoid)
        a ``spectral_radius`` outside ``(0, 1)``.
    """
    draw = _draw(
        n_genes,
        n_samples,
        family=family,
        knockouts=knockouts,
        mean_in_degree=mean_in_degree,
        weight_range=weight_range,
        spectral_radius=spectral_radius,
        noise_sd=noise_sd,
        baseline=baseline,
        gain_range=gain_range,
        operating_range=operating_range,
        n_regulators=n_regulators,
        seed=seed,
    )
    x = _solve(draw, knockout_level)
    return _package(
        draw,
        x,
        n_samples=n_samples,
        n_regulators=n_regulators,
        params=draw.params,
        source="<simulated>",
    )


def simulate_counts(
    n_genes: int = 50,
    n_samples: int = 200,
    *,
    family: str = "linear",
    knockouts: int | Sequence[int] | str = 0,
    mean_count: tuple[float, float] = (5.0, 200.0),
    dispersion: float = 0.1,
    size_factor_sd: float = 0.3,
    log_scale: float = 0.5,
    knockout_fraction: float = 0.05,
    seed: int = 0,
    **latent_kwargs: Any,
) -> SimulatedData:
    r"""Simulate RNA-seq-like counts driven by a latent steady state of either family.

    The latent steady state :math:`x` comes from :func:`simulate` (same ``family``,
    ``knockouts``, ``seed`` and ``latent_kwargs``). Gene ``j``'s mean count in sample ``s``
    is

    .. math:: \log \mu_{sj} = \log B_j + \lambda\,(x_{sj} - x^*_j),

    with :math:`B_j` (``base_mean``) log-uniform in ``mean_count``, :math:`\lambda` =
    ``log_scale`` and :math:`x^*_j` (``typical``) the noise-free unperturbed steady state
    (the mean unperturbed latent value for the linear family, the deterministic one for the
    sigmoid family). The counts are negative binomial, drawn as a gamma-Poisson mixture,

    .. math:: y_{sj} \sim \operatorname{Poisson}(s_s \mu_{sj} g_{sj}),\quad
        g_{sj} \sim \Gamma(1/\phi, \phi),\quad
        \mathbb E\,y = s_s\mu_{sj} =: m_{sj},\quad \operatorname{Var} y = m + \phi m^2,

    with :math:`\phi` = ``dispersion`` (0: Poisson) and size factors
    :math:`s_s \sim \operatorname{LogNormal}(0, \text{size\_factor\_sd}^2)`, so library sizes
    differ between samples. A knockout clamps the knocked-out gene's latent value at
    :math:`x^*_k + \log(\text{knockout\_fraction})/\lambda`, so its mean count is exactly
    ``knockout_fraction`` x :math:`B_k` (x the size factor) whatever the family, and its
    targets respond to that latent drop (:math:`-\log(0.05)/0.5 \approx 6` latent units, i.e.
    noise sds, for the defaults) as in :func:`simulate`. The
    observation map is monotone, so the signs of ``W`` carry over to the counts.

    Parameters
    ----------
    n_genes, n_samples, family, knockouts, seed
        As for :func:`simulate`.
    mean_count
        ``(low, high)``, ``0 < low <= high``: range of the typical mean counts :math:`B_j`.
    dispersion
        :math:`\phi \ge 0`, the squared coefficient of variation of the gamma mixing.
    size_factor_sd
        Sd (>= 0) of the log size factors.
    log_scale
        :math:`\lambda > 0`: change of the log mean per latent unit (one noise sd changes
        the mean by a factor :math:`e^{\lambda}`, 1.65 by default).
    knockout_fraction
        In ``(0, 1]``: a knocked-out gene's mean count as a fraction of its typical one.
    **latent_kwargs
        Passed to :func:`simulate` (``mean_in_degree``, ``weight_range``, ``noise_sd``,
        ``gain_range``, ``n_regulators``, ...); not ``knockout_level``, which
        ``knockout_fraction`` sets.

    Returns
    -------
    SimulatedData
        ``data`` holds the raw counts (float integers, no transform) with the latent
        simulation's gene and sample names and perturbation mask; ``weights`` is the true
        ``W``; ``size_factors`` the :math:`s_s`; ``parameters`` the latent family's truth plus
        ``latent`` (:math:`x`), ``base_mean`` (:math:`B`) and ``mean`` (:math:`m = s\mu`).

    Raises
    ------
    ValueError
        For bad arguments (as :func:`simulate`, and the ranges above).
    TypeError
        For a keyword argument that is not one of :data:`LATENT_OPTIONS`.
    bayesgrn.BayesGRNInputError
        If a gene has the same count in all its unperturbed samples (e.g. all zero: raise
        ``mean_count`` or ``n_samples``).
    """
    unknown = sorted(set(latent_kwargs) - set(LATENT_OPTIONS) - {"knockout_level"})
    if unknown:
        raise TypeError(
            f"simulate_counts got unexpected keyword argument(s) {unknown}; the latent "
            f"simulation takes {', '.join(LATENT_OPTIONS)}"
        )
    if "knockout_level" in latent_kwargs:
        raise ValueError(
            "simulate_counts sets the latent knockout level from knockout_fraction; "
            "do not pass knockout_level"
        )
    low, high = _check_range("mean_count", mean_count, positive=True)
    for name, value, ok, need in (
        ("dispersion", dispersion, dispersion >= 0, ">= 0"),
        ("size_factor_sd", size_factor_sd, size_factor_sd >= 0, ">= 0"),
        ("log_scale", log_scale, log_scale > 0, "> 0"),
        ("knockout_fraction", knockout_fraction, 0 < knockout_fraction <= 1, "in (0, 1]"),
    ):
        if not (ok and math.isfinite(value)):
            raise ValueError(f"{name} must be finite and {need}, got {value!r}")
    draw = _draw(
        n_genes, n_samples, family=family, knockouts=knockouts, seed=seed, **latent_kwargs
    )
    typical = draw.params["typical"]
    x = _solve(draw, typical + math.log(knockout_fraction) / log_scale)
    rng = draw.rng
    base = np.exp(rng.uniform(math.log(low), math.log(high), size=n_genes))
    size = np.exp(rng.normal(0.0, size_factor_sd, size=x.shape[0]))
    mean = size[:, None] * base[None, :] * np.exp(log_scale * (x - typical[None, :]))
    rate = rng.gamma(1.0 / dispersion, dispersion * mean) if dispersion > 0 else mean
    counts = rng.poisson(rate).astype(np.float64)
    params = {**draw.params, "latent": x, "base_mean": base, "mean": mean}
    return _package(
        draw,
        counts,
        n_samples=n_samples,
        n_regulators=latent_kwargs.get("n_regulators"),
        params=params,
        source="<simulated counts>",
        size_factors=size,
    )
