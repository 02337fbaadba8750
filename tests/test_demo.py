"""The demo generator writes real-format files that real tools read, repeats exactly and follows the biology."""

from __future__ import annotations

import gzip
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pyBigWig
import pybedtools
import pytest

from deepchrome import MARKS
from deepchrome.demo import main, make_demo
from deepchrome.errors import DeepChromeError

CELLS = ("cellA", "cellB")
FLANK = 5000  # make_demo's default window: TSS +/- 5 kb, the demo config's windows.flank


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> dict[str, Path]:
    """One full-size demo (2,100 genes, 2 cells, 5 marks), shared by the tests that only read it."""
    return make_demo(tmp_path_factory.mktemp("demo"), cells=CELLS, n_genes=2100, seed=0)


@pytest.fixture(scope="module")
def info(demo) -> dict:
    return json.loads(demo["info"].read_text())


@pytest.fixture(scope="module")
def sizes(demo) -> dict[str, int]:
    rows = [line.split("\t") for line in demo["chrom_sizes"].read_text().splitlines()]
    assert all(len(r) == 2 for r in rows)
    return {name: int(length) for name, length in rows}


@pytest.fixture(scope="module")
def genes(demo) -> pd.DataFrame:
    """Gene lines of the GTF as parsed by pybedtools: gene_id, chrom, start/end (GTF), strand, 0-based tss."""
    rows = []
    for f in pybedtools.BedTool(str(demo["annotation"])):
        if f[2] == "gene":
            rows.append((f.attrs["gene_id"], f.attrs["gene_type"], f.attrs["gene_name"], f.chrom,
                         int(f[3]), int(f[4]), f.strand))
    df = pd.DataFrame(rows, columns=["gene_id", "gene_type", "gene_name", "chrom", "start", "end", "strand"])
    df["tss"] = np.where(df.strand == "+", df.start - 1, df.end - 1)
    return df


@pytest.fixture(scope="module")
def rpkm(demo) -> pd.DataFrame:
    lines = [line.rstrip().split("\t") for line in gzip.open(demo["expression"], "rt")]
    return pd.DataFrame(lines[1:], columns=lines[0]).set_index("gene_id").astype(float)


def _files(outdir: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(outdir.iterdir())}


def test_every_file_is_written(demo):
    names = {p.name for p in demo.values()}
    assert {"chrom.sizes", "genes.gtf.gz", "rpkm.tsv.gz", "README.txt", "demo.json"} <= names
    for cell in CELLS:
        for mark in MARKS:
            assert demo[f"signal:{cell}:{mark}"].name == f"{cell}-{mark}.bigwig"
            assert demo[f"reads:{cell}:{mark}"].name == f"{cell}-{mark}.tagAlign.gz"
    for path in demo.values():
        assert path.is_file() and path.stat().st_size > 0
    outdir = demo["info"].parent
    assert not [p for p in outdir.iterdir() if p.name.startswith(".")], "temporary files left behind"
    assert sum(p.stat().st_size for p in outdir.iterdir()) < 40e6


def test_gtf_is_gencode_like(demo, genes, info, sizes):
    assert len(genes) == info["n_genes"] >= 2000
    assert set(genes.gene_type) == {"protein_coding"}
    assert genes.gene_id.str.fullmatch(r"ENSG\d{11}\.\d+").all()
    assert genes.gene_id.is_unique
    assert genes.gene_name.str.fullmatch(r"DEMO\d+").all()
    assert genes.chrom.nunique() >= 3 and set(genes.chrom) <= set(sizes)
    assert 0.4 < (genes.strand == "+").mean() < 0.6
    assert (genes.start >= 1).all() and (genes.start <= genes.end).all()
    assert (genes.end <= genes.chrom.map(sizes)).all()
    length = genes.end - genes.start + 1
    assert length.min() < 5_000 and length.max() > 40_000
    # GENCODE attribute order and quoting on the raw lines; gene, transcript and exon features.
    kinds = set()
    with gzip.open(demo["annotation"], "rt") as fh:
        for line in fh:
            if line.startswith("#"):
                continue
            fields = line.rstrip("\n").split("\t")
            assert len(fields) == 9
            kinds.add(fields[2])
            if fields[2] == "gene":
                assert re.match(r'gene_id "ENSG\d{11}\.\d+"; gene_type "protein_coding"; gene_name "DEMO\d+";',
                                fields[8])
    assert kinds == {"gene", "transcript", "exon"}


