"""AttentiveChrome's cost and accuracy (prints figures and appends rows to TSVs under --out-dir; not a test).

Parts (``--part``), each row with CPU seconds (``time.process_time`` of this process), wall seconds, the torch
thread count and the 1-minute load average at its end (the machine is shared: compare rows of the same load):

* ``layout``: one training step (forward and backward) of the marks' bin LSTMs, one ``nn.LSTM`` per mark against
  one LSTM of all marks at once (5 inputs, 5 x 32 units each way: what keeping the marks' weights separate in one
  call needs, a block-diagonal mask on its weights, which costs nothing more and is left out), at minibatches of
  32 and 128.
* ``minibatch``: genes per CPU second of a whole training step at each ``--minibatches`` size.
* ``cost``: training at the paper's scale on a synthetic cell of 19,802 genes with the real split proportions
  (6,601 train / 6,601 valid / 6,600 test; Poisson counts with a weak, noisy ON signal on two marks and 15% of
  labels flipped): the default preset in full (``--default-seeds`` of its
  5 seeds, extrapolated linearly to 5 when fewer: seeds train one after another); the paper preset for
  ``--paper-epochs`` epochs of its one seed, extrapolated linearly to its 90 epochs (it has no early stopping).
* ``reference``: on that cell, the test AUC of the CNN default and of the logistic-regression baseline: what the
  cell's signal lets a model reach.
* ``curve``: the default's learning curve at that scale (one seed, ``--curve-epochs`` epochs, neither early
  stopping nor its cap on genes seen) for each ``--curve-scale`` (how the lr follows the grown minibatch).
* ``e123``: real E123 as the workflow splits it (train file, a seeded stratified 20% of it for validation, the
  200-gene test file): ``--models`` trained (cost rows; test scores kept beside them); ``--summary-only``: test
  AUC with its 95% bootstrap interval and DeLong's p against the CNN default (``e123_auc.tsv``).
* ``protocol``: tasks of ``benchmarks/cnn_protocol.py`` (E123 re-split and E123 features with other cells'
  labels, interleaved; ``--tasks N`` of them from ``--first``) for ``--models`` (``cnn`` = the CNN default,
  ``attentive`` = the attentive default, ``attentive_paper``, or ``attentive:key=value,...`` overrides of the
  default); resumable.
  ``--summary-only`` prints the mean test-AUC difference of each model to the CNN with its 95% t-interval.

    .venv/bin/python benchmarks/bench_attentive.py --part cost|reference|curve|e123|protocol|layout|minibatch
        [--threads 2] [--tasks 4] [--first 0] [--models cnn attentive ...] [--paper-epochs 2] [--default-seeds 5]
        [--minibatches 32 104 208 416] [--curve-scale inverse none sqrt] [--curve-epochs 6]
        [--out-dir benchmarks/runs/attentive] [--summary-only]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from sklearn.metrics import roc_auc_score

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from deepchrome import attentive  # noqa: E402
from deepchrome.dataset import CellData, load_published_cell  # noqa: E402
from deepchrome.stats import bootstrap_ci, delong_test, mean_ci  # noqa: E402
from deepchrome.spec import ATTENTIVE_PRESETS, network_params  # noqa: E402
from deepchrome.train import resolve_params, seed_list, train_cnn  # noqa: E402

SHARED = ROOT.parent / "shared" / "data"
MARKS = ["H3K4me3", "H3K4me1", "H3K36me3", "H3K9me3", "H3K27me3"]


def attentive_params(preset: str, overrides: dict | None = None) -> dict:
    """AttentiveChrome's parameters as the workflow gives them beside the CNN preset of the same name (whose input
    transform it takes: raw counts for paper, log1p for default)."""
    return network_params("attentive", {"preset": preset, "params": {}, "seeds": None},
                          {"preset": preset, "params": overrides or {}})[1]


def measured(fn):
    """``(fn(), cpu_s, wall_s, load)``: this process's CPU seconds and the wall seconds of the call."""
    cpu, wall = time.process_time(), time.perf_counter()
    out = fn()
    return out, time.process_time() - cpu, time.perf_counter() - wall, os.getloadavg()[0]


def append(rows: list[dict], path: Path) -> None:
    """Append ``rows`` to the TSV ``path`` (header on creation) and print them."""
    df = pd.DataFrame(rows)
    df.to_csv(path, sep="\t", index=False, mode="a", header=not path.exists())
    print(df.to_string(index=False), flush=True)


