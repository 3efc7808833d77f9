"""The immutable result of a fit.

A :class:`Posterior` holds draws of ``W[regulator, target]`` on the standardised scale,
the names, the resolved model spec and its hash, and the fit's diagnostics. It holds no
live guide, optimiser or Pyro state. Every accessor returns a new object.
"""

from __future__ import annotations

import dataclasses
import io
import json
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from bayesgrn import decision
from bayesgrn._arviz import to_inference_data
from bayesgrn.memory import SUMMARY_BLOCK_BYTES
from bayesgrn.spec import objective_label

FORMAT_VERSION = 1
SCALES = ("standardized", "data")


def _summary_device(fit_device: str) -> Any:
    """Return the CUDA device of a GPU fit to summarise its draws on, else ``None``."""
    if not str(fit_device).startswith("cuda"):
        return None
    import torch

    return torch.device(fit_device) if torch.cuda.is_available() else None


def _block_stats_torch(
    raw: np.ndarray, block: np.ndarray, threshold: float, ci_prob: float, device: Any
) -> dict[str, np.ndarray]:
    """Compute the per-edge summaries of :meth:`Posterior._compute_stats` for one block.

    The same definitions as :mod:`bayesgrn.decision` (numpy's default linear-interpolation
    quantiles, ``ddof=1`` sd), computed on ``device``: after a GPU fit, summarising
    hundreds of millions of draws on the host would cost minutes.
    """
    import torch

    levels = decision.interval_levels(ci_prob)
    # the draws are read-only: hand torch a writable copy of the block
    w = torch.from_numpy(np.array(raw, dtype=np.float32, order="C")).to(device)
    x = torch.from_numpy(np.array(block, dtype=np.float32, order="C")).to(device).double()
    n = x.shape[0]
    ordered = torch.sort(x, dim=0).values
    out: dict[str, torch.Tensor] = {}
    for name, q in zip(("ci_lower", "ci_upper"), levels, strict=True):
        h = (n - 1) * q
        k = min(int(np.floor(h)), n - 1)
        above = ordered[min(k + 1, n - 1)]
        out[name] = ordered[k] + (h - k) * (above - ordered[k])
    out["mean"] = x.mean(dim=0)
    out["sd"] = x.std(dim=0, correction=1) if n > 1 else torch.full_like(x[0], float("nan"))
    out["p_edge"] = (w.abs() > threshold).double().mean(dim=0)
    out["p_positive"] = (w > 0).double().mean(dim=0)
    out["lfsr"] = torch.minimum((w >= 0).double().mean(dim=0), (w <= 0).double().mean(dim=0))
    return {name: value.cpu().numpy() for name, value in out.items()}


