"""A self-contained HTML report of a run directory (``bayesgrn report RUN_DIR``).

The report is one HTML file with the run summary (seed, model, steps, convergence, final
ELBO, time, device, Pareto k-hat, the Bayesian-FDR selection), the pictures of
:mod:`bayesgrn.plots` embedded as base64 PNG data URIs, and a table of the top edges. It
links to nothing and runs no JavaScript, so it can be mailed, archived or opened offline.
The same inputs give the same file (it records no date).
"""

from __future__ import annotations

import base64
import html
import json
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from bayesgrn import decision
from bayesgrn.data import BayesGRNInputError
from bayesgrn.fit import SMALL_NETWORK_MEASURED
from bayesgrn.posterior import Posterior, atomic_write_bytes
from bayesgrn.spec import objective_label
from bayesgrn.stability import UNSTABLE_WARN

if TYPE_CHECKING:
    from matplotlib.figure import Figure

REPORT_NAME = "report.html"
RUN_FILES = ("posterior.npz", "summary.json")
GOLD_NAME = "gold.tsv"
TOP_EDGES = 30
NETWORK_EDGES = 50
PNG_DPI = 110
PARETO_K_LIMIT = 0.7


# ====================================================================== entry points
def write_report(
    run_dir: str | os.PathLike[str],
    out: str | os.PathLike[str] | None = None,
    gold: str | os.PathLike[str] | None = None,
    *,
    top: int = TOP_EDGES,
) -> Path:
    """Write the HTML report of a run directory, atomically.

    Parameters
    ----------
    run_dir
        A directory written by ``bayesgrn fit``, ``demo`` or ``dream4`` (it needs
        ``posterior.npz`` and ``summary.json``).
    out
        The HTML file to write; default ``RUN_DIR/report.html``.
    gold
        A gold standard (any file :func:`bayesgrn.read_gold_standard` reads) for the
        calibration plot and AUROC/AUPR; default ``RUN_DIR/gold.tsv`` when there is one
        (``bayesgrn demo`` writes it). Without one the report has no calibration section.
    top
        Number of edges in the forest plot and the table.

    Returns
    -------
    pathlib.Path
        The file written.

    Raises
    ------
    bayesgrn.BayesGRNInputError
        When ``run_dir`` is not a run directory (naming the missing file), its
        ``summary.json`` is not JSON, or ``out`` is a directory.
    ValueError
        When ``posterior.npz`` is not a posterior file or the gold standard is unreadable.
    """
    run_dir = Path(run_dir)
    post, summary = read_run(run_dir)
    if gold is None and (run_dir / GOLD_NAME).is_file():
        gold = run_dir / GOLD_NAME
    target = Path(out) if out is not None else run_dir / REPORT_NAME
    if target.is_dir():
        raise BayesGRNInputError(
            f"report output {str(target)!r} is a directory; give a file name such as "
            f"{str(target / REPORT_NAME)!r}"
        )
    text = render_report(
        post, summary, gold=gold, top=top, title=f"bayesgrn report: {run_dir.resolve().name}"
    )
    atomic_write_bytes(target, text.encode("utf-8"))
    return target


def read_run(run_dir: str | os.PathLike[str]) -> tuple[Posterior, dict[str, Any]]:
    """Read the posterior and the summary of a run directory.

    Parameters
    ----------
    run_dir
        A directory written by ``bayesgrn fit``, ``demo`` or ``dream4``.

    Returns
    -------
    tuple
        The :class:`~bayesgrn.Posterior` and the parsed ``summary.json``.

    Raises
    ------
    bayesgrn.BayesGRNInputError
        For a missing directory, a missing file, or a ``summary.json`` that is not a JSON
        object -- naming the path.
    """
    run_dir = Path(run_dir)
    expected = "expected a run directory written by 'bayesgrn fit', 'bayesgrn demo --out' or "
    expected += "'bayesgrn dream4'"
    if not run_dir.is_dir():
        what = "is not a directory" if run_dir.exists() else "does not exist"
        raise BayesGRNInputError(f"run directory {str(run_dir)!r} {what}; {expected}")
    for name in RUN_FILES:
        if not (run_dir / name).is_file():
            raise BayesGRNInputError(
                f"run directory {str(run_dir)!r} has no {name}; {expected}, which holds "
                f"{', '.join(RUN_FILES)}"
            )
    post = Posterior.load(run_dir / "posterior.npz")
    path = run_dir / "summary.json"
    try:
        summary = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise BayesGRNInputError(
            f"{str(path)!r} is not valid JSON ({err}); rerun the fit to write it again"
        ) from None
    if not isinstance(summary, dict):
        raise BayesGRNInputError(
            f"{str(path)!r} holds a JSON {type(summary).__name__}, not the object 'bayesgrn "
            "fit' writes; rerun the fit to write it again"
        )
    return post, summary


