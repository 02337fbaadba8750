"""Benchmark deepchrome.reads.read_features on a REMC-sized tagAlign.gz against bedtools (prints figures; not a test).

Generates (seeded) ``--reads`` 36 bp reads (default 30 million) spread over the hg19 chromosome
sizes, sorted, as a gzip tagAlign, and the 19,802 paper windows (TSS = start + 10000 of
data/roadmap/deepchrome_genes_hg19_tss_pm10kb.bed when present, else random TSSs); times
``read_features`` in a fresh child process (its peak RSS is the whole process's, imports
included) and, in the same run, ``bedtools intersect -c -sorted``; checks that the counts are
equal and prints the ratios. Target: <= 0.67x bedtools' wall time, <= 500 MB peak RSS.

    .venv/bin/python benchmarks/bench_reads.py [--reads N] [--out DIR]

read_features inflates gzip (ISA-L) on a second thread, so it uses up to two cores; CPU seconds
are printed beside wall seconds (on a shared machine wall includes waiting).
"""

from __future__ import annotations

import argparse
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

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_bigwig import chrom_sizes, random_windows  # noqa: E402

from deepchrome.reads import read_features  # noqa: E402

GENES = Path(__file__).resolve().parents[2] / "shared" / "data" / "roadmap" / "deepchrome_genes_hg19_tss_pm10kb.bed"
READ_LEN = 36


def decimal(x: np.ndarray, width: int = 10) -> np.ndarray:
    """Integers as right-aligned ASCII digits [n, width]; leading positions 0 (dropped later)."""
    out = np.zeros((len(x), width), dtype=np.uint8)
    y = x.astype(np.int64)
    for k in range(width - 1, -1, -1):
        out[:, k] = 48 + y % 10
        y //= 10
    n_digits = np.floor(np.log10(np.maximum(x, 1))).astype(int) + 1
    out[np.arange(width)[None, :] < (width - n_digits)[:, None]] = 0
    return out


def write_tagalign(path: Path, sizes, n_reads: int, seed: int) -> None:
    """Sorted random 36 bp reads, text built with numpy, compressed by `gzip -1` in a subprocess."""
    rng = np.random.default_rng(seed)
    genome = sum(n for _, n in sizes)
    tail = np.frombuffer(b"\tN\t1000\t", dtype=np.uint8)
    with open(path, "wb") as fh:
        gz = subprocess.Popen(["gzip", "-1", "-c"], stdin=subprocess.PIPE, stdout=fh)
        for chrom, size in sizes:
            starts = np.sort(rng.integers(0, size - READ_LEN, int(round(n_reads * size / genome))))
            head = np.frombuffer(chrom.encode() + b"\t", dtype=np.uint8)
            for a in range(0, len(starts), 2_000_000):
                s = starts[a:a + 2_000_000]
                m = len(s)
                strand = np.where(rng.random((m, 1)) < 0.5, ord("+"), ord("-")).astype(np.uint8)
                rows = np.concatenate([np.broadcast_to(head, (m, len(head))), decimal(s), np.full((m, 1), 9, np.uint8),
                                       decimal(s + READ_LEN), np.broadcast_to(tail, (m, len(tail))), strand,
                                       np.full((m, 1), 10, np.uint8)], axis=1).ravel()
                gz.stdin.write(rows[rows != 0].tobytes())
        gz.stdin.close()
        if gz.wait() != 0:
            raise SystemExit("gzip failed")


def paper_windows(sizes, seed: int) -> pd.DataFrame:
    if not GENES.exists():
        print(f"{GENES} not found: 19,802 random TSSs instead")
        return random_windows(sizes, 19_802, seed)
    genes = pd.read_csv(GENES, sep="\t", header=None, usecols=[0, 1, 3], names=["chrom", "start", "name"])
    tss = genes["start"] + 10_000
    return pd.DataFrame({"gene_id": genes["name"], "chrom": genes["chrom"], "start": tss - 5000,
                         "end": tss + 5000, "strand": "+"})


def bedtools_counts(windows: pd.DataFrame, reads: Path, sizes, out: Path) -> tuple[np.ndarray, float, float]:
    """`bedtools intersect -a bins -b reads -c -sorted -g genome` (bins sorted like the reads)."""
    order = {c: i for i, (c, _) in enumerate(sizes)}
    starts = windows["start"].to_numpy()[:, None] + np.arange(100) * 100
    bins = pd.DataFrame({"chrom": np.repeat(windows["chrom"].to_numpy(), 100), "start": starts.ravel(),
                         "end": starts.ravel() + 100, "id": np.arange(starts.size)})
    bins = bins[bins["start"] >= 0]
    bins = bins.assign(k=bins["chrom"].map(order)).sort_values(["k", "start", "end"]).drop(columns="k")
    bins.to_csv(out / "bins.bed", sep="\t", header=False, index=False)
    (out / "genome.txt").write_text("".join(f"{c}\t{n}\n" for c, n in sizes))
    t, cpu = time.perf_counter(), resource.getrusage(resource.RUSAGE_CHILDREN)
    res = subprocess.run(["bedtools", "intersect", "-a", str(out / "bins.bed"), "-b", str(reads), "-c", "-sorted",
                          "-g", str(out / "genome.txt")], check=True, capture_output=True)
    seconds = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu_seconds = after.ru_utime + after.ru_stime - cpu.ru_utime - cpu.ru_stime
    table = pd.read_csv(pd.io.common.BytesIO(res.stdout), sep="\t", header=None, usecols=[3, 4])
    counts = np.zeros(starts.size)
    counts[table[3].to_numpy()] = table[4].to_numpy()
    return counts.reshape(starts.shape), seconds, cpu_seconds