def train_model(model: str, cell: CellData, threads: int):
    """A trained ensemble (``CNNResult``) of ``model``: ``cnn``, ``attentive``, ``attentive_paper`` or
    ``attentive:key=value,...`` (overrides of the attentive default; values parsed as JSON)."""
    if model == "cnn":
        params = resolve_params("default")
        return train_cnn(cell, params, seeds=seed_list(params, 0), device="cpu", threads=threads)
    if model == "attentive_paper":
        params = attentive_params("paper")
    else:
        pairs = [kv.split("=") for kv in model.partition(":")[2].split(",") if kv]
        params = attentive_params("default", {k: json.loads(v) for k, v in pairs})
    return attentive.train_attentive(cell, params, seeds=seed_list(params, 0), device="cpu", threads=threads)


def paper_scale_cell(seed: int = 0) -> CellData:
    """19,802 synthetic genes, split 6,601 / 6,601 / 6,600: Poisson(2) counts; ON genes (half) carry, at a strength
    drawn per gene (often near none), extra H3K4me3 over bins 41-60 and H3K36me3 over bins 61-100; 15% of labels
    flipped (so no model reaches a test AUC much above 0.7 on it: a cost benchmark, not an accuracy one)."""
    rng = np.random.default_rng(seed)
    n = 19802
    y = (np.arange(n) % 2).astype(np.int64)
    X = rng.poisson(2.0, size=(n, 5, 100)).astype(np.float32)
    strength = rng.exponential(1.0, size=n) * y
    X[:, 0, 40:60] += rng.poisson(strength[:, None] * np.ones(20))
    X[:, 2, 60:] += rng.poisson(0.5 * strength[:, None] * np.ones(40))
    flip = rng.random(n) < 0.15
    y = np.where(flip, 1 - y, y)
    split = rng.permutation(np.repeat(["train", "valid", "test"], [6601, 6601, 6600]))
    return CellData(X=X, y=y, gene_id=np.array([f"g{i}" for i in range(n)]), split=split, marks=MARKS)


def part_layout(args) -> list[dict]:
    """One forward-backward of the five marks' bin LSTMs in both layouts (see the module docstring)."""
    from torch import nn

    torch.manual_seed(0)
    marks, hidden, bins = 5, 32, 100
    separate = [nn.LSTM(1, hidden, batch_first=True, bidirectional=True) for _ in range(marks)]
    block = nn.LSTM(marks, marks * hidden, batch_first=True, bidirectional=True)
    rows = []
    for batch in (32, 128):
        x = torch.randn(batch, marks, bins)
        runs = {"one LSTM per mark": lambda: torch.stack(
                    [separate[m](x[:, m, :, None])[0] for m in range(marks)]).sum().backward(),
                "block-diagonal LSTM": lambda: block(x.transpose(1, 2))[0].sum().backward()}
        for name, step in runs.items():
            step()  # warm-up
            _, cpu, wall, load = measured(lambda: [step() for _ in range(5)])
            rows.append({"part": "layout", "what": name, "batch": batch, "cpu_s_per_step": round(cpu / 5, 4),
                         "wall_s_per_step": round(wall / 5, 4), "threads": torch.get_num_threads(),
                         "load": round(load, 1)})
    return rows