def render_report(
    post: Posterior,
    summary: dict[str, Any] | None = None,
    *,
    gold: str | os.PathLike[str] | pd.DataFrame | None = None,
    top: int = TOP_EDGES,
    title: str = "bayesgrn report",
) -> str:
    """Render the report of a posterior as one self-contained HTML document.

    Parameters
    ----------
    post
        The posterior.
    summary
        The run's ``summary.json`` (``ci_prob``, ``fdr`` and the inputs are taken from it);
        default ``post.summary()``.
    gold
        A gold standard for the calibration section (path or DataFrame), or ``None``.
    top
        Number of edges in the forest plot and the table.
    title
        Heading and ``<title>`` of the page.

    Returns
    -------
    str
        The HTML text.
    """
    from bayesgrn import plots

    if top < 1:
        raise ValueError(f"top must be >= 1, got {top}")
    summary = {**post.summary(), **(summary or {})}
    ci_prob = float(summary.get("ci_prob", 0.9))
    fdr = float(summary.get("fdr", 0.05))
    edges = post.edges(ci_prob=ci_prob)
    selected = np.zeros(len(edges), dtype=bool)
    selected[decision.bayesian_fdr_selection(edges["lfdr"].to_numpy(), fdr)] = True
    labelled = None
    if gold is not None:
        from bayesgrn.calibration import labelled_edges

        labelled = labelled_edges(edges, gold)
    sections = [
        _section("Run summary", _summary_table(post, summary, edges, selected, fdr, ci_prob)),
        _warnings(post, summary),
        _picture(
            "Optimisation",
            (lambda: plots.plot_elbo(post)) if post.losses.size else None,
            "Negative ELBO per SVI step (grey) and its running mean (black). The shaded span "
            "is what the convergence test compares; the red bar is the final ELBO's window. "
            "The inset shows the second half on a linear scale.",
            missing=f"No ELBO trace: this posterior was obtained with method={post.method!r}.",
        ),
        _picture(
            f"Top {min(top, len(edges))} edges",
            lambda: plots.plot_forest(post, top=top, ci_prob=ci_prob),
            f"Posterior mean (dot) and {ci_prob:.0%} credible interval (bar) of each edge's "
            "standardised weight, most probable edge on top; blue activates, red represses. "
            "The number at the right is p_edge; the grey band holds weights too small to "
            "count as an edge.",
        ),
        _picture(
            "Network",
            lambda: plots.plot_network(post, top=NETWORK_EDGES, ci_prob=ci_prob),
            f"The {NETWORK_EDGES} most probable edges with p_edge ≥ 0.5: arrow width is "
            "proportional to |mean|, colour is the sign (blue arrow: activation, red bar: "
            "repression), opacity is p_edge.",
            optional=True,
        ),
        _picture(
            "Edge probabilities",
            lambda: plots.plot_p_edge_heatmap(post),
            "p_edge of every regulator → target pair (rows: regulators, columns: targets); "
            "grey cells are not candidate edges (self-edges, forbidden edges).",
        ),
    ]
    if labelled is not None:
        sections.append(_calibration_section(edges, gold))
    sections.append(_section(f"Top {min(top, len(edges))} edges", _edge_table(
        edges.head(top), selected[:top], ci_prob, labelled)))  # fmt: skip
    body = "\n".join(s for s in sections if s)
    return _page(title, summary, body)


