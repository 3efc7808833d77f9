import gzip

import numpy as np
import pandas as pd
import pytest

import bayesgrn as bg


def _scores(pairs):
    return pd.DataFrame(pairs, columns=["regulator", "target", "score"])


def test_perfect_and_reversed_rankings():
    gold = pd.DataFrame(
        [("A", "B", 1), ("B", "C", 1), ("A", "C", 0), ("C", "A", 0), ("B", "A", 0), ("C", "B", 0)],
        columns=["regulator", "target", "label"],
    )
    perfect = _scores([("A", "B", 3), ("B", "C", 2), ("A", "C", 1)])
    ev = bg.evaluate(perfect, gold, k=(1, 2))
    assert ev["auroc"] == pytest.approx(1.0)
    assert ev["aupr"] == pytest.approx(1.0)
    assert ev["precision_at_2"] == 1.0
    worst = _scores(
        [("C", "B", 6), ("B", "A", 5), ("C", "A", 4), ("A", "C", 3), ("B", "C", 2), ("A", "B", 1)]
    )
    assert bg.evaluate(worst, gold)["auroc"] == pytest.approx(0.0)


def test_matches_sklearn_on_random_scores():
    from sklearn.metrics import average_precision_score, roc_auc_score

    rng = np.random.default_rng(0)
    genes = [f"G{i}" for i in range(12)]
    pairs = [(a, b) for a in genes for b in genes if a != b]
    labels = rng.random(len(pairs)) < 0.1
    scores = rng.random(len(pairs))
    gold = pd.DataFrame([(a, b, int(y)) for (a, b), y in zip(pairs, labels, strict=True)])
    pred = _scores([(a, b, s) for (a, b), s in zip(pairs, scores, strict=True)])
    ev = bg.evaluate(pred, gold)
    assert ev["auroc"] == pytest.approx(roc_auc_score(labels, scores))
    assert ev["aupr"] == pytest.approx(average_precision_score(labels, scores))


def test_dream_file_and_positive_only_gold(tmp_path):
    path = tmp_path / "gold.tsv"
    path.write_text("G1\tG2\t1\nG2\tG3\t1\nG1\tG3\t0\nG3\tG1\t0\nG2\tG1\t0\nG3\tG2\t0\n")
    gold = bg.read_gold_standard(path)
    assert gold["label"].sum() == 2
    assert len(gold) == 6
    pred = _scores([("G1", "G2", 0.9), ("G2", "G3", 0.8)])
    assert bg.evaluate(pred, path)["auroc"] == pytest.approx(1.0)  # unranked pairs tie last
    positives = tmp_path / "pos.tsv"
    positives.write_text("G1\tG2\nG2\tG3\n")
    assert bg.read_gold_standard(positives)["label"].tolist() == [1, 1]


def test_weighted_gold_counts_nonzero_weights_as_true(tiny_sim):
    gold = tiny_sim.gold
    assert (gold["weight"] != 0).all()
    labels = bg.read_gold_standard(gold)["label"]
    assert labels.eq(1).all()


def test_bad_gold_standards(tmp_path):
    with pytest.raises(ValueError, match="does not exist"):
        bg.read_gold_standard(tmp_path / "none.tsv")
    bad = tmp_path / "bad.tsv"
    bad.write_text("G1\tG2\tyes\n")
    with pytest.raises(ValueError, match="line 1"):
        bg.read_gold_standard(bad)
    with pytest.raises(ValueError, match="score or importance"):
        bg.evaluate(pd.DataFrame({"regulator": ["A"], "target": ["B"]}), bad)


def test_gold_standard_files_in_any_dialect(tmp_path):
    # gzip used to crash with UnicodeDecodeError; "NA" became NaN; a BOM hid the header
    path = tmp_path / "gold.tsv.gz"
    text = "\ufeffregulator\ttarget\tweight\r\nNA\t101\t0.5\r\n101\tNA\t0\r\n"
    path.write_bytes(gzip.compress(text.encode()))
    gold = bg.read_gold_standard(path)
    assert gold.to_dict("list") == {
        "regulator": ["NA", "101"],
        "target": ["101", "NA"],
        "label": [1, 0],
    }


@pytest.mark.parametrize(
    ("text", "match"),
    [
        pytest.param("", "lists no edges", id="empty"),
        pytest.param("G1\nG2\n", "line 1 has a single column", id="one-column"),
        pytest.param("G1\tG2\t1\n\nG2\tG3\n", "line 3 has 2 field", id="ragged"),
        pytest.param("G1\tG2\t1\nG2\t\t0\n", "line 2 has an empty target", id="empty-name"),
        pytest.param(
            "tf\ttarget\tweight\nG1\tG2\tx\n", "line 2 has a non-numeric weight 'x'", id="weight"
        ),
    ],
)
def test_bad_gold_standard_files_name_the_line(tmp_path, text, match):
    path = tmp_path / "gold.tsv"
    path.write_text(text)
    with pytest.raises(bg.BayesGRNInputError, match=match) as err:  # was a bare ValueError
        bg.read_gold_standard(path)
    assert str(path) in str(err.value)
