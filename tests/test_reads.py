"""deepchrome.reads on small real files, counted by the real bedtools as the reference."""

from __future__ import annotations

import gzip
import shutil
import subprocess
import threading

import numpy as np
import pandas as pd
import pytest

import deepchrome.reads as reads_mod
from deepchrome.errors import DeepChromeError
from deepchrome.features import mark_features
from deepchrome.reads import read_features
from test_bigwig import write_bigwig
from deepchrome.bigwig import bigwig_features
from test_windows import BIN, N_BINS, SIZES, SPAN, WINDOWS, make_windows

BEDTOOLS = shutil.which("bedtools")
needs_bedtools = pytest.mark.skipif(BEDTOOLS is None, reason="bedtools not installed")

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


def count_bins(bins_path, reads_path, n_genes: int) -> np.ndarray:
    """``bedtools intersect -a bins -b reads -c`` over bins named ``{gene}_{bin}``, as a [genes, bins] array."""
    out = subprocess.run([BEDTOOLS, "intersect", "-a", str(bins_path), "-b", str(reads_path), "-c"],
                         check=True, capture_output=True, text=True).stdout
    counts = np.zeros((n_genes, N_BINS))
    for line in out.splitlines():
        f = line.split("\t")
        i, b = map(int, f[3].split("_"))
        counts[i, b] = int(f[4])
    return counts


def bedtools_counts(windows, reads_path, tmp_path) -> np.ndarray:
    """``bedtools intersect -a bins.bed -b reads -c`` as a [genes, bins] array."""
    bins_bed(windows, tmp_path / "bins.bed")
    return count_bins(tmp_path / "bins.bed", reads_path, len(windows))


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
    via_pysam.write_bytes(b"".join(reads_mod._bam_text_pysam(bam)))
    np.testing.assert_array_equal(read_features(via_pysam, WINDOWS, N_BINS, BIN)[valid], ref[valid])
    # a read across a bin edge counts in both bins
    assert ref[0, 0] >= 1 and ref[0, 1] >= 1


@needs_bedtools
def test_reads_many_blocks_headers_crlf_and_ensembl_names(tmp_path, monkeypatch):
    """Small blocks (many block borders), a header, CRLF line ends, no final newline, 1/MT names."""
    monkeypatch.setattr(reads_mod, "_BLOCK_BYTES", 4096)
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


