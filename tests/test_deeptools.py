"""bigWig features equal deepTools ``computeMatrix reference-point`` on both strands (generated files).

deepTools (pinned in requirements-deeptools.txt) is installed from PyPI into its own virtualenv
under ~/.cache/deepchrome (keyed by the pins' hash, so later runs reuse it), never into .venv.
The GTFs hold both strands, gene lines (with transcripts and exons) or transcript-only genes;
the bigWig has gaps without data and names chromosomes ``1``, ``2`` where the GTF says ``chr1``.
"""

from __future__ import annotations

import gzip
import os
import subprocess
from pathlib import Path

import numpy as np
import pyBigWig
import pytest

from conftest import cached_venv
from deepchrome.annotation import build_windows
from deepchrome.features import mark_features

ROOT = Path(__file__).resolve().parents[1]
PINS = ROOT / "requirements-deeptools.txt"
FLANK, BIN = 1000, 50
SIZES = {"chr1": 120_000, "chr2": 60_000}


@pytest.fixture(scope="module")
def compute_matrix() -> Path:
    """The computeMatrix executable of a cached virtualenv with the pinned deepTools (created when missing); skips
    the test when DEEPCHROME_TEST_NO_DEEPTOOLS=1."""
    if os.environ.get("DEEPCHROME_TEST_NO_DEEPTOOLS") == "1":
        pytest.skip("DEEPCHROME_TEST_NO_DEEPTOOLS=1: no deepTools virtualenv under ~/.cache/deepchrome")
    return cached_venv("deeptools", PINS, bytecode=False).parent / "computeMatrix"  # it runs twice: left uncompiled


def write_bigwig(path: Path, seed: int) -> None:
    """Variable-width entries with random gaps, plus 3-8 kb stretches without data, on chromosomes 1 and 2."""
    rng = np.random.default_rng(seed)
    bw = pyBigWig.open(str(path), "w")
    bw.addHeader([(c[3:], n) for c, n in SIZES.items()])
    for c, n in SIZES.items():
        width = rng.integers(1, 120, 4000)
        gap = rng.integers(0, 60, 4000)
        gap[rng.random(4000) < 0.01] = rng.integers(3000, 8000)
        start = np.cumsum(gap + width) - width
        keep = start + width <= n
        start, end = start[keep], (start + width)[keep]
        bw.addEntries([c[3:]] * len(start), start, ends=end, values=(rng.random(len(start)) * 20).astype(np.float64))
    bw.close()


def write_gtf(path: Path, seed: int, gene_lines: bool) -> None:
    """40 genes on both strands (some near the chromosome ends); 1-3 transcripts each, each with an exon."""
    rng = np.random.default_rng(seed)
    lines = []
    for g in range(40):
        chrom = "chr1" if g % 3 else "chr2"
        size = SIZES[chrom]
        strand = "+-"[g % 2]
        lo = int(rng.integers(1, size - 20_000)) if g >= 4 else (200 if g < 2 else size - 5000)
        spans = sorted((lo + int(rng.integers(0, 3000)), 0) for _ in range(rng.integers(1, 4)))
        spans = [(s, s + int(rng.integers(500, 15_000))) for s, _ in spans]
        spans = [(s, min(e, size)) for s, e in spans]
        attrs = f'gene_id "ENSG{g:011d}.1"; gene_type "protein_coding"; gene_name "G{g}";'
        if gene_lines:
            gs, ge = min(s for s, _ in spans), max(e for _, e in spans)
            lines.append(f"{chrom}\tT\tgene\t{gs}\t{ge}\t.\t{strand}\t.\t{attrs}")
        for t, (s, e) in enumerate(spans):
            tattrs = f'{attrs} transcript_id "ENST{g:09d}{t:02d}.1";'
            lines.append(f"{chrom}\tT\ttranscript\t{s}\t{e}\t.\t{strand}\t.\t{tattrs}")
            lines.append(f"{chrom}\tT\texon\t{s}\t{min(e, s + 200)}\t.\t{strand}\t.\t{tattrs} exon_number 1;")
    path.write_text("\n".join(lines) + "\n")


def deeptools_rows(compute_matrix: Path, gtf: Path, bw: Path, tmp: Path, feature: str) -> dict:
    """computeMatrix reference-point rows keyed by (chrom without "chr", TSS 0-based, strand): float64 [bins] each."""
    out = tmp / f"{gtf.stem}.mat.gz"
    subprocess.run([str(compute_matrix), "reference-point", "--referencePoint", "TSS", "-b", str(FLANK),
                    "-a", str(FLANK), "--binSize", str(BIN), "--missingDataAsZero", "-p", "1",
                    "--transcriptID", feature, "--transcript_id_designator", f"{feature}_id", "-R", str(gtf), "-S", str(bw), "-o", str(out)],
                   check=True, capture_output=True)
    rows = {}
    with gzip.open(out, "rt") as fh:
        for line in fh:
            if line.startswith("@"):
                continue
            f = line.rstrip("\n").split("\t")
            start, end, strand = int(f[1].split(",")[0]), int(f[2].split(",")[-1]), f[5]
            rows[(f[0].removeprefix("chr"), start if strand == "+" else end - 1, strand)] = np.array(f[6:], dtype=float)
    return rows


@pytest.mark.slow  # deepTools' own virtualenv: minutes of pip the first time (then cached)
@pytest.mark.parametrize("gene_lines", [True, False], ids=["gene-lines", "transcript-only"])
def test_bigwig_features_equal_deeptools(tmp_path, compute_matrix, gene_lines):
    bw = tmp_path / "signal.bw"
    write_bigwig(bw, seed=1)
    gtf = tmp_path / ("genes.gtf" if gene_lines else "transcripts.gtf")
    write_gtf(gtf, seed=2, gene_lines=gene_lines)
    sizes = tmp_path / "chrom.sizes"
    sizes.write_text("".join(f"{c}\t{n}\n" for c, n in SIZES.items()))
    windows = build_windows(gtf, sizes, flank=FLANK, bin_order="strand")
    got = mark_features(bw, windows, n_bins=2 * FLANK // BIN, bin_size=BIN, bin_order="strand")
    ref = deeptools_rows(compute_matrix, gtf, bw, tmp_path, "gene" if gene_lines else "transcript")
    assert set(windows["strand"]) == {"+", "-"} and len(windows) >= 30
    assert len(windows) < 40  # genes whose window leaves the chromosome are dropped (deepTools pads them)
    for i, w in enumerate(windows.itertuples()):
        want = ref[(w.chrom.removeprefix("chr"), w.tss, w.strand)]
        np.testing.assert_allclose(got[i], want, atol=1e-5, err_msg=f"{w.gene_id} ({w.strand})")
    assert (got == 0).any() and (got > 0).mean() > 0.5  # the gaps and the data both show
