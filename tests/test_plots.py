"""Pictures of a posterior (bayesgrn.plots) and the calibration numbers behind one.

The posterior here is built by hand -- known means, small spread, a decaying loss trace -- so
the tests need no fit and can check every drawn number against its source.
"""

from __future__ import annotations

import io
import pickle
import sys

import numpy as np
import pandas as pd
import pytest
from handmade import make_posterior
from matplotlib.collections import LineCollection
from matplotlib.colors import to_hex
from matplotlib.patches import FancyArrowPatch

from bayesgrn import plots
from bayesgrn.calibration import calibration_error_floor, calibration_table, reliability_table

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
GENES = tuple(f"G{i}" for i in range(1, 9))


@pytest.fixture(scope="module")
def post():
    return make_posterior()


@pytest.fixture(scope="module")
def gold():
    """True edges: the three strongest, one weak one the posterior misses, and G8 -> G1."""
    return pd.DataFrame(
        {"regulator": ["G1", "G1", "G4", "G3", "G8"], "target": ["G2", "G3", "G5", "G8", "G1"]}
    )


def main_axes(fig):
    return fig.axes[0]


# ---------------------------------------------------------------------- figures and saving
def test_figures_stay_out_of_pyplot(post):
    import matplotlib.pyplot as plt

    before = plt.get_fignums()
    fig = plots.plot_forest(post, top=3)
    assert plt.get_fignums() == before  # nothing to close, nothing leaked
    assert fig._repr_png_().startswith(PNG_MAGIC)  # and a notebook can still show it
    assert pickle.loads(pickle.dumps(fig))._repr_png_().startswith(PNG_MAGIC)


def test_save_figure_writes_png_and_svg_atomically(post, tmp_path):
    png = plots.save_figure(plots.plot_forest(post, top=4), tmp_path / "forest.png")
    svg = plots.save_figure(plots.plot_forest(post, top=4), tmp_path / "sub" / "forest.svg")
    assert png.read_bytes().startswith(PNG_MAGIC)
    text = svg.read_text(encoding="utf-8")
    assert text.startswith("<?xml")
    assert "<svg" in text
    assert text.rstrip().endswith("</svg>")
    assert sorted(p.name for p in tmp_path.rglob("*") if p.is_file()) == [
        "forest.png",
        "forest.svg",
    ]  # no temporary files left behind
    again = plots.save_figure(plots.plot_forest(post, top=4), tmp_path / "again.svg")
    assert again.read_bytes() == svg.read_bytes()  # no date, fixed ids: same picture, same file


def test_save_figure_refuses_other_formats(post, tmp_path):
    fig = plots.plot_forest(post, top=2)
    with pytest.raises(ValueError, match=r"forest\.jpg.*\.png or \.svg"):
        plots.save_figure(fig, tmp_path / "forest.jpg")
    assert list(tmp_path.iterdir()) == []


def test_plots_draw_into_a_given_axes(post):
    fig, (left, right) = plots.new_figure((10, 4), ncols=2)
    assert plots.plot_forest(post, top=3, ax=left) is fig
    assert plots.plot_p_edge_heatmap(post, ax=right) is fig
    assert len(left.collections) >= 2
    assert len(right.images) == 1


# ---------------------------------------------------------------------- ELBO
def test_elbo_trace_shows_the_losses_and_the_final_window(post):
    fig = plots.plot_elbo(post)
    ax = main_axes(fig)
    raw, smooth = ax.get_lines()[:2]
    np.testing.assert_allclose(raw.get_ydata(), post.losses)
    assert smooth.get_ydata().std() < raw.get_ydata().std()  # smoothed
    assert ax.get_yscale() == "log"  # positive losses
    window = post.spec["svi"]["window"]
    final = [c for c in ax.collections if isinstance(c, LineCollection)][0]
    (segment,) = final.get_segments()
    assert segment[0][1] == pytest.approx(post.losses[-window:].mean())
    assert "converged" in ax.get_title()
    assert len(ax.child_axes) == 1  # the zoomed inset of the second half


def test_elbo_trace_of_negative_losses_is_linear():
    post = make_posterior(losses=np.linspace(-100, -900, 500))
    ax = main_axes(plots.plot_elbo(post))
    assert ax.get_yscale() == "linear"


def test_elbo_refuses_a_posterior_without_a_trace(post):
    with pytest.raises(ValueError, match="no ELBO trace"):
        plots.plot_elbo(post.replace(losses=np.zeros(0), method="nuts"))


