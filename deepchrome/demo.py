"""A small, seeded REMC look-alike data set in the real file formats.

``make_demo(outdir)`` writes a genome (``chrom.sizes``), a GENCODE-style annotation
(``genes.gtf.gz``), a Roadmap-style RPKM table (``rpkm.tsv.gz``) and, for every cell and mark, a
fold-change-like signal track (``{cell}-{mark}.bigwig``) and the reads it was computed from
(``{cell}-{mark}.tagAlign.gz``), plus ``README.txt`` and ``demo.json`` (counts the workflow should
reproduce: genes, genes too close to a chromosome end, genes without RPKM).

The model behind the data (all numbers are per gene and per cell):

* latent activity ``z`` = a shared component, sign-flipped for a cell-specific program of about
  8 % of the genes, plus noise (about a quarter of the labels differ between two cells);
* expression: log10 RPKM rises with ``z`` plus expression noise; silent genes sit near zero and many
  are exactly 0 (RPKM is written with 3 decimals, as in the Roadmap table);
* chromatin: a promoter state ``p`` = sigmoid of ``z`` plus chromatin noise drives the marks:
  H3K4me3 a sharp peak over the TSS (strongest just downstream, a dip at the nucleosome-free region),
  H3K4me1 enhancer-like flanks on both sides of active TSSs, H3K36me3 the gene body of active genes on
  the gene's strand rising towards the 3' end, H3K27me3 broad domains over silent (Polycomb target)
  genes, strongest at the promoter, H3K9me3 broader and weaker domains over other silent genes;
  "bivalent" silent promoters with H3K4me3 and H3K27me3, expressed genes with weak H3K4me3, random
  mark drop-out per gene, genome-wide background with regional variation, off-gene peaks and
  domains, and unmappable gaps without reads or signal.

Reads (36 bp, REMC tagAlign) are Poisson (with gamma over-dispersion) samples of the expected profile;
the bigWig is the fragment pile-up of those same reads over the genome-wide background (MACS2-like
fold change, pseudocount 1), as variable-width intervals. Everything is vectorised with numpy; the
same seed gives byte-identical files (gzip mtime 0, fixed order); each cell and mark has its own
random stream keyed by name, so a cell's files do not depend on which other cells are made.
"""

from __future__ import annotations

import argparse
import gzip
import io
import os
import sys
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import MARKS
from .errors import DeepChromeError
from .io import atomic_path, write_json

GRID = 50
"""bp resolution of the latent profiles, the read sampling and the bigWig intervals."""
READ_LENGTH = 36
FRAGMENT = 200
GENE_TYPE = "protein_coding"

# Genome-wide read-start rate per 100 bp (before the regional variation) for each mark.
_BACKGROUND = {"H3K4me3": 0.05, "H3K4me1": 0.08, "H3K36me3": 0.06, "H3K9me3": 0.08, "H3K27me3": 0.08}

# The tunable model; numbers found by checking that a model on the 500 binned values reaches test
# AUC 0.84-0.92 in every cell for both bigWig and read-count features.
_MODEL = dict(
    flip=0.08,  # fraction of genes in a cell's own program (sign of the shared component flipped)
    cell_noise=0.20,  # sd of the cell-level activity noise
    expr_noise=0.30,  # sd of the expression noise on top of the activity
    chrom_noise=0.30,  # sd of the chromatin noise on top of the activity
    steepness=2.5,  # slope of the promoter state sigmoid
    bivalent=0.12,  # fraction of silent genes with a bivalent (H3K4me3 + H3K27me3) promoter
    weak_k4me3=0.08,  # fraction of active genes with weak H3K4me3
    dropout=0.05,  # fraction of gene x mark pairs whose signal drops to 10 %
    overdispersion=4.0,  # gamma shape of the per-50 bp read rate noise
)


# --------------------------------------------------------------------------------------------------
# genome and genes


@dataclass
class _Genome:
    chroms: list[str]
    sizes: np.ndarray  # int64 [chroms]
    cell_offset: np.ndarray  # int64 [chroms + 1]: first grid cell of each chromosome in the concatenation
    gaps: list[tuple[int, int, int]]  # (chrom index, start, end), 0-based half open, sorted

    @property
    def n_cells(self) -> int:
        return int(self.cell_offset[-1])


