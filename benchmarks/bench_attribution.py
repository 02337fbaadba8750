"""Cost of the attributions of a paper-scale cell: integrated gradients for 6,600 test genes (the paper's
test split) with the workflow's defaults (32 steps, doubled per gene up to 1,024 while the completeness gap
is >= 1%), on a trained model of a workflow run.

The genes are the cell's own (all splits), repeated to 6,600; ``--members`` times an ensemble of that many
networks (copies of the cell's model: the same cost as distinct members). Prints wall and CPU seconds,
completeness, and the steps used.
Run: ``python benchmarks/bench_attribution.py RESULTS_DIR [--cell cellA] [--genes 6600] [--threads 2] [--members 1]``
with RESULTS_DIR the ``results/`` folder of a run (the demo's, for instance).
"""

from __future__ import annotations

import argparse
import copy
import json
import time
from pathlib import Path

import numpy as np
import torch

from deepchrome.attribution import integrated_gradients
from deepchrome.dataset import load_features
from deepchrome.explain import load_members
from deepchrome.train import resolve_params, transform


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("results")
    ap.add_argument("--cell", default="cellA")
    ap.add_argument("--genes", type=int, default=6600)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--members", type=int, default=1)
    ap.add_argument("--preset", default="default")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    res = Path(args.results) / args.cell
    params = resolve_params(args.preset)
    net = load_members(res / "cnn" / "model.pt", params)[0]
    members = [net] + [copy.deepcopy(net) for _ in range(args.members - 1)]
    X, _, _ = load_features(res / "features.npz")
    X = transform(np.resize(X, (args.genes, *X.shape[1:])), params["transform"])
    wall, cpu = time.perf_counter(), time.process_time()
    out = integrated_gradients(members, X)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    print(json.dumps({"genes": args.genes, "members": args.members, "threads": args.threads,
                      "wall_s": round(wall, 1), "cpu_s": round(cpu, 1),
                      "completeness": out.completeness(0.01)}, indent=1))


if __name__ == "__main__":
    main()
