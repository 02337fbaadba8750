"""The paper's REMC study (config/remc.yaml) served from a loopback HTTP server, for 2 cells.

Real files from ../shared (the RPKM matrix, the paper's gene list, hg19 chromosome sizes) and generated
tagAligns are served over HTTP; the workflow downloads them as it would from Roadmap (one transfer fails
with HTTP 500, one is cut short and resumed with Range), then runs to the summary table against the published AUCs, with short training.
"""

from __future__ import annotations

import gzip
import json
import shutil

import numpy as np
import pandas as pd
import pytest
import yaml

from conftest import ROOT, shared_file
from deepchrome import MARKS
from deepchrome.labels import read_expression
from conftest import snakemake

CELLS = ("E003", "E123")
READS = "roadmap/data/byFileType/alignments/consolidated/{cell}-{mark}.tagAlign.gz"
RPKM = "roadmap/data/byDataType/rna/expression/57epigenomes.RPKM.pc.gz"


def write_tagalign(path, genes: pd.DataFrame, on: np.ndarray, mark: str, rng) -> None:
    """Reads near the genes' TSSs: H3K4me3 piles up at ON genes, H3K27me3 over OFF genes, plus background."""
    weight = {"H3K4me3": np.where(on, 12, 1), "H3K27me3": np.where(on, 1, 6)}.get(mark, np.full(len(on), 3))
    idx = np.repeat(np.arange(len(genes)), weight)
    starts = genes["tss"].to_numpy()[idx] + rng.integers(-1500, 1500, len(idx))
    chroms = genes["chrom"].to_numpy()[idx]
    lines = [f"{c}\t{s}\t{s + 36}\tN\t1000\t+\n" for c, s in zip(chroms, starts)]
    with gzip.open(path, "wt") as f:
        f.writelines(lines)


@pytest.fixture(scope="module")
def www(tmp_path_factory):
    """The served tree: roadmap/data/..., ucsc/hg19/bigZips/hg19.chrom.sizes, github/.../GeneFile.txt."""
    root = tmp_path_factory.mktemp("www")
    gene_list = shared_file("roadmap", "deepchrome_genes_hg19_tss_pm10kb.bed")
    rpkm = shared_file("roadmap", "57epigenomes.RPKM.pc.gz")
    for rel, src in ((RPKM, rpkm), ("ucsc/hg19/bigZips/hg19.chrom.sizes", shared_file("roadmap", "hg19.chrom.sizes")),
                     ("github/DEIB-GECO/ShallowChrome/master/data/GeneFile.txt", gene_list)):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(src, root / rel)
    bed = pd.read_csv(gene_list, sep="\t", header=None, names=["chrom", "start", "end", "name"])
    genes = pd.DataFrame({"chrom": bed["chrom"], "tss": bed["start"] + 10000,
                          "ensembl": bed["name"].str.split("_").str[0]})
    expression = read_expression(rpkm)
    rng = np.random.default_rng(0)
    for cell in CELLS:
        values = genes["ensembl"].map(expression[cell]).to_numpy()
        on = values > np.median(values)
        for mark in MARKS:
            path = root / READS.format(cell=cell, mark=mark)
            path.parent.mkdir(parents=True, exist_ok=True)
            write_tagalign(path, genes, on, mark, rng)
    return root


def remc_args(server) -> list[str]:
    """The base URLs pointing at the loopback server, as a user points the workflow at a mirror."""
    return [f"roadmap_url={server.url}/roadmap/data/", f"ucsc_url={server.url}/ucsc/",
            f"github_url={server.url}/github/"]


@pytest.fixture(scope="module")
def served(www):
    from conftest import FileServer

    server = FileServer(www)
    yield server
    server.close()