def part_minibatch(args) -> list[dict]:
    """Genes per CPU second of a whole training step of the network (forward, backward, clipping, Adam) at each
    ``--minibatches`` size, over about 3,300 genes each after one warm-up step: whether larger minibatches of a
    large cell are cheaper per gene."""
    from torch import nn

    torch.manual_seed(0)
    net = attentive.AttentiveChrome()
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    rows = []
    for batch in args.minibatches:
        x = torch.log1p(torch.poisson(torch.full((batch, 5, 100), 2.0)))
        y = torch.arange(batch) % 2

        def step():
            opt.zero_grad(set_to_none=True)
            nn.functional.nll_loss(net(x), y).backward()
            nn.utils.clip_grad_norm_(net.parameters(), 1.0)
            opt.step()

        step()  # warm-up
        steps = max(2, 3328 // batch)
        _, cpu, wall, load = measured(lambda: [step() for _ in range(steps)])
        rows.append({"part": "minibatch", "batch": batch, "steps": steps, "cpu_s_per_step": round(cpu / steps, 4),
                     "genes_per_cpu_s": round(steps * batch / cpu, 1), "threads": torch.get_num_threads(),
                     "load": round(load, 1)})
    return rows


def part_cost(args) -> list[dict]:
    """Paper-scale CPU seconds of the default preset (whole run) and the paper preset (extrapolated)."""
    cell = paper_scale_cell()
    test = cell.split == "test"
    rows = []
    for preset, overrides in (("default", {"seeds": args.default_seeds}), ("paper", {"epochs": args.paper_epochs})):
        params = attentive_params(preset, overrides)
        seeds = seed_list(params, 0)
        r, cpu, wall, load = measured(lambda: attentive.train_attentive(cell, params, seeds, device="cpu",
                                                                       threads=args.threads))
        epochs = int(r.history.groupby("seed")["epoch"].max().sum())
        # Seeds train one after another and the paper preset runs all its epochs: both scale linearly.
        full = (cpu / len(seeds) * ATTENTIVE_PRESETS["default"]["seeds"] if preset == "default"
                else cpu / args.paper_epochs * ATTENTIVE_PRESETS["paper"]["epochs"])
        rows.append({"part": "cost", "preset": preset, "seeds": len(seeds), "epochs_run": epochs,
                     "best_epochs": json.dumps(list(r.best_epoch.values())), "cpu_s": round(cpu, 1),
                     "wall_s": round(wall, 1), "cpu_s_full_run": round(full, 1),
                     "extrapolated": full != cpu, "test_auc": round(roc_auc_score(cell.y[test],
                                                                                          r.scores[test]), 4),
                     "threads": args.threads, "load": round(load, 1), "cell": "synthetic 19,802 genes"})
    return rows


def part_reference(args) -> list[dict]:
    """What the paper-scale cell lets a model learn: test AUC of the CNN default and of the logistic-regression
    baseline (its C chosen on the valid split, as the workflow fits it), on the same cell, inputs and split."""
    from deepchrome.baselines import fit_baseline

    cell = paper_scale_cell()
    test = cell.split == "test"
    fits = {"cnn": lambda: train_model("cnn", cell, args.threads),
            "logreg": lambda: fit_baseline("logreg", cell, "log1p", seed=0, threads=args.threads)}
    rows = []
    for model, fit in fits.items():
        r, cpu, wall, load = measured(fit)
        rows.append({"part": "reference", "model": model, "test_auc": round(roc_auc_score(cell.y[test],
                                                                                          r.scores[test]), 4),
                     "cpu_s": round(cpu, 1), "wall_s": round(wall, 1), "threads": args.threads,
                     "load": round(load, 1), "cell": "synthetic 19,802 genes"})
    return rows


def e123_cell() -> CellData:
    """Real E123 as the workflow splits it (its train file, 20% of it for validation, seed 0; its test file)."""
    real = SHARED / "real" / "E123"
    return load_published_cell({"train": real / "train.csv", "test": real / "test.csv"}, MARKS, seed=0,
                               valid_fraction=0.2)


def part_curve(args) -> list[dict]:
    """Per-epoch history of one default seed on the paper-scale cell for each ``--curve-scale`` (the preset's
    lr_scale: how its lr follows the minibatch's growth there), ``--curve-epochs`` epochs, neither early stopping
    nor the max_genes cap: where the valid AUC peaks and whether the training loss leaves its initial plateau."""
    cell = paper_scale_cell()
    rows = []
    for scale in args.curve_scale:
        params = attentive_params("default", {"lr_scale": scale, "seeds": 1, "epochs": args.curve_epochs,
                                              "patience": None, "max_genes": None})
        plan = attentive.attentive_schedule(params, int((cell.split == "train").sum()))
        r, cpu, wall, load = measured(lambda: attentive.train_attentive(cell, params, [0], device="cpu",
                                                                       threads=args.threads))
        rows += [{"part": "curve", "lr": params["lr"], "lr_scale": scale, "effective_lr": round(plan["lr"], 6),
                  "minibatch": plan["batch_size"], "epoch": int(h.epoch), "loss": round(h.loss, 4),
                  "valid_auc": round(h.valid_auc, 4), "cpu_s": round(cpu, 1), "threads": args.threads,
                  "load": round(load, 1)} for h in r.history.itertuples()]
    return rows


def part_e123(args) -> list[dict]:
    """Train ``--models`` on real E123; keep each one's test scores (``e123_scores_<model>.npy``) and cost."""
    cell = e123_cell()
    rows = []
    for model in args.models:
        r, cpu, wall, load = measured(lambda: train_model(model, cell, args.threads))
        np.save(args.out_dir / f"e123_scores_{model}.npy", r.scores[cell.split == "test"])
        rows.append({"part": "e123", "model": model, "best_epochs": json.dumps(list(r.best_epoch.values())),
                     "cpu_s": round(cpu, 1), "wall_s": round(wall, 1), "threads": args.threads,
                     "load": round(load, 1)})
    return rows


def e123_summary(args) -> None:
    """Test AUC [95% bootstrap CI] and DeLong's p against the CNN of every model with kept E123 scores."""
    y = e123_cell().y[e123_cell().split == "test"]
    scores = {p.stem.removeprefix("e123_scores_"): np.load(p) for p in sorted(args.out_dir.glob("e123_scores_*.npy"))}
    rows = []
    for model, s in scores.items():
        ci = bootstrap_ci(y, s)["auc"]
        rows.append({"model": model, "test_auc": round(roc_auc_score(y, s), 4), "ci_low": round(ci[0], 4),
                     "ci_high": round(ci[1], 4),
                     "delong_p_vs_cnn": delong_test(y, s, scores["cnn"])["p"] if model != "cnn" else np.nan})
    table = pd.DataFrame(rows)
    table.to_csv(args.out_dir / "e123_auc.tsv", sep="\t", index=False)
    print(table.to_string(index=False))


def part_protocol(args, out: Path) -> None:
    """Run the missing (task, model) pairs, appending each row as it ends."""
    import cnn_protocol

    ns = argparse.Namespace(resplits=args.tasks, cell_resplits=args.tasks, resplit_start=0, cell_start=0,
                            cell_every=7, workflow_split=False, demo=None)
    done = set(zip(*[pd.read_csv(out, sep="\t")[c] for c in ("task", "model")])) if out.exists() else set()
    for name, make in cnn_protocol.tasks(ns)[args.first:args.first + args.tasks]:
        for model in args.models:
            if (name, model) in done:
                continue
            cell = make()
            test, valid = cell.split == "test", cell.split == "valid"
            r, cpu, wall, load = measured(lambda: train_model(model, cell, args.threads))
            append([{"task": name, "model": model, "valid_auc": roc_auc_score(cell.y[valid], r.scores[valid]),
                     "test_auc": roc_auc_score(cell.y[test], r.scores[test]),
                     "best_epochs": json.dumps(list(r.best_epoch.values())), "cpu_s": round(cpu, 1),
                     "wall_s": round(wall, 1), "threads": args.threads, "load": round(load, 1)}], out)


def summarise(out: Path) -> None:
    """Per model: tasks, mean test AUC and the mean difference to the CNN with its 95% t-interval."""
    df = pd.read_csv(out, sep="\t")
    wide = df.pivot_table(index="task", columns="model", values="test_auc")
    print(wide.round(4).to_string())
    for model in [m for m in wide.columns if m != "cnn"]:
        d = (wide[model] - wide["cnn"]).dropna().to_numpy()
        mean, low, high = mean_ci(d) if len(d) else (np.nan,) * 3
        print(f"{model}: {len(d)} tasks, mean test AUC {wide[model].mean():.4f}, minus the CNN {mean:+.4f} "
              f"[{low:+.4f}, {high:+.4f}], CPU s per task {df[df.model == model].cpu_s.mean():.0f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--part", required=True,
                    choices=["layout", "minibatch", "cost", "reference", "curve", "e123", "protocol"])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--paper-epochs", type=int, default=2)
    ap.add_argument("--minibatches", type=int, nargs="+", default=[32, 104, 208, 416])
    ap.add_argument("--curve-scale", nargs="+", default=["inverse", "none", "sqrt"])
    ap.add_argument("--curve-epochs", type=int, default=6)
    ap.add_argument("--default-seeds", type=int, default=5, help="fewer: extrapolated to the preset's 5")
    ap.add_argument("--tasks", type=int, default=4)
    ap.add_argument("--first", type=int, default=0, help="protocol: start at this task (parallel runs)")
    ap.add_argument("--models", nargs="+", default=["cnn", "attentive"])
    ap.add_argument("--out-dir", type=Path, default=ROOT / "benchmarks" / "runs" / "attentive")
    ap.add_argument("--summary-only", action="store_true")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    out = args.out_dir / f"{args.part}.tsv"
    if args.part == "protocol":
        if not args.summary_only:
            part_protocol(args, out)
        summarise(out)
        return
    if args.part == "e123" and args.summary_only:
        e123_summary(args)
        return
    parts = {"layout": part_layout, "minibatch": part_minibatch, "cost": part_cost, "reference": part_reference,
             "curve": part_curve, "e123": part_e123}
    append(parts[args.part](args), out)


if __name__ == "__main__":
    main()
