"""Cost of the attributions of a paper-scale cell: integrated gradients for 6,600 test genes (the paper's
test split) with the workflow's defaults (trapezoid rule over 32 steps, doubled per gene up to 1,024 while
the completeness gap is >= 1%), on the trained model of a workflow run.

The genes are the cell's own (all splits), repeated to 6,600. The model is the cell's reported ensemble
(``--members K``: its first K networks); ``--seeds N`` trains an N-seed ensemble of the cell with the preset
first (not timed). Prints wall and CPU seconds, the machine's load, the path points (forward-backward
passes of one gene through one network), completeness, and the steps used. ``--captum G`` also times captum's
IntegratedGradients and the workflow's path at the same 32 Gauss-Legendre points on G genes (passes per
CPU-second of each); ``--accuracy G`` compares G genes' attributions bin by bin with those at 1,024 steps.
Run: ``python benchmarks/bench_attribution.py RESULTS_DIR [--cell cellA] [--genes 6600] [--threads 2]
[--members K | --seeds N] [--captum 300] [--accuracy 200]`` with RESULTS_DIR the ``results/`` folder of a run
(the demo's).
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np
import torch

from deepchrome.attribution import MeanScore, _StraightPath, _frozen, integrated_gradients
from deepchrome.dataset import load_cell
from deepchrome.ensemble import build_member, load_model
from deepchrome.train import resolve_params, train_cnn, transform


def timed(fn):
    """``(result of fn(), wall seconds, CPU seconds of this process)``."""
    wall, cpu = time.perf_counter(), time.process_time()
    out = fn()
    return out, round(time.perf_counter() - wall, 2), round(time.process_time() - cpu, 2)


def gauss_legendre_rates(members, X: np.ndarray, steps: int = 32) -> dict:
    """Passes (gene x point x network) per CPU-second: captum's IntegratedGradients against the workflow's
    path, both at captum's ``steps`` Gauss-Legendre points, and their largest difference."""
    from captum.attr import IntegratedGradients
    from captum.attr._utils.approximation_methods import approximation_parameters

    x = torch.from_numpy(X)
    ig = IntegratedGradients(_frozen(MeanScore(members)))
    theirs, _, cpu_captum = timed(lambda: ig.attribute(x, baselines=0.0, n_steps=steps, method="gausslegendre",
                                                       internal_batch_size=8192))
    sizes, alphas = approximation_parameters("gausslegendre")

    def ours():
        with torch.no_grad():
            path = _StraightPath(members, x)
            genes = torch.arange(len(x))
            return path.to_input(genes, path.gradient_sums(genes, torch.tensor(alphas(steps)),
                                                           torch.tensor(sizes(steps)))[1])

    mine, _, cpu_ours = timed(ours)
    passes = len(x) * steps * len(members)
    return {"genes": len(x), "steps": steps, "captum_passes_per_cpu_s": round(passes / cpu_captum),
            "workflow_passes_per_cpu_s": round(passes / cpu_ours),
            "max_abs_difference": float((mine - theirs).abs().max()), "max_abs_attribution": float(theirs.abs().max())}


def accuracy(members, X: np.ndarray, result) -> dict:
    """Per-bin accuracy, which completeness (a sum) does not show: the relative L2 distance of each gene's
    attributions to those at 1,024 steps for every gene, and the same for 32 steps only."""
    fine = integrated_gradients(members, X, steps=1024, max_steps=1024).values

    def distance(values):
        norm = np.linalg.norm(fine.reshape(len(X), -1), axis=1)
        d = np.linalg.norm((values - fine).reshape(len(X), -1), axis=1) / norm
        return {"median": round(float(np.median(d)), 5), "p99": round(float(np.quantile(d, 0.99)), 5)}

    return {"genes": len(X), "workflow": distance(result.values[:len(X)]),
            "steps_32_only": distance(integrated_gradients(members, X, steps=32, max_steps=32).values)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("results")
    ap.add_argument("--cell", default="cellA")
    ap.add_argument("--genes", type=int, default=6600)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--members", type=int, help="use the first K networks of the cell's ensemble")
    ap.add_argument("--seeds", type=int, help="train an ensemble of this many seeds first (not timed)")
    ap.add_argument("--preset", default="default")
    ap.add_argument("--captum", type=int, default=0, help="genes for the captum comparison (0: none)")
    ap.add_argument("--accuracy", type=int, default=0, help="genes for the per-bin accuracy check (0: none)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    res = Path(args.results)
    params = resolve_params(args.preset)
    cell = load_cell(res / args.cell / "features.npz", res / args.cell / "labels.tsv", res / "split.tsv")
    if args.seeds:
        trained = train_cnn(cell, params, seeds=list(range(args.seeds)), device="cpu", threads=args.threads)
        members = []
        for seed in trained.seeds:
            members.append(build_member(params, *cell.X.shape[1:]))
            members[-1].load_state_dict(trained.states[seed])
    else:
        members = load_model(res / args.cell / "cnn" / "model.pt")[0][:args.members]
    X = transform(np.resize(cell.X, (args.genes, *cell.X.shape[1:])), params["transform"])
    load_before = os.getloadavg()[0]
    out, wall, cpu = timed(lambda: integrated_gradients(members, X))
    record = {"genes": args.genes, "members": len(members), "threads": args.threads, "wall_s": wall, "cpu_s": cpu,
              "load_1min_before_after": [round(load_before, 1), round(os.getloadavg()[0], 1)],
              "path_points": int((out.steps + 1).sum()), "passes": int((out.steps + 1).sum()) * len(members),
              "completeness": out.completeness(0.01)}
    if args.captum:
        record["gauss_legendre_32"] = gauss_legendre_rates(members, X[:args.captum])
    if args.accuracy:
        record["relative_l2_to_1024_steps"] = accuracy(members, X[:args.accuracy], out)
    print(json.dumps(record, indent=1))


if __name__ == "__main__":
    main()
