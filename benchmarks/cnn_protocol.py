"""Robustness protocol for the default CNN: does a configuration hold against the best baseline on real data in
general, not just on E123's one split? (Prints figures and writes a TSV; not a test.)

Tasks (each a 600-gene or demo cell with train / valid / test genes):

* ``E123/r<k>``: E123's 600 real genes (``../shared/data/real/E123``, train and test files pooled) re-split,
  stratified by label, into 320 train / 80 valid / 200 test genes with seed ``k`` (the workflow's sizes).
* ``E123x<cell>/r<k>``: the same features with the labels of another REMC cell: its RPKM column of
  ``../shared/data/roadmap/57epigenomes.RPKM.pc.gz``, ON when above that cell's median over the paper's
  19,802-row gene list (REFERENCE.md; reproduces E123's own labels exactly, checked below). The features do not
  belong to that cell, so these tasks are harder and noisier, as a cell unlike E123 would be. The cells are
  every 7th column of the table after E000 (a fixed rule, not a choice by results).
* ``demo/<cell>``: the demo's cells from a run folder (``--demo DIR``: ``results/<cell>/{features.npz,
  labels.tsv}`` and ``results/split.tsv``), the workflow's split.

Per task: the four trained baselines (tuned on the valid split as the workflow does) and each CNN
configuration (its seeds' mean P(ON), the default preset with overrides: ``CONFIGS``); ``select`` picks, per
task, among ``protocol_tables.SELECT_FROM`` the one with the best ensemble valid AUC. Reported per
configuration: mean over tasks of (CNN test AUC - best baseline's test AUC) and of (CNN - default CNN) with 95%
t-intervals, and the number of tasks within 0.005 of the best baseline. Results are appended to ``--out``
(resumable); ``--jobs`` runs that many jobs (a task's baselines, or one configuration on a task) at a time.

The runs behind the documentation (``benchmarks/runs/cnn_protocol/``; ``--summary-only --out FILE`` prints
their tables, which ``benchmarks/doc_tables.py`` writes into docs/models.md):

* ``choice.tsv``, the choice of the default network (38 tasks): ``--resplits 10
  --cell-resplits 3 --workflow-split --demo DIR --jobs 2 --configs default paper_net paper_net_seeds10
  paper_net_wd1e-3 paper_net_select_loss paper_net_shift2``
* ``heldout.tsv``, its check on 34 tasks the choice never saw (other split seeds, other cells):
  ``--resplits 10 --cell-resplits 3 --resplit-start 10 --cell-start 3 --jobs 2 --configs default paper_net
  select_loss smaller``
* ``heldout2.tsv``, a second such check: ``--resplits 10 --cell-resplits 3 --resplit-start 20
  --cell-start 5 --jobs 2 --configs default paper_net``

    .venv/bin/python benchmarks/cnn_protocol.py [--resplits 6] [--cell-resplits 1] [--resplit-start 0]
        [--cell-every 7] [--cell-start 0] [--demo DIR] [--workflow-split] [--configs default paper_net ...]
        [--models all|baselines|cnn] [--device cpu] [--jobs 1] [--max-seconds S] [--data DIR] [--out FILE]
        [--summary-only]
"""

from __future__ import annotations

import argparse
import functools
import multiprocessing
import time
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split
from threadpoolctl import threadpool_limits

from deepchrome.baselines import fit_baseline
from deepchrome.dataset import PUBLISHED_MARKS, CellData, load_cell, load_published_cell, read_published_csv
from deepchrome.labels import read_expression
from deepchrome.spec import models_for
from deepchrome.train import resolve_params, seed_list, train_cnn

TRAINED = models_for("class", ("baseline",))  # the trained baselines every task runs (not the promoter score)
from protocol_tables import markdown_summary, markdown_versus_each, summarise

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
MARKS = ["H3K4me3", "H3K4me1", "H3K36me3", "H3K9me3", "H3K27me3"]
PAPER_NET = {"n_filters": 50, "hidden": (625, 125)}  # the paper's network: the default preset's before 2026-11-30
CONFIGS = {  # name -> overrides of the default preset
    "default": {},
    "paper_net": PAPER_NET,
    "paper_net_linear": {**PAPER_NET, "linear": True},
    "paper_net_linear_scale_mark": {**PAPER_NET, "linear": True, "scale": "mark"},
    "paper_net_seeds10": {**PAPER_NET, "seeds": 10},
    "paper_net_wd1e-3": {**PAPER_NET, "weight_decay": 1e-3},
    "paper_net_select_loss": {**PAPER_NET, "select": "loss"},
    "paper_net_shift2": {**PAPER_NET, "shift": 2},
    "select_loss": {"select": "loss"},
    "smaller": {"n_filters": 10, "hidden": (32,)},
}


