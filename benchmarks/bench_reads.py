"""Benchmark deepchrome.reads.read_features on a REMC-sized tagAlign.gz against bedtools (prints figures; not a test).

Generates (seeded) ``--reads`` 36 bp reads (default 30 million) spread over the hg19 chromosome
sizes, sorted, as a gzip tagAlign, and the 19,802 paper windows (TSS = start + 10000 of
data/roadmap/deepchrome_genes_hg19_tss_pm10kb.bed when present, else random TSSs). In one run it
times, each in its own child process (wall, CPU and peak RSS of that whole process from wait4):

- ``read_features`` on one thread, as the workflow's job runs it (a fresh Python process: start-up
  and imports count in its peak RSS; its wall is given for the call alone and for the whole
  process), and with ``threads=2`` (gzip inflated on a second thread),
- the inflate floor: ISA-L inflating the file on one thread, no parsing (zlib for scale),
- ``bedtools intersect -a bins -b reads -c -sorted``, the counts checked equal,
- where the CPU of read_features goes (an instrumented one-thread run: reading and inflating,
  pyarrow parsing, counting),
- on ``--reads / 10`` reads in random order: read_features and ``bedtools intersect -c`` without
  ``-sorted`` (which holds the reads in memory: ~1 GB per 3 M reads, so not run at full size),
- parsers on the first 1 M lines (CPU): pyarrow.csv as read_features uses it, pandas' C
  ``read_csv`` and pandas ``engine="pyarrow"``.

Target: <= 0.67x bedtools -sorted's wall time, <= 500 MB peak RSS.

    .venv/bin/python benchmarks/bench_reads.py [--reads N] [--out DIR]

CPU seconds are printed beside wall seconds (on a shared machine wall includes waiting for a core).
"""

from __future__ import annotations

import argparse
import os

for _var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

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


def write_tagalign(path: Path, sizes, n_reads: int, seed: int, shuffled: bool = False) -> None:
    """Random 36 bp reads (sorted, or in random order over all chromosomes with ``shuffled``), text built
    with numpy, compressed by `gzip -1` in a subprocess."""
    rng = np.random.default_rng(seed)
    names = [c for c, _ in sizes]
    length = np.array([n for _, n in sizes])
    width = max(map(len, names)) + 1
    heads = np.zeros((len(names), width), dtype=np.uint8)  # name + tab, zero-padded (zeros are dropped)
    for i, c in enumerate(names):
        heads[i, :len(c) + 1] = np.frombuffer(c.encode() + b"\t", dtype=np.uint8)
    tail = np.frombuffer(b"\tN\t1000\t", dtype=np.uint8)

    def chunks():  # (chromosome index [m], start [m]) in pieces of <= 2 M reads
        if shuffled:
            for m in np.diff(np.r_[0:n_reads:2_000_000, n_reads]):
                chrom = rng.choice(len(names), m, p=length / length.sum())
                yield chrom, rng.integers(0, length[chrom] - READ_LEN)
            return
        for i, n in enumerate(length):
            starts = np.sort(rng.integers(0, n - READ_LEN, int(round(n_reads * n / length.sum()))))
            for a in range(0, len(starts), 2_000_000):
                yield np.full(len(starts[a:a + 2_000_000]), i), starts[a:a + 2_000_000]

    with open(path, "wb") as fh:
        gz = subprocess.Popen(["gzip", "-1", "-c"], stdin=subprocess.PIPE, stdout=fh)
        for chrom, s in chunks():
            m = len(chrom)
            strand = np.where(rng.random((m, 1)) < 0.5, ord("+"), ord("-")).astype(np.uint8)
            rows = np.concatenate([heads[chrom], decimal(s), np.full((m, 1), 9, np.uint8), decimal(s + READ_LEN),
                                   np.broadcast_to(tail, (m, len(tail))), strand, np.full((m, 1), 10, np.uint8)],
                                  axis=1).ravel()
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