def parser_comparison(reads: Path, windows: pd.DataFrame, n_lines: int = 1_000_000) -> str:
    """CPU seconds to parse the first ``n_lines`` lines: our block parser vs pandas' C parser (best of 3)."""
    import gzip
    import io

    import deepchrome.reads as R
    from deepchrome.windows import prepare_windows

    with gzip.open(reads, "rb") as fh:
        text = b"".join(fh.readline() for _ in range(n_lines))
    chrom, start = prepare_windows(windows, 100, 100)

    def ours():
        counter = R._ReadCounter(chrom, start, 100, 100)
        counter.add = lambda *a: None  # parsing only
        block = b"\n" * R._PAD + text + b"\0" * R._TAIL
        t = time.process_time()
        R._Parser(reads, counter).feed(block)
        return time.process_time() - t

    def pandas_c():
        t = time.process_time()
        pd.read_csv(io.BytesIO(text), sep="\t", header=None, usecols=[0, 1, 2], names=["chrom", "start", "end"],
                    dtype={"chrom": "category", "start": np.int64, "end": np.int64}, engine="c")
        return time.process_time() - t

    a, b = min(ours() for _ in range(3)), min(pandas_c() for _ in range(3))
    return (f"parsing {n_lines:,} lines ({len(text) / 1e6:.0f} MB): ours {a:.3f} s CPU, pandas read_csv (C) "
            f"{b:.3f} s CPU, ratio {b / a:.2f}")


def child(reads: Path, windows_tsv: Path, result: Path) -> None:
    """Run read_features alone (fresh process) and save its counts; prints wall/CPU seconds and peak RSS."""
    windows = pd.read_csv(windows_tsv, sep="\t", dtype={"chrom": str})
    cpu, wall = time.process_time(), time.perf_counter()
    got = read_features(reads, windows)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    np.save(result, got)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{wall:.3f} {cpu:.3f} {rss:.0f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--reads", type=int, default=30_000_000)
    ap.add_argument("--out", help="scratch folder (default: a temporary one); removed afterwards")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--child", nargs=3, metavar=("READS", "WINDOWS", "RESULT"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(*map(Path, args.child))
        return
    out = Path(args.out) if args.out else Path(tempfile.mkdtemp(prefix="bench_reads."))
    out.mkdir(parents=True, exist_ok=True)
    reads = out / "bench.tagAlign.gz"
    try:
        sizes = chrom_sizes()
        t = time.perf_counter()
        write_tagalign(reads, sizes, args.reads, args.seed)
        print(f"generated {args.reads:,} reads in {time.perf_counter() - t:.1f} s ({reads.stat().st_size / 1e6:.0f} MB gz)")
        windows = paper_windows(sizes, args.seed + 1)
        windows.to_csv(out / "windows.tsv", sep="\t", index=False)
        res = subprocess.run([sys.executable, __file__, "--child", str(reads), str(out / "windows.tsv"),
                              str(out / "counts.npy")], check=True, capture_output=True, text=True)
        wall, cpu, rss = map(float, res.stdout.split()[-3:])
        got = np.load(out / "counts.npy")
        ref, seconds, bedtools_cpu = bedtools_counts(windows, reads, sizes, out)
        valid = (windows["start"].to_numpy()[:, None] + np.arange(100) * 100) >= 0
        same = np.array_equal(got[valid], ref[valid])
        print(f"{len(windows):,} windows x 100 bins, {args.reads:,} reads, {int(got.sum()):,} bin-read overlaps")
        print("| reader | wall s | wall ratio to bedtools | CPU s | peak RSS MB |\n|---|---|---|---|---|")
        print(f"| deepchrome read_features (whole process) | {wall:.1f} | {wall / seconds:.2f} | {cpu:.1f} | {rss:.0f} |")
        print(f"| bedtools intersect -c -sorted | {seconds:.1f} | 1.00 | {bedtools_cpu:.1f} | |")
        print(f"counts equal: {same}")
        print(parser_comparison(reads, windows))
    finally:
        for f in (reads, out / "bins.bed", out / "genome.txt", out / "windows.tsv", out / "counts.npy"):
            f.unlink(missing_ok=True)
        if not args.out:
            shutil.rmtree(out, ignore_errors=True)


if __name__ == "__main__":
    main()
