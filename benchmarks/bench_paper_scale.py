"""Cost of every model on one cell at the paper's scale (prints figures; not a test).

Runs the workflow (default config, the demo generator at 19,802 genes, one cell) in a temporary folder with
``--cores`` (default 2) and prints, per model, its fitting seconds with its test ROC AUC and 95% bootstrap interval
(``metrics.json``: a cost change must not cost accuracy); per job (the CNN's, the baselines' one job), the wall and
CPU seconds and peak memory Snakemake's ``benchmark:`` recorded (``results/benchmarks/<rule>/<cell>.tsv``), their
sum, and the load average. Training only: the feature maps and the summary are not counted.

    .venv/bin/python benchmarks/bench_paper_scale.py [--genes 19802] [--cores 2] [--seeds N] [--keep DIR [--report]]
"""

from __future__ import annotations

import argparse
import json
import os
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
    ap.add_argument("--report", action="store_true", help="only print the table of the finished run in --keep")
    args = ap.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="bench_paper_scale."))
    work.mkdir(parents=True, exist_ok=True)
    config = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    config["demo"]["genes"] = args.genes
    config["cnn"]["seeds"] = args.seeds
    if not args.report:
        (work / "config.yaml").write_text(yaml.safe_dump(config))
    models = ["cnn"] + config["baselines"]["models"]
    targets = [f"results/cellA/{m}/metrics.json" for m in models]
    start = time.perf_counter()
    if not args.report:
        subprocess.run([sys.executable, "-m", "snakemake", "--snakefile", str(ROOT / "Snakefile"), "--cores",
                        str(args.cores), "--workflow-profile", "none", "--configfile", str(work / "config.yaml"),
                        "--config", "cells=cellA", "--directory", str(work), *targets], check=True, cwd=ROOT)
    wall = time.perf_counter() - start
    load = os.getloadavg()
    rows = []
    for m in models:
        metrics = json.loads((work / "results" / "cellA" / m / "metrics.json").read_text())
        low, high = metrics["test_auc_ci"]
        rows.append({"model": m, "fit_s": round(float(metrics["seconds"]), 1),
                     "test_auc": round(metrics["test_auc"], 4), "test_auc_ci": f"[{low:.3f}, {high:.3f}]"})
    jobs = []
    for rule in ("cnn", "baselines"):
        b = pd.read_csv(work / "results" / "benchmarks" / rule / "cellA.tsv", sep="\t").iloc[0]
        jobs.append({"job": rule, "wall_s": round(float(b["s"]), 1), "cpu_s": round(float(b["cpu_time"]), 1),
                     "max_rss_mb": round(float(b["max_rss"]), 0)})
    table = pd.DataFrame(jobs)
    print(f"{args.genes} genes, one cell, --cores {args.cores}, CNN seeds: {args.seeds or 'preset'}")
    print(pd.DataFrame(rows).to_string(index=False))
    print(table.to_string(index=False))
    cnn = json.loads((work / "results" / "cellA" / "cnn" / "metrics.json").read_text())
    print(f"CNN seeds: epochs run {[s['epochs_run'] for s in cnn['seeds']]}, best epochs "
          f"{[s['best_epoch'] for s in cnn['seeds']]}, schedule {cnn.get('schedule', 'batch_size 32, patience 15')}")
    whole = "" if args.report else f"; whole run (features, labels, split, models) {wall:.0f} s wall"
    print(f"models total: {table['cpu_s'].sum():.0f} CPU-s, {table['wall_s'].sum():.0f} s of job wall time{whole}; "
          f"load average now {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} (1 / 5 / 15 min)")


if __name__ == "__main__":
    main()
