"""The files of a fit's run directory (``fit``, ``demo --out``, ``dream4``), and its summary."""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import Any

import numpy as np

import bayesgrn
from bayesgrn.spec import objective_label

FIT_ORDER = ("edges.tsv", "selected.tsv", "posterior.npz", "summary.json")
#: ``bayesgrn report RUN_DIR`` adds this file to a run directory (so --overwrite may replace it)
REPORT_FILE = "report.html"
FIT_FILES = frozenset({*FIT_ORDER, REPORT_FILE})


def write_run(
    directory: Path,
    posterior: bayesgrn.Posterior,
    *,
    ci_prob: float,
    extra: dict[str, Any],
    fdr: float = 0.05,
) -> None:
    """Write ``edges.tsv``, ``selected.tsv``, ``posterior.npz`` and ``summary.json``.

    Parameters
    ----------
    directory
        An existing (temporary) directory.
    posterior
        The fit.
    ci_prob
        Mass of the credible intervals in ``edges.tsv``.
    extra
        More JSON-serialisable entries for ``summary.json`` (e.g. the inputs).
    fdr
        Level of the Bayesian FDR selection written to ``selected.tsv``.
    """
    edges = posterior.edges(ci_prob=ci_prob)
    edges.to_csv(directory / "edges.tsv", sep="\t", index=False, float_format="%.8g")
    selected = posterior.select(fdr=fdr, ci_prob=ci_prob)
    selected.to_csv(directory / "selected.tsv", sep="\t", index=False, float_format="%.8g")
    posterior.save(directory / "posterior.npz")
    summary = {
        **posterior.summary(),
        "ci_prob": ci_prob,
        "fdr": fdr,
        "n_selected": len(selected),
        "spec": posterior.spec,
        "bayesgrn_version": bayesgrn.__version__,
        **extra,
    }
    _write_json(directory / "summary.json", summary)


def _write_json(path: Path, payload: Any) -> None:
    path.write_text(json.dumps(payload, indent=2, default=_json_default) + "\n", encoding="utf-8")


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def vars_of(args: argparse.Namespace) -> dict[str, Any]:
    """Collect the JSON-serialisable options of a parsed command (for ``summary.json``).

    Parameters
    ----------
    args
        Parsed arguments.

    Returns
    -------
    dict
        Option name to value, without the handler.
    """
    return {k: v for k, v in vars(args).items() if k != "handler"}


def report_fit(out: Path, posterior: bayesgrn.Posterior) -> None:
    """Print what was fitted, its diagnostics and the files written to ``out``."""
    info = posterior.summary()
    n_edges = int(np.count_nonzero(posterior.allowed))
    fitted = (
        f"fitted {info['n_regulators']} regulators x {info['n_targets']} targets "
        f"({n_edges} candidate edges) on {info['device']} in {info['seconds']:.1f} s, "
    )
    if posterior.method == "svi":
        print(
            f"{fitted}{info.get('steps')} steps, final {objective_label(info)} "
            f"{info.get('final_elbo', float('nan')):.6g}, "
            f"converged={info.get('converged')}"
        )
    else:
        chains = int(info.get("num_chains", 1))
        rhat = f", max split R-hat {info['rhat_max']:.3f}" if "rhat_max" in info else ""
        print(
            f"{fitted}{posterior.method.upper()}: {chains} chain(s) x "
            f"{posterior.n_draws // chains} draws{rhat}"
        )
    if "pareto_k" in info:
        print(
            f"Pareto k-hat (Yao et al. 2018) over {info['psis_draws']} draws: median per "
            f"target {info['pareto_k_median_target']:.2f}, "
            f"{info['pareto_k_targets_above_0.7']} of {info['n_targets']} targets above 0.7"
        )
    print(f"wrote {out}/: {', '.join(n for n in FIT_ORDER if (out / n).exists())}")