# ---------------------------------------------------------------------- forest
@pytest.mark.parametrize("top", [1, 5, 12])
def test_forest_rows_are_the_top_edges_with_intervals_around_the_means(post, top):
    fig = plots.plot_forest(post, top=top, ci_prob=0.8)
    ax = main_axes(fig)
    table = post.edges(ci_prob=0.8).head(top)
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels == [
        f"{r} → {t}" for r, t in zip(table["regulator"], table["target"], strict=True)
    ]
    (bars,) = [c for c in ax.collections if c.get_gid() == "intervals"]
    (dots,) = [c for c in ax.collections if c.get_gid() == "means"]
    segments = np.array(bars.get_segments())  # (top, 2 ends, xy)
    means = dots.get_offsets()[:, 0]
    assert segments.shape == (top, 2, 2)
    assert np.all(segments[:, 0, 0] <= means)
    assert np.all(means <= segments[:, 1, 0])
    np.testing.assert_allclose(means, table["mean"])
    np.testing.assert_allclose(segments[:, 0, 0], table["ci_lower"])
    np.testing.assert_allclose(segments[:, 1, 0], table["ci_upper"])
    colours = [to_hex(c) for c in dots.get_facecolors()]
    assert colours == [plots.ACTIVATION if m > 0 else plots.REPRESSION for m in table["mean"]]
    p_texts = [t.get_text() for t in ax.texts if t.get_text() != "p_edge"]
    assert p_texts == [f"{p:.2f}" for p in table["p_edge"]]


def test_forest_with_more_rows_than_edges_shows_every_candidate(post):
    ax = main_axes(plots.plot_forest(post, top=1000))
    assert len(ax.get_yticklabels()) == int(post.allowed.sum()) == 56


# ---------------------------------------------------------------------- network
def arrows(fig):
    return [p for p in main_axes(fig).patches if isinstance(p, FancyArrowPatch)]


@pytest.mark.parametrize("top", [1, 4, 9])
def test_network_draws_the_requested_edges_with_sign_colour_and_p_edge_opacity(post, top):
    fig = plots.plot_network(post, top=top, threshold=0.0)
    drawn = arrows(fig)
    assert len(drawn) == top
    table = post.edges().head(top)
    expected = {plots.ACTIVATION if m > 0 else plots.REPRESSION for m in table["mean"]}
    assert {to_hex(a.get_edgecolor()) for a in drawn} == expected
    opacity = sorted(a.get_edgecolor()[3] for a in drawn)
    assert opacity == pytest.approx(sorted(table["p_edge"]))


def test_network_width_grows_with_the_absolute_mean(post):
    fig = plots.plot_network(post, top=4, threshold=0.0)
    table = post.edges().head(4)
    widths = sorted(a.get_linewidth() for a in arrows(fig))
    strength = np.sort(np.abs(table["mean"].to_numpy()))
    assert np.all(np.diff(widths) >= 0)
    assert widths[-1] / widths[0] == pytest.approx(
        (0.6 + 3.4) / (0.6 + 3.4 * strength[0] / strength[-1])
    )


def test_network_threshold_keeps_only_probable_edges(post):
    fig = plots.plot_network(post, top=50, threshold=0.9)
    assert len(arrows(fig)) == int((post.edges()["p_edge"] >= 0.9).sum()) == 4
    empty = plots.plot_network(post.replace(w_draws=np.zeros_like(post.w_draws)))
    assert arrows(empty) == []
    assert "no edge has p_edge" in main_axes(empty).texts[0].get_text()


def test_network_without_networkx_says_how_to_install_it(post, monkeypatch):
    monkeypatch.setitem(sys.modules, "networkx", None)  # makes `import networkx` fail
    with pytest.raises(ImportError, match=r"bayesgrn\[graph\]"):
        plots.plot_network(post)


# ---------------------------------------------------------------------- heat map
def test_heatmap_shows_p_edge_with_non_candidates_masked(post):
    fig = plots.plot_p_edge_heatmap(post)
    image = main_axes(fig).images[0]
    data = image.get_array()
    expected = post.matrix("p_edge")
    np.testing.assert_allclose(np.ma.filled(data, 0.0), expected.to_numpy())
    np.testing.assert_array_equal(np.ma.getmaskarray(data), ~post.allowed)
    assert [t.get_text() for t in main_axes(fig).get_xticklabels()] == list(GENES)
    assert image.get_clim() == (0.0, 1.0)
    assert "top" not in main_axes(fig).get_title()


def test_heatmap_of_a_large_network_shows_the_strongest_genes_and_says_so(post):
    fig = plots.plot_p_edge_heatmap(post, max_genes=3)
    ax = main_axes(fig)
    matrix = post.matrix("p_edge")
    rows = [t.get_text() for t in ax.get_yticklabels()]
    cols = [t.get_text() for t in ax.get_xticklabels()]
    assert len(rows) == len(cols) == 3
    assert min(matrix.loc[rows].max(axis=1)) >= max(matrix.drop(index=rows).max(axis=1))
    assert min(matrix[cols].max(axis=0)) >= max(matrix.drop(columns=cols).max(axis=0))
    np.testing.assert_allclose(np.ma.filled(ax.images[0].get_array(), 0), matrix.loc[rows, cols])
    assert "top 3 of 8 regulators and 3 of 8 targets" in ax.get_title()


# ---------------------------------------------------------------------- calibration
def direct_calibration(post, positives: set[tuple[str, str]], bins: int):
    edges = post.edges()
    p = edges["p_edge"].to_numpy()
    y = np.array(
        [(r, t) in positives for r, t in zip(edges["regulator"], edges["target"], strict=True)]
    )
    index = np.minimum((p * bins).astype(int), bins - 1)
    rows = [(p[index == b].mean(), y[index == b].mean(), (index == b).sum())
            for b in range(bins) if (index == b).any()]  # fmt: skip
    return np.array(rows)


