"""The workflow run by the real Snakemake CLI: lint, dry runs, the demo end to end, and bad input."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from deepchrome import MARKS
from deepchrome.dataset import load_features
from deepchrome.summary import MODELS
from conftest import fails_with, own_config, shared_file, snakemake

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = sorted(p.name for p in (ROOT / "config").glob("*.yaml"))


def test_lint():
    out = snakemake("--lint")
    assert out.returncode == 0, out.stdout + out.stderr


def config_args(config: str) -> list[str]:
    """What a user adds on the command line for each shipped config."""
    if config == "processed.yaml":
        return ["--config", f"processed={shared_file('real', 'E123')}"]
    return []


@pytest.mark.parametrize("config", CONFIGS)
def test_dry_run_every_config(config, dry_run):
    out = dry_run("--configfile", str(ROOT / "config" / config), *config_args(config))
    assert out.returncode == 0, out.stdout + out.stderr
    assert "train_cnn" in out.stdout


def test_processed_config_says_how_to_set_the_data(tmp_path):
    out = snakemake("-n", "--configfile", str(ROOT / "config" / "processed.yaml"), workdir=tmp_path)
    assert out.returncode != 0 and "--config processed=" in out.stdout + out.stderr


# ---- the demo, end to end ----------------------------------------------------------------------

def trained_demo_cells() -> list[str]:
    """The demo sheet's cells with expression (the predict cell has no labels, models or feature maps)."""
    sheet = pd.read_csv(ROOT / "config" / "demo" / "cells.tsv", sep="\t")
    return list(sheet.loc[sheet["predict_with"].isna(), "cell"])


def test_contract_files(demo_run):
    res = demo_run / "results"
    cells = trained_demo_cells()
    split = pd.read_csv(res / "split.tsv", sep="\t")
    assert list(split.columns) == ["gene_id", "split"] and set(split["split"]) == {"train", "valid", "test"}
    for cell in cells:
        X, gene_id, marks = load_features(res / cell / "features.npz")
        assert X.dtype == np.float32 and X.shape == (len(gene_id), 5, 100) and list(marks) == list(MARKS)
        assert len(set(gene_id)) == len(gene_id) and (X >= 0).all() and X.sum() > 0
        labels = pd.read_csv(res / cell / "labels.tsv", sep="\t")
        assert list(labels.columns) == ["gene_id", "rpkm", "label"] and set(labels["label"]) == {0, 1}
        for model in MODELS:
            metrics = json.loads((res / cell / model / "metrics.json").read_text())
            for key in ("test_auc", "valid_auc", "test_aupr", "n_train", "n_valid", "n_test", "seconds", "device"):
                assert key in metrics, (cell, model, key)
            pred = pd.read_csv(res / cell / model / "predictions.tsv", sep="\t")
            assert list(pred.columns) == ["gene_id", "split", "label", "score"]
            assert len(pred) == metrics["n_train"] + metrics["n_valid"] + metrics["n_test"]
            assert set(pred["split"]) == {"train", "valid", "test"}
        history = pd.read_csv(res / cell / "cnn" / "history.tsv", sep="\t")
        assert list(history.columns)[:3] == ["epoch", "loss", "valid_auc"]
        import torch
        states = torch.load(res / cell / "cnn" / "model.pt", weights_only=True)  # seed -> state_dict, "description"
        assert states.pop("description")["inputs"] == {"marks": list(MARKS), "bins": 100, "bin_size": 100,
                                                       "bin_order": "strand", "input": "signal", "transform": "log1p"}
        for state in states.values():
            assert sum(v.numel() for k, v in state.items() if k != "input_shape") == 46397  # the default network
        for cls in ("on", "off"):
            fmap = np.load(res / cell / "cnn" / f"featuremap_{cls}.npy")
            assert fmap.shape == (5, 100) and fmap.min() >= 0 and fmap.max() == pytest.approx(1)
        assert (res / cell / "cnn" / "featuremap.png").stat().st_size > 10000
    auc = pd.read_csv(res / "summary" / "auc.tsv", sep="\t")
    assert {"cell", "model", "test_auc", "test_aupr", "valid_auc"} <= set(auc.columns)
    assert len(auc) == len(MODELS) * len(cells)
    for name in ("cnn_vs_baselines", "auc_by_model", "model_comparison", "training_curves", "featuremaps"):
        assert (res / "summary" / "figures" / f"{name}.png").stat().st_size > 10000
    assert list((demo_run / "logs").rglob("*.log"))


def test_demo_models_are_good_not_perfect(demo_run):
    auc = pd.read_csv(demo_run / "results" / "summary" / "auc.tsv", sep="\t")
    table = auc.pivot(index="cell", columns="model", values="test_auc")
    for cell, row in table.iterrows():
        assert 0.80 <= row["cnn"] <= 0.97, (cell, row.to_dict())
        assert row["cnn"] >= row[["gbm", "svm", "rf", "logreg"]].max() - 0.05, (cell, row.to_dict())


def test_feature_maps_show_promoter_h3k4me3(demo_run):
    for cell in trained_demo_cells():
        cell_dir = demo_run / "results" / cell
        on = np.load(cell_dir / "cnn" / "featuremap_on.npy")
        off = np.load(cell_dir / "cnn" / "featuremap_off.npy")
        k4 = MARKS.index("H3K4me3")
        assert on[k4, 40:60].mean() > off[k4, 40:60].mean(), cell_dir.name


# ---- bad input (one case per stage: tests/test_bad_inputs.py; every case of a check: unit tests) ----

def test_schema_violation(tmp_path, small_data):
    config = own_config(tmp_path, small_data, input="bam")
    text = fails_with(tmp_path, config, "results/split.tsv", str(config), "input: 'bam' is not one of", "Fix:")
    assert len(text) < 2000  # the message, not a dump of the whole config


def test_cell_name_with_path_separator(tmp_path, small_data):
    config = own_config(tmp_path, small_data, cells_rows=["cellA", "../cellB"])
    fails_with(tmp_path, config, "results/split.tsv", str(tmp_path / "cells.tsv"), "Fix:")
