"""deepchrome.bigwig on small real files written with pyBigWig (and deepTools' computeMatrix as the reference)."""

from __future__ import annotations

import logging

import numpy as np
import pyBigWig
import pytest

from deepchrome.bigwig import bigwig_features
from deepchrome.errors import DeepChromeError
from deepchrome.features import mark_features
from test_windows import BIN, N_BINS, SIZES, SPAN, WINDOWS, make_windows

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
    with caplog.at_level(logging.INFO, logger="deepchrome.bigwig"):
        got = bigwig_features(path, WINDOWS, N_BINS, BIN)
    assert got.dtype == np.float32 and got.shape == (len(WINDOWS), N_BINS)
    np.testing.assert_allclose(got, reference_bigwig(path, WINDOWS), atol=1e-5)
    # window at the chr1 start: bins below 0 count 0; [0, 60) holds 1.5
    assert got[2, :4].sum() == 0 and got[2, 4] == pytest.approx(1.5) and got[2, 5] == pytest.approx(0.3)
    assert got[-1].sum() == 0  # chr3 is not in the file
    assert any("lack" in r.message and "chr3" in r.message for r in caplog.records)



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
    whole = tmp_path / "whole.bw"
    write_bigwig(whole)
    cut = tmp_path / "cut.bw"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])  # an interrupted download
    with pytest.raises(DeepChromeError, match="cut.bw") as err:
        bigwig_features(cut, WINDOWS, N_BINS, BIN)
    assert str(err.value).count("Fix:") == 1
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




def write_track(path, entries: list[tuple[str, int, int, float]]):
    bw = pyBigWig.open(str(path), "w")
    bw.addHeader(list(SIZES.items()))
    for c, s, e, v in entries:
        bw.addEntries([c], [s], ends=[e], values=[v])
    bw.close()


def test_nan_values_are_an_error_unless_allowed(tmp_path, caplog):
    """NaN in a bigWig: an error naming the file and the setting; under bigwig_nan: zero, 0 and counted."""
    path = tmp_path / "nan.bw"
    w = WINDOWS.iloc[0]
    write_track(path, [("chr1", int(w.start), int(w.start) + 50, 4.0), ("chr1", int(w.start) + 60, int(w.start) + 90,
                                                                         float("nan")), ("chr1", 30_000, 30_010, 1.0)])
    with pytest.raises(DeepChromeError, match=r"nan.bw.*NaN values(.|\n)*windows.bigwig_nan: zero"):
        bigwig_features(path, WINDOWS, N_BINS, BIN)
    with pytest.raises(DeepChromeError, match="windows.bigwig_nan"):
        mark_features(path, WINDOWS, N_BINS, BIN)
    with caplog.at_level(logging.WARNING, logger="deepchrome.bigwig"):
        got = mark_features(path, WINDOWS, N_BINS, BIN, bigwig_nan="zero")
    assert got[0, 0] == pytest.approx(4.0) and got[0, 1] == 0  # the NaN bases count as 0
    assert "30 NaN bases under the windows counted as 0" in caplog.text


def test_negative_signal_with_log1p_is_caught_at_the_features_step(tmp_path):
    """A log2 fold-change track (negative values) with the log1p transform: the file and the setting named."""
    path = tmp_path / "log2fc.bw"
    w = WINDOWS.iloc[0]
    write_track(path, [("chr1", int(w.start), int(w.start) + 100, -1.5), ("chr1", int(w.start) + 100, int(w.end), 0.5)])
    with pytest.raises(DeepChromeError, match=r"log2fc.bw.*negative signal in 1 gene window(.|\n)*cnn.params.transform"):
        mark_features(path, WINDOWS, N_BINS, BIN, transform="log1p")
    got = mark_features(path, WINDOWS, N_BINS, BIN, transform="none")
    assert got[0, :2] == pytest.approx([-1.5, -1.5])


