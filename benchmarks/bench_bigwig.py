"""Benchmark bigWig features three ways in one run: deepchrome, pybigtools per gene, deepTools (prints figures).

Generates (seeded) a bigWig over the hg19 chromosome sizes with ~8 million variable-width
intervals (gaps between them) and 20,000 random TSSs on both strands, then times, on one core:

* deepchrome ``bigwig_features`` (then put in strand order);
* pybigtools 0.3.0 ``values(chrom, start, end, bins=100, exact=True)`` per gene, every option given
  (``summary="mean", uncovered=0.0, oob=0.0, fillna=0.0``: deepTools' ``--missingDataAsZero``);
* deepTools ``computeMatrix reference-point --referencePoint TSS -b 5000 -a 5000 --binSize 100
  --missingDataAsZero -p 1`` on a BED of the TSSs (``--deeptools PATH`` to its computeMatrix;
  default: the virtualenv tests/test_deeptools.py caches; skipped when absent),

and prints the times, their ratios and the largest differences between the three matrices.

    OMP_NUM_THREADS=1 taskset -c 0 .venv/bin/python benchmarks/bench_bigwig.py [--out DIR] [--intervals N]

CPU seconds are printed beside wall seconds: on a shared machine wall time includes waiting.
"""

from __future__ import annotations

import argparse
import glob
import gzip
import os

for _var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import resource  # noqa: E402
import shutil  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pyBigWig  # noqa: E402
import pybigtools  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from deepchrome.bigwig import bigwig_features  # noqa: E402
from deepchrome.windows import orient  # noqa: E402

SIZES_FILE = Path(__file__).resolve().parents[2] / "shared" / "data" / "roadmap" / "hg19.chrom.sizes"
HG19 = [("chr1", 249250621), ("chr2", 243199373), ("chr3", 198022430), ("chr4", 191154276),
        ("chr5", 180915260), ("chr6", 171115067), ("chr7", 159138663), ("chr8", 146364022),
        ("chr9", 141213431), ("chr10", 135534747), ("chr11", 135006516), ("chr12", 133851895),
        ("chr13", 115169878), ("chr14", 107349540), ("chr15", 102531392), ("chr16", 90354753),
        ("chr17", 81195210), ("chr18", 78077248), ("chr19", 59128983), ("chr20", 63025520),
        ("chr21", 48129895), ("chr22", 51304566), ("chrX", 155270560), ("chrY", 59373566),
        ("chrM", 16571)]


def chrom_sizes() -> list[tuple[str, int]]:
    if SIZES_FILE.exists():
        return [(c, int(n)) for c, n in (line.split()[:2] for line in SIZES_FILE.read_text().splitlines() if line)]
    return HG19


def write_bigwig(path: Path, sizes, n_intervals: int, seed: int) -> int:
    """Variable-width intervals (1 .. 1.2x the mean spacing) separated by random gaps."""
    rng = np.random.default_rng(seed)
    genome = sum(n for _, n in sizes)
    bw = pyBigWig.open(str(path), "w")
    bw.addHeader(sizes, maxZooms=10)
    total = 0
    for chrom, size in sizes:
        n = max(1, int(n_intervals * size / genome))
        mean = size / n
        width = rng.integers(1, max(2, int(mean * 1.2)), n)
        gap = rng.integers(0, int(mean * 0.8) + 1, n)
        start = np.cumsum(gap + width) - width
        keep = start + width <= size
        start, end = start[keep], (start + width)[keep]
        values = rng.random(len(start)) * 10
        bw.addEntries([chrom] * len(start), start.astype(np.int64), ends=end.astype(np.int64), values=values)
        total += len(start)
    bw.close()
    return total


