"""Faults: kill -9 of the whole run or of one job, and of the demo generator; the rerun is clean and identical."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from conftest import LOCAL, ROOT, SNAKEMAKE, own_config, snakemake

TARGET = "results/cellA/cnn/metrics.json"
# Quick training through the command line (also checks that nested --config values arrive typed): 2 seeds (the
# preset's 5 add nothing to a check of bytes), 8 epochs, so that a kill after epoch 2 lands mid-training.
TRAINING = ["--config", "cnn={seeds: 2, params: {epochs: 8, patience: null, batch_size: 64}}"]
OUTPUTS = ["predictions.tsv", "history.tsv"]


def start(work: Path, config: Path) -> subprocess.Popen:
    """Snakemake on ``TARGET`` in its own process group (so kill -9 can reach every job)."""
    cmd = SNAKEMAKE + ["--snakefile", str(ROOT / "Snakefile"), *LOCAL, "--directory", str(work), TARGET,
                       "--configfile", str(config), *TRAINING]
    return subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)


def wait_for_epoch(work: Path, proc: subprocess.Popen, epoch: int = 2, timeout: float = 300) -> None:
    """Wait until the CNN log shows ``epoch`` (training is under way)."""
    log = work / "logs" / "cnn" / "cellA.log"
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if log.exists() and f"epoch {epoch}/" in log.read_text():
            return
        assert proc.poll() is None, proc.communicate()[0][-3000:]
        time.sleep(0.05)
    pytest.fail("training did not start in time")


def training_job(proc: subprocess.Popen) -> psutil.Process:
    """The process that runs train_cnn.py under Snakemake ``proc``."""
    for child in psutil.Process(proc.pid).children(recursive=True):
        if any("train_cnn" in part for part in child.cmdline()):
            return child
    pytest.fail("no train_cnn process")


def results(work: Path) -> dict[str, bytes]:
    return {name: (work / "results/cellA/cnn" / name).read_bytes() for name in OUTPUTS}


def hidden_files(work: Path) -> list[Path]:
    return [p for p in (work / "results").rglob(".*") if p.is_file()]


@pytest.fixture(scope="module")
def reference(tmp_path_factory, small_data):
    """An uninterrupted run of one cell's CNN: (its folder, its results)."""
    work = tmp_path_factory.mktemp("reference")
    config = own_config(work, small_data, cells_rows=["cellA"])
    out = snakemake(TARGET, "--configfile", str(config), *TRAINING, workdir=work)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    return work, results(work)


def before_training(reference, work: Path) -> Path:
    """``work`` as the reference run was before training (features, labels and split made): its config."""
    shutil.copytree(reference[0], work, dirs_exist_ok=True,
                    ignore=lambda folder, names: ["cnn"] if Path(folder).name in ("cellA", "logs") else [])
    return work / "config.yaml"


@pytest.mark.slow  # trains a CNN in the workflow, twice
def test_kill_9_of_the_whole_run_then_rerun_is_identical(tmp_path, reference):
    config = before_training(reference, tmp_path)
    proc = start(tmp_path, config)
    wait_for_epoch(tmp_path, proc)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not (tmp_path / TARGET).exists() and not (tmp_path / "results/cellA/cnn/predictions.tsv").exists()
    assert snakemake("--unlock", "--configfile", str(config), workdir=tmp_path).returncode == 0
    out = snakemake(TARGET, "--configfile", str(config), *TRAINING, workdir=tmp_path)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    assert results(tmp_path) == reference[1]
    assert hidden_files(tmp_path) == []


@pytest.mark.slow  # trains a CNN in the workflow, twice
def test_killed_training_job_fails_clearly_and_reruns_clean(tmp_path, reference):
    # What an out-of-memory kill does: SIGKILL to the job's process alone.
    config = before_training(reference, tmp_path)
    proc = start(tmp_path, config)
    wait_for_epoch(tmp_path, proc)
    training_job(proc).kill()
    text = proc.communicate(timeout=300)[0]
    assert proc.returncode != 0
    assert "Error in rule train_cnn" in text and "logs/cnn/cellA.log" in text, text[-3000:]
    assert not (tmp_path / "results/cellA/cnn/predictions.tsv").exists()
    out = snakemake(TARGET, "--configfile", str(config), *TRAINING, workdir=tmp_path)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    assert results(tmp_path) == reference[1]
    assert hidden_files(tmp_path) == []


def test_kill_9_during_demo_generation_leaves_no_temporary_after_the_rerun(tmp_path):
    # Finding 12: the killed writer's hidden temporary stayed for good.
    make = [sys.executable, "-c", "import sys; from deepchrome.demo import make_demo; "
            "make_demo(sys.argv[1], n_genes=600, seed=2)", str(tmp_path)]
    proc = subprocess.Popen(make, cwd=ROOT)
    while proc.poll() is None and not list(tmp_path.glob(".*.bigwig")):
        time.sleep(0.005)
    proc.kill()
    proc.wait()
    left = list(tmp_path.glob(".*"))
    assert left, "the generator finished before it could be killed mid-write"
    assert subprocess.run(make, cwd=ROOT).returncode == 0
    assert list(tmp_path.glob(".*")) == []