@pytest.mark.slow  # runs the features' jobs in the workflow
def test_bad_values_stop_the_features_step(tmp_path, small_data):
    """Through the workflow (one run, --keep-going): a log2 fold-change track with the default preset's
    log1p, and a track with NaN values (the schema's default: error), each fail their mark's job naming
    the file and the setting to change; neither mark's features are written."""
    from conftest import own_config, snakemake

    sizes = [(c, int(n)) for c, n in (line.split("\t") for line in (small_data / "chrom.sizes").read_text().split("\n") if line)]
    tracks = {}
    for name, value in (("log2fc", -0.5), ("nan", float("nan"))):
        tracks[name] = tmp_path / f"{name}.bigwig"
        bw = pyBigWig.open(str(tracks[name]), "w")
        bw.addHeader(sizes)
        for c, n in sizes:
            bw.addEntries([c], [0], ends=[n], values=[value])
        bw.close()
    config = own_config(tmp_path, small_data, files={("cellB", "H3K27me3"): tracks["log2fc"],
                                                     ("cellC", "H3K27me3"): tracks["nan"]})
    targets = ["results/cellB/marks/H3K27me3.npy", "results/cellC/marks/H3K27me3.npy"]
    out = snakemake(*targets, "--keep-going", "--configfile", str(config), workdir=tmp_path)
    text = out.stdout + out.stderr
    assert out.returncode != 0, text[-3000:]
    for message in (f"{tracks['log2fc']}: negative signal", "cnn.params.transform: none",
                    f"{tracks['nan']}: the bigWig holds NaN values", "windows.bigwig_nan: zero"):
        assert message in text, text[-3000:]
    assert "Traceback" not in text
    assert not any((tmp_path / t).exists() for t in targets)


# ---------------------------------------------------------------------------------------------
# the file's header against the run's chromosome sizes; infinite and all-zero tracks

def write_sizes(path, sizes: dict[str, int]):
    path.write_text("".join(f"{c}\t{n}\n" for c, n in sizes.items()))
    return path


def test_header_of_another_build_is_one_error_naming_both_lengths(tmp_path, caplog):
    """A bigWig (and a BAM) whose header halves chr1: the file, the chromosome and both lengths; the setting
    that accepts it knowingly turns it into a warning."""
    import subprocess
    import shutil

    half = {**SIZES, "chr1": SIZES["chr1"] // 2}
    sizes = write_sizes(tmp_path / "hg.sizes", SIZES)
    bigwig = tmp_path / "other_build.bw"
    bw = pyBigWig.open(str(bigwig), "w")
    bw.addHeader(list(half.items()))
    bw.addEntries(["chr1"], [4_000], ends=[6_000], values=[2.0])
    bw.close()
    bed6 = tmp_path / "reads.bed"
    bed6.write_text("chr1\t5000\t5036\tr\t0\t+\n")
    bam = tmp_path / "other_build.bam"
    with open(bam, "wb") as fh:
        subprocess.run([shutil.which("bedtools"), "bedtobam", "-i", str(bed6), "-g",
                        str(write_sizes(tmp_path / "half.sizes", half))], check=True, stdout=fh)
    for path in (bigwig, bam):
        with pytest.raises(DeepChromeError) as err:
            mark_features(path, WINDOWS, N_BINS, BIN, chrom_sizes=sizes)
        text = str(err.value)
        assert text.startswith(f"{path}: its header gives other chromosome lengths than the chromosome sizes {sizes}")
        assert "1 of 3 shared chromosomes differ: chr1 30,000 bp in the file, 60,000 bp in chrom_sizes" in text
        assert "windows.length_mismatch: warn" in err.value.fix
        caplog.clear()
        with caplog.at_level(logging.WARNING):
            got = mark_features(path, WINDOWS, N_BINS, BIN, chrom_sizes=sizes, length_mismatch="warn")
        assert got[0].sum() > 0 and "chr1 30,000 bp in the file" in caplog.text and str(path) in caplog.text
    write_bigwig(tmp_path / "same.bw")  # the same build: no message
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        mark_features(tmp_path / "same.bw", WINDOWS, N_BINS, BIN, chrom_sizes=sizes)
    assert "other chromosome lengths" not in caplog.text


def test_infinite_values_stop_the_features_step(tmp_path):
    path = tmp_path / "inf.bw"
    w = WINDOWS.iloc[0]
    write_track(path, [("chr1", int(w.start), int(w.start) + 120, float("inf")), ("chr1", 30_000, 30_010, 1.0)])
    with pytest.raises(DeepChromeError, match=r"inf.bw: the bigWig holds infinite values: 3 bin\(s\) of 1 gene "
                                              r"window\(s\) are \+/-inf \(e.g. g0"):
        mark_features(path, WINDOWS, N_BINS, BIN)


def test_all_zero_track_is_a_warning_and_goes_on(tmp_path, caplog):
    path = tmp_path / "zero.bw"
    write_track(path, [("chr1", 0, 60_000, 0.0)])
    with caplog.at_level(logging.WARNING):
        got = mark_features(path, WINDOWS, N_BINS, BIN)
    assert not got.any() and f"{path}: every bin of all {len(WINDOWS)} gene windows is 0" in caplog.text