@dataclass
class _Genes:
    chrom: np.ndarray  # int64 [genes], index into _Genome.chroms
    tss: np.ndarray  # int64 [genes], 0-based TSS
    strand: np.ndarray  # int64 [genes], +1 / -1
    start: np.ndarray  # int64 [genes], GTF (1-based, inclusive)
    end: np.ndarray  # int64 [genes], GTF (1-based, inclusive)
    number: np.ndarray  # int64 [genes], the synthetic Ensembl number (random order vs the genome)
    version: np.ndarray  # int64 [genes]

    @property
    def length(self) -> np.ndarray:
        return self.end - self.start + 1

    def gene_id(self, i: int, version: bool = True) -> str:
        base = f"ENSG9{self.number[i]:010d}"
        return f"{base}.{self.version[i]}" if version else base

    def name(self, i: int) -> str:
        return f"DEMO{self.number[i]}"


def _key(text: str) -> int:
    return zlib.crc32(text.encode())


def _layout(seed: int, n_genes: int, n_chroms: int) -> tuple[_Genome, _Genes]:
    """Place genes 25-40 kb apart (a few closer), every chromosome starts with a gene within 5 kb of
    its start and every other one ends with a gene within 5 kb of its end."""
    rng = np.random.default_rng([seed, 0])
    per_chrom = [len(a) for a in np.array_split(np.arange(n_genes), n_chroms)]
    chroms, sizes, tss_all, chrom_all = [], [], [], []
    for k, n in enumerate(per_chrom):
        spacing = rng.uniform(25_000, 40_000, n - 1)
        close = rng.random(n - 1) < 0.03
        spacing[close] = rng.uniform(4_000, 9_000, int(close.sum()))
        first = int(rng.integers(1_000, 4_000))
        tss = first + np.concatenate([[0.0], np.cumsum(spacing)]).astype(np.int64)
        tail = int(rng.integers(1_500, 4_000)) if k % 2 == 0 else int(rng.integers(20_000, 40_000))
        chroms.append(f"chr{k + 1}")
        sizes.append(int(tss[-1]) + tail)
        tss_all.append(tss)
        chrom_all.append(np.full(n, k, dtype=np.int64))
    sizes = np.asarray(sizes, dtype=np.int64)
    tss = np.concatenate(tss_all)
    chrom = np.concatenate(chrom_all)
    strand = np.where(rng.random(n_genes) < 0.5, 1, -1).astype(np.int64)
    length = np.clip(np.exp(rng.normal(np.log(15_000), 0.9, n_genes)), 2_000, 80_000).astype(np.int64)
    size = sizes[chrom]
    start = np.where(strand > 0, tss + 1, np.maximum(1, tss + 2 - length))
    end = np.where(strand > 0, np.minimum(size, tss + length), tss + 1)
    number = rng.permutation(n_genes).astype(np.int64) + 1
    version = rng.integers(1, 15, n_genes).astype(np.int64)
    genes = _Genes(chrom=chrom, tss=tss, strand=strand, start=start, end=end, number=number, version=version)

    # Unmappable gaps (no reads, no signal): about one per 4 Mb, 2-20 kb long.
    gaps = []
    for k, size_k in enumerate(sizes):
        n_gaps = max(1, int(size_k // 4_000_000))
        starts = np.sort(rng.integers(10_000, max(10_001, int(size_k) - 30_000), n_gaps))
        lens = rng.integers(2_000, 20_000, n_gaps)
        last = 0
        for s, ln in zip(starts, lens):
            s = max(int(s), last)
            gaps.append((k, s, min(int(size_k), s + int(ln))))
            last = s + int(ln)
    n_cells = -(-sizes // GRID)
    cell_offset = np.concatenate([[0], np.cumsum(n_cells + 4)]).astype(np.int64)  # 4 empty cells between
    return _Genome(chroms, sizes, cell_offset, gaps), genes


def _near_end(genome: _Genome, genes: _Genes, flank: int) -> np.ndarray:
    """bool [genes]: the window [TSS - flank, TSS + flank) does not fit in the chromosome."""
    return (genes.tss - flank < 0) | (genes.tss + flank > genome.sizes[genes.chrom])


def _overlapping_windows(genome: _Genome, genes: _Genes, flank: int) -> int:
    """How many genes have a window (TSS +/- ``flank``) overlapping the next gene's on the same chromosome."""
    order = np.lexsort((genes.tss, genes.chrom))
    t, c = genes.tss[order], genes.chrom[order]
    hit = (np.diff(t) < 2 * flank) & (np.diff(c) == 0)
    return int(hit.sum())


# --------------------------------------------------------------------------------------------------
# cells: activity, expression, mark amplitudes


@dataclass
class _Cell:
    rpkm: np.ndarray  # float64 [genes], rounded to 3 decimals
    state: np.ndarray  # float64 [genes], promoter state in (0, 1)
    amp: dict[str, np.ndarray]  # mark -> float64 [genes], read starts per 100 bp at the profile's peak
    width: dict[str, np.ndarray]  # mark -> float64 [genes], half-width of broad domains (bp)


def _shared(seed: int, n_genes: int) -> np.ndarray:
    return np.random.default_rng([seed, 1]).normal(size=n_genes)


def _cell(seed: int, cell: str, shared: np.ndarray) -> _Cell:
    m = _MODEL
    n = len(shared)
    rng = np.random.default_rng([seed, 2, _key(cell)])
    program = rng.random(n) < m["flip"]
    z = np.where(program, -shared, shared) + rng.normal(0, m["cell_noise"], n)

    # Expression: steeper below the median than above (a long tail of near-silent genes), many zeros.
    w = z + rng.normal(0, m["expr_noise"], n)
    log10 = 0.35 + np.where(w > 0, 0.85 * w, 1.7 * w)
    rpkm = 10.0**log10
    rpkm[(w < -0.9) & (rng.random(n) < 0.55)] = 0.0
    rpkm = np.round(rpkm, 3)

    # Chromatin state.
    a = z + rng.normal(0, m["chrom_noise"], n)
    p = 1.0 / (1.0 + np.exp(-m["steepness"] * a))
    active = p > 0.5
    bivalent = ~active & (rng.random(n) < m["bivalent"])
    weak = active & (rng.random(n) < m["weak_k4me3"])
    polycomb = (rng.random(n) < 0.55) | bivalent
    k9_target = ~polycomb & (rng.random(n) < 0.45) | (rng.random(n) < 0.1)

    def ln(sd):
        return np.exp(rng.normal(-0.5 * sd * sd, sd, n))

    amp = {
        "H3K4me3": 14.0 * (0.03 + 0.97 * p**1.5) * ln(0.5),
        "H3K4me1": 2.2 * (0.12 + 0.88 * p) * ln(0.5),
        "H3K36me3": 1.5 * (0.03 + 0.97 * p**2) * ln(0.5),
        "H3K27me3": 2.2 * (1.0 - p) ** 1.5 * polycomb * ln(0.5),
        "H3K9me3": 0.9 * (1.0 - p) * k9_target * ln(0.4),
    }
    amp["H3K4me3"] = np.where(bivalent, 14.0 * rng.uniform(0.2, 0.6, n), amp["H3K4me3"])
    amp["H3K4me3"] = np.where(weak, amp["H3K4me3"] * 0.12, amp["H3K4me3"])
    amp["H3K27me3"] = np.where(bivalent, 2.2 * rng.uniform(0.5, 1.0, n), amp["H3K27me3"])
    for mark in MARKS:  # fixed order: the random stream does not depend on the marks asked for
        drop = rng.random(n) < m["dropout"]
        amp[mark] = np.where(drop, amp[mark] * 0.1, amp[mark])
    width = {"H3K27me3": rng.uniform(2_000, 12_000, n), "H3K9me3": rng.uniform(5_000, 20_000, n)}
    return _Cell(rpkm=rpkm, state=p, amp=amp, width=width)


# --------------------------------------------------------------------------------------------------
# profiles


def _template(mark: str, d: np.ndarray, gene: np.ndarray, genes: _Genes, cell: _Cell) -> np.ndarray:
    """Shape of ``mark`` at downstream distance ``d`` (bp, + = towards the 3' end) from the TSS, peak 1."""
    if mark == "H3K4me3":
        f = np.exp(-0.5 * ((d - 400) / 550) ** 2) + 0.5 * np.exp(-0.5 * ((d + 300) / 400) ** 2)
        return f * (1 - 0.35 * np.exp(-0.5 * (d / 150) ** 2))
    if mark == "H3K4me1":
        side = np.where(d > 0, 1.1, 0.9)
        return side * np.exp(-0.5 * ((np.abs(d) - 1_600) / 700) ** 2)
    if mark == "H3K36me3":
        length = genes.length[gene].astype(np.float64)
        rise = 0.25 + 0.75 * np.clip(d / length, 0, 1)
        inside = 1 / (1 + np.exp(-(d - 800) / 200)) / (1 + np.exp((d - length) / 300))
        return rise * inside
    if mark == "H3K27me3":
        hw = cell.width[mark][gene]
        return 0.6 / (1 + np.exp((np.abs(d) - hw) / 1_000)) + 0.8 * np.exp(-0.5 * (d / 1_500) ** 2)
    if mark == "H3K9me3":
        hw = cell.width[mark][gene]
        return 1 / (1 + np.exp((np.abs(d) - hw) / 2_000))
    raise AssertionError(mark)


def _support(mark: str, genes: _Genes, cell: _Cell) -> tuple[np.ndarray, np.ndarray]:
    """Downstream-distance range [lo, hi] (bp) each gene's profile covers."""
    n = len(genes.tss)
    if mark == "H3K4me3":
        return np.full(n, -3_000.0), np.full(n, 3_500.0)
    if mark == "H3K4me1":
        return np.full(n, -4_500.0), np.full(n, 4_500.0)
    if mark == "H3K36me3":
        return np.zeros(n), genes.length + 1_500.0
    hw = cell.width[mark]
    pad = 4_000.0 if mark == "H3K27me3" else 8_000.0
    return -(hw + pad), hw + pad


def _expected(mark: str, genome: _Genome, genes: _Genes, cell: _Cell, rng: np.random.Generator) -> np.ndarray:
    """Expected read starts per GRID cell over the concatenated genome, float64 [cells]."""
    n_cells = genome.n_cells
    scale = GRID / 100.0
    # Background with regional (10 kb) variation.
    n_blocks = -(-n_cells // 200)
    regional = np.exp(rng.normal(-0.5 * 0.35**2, 0.35, n_blocks))
    lam = np.repeat(regional * _BACKGROUND[mark] * scale, 200)[:n_cells]

    # Gene-driven profiles.
    amp = cell.amp[mark]
    use = np.flatnonzero(amp > 1e-3)
    lo, hi = _support(mark, genes, cell)
    lo, hi = lo[use], hi[use]
    m = ((hi - lo) // GRID).astype(np.int64) + 1
    gene = np.repeat(use, m)
    k = np.arange(int(m.sum())) - np.repeat(np.cumsum(m) - m, m)
    d = np.repeat(lo, m) + k * GRID + GRID / 2
    pos = genes.tss[gene] + genes.strand[gene] * d
    size = genome.sizes[genes.chrom[gene]]
    ok = (pos >= 0) & (pos < size)
    value = amp[gene] * _template(mark, d, gene, genes, cell) * scale
    idx = genome.cell_offset[genes.chrom[gene]] + (pos // GRID).astype(np.int64)
    lam += np.bincount(idx[ok], weights=value[ok], minlength=n_cells)

    # Off-gene features: enhancer-like peaks (H3K4me1, some H3K4me3), domains (H3K27me3, H3K9me3).
    extra = {"H3K4me3": (1 / 400_000, 6.0, 500), "H3K4me1": (1 / 40_000, 2.0, 700),
             "H3K36me3": (1 / 400_000, 0.8, 4_000), "H3K27me3": (1 / 400_000, 1.2, 5_000),
             "H3K9me3": (1 / 250_000, 0.8, 6_000)}[mark]
    rate, height, sd = extra
    n_peaks = rng.poisson(n_cells * GRID * rate)
    centre = rng.integers(0, n_cells, n_peaks)
    half = int(3 * sd // GRID)
    offs = np.arange(-half, half + 1)
    cells = (centre[:, None] + offs[None, :]).ravel()
    heights = height * np.exp(rng.normal(-0.125, 0.5, n_peaks))
    vals = (heights[:, None] * np.exp(-0.5 * (offs * GRID / sd) ** 2)[None, :]).ravel() * scale
    ok = (cells >= 0) & (cells < n_cells)
    lam += np.bincount(cells[ok], weights=vals[ok], minlength=n_cells)

    # Nothing between chromosomes or in gaps.
    lam[_dead_cells(genome)] = 0.0
    return lam


def _dead_cells(genome: _Genome) -> np.ndarray:
    """bool [cells]: padding between chromosomes, cells past a chromosome's end and gap cells."""
    dead = np.ones(genome.n_cells, dtype=bool)
    for k, size in enumerate(genome.sizes):
        o = genome.cell_offset[k]
        dead[o : o + -(-int(size) // GRID)] = False
    for k, s, e in genome.gaps:
        o = genome.cell_offset[k]
        dead[o + s // GRID : o + -(-e // GRID)] = True
    return dead


# --------------------------------------------------------------------------------------------------
# writers


def _gzip_bytes(data: bytes, path: Path) -> None:
    """Write ``data`` gzip-compressed to ``path`` with no name and mtime 0 (byte-identical reruns)."""
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        with gzip.GzipFile(filename="", mode="wb", fileobj=fh, compresslevel=4, mtime=0) as gz:
            gz.write(data)


def _digits(values: np.ndarray, width: int) -> tuple[np.ndarray, np.ndarray]:
    """ASCII digits uint8 [n, width] of non-negative ints and a mask that drops leading zeros."""
    powers = 10 ** np.arange(width - 1, -1, -1, dtype=np.int64)
    d = (values[:, None] // powers[None, :]) % 10
    keep = np.cumsum(d != 0, axis=1) > 0
    keep[:, -1] = True
    return (d + 48).astype(np.uint8), keep


def _const(text: str, n: int) -> tuple[np.ndarray, np.ndarray]:
    b = np.frombuffer(text.encode(), dtype=np.uint8)
    return np.broadcast_to(b, (n, len(b))), np.ones((n, len(b)), dtype=bool)


def _tagalign_lines(chrom: str, starts: np.ndarray, strands: np.ndarray, width: int) -> bytes:
    """REMC tagAlign lines ``chrom start end N 1000 strand`` built without a Python loop."""
    n = len(starts)
    if n == 0:
        return b""
    s, ks = _digits(starts, width)
    e, ke = _digits(starts + READ_LENGTH, width)
    strand = np.where(strands > 0, ord("+"), ord("-")).astype(np.uint8)[:, None]
    parts = [_const(chrom + "\t", n), (s, ks), _const("\t", n), (e, ke), _const("\tN\t1000\t", n),
             (strand, np.ones((n, 1), dtype=bool)), _const("\n", n)]
    chars = np.concatenate([p[0] for p in parts], axis=1)
    keep = np.concatenate([p[1] for p in parts], axis=1)
    return chars[keep].tobytes()


def _sample_track(mark: str, genome: _Genome, genes: _Genes, cell: _Cell, rng: np.random.Generator):
    """Reads (global grid cell counts, per-chromosome sorted starts and strands) of one cell/mark."""
    lam = _expected(mark, genome, genes, cell, rng)
    k = _MODEL["overdispersion"]
    lam = lam * rng.gamma(k, 1.0 / k, lam.shape)
    counts = rng.poisson(lam)
    cell_of = np.repeat(np.arange(genome.n_cells, dtype=np.int64), counts)
    pos = cell_of * GRID + rng.integers(0, GRID, len(cell_of))
    pos.sort()
    strands = np.where(rng.random(len(pos)) < 0.5, 1, -1)
    reads = []
    for k_chrom, size in enumerate(genome.sizes):
        lo = genome.cell_offset[k_chrom] * GRID
        hi = genome.cell_offset[k_chrom + 1] * GRID
        a, b = np.searchsorted(pos, [lo, hi])
        start = pos[a:b] - lo
        ok = start + READ_LENGTH <= size
        reads.append((start[ok], strands[a:b][ok]))
    return reads


def _write_tagalign(path: Path, genome: _Genome, reads) -> None:
    width = len(str(int(genome.sizes.max())))
    chunks = [_tagalign_lines(c, s, st, width) for c, (s, st) in zip(genome.chroms, reads)]
    _gzip_bytes(b"".join(chunks), path)


def _write_bigwig(path: Path, mark: str, genome: _Genome, reads) -> None:
    """MACS2-like fold change: fragment pile-up per GRID cell / genome-wide background, pseudocount 1,
    rounded to 2 decimals and run-length merged into variable-width intervals; no data in gaps."""
    import pyBigWig

    dead = _dead_cells(genome)
    background = _BACKGROUND[mark] * FRAGMENT / 100.0  # expected fragments over one base
    kernel = np.ones(FRAGMENT // GRID)  # reads starting within one fragment length
    with atomic_path(path) as tmp:
        bw = pyBigWig.open(str(tmp), "w")
        try:
            bw.addHeader([(c, int(s)) for c, s in zip(genome.chroms, genome.sizes)], maxZooms=2)
            for k, (chrom, size) in enumerate(zip(genome.chroms, genome.sizes)):
                n = -(-int(size) // GRID)
                o = genome.cell_offset[k]
                counts = np.bincount(reads[k][0] // GRID, minlength=n)[:n].astype(np.float64)
                pileup = np.convolve(counts, kernel, mode="same")
                fc = np.round((pileup + 1.0) / (background + 1.0), 2)
                fc[dead[o : o + n]] = np.nan
                change = np.flatnonzero(
                    (fc[1:] != fc[:-1]) & ~(np.isnan(fc[1:]) & np.isnan(fc[:-1]))
                ) + 1
                first = np.concatenate([[0], change])
                last = np.concatenate([change, [n]])
                val = fc[first]
                keep = ~np.isnan(val)
                starts = first[keep] * GRID
                ends = np.minimum(last[keep] * GRID, int(size))
                if len(starts):
                    bw.addEntries(np.full(len(starts), chrom), starts.astype(np.int64), ends=ends.astype(np.int64),
                                  values=val[keep].astype(np.float64), validate=False)
        finally:
            bw.close()


def _write_gtf(path: Path, seed: int, genome: _Genome, genes: _Genes) -> None:
    rng = np.random.default_rng([seed, 4])
    n = len(genes.tss)
    n_exons = rng.integers(2, 9, n)
    lines = [
        "##description: synthetic GENCODE-style annotation made by deepchrome.demo "
        f"(seed {seed}; not real genes)",
        "##provider: deepchrome.demo",
        "##format: gtf",
    ]
    order = np.lexsort((genes.start, genes.chrom))
    for i in order:
        i = int(i)
        chrom = genome.chroms[genes.chrom[i]]
        strand = "+" if genes.strand[i] > 0 else "-"
        start, end = int(genes.start[i]), int(genes.end[i])
        gid, name = genes.gene_id(i), genes.name(i)
        tid = f"ENST9{genes.number[i]:010d}.{genes.version[i]}"
        common = f'gene_id "{gid}"; transcript_id "{tid}"; gene_type "{GENE_TYPE}"; gene_name "{name}"; ' \
                 f'transcript_type "{GENE_TYPE}"; transcript_name "{name}-201";'
        lines.append(f'{chrom}\tHAVANA\tgene\t{start}\t{end}\t.\t{strand}\t.\t'
                     f'gene_id "{gid}"; gene_type "{GENE_TYPE}"; gene_name "{name}"; level 2;')
        lines.append(f'{chrom}\tHAVANA\ttranscript\t{start}\t{end}\t.\t{strand}\t.\t{common} level 2; tag "basic";')
        # Exons: the first at the TSS, the last at the 3' end, the rest spread in between.
        length = end - start + 1
        k = int(min(n_exons[i], max(1, length // 700)))
        ex_len = rng.integers(80, 300, k)
        if k == 1:
            bounds = [(start, end)]
        else:
            slots = np.linspace(0, length - ex_len[-1], k).astype(np.int64)
            slots[1:-1] += rng.integers(-150, 150, k - 2)
            bounds = [(start + int(s), min(end, start + int(s) + int(e) - 1)) for s, e in zip(slots, ex_len)]
            bounds[-1] = (end - int(ex_len[-1]) + 1, end)
        if strand == "-":
            bounds = bounds[::-1]
        for j, (a, b) in enumerate(bounds, 1):
            eid = f"ENSE9{genes.number[i]:07d}{j:03d}.1"
            lines.append(f'{chrom}\tHAVANA\texon\t{a}\t{b}\t.\t{strand}\t.\t{common} exon_number {j}; '
                         f'exon_id "{eid}"; level 2; tag "basic";')
    _gzip_bytes(("\n".join(lines) + "\n").encode(), path)


def _write_rpkm(path: Path, genes: _Genes, cells: list[str], rpkm: dict[str, np.ndarray], missing: np.ndarray,
                trailing_tab: bool) -> None:
    keep = np.flatnonzero(~missing)
    ids = np.array([genes.gene_id(int(i), version=False) for i in keep])
    order = np.argsort(ids, kind="stable")
    table = np.column_stack([rpkm[c][keep] for c in cells])[order]
    end = "\t\n" if trailing_tab else "\n"
    out = io.StringIO()
    out.write("gene_id\t" + "\t".join(cells) + "\n")
    for gid, row in zip(ids[order], table):
        out.write(gid + "\t" + "\t".join(f"{v:.3f}" for v in row) + end)
    _gzip_bytes(out.getvalue().encode(), path)


_README = """\
DeepChrome demo data set (synthetic; made by `python -m deepchrome.demo`, seed {seed})
================================================================================
Not real data: a small look-alike of the Roadmap Epigenomics (REMC) files, in their formats.

chrom.sizes              chromosome<TAB>length ({n_chroms} chromosomes: {chroms})
genes.gtf.gz             GENCODE-style GTF, 1-based inclusive: gene, transcript and exon lines for
                         {n_genes} protein_coding genes; versioned IDs (ENSG9..........N). TSS = gene start
                         on '+', gene end on '-'. {n_near_end} genes have a TSS within {flank_kb:g} kb of a chromosome
                         end (their window does not fit: the workflow drops them); {n_overlap} pairs of
                         neighbouring windows overlap.
rpkm.tsv.gz              Roadmap 57epigenomes.RPKM.pc layout: gene_id (no version) then one column per cell
                         ({cells}), RPKM with 3 decimals.{trailing} {n_missing} genes of the
                         GTF are absent from the table (the workflow drops them).
{{cell}}-{{mark}}.tagAlign.gz REMC tagAlign: chrom start end N 1000 strand, 36 bp reads, 0-based half-open,
                         sorted by chromosome (chrom.sizes order) and start.
{{cell}}-{{mark}}.bigwig     fold-change-like signal: fragment (200 bp) pile-up of the same reads over the
                         genome-wide background, pseudocount 1, as variable-width intervals (50 bp grid);
                         unmappable gaps have no data.
demo.json                the numbers above, per-cell median RPKM and the fraction of genes above it.{hidden_text}

Marks: {marks}.
Label (DeepChrome): RPKM strictly greater than the cell's median over the genes with an RPKM value.
Model: per gene and cell a latent activity (shared part, a cell-specific program of ~8 % of the
genes, noise; about a quarter of the labels differ between two cells) drives both expression and
chromatin (H3K4me3 at active TSSs, H3K4me1 flanking them, H3K36me3 over active gene bodies on the
gene's strand, H3K27me3 / H3K9me3 domains over silent genes), with bivalent promoters, weak-H3K4me3
expressed genes, mark drop-out and background, so that a classifier on the 5 x 100 binned values
reaches a test AUC of about 0.85-0.92 (checked for seeds 0 and 1), not 1.
"""


# --------------------------------------------------------------------------------------------------
# the entry point


def make_demo(
    outdir: str | os.PathLike,
    *,
    cells=("cellA", "cellB", "cellC"),
    hidden=(),
    marks=MARKS,
    n_genes: int = 2400,
    n_chroms: int = 3,
    seed: int = 0,
    trailing_tab: bool = True,
    flank: int = 5000,
) -> dict[str, Path]:
    """Write the demo data set into ``outdir`` and return its files.

    Keys: ``chrom_sizes``, ``annotation`` (genes.gtf.gz), ``expression`` (rpkm.tsv.gz), ``readme``,
    ``info`` (demo.json: n_genes, n_near_chrom_end, n_missing_rpkm, ...), and per cell and mark
    ``signal:{cell}:{mark}`` ({cell}-{mark}.bigwig) and ``reads:{cell}:{mark}`` ({cell}-{mark}.tagAlign.gz).
    ``trailing_tab`` ends every RPKM data line with a tab, as the Roadmap file does. ``hidden`` cells get their
    marks like the others, but their expression goes to ``hidden_rpkm.tsv.gz`` (key ``hidden_expression``, same
    layout), which the workflow never reads: cells without RNA-seq, whose truth a test can still check.
    ``flank`` (bp): the window the workflow will cut around each TSS (its ``windows.flank``, passed by the demo
    rule), which says which genes lie near a chromosome end (kept out of the missing-RPKM draw, listed in
    demo.json) and which windows overlap. The same arguments give byte-identical files.
    """
    cells, hidden = [str(c) for c in cells], [str(c) for c in hidden]
    marks = [str(m) for m in marks]
    unknown = [m for m in marks if m not in MARKS]
    if unknown:
        raise DeepChromeError(None, f"the demo cannot make marks {unknown}", f"use marks from {list(MARKS)}")
    named = cells + hidden
    if not cells or len(set(named)) != len(named) or any(not c or "\t" in c or "/" in c for c in named):
        raise DeepChromeError(None, f"cell names {named} are empty, repeated or contain '/' or a tab",
                              "give distinct plain names, e.g. cellA,cellB")
    if n_chroms < 1 or n_genes < 3 * n_chroms:
        raise DeepChromeError(None, f"{n_genes} genes on {n_chroms} chromosomes is too few",
                              "ask for at least 3 genes per chromosome")
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)

    genome, genes = _layout(seed, n_genes, n_chroms)
    near = _near_end(genome, genes, flank)
    rng = np.random.default_rng([seed, 3])
    n_missing = max(3, n_genes // 200)
    missing = np.zeros(n_genes, dtype=bool)
    missing[rng.choice(np.flatnonzero(~near), n_missing, replace=False)] = True

    files: dict[str, Path] = {}
    files["chrom_sizes"] = outdir / "chrom.sizes"
    with atomic_path(files["chrom_sizes"]) as tmp:
        tmp.write_text("".join(f"{c}\t{s}\n" for c, s in zip(genome.chroms, genome.sizes)))
    files["annotation"] = outdir / "genes.gtf.gz"
    _write_gtf(files["annotation"], seed, genome, genes)

    shared = _shared(seed, n_genes)
    rpkm, medians, above = {}, {}, {}
    for cell in named:
        state = _cell(seed, cell, shared)
        rpkm[cell] = state.rpkm
        values = state.rpkm[~missing]
        medians[cell] = float(np.median(values))
        above[cell] = float(np.mean(values > medians[cell]))
        for mark in marks:
            track_rng = np.random.default_rng([seed, 5, _key(cell), _key(mark)])
            reads = _sample_track(mark, genome, genes, state, track_rng)
            files[f"reads:{cell}:{mark}"] = outdir / f"{cell}-{mark}.tagAlign.gz"
            _write_tagalign(files[f"reads:{cell}:{mark}"], genome, reads)
            files[f"signal:{cell}:{mark}"] = outdir / f"{cell}-{mark}.bigwig"
            _write_bigwig(files[f"signal:{cell}:{mark}"], mark, genome, reads)
    files["expression"] = outdir / "rpkm.tsv.gz"
    _write_rpkm(files["expression"], genes, cells, rpkm, missing, trailing_tab)
    if hidden:
        files["hidden_expression"] = outdir / "hidden_rpkm.tsv.gz"
        _write_rpkm(files["hidden_expression"], genes, hidden, rpkm, missing, trailing_tab)

    near_ids = sorted(genes.gene_id(int(i)) for i in np.flatnonzero(near))
    info = {
        "seed": seed,
        "n_genes": n_genes,
        "n_chroms": n_chroms,
        "chroms": genome.chroms,
        "cells": cells,
        "hidden_cells": hidden,
        "marks": marks,
        "n_near_chrom_end": int(near.sum()),
        "near_chrom_end_genes": near_ids,
        "n_missing_rpkm": int(missing.sum()),
        "missing_rpkm_genes": sorted(genes.gene_id(int(i)) for i in np.flatnonzero(missing)),
        "n_overlapping_window_pairs": _overlapping_windows(genome, genes, flank),
        "n_plus_strand": int((genes.strand > 0).sum()),
        "median_rpkm": medians,
        "fraction_above_median": above,
        "rpkm_trailing_tab": trailing_tab,
    }
    files["info"] = outdir / "demo.json"
    write_json(info, files["info"])
    files["readme"] = outdir / "README.txt"
    trailing = ("\n                         Every data line ends with an extra tab, as in the Roadmap file."
                if trailing_tab else "")
    text = _README.format(seed=seed, n_chroms=n_chroms, chroms=", ".join(genome.chroms), n_genes=n_genes,
                          n_near_end=info["n_near_chrom_end"], n_overlap=info["n_overlapping_window_pairs"],
                          cells=", ".join(cells), trailing=trailing, n_missing=info["n_missing_rpkm"],
                          hidden_text=(f"\nhidden_rpkm.tsv.gz       the same layout for {', '.join(hidden)}: cells "
                                       "without RNA-seq for the workflow, their truth for a test" if hidden else ""),
                          marks=", ".join(marks), flank_kb=flank / 1000)
    with atomic_path(files["readme"]) as tmp:
        tmp.write_text(text)
    return files


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m deepchrome.demo", description=__doc__.splitlines()[0])
    parser.add_argument("outdir", help="folder to write the demo files into")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--genes", type=int, default=2400, help="number of genes (default 2400)")
    parser.add_argument("--chroms", type=int, default=3, help="number of chromosomes (default 3)")
    parser.add_argument("--cells", default="cellA,cellB,cellC", help="comma-separated cell names")
    parser.add_argument("--flank", type=int, default=5000,
                        help="bp on each side of the TSS, the workflow's windows.flank (default 5000)")
    parser.add_argument("--no-trailing-tab", action="store_true", help="RPKM lines without the Roadmap extra tab")
    args = parser.parse_args(argv)
    try:
        files = make_demo(args.outdir, cells=[c.strip() for c in args.cells.split(",") if c.strip()],
                          n_genes=args.genes, n_chroms=args.chroms, seed=args.seed, flank=args.flank,
                          trailing_tab=not args.no_trailing_tab)
    except DeepChromeError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    print(f"wrote {len(files)} files to {args.outdir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