@pytest.mark.parametrize("bins", [1, 4, 10])
def test_calibration_bins_match_a_direct_computation(post, gold, bins):
    fig = plots.plot_calibration(post, gold, bins=bins)
    ax = main_axes(fig)
    (line,) = [ln for ln in ax.get_lines() if ln.get_gid() == "observed"]
    positives = set(zip(gold["regulator"], gold["target"], strict=True))
    expected = direct_calibration(post, positives, bins)
    np.testing.assert_allclose(line.get_xdata(), expected[:, 0])
    np.testing.assert_allclose(line.get_ydata(), expected[:, 1])
    counts = [t.get_text() for t in ax.texts]
    assert counts == [f"n={int(n)}" for n in expected[:, 2]]
    bars = fig.axes[1].patches  # counts panel: false edges, then true edges stacked on them
    assert sum(b.get_height() for b in bars) == pytest.approx(int(post.allowed.sum()))


def test_calibration_table_counts_and_intervals(post, gold):
    table = calibration_table(post, gold, bins=5)
    assert table["n"].sum() == 56
    assert table["n_true"].sum() == 5
    filled = table[table["n"] > 0]
    assert np.all(filled["lower"] <= filled["observed"])
    assert np.all(filled["observed"] <= filled["upper"])
    assert table.attrs["n_true"] == 5
    assert table.attrs["n_pairs"] == 56
    p = post.edges()["p_edge"].to_numpy()
    labels = np.isin(
        post.edges()[["regulator", "target"]].agg("->".join, axis=1),
        [f"{r}->{t}" for r, t in zip(gold["regulator"], gold["target"], strict=True)],
    )
    assert table.attrs["brier"] == pytest.approx(np.mean((p - labels) ** 2))


def test_calibration_with_listed_negatives_scores_only_listed_pairs(post):
    gold = pd.DataFrame(
        {"regulator": ["G1", "G1", "G2", "G7"], "target": ["G2", "G4", "G5", "G8"],
         "label": [1, 0, 0, 0]}
    )  # fmt: skip
    table = calibration_table(post, gold)
    assert table["n"].sum() == 4
    assert table["n_true"].sum() == 1


def test_calibration_refuses_a_gold_standard_with_other_names(post):
    gold = pd.DataFrame({"regulator": ["TF1"], "target": ["TF2"]})
    with pytest.raises(ValueError, match="same gene names"):
        plots.plot_calibration(post, gold)


def test_calibration_reads_a_gold_file(post, tmp_path):
    path = tmp_path / "gold.tsv"
    path.write_text("regulator\ttarget\tweight\nG1\tG2\t0.8\nG6\tG7\t-0.3\nG2\tG3\t0\n")
    table = calibration_table(post, path, bins=2)
    assert table["n_true"].tolist() == [0, 2]
    buffer = io.BytesIO()
    plots.plot_calibration(post, path).savefig(buffer, format="png")
    assert buffer.getvalue().startswith(PNG_MAGIC)


def test_network_layout_keeps_components_apart():
    import networkx as nx

    graph = nx.DiGraph([("a", "b"), ("b", "c"), ("c", "a"), ("d", "e"), ("f", "g"), ("h", "i")])
    pos = plots.network_layout(graph)
    assert set(pos) == set(graph.nodes)
    boxes = []
    for component in nx.weakly_connected_components(graph):
        xy = np.array([pos[n] for n in component])
        boxes.append((xy.min(axis=0), xy.max(axis=0)))
    for i, (low_a, high_a) in enumerate(boxes):
        for low_b, high_b in boxes[i + 1 :]:
            apart = np.any(high_a < low_b) or np.any(high_b < low_a)
            assert apart  # bounding boxes do not overlap
    edges = [np.linalg.norm(pos[u] - pos[v]) for u, v in graph.edges()]
    assert min(edges) > 0.5  # no component is shrunk to a dot


def test_calibration_error_floor_separates_calibrated_from_overconfident_probabilities():
    rng = np.random.default_rng(3)
    p = rng.beta(0.3, 1.5, 2000)  # mostly small, some near 1: like p_edge over 10-gene fits
    floor = calibration_error_floor(p, n_sim=100, seed=1)
    assert floor.shape == (100,)
    assert np.all(floor > 0)
    calibrated = reliability_table(p, rng.random(p.size) < p).attrs["ece"]
    overconfident = reliability_table(p, rng.random(p.size) < 0.8 * p).attrs["ece"]
    assert calibrated <= np.quantile(floor, 0.99)
    assert overconfident > floor.max()
    # the floor is sampling noise: 100x the pairs, about a tenth of the error
    many = calibration_error_floor(np.tile(p, 100), n_sim=5, seed=1)
    assert many.mean() < 0.25 * floor.mean()
    with pytest.raises(ValueError, match="n_sim"):
        calibration_error_floor(p, n_sim=0)
