import gzip

import numpy as np
import pandas as pd
import pytest
import torch

import bayesgrn as bg
from bayesgrn.inputs import build_inputs
from bayesgrn.knowledge import read_edge_list


def test_forbidden_edges_are_removed_everywhere(tiny_sim):
    forbidden = [("G1", "G2"), ("G3", "G1")]
    post = bg.fit(tiny_sim.data, num_steps=30, forbidden_edges=forbidden, svi={"num_draws": 20})
    assert not post.allowed[0, 1]
    assert not post.allowed[2, 0]
    assert (post.w_draws[:, 0, 1] == 0).all()
    pairs = set(zip(post.edges()["regulator"], post.edges()["target"], strict=True))
    assert not pairs & set(forbidden)
    g = tiny_sim.data.n_genes
    assert len(pairs) == g * (g - 1) - 2


def test_known_edge_confidence_raises_the_local_scale(tiny_sim):
    spec = bg.load_spec("horseshoe")
    known = pd.DataFrame(
        {"regulator": ["G1", "G2"], "target": ["G2", "G3"], "confidence": [1.0, 0.5]}
    )
    inputs = build_inputs(tiny_sim.data, spec, torch.device("cpu"), known_edges=known)
    scale = inputs.local_scale.numpy()
    tau0 = inputs.tau0.numpy()
    assert scale[0, 1] == pytest.approx(spec.prior.slab_scale / tau0[1], rel=1e-5)
    assert scale[1, 2] == pytest.approx(np.sqrt(spec.prior.slab_scale / tau0[2]), rel=1e-5)
    untouched = np.ones_like(scale, dtype=bool)
    untouched[0, 1] = untouched[1, 2] = False
    assert (scale[untouched] == 1).all()


def test_a_known_edge_is_kept_when_the_data_are_weak():
    # two genes, few samples, a modest true effect: the known edge gets more posterior mass
    rng = np.random.default_rng(4)
    a = rng.normal(size=25)
    b = 0.35 * a + rng.normal(size=25)
    noise = rng.normal(size=(25, 4))
    data = bg.ExpressionData.from_array(np.column_stack([a, b, noise]))
    plain = bg.fit(data, seed=0, num_steps=800)
    informed = bg.fit(data, seed=0, num_steps=800, known_edges=[("G1", "G2", 1.0)])
    assert informed.matrix("p_edge").loc["G1", "G2"] > plain.matrix("p_edge").loc["G1", "G2"]


def test_bad_knowledge_is_named(tiny_sim, tmp_path):
    with pytest.raises(
        ValueError, match="regulators not among the candidate regulators: \\['X9'\\]"
    ):
        bg.fit(tiny_sim.data, known_edges=[("X9", "G1", 1.0)])
    with pytest.raises(ValueError, match="targets not in the table"):
        bg.fit(tiny_sim.data, forbidden_edges=[("G1", "nope")])
    with pytest.raises(ValueError, match="confidence"):
        bg.fit(tiny_sim.data, known_edges=[("G1", "G2", 2.0)])
    with pytest.raises(ValueError, match="also forbidden"):
        bg.fit(tiny_sim.data, known_edges=[("G1", "G2", 1.0)], forbidden_edges=[("G1", "G2")])
    with pytest.raises(ValueError, match="self-edges"):
        bg.fit(tiny_sim.data, forbidden_edges=[("G1", "G1")])
    with pytest.raises(ValueError, match="does not exist"):
        bg.fit(tiny_sim.data, known_edges=tmp_path / "missing.tsv")
    path = tmp_path / "known.tsv"
    path.write_text("regulator\ttarget\tconfidence\nG1\tG2\t0.8\n")
    post = bg.fit(tiny_sim.data, known_edges=path, num_steps=20, svi={"num_draws": 10})
    assert post.n_draws == 10


# ---------------------------------------------------------------------- reading edge lists
def test_edge_list_files_in_any_dialect(tmp_path):
    # pandas' sniffer used to fail on gzip, turn "NA" into NaN and keep the BOM in the header
    path = tmp_path / "known.tsv.gz"
    text = "\ufeffregulator,target,confidence\r\n# from the literature\r\nNA,101,0.5\r\n"
    path.write_bytes(gzip.compress(text.encode()))
    edges = read_edge_list(path, "known edges", with_confidence=True)
    assert edges.to_dict("list") == {
        "regulator": ["NA"],
        "target": ["101"],
        "confidence": [0.5],
    }
    single = tmp_path / "one.txt"
    single.write_text("G1 G2\n")  # one whitespace-separated edge, no header
    assert read_edge_list(single, "forbidden edges", False).to_dict("list") == {
        "regulator": ["G1"],
        "target": ["G2"],
    }


@pytest.mark.parametrize(
    ("text", "match"),
    [
        pytest.param("", "lists no edges", id="empty"),
        pytest.param("regulator\ttarget\n", r"only a header \(line 1\)", id="header-only"),
        pytest.param("G1\nG2\n", "line 1 has a single column", id="one-column"),
        pytest.param("G1\tG2\t0.5\n\nG2\tG3\n", "line 3 has 2 field", id="ragged"),
        pytest.param("G1\tG2\t0.5\n\tG3\t1\n", "line 2 has an empty regulator", id="empty-name"),
        pytest.param("#c\nG1\tG2\tNA\n", r"line 2 \(G1 -> G2\) has confidence 'NA'", id="NA"),
        pytest.param('G1\t"G2\t1\n', "line 1 has an unbalanced", id="open-quote"),
        pytest.param('G1\tG2\t1\nG2\t"G3', "line 2 has an unbalanced", id="open-quote-at-end"),
    ],
)
def test_bad_edge_list_files_name_the_line(tmp_path, text, match):
    path = tmp_path / "known.tsv"
    path.write_text(text)
    with pytest.raises(bg.BayesGRNInputError, match=match) as err:
        read_edge_list(path, "known edges", with_confidence=True)
    assert str(path) in str(err.value)