# ====================================================================== sections
def _summary_table(
    post: Posterior,
    summary: dict[str, Any],
    edges: pd.DataFrame,
    selected: np.ndarray,
    fdr: float,
    ci_prob: float,
) -> str:
    count = post.n_edges(ci_prob=ci_prob)
    rows: list[tuple[str, str]] = [
        ("model", f"{summary.get('model')} (spec hash {summary.get('spec_hash')})"),
        ("method", str(summary.get("method"))),
        ("seed", str(summary.get("seed"))),
        ("device", str(summary.get("device"))),
        ("data", _data_line(summary, len(edges))),
    ]
    if "steps" in summary:
        converged = summary.get("converged")
        rows.append(("steps", f"{summary['steps']} ({_converged_text(converged)})"))
    if _is_number(summary.get("final_elbo")):
        rows.append((f"final {objective_label(summary)}", f"{summary['final_elbo']:.6g}"))
    if _is_number(summary.get("seconds")):
        rows.append(("fit time", f"{summary['seconds']:.1f} s"))
    rows += [
        ("posterior draws", str(post.n_draws)),
        ("edge threshold δ", f"{post.edge_threshold:g} (p_edge = P(|W| > δ), standardised)"),
        (
            "selected edges",
            f"{int(selected.sum())} at posterior expected FDR ≤ {fdr:g} "
            "(the largest set whose mean lfdr is ≤ the level)",
        ),
        (
            "number of edges",
            f"{count['mean']:.1f} expected, {ci_prob:.0%} interval "
            f"[{count['lower']:.0f}, {count['upper']:.0f}]",
        ),
    ]
    pareto = _pareto_line(summary)
    if pareto:
        rows.append(("Pareto k-hat", pareto))
    if _is_number(summary.get("unstable_fraction")):
        rows.append(
            (
                "stability",
                f"{summary['unstable_fraction']:.0%} of checked draws have no stable steady "
                "state (an eigenvalue of W with real part ≥ 1)",
            )
        )
    chains = _chains_line(summary)
    if chains:
        rows.append((f"{str(summary['method']).upper()} chains", chains))
    restarts = summary.get("restarts")
    if restarts:
        rows.append(("restarts", f"{len(restarts)} after non-finite values"))
    versions = [
        f"bayesgrn {summary['bayesgrn_version']}" if "bayesgrn_version" in summary else "",
        f"torch {summary['torch_version']}" if "torch_version" in summary else "",
        f"pyro {summary['pyro_version']}" if "pyro_version" in summary else "",
    ]
    if any(versions):
        rows.append(("versions", ", ".join(v for v in versions if v)))
    return _key_value_table(rows)


def _data_line(summary: dict[str, Any], n_candidates: int) -> str:
    parts = []
    if "n_samples" in summary and "n_genes" in summary:
        parts.append(f"{summary['n_samples']} samples × {summary['n_genes']} genes")
    parts.append(
        f"{summary.get('n_regulators')} regulators × {summary.get('n_targets')} targets, "
        f"{n_candidates} candidate edges"
    )
    if summary.get("data_source"):
        parts.append(f"from {summary['data_source']}")
    return "; ".join(parts)


def _converged_text(converged: Any) -> str:
    if converged is None:
        return "convergence not recorded"
    return "converged" if converged else "not converged: stopped at the step limit"


def _pareto_line(summary: dict[str, Any]) -> str:
    if not _is_number(summary.get("pareto_k")):
        return ""
    text = f"{summary['pareto_k']:.2f} joint"
    if _is_number(summary.get("pareto_k_median_target")):
        text += f"; median per target {summary['pareto_k_median_target']:.2f}"
    above = summary.get(f"pareto_k_targets_above_{PARETO_K_LIMIT}")
    if above is not None:
        text += f"; {above} of {summary.get('n_targets')} targets above {PARETO_K_LIMIT}"
    if summary.get("psis_draws"):
        text += f" (PSIS over {summary['psis_draws']} draws)"
    return text


def _chains_line(summary: dict[str, Any]) -> str:
    if summary.get("method") not in ("nuts", "gibbs") or "num_chains" not in summary:
        return ""
    text = f"{summary['num_chains']} × {summary.get('num_samples')} draws"
    if summary["method"] == "nuts":
        text += f", {summary.get('divergences', 0)} divergent transitions"
    else:
        accept = summary.get("acceptance") or {}
        text += ", Metropolis acceptance " + ", ".join(
            f"{k} {v:.2f}" for k, v in accept.items() if _is_number(v)
        )
    if _is_number(summary.get("rhat_max")):
        text += (
            f"; max split R-hat {summary['rhat_max']:.2f}, {summary.get('rhat_n_above')} "
            f"weights above {summary.get('rhat_threshold')}"
        )
    return text


