"""Model specifications: the schema of ``models/*.toml`` and its loader.

A :class:`ModelSpec` is data, not code: which family member to fit, its prior
hyperparameters, the variational guide, the SVI schedule and the edge threshold. Default
*values* live in ``models/horseshoe.toml``; this module only knows the schema and how to
validate it. Every fit records the resolved spec (after overrides) and its hash.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

FAMILIES = ("gaussian", "sigmoid", "negbinomial")
GUIDES = ("conjugate", "normal", "lowrank", "conditional")
#: guide.noise: the noise sds' log-normal factor on its own, or centred on each draw's residuals
NOISE_FACTORS = ("free", "residual", "auto")
#: guide kinds that can centre the noise factor on the residuals (the "conditional" guide
#: draws the weights given the noise sds, the other way round)
RESIDUAL_NOISE_KINDS = ("conjugate", "normal", "lowrank")


def residual_noise_applies(family: str, guide_kind: str) -> bool:
    """Return whether ``guide.noise = "residual"`` can be used.

    It needs the linear Gaussian equations and a guide kind of :data:`RESIDUAL_NOISE_KINDS`.
    """
    return family == "gaussian" and guide_kind in RESIDUAL_NOISE_KINDS

OBJECTIVES = ("elbo", "iw")
INTERVENTIONS = ("cut", "ignore")
LIKELIHOOD_KEYS = ("family", "interventions", "jacobian")
JACOBIAN = ("auto", "always", "never")


def objective_label(diagnostics: Mapping[str, Any]) -> str:
    """Name a fit's training objective for messages, from its diagnostics.

    ``"ELBO"``, or ``"IW bound (K particles)"`` for the importance-weighted bound with
    ``K > 1`` (with one particle the two are the same). Fits saved before the objective was
    recorded trained the ELBO.
    """
    particles = int(diagnostics.get("num_particles") or 1)
    if diagnostics.get("objective") == "iw" and particles > 1:
        return f"IW bound ({particles} particles)"
    return "ELBO"


@dataclass(frozen=True)
class PriorSpec:
    """Regularized-horseshoe hyperparameters (Piironen & Vehtari 2017).

    Attributes
    ----------
    expected_edges_per_target
        ``p0``, the prior guess of each target's in-degree; sets the global scale
        ``tau0 = p0 / (D - p0) * sigma / sqrt(n)``.
    slab_scale, slab_df
        ``s`` and ``nu`` of the slab: ``c^2 ~ InvGamma(nu/2, nu s^2/2)``.
    noise_scale
        Scale of the half-normal prior on each target's noise sd ``sigma_j`` (standardised units).
    intercept_scale
        Scale of the normal prior on each condition's intercept ``b_kj`` (standardised units).
    regulator_scale
        Give every regulator ``r`` a half-Cauchy scale ``kappa_r ~ C+(0, 1)`` that multiplies
        the local scales of all its outgoing weights (``lambda_rj -> kappa_r lambda_rj``): a
        regulator that drives many targets is shrunk less on each of them (hub
        regulators), and a gene that regulates nothing is shrunk as a whole. On by default
        (docs/model.md gives the measurements behind that choice). It couples the targets
        through each regulator's scale: a fit of some targets (``targets=``, a sharded fit)
        estimates each ``kappa_r`` from those targets alone.
    """

    expected_edges_per_target: float = 2.0
    slab_scale: float = 1.0
    slab_df: float = 4.0
    noise_scale: float = 1.0
    intercept_scale: float = 1.0
    regulator_scale: bool = True


@dataclass(frozen=True)
class GuideSpec:
    r"""Variational family: ``"normal"``, ``"conjugate"``, ``"lowrank"`` or ``"conditional"``.

    ``init_scale`` is the initial sd of the log-normal/normal factors; ``init_weight_scale``
    the initial prior sd ``tau0 * lambda`` of every weight (a "free" start).
    ``mean_field_fraction`` (``"conjugate"`` only) is the share of the step budget spent on
    the mean-field weight factor before it is converted to the conjugate one
    (:meth:`bayesgrn.guide.HorseshoeGuide.to_conjugate`); 0 fits the conjugate factor
    from the first step; the other kinds ignore it (so ``guide={"kind": "normal"}`` on
    the default spec is the mean-field guide).
    ``noise`` is ``"free"`` (a log-normal factor per noise sd :math:`\sigma_j`, independent
    of the weights) or ``"residual"`` (the factor is centred on the root mean square
    residual of target ``j``'s equation under each draw of ``W`` and ``b``, so that
    :math:`\sigma_j` follows the weights as in the posterior; Gaussian family, kinds
    ``"conjugate"``, ``"normal"`` or ``"lowrank"``, full-batch fits; see
    :func:`bayesgrn.guide.residual_rms`) or ``"auto"`` (``"residual"`` where it applies,
    else ``"free"``: :func:`bayesgrn.guide.resolve_noise`).
    """

    kind: str = "conjugate"
    init_scale: float = 0.1
    init_weight_scale: float = 0.1
    mean_field_fraction: float = 0.25
    noise: str = "auto"


@dataclass(frozen=True)
class SVISpec:
    """Optimisation schedule for stochastic variational inference.

    ``lr_decay`` is the total factor by which the learning rate falls over ``num_steps``
    (exponential schedule); the fit stops early when the windowed mean ELBO improves by
    less than ``tol`` (relative) over ``patience`` consecutive windows of ``window`` steps.
    A non-finite loss or gradient sends the fit back to its last good state with half the
    learning rate, at most ``max_restarts`` times. ``objective`` is ``"elbo"`` (the
    evidence lower bound, averaged over ``num_particles`` draws) or ``"iw"`` (the
    importance-weighted bound over ``num_particles`` draws, see
    :mod:`bayesgrn.infer.objective`); ``num_particles = 0`` chooses the number from the
    problem's size (:func:`bayesgrn.infer.objective.resolve_particles`).
    """

    num_steps: int = 2000
    min_steps: int = 1000
    lr: float = 0.02
    lr_decay: float = 0.1
    num_particles: int = 0
    objective: str = "iw"
    window: int = 100
    tol: float = 1e-4
    patience: int = 3
    clip_norm: float = 10.0
    num_draws: int = 1000
    max_restarts: int = 3


@dataclass(frozen=True)
class DecisionSpec:
    """Edge decision: an edge exists when ``|W| > edge_threshold`` (standardised units)."""

    edge_threshold: float = 0.1


@dataclass(frozen=True)
class ModelSpec:
    """A fully resolved model configuration (one ``models/*.toml`` file)."""

    name: str = "horseshoe"
    version: int = 1
    description: str = ""
    references: tuple[str, ...] = ()
    family: str = "gaussian"
    interventions: str = "cut"
    jacobian: str = "auto"
    prior: PriorSpec = field(default_factory=PriorSpec)
    guide: GuideSpec = field(default_factory=GuideSpec)
    svi: SVISpec = field(default_factory=SVISpec)
    decision: DecisionSpec = field(default_factory=DecisionSpec)

    def __post_init__(self) -> None:
        _validate(self)

    def to_dict(self) -> dict[str, Any]:
        """Return the spec as plain nested dicts (the TOML layout)."""
        out = dataclasses.asdict(self)
        out["references"] = list(self.references)
        out["likelihood"] = {k: out.pop(k) for k in LIKELIHOOD_KEYS}
        return out

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any], source: str = "<dict>") -> ModelSpec:
        """Build a spec from the TOML layout, rejecting unknown keys by name."""
        raw = dict(raw)
        likelihood = dict(raw.pop("likelihood", {}))
        sections = {
            "prior": PriorSpec,
            "guide": GuideSpec,
            "svi": SVISpec,
            "decision": DecisionSpec,
        }
        kwargs: dict[str, Any] = {}
        for key, klass in sections.items():
            kwargs[key] = _build(klass, raw.pop(key, {}), f"{source} [{key}]")
        for key in LIKELIHOOD_KEYS:
            if key in likelihood:
                kwargs[key] = likelihood.pop(key)
        if likelihood:
            raise ValueError(f"{source} [likelihood]: unknown keys {sorted(likelihood)}")
        top = {f.name for f in dataclasses.fields(cls)} - set(sections) - set(LIKELIHOOD_KEYS)
        unknown = set(raw) - top
        if unknown:
            raise ValueError(
                f"{source}: unknown top-level keys {sorted(unknown)}; "
                f"allowed: {sorted(top | set(sections) | {'likelihood'})}"
            )
        if "references" in raw:
            raw["references"] = tuple(raw["references"])
        try:
            return cls(**raw, **kwargs)
        except (TypeError, ValueError) as err:
            raise ValueError(f"{source}: {err}") from None

    def with_overrides(self, overrides: Mapping[str, Any] | None) -> ModelSpec:
        """Return a copy with nested overrides, e.g. ``{"prior": {"slab_scale": 2.0}}``."""
        if not overrides:
            return self
        merged = _deep_merge(self.to_dict(), dict(overrides))
        return ModelSpec.from_dict(merged, source=f"{self.name} + overrides")

    @property
    def hash(self) -> str:
        """SHA-256 (first 16 hex digits) of the canonical JSON of :meth:`to_dict`."""
        text = json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def _build(klass: type, values: Mapping[str, Any], where: str) -> Any:
    names = {f.name: f for f in dataclasses.fields(klass)}
    unknown = set(values) - set(names)
    if unknown:
        raise ValueError(f"{where}: unknown keys {sorted(unknown)}; allowed: {sorted(names)}")
    clean = {}
    for key, value in values.items():
        expected = type(getattr(klass(), key))
        if expected is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, expected) or isinstance(value, bool) != (expected is bool):
            raise ValueError(
                f"{where}: {key} must be {expected.__name__}, got {type(value).__name__} {value!r}"
            )
        clean[key] = value
    return klass(**clean)


def _deep_merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in extra.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = _deep_merge(dict(out[key]), dict(value))
        else:
            out[key] = value
    return out


def _validate(spec: ModelSpec) -> None:
    checks = [
        (spec.family in FAMILIES, f"likelihood.family must be one of {FAMILIES}"),
        (
            spec.interventions in INTERVENTIONS,
            f"likelihood.interventions must be one of {INTERVENTIONS}",
        ),
        (spec.jacobian in JACOBIAN, f"likelihood.jacobian must be one of {JACOBIAN}"),
        (spec.guide.kind in GUIDES, f"guide.kind must be one of {GUIDES}"),
        (
            spec.guide.kind != "conditional" or spec.family == "gaussian",
            'guide.kind "conditional" needs likelihood.family = "gaussian" (it uses the '
            'linear regression of each target); use "normal" for this family',
        ),
        (spec.guide.noise in NOISE_FACTORS, f"guide.noise must be one of {NOISE_FACTORS}"),
        (
            spec.guide.noise != "residual"
            or residual_noise_applies(spec.family, spec.guide.kind),
            'guide.noise = "residual" needs likelihood.family = "gaussian" and guide.kind '
            f"one of {RESIDUAL_NOISE_KINDS} (the residuals are those of the linear equations); "
            'use guide.noise = "free" or "auto"',
        ),
        (spec.prior.expected_edges_per_target > 0, "prior.expected_edges_per_target must be > 0"),
        (
            spec.prior.slab_scale > 0 and spec.prior.slab_df > 0,
            "prior.slab_scale/slab_df must be > 0",
        ),
        (
            spec.prior.noise_scale > 0 and spec.prior.intercept_scale > 0,
            "prior scales must be > 0",
        ),
        (spec.guide.init_scale > 0, "guide.init_scale must be > 0"),
        (spec.guide.init_weight_scale > 0, "guide.init_weight_scale must be > 0"),
        (
            0 <= spec.guide.mean_field_fraction < 1,
            "guide.mean_field_fraction must be in [0, 1)",
        ),
        (spec.svi.num_steps >= 1 and spec.svi.min_steps >= 0, "svi.num_steps must be >= 1"),
        (spec.svi.lr > 0 and 0 < spec.svi.lr_decay <= 1, "svi.lr > 0 and 0 < svi.lr_decay <= 1"),
        (spec.svi.num_particles >= 0, "svi.num_particles must be >= 0 (0: automatic)"),
        (spec.svi.window >= 1, "svi.window must be >= 1"),
        (spec.svi.objective in OBJECTIVES, f"svi.objective must be one of {OBJECTIVES}"),
        (spec.svi.num_draws >= 2, "svi.num_draws must be >= 2"),
        (spec.svi.max_restarts >= 0, "svi.max_restarts must be >= 0"),
        (spec.decision.edge_threshold >= 0, "decision.edge_threshold must be >= 0"),
    ]
    for ok, message in checks:
        if not ok:
            raise ValueError(f"model spec {spec.name!r}: {message}")


def models_dir() -> Path:
    """Directory of the bundled specs (inside the wheel, or ``<repo>/models`` in a checkout)."""
    bundled = resources.files("bayesgrn") / "_models"
    if bundled.is_dir():
        return Path(str(bundled))
    return Path(__file__).resolve().parent.parent / "models"


def available_specs() -> list[str]:
    """Names of the bundled model specs."""
    return sorted(p.stem for p in models_dir().glob("*.toml"))


def load_spec(model: str | Path | ModelSpec = "horseshoe") -> ModelSpec:
    """Load a spec by bundled name (``"horseshoe"``) or TOML path, or pass a spec through."""
    if isinstance(model, ModelSpec):
        return model
    path = Path(model)
    if path.suffix != ".toml":
        candidate = models_dir() / f"{model}.toml"
        if not candidate.is_file():
            raise ValueError(
                f"unknown model {str(model)!r}; bundled specs: {', '.join(available_specs())}, "
                "or give a path to your own .toml file"
            )
        path = candidate
    if not path.is_file():
        raise ValueError(f"model spec file {str(path)!r} does not exist")
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as err:
        raise ValueError(f"model spec file {str(path)!r} is not valid TOML: {err}") from None
    return ModelSpec.from_dict(raw, source=str(path))
