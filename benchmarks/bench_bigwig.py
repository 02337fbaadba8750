"""Benchmark deepchrome.signal.bigwig_features on a genome-sized bigWig (prints figures; not a test).

Generates (seeded) a bigWig over the hg19 chromosome sizes with ~8 million variable-width
intervals (gaps between them) and 20,000 random TSSs, times ``bigwig_features`` and compares it
with the per-gene reference (pyBigWig ``values()`` with nan -> 0, reshaped and averaged).

Run on one core, as the target (< 5 s) is stated::

    OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 \\
        taskset -c 0 .venv/bin/python benchmarks/bench_bigwig.py [--out DIR] [--intervals N]

CPU seconds are printed beside wall seconds: on a shared machine wall time includes waiting.
"""

from __future__ import annotations

import argparse
import os

for _var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import resource  # noqa: E402
import shutil  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pyBigWig  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from deepchrome.signal import bigwig_features  # noqa: E402

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


def reference(path: Path, windows: pd.DataFrame) -> np.ndarray:
    bw = pyBigWig.open(str(path))
    out = np.zeros((len(windows), 100), dtype=np.float32)
    for i, (c, s, e) in enumerate(zip(windows["chrom"], windows["start"], windows["end"])):
        out[i] = np.nan_to_num(bw.values(c, int(s), int(e), numpy=True), nan=0.0).reshape(100, 100).mean(axis=1)
    bw.close()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", help="scratch folder (default: a temporary one); removed afterwards")
    ap.add_argument("--intervals", type=int, default=8_000_000)
    ap.add_argument("--genes", type=int, default=20_000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--no-reference", action="store_true", help="skip the slow per-gene reference")
    args = ap.parse_args()
    out = Path(args.out) if args.out else Path(tempfile.mkdtemp(prefix="bench_bigwig."))
    out.mkdir(parents=True, exist_ok=True)
    path = out / "bench.bw"
    try:
        sizes = chrom_sizes()
        t = time.perf_counter()
        n = write_bigwig(path, sizes, args.intervals, args.seed)
        print(f"generated {n:,} intervals over {len(sizes)} chromosomes in {time.perf_counter() - t:.1f} s "
              f"({path.stat().st_size / 1e6:.0f} MB)")
        windows = random_windows(sizes, args.genes, args.seed + 1)
        cpu, wall = time.process_time(), time.perf_counter()
        got = bigwig_features(path, windows)
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        print(f"bigwig_features: {len(windows):,} windows x 100 bins in {wall:.2f} s wall, {cpu:.2f} s CPU")
        print(f"peak RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
        if not args.no_reference:
            t = time.perf_counter()
            ref = reference(path, windows)
            print(f"reference (per-gene values()): {time.perf_counter() - t:.2f} s; "
                  f"max abs diff {np.abs(got - ref).max():.2e} (target <= 1e-5)")
    finally:
        path.unlink(missing_ok=True)
        if not args.out:
            shutil.rmtree(out, ignore_errors=True)


if __name__ == "__main__":
    main()