@pytest.mark.slow  # the study end to end for two cells
def test_remc_study_over_http(served, tmp_path):
    # Shortened through the config only: 1 paper epoch in minibatches of 256 genes (not 6,601 one-gene steps: the run
    # checks the downloads and the paper's split, not the CNN), the CNN alone (AttentiveChrome's and the baselines'
    # rules are the demo's and the processed run's); a cell sheet of the two cells. The targets are what
    # this study adds to the demo's chain: every download, the reads' features, the labels and split of the paper, the
    # summary table against the published AUCs and its figure (the feature maps, attributions and figures after the
    # summary are the demo's own rules, run by the demo's tests).
    config = yaml.safe_load((ROOT / "config" / "remc.yaml").read_text())
    config["cnn"]["params"] = {"epochs": 1, "batch_size": 256}
    config["networks"] = ["cnn"]
    config["baselines"]["models"] = []
    sheet = pd.read_csv(ROOT / "config" / "remc" / "cells.tsv", sep="\t", comment="#")
    sheet[sheet["cell"].isin(CELLS)].to_csv(tmp_path / "cells.tsv", sep="\t", index=False)
    config["cell_sheet"] = str(tmp_path / "cells.tsv")
    (tmp_path / "remc.yaml").write_text(yaml.safe_dump(config))
    served.faults["/" + READS.format(cell="E003", mark="H3K4me3")] = ["500"]
    served.faults["/" + RPKM] = ["cut"]
    out = snakemake("results/summary/auc.tsv", "results/summary/figures/published.png", "--configfile",
                    str(tmp_path / "remc.yaml"), "--config", *remc_args(served), workdir=tmp_path, timeout=1500)
    assert out.returncode == 0, out.stdout[-4000:] + out.stderr[-4000:]

    # the failed and the cut transfers were retried; the cut one resumed with a Range request
    asked = [p for p, _ in served.requests]
    assert asked.count("/" + READS.format(cell="E003", mark="H3K4me3")) == 2
    ranges = [r for p, r in served.requests if p == "/" + RPKM]
    assert ranges[0] is None and ranges[1].startswith("bytes=")
    downloads = tmp_path / "resources" / "downloads"
    assert not list(downloads.rglob("*.part"))
    assert (next(downloads.rglob("57epigenomes.RPKM.pc.gz")).read_bytes()
            == shared_file("roadmap", "57epigenomes.RPKM.pc.gz").read_bytes())

    res = tmp_path / "results"
    split = pd.read_csv(res / "split.tsv", sep="\t")
    assert split["split"].value_counts().to_dict() == {"train": 6601, "valid": 6601, "test": 6600}
    assert split.loc[split["split"] == "valid", "gene_id"].iloc[0] == "ENSG00000132963"
    assert split.loc[split["split"] == "test", "gene_id"].iloc[0] == "ENSG00000172936"
    for cell in CELLS:
        labels = pd.read_csv(res / cell / "labels.tsv", sep="\t")
        assert len(labels) == 19802 and labels["label"].sum() == 9901
        metrics = json.loads((res / cell / "cnn" / "metrics.json").read_text())
        assert metrics["n_test"] == 6600 and metrics["preset"] == "paper"
    auc = pd.read_csv(res / "summary" / "auc.tsv", sep="\t")
    published = auc[auc["model"] == "cnn"].set_index("cell")["published_auc"]
    assert published.to_dict() == {"E003": 0.77, "E123": 0.92}
    assert (res / "summary" / "figures" / "published.png").stat().st_size > 10000


@pytest.mark.slow  # runs the download jobs in the workflow
def test_missing_file_names_the_url(served, tmp_path):
    # E005's files are not on the server: HTTP 404 stops the run with the URL, and no partial file is left.
    target = "results/E005/marks/H3K4me3.npy"
    out = snakemake(target, "--configfile", str(ROOT / "config" / "remc.yaml"), "--config", *remc_args(served),
                    "cells=E005", workdir=tmp_path)
    text = out.stdout + out.stderr
    assert out.returncode != 0
    assert f"{served.url}/roadmap/data/byFileType/alignments/consolidated/E005-H3K4me3.tagAlign.gz" in text
    assert "HTTP 404" in text and "Fix:" in text
    downloads = tmp_path / "resources" / "downloads"
    assert not [p for p in downloads.rglob("*") if p.is_file() and "E005" in p.name]


def test_dry_run_plans_the_whole_study(dry_run):
    out = dry_run("--configfile", str(ROOT / "config" / "remc.yaml"))
    assert out.returncode == 0, out.stderr[-3000:]
    counts = dict(line.split()[:2] for line in out.stdout.splitlines()
                  if len(line.split()) == 2 and line.split()[1].isdigit())
    assert counts["fetch"] == str(56 * 5 + 3) and counts["mark_features"] == str(56 * 5)
    assert counts["train_cnn"] == counts["train_attentive"] == "56" and counts["baselines"] == "56"
