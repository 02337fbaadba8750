"""The CNN on a GPU at the paper's scale: one cell's ensemble, per-epoch latency, a 56-cell study (prints figures; not a test).

Measures with the package's own code, on ``--device`` (default auto), within one global deadline
(``--deadline`` seconds from start: every step gets an alarm at its part's end and the study starts no job
and keeps none running past it), most important figures first:

A. The cell in ``--cell`` (the workflow's ``features.npz`` and ``labels.tsv``, with ``split.tsv`` there or
   one folder up), ``--genes N`` genes of it (stratified by split and label) or all: the ``default`` preset's
   ensemble trained twice with seed 0 by :func:`deepchrome.train.train_and_save` (device recorded, test AUC
   of each run and its difference to ``--cpu-metrics``, whether the two runs' member scores are identical
   and their largest difference, wall seconds, seconds per epoch from the training's own per-epoch log,
   best epochs), then the feature maps of run 1 on the device by :func:`deepchrome.explain.cell_class_maps`
   (the feature-map rule's function, with ``featuremaps`` of config/config.yaml).
B. One epoch (``epochs=1``) of the ``paper`` preset (batch 1, SGD) and of the ``default`` preset by
   :func:`deepchrome.train.train_cnn`, on the device and on the CPU (``--b-cpu-threads`` torch threads).
   The paper preset runs on ``--paper-genes`` train genes on both (every split cut by the same fraction,
   stratified), scaled to the whole cell's epoch by the fraction (and says so), then for one whole epoch on
   the device; the default preset on the whole cell on both.
C. ``--cells`` trainings of the ``default`` preset on the cell (job i: first seed i), scheduled as Snakemake
   runs cell jobs: one fresh ``python`` process per job (imports deepchrome, loads the cell, trains with
   ``train_and_save`` into its own folder, so CUDA starts in every job), ``--jobs K`` of them at a time on
   the one device with ``--cpu-threads`` torch threads each; several K in turn (``--jobs 16 8``), each with
   an equal share of the time left: jobs start for at most ``--max-seconds`` of it, and those still running
   at its end are stopped. Cells not done get a projected total, labelled as a projection.

Writes under ``--out`` (flat): ``results.json`` (rewritten after every step), ``jobs.tsv`` (one row per job
of C), ``summary.tsv`` and ``log.txt`` (what was printed).

    PYTHONPATH=$PWD python benchmarks/gpu_cells.py --cell DIR --out DIR [--device auto] [--deadline 290]
        [--genes N] [--epochs E] [--paper-genes 1000] [--cells 56] [--jobs 16 8] [--cpu-threads 1]
        [--max-seconds 120] [--skip A B C]
"""

import time

_PROCESS_START = time.time()  # before the heavy imports: a study job's wall time includes them

import argparse  # noqa: E402
import json  # noqa: E402
import logging  # noqa: E402
import os  # noqa: E402
import signal  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import traceback  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import torch  # noqa: E402
import yaml  # noqa: E402

from deepchrome.dataset import CellData, load_cell, save_cell  # noqa: E402
from deepchrome.ensemble import load_model  # noqa: E402
from deepchrome.explain import cell_class_maps  # noqa: E402
from deepchrome.io import write_json, write_tsv  # noqa: E402
from deepchrome.train import resolve_params, seed_list, select_device, train_and_save, train_cnn  # noqa: E402

RESERVE = 10.0  # seconds kept at the end of the deadline for the summary
CONFIG = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())


class OutOfTime(Exception):
    """A step ran past its part's time."""