@needs_bedtools
@pytest.mark.parametrize("gz,threads", [(False, 1), (True, 1), (True, 2)], ids=["plain", "gzip", "gzip-2-threads"])
def test_irregular_lines_count_like_bedtools_on_the_clean_file(tmp_path, monkeypatch, gz, threads):
    """Tiny blocks (cuts mid-line), blank lines, header lines anywhere (one with the file's column count),
    lines with other column counts, a CRLF line and no final newline: the reads count as bedtools counts
    the clean file. Reads of 1-2 mask blocks (1,024 bp) around windows test the early drop of far reads."""
    monkeypatch.setattr(reads_mod, "_BLOCK_BYTES", 2048)
    reads = make_reads(seed=3)
    w = WINDOWS.iloc[0]
    long = [(a, a + n) for n in (1023, 1024, 1025, 2047, 2048, 2049, 5000) for a in
            (w.start - n - 1, w.start - n, w.start - n + 1, w.end - 1, w.end, w.start + 1)]
    reads = pd.concat([reads, pd.DataFrame([("chr1", max(a, 0), b) for a, b in long], columns=reads.columns)])
    bed = tmp_path / "clean.bed"
    reads.to_csv(bed, sep="\t", header=False, index=False)
    ref = bedtools_counts(WINDOWS, bed, tmp_path)
    rng = np.random.default_rng(4)
    noise = ["", "#chrom\tstart\tend\tname\tscore\tstrand", "track name=reads", "browser position chr1:1-100", "   "]
    lines = []
    for k, (c, s, e) in enumerate(reads.itertuples(index=False)):
        if rng.random() < 0.01:
            lines.append(noise[rng.integers(len(noise))])
        six = f"{c}\t{s}\t{e}\tN\t1000\t{'+-'[k % 2]}" + "\tx" * (k % 503 == 5)  # some with a 7th column
        lines.append(f"{c}\t{s}\t{e}" if k % 701 == 3 else six)
    lines[len(lines) // 2] += "\r"
    text = ("\n".join(lines)).encode()  # no final newline
    path = tmp_path / ("noisy.bed.gz" if gz else "noisy.bed")
    path.write_bytes(gzip.compress(text) + b"\0" * 64 if gz else text)  # zero padding after the gzip member
    got = read_features(path, WINDOWS, N_BINS, BIN, threads=threads)
    valid = valid_bins(WINDOWS)
    np.testing.assert_array_equal(got[valid], ref[valid])


@pytest.mark.parametrize("bad,why", [("chr1\t-5\t10", "start/end are not non-negative"), ("chr1\t5", "fewer than 3"),
                                     ("chr1\t\t46", "start/end are not"), ("chr1\t50\t10", "end is before start"),
                                     ("chr1\t1e5\t100036", "start/end are not")])
def test_a_malformed_line_deep_in_the_file_is_named(tmp_path, monkeypatch, bad, why):
    """Line numbers count every line (blank and header lines too) across many blocks."""
    monkeypatch.setattr(reads_mod, "_BLOCK_BYTES", 4096)
    lines = [f"chr1\t{10 * k}\t{10 * k + 36}\tN\t1000\t+" for k in range(3000)]
    lines[99], lines[199] = "", "track name=reads"
    lines[2499] = bad
    path = tmp_path / "bad.tagAlign.gz"
    path.write_bytes(gzip.compress(("\n".join(lines) + "\n").encode()))
    for threads in (1, 2):
        running = threading.active_count()
        with pytest.raises(DeepChromeError, match=rf"bad.tagAlign.gz.*line 2500 is malformed \({why}"):
            read_features(path, WINDOWS, N_BINS, BIN, threads=threads)
        assert threading.active_count() == running  # the inflating thread has stopped


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
    for threads in (1, 2):  # inflated on this thread, or on a second one
        with pytest.raises(DeepChromeError, match=r"trunc.tagAlign.gz.*end-of-stream marker(.|\n)*download the file"):
            read_features(trunc, WINDOWS, N_BINS, BIN, threads=threads)
    not_gzip = tmp_path / "bad.tagAlign.gz"
    not_gzip.write_bytes(b"\x1f\x8b" + b"x" * 40)
    with pytest.raises(DeepChromeError, match=r"bad.tagAlign.gz.*could not be read as gzip"):
        read_features(not_gzip, WINDOWS, N_BINS, BIN)
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




@needs_bedtools
def test_bam_cut_in_half_is_an_error(tmp_path):
    """A BAM cut short lacks the BGZF end-of-file block; one with the block glued back on is caught by
    bedtools' read error on stderr (bedtools exits 0 on both)."""
    rng = np.random.default_rng(5)
    starts = np.sort(rng.integers(0, SIZES["chr1"] - 36, 60_000))
    bed6 = tmp_path / "reads.bed"
    bed6.write_text("".join(f"chr1\t{s}\t{s + 36}\tr{i}\t0\t+\n" for i, s in enumerate(starts.tolist())))
    genome = tmp_path / "genome.txt"
    genome.write_text("".join(f"{c}\t{n}\n" for c, n in SIZES.items()))
    bam = tmp_path / "whole.bam"
    with open(bam, "wb") as fh:
        subprocess.run([BEDTOOLS, "bedtobam", "-i", str(bed6), "-g", str(genome)], check=True, stdout=fh)
    assert read_features(bam, WINDOWS, N_BINS, BIN).sum() > 0
    data = bam.read_bytes()
    assert data.endswith(reads_mod.BAM_EOF)
    cut = tmp_path / "cut.bam"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(DeepChromeError, match=r"cut.bam.*end-of-file marker(.|\n)*again"):
        read_features(cut, WINDOWS, N_BINS, BIN)
    glued = tmp_path / "glued.bam"
    glued.write_bytes(data[: len(data) // 2] + reads_mod.BAM_EOF)
    with pytest.raises(DeepChromeError, match=r"glued.bam.*could not be read.*(Read block|EOF|\[E::)"):
        read_features(glued, WINDOWS, N_BINS, BIN)


@needs_bedtools
def test_reads_in_strand_order_follow_the_deeptools_windows(tmp_path):
    """bin_order strand: bin k of a '-' gene is [end + flank - (k+1)*bin, end + flank - k*bin) with end the GTF end
    (deepTools' reference-point bins), counted as bedtools does; '+' genes from start - flank upwards."""
    from deepchrome.annotation import build_windows

    genes = [("chr1", 5_001, 9_000, "+"), ("chr1", 12_000, 20_000, "-"), ("chr2", 3_000, 7_777, "-")]
    gtf = tmp_path / "g.gtf"
    gtf.write_text("".join(f'{c}\tT\tgene\t{s}\t{e}\t.\t{st}\t.\tgene_id "ENSG{i:011d}.1"; gene_type "x";\n'
                           for i, (c, s, e, st) in enumerate(genes)))
    sizes = tmp_path / "sizes"
    sizes.write_text("".join(f"{c}\t{n}\n" for c, n in SIZES.items()))
    flank = SPAN // 2
    windows = build_windows(gtf, sizes, flank=flank, bin_order="strand")
    reads = make_reads(seed=2)
    bed = tmp_path / "reads.bed"
    reads.to_csv(bed, sep="\t", header=False, index=False)
    got = mark_features(bed, windows, N_BINS, BIN, bin_order="strand")
    rows = []
    for i, (c, s, e, st) in enumerate(genes):  # GTF 1-based inclusive: 0-based start s - 1, end e
        for k in range(N_BINS):
            lo = s - 1 - flank + k * BIN if st == "+" else e + flank - (k + 1) * BIN
            rows.append(f"{c}\t{lo}\t{lo + BIN}\t{i}_{k}\n")
    (tmp_path / "bins.bed").write_text("".join(rows))
    want = count_bins(tmp_path / "bins.bed", bed, len(genes))
    order = [int(g[4:]) for g in windows["gene_id"]]
    np.testing.assert_array_equal(got, want[order])
    assert want.sum() > 0


def test_an_empty_reads_file_says_it_is_empty(tmp_path):
    """Finding 11 of the reliability issue: the message blamed the genome assembly."""
    windows = pd.DataFrame({"gene_id": ["g1"], "chrom": ["chr1"], "start": [1000], "end": [11000], "strand": ["+"]})
    for name, data in (("empty.tagAlign", b""), ("empty.tagAlign.gz", gzip.compress(b"")), ("blank.bed", b"\n\r\n"),
                       ("header.bed", b"track name=x\n#chrom\tstart\tend\n")):
        (tmp_path / name).write_bytes(data)
        with pytest.raises(DeepChromeError, match="holds no reads") as err:
            read_features(tmp_path / name, windows, n_bins=100, bin_size=100)
        assert "assembly" not in str(err.value)
