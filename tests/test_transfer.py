"""Models across cells and cells without RNA-seq: the transfer matrix, the pooled and leave-one-cell-out CNNs
(`snakemake transfer`), the demo's predict cell, the model-input check, and the same in processed mode on
real E123 beside a renamed copy of it."""

from __future__ import annotations

import gzip
import json
import shutil

import numpy as np
import pytest
import torch
import yaml

from conftest import ROOT, SHARED, copy_run, shared_file, snakemake
from deepchrome import MARKS
from deepchrome.dataset import CellData, feature_description, save_features
from deepchrome.ensemble import build_member, read_description, save_model
from deepchrome.errors import DeepChromeError
from deepchrome.io import read_tsv
from deepchrome.predict import predict_cell
from deepchrome.train import model_description, resolve_params

TRAINED = ["cellA", "cellB", "cellC"]
PREDICT = "cellD"


def transfer_table(path):
    return read_tsv(path).set_index("model_cell")


def cnn_auc(results, cell):
    return json.loads((results / cell / "cnn" / "metrics.json").read_text())["test_auc"]


# ---- the default demo: transfer matrix and the predict cell --------------------------------------

def test_transfer_diagonal_is_each_cells_own_cnn_exactly(demo_run):
    res = demo_run / "results"
    matrix = transfer_table(res / "summary" / "transfer.tsv")
    assert list(matrix.index) == TRAINED and list(matrix.columns) == TRAINED
    for cell in TRAINED:
        assert matrix.loc[cell, cell] == cnn_auc(res, cell), cell  # same scoring path: bit for bit
    off = matrix.to_numpy()[~np.eye(3, dtype=bool)]
    assert ((off > 0.7) & (off < 0.97)).all(), matrix  # models travel, not perfectly (cell-specific programs)
    assert (res / "summary" / "figures" / "transfer.png").stat().st_size > 10000


def test_predict_cell_follows_its_hidden_expression(demo_run):
    res = demo_run / "results"
    predicted = read_tsv(res / PREDICT / "predicted.tsv")
    assert list(predicted.columns) == ["gene_id", "score"] and predicted["score"].between(0, 1).all()
    windows = read_tsv(res / "genes" / "windows.tsv")
    assert set(predicted["gene_id"]) == set(windows["gene_id"])  # every gene, not only labelled ones
    assert not (res / PREDICT / "labels.tsv").exists() and not (res / PREDICT / "cnn").exists()
    with gzip.open(demo_run / "resources" / "demo" / "hidden_rpkm.tsv.gz", "rt") as f:
        hidden = read_tsv(f, index_col=False).set_index("gene_id")[PREDICT]
    truth = predicted["gene_id"].str.split(".").str[0].map(hidden)
    has = truth.notna()
    r = np.corrcoef(predicted["score"][has], np.log2(truth[has] + 1))[0, 1]
    assert r >= 0.6, r
    # the predict cell has no column of its own: the split and the medians come from the other cells
    assert list(read_tsv(res / "genes" / "expression.tsv", nrows=1).columns) == ["gene_id", *TRAINED]
    model = json.loads((res / "transfer" / "pooled" / "cnn" / "metrics.json").read_text())
    assert model["cells"] == TRAINED and model["left_out"] is None
    page = (res / "summary" / "overview.rst").read_text()
    assert f"results/{PREDICT}/predicted.tsv" in page and "Cells without RNA-seq" in page


def test_transfer_target_pooled_and_left_out(demo_run, tmp_path):
    """`snakemake transfer` (off by default) on a copy of the finished demo: only the leave-one-cell-out models
    and the pooled table are new; each left-out model beats the untrained promoter score on its cell."""
    work = copy_run(demo_run, tmp_path / "run")
    out = snakemake("transfer", "--configfile", str(work / "config.yaml"), workdir=work, timeout=900)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    ran = out.stdout + out.stderr
    assert "rule train_cnn" not in ran and "pool=pooled" not in ran, "re-trained what the demo had built"
    table = read_tsv(work / "results" / "summary" / "pooled.tsv").set_index("cell")
    assert sorted(table.index) == TRAINED
    for cell, row in table.iterrows():
        assert row["cnn_auc"] == cnn_auc(work / "results", cell)
        assert row["left_out_auc"] > row["promoter_auc"], (cell, row.to_dict())
        assert row["pooled_low"] <= row["pooled_auc"] <= row["pooled_high"]
        assert row["pooling"] in ("helps", "hurts", "no difference")
        left_out = json.loads((work / "results" / "transfer" / f"without_{cell}" / "cnn" / "metrics.json").read_text())
        assert left_out["left_out"] == cell and cell not in left_out["cells"]
    assert list(table["cnn_auc"]) == sorted(table["cnn_auc"])  # weakest own CNN first
    assert (work / "results" / "summary" / "figures" / "pooled.png").stat().st_size > 10000


# ---- the model's recorded input against the features ----------------------------------------------