# Starts the command from a small Python process: Linux counts the RSS of the process that forked into a
# child's peak RSS (ru_maxrss), and this script holds hundreds of MB.
_WRAPPER = """
import os, sys, time
t = time.perf_counter()
pid = os.fork()
if pid == 0:
    os.execvp(sys.argv[2], sys.argv[2:])
_, status, ru = os.wait4(pid, 0)
with open(sys.argv[1], "w") as fh:
    fh.write(f"{time.perf_counter() - t} {ru.ru_utime + ru.ru_stime} {ru.ru_maxrss / 1024} "
             f"{os.waitstatus_to_exitcode(status)}")
"""


def measured(cmd: list[str], stdout=subprocess.DEVNULL) -> tuple[float, float, float]:
    """Run ``cmd``; its wall seconds, CPU seconds and peak RSS (MB) as the kernel reports them (wait4)."""
    with tempfile.NamedTemporaryFile("r", suffix=".txt") as figures:
        subprocess.run([sys.executable, "-S", "-c", _WRAPPER, figures.name, *cmd], stdout=stdout, check=True)
        wall, cpu, rss, code = figures.read().split()
    if int(code) != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({code})")
    return float(wall), float(cpu), float(rss)


def write_bins(windows: pd.DataFrame, sizes, out: Path, sort: bool) -> np.ndarray:
    """bins.bed of the windows (ids as the 4th column; sorted like the reads with ``sort``) and genome.txt."""
    order = {c: i for i, (c, _) in enumerate(sizes)}
    starts = windows["start"].to_numpy()[:, None] + np.arange(100) * 100
    bins = pd.DataFrame({"chrom": np.repeat(windows["chrom"].to_numpy(), 100), "start": starts.ravel(),
                         "end": starts.ravel() + 100, "id": np.arange(starts.size)})
    bins = bins[bins["start"] >= 0]
    if sort:
        bins = bins.assign(k=bins["chrom"].map(order)).sort_values(["k", "start", "end"]).drop(columns="k")
    bins.to_csv(out / "bins.bed", sep="\t", header=False, index=False)
    (out / "genome.txt").write_text("".join(f"{c}\t{n}\n" for c, n in sizes))
    return starts


def bedtools_counts(windows: pd.DataFrame, reads: Path, sizes, out: Path, sort: bool = True):
    """`bedtools intersect -a bins -b reads -c` (with ``sort``: ``-sorted -g genome``, bins sorted like the
    reads) as a [genes, 100] array, with wall s, CPU s and peak RSS MB."""
    starts = write_bins(windows, sizes, out, sort)
    cmd = ["bedtools", "intersect", "-a", str(out / "bins.bed"), "-b", str(reads), "-c"]
    if sort:
        cmd += ["-sorted", "-g", str(out / "genome.txt")]
    with open(out / "bedtools.out", "wb") as fh:
        figures = measured(cmd, stdout=fh)
    table = pd.read_csv(out / "bedtools.out", sep="\t", header=None, usecols=[3, 4])
    counts = np.zeros(starts.size)
    counts[table[3].to_numpy()] = table[4].to_numpy()
    return (counts.reshape(starts.shape), *figures)


def inflate_floor(reads: Path) -> str:
    """ISA-L and zlib inflating the file on one thread (no parsing): wall and CPU seconds."""
    import zlib

    from isal import isal_zlib

    parts = []
    for name, module in (("ISA-L", isal_zlib), ("zlib", zlib)):
        t, cpu = time.perf_counter(), time.process_time()
        inflate = module.decompressobj(31)
        with open(reads, "rb") as fh:
            while chunk := fh.read(1 << 20):
                inflate.decompress(chunk)
        parts.append(f"{name} {time.perf_counter() - t:.2f} s wall / {time.process_time() - cpu:.2f} s CPU")
    return "inflate alone, one thread: " + ", ".join(parts)