class EpochTimes(logging.Handler):
    """Collects the seconds of every epoch from train_cnn's per-epoch log line (``epoch i/n ... (s s)``); as a
    context manager, listens to deepchrome.train for the ``with`` block."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.seconds: list[float] = []

    def emit(self, record: logging.LogRecord) -> None:
        if isinstance(record.msg, str) and record.msg.startswith("epoch ") and record.args:
            self.seconds.append(float(record.args[-1]))

    def __enter__(self) -> "EpochTimes":
        logging.getLogger("deepchrome.train").addHandler(self)
        return self

    def __exit__(self, *exc) -> None:
        logging.getLogger("deepchrome.train").removeHandler(self)


def read_cell(folder: Path) -> CellData:
    """The cell the parts share, from the workflow's files in ``folder`` (see prepare_cell)."""
    return load_cell(folder / "features.npz", folder / "labels.tsv", folder / "split.tsv")


class Study:
    """The run's clock, printed log and result files."""

    def __init__(self, out: Path, deadline: float) -> None:
        self.out, self.end = out, _PROCESS_START + deadline
        out.mkdir(parents=True, exist_ok=True)
        self.log = open(out / "log.txt", "a")
        self.results: dict = {"started_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(_PROCESS_START))}
        self.summary: list[dict] = []
        self.jobs: list[dict] = []

    def say(self, text: str) -> None:
        print(text, flush=True)
        self.log.write(text + "\n")
        self.log.flush()

    def left(self) -> float:
        """Seconds until the deadline less the reserve for the summary."""
        return self.end - RESERVE - time.time()

    def figure(self, part: str, measure: str, value, note: str = "") -> None:
        """One line of the summary table, printed at once."""
        self.summary.append({"part": part, "measure": measure, "value": value, "note": note})
        self.say(f"  [{part}] {measure}: {value}{'  (' + note + ')' if note else ''}")

    def save(self) -> None:
        write_json(self.results, self.out / "results.json")
        write_tsv(pd.DataFrame(self.summary, columns=["part", "measure", "value", "note"]), self.out / "summary.tsv")
        if self.jobs:
            write_tsv(pd.DataFrame(self.jobs), self.out / "jobs.tsv")

    def step(self, record: dict, name: str, fn, until: float) -> bool:
        """Run ``fn()`` (its dict goes to ``record[name]``) with an alarm at ``until`` (epoch seconds, at most the
        deadline); an error or the alarm is printed and recorded, and the next step runs. True when it finished."""
        seconds = min(until, self.end - RESERVE) - time.time()
        t0 = time.perf_counter()
        if seconds < 1:
            record[name] = {"error": "skipped: no time left"}
            self.say(f"  {name}: skipped, no time left")
            self.save()
            return False

        def alarm(signum, frame):
            raise OutOfTime(f"stopped after {seconds:.0f} s (its part's time or the deadline)")

        previous = signal.signal(signal.SIGALRM, alarm)
        signal.setitimer(signal.ITIMER_REAL, seconds)
        try:
            record[name] = fn()
            return True
        except Exception as e:  # a failed step must not stop the others
            signal.setitimer(signal.ITIMER_REAL, 0)
            record[name] = {"error": f"{type(e).__name__}: {e}", "seconds_until_error": time.perf_counter() - t0}
            self.say(f"  {name} FAILED: {type(e).__name__}: {e}")
            if not isinstance(e, OutOfTime):
                self.say(traceback.format_exc(limit=6))
            return False
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
            self.save()


def subsample(cell: CellData, fraction: float, seed: int = 0) -> CellData:
    """``fraction`` of the cell's genes (at least one per split and label), drawn within each split and label so
    both keep their shares; rows stay in file order."""
    rng = np.random.default_rng(seed)
    keep = []
    for split in np.unique(cell.split):
        for label in (0, 1):
            rows = np.flatnonzero((cell.split == split) & (cell.y == label))
            if rows.size:
                keep.append(rng.choice(rows, max(1, round(fraction * rows.size)), replace=False))
    rows = np.sort(np.concatenate(keep))
    return CellData(X=cell.X[rows], y=cell.y[rows], gene_id=cell.gene_id[rows], split=cell.split[rows],
                    marks=cell.marks, level=None if cell.level is None else cell.level[rows], bins=cell.bins)


def default_cnn(epochs: int | None) -> dict:
    """The config's cnn block of the default preset (``epochs``: None, the preset's)."""
    return {"preset": "default", "params": {} if epochs is None else {"epochs": epochs}}


def train_cell(cell_dir: Path, work: Path, first_seed: int, device: str, threads: int | None,
               epochs: int | None) -> dict:
    """Load the cell from the workflow's files and train the default preset's ensemble with train_and_save into
    ``work`` (model.pt, history.tsv, metrics.json); the figures of that run."""
    t0 = time.perf_counter()
    cell = read_cell(cell_dir)
    load_s = time.perf_counter() - t0
    work.mkdir(parents=True, exist_ok=True)
    with EpochTimes() as timer:
        t1 = time.perf_counter()
        result = train_and_save(cell, default_cnn(epochs), first_seed, device, threads, "class", cell_dir.name,
                                work / "model.pt", work / "history.tsv",
                                work / "metrics.json")
        wall = time.perf_counter() - t1
    metrics = json.loads((work / "metrics.json").read_text())
    return {"device": result.device, "device_warning": result.warning, "test_auc": metrics["test_auc"],
            "valid_auc": metrics["valid_auc"], "train_seconds": result.seconds, "wall_seconds": wall,
            "load_seconds": load_s, "epochs": len(timer.seconds), "epoch_seconds": timer.seconds,
            "epochs_run": {str(s["seed"]): s["epochs_run"] for s in metrics["seeds"]},
            "best_epoch": {str(s): e for s, e in result.best_epoch.items()},
            "torch_threads": torch.get_num_threads(), "scores": result.member_scores}


def prepare_cell(args, study: Study, scratch: Path) -> Path:
    """The folder the parts load the cell from: ``--cell`` itself, or ``--genes`` of it written as the workflow's
    files into ``scratch``."""
    split = args.cell / "split.tsv" if (args.cell / "split.tsv").exists() else args.cell.parent / "split.tsv"
    cell = load_cell(args.cell / "features.npz", args.cell / "labels.tsv", split)
    counts = {s: int((cell.split == s).sum()) for s in ("train", "valid", "test")}
    study.results["cell"] = {"folder": str(args.cell), "split": str(split), "genes": len(cell.y), "splits": counts,
                             "marks": cell.marks, "bins": int(cell.X.shape[2])}
    if args.genes and args.genes < len(cell.y):
        cell = subsample(cell, args.genes / len(cell.y))
    folder = scratch / "cell"
    folder.mkdir(parents=True, exist_ok=True)
    save_cell(cell, folder / "features.npz", folder / "labels.tsv", folder / "split.tsv")
    used = {s: int((cell.split == s).sum()) for s in ("train", "valid", "test")}
    study.results["cell"]["used"] = {"genes": len(cell.y), "splits": used,
                                     "subsampled": bool(args.genes and args.genes < study.results["cell"]["genes"])}
    study.say(f"cell {args.cell}: {len(cell.y)} genes used ({used}), {len(cell.marks)} marks x {cell.X.shape[2]} bins")
    return folder


def per_epoch(run: dict) -> float:
    """Mean seconds of an epoch after the first (the first holds the device's warm-up); the first if alone."""
    s = run["epoch_seconds"]
    return float(np.mean(s[1:])) if len(s) > 1 else float(s[0]) if s else float("nan")


def part_a(args, study: Study, cell_dir: Path, scratch: Path) -> None:
    """The default preset twice with seed 0 on the device, against the CPU run; the feature maps."""
    rec = study.results.setdefault("A", {})
    until = time.time() + args.a_seconds
    study.say(f"\n== A. default preset, seed 0, twice on {args.device}; then the feature maps "
              f"(part time {args.a_seconds:.0f} s) ==")
    cpu = json.loads(args.cpu_metrics.read_text()) if args.cpu_metrics and args.cpu_metrics.exists() else None
    now = resolve_params("default")
    differs = [k for k in ("n_filters", "kernel", "pool", "hidden", "linear")
               if cpu and list(np.atleast_1d(cpu["params"].get(k))) != list(np.atleast_1d(now[k]))]
    if differs:  # a reference of another network is no reference
        study.figure("A", "CPU reference", "ignored", f"{args.cpu_metrics}: its {', '.join(differs)} differ from "
                     "the default preset's; train the CPU reference with the current default")
        cpu = None
    if cpu:
        rec["cpu"] = {"test_auc": cpu["test_auc"], "seconds": cpu["seconds"], "device": cpu["device"],
                      "best_epoch": {str(s["seed"]): s["best_epoch"] for s in cpu["seeds"]},
                      "epochs_run": {str(s["seed"]): s["epochs_run"] for s in cpu["seeds"]}}
        study.figure("A", "CPU reference test AUC", round(cpu["test_auc"], 5),
                     f"{args.cpu_metrics}, {cpu['seconds']:.1f} s, best epochs {list(rec['cpu']['best_epoch'].values())}")
    scores = {}
    for run in (1, 2):
        def train(run=run):
            out = train_cell(cell_dir, scratch / f"A_run{run}", 0, args.device, None, args.epochs)
            scores[run] = out.pop("scores")
            return out
        if study.step(rec, f"run{run}", train, until):
            r = rec[f"run{run}"]
            if run == 1:
                study.figure("A", "device", r["device"], r["device_warning"] or "")
            diff = f", minus CPU {r['test_auc'] - cpu['test_auc']:+.5f}" if cpu else ""
            study.figure("A", f"run {run} test AUC", round(r["test_auc"], 5), f"valid {r['valid_auc']:.5f}{diff}")
            study.figure("A", f"run {run} wall s", round(r["wall_seconds"], 2),
                         f"train_cnn {r['train_seconds']:.2f} s, {r['epochs']} epochs, "
                         f"first epoch {r['epoch_seconds'][0]:.3f} s" if r["epoch_seconds"] else "")
            study.figure("A", f"run {run} s per epoch", round(per_epoch(r), 4),
                         f"mean of epochs 2.. from the per-epoch log; best epochs {list(r['best_epoch'].values())}, "
                         f"epochs run {list(r['epochs_run'].values())}")
    if len(scores) == 2:
        same = bool(np.array_equal(scores[1], scores[2]))
        rec["identical_member_scores"] = same
        rec["max_abs_diff_member_scores"] = float(np.abs(scores[1] - scores[2]).max())
        study.figure("A", "runs 1 and 2 member scores bit-identical", same,
                     f"max abs diff {rec['max_abs_diff_member_scores']:.3g}")
        study.save()

    options = {**CONFIG["featuremaps"], **({"steps": args.fm_steps} if args.fm_steps else {}),
               **({"starts": args.fm_starts} if args.fm_starts else {})}

    def featuremaps():
        dev, _ = select_device(args.device)
        members = [m.to(dev) for m in load_model(scratch / "A_run1" / "model.pt")[0]]
        cell = read_cell(cell_dir)
        outs = [scratch / f"A_fm.{name}" for name in ("on.npy", "off.npy", "starts.npz", "stability.json")]
        t0 = time.perf_counter()
        cell_class_maps(members, cell.X.shape[1], cell.X.shape[2], options, *outs)
        seconds = time.perf_counter() - t0
        stability = json.loads(outs[3].read_text())
        return {"device": str(dev), "seconds": seconds, "options": options, "stability": stability}

    if "run1" in rec and "error" not in rec["run1"] and study.step(rec, "featuremaps", featuremaps, until):
        f = rec["featuremaps"]
        study.figure("A", "feature maps s", round(f["seconds"], 2),
                     f"ON and OFF, {options['starts']} starts x {options['steps']} steps on {f['device']}; split-half r "
                     f"ON {f['stability']['on']['split_half_r']:.3f} OFF {f['stability']['off']['split_half_r']:.3f}")


def one_epoch(cell: CellData, preset: str, device: str, threads: int | None, scale: float) -> dict:
    """One epoch of ``preset`` by train_cnn; its seconds (from the per-epoch log) times ``scale``."""
    params = resolve_params(preset, {"epochs": 1})
    with EpochTimes() as timer:
        result = train_cnn(cell, params, seed_list(params, 0), device=device, threads=threads)
    return {"device": result.device, "torch_threads": torch.get_num_threads(), "train_genes": int((cell.split == "train").sum()),
            "genes": len(cell.y), "seeds": params["seeds"], "epoch_seconds_measured": timer.seconds[0],
            "scale": scale, "epoch_seconds": timer.seconds[0] * scale, "train_cnn_seconds": result.seconds}


def part_b(args, study: Study, cell_dir: Path) -> None:
    """Seconds per epoch of the paper and default presets, on the device and on the CPU."""
    rec = study.results.setdefault("B", {})
    until = time.time() + args.b_seconds
    study.say(f"\n== B. one epoch of the paper and default presets, {args.device} vs CPU "
              f"(part time {args.b_seconds:.0f} s) ==")
    cell = read_cell(cell_dir)
    n_train = int((cell.split == "train").sum())
    threads = args.b_cpu_threads or len(os.sched_getaffinity(0))
    # The paper preset on the same train genes on both (batch 1: an epoch's time grows with its genes), then the
    # default preset on the whole cell on both, then a whole paper epoch on the device to confirm the scaling.
    runs = [("paper_device", "paper", args.device, None, args.paper_genes),
            ("paper_cpu", "paper", "cpu", threads, args.paper_genes),
            ("default_device", "default", args.device, None, args.default_device_genes),
            ("default_cpu", "default", "cpu", threads, args.default_cpu_genes),
            ("paper_device_all", "paper", args.device, None, None)]
    for name, preset, device, n_threads, genes in runs:

        def measure(preset=preset, device=device, n_threads=n_threads, genes=genes):
            part = subsample(cell, genes / n_train) if genes and genes < n_train else cell
            return one_epoch(part, preset, device, n_threads, n_train / int((part.split == "train").sum()))

        if study.step(rec, name, measure, until):
            r = rec[name]
            how = (f"{r['train_genes']} train genes measured ({r['epoch_seconds_measured']:.2f} s), scaled x{r['scale']:.2f} "
                   f"to {n_train}" if r["scale"] != 1 else f"all {n_train} train genes")
            study.figure("B", f"{preset} s per epoch, {'CPU' if device == 'cpu' else 'device'} run on {r['device']}",
                         round(r["epoch_seconds"], 3), f"{how}; {r['seeds']} seed(s); torch threads {r['torch_threads']}")
    for preset in ("paper", "default"):
        dev, cpu = rec.get(f"{preset}_device", {}), rec.get(f"{preset}_cpu", {})
        if "epoch_seconds" in dev and "epoch_seconds" in cpu:
            rec[f"{preset}_cpu_over_device"] = cpu["epoch_seconds"] / dev["epoch_seconds"]
            study.figure("B", f"{preset} CPU / device time per epoch", round(rec[f"{preset}_cpu_over_device"], 2))
    study.save()


def run_job(args) -> None:
    """One study job (a fresh process, as a Snakemake job): train the cell into --job-dir; print its figures."""
    t0 = time.time()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    out = train_cell(args.cell, args.job_dir, args.seed, args.device, args.cpu_threads, args.epochs)
    out.pop("scores")
    out["process_to_train_start_seconds"] = t0 - _PROCESS_START
    out["process_seconds"] = time.time() - _PROCESS_START
    print("RESULT " + json.dumps(out), flush=True)


def expected_epochs(args, study: Study) -> int | None:
    """Epochs a default-preset training of this cell runs: part A's run 1, else the CPU run's longest seed
    (``--cpu-metrics``), at most ``--epochs``; None when neither is known."""
    run1 = study.results.get("A", {}).get("run1", {})
    n = run1.get("epochs")
    if not n and args.cpu_metrics.exists():
        n = max(s["epochs_run"] for s in json.loads(args.cpu_metrics.read_text())["seeds"])
    return min(n, args.epochs) if n and args.epochs else n or args.epochs


def job_row(k: int, i: int, proc: subprocess.Popen, began: float, start: float, log: Path) -> dict:
    """The figures of one finished (or stopped) study job, from its exit and its log."""
    lines = log.read_text().splitlines()
    result = next((json.loads(x[7:]) for x in reversed(lines) if x.startswith("RESULT ")), None)
    row = {"jobs": k, "job": i, "first_seed": i, "rc": proc.returncode, "start_s": round(began - start, 2),
           "wall_s": round(time.time() - began, 2), "end_s": round(time.time() - start, 2), "done": result is not None,
           "epochs": sum(" deepchrome.train epoch " in x for x in lines)}
    if result:
        row.update({"device": result["device"], "train_s": round(result["train_seconds"], 2),
                    "startup_s": round(result["process_to_train_start_seconds"], 2), "epochs": result["epochs"],
                    "test_auc": round(result["test_auc"], 5)})
    return row


def part_c(args, study: Study, cell_dir: Path, scratch: Path) -> None:
    """The study: ``--cells`` job processes, ``--jobs K`` at a time, for each K in turn.

    Each setting has an equal share of the time left: no job starts after ``--max-seconds`` or when the median
    finished job would not end within the share, and jobs still running at its end are stopped. A setting that
    does not finish every cell reports a projection (labelled so): from the finished jobs' rate, or when none
    finished, from the stopped jobs' epochs against the epochs a training runs (part A).
    """
    rec = study.results.setdefault("C", {})
    study.say(f"\n== C. {args.cells} default-preset cell jobs, one process each, on {args.device}, "
              f"{args.cpu_threads} torch thread(s) per job, --jobs {args.jobs} ==")
    if torch.cuda.is_available():
        torch.cuda.empty_cache()  # the jobs get the memory parts A and B held
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""),
           "PYTHONUNBUFFERED": "1"}
    epochs = expected_epochs(args, study)
    for i_setting, k in enumerate(args.jobs):
        start = time.time()
        share = study.left() / (len(args.jobs) - i_setting)
        end, window = start + share, min(args.max_seconds, share)
        name = f"jobs{k}"
        if share < 5:
            rec[name] = {"error": "skipped: no time left"}
            study.say(f"  --jobs {k}: skipped, no time left")
            continue
        study.say(f"  --jobs {k}: jobs start for at most {window:.0f} s, stopped after {share:.0f} s")
        pending, running, done, stopped = list(range(args.cells)), {}, [], []
        while pending or running:
            now = time.time()
            typical = statistics.median(r["wall_s"] for r in done) if done else 0.0
            if now - start >= window or now + typical > end:
                pending.clear()  # no new jobs after the cap, nor ones that would not end in time
            while pending and len(running) < k:
                i = pending.pop(0)
                work = scratch / f"C_{k}_{i}"
                work.mkdir(parents=True, exist_ok=True)
                cmd = [sys.executable, str(Path(__file__).resolve()), "--job-dir", str(work), "--cell", str(cell_dir),
                       "--seed", str(i), "--device", args.device, "--cpu-threads", str(args.cpu_threads)]
                if args.epochs:
                    cmd += ["--epochs", str(args.epochs)]
                with open(work / "job.log", "w") as log:
                    running[i] = (subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env), time.time())
            if time.time() >= end:  # the setting's time is over: stop its jobs (children of this script), all at once
                for proc, _ in running.values():
                    if proc.poll() is None:
                        proc.kill()
            for i, (proc, began) in list(running.items()):
                if proc.poll() is None:
                    if time.time() < end:
                        continue
                    proc.wait()
                del running[i]
                row = job_row(k, i, proc, began, start, scratch / f"C_{k}_{i}" / "job.log")
                (done if row["done"] else stopped).append(row)
                if not row["done"] and proc.returncode != -signal.SIGKILL:
                    tail = (scratch / f"C_{k}_{i}" / "job.log").read_text().splitlines()[-5:]
                    study.say(f"    job {i} (--jobs {k}) failed (rc {proc.returncode}); its log ends:\n      "
                              + "\n      ".join(tail))
                study.jobs.append(row)
                study.save()
            time.sleep(0.2)
        total = time.time() - start
        out = {"jobs": k, "cpu_threads_per_job": args.cpu_threads, "cells": args.cells, "cells_done": len(done),
               "cells_stopped": len(stopped), "wall_seconds": total, "start_window_s": window, "share_s": share}
        for key, col in (("job_wall_median_s", "wall_s"), ("job_train_median_s", "train_s"),
                         ("job_startup_median_s", "startup_s"), ("test_auc_median", "test_auc")):
            out[key] = statistics.median(r[col] for r in done) if done else None
        if len(done) < args.cells:
            if done:
                out["projected_total_s"] = max(r["end_s"] for r in done) / len(done) * args.cells
                out["projection_from"] = "the finished jobs' rate"
            else:
                partial = [r["wall_s"] * epochs / r["epochs"] for r in stopped if r["epochs"]] if epochs else []
                if partial:
                    out["projected_job_s"] = statistics.median(partial)
                    out["projected_total_s"] = -(-args.cells // k) * out["projected_job_s"]
                    out["projection_from"] = (f"stopped jobs' epochs against {epochs} epochs a training runs, "
                                              f"{k} jobs at a time")
        rec[name] = out
        study.save()
        if len(done) == args.cells:
            study.figure("C", f"--jobs {k}: total wall s for {args.cells} cells", round(total, 1),
                         f"job median {out['job_wall_median_s']:.1f} s (train {out['job_train_median_s']:.1f} s, "
                         f"start-up {out['job_startup_median_s']:.1f} s); median test AUC {out['test_auc_median']}")
        else:
            proj = (f"PROJECTION for {args.cells} cells: {out['projected_total_s']:.0f} s from {out['projection_from']}"
                    if "projected_total_s" in out else "no projection: no job finished or trained an epoch")
            med = (f"; job median {out['job_wall_median_s']:.1f} s (train {out['job_train_median_s']:.1f} s, start-up "
                   f"{out['job_startup_median_s']:.1f} s); median test AUC {out['test_auc_median']}" if done else "")
            study.figure("C", f"--jobs {k}: cells done in {total:.0f} s", f"{len(done)}/{args.cells}", proj + med)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cell", type=Path, required=True, help="folder with features.npz, labels.tsv (split.tsv here or up)")
    ap.add_argument("--out", type=Path, help="folder for results.json, jobs.tsv, summary.tsv, log.txt")
    ap.add_argument("--cpu-metrics", type=Path, help="the CPU run's metrics.json (default: CELL/cnn/metrics.json)")
    ap.add_argument("--device", default="auto")
    ap.add_argument("--deadline", type=float, default=290.0, help="seconds from start by which the script ends")
    ap.add_argument("--genes", type=int, help="use this many genes of the cell (stratified by split and label)")
    ap.add_argument("--epochs", type=int, help="cap the default preset's epochs (A and C; a quick check)")
    ap.add_argument("--a-seconds", type=float, default=110.0, help="time of part A")
    ap.add_argument("--b-seconds", type=float, default=70.0, help="time of part B")
    ap.add_argument("--fm-steps", type=int, help="feature-map steps (default: config/config.yaml)")
    ap.add_argument("--fm-starts", type=int, help="feature-map starts (default: config/config.yaml)")
    ap.add_argument("--paper-genes", type=int, default=1000,
                    help="train genes of B's paper epochs compared on the device and the CPU (then a whole one on the device)")
    ap.add_argument("--default-device-genes", type=int, help="train genes of B's default epoch on the device (default all)")
    ap.add_argument("--default-cpu-genes", type=int, help="train genes of B's default epoch on the CPU (default all)")
    ap.add_argument("--b-cpu-threads", type=int, help="torch threads of B's CPU runs (default: every CPU this process may use)")
    ap.add_argument("--cells", type=int, default=56)
    ap.add_argument("--jobs", type=int, nargs="+", default=[16, 8], help="jobs at a time; several: one setting each")
    ap.add_argument("--cpu-threads", type=int, default=1, help="torch threads of each study job")
    ap.add_argument("--max-seconds", type=float, default=120.0, help="per --jobs setting: no new job after this")
    ap.add_argument("--skip", nargs="*", default=[], choices=["A", "B", "C"])
    ap.add_argument("--job-dir", type=Path, help=argparse.SUPPRESS)  # a study job (part C's child process)
    ap.add_argument("--seed", type=int, default=0, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.job_dir:
        run_job(args)
        return
    if args.out is None:
        ap.error("--out is required")
    args.cpu_metrics = args.cpu_metrics or args.cell / "cnn" / "metrics.json"
    logging.basicConfig(level=logging.WARNING, format="%(name)s: %(message)s")
    logging.getLogger("deepchrome").setLevel(logging.INFO)  # the per-epoch lines reach EpochTimes
    for handler in logging.getLogger().handlers:
        handler.setLevel(logging.WARNING)
    study = Study(args.out, args.deadline)
    dev, warning = select_device(args.device)
    study.results["host"] = {"device": args.device, "resolved": str(dev), "warning": warning, "torch": torch.__version__,
                             "cuda": torch.version.cuda, "gpu": torch.cuda.get_device_name(dev) if dev.type == "cuda" else None,
                             "cpus": os.cpu_count(), "cpus_usable": len(os.sched_getaffinity(0)), "torch_threads_default": torch.get_num_threads(),
                             "python": sys.version.split()[0], "argv": sys.argv[1:]}
    study.say(f"gpu_cells: device {args.device} -> {dev} {study.results['host']['gpu'] or ''}; torch {torch.__version__}, "
              f"{os.cpu_count()} CPUs, {torch.get_num_threads()} torch threads; deadline {args.deadline:.0f} s")
    with tempfile.TemporaryDirectory(prefix="gpu_cells.") as tmp:
        scratch = Path(tmp)
        cell_dir = prepare_cell(args, study, scratch)
        study.save()
        for part, run in (("A", lambda: part_a(args, study, cell_dir, scratch)), ("B", lambda: part_b(args, study, cell_dir)),
                          ("C", lambda: part_c(args, study, cell_dir, scratch))):
            if part in args.skip:
                continue
            try:
                run()
            except Exception as e:  # a part's failure outside its steps: the next part still runs
                study.results.setdefault(part, {})["error"] = f"{type(e).__name__}: {e}"
                study.say(f"part {part} FAILED: {type(e).__name__}: {e}\n{traceback.format_exc(limit=6)}")
            study.save()
    study.results["seconds"] = time.time() - _PROCESS_START
    study.save()
    study.say(f"\n== summary ({study.results['seconds']:.0f} s; files in {args.out}) ==")
    table = pd.DataFrame(study.summary)
    study.say(table.to_string(index=False, max_colwidth=160) if len(table) else "(no figures)")


if __name__ == "__main__":
    main()