def _warnings(post: Posterior, summary: dict[str, Any]) -> str:
    notes = []
    if post.method == "svi" and summary.get("converged") is False:
        notes.append(
            "The fit stopped at its step limit before the convergence test passed; the ELBO "
            "trace shows whether it was still falling. Consider more steps (--steps)."
        )
    above = summary.get(f"pareto_k_targets_above_{PARETO_K_LIMIT}")
    if isinstance(above, int) and above > 0:
        notes.append(
            f"Pareto k-hat is above {PARETO_K_LIMIT} for {above} of "
            f"{summary.get('n_targets')} targets: the variational posterior of their incoming "
            "weights may be unreliable (too narrow intervals, over-confident p_edge). Check "
            "them with more steps or method='nuts' on a subset."
        )
    if summary.get("small_network"):
        notes.append(
            f"SVI on {summary.get('n_genes')} genes: on networks this small the variational "
            f"posterior was measured over-confident against NUTS ({SMALL_NETWORK_MEASURED}). "
            "method='gibbs' samples the posterior exactly in about a minute at this size "
            "(Gaussian family; method='nuts' otherwise); base decisions on it."
        )
    unstable = summary.get("unstable_fraction")
    if _is_number(unstable) and unstable > UNSTABLE_WARN:
        notes.append(
            f"{unstable:.0%} of the checked draws describe a network with no stable steady "
            "state (an eigenvalue of W with real part ≥ 1), which steady-state data cannot "
            "come from: the fit sits in a mode that reverses a feedback loop and inverts its "
            "weights. Refit with another seed or method='svi', and check the genes on the "
            "strongest two-way edges."
        )
    if summary.get("method") in ("nuts", "gibbs") and summary.get("rhat_n_above"):
        notes.append(
            f"The {str(summary['method']).upper()} chains disagree for "
            f"{summary['rhat_n_above']} weights (split R-hat "
            f"above {summary.get('rhat_threshold')}; worst: "
            f"{', '.join(summary.get('rhat_worst', []))}): the posterior has modes the chains "
            "do not all visit, or the chains are too short. Run more or longer chains before "
            "using it as a reference."
        )
    if not notes:
        return ""
    items = "".join(f"<li>{html.escape(n)}</li>" for n in notes)
    return f'<section class="warn"><h2>Warnings</h2><ul>{items}</ul></section>'


def _calibration_section(edges: pd.DataFrame, gold: str | os.PathLike[str] | pd.DataFrame) -> str:
    import bayesgrn
    from bayesgrn import plots

    source = "the given gold standard" if isinstance(gold, pd.DataFrame) else Path(gold).name
    picture = _picture(
        "Calibration against the gold standard",
        lambda: plots.plot_calibration(edges, gold),
        f"Reliability diagram against {source}: the candidate edges binned by p_edge, each "
        "bin's mean p_edge against its share of true edges (90% Jeffreys interval, count "
        "beside it). A calibrated posterior follows the dashed diagonal; the lower panel "
        "counts the edges per bin.",
    )
    try:
        metrics = bayesgrn.evaluate(edges, gold)
    except ValueError:  # only true (or only false) edges: no ranking metric
        return picture
    table = _key_value_table(
        [
            ("AUROC", f"{metrics['auroc']:.4f}"),
            ("AUPR", f"{metrics['aupr']:.4f}"),
            (
                "true edges",
                f"{metrics['n_true']} among {metrics['n_pairs']} scored pairs "
                f"(random AUPR ≈ {metrics['n_true'] / metrics['n_pairs']:.3f})",
            ),
        ]
    )
    return picture.replace("</section>", f"{table}</section>")