def parser_comparison(reads: Path, n_lines: int = 1_000_000) -> str:
    """CPU seconds to parse the first ``n_lines`` lines (best of 3): pyarrow.csv as read_features calls it
    (chrom, start, end), pandas' C read_csv and pandas engine="pyarrow" (same columns)."""
    import gzip
    import io

    import deepchrome.reads as R

    with gzip.open(reads, "rb") as fh:
        text = b"".join(fh.readline() for _ in range(n_lines))
    parser = R._Parser(reads, None)
    parser.n_columns = len(text[:text.index(b"\n")].split(b"\t"))
    kw = dict(sep="\t", header=None, usecols=[0, 1, 2], names=["chrom", "start", "end"],
              dtype={"chrom": "category", "start": np.int64, "end": np.int64})

    def best(f):
        times = []
        for _ in range(3):
            t = time.process_time()
            f()
            times.append(time.process_time() - t)
        return min(times)

    ours = best(lambda: parser._arrow(text))
    c = best(lambda: pd.read_csv(io.BytesIO(text), engine="c", **kw))
    pa_engine = best(lambda: pd.read_csv(io.BytesIO(text), engine="pyarrow", **kw))
    return (f"parsing {n_lines:,} lines ({len(text) / 1e6:.0f} MB), CPU s: pyarrow.csv as read_features uses it "
            f"{ours:.3f}, pandas read_csv C engine {c:.3f} ({c / ours:.2f}x), pandas engine=\"pyarrow\" "
            f"{pa_engine:.3f} ({pa_engine / ours:.2f}x)")


def child(reads: Path, windows_tsv: Path, result: Path, threads: int, breakdown: bool) -> None:
    """Run read_features alone (fresh process) and save its counts and the call's wall/CPU seconds; with
    ``breakdown``, time (per thread) the calling thread's reading of text, the parsing and the counting."""
    import deepchrome.reads as R

    windows = pd.read_csv(windows_tsv, sep="\t", dtype={"chrom": str})
    spent = {"reading text (inflating, line cuts)": 0.0, "parsing (pyarrow.csv)": 0.0, "counting": 0.0}
    if breakdown:
        def timed(f, key):
            def wrapper(*args):
                t = time.thread_time()
                try:
                    return f(*args)
                finally:
                    spent[key] += time.thread_time() - t
            return wrapper

        def timed_blocks(path, threads):
            it = text_blocks(path, threads)
            while True:
                t = time.thread_time()
                block = next(it, None)
                spent["reading text (inflating, line cuts)"] += time.thread_time() - t
                if block is None:
                    return
                yield block

        text_blocks = R._text_blocks
        R._text_blocks = timed_blocks
        R._Parser._arrow = timed(R._Parser._arrow, "parsing (pyarrow.csv)")
        R._Parser._by_line = timed(R._Parser._by_line, "parsing (pyarrow.csv)")
        R._ReadCounter.add = timed(R._ReadCounter.add, "counting")
    cpu, wall = time.process_time(), time.perf_counter()
    got = read_features(reads, windows, threads=threads)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    np.save(result, got)
    result.with_suffix(".txt").write_text(f"{wall} {cpu} " + " ".join(f"{v}" for v in spent.values()) + "\n"
                                          + "\n".join(spent) + "\n")


