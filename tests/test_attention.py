"""AttentiveChrome's explanation files: attention of every test gene, class summaries, agreement with the CNN's
attributions, and the figure, on a small trained model."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from deepchrome.attention import agreement, cell_attention
from deepchrome.attribution import ClassSummary, save_summary
from deepchrome.dataset import save_features
from deepchrome.ensemble import read_description
from deepchrome.errors import DeepChromeError
from deepchrome.figures import plot_attention
from deepchrome.io import read_summary, write_tsv
from deepchrome.train import train_and_save
from conftest import synthetic_cell

CNN = {"preset": "default", "params": {"epochs": 2, "patience": None}, "seeds": 1}
ATTENTIVE = {"preset": "default", "params": {"epochs": 12, "patience": None, "select": "loss"}}


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """A synthetic cell's files and AttentiveChrome trained on them through train_and_save (as the rule does)."""
    root = tmp_path_factory.mktemp("attention")
    cell = synthetic_cell(n_genes=200)
    save_features(root / "features.npz", cell.X, cell.gene_id, cell.marks, cell.bins)
    write_tsv(pd.DataFrame({"gene_id": cell.gene_id, "rpkm": 1.0, "label": cell.y}), root / "labels.tsv")
    write_tsv(pd.DataFrame({"gene_id": cell.gene_id, "split": cell.split}), root / "split.tsv")
    out = {k: root / f"{k}.{ext}" for k, ext in (("model", "pt"), ("history", "tsv"), ("metrics", "json"))}
    train_and_save(cell, CNN, 0, "cpu", 1, "class", "cellX", out["model"], out["history"], out["metrics"],
                   network="attentive", attentive=ATTENTIVE)
    return root, cell


def test_model_file_describes_the_attentive_network(files):
    root, _ = files
    description = read_description(root / "model.pt")
    assert description["model"] == "attentive" and description["network"]["family"] == "attentive"
    assert description["inputs"]["transform"] == "log1p" and description["seeds"] == [0]
    assert description["params"]["epochs"] == 12 and description["cell"] == "cellX"


def test_attention_of_every_test_gene_and_class_summaries(files):
    root, cell = files
    summary = cell_attention(root / "model.pt", root / "features.npz", root / "labels.tsv", root / "split.tsv",
                             root / "attention.npz", root / "attention_summary.npz")
    test = cell.split == "test"
    with np.load(root / "attention.npz") as z:
        assert list(z["gene_id"]) == list(cell.gene_id[test]) and list(z["marks"]) == cell.marks
        assert z["bin_attention"].shape == (test.sum(), 5, 100) and z["mark_attention"].shape == (test.sum(), 5)
        np.testing.assert_allclose(z["bin_attention"].sum(axis=2), 1, atol=1e-5)
        np.testing.assert_allclose(z["mark_attention"].sum(axis=1), 1, atol=1e-5)
        label, score, marks = z["label"], z["score"], z["mark_attention"]
    on = (label == 1) & (score > 0.5)
    assert summary["n_on"] == on.sum() > 0
    np.testing.assert_allclose(summary["mark_on"], marks[on].mean(axis=0), rtol=1e-5)
    back = read_summary(root / "attention_summary.npz")
    assert back["marks"] == cell.marks and back["on"].shape == (5, 100)
    plot_attention(back, back["marks"], root / "attention.png", title="cellX", bin_size=100, bin_order="strand")
    assert (root / "attention.png").stat().st_size > 10_000


def test_agreement_with_the_cnn(files, tmp_path):
    """Bins r is Pearson r of the ON profiles; marks rho Spearman's of the marks' ranks: an attribution summary
    built from the attention itself agrees perfectly, its reverse ranks the marks oppositely."""
    root, cell = files
    if not (root / "attention_summary.npz").exists():
        cell_attention(root / "model.pt", root / "features.npz", root / "labels.tsv", root / "split.tsv",
                       root / "attention.npz", root / "attention_summary.npz")
    att = read_summary(root / "attention_summary.npz")
    same = ClassSummary(on=att["on"] * 3, off=att["off"], importance_on=att["mark_on"], importance_off=att["mark_off"],
                        importance_all=att["mark_on"], n_on=1, n_off=1)
    save_summary(tmp_path / "same.npz", same, cell.marks)
    table = agreement(["cellX"], ["X"], [root / "attention_summary.npz"], [tmp_path / "same.npz"])
    assert list(table["mark"]) == cell.marks
    np.testing.assert_allclose(table["bins_r"], 1, atol=1e-9)
    assert table["marks_rho"].iloc[0] == pytest.approx(1)
    reverse = ClassSummary(on=-att["on"], off=att["off"], importance_on=-att["mark_on"], importance_off=att["mark_off"],
                           importance_all=att["mark_on"], n_on=1, n_off=1)
    save_summary(tmp_path / "reverse.npz", reverse, cell.marks)
    table = agreement(["cellX"], ["X"], [root / "attention_summary.npz"], [tmp_path / "reverse.npz"])
    assert table["marks_rho"].iloc[0] == pytest.approx(-1)
    save_summary(tmp_path / "other.npz", same, cell.marks[::-1])
    with pytest.raises(DeepChromeError, match="differ from the CNN's"):
        agreement(["cellX"], ["X"], [root / "attention_summary.npz"], [tmp_path / "other.npz"])


def test_a_cnn_model_is_refused(files, tmp_path):
    root, cell = files
    out = {k: tmp_path / f"{k}.{ext}" for k, ext in (("model", "pt"), ("history", "tsv"), ("metrics", "json"))}
    train_and_save(cell, CNN, 0, "cpu", 1, "class", "cellX", out["model"], out["history"], out["metrics"])
    with pytest.raises(DeepChromeError, match="not AttentiveChrome"):
        cell_attention(out["model"], root / "features.npz", root / "labels.tsv", root / "split.tsv",
                       tmp_path / "a.npz", tmp_path / "s.npz")