def test_some_tss_windows_do_not_fit_the_chromosome(genes, info, sizes):
    near = (genes.tss - FLANK < 0) | (genes.tss + FLANK > genes.chrom.map(sizes))
    assert 3 <= near.sum() == info["n_near_chrom_end"]
    assert sorted(genes.gene_id[near]) == info["near_chrom_end_genes"]
    assert (genes.tss - FLANK < 0).any() and (genes.tss + FLANK > genes.chrom.map(sizes)).any()


def test_rpkm_table_has_roadmap_layout(demo, genes, rpkm, info):
    raw = gzip.open(demo["expression"], "rt").read().split("\n")
    assert raw[0] == "gene_id\t" + "\t".join(CELLS)
    assert raw[1].endswith("\t")  # the Roadmap file's extra tab at the end of each data line
    assert list(rpkm.columns) == list(CELLS)
    assert rpkm.index.str.fullmatch(r"ENSG\d{11}").all() and rpkm.index.is_monotonic_increasing
    unversioned = genes.gene_id.str.split(".").str[0]
    assert set(rpkm.index) < set(unversioned)
    missing = sorted(genes.gene_id[~unversioned.isin(rpkm.index)])
    assert missing == info["missing_rpkm_genes"] and len(missing) == info["n_missing_rpkm"] >= 3
    values = rpkm.to_numpy()
    assert (values >= 0).all()
    assert 0.05 < (values == 0).mean() < 0.3
    assert np.median(values) > 0.5 and values.max() > 100
    for cell in CELLS:
        assert rpkm[cell].median() == pytest.approx(info["median_rpkm"][cell])
    # Cell-specific programs: a good part, not most, of the labels differ between cells.
    labels = rpkm > rpkm.median()
    assert 0.1 < (labels.cellA != labels.cellB).mean() < 0.4


def test_bigwigs_have_the_chromosomes_and_gaps(demo, sizes):
    for cell in CELLS:
        for mark in MARKS:
            bw = pyBigWig.open(str(demo[f"signal:{cell}:{mark}"]))
            try:
                assert bw.isBigWig()
                assert bw.chroms() == sizes
                chrom = next(iter(sizes))
                intervals = np.array(bw.intervals(chrom))
                widths = intervals[:, 1] - intervals[:, 0]
                assert len(set(widths.tolist())) > 5  # variable-width intervals
                assert (intervals[:, 2] > 0).all()
                covered = widths.sum()
                assert 0.9 * sizes[chrom] < covered < sizes[chrom]  # gaps with no data
            finally:
                bw.close()


def test_tagaligns_are_sorted_remc_reads(demo, sizes):
    order = {name: i for i, name in enumerate(sizes)}
    for mark in ("H3K4me3", "H3K27me3"):
        df = pd.read_csv(demo[f"reads:cellA:{mark}"], sep="\t", header=None)
        assert df.shape[1] == 6 and len(df) > 10_000
        assert (df[2] - df[1] == 36).all()
        assert (df[1] >= 0).all() and (df[2] <= df[0].map(sizes)).all()
        assert (df[3] == "N").all() and (df[4] == 1000).all() and set(df[5]) == {"+", "-"}
        key = df[0].map(order).to_numpy() * 10**10 + df[1].to_numpy()
        assert (np.diff(key) >= 0).all()


def _window_means(path: Path, genes: pd.DataFrame, sizes: dict[str, int], half: int) -> np.ndarray:
    """Mean bigWig signal over [TSS - half, TSS + half) per gene, no data counted as 0."""
    out = np.zeros(len(genes))
    bw = pyBigWig.open(str(path))
    try:
        for chrom, idx in genes.groupby("chrom").indices.items():
            values = np.nan_to_num(bw.values(chrom, 0, sizes[chrom], numpy=True))
            for i in idx:
                t = genes.tss.iloc[i]
                out[i] = values[max(0, t - half) : t + half].mean()
    finally:
        bw.close()
    return out


def _window_reads(path: Path, genes: pd.DataFrame, half: int) -> np.ndarray:
    df = pd.read_csv(path, sep="\t", header=None, usecols=[0, 1])
    out = np.zeros(len(genes))
    for chrom, idx in genes.groupby("chrom").indices.items():
        starts = np.sort(df[1][df[0] == chrom].to_numpy())
        tss = genes.tss.to_numpy()[idx]
        out[idx] = np.searchsorted(starts, tss + half) - np.searchsorted(starts, tss - half - 35)
    return out