def _edge_table(
    top: pd.DataFrame, selected: np.ndarray, ci_prob: float, labelled: pd.DataFrame | None
) -> str:
    truth: dict[tuple[str, str], int] = {}
    if labelled is not None:
        truth = dict(zip(zip(labelled["regulator"], labelled["target"], strict=True),
                         labelled["label"], strict=True))  # fmt: skip
    header = ["#", "regulator", "target", "mean", f"{ci_prob:.0%} interval", "sd", "p_edge",
              "p_positive", "lfsr", "selected"]  # fmt: skip
    if labelled is not None:
        header.append("true edge")
    rows = []
    for rank, (row, chosen) in enumerate(
        zip(top.itertuples(index=False), selected, strict=True), start=1
    ):
        sign = "pos" if row.mean > 0 else "neg"
        cells = [
            str(rank),
            html.escape(str(row.regulator)),
            html.escape(str(row.target)),
            f'<span class="{sign}">{row.mean:+.3f}</span>',
            f"[{row.ci_lower:+.3f}, {row.ci_upper:+.3f}]",
            f"{row.sd:.3f}",
            f"{row.p_edge:.3f}",
            f"{row.p_positive:.3f}",
            f"{row.lfsr:.3f}",
            "yes" if chosen else "no",
        ]
        if labelled is not None:
            label = truth.get((row.regulator, row.target))
            cells.append("—" if label is None else ("yes" if label else "no"))
        rows.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    head = "<tr>" + "".join(f"<th>{html.escape(h)}</th>" for h in header) + "</tr>"
    note = (
        "<p>Ranked by p_edge, then |mean|; 'selected' marks the edges of the Bayesian-FDR "
        "selection; lfsr is the local false sign rate.</p>"
    )
    body = "".join(rows)
    return f'{note}<table class="edges"><thead>{head}</thead><tbody>{body}</tbody></table>'


# ====================================================================== html pieces
def _picture(
    heading: str,
    draw: Callable[[], Figure] | None,
    caption: str,
    *,
    missing: str = "",
    optional: bool = False,
) -> str:
    if draw is None:
        return _section(heading, f'<p class="note">{html.escape(missing)}</p>')
    try:
        fig = draw()
    except ImportError as err:
        if not optional:
            raise
        return _section(heading, f'<p class="note">Not drawn: {html.escape(str(err))}.</p>')
    from bayesgrn.plots import figure_png

    data = base64.b64encode(figure_png(fig, dpi=PNG_DPI)).decode("ascii")
    body = (
        f'<figure><img alt="{html.escape(heading)}" src="data:image/png;base64,{data}">'
        f"<figcaption>{html.escape(caption)}</figcaption></figure>"
    )
    return _section(heading, body)


def _section(heading: str, body: str) -> str:
    return f"<section><h2>{html.escape(heading)}</h2>{body}</section>"


def _key_value_table(rows: Sequence[tuple[str, str]]) -> str:
    cells = "".join(
        f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>" for k, v in rows
    )
    return f'<table class="kv">{cells}</table>'


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and np.isfinite(value)


_STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", Helvetica, Arial, sans-serif;
       margin: 2em auto; max-width: 1100px; padding: 0 1em; color: #222; line-height: 1.45; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; }
h2 { font-size: 1.25em; border-bottom: 1px solid #ddd; padding-bottom: 0.2em; margin-top: 1.8em; }
.sub { color: #666; margin-top: 0; }
figure { margin: 0.5em 0; }
img { max-width: 100%; height: auto; display: block; }
figcaption { color: #555; font-size: 0.92em; margin-top: 0.4em; }
table { border-collapse: collapse; font-size: 0.92em; margin: 0.6em 0; }
th, td { padding: 0.25em 0.7em; border-bottom: 1px solid #eee; text-align: left; }
table.kv th { color: #555; font-weight: 600; white-space: nowrap; vertical-align: top; }
table.edges td { font-variant-numeric: tabular-nums; white-space: nowrap; }
table.edges th { background: #f4f4f4; }
.pos { color: #2166ac; } .neg { color: #b2182b; }
.warn { background: #fff6e5; border-left: 4px solid #f0a020; padding: 0.2em 1em; }
.warn h2 { border: none; margin-top: 0.6em; }
.note { color: #666; font-style: italic; }
"""


def _page(title: str, summary: dict[str, Any], body: str) -> str:
    version = summary.get("bayesgrn_version")
    made = f"bayesgrn {version}" if version else "bayesgrn"
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{html.escape(title)}</title>\n<style>{_STYLE}</style>\n</head>\n<body>\n"
        f"<h1>{html.escape(title)}</h1>\n"
        f'<p class="sub">Posterior of a gene regulatory network fitted by {html.escape(made)}'
        f" ({html.escape(str(summary.get('method')))}, model "
        f"{html.escape(str(summary.get('model')))}).</p>\n"
        f"{body}\n</body>\n</html>\n"
    )