def ours(reads: Path, out: Path, threads: int = 1, breakdown: bool = False) -> tuple[np.ndarray, dict]:
    """read_features in a fresh process: counts and figures (call wall/CPU, process wall/CPU/peak RSS)."""
    result = out / "counts.npy"
    p_wall, p_cpu, rss = measured([sys.executable, __file__, "--child", str(reads), str(out / "windows.tsv"),
                                   str(result), "--threads", str(threads)] + ["--breakdown"] * breakdown)
    lines = result.with_suffix(".txt").read_text().splitlines()
    values = list(map(float, lines[0].split()))
    figures = {"wall": values[0], "cpu": values[1], "process wall": p_wall, "process cpu": p_cpu, "rss": rss,
               "spent": dict(zip(lines[1:], values[2:]))}
    return np.load(result), figures


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--reads", type=int, default=30_000_000)
    ap.add_argument("--out", help="scratch folder (default: a temporary one); removed afterwards")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--child", nargs=3, metavar=("READS", "WINDOWS", "RESULT"), help=argparse.SUPPRESS)
    ap.add_argument("--threads", type=int, default=1, help=argparse.SUPPRESS)
    ap.add_argument("--breakdown", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(*map(Path, args.child), args.threads, args.breakdown)
        return
    out = Path(args.out) if args.out else Path(tempfile.mkdtemp(prefix="bench_reads."))
    out.mkdir(parents=True, exist_ok=True)
    reads, shuffled = out / "bench.tagAlign.gz", out / "shuffled.tagAlign.gz"
    print(f"{time.strftime('%Y-%m-%d %H:%M %Z')}, load average {os.getloadavg()[0]:.1f} at the start")
    try:
        sizes = chrom_sizes()
        t = time.perf_counter()
        write_tagalign(reads, sizes, args.reads, args.seed)
        write_tagalign(shuffled, sizes, args.reads // 10, args.seed + 2, shuffled=True)
        print(f"generated {args.reads:,} sorted reads ({reads.stat().st_size / 1e6:.0f} MB gz) and "
              f"{args.reads // 10:,} in random order in {time.perf_counter() - t:.1f} s")
        windows = paper_windows(sizes, args.seed + 1)
        windows.to_csv(out / "windows.tsv", sep="\t", index=False)
        valid = (windows["start"].to_numpy()[:, None] + np.arange(100) * 100) >= 0

        got, f = ours(reads, out)
        ref, b_wall, b_cpu, b_rss = bedtools_counts(windows, reads, sizes, out)
        got2, f2 = ours(reads, out, threads=2)
        floor = inflate_floor(reads)
        _, prof = ours(reads, out, breakdown=True)
        got_u, fu = ours(shuffled, out)
        ref_u, u_wall, u_cpu, u_rss = bedtools_counts(windows, shuffled, sizes, out, sort=False)
        print(f"{len(windows):,} windows x 100 bins, {args.reads:,} reads, {int(got.sum()):,} bin-read overlaps; "
              f"load average {os.getloadavg()[0]:.1f} at the end")
        print("| reads | reader | wall s | wall ratio to bedtools | CPU s | CPU ratio | peak RSS MB |\n"
              "|---|---|---|---|---|---|---|")
        n, nu = f"{args.reads / 1e6:g} M sorted", f"{args.reads / 1e7:g} M random order"
        print(f"| {n} | deepchrome read_features, one thread, the call | {f['wall']:.2f} | {f['wall'] / b_wall:.2f} | "
              f"{f['cpu']:.2f} | {f['cpu'] / b_cpu:.2f} | {f['rss']:.0f} (whole process) |")
        print(f"| {n} | the same, whole process (Python start-up, imports) | {f['process wall']:.2f} | "
              f"{f['process wall'] / b_wall:.2f} | {f['process cpu']:.2f} | {f['process cpu'] / b_cpu:.2f} | |")
        print(f"| {n} | deepchrome read_features, threads=2, the call | {f2['wall']:.2f} | {f2['wall'] / b_wall:.2f} | "
              f"{f2['cpu']:.2f} | {f2['cpu'] / b_cpu:.2f} | {f2['rss']:.0f} (whole process) |")
        print(f"| {n} | bedtools intersect -c -sorted | {b_wall:.2f} | 1.00 | {b_cpu:.2f} | 1.00 | {b_rss:.0f} |")
        print(f"| {nu} | deepchrome read_features, one thread, the call | {fu['wall']:.2f} | "
              f"{fu['wall'] / u_wall:.2f} | {fu['cpu']:.2f} | {fu['cpu'] / u_cpu:.2f} | {fu['rss']:.0f} "
              "(whole process) |")
        print(f"| {nu} | bedtools intersect -c (not -sorted) | {u_wall:.2f} | 1.00 | {u_cpu:.2f} | 1.00 | "
              f"{u_rss:.0f} |")
        print(f"counts equal to bedtools: sorted {np.array_equal(got[valid], ref[valid])} (threads=2: "
              f"{np.array_equal(got2[valid], ref[valid])}), "
              f"random order {np.array_equal(got_u[valid], ref_u[valid])}")
        print(floor)
        print(f"instrumented one-thread run ({prof['cpu']:.2f} s CPU in all: "
              + ", ".join(f"{k} {v:.2f} s" for k, v in prof["spent"].items()) + ")")
        print(parser_comparison(reads))
    finally:
        for name in ("bins.bed", "genome.txt", "windows.tsv", "counts.npy", "counts.txt", "bedtools.out"):
            (out / name).unlink(missing_ok=True)
        reads.unlink(missing_ok=True)
        shuffled.unlink(missing_ok=True)
        if not args.out:
            shutil.rmtree(out, ignore_errors=True)


if __name__ == "__main__":
    main()
