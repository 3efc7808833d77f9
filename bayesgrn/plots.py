"""Pictures of a posterior: ELBO trace, forest plot, network, ``p_edge`` heat map, calibration.

Every function draws with matplotlib's object-oriented API and returns the
:class:`matplotlib.figure.Figure` it drew on. Pass ``ax=`` to draw into an axes of your own
(a pyplot one in a script, say); otherwise the function makes a new figure that pyplot does
not know about: it is rendered with matplotlib's Agg canvas whatever the backend, never
opens a window, needs no ``plt.close``, and in a notebook shows itself once when it is the
value of a cell. Save it with :func:`save_figure` (PNG or SVG, atomically).

matplotlib is imported only when a picture is drawn; :func:`plot_network` also needs
networkx (``pip install 'bayesgrn[graph]'``).

Colours: activation (posterior mean > 0) is blue, repression red, throughout.
"""

from __future__ import annotations

import functools
import io
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from bayesgrn.posterior import Posterior

ACTIVATION = "#2166ac"
REPRESSION = "#b2182b"
FORMATS = (".png", ".svg")
#: networks up to this many nodes use the Kamada-Kawai layout, larger ones a spring layout
KAMADA_KAWAI_MAX_NODES = 200


# ====================================================================== figures
@functools.cache
def _figure_class() -> type:
    from matplotlib.figure import Figure

    class PlotFigure(Figure):
        """A Figure that a notebook displays as PNG without pyplot."""

        def _repr_png_(self) -> bytes:
            buffer = io.BytesIO()
            self.savefig(buffer, format="png", dpi=100)
            return buffer.getvalue()

    PlotFigure.__module__ = __name__  # found again by pickle through __getattr__ below
    PlotFigure.__qualname__ = "PlotFigure"
    return PlotFigure


def __getattr__(name: str) -> Any:
    if name == "PlotFigure":  # created on first use, so that importing needs no matplotlib
        return _figure_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def new_figure(figsize: tuple[float, float], **subplots: Any) -> tuple[Figure, Any]:
    """Make a figure outside pyplot, rendered with the Agg canvas, and its axes.

    Parameters
    ----------
    figsize
        Width and height in inches.
    **subplots
        Passed to :meth:`matplotlib.figure.Figure.subplots` (``nrows``, ``gridspec_kw``...).

    Returns
    -------
    tuple
        The figure and what ``Figure.subplots`` returns (one axes, or an array of them).
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    fig = _figure_class()(figsize=figsize, layout="constrained")
    FigureCanvasAgg(fig)
    return fig, fig.subplots(**subplots)


def _axes(ax: Axes | None, figsize: tuple[float, float]) -> tuple[Figure, Axes]:
    if ax is not None:
        return ax.get_figure(), ax
    return new_figure(figsize)


def save_figure(fig: Figure, path: str | os.PathLike[str], *, dpi: int = 150) -> Path:
    """Save a figure as PNG or SVG (by the suffix of ``path``), atomically.

    The image is rendered in memory, written to a temporary file in the same folder and
    moved into place with ``os.replace``, so ``path`` is never left half-written. SVG and PNG
    files carry no creation date, so the same figure gives the same file.

    Parameters
    ----------
    fig
        The figure.
    path
        Where to write; the suffix ``.png`` or ``.svg`` picks the format.
    dpi
        Resolution of a PNG.

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    from bayesgrn.posterior import atomic_write_bytes

    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise ValueError(
            f"cannot save a figure as {str(path)!r}: the name must end in .png or .svg"
        )
    import matplotlib as mpl

    buffer = io.BytesIO()
    if suffix == ".svg":  # a fixed salt and no date make the ids and the file reproducible
        with mpl.rc_context({"svg.hashsalt": "bayesgrn"}):
            fig.savefig(buffer, format="svg", metadata={"Date": None})
    else:
        fig.savefig(buffer, format="png", dpi=dpi)
    atomic_write_bytes(path, buffer.getvalue())
    return path


