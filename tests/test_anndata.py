"""AnnData (.h5ad) input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import bayesgrn as bg

anndata = pytest.importorskip("anndata")
from scipy import sparse  # noqa: E402

from bayesgrn.anndata_io import read_anndata  # noqa: E402


@pytest.fixture
def adata(tiny_sim):
    data = tiny_sim.data
    design = ["" if not row.any() else data.genes[int(np.argmax(row))] for row in data.perturbed]
    obs = pd.DataFrame(
        {
            "ko": design,
            "batch": ["a"] * (data.n_samples // 2)
            + ["b"] * (data.n_samples - data.n_samples // 2),
        },
        index=list(data.samples),
    )
    ad = anndata.AnnData(X=data.values.copy(), obs=obs, var=pd.DataFrame(index=list(data.genes)))
    ad.layers["sparse"] = sparse.csr_matrix(data.values)
    return ad


def test_h5ad_roundtrip_with_design(tiny_sim, adata, tmp_path):
    path = tmp_path / "x.h5ad"
    adata.write_h5ad(path)
    data = read_anndata(path, perturbed_key="ko", condition_key="batch")
    np.testing.assert_array_equal(data.values, tiny_sim.data.values)
    assert data.genes == tiny_sim.data.genes
    np.testing.assert_array_equal(data.perturbed, tiny_sim.data.perturbed)
    assert data.conditions == ("a", "b")
    # read_expression dispatches on the suffix (X only)
    plain = bg.read_expression(path)
    np.testing.assert_array_equal(plain.values, tiny_sim.data.values)


def test_sparse_layer_and_errors(tiny_sim, adata, tmp_path):
    data = read_anndata(adata, layer="sparse")
    np.testing.assert_array_equal(data.values, tiny_sim.data.values)
    with pytest.raises(bg.BayesGRNInputError, match="no layer 'counts'.*'sparse'"):
        read_anndata(adata, layer="counts")
    with pytest.raises(bg.BayesGRNInputError, match="obs has no column 'nope'"):
        read_anndata(adata, perturbed_key="nope")
    adata.obs.loc[adata.obs_names[0], "ko"] = "GX"
    with pytest.raises(bg.BayesGRNInputError, match="perturbed gene 'GX'"):
        read_anndata(adata, perturbed_key="ko")
    with pytest.raises(bg.BayesGRNInputError, match="no such file"):
        read_anndata(tmp_path / "missing.h5ad")
    bad = tmp_path / "bad.h5ad"
    bad.write_text("not hdf5")
    with pytest.raises(bg.BayesGRNInputError, match="not a readable .h5ad"):
        read_anndata(bad)


def test_cli_fits_an_h5ad_layer(adata, tmp_path, capsys):
    from bayesgrn.cli import main

    path = tmp_path / "x.h5ad"
    adata.write_h5ad(path)
    out = tmp_path / "run"
    opts = ["--steps", "20", "--no-progress", "--device", "cpu", "-q"]
    assert main(["fit", str(path), "--layer", "sparse", "--out", str(out), *opts]) == 0
    assert (out / "edges.tsv").is_file()
    code = main(["fit", str(path), "--layer", "nope", "--out", str(tmp_path / "r2"), *opts])
    assert code == 2
    assert "no layer 'nope'" in capsys.readouterr().err