@dataclass(frozen=True, eq=False)
class Posterior:
    """Posterior over a signed, directed network.

    Attributes
    ----------
    w_draws
        ``(n_draws, n_regulators, n_targets)`` draws of ``W`` in standardised units
        (a one-sd change of the regulator moves the target by ``W`` of its sds).
    regulators, targets
        Names along the two axes of ``W``.
    allowed
        ``(n_regulators, n_targets)`` bool; False for self-edges and forbidden edges,
        which are never reported.
    regulator_scale, target_scale
        Per-gene sds on the analysis scale; ``W_data = W * target_scale / regulator_scale``.
    spec
        The resolved model spec (``ModelSpec.to_dict()``), ``spec_hash`` its hash.
    method, seed, device
        How the posterior was obtained.
    diagnostics
        JSON-serialisable fit diagnostics (steps, seconds, final ELBO, converged, ...).
    losses
        Negative ELBO per SVI step (empty for NUTS).
    site_means
        Posterior means of the global sites: ``tau``, ``c2``, ``sigma`` ``(n_targets,)``,
        the intercepts ``b`` ``(n_conditions, n_targets)`` (every method, one condition
        included), and with ``prior.regulator_scale`` ``kappa`` ``(n_regulators,)``, one scale
        per regulator in the order of ``regulators``: a large value marks a regulator with
        many strong targets.
    site_draws
        Draws, aligned with ``w_draws``, of the per-target sites a family's predictions
        need besides ``W`` (sigmoid family: ``gain`` and ``bias`` ``(n_draws, n_targets)``,
        ``b`` ``(n_draws, n_conditions, n_targets)``; empty for the linear family).
    """

    w_draws: np.ndarray
    regulators: tuple[str, ...]
    targets: tuple[str, ...]
    allowed: np.ndarray
    regulator_scale: np.ndarray
    target_scale: np.ndarray
    spec: dict[str, Any]
    spec_hash: str
    method: str
    seed: int
    device: str
    diagnostics: dict[str, Any] = field(default_factory=dict)
    losses: np.ndarray = field(default_factory=lambda: np.zeros(0))
    site_means: dict[str, np.ndarray] = field(default_factory=dict)
    site_draws: dict[str, np.ndarray] = field(default_factory=dict)

    def __post_init__(self) -> None:
        s, r, t = self.w_draws.shape
        if (r, t) != (len(self.regulators), len(self.targets)) or self.allowed.shape != (r, t):
            raise ValueError("Posterior: draws, names and mask disagree in shape")
        for arr in (
            self.w_draws,
            self.allowed,
            self.regulator_scale,
            self.target_scale,
            self.losses,
        ):
            arr.setflags(write=False)
        for name, arr in self.site_draws.items():
            if arr.shape[0] != s or arr.shape[-1] != t:
                raise ValueError(f"Posterior: site draws {name!r} disagree with W in shape")
        for arr in (*self.site_means.values(), *self.site_draws.values()):
            arr.setflags(write=False)

    # ------------------------------------------------------------------ basic views
    @property
    def n_draws(self) -> int:
        """Number of posterior draws."""
        return self.w_draws.shape[0]

    @property
    def edge_threshold(self) -> float:
        """δ in ``p_edge = P(|W| > δ)`` (standardised units), from the spec."""
        return float(self.spec["decision"]["edge_threshold"])

    def draws(self, scale: str = "standardized") -> np.ndarray:
        """Return a copy of the draws of ``W``, ``(n_draws, n_regulators, n_targets)``."""
        return self.w_draws * self._scale_factor(scale)

    def _scale_factor(self, scale: str) -> np.ndarray | float:
        if scale not in SCALES:
            raise ValueError(f"scale must be one of {SCALES}, got {scale!r}")
        if scale == "standardized":
            return 1.0
        return (self.target_scale[None, :] / self.regulator_scale[:, None]).astype(np.float32)

    def _stats(self, ci_prob: float, scale: str) -> dict[str, np.ndarray]:
        """Per-edge summaries (cached per ``ci_prob, scale``: the draws never change)."""
        cache = self.__dict__.setdefault("_stats_cache", {})
        key = (float(ci_prob), scale)
        if key not in cache:
            stats = self._compute_stats(ci_prob, scale)
            for arr in stats.values():
                arr.setflags(write=False)
            cache.clear()  # keep one entry: each holds seven regulators x targets arrays
            cache[key] = stats
        return cache[key]

    def _compute_stats(self, ci_prob: float, scale: str) -> dict[str, np.ndarray]:
        """Per-edge summaries, computed over blocks of targets to bound working memory."""
        factor = self._scale_factor(scale)
        n_draws, n_reg, n_tgt = self.w_draws.shape
        # quantiles copy a block in float64: keep that copy near SUMMARY_BLOCK_BYTES
        width = max(1, SUMMARY_BLOCK_BYTES // max(1, 8 * n_draws * n_reg))
        names = ("mean", "sd", "ci_lower", "ci_upper", "p_edge", "p_positive", "lfsr")
        out = {k: np.empty((n_reg, n_tgt), dtype=np.float64) for k in names}
        device = _summary_device(self.device)
        for lo in range(0, n_tgt, width):
            cols = slice(lo, min(lo + width, n_tgt))
            raw = self.w_draws[:, :, cols]
            block = raw * (factor if np.isscalar(factor) else factor[:, cols])
            if device is not None:  # a GPU fit: summarise on the GPU, block by block
                for name, value in _block_stats_torch(
                    raw, block, self.edge_threshold, ci_prob, device
                ).items():
                    out[name][:, cols] = value
                continue
            out["ci_lower"][:, cols], out["ci_upper"][:, cols] = decision.credible_interval(
                block, ci_prob
            )
            out["mean"][:, cols] = block.mean(axis=0, dtype=np.float64)
            out["sd"][:, cols] = block.std(axis=0, ddof=1, dtype=np.float64)
            out["p_edge"][:, cols] = decision.edge_probability(raw, self.edge_threshold)
            out["p_positive"][:, cols] = decision.sign_probability(raw)
            out["lfsr"][:, cols] = decision.local_false_sign_rate(raw)
        return out

    # ------------------------------------------------------------------ edge tables
    def edges(self, ci_prob: float = 0.9, scale: str = "standardized") -> pd.DataFrame:
        """One row per candidate edge, most probable first.

        Columns: ``regulator, target, mean, sd, ci_lower, ci_upper, p_edge, p_positive,
        lfsr, lfdr`` plus arboreto's ``TF, importance`` (``importance = p_edge``). Sorted by
        ``p_edge`` descending, ties by ``|mean|`` descending. ``ci_prob`` sets the
        equal-tailed interval; ``scale`` is ``"standardized"`` or ``"data"`` (analysis units).
        """
        stats = self._stats(ci_prob, scale)
        r_idx, t_idx = np.nonzero(self.allowed)
        order = decision.edge_order(
            stats["p_edge"][r_idx, t_idx],
            np.abs(stats["mean"][r_idx, t_idx]),
            decision.name_ranks(self.regulators)[r_idx],
            decision.name_ranks(self.targets)[t_idx],
        )
        r_idx, t_idx = r_idx[order], t_idx[order]
        regulator = np.asarray(self.regulators, dtype=object)[r_idx]
        frame = pd.DataFrame(
            {
                "regulator": regulator,
                "target": np.asarray(self.targets, dtype=object)[t_idx],
                **{k: v[r_idx, t_idx].astype(np.float64) for k, v in stats.items()},
            }
        )
        frame["lfdr"] = 1.0 - frame["p_edge"]
        frame["TF"] = regulator
        frame["importance"] = frame["p_edge"]
        return frame

    def select(
        self, fdr: float = 0.05, ci_prob: float = 0.9, scale: str = "standardized"
    ) -> pd.DataFrame:
        """Largest edge set whose posterior expected FDR (mean ``lfdr``) is ``<= fdr``."""
        table = self.edges(ci_prob=ci_prob, scale=scale)
        keep = decision.bayesian_fdr_selection(table["lfdr"].to_numpy(), fdr)
        return table.iloc[np.sort(keep)].reset_index(drop=True)

    def matrix(
        self, stat: str = "mean", ci_prob: float = 0.9, scale: str = "standardized"
    ) -> pd.DataFrame:
        """``regulators x targets`` DataFrame of one statistic (GENIE3's VIM orientation).

        ``stat`` is one of ``mean, sd, ci_lower, ci_upper, p_edge, p_positive, lfsr``;
        self-edges and forbidden edges are 0.
        """
        stats = self._stats(ci_prob, scale)
        if stat not in stats:
            raise ValueError(f"unknown stat {stat!r}; choose one of {sorted(stats)}")
        values = np.where(self.allowed, stats[stat], 0.0)
        return pd.DataFrame(values, index=list(self.regulators), columns=list(self.targets))

    def cached(self, name: str, compute: Callable[[], Any]) -> Any:
        """Return ``compute()``, computed once per posterior (the draws never change)."""
        store = self.__dict__.setdefault("_derived_cache", {})
        if name not in store:
            store[name] = compute()
        return store[name]

    # ------------------------------------------------------------------ downstream
    def predict_effects(self, changes: dict[str, float], ci_prob: float = 0.9) -> pd.DataFrame:
        """Posterior of every other gene's steady-state change under imposed changes.

        ``changes`` maps perturbed genes to their change on the analysis scale (e.g.
        ``{"G3": -2.0}`` lowers G3 by 2 log units; several genes perturb jointly). Linear
        family: through the total-effect matrix per draw; sigmoid family: per-draw
        fixed-point solves. See :mod:`bayesgrn.effects` for the maths and the guards.
        """
        from bayesgrn.effects import predict_effects

        return predict_effects(self, changes, ci_prob=ci_prob)

    def predict_knockout(
        self, genes: str | list[str], change: float | list[float], ci_prob: float = 0.9
    ) -> pd.DataFrame:
        """Effects of knocking out (or, with a positive change, over-expressing) ``genes``.

        ``change`` is each gene's drop to its knocked-out level on the analysis scale
        (negative for a knockout), one number per gene or one for all.
        """
        names = [genes] if isinstance(genes, str) else list(genes)
        values = [change] * len(names) if np.isscalar(change) else list(change)
        if len(values) != len(names):
            raise ValueError("give one change per gene, or one change for all")
        return self.predict_effects(dict(zip(names, values, strict=True)), ci_prob=ci_prob)

    def degrees(self, ci_prob: float = 0.9) -> pd.DataFrame:
        """Posterior in/out-degree of every gene with intervals (:mod:`bayesgrn.summaries`)."""
        from bayesgrn.summaries import degree_summary

        return degree_summary(self, ci_prob=ci_prob)

    def n_edges(self, ci_prob: float = 0.9) -> dict[str, float]:
        """Posterior mean and interval of the number of edges (``|W| > δ``)."""
        from bayesgrn.summaries import edge_count

        return edge_count(self, ci_prob=ci_prob)

    def hubs(self, top: int = 10) -> pd.DataFrame:
        """Probability that each regulator is among the ``top`` hubs by out-degree."""
        from bayesgrn.summaries import regulator_ranking

        return regulator_ranking(self, top=top)

    def to_networkx(self, min_p_edge: float = 0.5) -> Any:
        """Return a ``networkx.DiGraph`` of edges with ``p_edge >= min_p_edge``."""
        from bayesgrn.export import to_networkx

        return to_networkx(self, min_p_edge=min_p_edge)

    # ------------------------------------------------------------------ summaries
    def summary(self) -> dict[str, Any]:
        """Fit diagnostics and provenance as a JSON-serialisable dict."""
        return {
            "model": self.spec.get("name"),
            "spec_hash": self.spec_hash,
            "method": self.method,
            "seed": self.seed,
            "device": self.device,
            "n_regulators": len(self.regulators),
            "n_targets": len(self.targets),
            "n_draws": self.n_draws,
            "edge_threshold": self.edge_threshold,
            **self.diagnostics,
        }

    def __repr__(self) -> str:
        elbo = self.diagnostics.get("final_elbo")
        label = objective_label(self.diagnostics)
        elbo_text = f", final {label} {elbo:.6g}" if isinstance(elbo, float) else ""
        return (
            f"Posterior({len(self.regulators)} regulators x {len(self.targets)} targets, "
            f"{self.n_draws} draws, method={self.method!r}, model={self.spec.get('name')!r}, "
            f"seed={self.seed}{elbo_text})"
        )

    def to_arviz(self) -> Any:
        """Return ArviZ data: ``W`` (dims chain, draw, regulator, target) and provenance.

        A NUTS or Gibbs fit with several chains keeps them apart (``az.rhat``/``az.ess``
        work on it); an SVI fit's draws are independent and form one chain.
        """
        attrs = {
            "model": str(self.spec.get("name")),
            "spec_hash": self.spec_hash,
            "spec": json.dumps(self.spec, sort_keys=True),
            "method": self.method,
            "seed": self.seed,
            "device": self.device,
        }
        chains = int(self.diagnostics.get("num_chains", 1))  # only samplers record chains
        if chains < 1 or self.n_draws % chains:
            chains = 1  # an edited posterior whose draws no longer split into its chains
        return to_inference_data(
            {"W": self.w_draws.reshape(chains, -1, *self.w_draws.shape[1:])},
            coords={"regulator": list(self.regulators), "target": list(self.targets)},
            dims={"W": ["regulator", "target"]},
            attrs=attrs,
        )

    # ------------------------------------------------------------------ persistence
    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write to a ``.npz`` file (arrays + JSON metadata; no pickles), atomically."""
        path = Path(path)
        meta = {
            "format_version": FORMAT_VERSION,
            "regulators": list(self.regulators),
            "targets": list(self.targets),
            "spec": self.spec,
            "spec_hash": self.spec_hash,
            "method": self.method,
            "seed": self.seed,
            "device": self.device,
            "diagnostics": self.diagnostics,
            "site_names": sorted(self.site_means),
            "site_draw_names": sorted(self.site_draws),
        }
        arrays = {
            "w_draws": self.w_draws,
            "allowed": self.allowed,
            "regulator_scale": self.regulator_scale,
            "target_scale": self.target_scale,
            "losses": self.losses,
            "meta": np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8),
            **{f"site_{k}": v for k, v in self.site_means.items()},
            **{f"site_draws_{k}": v for k, v in self.site_draws.items()},
        }
        buffer = io.BytesIO()
        np.savez_compressed(buffer, **arrays)
        atomic_write_bytes(path, buffer.getvalue())
        return path

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Posterior:
        """Read a file written by :meth:`save`."""
        path = Path(path)
        if not path.is_file():
            raise ValueError(f"posterior file {str(path)!r} does not exist")
        try:
            with np.load(path, allow_pickle=False) as npz:
                arrays = {k: npz[k] for k in npz.files}
            meta = json.loads(arrays.pop("meta").tobytes().decode())
        except (OSError, ValueError, KeyError) as err:
            raise ValueError(f"{str(path)!r} is not a bayesgrn posterior file: {err}") from None
        if meta.get("format_version") != FORMAT_VERSION:
            raise ValueError(
                f"{str(path)!r}: unsupported format version {meta.get('format_version')}"
            )
        sites = {k: arrays[f"site_{k}"] for k in meta["site_names"]}
        site_draws = {k: arrays[f"site_draws_{k}"] for k in meta.get("site_draw_names", [])}
        return cls(
            w_draws=arrays["w_draws"],
            regulators=tuple(meta["regulators"]),
            targets=tuple(meta["targets"]),
            allowed=arrays["allowed"],
            regulator_scale=arrays["regulator_scale"],
            target_scale=arrays["target_scale"],
            spec=meta["spec"],
            spec_hash=meta["spec_hash"],
            method=meta["method"],
            seed=int(meta["seed"]),
            device=meta["device"],
            diagnostics=meta["diagnostics"],
            losses=arrays["losses"],
            site_means=sites,
            site_draws=site_draws,
        )

    def replace(self, **changes: Any) -> Posterior:
        """Return a copy with some fields changed (the original is untouched)."""
        return dataclasses.replace(self, **changes)


def atomic_write_bytes(path: Path, payload: bytes) -> None:
    """Write ``payload`` to ``path`` via a temporary file in the same folder and ``os.replace``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp's 0600 would ignore the user's umask
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
