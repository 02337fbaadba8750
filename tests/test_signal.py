"""deepchrome.signal on small real files: bigWigs written with pyBigWig, reads counted by the real bedtools."""

from __future__ import annotations

import gzip
import logging
import shutil
import subprocess

import numpy as np
import pandas as pd
import pyBigWig
import pytest

import deepchrome.signal as sig
from deepchrome.errors import DeepChromeError
from deepchrome.signal import bigwig_features, mark_features, orient, read_features

N_BINS, BIN = 20, 50  # small windows keep the files tiny; the code paths are the same as 100 x 100
SPAN = N_BINS * BIN
SIZES = {"chr1": 60_000, "chr2": 30_000, "chrM": 16_000}
BEDTOOLS = shutil.which("bedtools")
needs_bedtools = pytest.mark.skipif(BEDTOOLS is None, reason="bedtools not installed")


def make_windows(tss: list[tuple[str, int, str]]) -> pd.DataFrame:
    return pd.DataFrame({
        "gene_id": [f"g{i}" for i in range(len(tss))],
        "chrom": [c for c, _, _ in tss],
        "start": [t - SPAN // 2 for _, t, _ in tss],
        "end": [t + SPAN // 2 for _, t, _ in tss],
        "strand": [s for _, _, s in tss],
    })


# Windows: two overlapping genes (chr1 5000/5300), one at the chromosome start (bins partly < 0),
# one at the chromosome end, far-apart ones (separate bigWig fetches), chrM, and a chromosome
# (chr3) that no file has.
WINDOWS = make_windows([
    ("chr1", 5000, "+"), ("chr1", 5300, "-"), ("chr1", 300, "+"), ("chr1", 59_800, "-"),
    ("chr1", 20_000, "+"), ("chr1", 45_000, "."), ("chr2", 10_000, "-"), ("chr2", 29_500, "+"),
    ("chrM", 8_000, "+"), ("chr3", 1_000, "+"),
])


# ---------------------------------------------------------------------------------------------
# bigWig


def write_bigwig(path, rename=lambda c: c, seed=0):
    """Variable-width entries with gaps, edges crossing bin borders, one 150 kb-spanning interval."""
    rng = np.random.default_rng(seed)
    bw = pyBigWig.open(str(path), "w")
    bw.addHeader([(rename(c), n) for c, n in SIZES.items()])
    for c, n in SIZES.items():
        if c == "chr1":  # one long interval that two separate fetches both return
            s = [0, 100, 4_000]
            e = [60, 3_000, 60_000]
            v = [1.5, 0.25, 2.0]
            starts, ends, vals = np.array(s), np.array(e), np.array(v)
            bw.addEntries([rename(c)] * 3, starts, ends=ends, values=vals)
            continue
        widths = rng.integers(1, 90, 2_000)
        gaps = rng.integers(0, 40, 2_000)
        starts = np.cumsum(gaps + widths) - widths
        keep = starts + widths <= n
        starts, ends = starts[keep], (starts + widths)[keep]
        vals = rng.random(len(starts)) * 10
        bw.addEntries([rename(c)] * len(starts), starts.astype(np.int64), ends=ends.astype(np.int64),
                      values=vals.astype(np.float64))
    bw.close()


def reference_bigwig(path, windows, rename=lambda c: c):
    """Per gene: values() with nan -> 0 (and 0 outside the chromosome), reshaped and averaged."""
    bw = pyBigWig.open(str(path))
    sizes = bw.chroms()
    out = np.zeros((len(windows), N_BINS), dtype=np.float64)
    for i, w in enumerate(windows.itertuples()):
        c = rename(w.chrom)
        if c not in sizes:
            continue
        row = np.zeros(SPAN)
        a, b = max(0, w.start), min(sizes[c], w.end)
        row[a - w.start:b - w.start] = np.nan_to_num(np.array(bw.values(c, a, b)), nan=0.0)
        out[i] = row.reshape(N_BINS, BIN).mean(axis=1)
    bw.close()
    return out


def test_bigwig_matches_per_gene_values(tmp_path, caplog):
    path = tmp_path / "s.bw"
    write_bigwig(path)
    with caplog.at_level(logging.INFO, logger="deepchrome.signal"):
        got = bigwig_features(path, WINDOWS, N_BINS, BIN)
    assert got.dtype == np.float32 and got.shape == (len(WINDOWS), N_BINS)
    np.testing.assert_allclose(got, reference_bigwig(path, WINDOWS), atol=1e-5)
    # window at the chr1 start: bins below 0 count 0; [0, 60) holds 1.5
    assert got[2, :4].sum() == 0 and got[2, 4] == pytest.approx(1.5) and got[2, 5] == pytest.approx(0.3)
    assert got[-1].sum() == 0  # chr3 is not in the file
    assert any("lack" in r.message and "chr3" in r.message for r in caplog.records)


def test_bigwig_separate_fetches(tmp_path, monkeypatch):
    """One fetch per window: the 56 kb interval comes back from several fetches, counted once."""
    path = tmp_path / "s.bw"
    write_bigwig(path)
    monkeypatch.setattr(sig, "_FIRST_GAP", 0)
    got = bigwig_features(path, WINDOWS, N_BINS, BIN)
    np.testing.assert_allclose(got, reference_bigwig(path, WINDOWS), atol=1e-5)
    assert got[4] == pytest.approx(np.full(N_BINS, 2.0))


def test_bigwig_many_windows_and_merging(tmp_path):
    """Dense random windows (merged fetches) on a fine random track."""
    path = tmp_path / "s.bw"
    write_bigwig(path, seed=3)
    rng = np.random.default_rng(4)
    tss = [("chr2", int(t), "+") for t in rng.integers(600, 29_400, 300)]
    windows = make_windows(tss)
    np.testing.assert_allclose(bigwig_features(path, windows, N_BINS, BIN), reference_bigwig(path, windows),
                               atol=1e-5)


def test_bigwig_chromosome_names_are_matched(tmp_path):
    ens = {"chr1": "1", "chr2": "2", "chrM": "MT"}
    path = tmp_path / "ensembl.bw"
    write_bigwig(path, rename=lambda c: ens[c])
    ucsc = tmp_path / "ucsc.bw"
    write_bigwig(ucsc)
    got = bigwig_features(path, WINDOWS, N_BINS, BIN)
    np.testing.assert_allclose(got, bigwig_features(ucsc, WINDOWS, N_BINS, BIN), atol=1e-6)
    assert got[8].sum() > 0  # chrM <-> MT
    # and the other way round: windows named 1, 2 on a chr-named file
    windows = WINDOWS.assign(chrom=WINDOWS["chrom"].map(lambda c: ens.get(c, c)))
    np.testing.assert_allclose(bigwig_features(ucsc, windows, N_BINS, BIN), got, atol=1e-6)


def test_bigwig_errors(tmp_path):
    with pytest.raises(DeepChromeError, match="missing.bw.*not found"):
        bigwig_features(tmp_path / "missing.bw", WINDOWS, N_BINS, BIN)
    fake = tmp_path / "fake.bw"
    fake.write_text("chr1\t0\t100\t1.0\n")
    with pytest.raises(DeepChromeError, match="fake.bw.*not a bigWig") as err:
        bigwig_features(fake, WINDOWS, N_BINS, BIN)
    assert "Fix:" in str(err.value)
    with pytest.raises(DeepChromeError, match="fake.bw.*not a bigWig"):
        mark_features(fake, WINDOWS, N_BINS, BIN)
    other = tmp_path / "other.bw"
    bw = pyBigWig.open(str(other), "w")
    bw.addHeader([("scaffold_1", 10_000)])
    bw.addEntries(["scaffold_1"], [0], ends=[100], values=[1.0])
    bw.close()
    with pytest.raises(DeepChromeError, match=r"other.bw.*no chromosome in common.*chr1.*scaffold_1"):
        bigwig_features(other, WINDOWS, N_BINS, BIN)


def test_windows_must_have_the_stated_length(tmp_path):
    path = tmp_path / "s.bw"
    write_bigwig(path)
    bad = WINDOWS.copy()
    bad.loc[0, "end"] += 1
    with pytest.raises(DeepChromeError, match="not 20 x 50"):
        bigwig_features(path, bad, N_BINS, BIN)


# ---------------------------------------------------------------------------------------------
# reads


def make_reads(seed=0) -> pd.DataFrame:
    """Random reads plus reads at bin and window edges (36 bp like REMC, some longer ones)."""
    rng = np.random.default_rng(seed)
    rows = []
    for c, n in SIZES.items():
        st = rng.integers(0, n - 36, 3_000)
        ln = np.where(rng.random(3_000) < 0.9, 36, rng.integers(1, 400, 3_000))
        rows += [(c, int(a), int(min(a + b, n))) for a, b in zip(st, ln)]
    w = WINDOWS.iloc[0]
    edge = [w.start - 36, w.start - 35, w.start - 1, w.start, w.end - 1, w.end, w.start + BIN - 1,
            w.start + BIN, w.start + BIN - 36, w.start + BIN - 35]
    rows += [("chr1", int(a), int(a) + 36) for a in edge]
    rows += [("chr1", 4_000, 6_500), ("chr1", 0, 1), ("chr2", 29_964, 30_000)]
    rows += [("chrUn_gl000220", 10, 46), ("chr17_gl000205_random", 10, 46)]  # long names, no windows
    order = rng.permutation(len(rows))  # unsorted, as the code must not rely on order
    return pd.DataFrame([rows[i] for i in order], columns=["chrom", "start", "end"])


def bins_bed(windows, path):
    rows = []
    for i, w in enumerate(windows.itertuples()):
        for b in range(N_BINS):
            s = w.start + b * BIN
            if s >= 0:
                rows.append((w.chrom, s, s + BIN, f"{i}_{b}"))
    pd.DataFrame(rows).to_csv(path, sep="\t", header=False, index=False)


def bedtools_counts(windows, reads_path, tmp_path) -> np.ndarray:
    """``bedtools intersect -a bins.bed -b reads -c`` as a [genes, bins] array."""
    bins_bed(windows, tmp_path / "bins.bed")
    out = subprocess.run([BEDTOOLS, "intersect", "-a", str(tmp_path / "bins.bed"), "-b", str(reads_path), "-c"],
                         check=True, capture_output=True, text=True).stdout
    counts = np.zeros((len(windows), N_BINS))
    for line in out.splitlines():
        f = line.split("\t")
        i, b = map(int, f[3].split("_"))
        counts[i, b] = int(f[4])
    return counts


def write_tagalign(reads: pd.DataFrame, path, gz: bool):
    text = "".join(f"{c}\t{s}\t{e}\tN\t1000\t{'+-'[k % 2]}\n" for k, (c, s, e) in enumerate(reads.itertuples(index=False)))
    (gzip.open(path, "wt") if gz else open(path, "w")).write(text)


def valid_bins(windows) -> np.ndarray:
    return (windows["start"].to_numpy()[:, None] + np.arange(N_BINS) * BIN) >= 0


@needs_bedtools
def test_reads_match_bedtools_tagalign_bed_and_bam(tmp_path):
    reads = make_reads()
    bed = tmp_path / "reads.bed"
    reads.to_csv(bed, sep="\t", header=False, index=False)
    ref = bedtools_counts(WINDOWS, bed, tmp_path)
    assert ref[:2].sum() > 0 and ref[0].min() > 0  # overlapping genes both see reads
    valid = valid_bins(WINDOWS)
    tag = tmp_path / "reads.tagAlign.gz"
    write_tagalign(reads, tag, gz=True)
    genome = tmp_path / "genome.txt"
    genome.write_text("".join(f"{c}\t{n}\n" for c, n in {**SIZES, "chrUn_gl000220": 1000,
                                                         "chr17_gl000205_random": 1000}.items()))
    bam = tmp_path / "reads.bam"
    bed6 = tmp_path / "reads6.bed"  # bedtobam wants names and strands
    reads.assign(name="r", score=0, strand="+").to_csv(bed6, sep="\t", header=False, index=False)
    with open(bam, "wb") as fh:
        subprocess.run([BEDTOOLS, "bedtobam", "-i", str(bed6), "-g", str(genome)], check=True, stdout=fh)
    for path in (bed, tag, bam):
        got = read_features(path, WINDOWS, N_BINS, BIN)
        assert got.dtype == np.float32 and got.shape == (len(WINDOWS), N_BINS)
        np.testing.assert_array_equal(got[valid], ref[valid], err_msg=str(path))
        assert got[-1].sum() == 0  # chr3: no reads file has it
    # the pysam path (used when bedtools is absent) gives the same reads
    via_pysam = tmp_path / "pysam.bed"
    via_pysam.write_bytes(b"".join(sig._bam_text_pysam(bam)))
    np.testing.assert_array_equal(read_features(via_pysam, WINDOWS, N_BINS, BIN)[valid], ref[valid])
    # a read across a bin edge counts in both bins
    assert ref[0, 0] >= 1 and ref[0, 1] >= 1


@needs_bedtools
def test_reads_many_blocks_headers_crlf_and_ensembl_names(tmp_path, monkeypatch):
    """Small blocks (many block borders), a header, CRLF line ends, no final newline, 1/MT names."""
    monkeypatch.setattr(sig, "_BLOCK_BYTES", 4096)
    reads = make_reads(seed=1)
    bed = tmp_path / "reads.bed"
    reads.to_csv(bed, sep="\t", header=False, index=False)
    ref = bedtools_counts(WINDOWS, bed, tmp_path)
    ens = reads.assign(chrom=reads["chrom"].replace({"chr1": "1", "chr2": "2", "chrM": "MT"}))
    text = "track name=reads\r\n" + "".join(f"{c}\t{s}\t{e}\r\n" for c, s, e in ens.itertuples(index=False))
    path = tmp_path / "ens.bed.gz"
    with gzip.open(path, "wb") as fh:  # two gzip members, as bgzip or `cat a.gz b.gz` write
        half = len(text) // 2
        fh.write(text[:half].encode())
    with gzip.open(tmp_path / "b.gz", "wb") as fh:
        fh.write(text[half:].rstrip("\r\n").encode())
    path.write_bytes(path.read_bytes() + (tmp_path / "b.gz").read_bytes())
    got = read_features(path, WINDOWS, N_BINS, BIN)
    valid = valid_bins(WINDOWS)
    np.testing.assert_array_equal(got[valid], ref[valid])


def test_reads_counting_by_hand(tmp_path):
    """Half-open overlap: a read ending at a bin start does not count; one base in does."""
    windows = make_windows([("chr1", 1_000, "+"), ("chr1", 1_025, "-")])  # overlapping genes
    w0 = windows.start[0]
    reads = [(w0 - 36, w0), (w0 - 35, w0 + 1), (w0 + BIN - 1, w0 + BIN + 35), (w0 + SPAN, w0 + SPAN + 36)]
    path = tmp_path / "r.tagAlign"
    path.write_text("".join(f"chr1\t{a}\t{b}\tN\t1000\t+\n" for a, b in reads))
    got = read_features(path, windows, N_BINS, BIN)
    want = np.zeros(N_BINS)
    want[0] = 2  # second and third read
    want[1] = 1  # third read crosses into bin 1
    np.testing.assert_array_equal(got[0], want)
    # gene 2 (shifted 25 bp) counts the same reads independently
    want2 = np.zeros(N_BINS)
    want2[[0, 1, N_BINS - 1]] = 1
    np.testing.assert_array_equal(got[1], want2)


@pytest.mark.parametrize("name,text,message", [
    ("bad.bed", "chr1\t10\t46\nchr1\t1O0\t136\n", r"bad.bed.*line 2 is malformed.*1O0"),
    ("short.bed", "chr1\t10\t46\nchr1 10 46\n", r"short.bed.*line 2.*fewer than 3"),
    ("rev.bed", "chr1\t50\t10\n", r"rev.bed.*line 1.*end is before start"),
    ("other.tagAlign", "scaffold_9\t10\t46\tN\t1000\t+\n", r"other.tagAlign.*no chromosome in common.*scaffold_9"),
])
def test_malformed_reads_files(tmp_path, name, text, message):
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(DeepChromeError, match=message):
        read_features(path, WINDOWS, N_BINS, BIN)


def test_reads_errors(tmp_path):
    with pytest.raises(DeepChromeError, match="nope.tagAlign.gz.*not found"):
        read_features(tmp_path / "nope.tagAlign.gz", WINDOWS, N_BINS, BIN)
    trunc = tmp_path / "trunc.tagAlign.gz"
    whole = gzip.compress(b"chr1\t10\t46\tN\t1000\t+\n" * 5000)
    trunc.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(DeepChromeError, match="trunc.tagAlign.gz"):
        read_features(trunc, WINDOWS, N_BINS, BIN)
    unknown = tmp_path / "reads.txt"
    unknown.write_text("chr1\t10\t46\n")
    with pytest.raises(DeepChromeError, match="reads.txt.*unknown file type"):
        mark_features(unknown, WINDOWS, N_BINS, BIN)


def test_mark_features_dispatch(tmp_path):
    bw = tmp_path / "sig.bigWig"
    write_bigwig(bw)
    np.testing.assert_allclose(mark_features(bw, WINDOWS, N_BINS, BIN), bigwig_features(bw, WINDOWS, N_BINS, BIN))
    tag = tmp_path / "r.tagAlign.gz"
    write_tagalign(make_reads(), tag, gz=True)
    np.testing.assert_array_equal(mark_features(tag, WINDOWS, N_BINS, BIN), read_features(tag, WINDOWS, N_BINS, BIN))


# ---------------------------------------------------------------------------------------------
# orientation


def test_orient():
    x = np.arange(12, dtype=np.float32).reshape(3, 4)
    strands = np.array(["+", "-", "."])
    assert orient(x, strands, "genome") is x
    got = orient(x, strands, "strand")
    np.testing.assert_array_equal(got[0], x[0])
    np.testing.assert_array_equal(got[1], x[1, ::-1])
    np.testing.assert_array_equal(got[2], x[2])
    x3 = np.arange(24, dtype=np.float32).reshape(3, 2, 4)
    got3 = orient(x3, strands, "strand")
    np.testing.assert_array_equal(got3[1], x3[1, :, ::-1])
    np.testing.assert_array_equal(got3[[0, 2]], x3[[0, 2]])
    assert x[1, 0] == 4  # input untouched
    with pytest.raises(DeepChromeError, match="bin order"):
        orient(x, strands, "upstream")