def random_windows(sizes, n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    names = [c for c, _ in sizes]
    length = np.array([s for _, s in sizes], dtype=float)
    pick = rng.choice(len(names), n, p=length / length.sum())
    tss = rng.integers(5000, (length[pick] - 5000).astype(np.int64))
    return pd.DataFrame({"gene_id": [f"g{i}" for i in range(n)], "chrom": [names[i] for i in pick],
                         "start": tss - 5000, "end": tss + 5000, "strand": rng.choice(["+", "-"], n)})


def _cpu() -> float:
    """CPU seconds of this process and its finished children (deepTools runs as one)."""
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def timed(fn):
    """``(result, wall s, CPU s)`` of ``fn()``, subprocesses included."""
    cpu, wall = _cpu(), time.perf_counter()
    result = fn()
    return result, time.perf_counter() - wall, _cpu() - cpu


def pybigtools_per_gene(path: Path, windows: pd.DataFrame) -> np.ndarray:
    """The fastest per-gene reader we know: float64 [genes, 100], genome order."""
    bw = pybigtools.open(str(path))
    out = np.zeros((len(windows), 100))
    for i, (c, s, e) in enumerate(zip(windows["chrom"].tolist(), windows["start"].tolist(), windows["end"].tolist())):
        bw.values(c, s, e, bins=100, summary="mean", exact=True, uncovered=0.0, oob=0.0, fillna=0.0, arr=out[i])
    bw.close()
    return out


def deeptools(exe: str, path: Path, windows: pd.DataFrame, out: Path) -> np.ndarray:
    """computeMatrix reference-point on a BED whose reference point is each window's centre: [genes, 100], strand order."""
    centre = windows["start"].to_numpy() + 5000
    minus = windows["strand"].to_numpy() == "-"
    bed = pd.DataFrame({"chrom": windows["chrom"], "start": np.where(minus, centre - 1, centre),
                        "end": np.where(minus, centre, centre + 1), "name": np.arange(len(windows)), "score": 0,
                        "strand": windows["strand"]})
    bed.to_csv(out / "tss.bed", sep="\t", header=False, index=False)
    subprocess.run([exe, "reference-point", "--referencePoint", "TSS", "-b", "5000", "-a", "5000", "--binSize", "100",
                    "--missingDataAsZero", "-p", "1", "--sortRegions", "keep", "-R", str(out / "tss.bed"),
                    "-S", str(path), "-o", str(out / "m.gz")], check=True, capture_output=True)
    result = np.zeros((len(windows), 100))
    with gzip.open(out / "m.gz", "rt") as fh:
        for line in fh:
            if not line.startswith("@"):
                f = line.rstrip("\n").split("\t")
                result[int(f[3])] = np.array(f[6:], dtype=float)
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", help="scratch folder (default: a temporary one); removed afterwards")
    ap.add_argument("--intervals", type=int, default=8_000_000)
    ap.add_argument("--genes", type=int, default=20_000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--deeptools", help="computeMatrix to compare with (default: the tests' cached virtualenv)")
    args = ap.parse_args()
    exe = args.deeptools or next(iter(sorted(glob.glob(str(Path.home() / ".cache/deepchrome/deeptools-*/bin/computeMatrix")))), None)
    out = Path(args.out) if args.out else Path(tempfile.mkdtemp(prefix="bench_bigwig."))
    out.mkdir(parents=True, exist_ok=True)
    path = out / "bench.bw"
    try:
        sizes = chrom_sizes()
        t = time.perf_counter()
        n = write_bigwig(path, sizes, args.intervals, args.seed)
        print(f"generated {n:,} intervals over {len(sizes)} chromosomes in {time.perf_counter() - t:.1f} s "
              f"({path.stat().st_size / 1e6:.0f} MB); {args.genes:,} windows x 100 bins")
        windows = random_windows(sizes, args.genes, args.seed + 1)
        strands = windows["strand"].to_numpy()
        path.read_bytes()  # the file in the page cache for every reader (the first would pay for it)
        ours, wall, cpu = timed(lambda: orient(bigwig_features(path, windows), strands, "strand"))
        rows = [("deepchrome bigwig_features", wall, cpu)]
        pbt, wall, cpu = timed(lambda: orient(pybigtools_per_gene(path, windows), strands, "strand"))
        rows.append(("pybigtools 0.3.0 values(bins=100, exact=True) per gene", wall, cpu))
        diffs = [f"ours vs pybigtools {np.abs(ours - pbt).max():.1e}"]
        if exe:
            dt, wall, cpu = timed(lambda: deeptools(exe, path, windows, out))
            rows.append(("deepTools 3.5.6 computeMatrix -p 1", wall, cpu))
            diffs.append(f"ours vs deepTools {np.abs(ours - dt).max():.1e} (target <= 1e-5)")
        else:
            print("deepTools not found (run tests/test_deeptools.py once, or pass --deeptools): skipped")
        print(f"peak RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
        print("| reader | wall s | CPU s | wall / deepchrome | CPU / deepchrome |\n|---|---|---|---|---|")
        for name, wall, cpu in rows:
            print(f"| {name} | {wall:.2f} | {cpu:.2f} | {wall / rows[0][1]:.2f} | {cpu / rows[0][2]:.2f} |")
        print("largest differences: " + "; ".join(diffs))
    finally:
        path.unlink(missing_ok=True)
        if not args.out:
            shutil.rmtree(out, ignore_errors=True)


if __name__ == "__main__":
    main()