def figure_png(fig: Figure, *, dpi: int = 110) -> bytes:
    """Render a figure to PNG bytes (for embedding in HTML).

    Parameters
    ----------
    fig
        The figure.
    dpi
        Resolution.

    Returns
    -------
    bytes
        The PNG file's content.
    """
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()


def _sign_colours(positive: np.ndarray) -> list[str]:
    return [ACTIVATION if p else REPRESSION for p in positive]


def _sign_handles() -> list[Any]:
    from matplotlib.lines import Line2D

    return [
        Line2D([], [], color=ACTIVATION, lw=2.5, label="activation (mean > 0)"),
        Line2D([], [], color=REPRESSION, lw=2.5, label="repression (mean < 0)"),
    ]


def _legend_below(ax: Axes, handles: list[Any], ncols: int, inches: float = 0.5) -> None:
    """Put the legend ``inches`` under the axes (below its x label), where it hides no data."""
    from matplotlib.transforms import ScaledTranslation

    below = ax.transAxes + ScaledTranslation(0.0, -inches, ax.get_figure().dpi_scale_trans)
    ax.legend(
        handles=handles, loc="upper center", bbox_to_anchor=(0.5, 0.0), bbox_transform=below,
        ncols=ncols, fontsize=8, frameon=False,
    )  # fmt: skip


# ====================================================================== ELBO
def plot_elbo(post: Posterior, *, ax: Axes | None = None, zoom: bool = True) -> Figure:
    """Plot the negative ELBO per SVI step, smoothed, with the convergence check marked.

    The raw trace is drawn faintly with its running mean over the spec's convergence window
    (``svi.window`` steps) on top; the y axis is logarithmic when the loss is positive. The
    shaded span is what the convergence test compares (the last ``patience + 1`` windows);
    the final ELBO is minus the mean of the last window. With ``zoom``, an inset shows the
    second half of the trace on a linear scale, where the plateau's noise is visible.

    Parameters
    ----------
    post
        An SVI posterior (its ``losses``).
    ax
        Axes to draw into; default a new figure.
    zoom
        Add the inset of the trace's second half.

    Returns
    -------
    matplotlib.figure.Figure
        The figure drawn on.

    Raises
    ------
    ValueError
        When the posterior has no loss trace (a NUTS fit).
    """
    losses = np.asarray(post.losses, dtype=np.float64)
    steps = np.arange(1, losses.size + 1)
    finite = np.isfinite(losses)
    if not finite.any():
        raise ValueError(
            f"this posterior has no ELBO trace (method={post.method!r}); only SVI fits have one"
        )
    steps, losses = steps[finite], losses[finite]
    svi = post.spec.get("svi", {})
    window = int(min(max(1, svi.get("window", 100)), losses.size))
    patience = int(svi.get("patience", 3))
    smooth = _running_mean(losses, window)
    fig, ax = _axes(ax, (7.5, 4.2))
    ax.plot(steps, losses, color="#bbbbbb", lw=0.6, label="−ELBO per step")
    ax.plot(steps, smooth, color="#222222", lw=1.6, label=f"centred running mean ({window} steps)")
    log_scale = bool(np.all(losses > 0))
    if log_scale:
        ax.set_yscale("log")
    span = min(losses.size, window * (patience + 1))
    converged = bool(post.diagnostics.get("converged"))
    ax.axvspan(
        steps[-span], steps[-1], color="#2ca02c" if converged else "#ff7f0e", alpha=0.15,
        label=f"convergence check: last {patience + 1} windows",
    )  # fmt: skip
    final = float(np.mean(losses[-window:]))
    ax.hlines(
        final, steps[-window], steps[-1], color="#d62728", lw=2.5,
        label=f"final −ELBO {final:.6g} (last {window} steps)",
    )  # fmt: skip
    ax.set_xlabel("SVI step")
    ax.set_ylabel("−ELBO" + (" (log scale)" if log_scale else ""))
    ax.set_xlim(0, steps[-1] * 1.01)
    state = "converged" if converged else "stopped at the step limit, not converged"
    ax.set_title(f"Negative ELBO over {int(steps[-1])} steps ({state})", fontsize=11)
    _legend_below(ax, ax.get_legend_handles_labels()[0], ncols=2)
    if zoom and losses.size >= 4 * window:
        _elbo_inset(ax, steps, losses, smooth, span)
    return fig


