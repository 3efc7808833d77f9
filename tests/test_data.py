"""ExpressionData: construction, validation and its invariants."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pytest

from bayesgrn import BayesGRNInputError, ExpressionData

X = np.array(
    [
        [1.0, 2.0, 0.5],
        [2.0, 4.0, 1.5],
        [3.0, 3.0, 2.5],
        [0.0, 5.0, 4.0],  # G1 knocked out
    ]
)
KO = np.zeros_like(X, dtype=bool)
KO[3, 0] = True


def knockout_data() -> ExpressionData:
    return ExpressionData.from_array(
        X, ["G1", "G2", "G3"], ["s1", "s2", "s3", "ko_G1"], perturbed=KO
    )


# ---------------------------------------------------------------------- standardisation
def test_center_and_scale_use_only_unperturbed_entries() -> None:
    data = knockout_data()
    # G1: the knockout sample (0.0) is left out -> mean/sd of 1, 2, 3
    assert data.center[0] == pytest.approx(2.0)
    assert data.scale[0] == pytest.approx(1.0)
    # G2, G3: all four samples
    assert data.center[1] == pytest.approx(3.5)
    assert data.scale[1] == pytest.approx(np.std([2, 4, 3, 5], ddof=1))
    assert data.center[2] == pytest.approx(2.125)
    assert data.scale[2] == pytest.approx(np.std([0.5, 1.5, 2.5, 4.0], ddof=1))
    assert data.perturbation == ("none", "none", "none", "knockout")
    z = data.standardized()
    assert z[3, 0] == pytest.approx(-2.0)  # the knockout is a large deviation


def test_standardized_has_mean_0_sd_1_over_unperturbed_entries() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(5.0, 3.0, size=(40, 6))
    mask = rng.random(x.shape) < 0.2
    data = ExpressionData.from_array(x, perturbed=mask)
    z = data.standardized()
    for j in range(x.shape[1]):
        free = z[~mask[:, j], j]
        assert free.mean() == pytest.approx(0.0, abs=1e-12)
        assert free.std(ddof=1) == pytest.approx(1.0)
    np.testing.assert_allclose(z * data.scale + data.center, x)


def test_standardisation_without_perturbations_matches_pandas() -> None:
    data = ExpressionData.from_array(X)
    np.testing.assert_allclose(data.center, X.mean(axis=0))
    np.testing.assert_allclose(data.scale, pd.DataFrame(X).std().to_numpy())


# ---------------------------------------------------------------------- invariants
def test_regulators_keep_gene_order() -> None:
    data = ExpressionData.from_array(X, ["G1", "G2", "G3"], regulators=["G3", "G1", "G3"])
    assert data.regulators == ("G1", "G3")
    np.testing.assert_array_equal(data.regulator_index, [0, 2])
    assert data.with_regulators(["G3", "G2"]).regulators == ("G2", "G3")


def test_arrays_are_read_only() -> None:
    data = knockout_data()
    for arr in (data.values, data.perturbed, data.center, data.scale):
        assert not arr.flags.writeable
        with pytest.raises(ValueError, match="read-only"):
            arr[0] = 1
    with pytest.raises(AttributeError):
        data.genes = ("a", "b", "c")  # type: ignore[misc]


def test_inputs_are_not_aliased_or_frozen() -> None:
    x, mask = X.copy(), KO.copy()
    data = ExpressionData.from_array(x, perturbed=mask)
    assert x.flags.writeable
    assert mask.flags.writeable
    x[0, 0] = 100.0
    mask[0, 1] = True
    assert data.values[0, 0] == 1.0
    assert not data.perturbed[0, 1]


def test_direct_construction_freezes_private_copies() -> None:
    ref = knockout_data()
    values = np.array(ref.values)
    data = ExpressionData(
        values=values,
        genes=ref.genes,
        samples=ref.samples,
        regulators=ref.genes,
        perturbed=np.array(ref.perturbed),
        perturbation=ref.perturbation,
        condition=ref.condition,
        center=np.array(ref.center),
        scale=np.array(ref.scale),
    )
    assert values.flags.writeable
    assert not data.values.flags.writeable
    with pytest.raises(BayesGRNInputError, match="center has shape"):
        ExpressionData(
            values=values, genes=ref.genes, samples=ref.samples, regulators=ref.genes,
            perturbed=ref.perturbed, perturbation=ref.perturbation, condition=ref.condition,
            center=ref.center[:2], scale=ref.scale,
        )  # fmt: skip


def test_with_regulators_does_not_mutate() -> None:
    data = knockout_data()
    before = (data.regulators, data.values.copy(), data.center.copy())
    other = data.with_regulators(["G2"])
    assert other.regulators == ("G2",)
    assert data.regulators == before[0] == ("G1", "G2", "G3")
    np.testing.assert_array_equal(data.values, before[1])
    np.testing.assert_array_equal(data.center, before[2])
    assert data.with_regulators(None).regulators == data.genes
    with pytest.raises(BayesGRNInputError, match="not genes"):
        data.with_regulators(["G9"])
    with pytest.raises(BayesGRNInputError, match="list of gene names"):
        data.with_regulators("G1")  # type: ignore[arg-type]
    with pytest.raises(BayesGRNInputError, match="regulator list is empty"):
        data.with_regulators([])


def test_views_and_repr() -> None:
    data = ExpressionData.from_array(X, condition=["a", "b", "a", "b"])
    assert (data.n_samples, data.n_genes) == (4, 3)
    assert data.conditions == ("a", "b")
    np.testing.assert_array_equal(data.condition_index, [0, 1, 0, 1])
    frame = data.to_frame()
    assert list(frame.columns) == ["G1", "G2", "G3"]
    np.testing.assert_array_equal(frame.to_numpy(), X)
    assert "4 samples x 3 genes" in repr(data)


def test_names_are_strings() -> None:
    frame = pd.DataFrame(X, columns=[101, 102, 103], index=[1, 2, 3, 4])
    data = ExpressionData.from_array(frame, regulators=[101])
    assert data.genes == ("101", "102", "103")
    assert data.samples == ("1", "2", "3", "4")
    assert data.regulators == ("101",)


def test_dataframe_with_numeric_strings() -> None:
    frame = pd.DataFrame(X.astype(str), columns=["a", "b", "c"])
    np.testing.assert_array_equal(ExpressionData.from_array(frame).values, X)


def test_log_transforms() -> None:
    data = ExpressionData.from_array(X, transform="log1p")
    np.testing.assert_allclose(data.values, np.log1p(X))
    assert data.pseudocount == 0.0
    data = ExpressionData.from_array(X + 1, transform="log", pseudocount=0.5)
    np.testing.assert_allclose(data.values, np.log(X + 1.5))
    assert data.pseudocount == 0.5


# ---------------------------------------------------------------------- errors
@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"values": X[0]}, "2-d"),
        ({"values": X[:, :, None]}, "3-d"),
        ({"values": np.empty((0, 3))}, "empty"),
        ({"values": X, "genes": ["a", "b"]}, "2 gene names for a table of 4 samples x 3 genes"),
        ({"values": X, "samples": ["a"]}, "1 sample and 3 gene names"),
        ({"values": pd.DataFrame(X), "genes": ["a"]}, "1 genes names for a table with 3"),
        ({"values": X, "genes": ["a", "b", "a"]}, r"duplicate gene name.*\['a'\]"),
        ({"values": X, "samples": ["s", "t", "s", "u"]}, r"duplicate sample name.*\['s'\]"),
        ({"values": X, "genes": ["a", " ", "c"]}, r"gene\(s\) number \[2\] have an empty name"),
        ({"values": X[:2]}, "2 sample.*orientation='genes_by_samples'"),
        ({"values": X[:, :1]}, "at least 2 genes"),
        ({"values": X, "perturbed": KO[:3]}, r"mask has shape \(3, 3\)"),
        ({"values": X, "perturbation": ["none"] * 3}, "perturbation has 3 entries"),
        ({"values": X, "perturbation": ["none"] * 3 + ["ko"]}, r"unknown perturbation.*'ko'"),
        ({"values": X, "condition": ["a", "b"]}, "condition has 2 entries"),
        ({"values": X, "transform": "log2"}, "unknown transform 'log2'"),
        ({"values": X, "transform": "log", "pseudocount": -1}, "pseudocount must be"),
        ({"values": X, "transform": "log", "pseudocount": "x"}, "pseudocount must be a number"),
        ({"values": X, "regulators": "G1"}, "list of gene names"),
        ({"values": X, "regulators": ["G1", "TF"]}, r"not genes of <array>: \['TF'\]"),
        ({"values": X, "regulators": ["g1"]}, r"Did you mean \['G1'\]"),
        ({"values": X.astype(complex)}, "complex"),
    ],
)
def test_from_array_errors(kwargs: dict, match: str) -> None:
    with pytest.raises(BayesGRNInputError, match=match):
        ExpressionData.from_array(**kwargs)


def test_too_few_samples_without_transpose_hint() -> None:
    with pytest.raises(BayesGRNInputError, match="2 sample") as err:
        ExpressionData.from_array(X[:2, :2])
    assert "orientation" not in str(err.value)


@pytest.mark.parametrize(
    ("cell", "match"),
    [
        (np.nan, r"missing \(NaN\) at sample 'S2' \(row 2\), gene 'G3'"),
        (np.inf, r"infinite \(inf\) at sample 'S2' \(row 2\), gene 'G3'"),
        (-np.inf, r"infinite \(-inf\)"),
    ],
)
def test_non_finite_cells_are_named(cell: float, match: str) -> None:
    x = X.copy()
    x[1, 2] = cell
    with pytest.raises(BayesGRNInputError, match=match):
        ExpressionData.from_array(x)


def test_non_numeric_cells_are_named() -> None:
    frame = pd.DataFrame(X, index=list("abcd"), columns=["G1", "G2", "G3"]).astype(object)
    frame.iloc[2, 1] = "high"
    with pytest.raises(BayesGRNInputError, match=r"'high' at sample 'c' \(row 3\), gene 'G2'"):
        ExpressionData.from_array(frame)
    labels = pd.DataFrame({"name": list("abcd"), "G1": X[:, 0], "G2": X[:, 1]})
    with pytest.raises(BayesGRNInputError, match=r"'a' at sample '0'.*set_index"):
        ExpressionData.from_array(labels)
    under = np.array([["1", "2"], ["3", "1_0"], ["5", "6"]], dtype=object)
    with pytest.raises(BayesGRNInputError, match="'1_0' at sample 'S2'"):
        ExpressionData.from_array(under)
    obj = np.array([["1", "2"], ["3", "x"], ["5", "6"]], dtype=object)
    with pytest.raises(BayesGRNInputError, match=r"'x' at sample 'S2' \(row 2\), gene 'G2'"):
        ExpressionData.from_array(obj)


def test_dataframe_missing_values() -> None:
    frame = pd.DataFrame(X, columns=["a", "b", "c"]).astype("Float64")
    frame.iloc[0, 0] = pd.NA
    with pytest.raises(BayesGRNInputError, match=r"missing \(NaN\) at sample '0'.*gene 'a'"):
        ExpressionData.from_array(frame)


def test_log_of_non_positive_names_the_cell() -> None:
    with pytest.raises(
        BayesGRNInputError, match=r"log of 0\.0 \+ 0\.0 at sample 'ko_G1', gene 'G1'"
    ):
        ExpressionData.from_array(
            X, samples=["a", "b", "c", "ko_G1"], transform="log", pseudocount=0
        )
    with pytest.raises(BayesGRNInputError, match=r"log of -1\.0 \+ 1\.0"):
        ExpressionData.from_array(X - 1, transform="log1p")


def test_constant_genes(caplog: pytest.LogCaptureFixture) -> None:
    x = np.column_stack([X, np.full(4, 7.0), np.full(4, 0.1)])
    genes = ["G1", "G2", "G3", "C1", "C2"]
    with pytest.raises(BayesGRNInputError, match=r"2 gene\(s\).*'C1', 'C2'.*drop_constant=True"):
        ExpressionData.from_array(x, genes)
    with caplog.at_level(logging.WARNING, logger="bayesgrn.data"):
        data = ExpressionData.from_array(x, genes, regulators=["G1", "C1"], drop_constant=True)
    assert data.genes == ("G1", "G2", "G3")
    assert data.regulators == ("G1",)
    assert data.values.shape == (4, 3)
    (record,) = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert "'C1', 'C2'" in record.getMessage()
    assert "removed from the regulators" in record.getMessage()
    with pytest.raises(BayesGRNInputError, match="every regulator was dropped"):
        ExpressionData.from_array(x, genes, regulators=["C1"], drop_constant=True)


def test_constant_apart_from_a_knockout() -> None:
    x = X.copy()
    x[:3, 0] = 2.0  # G1 varies only through its knockout
    with pytest.raises(BayesGRNInputError, match=r"constant.*'G1'"):
        ExpressionData.from_array(x, perturbed=KO)


def test_gene_perturbed_in_almost_every_sample() -> None:
    mask = np.zeros_like(X, dtype=bool)
    mask[1:, 2] = True
    with pytest.raises(BayesGRNInputError, match=r"fewer than 2 samples.*'G3'"):
        ExpressionData.from_array(X, perturbed=mask)


def test_small_scale_genes_are_not_constant() -> None:
    data = ExpressionData.from_array(X * 1e-9)
    np.testing.assert_allclose(data.scale, ExpressionData.from_array(X).scale * 1e-9)


def test_moments_of_huge_values_do_not_overflow() -> None:
    # sums and squares of values near 1e308 overflowed: RuntimeWarning and an infinite scale
    big = np.array([[1e308, 1.0], [-1e308, 2.0], [1.5e308, 4.0], [0.5e308, 3.0]])
    data = ExpressionData.from_array(big)
    np.testing.assert_allclose(data.center, [np.mean(big[:, 0] / 1e308) * 1e308, 2.5])
    np.testing.assert_allclose(data.scale[0], np.std(big[:, 0] / 1e308, ddof=1) * 1e308)
    # ordinary data: bit for bit the plain formulas
    plain = ExpressionData.from_array(X)
    np.testing.assert_array_equal(plain.center, X.sum(axis=0) / 4)
    np.testing.assert_array_equal(
        plain.scale, np.sqrt(((X - X.sum(axis=0) / 4) ** 2).sum(axis=0) / 3)
    )


def test_an_sd_beyond_float64_is_named() -> None:
    spread = np.array([[1.7e308, 1.0], [-1.7e308, 2.0], [1.7e308, 3.0]])
    with pytest.raises(BayesGRNInputError, match=r"gene 'G1' spread too widely.*sd overflows"):
        ExpressionData.from_array(spread)