def test_marks_follow_expression(demo, genes, rpkm, sizes):
    g = genes.assign(key=genes.gene_id.str.split(".").str[0])
    g = g[g.key.isin(rpkm.index)].reset_index(drop=True)
    for cell in CELLS:
        values = rpkm.loc[g.key, cell].to_numpy()
        on = values > np.median(values)
        k4 = _window_means(demo[f"signal:{cell}:H3K4me3"], g, sizes, 1_000)
        k27 = _window_means(demo[f"signal:{cell}:H3K27me3"], g, sizes, 1_000)
        assert k4[on].mean() > 2 * k4[~on].mean()
        assert k27[~on].mean() > 1.5 * k27[on].mean()
        reads = _window_reads(demo[f"reads:{cell}:H3K4me3"], g, 1_000)
        assert reads[on].mean() > 2 * reads[~on].mean()
        # Informative but not perfect: H3K4me3 alone ranks the genes well, not flawlessly.
        order = np.argsort(np.argsort(k4))
        auc = (order[on].mean() - (on.sum() - 1) / 2) / (~on).sum()
        assert 0.7 < auc < 0.95


def test_h3k36me3_lies_downstream_on_the_genes_strand(demo, genes, sizes):
    bw = pyBigWig.open(str(demo["signal:cellA:H3K36me3"]))
    try:
        left, right = [], []
        for chrom, idx in genes.groupby("chrom").indices.items():
            values = np.nan_to_num(bw.values(chrom, 0, sizes[chrom], numpy=True))
            for i in idx:
                t, s = genes.tss.iloc[i], genes.strand.iloc[i]
                if FLANK <= t <= sizes[chrom] - FLANK:
                    up, down = values[t - 4_000 : t - 1_000].mean(), values[t + 1_000 : t + 4_000].mean()
                    (right if s == "+" else left).append(down - up if s == "+" else up - down)
    finally:
        bw.close()
    # Genome order: right of the TSS on + genes, left of it on - genes; both mean "downstream".
    assert np.mean(right) > 0 and np.mean(left) > 0


def test_same_seed_same_bytes_other_seed_differs(tmp_path):
    kw = dict(cells=("x", "y"), marks=("H3K4me3", "H3K27me3"), n_genes=90, n_chroms=3)
    first = _files(make_demo(tmp_path / "a", seed=7, **kw)["info"].parent)
    again = _files(make_demo(tmp_path / "b", seed=7, **kw)["info"].parent)
    other = _files(make_demo(tmp_path / "c", seed=8, **kw)["info"].parent)
    assert first == again
    for name in ("genes.gtf.gz", "rpkm.tsv.gz", "x-H3K4me3.tagAlign.gz", "x-H3K4me3.bigwig"):
        assert other[name] != first[name]
    # Cells differ from each other; a cell's files do not depend on the other cells asked for.
    assert first["x-H3K4me3.tagAlign.gz"] != first["y-H3K4me3.tagAlign.gz"]
    alone = _files(make_demo(tmp_path / "d", seed=7, **{**kw, "cells": ("y",)})["info"].parent)
    assert alone["y-H3K27me3.tagAlign.gz"] == first["y-H3K27me3.tagAlign.gz"]
    assert alone["y-H3K27me3.bigwig"] == first["y-H3K27me3.bigwig"]


def test_bad_arguments_say_what_to_do(tmp_path):
    with pytest.raises(DeepChromeError, match="marks"):
        make_demo(tmp_path, marks=("H3K4me2",), n_genes=30)
    with pytest.raises(DeepChromeError, match="too few"):
        make_demo(tmp_path, n_genes=4, n_chroms=3)
    with pytest.raises(DeepChromeError, match="cell names"):
        make_demo(tmp_path, cells=("a", "a"), n_genes=30)


def test_cli(tmp_path, capsys):
    assert main([str(tmp_path / "out"), "--seed", "3", "--genes", "60", "--cells", "p,q"]) == 0
    info = json.loads((tmp_path / "out" / "demo.json").read_text())
    assert info["n_genes"] == 60 and info["cells"] == ["p", "q"] and info["seed"] == 3
    assert (tmp_path / "out" / "q-H3K9me3.bigwig").is_file()
    assert main([str(tmp_path / "bad"), "--genes", "2"]) == 1
    assert "Fix:" in capsys.readouterr().err