def _elbo_inset(
    ax: Axes, steps: np.ndarray, losses: np.ndarray, smooth: np.ndarray, span: int
) -> None:
    half = steps.size // 2
    inset = ax.inset_axes((0.5, 0.42, 0.47, 0.38))
    inset.plot(steps[half:], losses[half:], color="#bbbbbb", lw=0.5)
    inset.plot(steps[half:], smooth[half:], color="#222222", lw=1.2)
    inset.axvspan(steps[-span], steps[-1], color="#888888", alpha=0.12)
    low, high = np.percentile(losses[half:], [0.5, 99.5])
    pad = 0.1 * (high - low) or 1.0
    inset.set_ylim(low - pad, high + pad)
    inset.set_xlim(steps[half], steps[-1])
    inset.tick_params(labelsize=7)
    inset.set_title("second half, linear scale", fontsize=8)
    inset.ticklabel_format(axis="y", style="plain", useOffset=False)


def _running_mean(values: np.ndarray, window: int) -> np.ndarray:
    """Centred mean over ``window`` values (fewer near the ends)."""
    total = np.cumsum(np.concatenate([[0.0], values]))
    centre = np.arange(values.size)
    lower = np.maximum(0, centre - window // 2)
    upper = np.minimum(values.size, centre + (window + 1) // 2)
    return (total[upper] - total[lower]) / (upper - lower)


# ====================================================================== forest plot
def plot_forest(
    post: Posterior, top: int = 30, ci_prob: float = 0.9, *, ax: Axes | None = None
) -> Figure:
    """Plot the top edges' posterior means with credible intervals, most probable on top.

    Edges are ranked as :meth:`Posterior.edges` ranks them (``p_edge``, then ``|mean|``).
    Each row is one edge ``regulator → target``: a dot at the posterior mean and a bar over
    the equal-tailed ``ci_prob`` interval, blue for activation and red for repression, with
    ``p_edge`` written at the right. The grey band is ``|W| ≤ δ``, weights too small to count
    as an edge.

    Parameters
    ----------
    post
        The posterior.
    top
        Number of edges shown.
    ci_prob
        Mass of the intervals.
    ax
        Axes to draw into; default a new figure sized for ``top`` rows.

    Returns
    -------
    matplotlib.figure.Figure
        The figure; the intervals are the ``LineCollection`` with gid ``"intervals"`` and the
        means the collection with gid ``"means"``, one entry per row from the top.
    """
    if top < 1:
        raise ValueError(f"top must be >= 1, got {top}")
    table = post.edges(ci_prob=ci_prob).head(top)
    n = len(table)
    fig, ax = _axes(ax, (7.0, 1.3 + 0.24 * max(n, 4)))
    rows = np.arange(n)
    colours = _sign_colours(table["mean"].to_numpy() > 0)
    delta = post.edge_threshold
    ax.axvspan(-delta, delta, color="#000000", alpha=0.07, lw=0)
    ax.axvline(0.0, color="#777777", lw=0.8)
    bars = ax.hlines(rows, table["ci_lower"], table["ci_upper"], colors=colours, lw=2.2)
    bars.set_gid("intervals")
    dots = ax.scatter(table["mean"], rows, c=colours, s=22, zorder=3, edgecolors="white")
    dots.set_gid("means")
    ax.set_yticks(rows, [f"{r} → {t}" for r, t in zip(table["regulator"], table["target"],
                                                      strict=True)])  # fmt: skip
    ax.tick_params(axis="y", labelsize=8 if n <= 40 else 6)
    ax.set_ylim(n - 0.5, -0.5)
    label_axis = ax.get_yaxis_transform()  # x in axes fraction, y in data
    for row, p in zip(rows, table["p_edge"], strict=True):
        ax.text(1.02, row, f"{p:.2f}", transform=label_axis, va="center", fontsize=7.5)
    ax.text(1.02, -0.02, "p_edge", transform=ax.transAxes, va="bottom", fontsize=8,
            fontweight="bold")  # fmt: skip
    ax.set_xlabel(f"W, standardised (posterior mean and {ci_prob:.0%} interval)")
    ax.set_title(
        f"Top {n} of {int(np.count_nonzero(post.allowed))} candidate edges by p_edge",
        fontsize=11,
    )
    from matplotlib.patches import Patch

    band = Patch(color="#000000", alpha=0.07, label=f"|W| ≤ δ = {delta:g} (no edge)")
    _legend_below(ax, [*_sign_handles(), band], ncols=3)
    ax.grid(axis="x", color="#eeeeee", lw=0.6)
    ax.set_axisbelow(True)
    return fig


# ====================================================================== network
def plot_network(
    post: Posterior,
    top: int = 50,
    threshold: float = 0.5,
    ci_prob: float = 0.9,
    *,
    seed: int = 0,
    ax: Axes | None = None,
) -> Figure:
    """Draw the most probable edges as a directed graph.

    The edges drawn are the first ``top`` of :meth:`Posterior.edges` with
    ``p_edge >= threshold``, and the nodes the genes they join. Width is proportional to
    ``|mean|``, colour is the sign (blue arrows for activation, red bar-ended arrows for
    repression), opacity is ``p_edge``. The layout is :func:`network_layout`.

    Parameters
    ----------
    post
        The posterior.
    top
        Most edges drawn.
    threshold
        Least ``p_edge`` of an edge drawn.
    ci_prob
        Interval mass of the edge table (does not change the picture).
    seed
        Seed of the spring layout of a large component.
    ax
        Axes to draw into; default a new figure.

    Returns
    -------
    matplotlib.figure.Figure
        The figure; each edge is one :class:`matplotlib.patches.FancyArrowPatch` of the axes.

    Raises
    ------
    ImportError
        When networkx is not installed.
    """
    try:
        import networkx as nx
    except ImportError as err:
        raise ImportError(
            "plot_network needs networkx: pip install 'bayesgrn[graph]' (or networkx)"
        ) from err
    if top < 1:
        raise ValueError(f"top must be >= 1, got {top}")
    if not 0.0 <= threshold <= 1.0:
        raise ValueError(f"threshold must lie in [0, 1], got {threshold}")
    edges = post.edges(ci_prob=ci_prob)
    above = edges[edges["p_edge"] >= threshold]
    keep = above.head(top)
    fig, ax = _axes(ax, (8.0, 7.0))
    ax.set_axis_off()
    if keep.empty:
        ax.text(0.5, 0.5, f"no edge has p_edge ≥ {threshold:g}", ha="center", va="center",
                transform=ax.transAxes)  # fmt: skip
        ax.set_title("Network", fontsize=11)
        return fig
    graph = nx.DiGraph()
    for row in keep.itertuples(index=False):
        graph.add_edge(row.regulator, row.target, mean=row.mean, p_edge=row.p_edge)
    from matplotlib.colors import to_rgba

    n_nodes = graph.number_of_nodes()
    pos = network_layout(graph, seed=seed)
    node_size = 520 if n_nodes <= 30 else 360 if n_nodes <= 80 else 200
    strength = np.abs(keep["mean"].to_numpy())
    widths = 0.6 + 3.4 * strength / max(float(strength.max()), 1e-12)
    arcs = "arc3,rad=0.12"
    for positive, style, colour in ((True, "-|>", ACTIVATION), (False, "-[", REPRESSION)):
        chosen = (keep["mean"].to_numpy() > 0) == positive
        if not chosen.any():
            continue
        part = keep[chosen]
        rgba = [to_rgba(colour, alpha=p) for p in part["p_edge"]]  # opacity = p_edge
        nx.draw_networkx_edges(
            graph, pos, ax=ax,
            edgelist=list(zip(part["regulator"], part["target"], strict=True)),
            width=list(widths[chosen]), edge_color=rgba,
            arrows=True, arrowstyle=style, arrowsize=12 if positive else 7,
            node_size=node_size, connectionstyle=arcs,
        )  # fmt: skip
    nx.draw_networkx_nodes(
        graph, pos, ax=ax, node_size=node_size, node_color="#f4f4f4", edgecolors="#444444",
        linewidths=0.8,
    )  # fmt: skip
    nx.draw_networkx_labels(graph, pos, ax=ax, font_size=8 if n_nodes <= 60 else 6)
    from matplotlib.lines import Line2D

    note = Line2D([], [], color="none", label="width ∝ |mean|, opacity = p_edge")
    _legend_below(ax, [*_sign_handles(), note], ncols=3, inches=0.05)
    shown = f"all {len(keep)}" if len(keep) == len(above) else f"top {len(keep)} of {len(above)}"
    ax.set_title(f"Network: {shown} edges with p_edge ≥ {threshold:g}", fontsize=11)
    ax.set_aspect("equal", adjustable="datalim")
    ax.margins(0.04)
    return fig


def network_layout(graph: Any, seed: int = 0) -> dict[Any, np.ndarray]:
    """Place the nodes of a graph: each connected component on its own, then packed.

    A component is laid out by networkx's Kamada-Kawai layout (a seeded spring layout above
    ``KAMADA_KAWAI_MAX_NODES`` nodes) and scaled so that its median edge is one unit long;
    the components' bounding boxes are then packed in rows, largest component first. Laying
    the whole graph out at once would pile the small components of a sparse network on top
    of each other, or shrink them to dots.

    Parameters
    ----------
    graph
        A networkx graph.
    seed
        Seed of the spring layout.

    Returns
    -------
    dict
        Node to ``(x, y)``.
    """
    import networkx as nx

    undirected = graph.to_undirected()
    components = sorted(
        (sorted(c, key=str) for c in nx.connected_components(undirected)),
        key=lambda c: (-len(c), str(c[0])),
    )
    gap = 1.0
    boxes = []
    for nodes in components:
        sub = undirected.subgraph(nodes)
        if len(nodes) == 1:
            local = {nodes[0]: np.zeros(2)}
        elif len(nodes) <= KAMADA_KAWAI_MAX_NODES:
            local = nx.kamada_kawai_layout(sub)
        else:
            local = nx.spring_layout(sub, seed=seed, iterations=100)
        xy = np.array([local[n] for n in nodes], dtype=float).reshape(len(nodes), 2)
        lengths = [np.linalg.norm(local[u] - local[v]) for u, v in sub.edges() if u != v]
        unit = float(np.median(lengths)) if lengths else 1.0
        xy = (xy - xy.min(axis=0)) / (unit if unit > 0 else 1.0)
        boxes.append((nodes, xy, xy.max(axis=0) + gap))
    area = sum(float(w * h) for _, _, (w, h) in boxes)
    width = max(float(boxes[0][2][0]), 1.3 * np.sqrt(area))
    pos: dict[Any, np.ndarray] = {}
    x = y = row_height = 0.0
    for nodes, xy, (w, h) in boxes:
        if x > 0 and x + w > width:  # start the next row
            x, y, row_height = 0.0, y - row_height, 0.0
        row_height = max(row_height, float(h))
        for node, (u, v) in zip(nodes, xy, strict=True):
            pos[node] = np.array([x + u, y - v])
        x += float(w)
    return pos


# ====================================================================== heat map
def plot_p_edge_heatmap(post: Posterior, max_genes: int = 60, *, ax: Axes | None = None) -> Figure:
    """Show ``p_edge`` for every regulator × target pair as a heat map.

    Grey cells are not candidate edges (self-edges, forbidden edges). A network with more
    than ``max_genes`` regulators (targets) shows the ``max_genes`` with the largest
    ``p_edge`` in their row (column), in their original order, and says so in the title.

    Parameters
    ----------
    post
        The posterior.
    max_genes
        Most regulators and most targets shown.
    ax
        Axes to draw into; default a new figure.

    Returns
    -------
    matplotlib.figure.Figure
        The figure; the image (``ax.images[0]``) holds the shown block of
        ``post.matrix("p_edge")``, masked where an edge is not a candidate.
    """
    import matplotlib as mpl

    if max_genes < 1:
        raise ValueError(f"max_genes must be >= 1, got {max_genes}")
    matrix = post.matrix("p_edge")
    values = matrix.to_numpy()
    rows = _strongest(values, axis=1, limit=max_genes)
    cols = _strongest(values, axis=0, limit=max_genes)
    block = values[np.ix_(rows, cols)]
    masked = np.ma.masked_array(block, mask=~post.allowed[np.ix_(rows, cols)])
    n_r, n_t = block.shape
    width, height = np.clip([2.5 + 0.16 * n_t, 1.8 + 0.15 * n_r], [5.0, 4.0], [11.0, 10.0])
    fig, ax = _axes(ax, (float(width), float(height)))
    cmap = mpl.colormaps["magma_r"].with_extremes(bad="#d0d0d0")
    image = ax.imshow(masked, cmap=cmap, vmin=0.0, vmax=1.0, aspect="auto",
                      interpolation="nearest")  # fmt: skip
    fig.colorbar(image, ax=ax, label="p_edge", shrink=0.8, pad=0.02)
    for axis, names, index, limit in ((ax.xaxis, matrix.columns, cols, 80),
                                      (ax.yaxis, matrix.index, rows, 80)):  # fmt: skip
        if len(index) <= limit:
            axis.set_ticks(np.arange(len(index)), [names[i] for i in index])
        else:
            axis.set_ticks([])
    size = 7 if max(n_r, n_t) <= 40 else 6 if max(n_r, n_t) <= 60 else 5
    ax.tick_params(axis="x", labelsize=size, labelrotation=90)
    ax.tick_params(axis="y", labelsize=size)
    ax.set_xlabel("target")
    ax.set_ylabel("regulator")
    title = f"p_edge = P(|W| > {post.edge_threshold:g})"
    n_reg, n_tgt = values.shape
    if n_r < n_reg or n_t < n_tgt:
        title += (
            f"\ntop {n_r} of {n_reg} regulators and {n_t} of {n_tgt} targets by their "
            "largest p_edge"
        )
    ax.set_title(title, fontsize=11)
    return fig


def _strongest(values: np.ndarray, axis: int, limit: int) -> np.ndarray:
    """Return the ``limit`` rows (columns) with the largest maximum, in their original order."""
    n = values.shape[0 if axis == 1 else 1]
    if n <= limit:
        return np.arange(n)
    key = values.max(axis=axis) + values.sum(axis=axis) / (values.shape[axis] + 1.0) * 1e-6
    return np.sort(np.argsort(-key, kind="stable")[:limit])


# ====================================================================== calibration
def plot_calibration(
    post: Posterior | pd.DataFrame,
    gold: str | os.PathLike[str] | pd.DataFrame,
    bins: int = 10,
    *,
    ax: Axes | None = None,
) -> Figure:
    """Reliability diagram of ``p_edge`` against a gold standard.

    The candidate edges are binned by ``p_edge`` (:func:`bayesgrn.calibration.
    calibration_table`); each dot is a bin's mean ``p_edge`` against the share of true
    edges in it, with a 90 % Jeffreys interval and the bin's count written beside it. A
    calibrated posterior follows the diagonal. Without ``ax`` a second panel below shows the
    counts per bin (log scale), split into true and false edges.

    Parameters
    ----------
    post
        The posterior, or its :meth:`~bayesgrn.Posterior.edges` table.
    gold
        The gold standard: a path or DataFrame :func:`bayesgrn.read_gold_standard` reads.
    bins
        Number of equal-width bins.
    ax
        Axes to draw the diagram into (no count panel); default a new figure.

    Returns
    -------
    matplotlib.figure.Figure
        The figure; the diagram's dots are the line with gid ``"observed"``.
    """
    from bayesgrn.calibration import calibration_table

    table = calibration_table(post, gold, bins=bins)
    counts_ax = None
    if ax is None:
        fig, (ax, counts_ax) = new_figure(
            (6.0, 6.6), nrows=2, sharex=True, gridspec_kw={"height_ratios": [3, 1]}
        )
    else:
        fig = ax.get_figure()
    filled = table[table["n"] > 0]
    mean_p, observed = filled["mean_p_edge"].to_numpy(), filled["observed"].to_numpy()
    ax.plot([0, 1], [0, 1], ls="--", color="#888888", lw=1, label="perfect calibration")
    ax.errorbar(
        mean_p, observed,
        yerr=np.vstack([observed - filled["lower"].to_numpy(),
                        filled["upper"].to_numpy() - observed]),
        fmt="none", ecolor="#1f77b4", elinewidth=1.2, capsize=3,
    )  # fmt: skip
    (line,) = ax.plot(mean_p, observed, "o-", color="#1f77b4",
                      label="observed share of true edges (90% interval)")  # fmt: skip
    line.set_gid("observed")
    for x, y, n in zip(mean_p, observed, filled["n"].to_numpy(), strict=True):
        right = x > 0.8
        ax.annotate(f"n={n}", (x, y), xytext=(-6 if right else 6, -12 if y > 0.9 else 5),
                    textcoords="offset points", fontsize=7, color="#333333",
                    ha="right" if right else "left",
                    bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none",
                          "alpha": 0.85})  # fmt: skip
    ax.set_xlim(-0.02, 1.02)
    ax.set_ylim(-0.02, 1.05)
    ax.set_ylabel("share of true edges")
    ax.set_aspect("auto")
    attrs = table.attrs
    ax.set_title(
        f"Calibration of p_edge: {attrs['n_true']} true edges among {attrs['n_pairs']} "
        f"pairs\nBrier score {attrs['brier']:.4f}, calibration error {attrs['ece']:.3f}",
        fontsize=10.5,
    )
    ax.legend(fontsize=8, loc="best")
    ax.grid(color="#eeeeee", lw=0.6)
    if counts_ax is None:
        ax.set_xlabel("p_edge (bin mean)")
        return fig
    centres = (table["bin_lower"] + table["bin_upper"]) / 2
    width = float(table["bin_upper"].iloc[0] - table["bin_lower"].iloc[0]) * 0.9
    false = table["n"] - table["n_true"]
    counts_ax.bar(centres, false, width=width, color="#cccccc", label="false edges")
    counts_ax.bar(centres, table["n_true"], width=width, bottom=false, color="#1f77b4",
                  label="true edges")  # fmt: skip
    counts_ax.set_yscale("log")
    counts_ax.set_ylim(bottom=0.5)
    counts_ax.set_ylabel("edges per bin")
    counts_ax.set_xlabel("p_edge")
    counts_ax.legend(fontsize=7, loc="upper center", ncols=2)
    return fig
