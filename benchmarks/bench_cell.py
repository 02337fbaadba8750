"""Benchmark one cell at paper scale end to end through the workflow (prints a table; not a test).

Generates the demo data set for ONE cell at the paper's size (``--genes 19802``, 5 marks) with the
workflow's own ``demo_data`` rule, then runs the workflow to the cell's features, labels and the
split (``--to features``; ``--to all`` runs the models too, which issue 8's benchmark covers) in a
scratch folder, and prints each job's wall time and peak RSS from ``results/benchmarks/`` plus the
totals. Targets: the 5 ``mark_features`` jobs from bigWig under 10 s together; every job under 2 GB.

    .venv/bin/python benchmarks/bench_cell.py [--genes N] [--input signal|reads] [--to features|all] [--out DIR]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
import yaml

ROOT = Path(__file__).resolve().parents[1]
CELL = "cellA"


def write_config(work: Path, genes: int, input_kind: str) -> Path:
    """The default (demo) config restricted to one cell, at ``genes`` genes."""
    config = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    marks = config["marks"]
    (work / "cells.tsv").write_text(f"cell\tname\n{CELL}\tDemo cell A\n")
    (work / "samples.tsv").write_text("cell\tmark\tsignal\treads\n" + "".join(
        f"{CELL}\t{m}\tresources/demo/{CELL}-{m}.bigwig\tresources/demo/{CELL}-{m}.tagAlign.gz\n" for m in marks))
    config.update(cell_sheet="cells.tsv", sample_sheet="samples.tsv", input=input_kind)
    config["demo"]["genes"] = genes
    path = work / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def job_table(work: Path) -> pd.DataFrame:
    """One row per benchmark file: job, wall s, CPU s, peak RSS MB."""
    rows = []
    for f in sorted((work / "results" / "benchmarks").rglob("*.tsv")):
        b = pd.read_csv(f, sep="\t")
        rss = pd.to_numeric(b["max_rss"], errors="coerce").max()
        cpu = pd.to_numeric(b["cpu_time"], errors="coerce").iloc[0]
        rows.append((str(f.relative_to(work / "results" / "benchmarks").with_suffix("")), float(b["s"].iloc[0]),
                     float(cpu), float(rss)))
    return pd.DataFrame(rows, columns=["job", "wall_s", "cpu_s", "max_rss_mb"])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--genes", type=int, default=19_802)
    ap.add_argument("--input", choices=["signal", "reads"], default="signal")
    ap.add_argument("--to", choices=["features", "all"], default="features")
    ap.add_argument("--cores", type=int, default=1)
    ap.add_argument("--out", help="scratch folder (default: a temporary one, removed afterwards)")
    args = ap.parse_args()
    work = Path(args.out) if args.out else Path(tempfile.mkdtemp(prefix="bench_cell."))
    work.mkdir(parents=True, exist_ok=True)
    config = write_config(work, args.genes, args.input)
    targets = [f"results/{CELL}/features.npz", f"results/{CELL}/labels.tsv", "results/split.tsv"]
    cmd = [str(Path(sys.executable).with_name("snakemake")), "--snakefile", str(ROOT / "Snakefile"),
           "--directory", str(work), "--configfile", str(config), "--cores", str(args.cores),
           "--workflow-profile", "none", *([] if args.to == "all" else targets)]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    try:
        t = time.perf_counter()
        run = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
        total = time.perf_counter() - t
        if run.returncode != 0:
            raise SystemExit(run.stderr[-3000:])
        table = job_table(work)
        print(f"one cell ({CELL}), {args.genes:,} genes, input {args.input}, up to {args.to}; "
              f"{args.cores} core(s); workflow wall {total:.1f} s")
        print("| job | wall s | CPU s | peak RSS MB |\n|---|---|---|---|")
        for r in table.itertuples():
            print(f"| {r.job} | {r.wall_s:.1f} | {r.cpu_s:.1f} | {r.max_rss_mb:.0f} |")
        marks = table[table["job"].str.startswith("features/") & ~table["job"].str.endswith("/combine")]
        print(f"| total of the jobs | {table['wall_s'].sum():.1f} | {table['cpu_s'].sum():.1f} | "
              f"max {table['max_rss_mb'].max():.0f} |")
        print(f"features of {len(marks)} marks: {marks['wall_s'].sum():.1f} s wall, {marks['cpu_s'].sum():.1f} s CPU in all "
              "(target < 10 s with bigWig); "
              f"every job under 2 GB: "
              f"{bool((table['max_rss_mb'] < 2048).all())}")
    finally:
        if not args.out:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
