"""Explanations on the demo (the session's demo run): attributions, class summaries that show the demo's
biology (REFERENCE.md), stable class maps, figures, and `snakemake explain` for chosen genes."""

import json

import numpy as np
import pandas as pd
import pytest

from deepchrome.io import read_summary
from conftest import HOSTILE_NAME, copy_run, snakemake

CELLS = ["cellA", "cellB", "cellC"]
CENTRAL = slice(40, 60)  # the central 2 kb: bins 41-60


def test_attribution_files(demo_run):
    split = pd.read_csv(demo_run / "results" / "split.tsv", sep="\t")
    for cell in CELLS:
        with np.load(demo_run / "results" / cell / "cnn" / "attributions.npz") as z:
            assert z["attributions"].dtype == np.float32
            assert z["attributions"].shape == (len(z["gene_id"]), 5, 100)
            assert list(z["marks"]) == ["H3K4me3", "H3K4me1", "H3K36me3", "H3K9me3", "H3K27me3"]
            assert set(z["gene_id"]) == set(split.loc[split["split"] == "test", "gene_id"])
            pred = pd.read_csv(demo_run / "results" / cell / "cnn" / "predictions.tsv", sep="\t").set_index("gene_id")
            assert np.allclose(z["score"], pred.loc[z["gene_id"], "score"], atol=1e-5)
        stats = json.loads((demo_run / "results" / cell / "cnn" / "attribution_stats.json").read_text())
        assert stats["method"] == "integrated_gradients" and "zero input" in stats["baseline"]
        assert stats["completeness"]["share_under_tolerance"] >= 0.98, stats["completeness"]


@pytest.mark.parametrize("cell", CELLS)
def test_on_genes_are_driven_by_h3k4me3_at_the_tss(demo_run, cell):
    s = read_summary(demo_run / "results" / cell / "cnn" / "attribution_summary.npz")
    assert s["on"][0, CENTRAL].mean() > 0
    central = np.abs(s["on"][:, CENTRAL])  # importance of each mark at the TSS, for the ON class
    assert np.argsort(-central.mean(axis=1))[:2].tolist().count(0) == 1
    assert list(np.argsort(-s["importance_on"])[:2]).count(0) == 1


def test_repressive_marks_lower_p_on_in_off_genes(demo_run):
    negative = 0
    for cell in CELLS:
        s = read_summary(demo_run / "results" / cell / "cnn" / "attribution_summary.npz")
        negative += min(s["off"][3].mean(), s["off"][4].mean()) < 0  # H3K9me3, H3K27me3
    assert negative >= 2


def test_averaged_class_maps_are_stable(demo_run):
    table = pd.read_csv(demo_run / "results" / "summary" / "explanation.tsv", sep="\t")
    assert list(table["cell"]) == CELLS and list(table["name"]) == [HOSTILE_NAME, "Demo cell B", "Demo cell C"]
    assert (table["map_starts"] == 20).all()
    for cls in ("on", "off"):
        assert (table[f"{cls}_split_half_r"] > table[f"{cls}_single_start_r"] + 0.2).all()
    with np.load(demo_run / "results" / "cellA" / "cnn" / "featuremap_starts.npz") as z:
        assert z["on"].shape == (20, 5, 100) and z["on_spread"].shape == (5, 100)
    reported = np.load(demo_run / "results" / "cellA" / "cnn" / "featuremap_on.npy")
    mean = np.load(demo_run / "results" / "cellA" / "cnn" / "featuremap_starts.npz")["on"].mean(0)
    assert np.allclose(reported, mean / mean.max(), atol=1e-6)


def test_figures_and_importance_table(demo_run):
    res = demo_run / "results"
    for cell in CELLS:
        assert (res / cell / "cnn" / "explanation.png").stat().st_size > 20_000
    assert (res / "summary" / "figures" / "importance.png").stat().st_size > 10_000
    imp = pd.read_csv(res / "summary" / "importance.tsv", sep="\t")
    assert len(imp) == 15 and np.allclose(imp.groupby("cell")["share"].sum(), 1)


def test_explain_chosen_genes(demo_run, tmp_path):
    work = copy_run(demo_run, tmp_path / "run")  # `explain` writes into the run: a copy of the shared one
    split = pd.read_csv(work / "results" / "split.tsv", sep="\t")
    genes = [split.loc[split["split"] == s, "gene_id"].iloc[0] for s in ("test", "train")]
    out = snakemake("explain", "--configfile", str(work / "config.yaml"), "--config",
                    f"genes={genes[0]},{genes[1]}", workdir=work)
    assert out.returncode == 0, out.stderr[-3000:]
    for gene in genes:
        assert (work / "results" / "explain" / f"{gene}.png").stat().st_size > 20_000
    bad = snakemake("explain", "--configfile", str(work / "config.yaml"), "--config", "genes=ENSG_NOT_THERE",
                    workdir=work)
    assert bad.returncode != 0 and "gene ENSG_NOT_THERE is in none of the cells" in bad.stdout + bad.stderr
    assert not (work / "results" / "explain" / "ENSG_NOT_THERE.png").exists()
