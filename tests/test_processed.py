"""The published processed-data path (config/processed.yaml) on real E123 data, and the export back."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pandas as pd
import pytest

from conftest import SHARED, copy_run, processed_config, shared_file, snakemake
from deepchrome.dataset import find_published_cells, load_cell, load_published_cell
from deepchrome.summary import MODELS


def test_outputs_keep_the_files_split(processed_run):
    res = processed_run / "results"
    split = pd.read_csv(res / "E123" / "split.tsv", sep="\t", dtype=str)
    assert split["split"].value_counts().to_dict() == {"train": 320, "test": 200, "valid": 80}
    published = pd.read_csv(shared_file("real", "E123", "genes.tsv"), sep="\t")
    test_ids = set(published.loc[published["deepchrome_split"] == "test", "gene_id"].str[-6:])
    assert set(split.loc[split["split"] == "test", "gene_id"]) == test_ids
    labels = pd.read_csv(res / "E123" / "labels.tsv", sep="\t")
    assert labels["rpkm"].isna().all() and list(labels.columns) == ["gene_id", "rpkm", "label"]
    pred = pd.read_csv(res / "E123" / "cnn" / "predictions.tsv", sep="\t", dtype={"gene_id": str})
    assert len(pred) == 600 and pred.set_index("gene_id")["split"].equals(split.set_index("gene_id")["split"])
    auc = pd.read_csv(res / "summary" / "auc.tsv", sep="\t")
    assert set(auc["cell"]) == {"E123", "E123_slice"}
    assert auc.loc[auc["cell"] == "E123", "published_auc"].iloc[0] == 0.92
    assert (res / "summary" / "figures" / "published.png").exists()


def test_real_attributions(processed_run):
    """Real E123 (K562): H3K4me3 is the mark the CNN relies on most for expressed genes; IG is complete."""
    stats = json.loads((processed_run / "results" / "E123" / "cnn" / "attribution_stats.json").read_text())
    print("E123 attributions:", json.dumps(stats["completeness"]), stats["importance_on"])
    assert max(stats["importance_on"], key=stats["importance_on"].get) == "H3K4me3", stats["importance_on"]
    assert stats["completeness"]["share_under_tolerance"] >= 0.99, stats["completeness"]


def test_real_accuracy(processed_run):
    """The reported CNN (default preset: the mean of 5 seeds) reaches test AUC >= 0.94 and no other model beats it;
    every trained model clears the untrained promoter score's floor of 0.92."""
    res = processed_run / "results" / "E123"
    metrics = {m: json.loads((res / m / "metrics.json").read_text()) for m in MODELS}
    auc = {m: v["test_auc"] for m, v in metrics.items()}
    per_seed = [s["test_auc"] for s in metrics["cnn"]["seeds"]]
    print("test AUC:", {m: round(a, 4) for m, a in auc.items()}, "CNN per seed:", [round(a, 4) for a in per_seed])
    assert len(per_seed) == 5
    assert auc["cnn"] >= 0.94 and auc["cnn"] >= max(a for m, a in auc.items() if m != "cnn"), auc
    assert min(auc.values()) >= 0.92, auc


def test_export_round_trip(processed_run, tmp_path):
    work = copy_run(processed_run, tmp_path / "run")
    out = snakemake("export", "--configfile", str(work / "processed.yaml"), "--config",
                    f"processed={SHARED / 'real'}", workdir=work)
    assert out.returncode == 0, out.stderr[-3000:]
    res = work / "results"
    built = load_cell(res / "E123" / "features.npz", res / "E123" / "labels.tsv", res / "E123" / "split.tsv")
    back = load_published_cell(find_published_cells(res / "export")["E123"], built.marks)
    a, b = np.argsort(built.gene_id), np.argsort(back.gene_id)
    assert (built.gene_id[a] == back.gene_id[b]).all()
    np.testing.assert_array_equal(built.X[a], back.X[b])
    np.testing.assert_array_equal(built.y[a], back.y[b])
    np.testing.assert_array_equal(built.split[a], back.split[b])
    # the exported text equals the published file's rows (same values, same genome-order bins)
    first = (res / "export" / "E123" / "classification" / "test.csv").read_text().splitlines()[0]
    gene = first.split(",")[0]
    original = [l for l in shared_file("real", "E123", "test.csv").read_text().splitlines() if l.startswith(gene + ",")]
    assert first == original[0].strip()


@pytest.mark.slow  # a workflow run that trains
def test_bad_cell_fails_alone_with_keep_going(tmp_path):
    data = tmp_path / "data"
    shutil.copytree(shared_file("real", "E123_slice"), data / "GOOD" / "classification")
    shutil.copytree(shared_file("real", "E123_slice"), data / "BAD" / "classification")
    (data / "BAD" / "classification" / "valid.csv").write_text("")
    # the two cells' CNNs only (not the summary, which waits for both): enough to see one cell fail alone
    out = snakemake("results/GOOD/cnn/metrics.json", "results/BAD/cnn/metrics.json", "--keep-going", "--configfile",
                    str(processed_config(tmp_path)), "--config", f"processed={data}", workdir=tmp_path)
    text = out.stdout + out.stderr
    assert out.returncode != 0
    assert str(data / "BAD" / "classification" / "valid.csv") in text and "empty" in text and "Fix:" in text
    assert (tmp_path / "results" / "GOOD" / "cnn" / "metrics.json").exists()
    assert not (tmp_path / "results" / "BAD" / "features.npz").exists()