def test_a_model_refuses_features_built_otherwise(tmp_path):
    params = resolve_params("default", {"seeds": 1})
    torch.manual_seed(0)
    bins = {"bin_size": 100, "bin_order": "strand", "input": "signal"}
    X = np.random.default_rng(0).poisson(2, (20, 5, 100)).astype(np.float32)
    genes = [f"g{i}" for i in range(20)]
    save_features(tmp_path / "ok.npz", X, genes, MARKS, bins)
    cell = CellData(X=X, y=np.arange(20) % 2, gene_id=np.array(genes), split=np.repeat("train", 20), marks=list(MARKS),
                    bins=bins)
    save_model(tmp_path / "model.pt", {0: build_member(params, 5, 100).state_dict()},
               model_description(cell, "default", params, [0], "class", "c"))
    assert read_description(tmp_path / "model.pt")["inputs"] == {**feature_description(tmp_path / "ok.npz"),
                                                                 "transform": "log1p"}
    table = predict_cell(tmp_path / "model.pt", tmp_path / "ok.npz", tmp_path / "p.tsv", "cpu")
    assert list(table["gene_id"]) == genes and table["score"].between(0, 1).all()

    cases = [("marks", list(MARKS[::-1]), bins), ("bin_order", MARKS, {**bins, "bin_order": "genome"}),
             ("input", MARKS, {**bins, "input": "reads"}), ("bin_size", MARKS, {**bins, "bin_size": 200})]
    for key, marks, described in cases:
        save_features(tmp_path / f"{key}.npz", X, genes, marks, described)
        with pytest.raises(DeepChromeError) as err:
            predict_cell(tmp_path / "model.pt", tmp_path / f"{key}.npz", tmp_path / "bad.tsv", "cpu")
        text = str(err.value)
        assert str(tmp_path / "model.pt") in text and str(tmp_path / f"{key}.npz") in text and key in text, text
        assert text.count("Fix:") == 1
    assert not (tmp_path / "bad.tsv").exists()

    torch.save({0: build_member(params, 5, 100).state_dict()}, tmp_path / "old.pt")  # an earlier version's file
    with pytest.raises(DeepChromeError, match="earlier version"):
        predict_cell(tmp_path / "old.pt", tmp_path / "ok.npz", tmp_path / "bad.tsv", "cpu")


def test_demo_hidden_cell_has_marks_but_no_column(tmp_path):
    from deepchrome.demo import make_demo

    kw = dict(cells=("x", "y"), marks=("H3K4me3",), n_genes=90, n_chroms=3, seed=2)
    files = make_demo(tmp_path / "h", hidden=("z",), **kw)
    plain = make_demo(tmp_path / "p", **kw)
    assert (tmp_path / "h" / "z-H3K4me3.bigwig").exists()
    assert files["expression"].read_bytes() == plain["expression"].read_bytes()  # the table never sees z
    with gzip.open(files["hidden_expression"], "rt") as f:
        assert f.readline().split() == ["gene_id", "z"]
    for name in ("x-H3K4me3.bigwig", "y-H3K4me3.tagAlign.gz"):
        assert (tmp_path / "h" / name).read_bytes() == (tmp_path / "p" / name).read_bytes()


# ---- processed mode: real E123 beside a renamed copy -----------------------------------------------

@pytest.mark.slow  # a workflow run that trains
def test_processed_transfer_on_e123_and_a_renamed_copy(tmp_path):
    source = shared_file("real", "E123", "train.csv").parent
    data = tmp_path / "data"
    for cell in ("E123", "E123copy"):
        (data / cell).mkdir(parents=True)
        for split in ("train", "test"):
            shutil.copy(source / f"{split}.csv", data / cell / f"{split}.csv")
    config = yaml.safe_load((ROOT / "config" / "processed.yaml").read_text())
    config["cell_sheet"] = str(ROOT / config["cell_sheet"])
    config["cnn"]["seeds"] = 2
    config["cnn"]["params"] = {"epochs": 10}  # E123's seeds peak by epoch 8; the check is exactness, not accuracy
    config["baselines"]["models"] = ["promoter"]
    (tmp_path / "processed.yaml").write_text(yaml.safe_dump(config))
    work = tmp_path / "run"
    out = snakemake("transfer", "--configfile", str(tmp_path / "processed.yaml"), "--config", f"processed={data}",
                    workdir=work, timeout=900)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    res = work / "results"
    matrix = transfer_table(res / "summary" / "transfer.tsv")
    auc = cnn_auc(res, "E123")
    assert auc > 0.9 and cnn_auc(res, "E123copy") == auc  # the same data and seeds: the same model
    assert (matrix.to_numpy() == auc).all(), matrix  # each model on the other's (identical) test genes too
    table = read_tsv(res / "summary" / "pooled.tsv").set_index("cell")
    # without E123 the pooled model is trained on the copy alone: E123's own model, bit for bit
    assert (table["left_out_auc"] == table["cnn_auc"]).all(), table
    assert (table["pooled_auc"] > 0.9).all() and (table["pooled_auc"] > table["promoter_auc"] - 0.02).all(), table
    assert not SHARED.joinpath("real", "E123copy").exists()
