"""Cost of every model on one cell at the paper's scale (prints figures; not a test).

Runs the workflow (default config, the demo generator at 19,802 genes, one cell) in a temporary folder with
``--cores`` (default 2) and prints, per model, the wall and CPU seconds Snakemake's ``benchmark:`` recorded
for its job (``results/benchmarks/<model>/<cell>.tsv``), and their sum. Training only: the feature maps and
the summary are not counted.

    .venv/bin/python benchmarks/bench_paper_scale.py [--genes 19802] [--cores 2] [--seeds N] [--keep DIR]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
import yaml

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--genes", type=int, default=19802)
    ap.add_argument("--cores", type=int, default=2)
    ap.add_argument("--seeds", type=int, default=None, help="CNN ensemble size (default: the preset's)")
    ap.add_argument("--keep", type=Path, default=None, help="run in this folder and keep it")
    args = ap.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="bench_paper_scale."))
    work.mkdir(parents=True, exist_ok=True)
    config = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    config["demo"]["genes"] = args.genes
    config["cnn"]["seeds"] = args.seeds
    (work / "config.yaml").write_text(yaml.safe_dump(config))
    models = ["cnn"] + config["baselines"]["models"]
    targets = [f"results/cellA/{m}/metrics.json" for m in models]
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "snakemake", "--snakefile", str(ROOT / "Snakefile"), "--cores",
                    str(args.cores), "--workflow-profile", "none", "--configfile", str(work / "config.yaml"),
                    "--config", "cells=cellA", "--directory", str(work), *targets], check=True, cwd=ROOT)
    wall = time.perf_counter() - start
    rows = []
    for m in models:
        rule = "cnn" if m == "cnn" else m
        b = pd.read_csv(work / "results" / "benchmarks" / rule / "cellA.tsv", sep="\t").iloc[0]
        rows.append({"model": m, "wall_s": round(float(b["s"]), 1), "cpu_s": round(float(b["cpu_time"]), 1),
                     "max_rss_mb": round(float(b["max_rss"]), 0)})
    table = pd.DataFrame(rows)
    print(f"{args.genes} genes, one cell, --cores {args.cores}, CNN seeds: {args.seeds or 'preset'}")
    print(table.to_string(index=False))
    print(f"models total: {table['cpu_s'].sum():.0f} CPU-s, {table['wall_s'].sum():.0f} s of job wall time; "
          f"whole run (features, labels, split, models) {wall:.0f} s wall")


if __name__ == "__main__":
    main()