def e123_pool(data: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """E123's 600 genes: X float32 [600, marks (MARKS order), 100], Ensembl IDs, labels."""
    parts = [read_published_csv(data / "real" / "E123" / f"{s}.csv") for s in ("train", "test")]
    X = np.concatenate([p[0] for p in parts])[:, [PUBLISHED_MARKS.index(m) for m in MARKS], :]
    ids = np.array([f"ENSG00000{g}" for g in np.concatenate([p[1] for p in parts])])
    return X, ids, np.concatenate([p[2] for p in parts])


def rpkm_labels(data: Path, ids: np.ndarray) -> pd.DataFrame:
    """ON/OFF of genes ``ids`` in every cell of the RPKM table: RPKM > the cell's median over the rows of the
    paper's gene list that have a value (REFERENCE.md). DataFrame [genes, cells] of 0/1."""
    rpkm = read_expression(data / "roadmap" / "57epigenomes.RPKM.pc.gz")
    listed = pd.read_csv(data / "roadmap" / "deepchrome_genes_hg19_tss_pm10kb.bed", sep="\t", header=None)[3]
    rows = rpkm.reindex(listed.str.split("_").str[0].to_numpy()).dropna()
    medians = rows.median()
    return (rpkm.loc[ids] > medians).astype(np.int64)


def resplit(X, ids, y, seed: int) -> CellData:
    """320 train / 80 valid / 200 test, stratified by label, seeded."""
    rest, test = train_test_split(np.arange(len(y)), test_size=200, random_state=seed, stratify=y)
    train, valid = train_test_split(rest, test_size=0.2, random_state=seed, stratify=y[rest])
    split = np.empty(len(y), dtype=object)
    split[train], split[valid], split[test] = "train", "valid", "test"
    return CellData(X=X, y=y, gene_id=ids, split=split.astype(str), marks=MARKS)


@functools.cache
def real_data(data: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray, pd.DataFrame]:
    """:func:`e123_pool` and :func:`rpkm_labels` of its genes, read once per process from ``data``."""
    X, ids, y = e123_pool(data)
    labels = rpkm_labels(data, ids)
    assert (labels["E123"].to_numpy() == y).all(), "RPKM labels do not reproduce E123's published labels"
    return X, ids, y, labels


def tasks(args) -> list[tuple[str, callable]]:
    """``(name, make_cell)`` for every task of the protocol."""
    X, ids, y, labels = real_data(SHARED)
    cells = [c for c in labels.columns if c not in ("E000", "E123")][args.cell_start::args.cell_every]
    first = args.resplit_start
    own = [(f"E123/r{k}", lambda k=k: resplit(X, ids, y, k)) for k in range(first, first + args.resplits)]
    other = [(f"E123x{c}/r{k}", lambda c=c, k=k: resplit(X, ids, labels[c].to_numpy(), k))
             for k in range(first, first + args.cell_resplits) for c in cells]
    out = [t for pair in zip(own, other) for t in pair] + own[len(other):] + other[len(own):]  # interleaved
    if args.workflow_split:  # E123 as the workflow splits it: its train file, 20% carved for validation, seed 0
        real = SHARED / "real" / "E123"
        out.append(("E123/workflow", lambda: load_published_cell(
            {"train": real / "train.csv", "test": real / "test.csv"}, MARKS, seed=0, valid_fraction=0.2)))
    if args.demo:
        for cell in ("cellA", "cellB", "cellC"):
            d = args.demo / "results" / cell
            out.append((f"demo/{cell}", lambda d=d: load_cell(d / "features.npz", d / "labels.tsv",
                                                             d.parent / "split.tsv")))
    return out


def run_job(args, name: str, model: str) -> list[dict]:
    """Rows (task, model, valid_auc, test_auc, seconds) of one job: the four baselines of task ``name``
    (``model == "baselines"``) or CNN configuration ``model`` on it (on ``args.device``)."""
    cell = dict(tasks(args))[name]()
    test, valid = cell.split == "test", cell.split == "valid"
    if model == "baselines":
        rows = []
        for b in TRAINED:
            with threadpool_limits(1):
                r = fit_baseline(b, cell, "log1p", seed=0, threads=1)
            rows.append({"task": name, "model": b, "valid_auc": r.valid_auc,
                         "test_auc": roc_auc_score(cell.y[test], r.scores[test]), "seconds": r.seconds})
        return rows
    params = resolve_params("default", CONFIGS[model])
    r = train_cnn(cell, params, seeds=seed_list(params, 0), device=args.device, threads=1)
    return [{"task": name, "model": model, "valid_auc": roc_auc_score(cell.y[valid], r.scores[valid]),
             "test_auc": roc_auc_score(cell.y[test], r.scores[test]), "seconds": r.seconds}]


def _init_worker(data: Path) -> None:
    global SHARED
    SHARED = data
    torch.set_num_threads(1)


def run_jobs(args, df: pd.DataFrame) -> pd.DataFrame:
    """Run every job not yet in ``df`` (task-major, so a deadline leaves whole tasks), ``args.jobs`` processes at
    a time; no job starts after ``args.max_seconds``. Appends each job's rows to ``args.out`` as it ends."""
    done = set(zip(df["task"], df["model"]))
    wanted = (["baselines"] if args.models in ("all", "baselines") else []) + (
        list(args.configs) if args.models in ("all", "cnn") else [])
    todo = [(name, m) for name, _ in tasks(args) for m in wanted
            if not ((name, m) in done or (m == "baselines" and all((name, b) in done for b in TRAINED)))]
    start = time.perf_counter()
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(args.jobs, mp_context=ctx, initializer=_init_worker, initargs=(SHARED,)) as pool:
        running = set()
        while todo or running:
            while todo and len(running) < args.jobs and time.perf_counter() - start < args.max_seconds:
                running.add(pool.submit(run_job, args, *todo.pop(0)))
            if not running:
                print(f"deadline: {len(todo)} job(s) not started", flush=True)
                break
            finished, running = wait(running, return_when=FIRST_COMPLETED)
            for f in finished:
                try:
                    rows = f.result()
                except Exception as err:  # one failed job costs its rows only; the others run on
                    print(f"job failed: {err!r}", flush=True)
                    continue
                df = pd.concat([df, pd.DataFrame(rows)], ignore_index=True)
                df.to_csv(args.out, sep="\t", index=False)
                for row in rows:
                    print(f"{row['task']} {row['model']}: test AUC {row['test_auc']:.4f} ({row['seconds']:.0f} s) "
                          f"[{time.perf_counter() - start:.0f} s]", flush=True)
    return df


def main() -> None:
    global SHARED
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--resplits", type=int, default=6)
    ap.add_argument("--cell-resplits", type=int, default=1)
    ap.add_argument("--demo", type=Path, default=None, help="a demo run folder (results/cellA...) to add its cells")
    ap.add_argument("--out", type=Path, default=Path("cnn_protocol.tsv"))
    ap.add_argument("--workflow-split", action="store_true", help="add E123 as the workflow splits it")
    ap.add_argument("--configs", nargs="+", choices=list(CONFIGS), default=list(CONFIGS))
    ap.add_argument("--summary-only", action="store_true")
    ap.add_argument("--models", choices=["all", "baselines", "cnn"], default="all")
    ap.add_argument("--device", default="cpu", help="the CNNs' device (auto, cpu, cuda)")
    ap.add_argument("--jobs", type=int, default=1, help="jobs (processes) at a time")
    ap.add_argument("--max-seconds", type=float, default=float("inf"), help="no job starts after this")
    ap.add_argument("--cell-every", type=int, default=7, help="every k-th other cell of the RPKM table")
    ap.add_argument("--cell-start", type=int, default=0, help="from this other cell on (held-out tasks: 1, 2, ...)")
    ap.add_argument("--resplit-start", type=int, default=0, help="the first split seed (held-out tasks: e.g. 10)")
    ap.add_argument("--data", type=Path, default=SHARED, help="the shared data folder (real/, roadmap/)")
    args = ap.parse_args()
    SHARED = args.data
    torch.set_num_threads(1)
    df = pd.read_csv(args.out, sep="\t") if args.out.exists() else pd.DataFrame(
        columns=["task", "model", "valid_auc", "test_auc", "seconds"])
    if not args.summary_only:
        df = run_jobs(args, df)
    present = [c for c in CONFIGS if c in set(df["model"])]
    wide = df.pivot(index="task", columns="model", values="test_auc").reindex(columns=[*TRAINED, *present])
    print(wide.round(4).to_string())
    print(summarise(df).round(4).to_string(index=False))
    print("\n" + markdown_summary(df) + "\n" + markdown_versus_each(df), end="")


if __name__ == "__main__":
    main()
