"""profiles/slurm: checked statically, planned by dry runs, and run for real on a one-node SLURM cluster.

The cluster test installs Debian's slurm-wlm and munge when missing (apt-get, as root), starts a
cluster on 127.0.0.1 with tests/slurm/start_cluster.sh (state in a temporary folder, config in
/etc/slurm, which SLURM's job steps read), builds one cell's models of the demo again through the profile
in a copy of the session's local demo run, compares the metrics with the local run's and stops every daemon
by its PID. Outside CI it skips with the reason
when it cannot run (no root, no apt-get, a slurm.conf it did not write); in CI (CI=true) that fails.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml

from deepchrome.spec import configured_models
from conftest import apt_install, copy_run

ROOT = Path(__file__).resolve().parents[1]
PROFILE = ROOT / "profiles" / "slurm"
HELPERS = ROOT / "tests" / "slurm"
SNAKEMAKE = [sys.executable, "-m", "snakemake"]
IN_CI = os.environ.get("CI", "").lower() == "true"
MARKER = "# deepchrome test cluster: written by tests/slurm/start_cluster.sh, removed by stop_cluster.sh"
# what only this local cluster needs on top of the profile: no slurmdbd (so squeue, not sacct, and
# an account of our choosing), its partition, and short status intervals for a quick test
CLUSTER_ARGS = ["--slurm-status-command", "squeue", "--slurm-init-seconds-before-status-checks", "2",
                "--seconds-between-status-checks", "1", "--default-resources", "slurm_account=deepchrome",
                "slurm_partition=debug"]
# The local run is the session's demo run (tests/conftest.py); the SLURM run is a copy of it without one cell's
# results, which builds that cell's models again through the profile (one cell: each SLURM job costs seconds of
# Snakemake start-up, and CI has 2 cores; the run still fans out over marks and models, and groups jobs).
CELLS = ["cellA"]


def not_possible(reason: str):
    """Skip outside CI; in CI every skip is a failure."""
    if IN_CI:
        pytest.fail(f"CI=true: the SLURM test must run, but {reason}")
    pytest.skip(reason)


def load_profile(text: str | None = None) -> dict:
    """The profile as Snakemake reads it (yte templating included): {option: value or [key=value, ...]}."""
    from snakemake.profiles import ProfileConfigFileParser

    stream = io.StringIO(text if text is not None else (PROFILE / "config.yaml").read_text())
    stream.name = str(PROFILE / "config.yaml")
    return ProfileConfigFileParser().parse(stream)


def set_resources(profile: dict) -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    for entry in profile["set-resources"]:
        rule, assign = entry.split(":", 1)
        key, value = assign.split("=", 1)
        out.setdefault(rule, {})[key] = value
    return out


def workflow_rules() -> set[str]:
    """Every rule and checkpoint name of rules/*.smk that runs something (targets aside)."""
    import re

    names = set()
    for smk in (ROOT / "rules").glob("*.smk"):
        names |= set(re.findall(r"^\s*(?:rule|checkpoint)\s+(\w+)\s*:", smk.read_text(), re.M))
    return names - {"all", "export", "explain", "transfer"}


def evaluate(expression: str, attempt: int, threads: int = 1):
    return eval(expression, {}, {"attempt": attempt, "threads": threads})


# ---- the profile, statically --------------------------------------------------------------------

def test_profile_uses_the_slurm_plugin_with_retries():
    profile = load_profile()
    assert profile["executor"] == "slurm"
    assert int(profile["retries"]) >= 1
    for entry in profile.get("default-resources", []) + profile["set-resources"]:
        assert "slurm_extra" not in entry, "GPU and other sbatch flags go through resources, not slurm_extra"


def rule_blocks() -> dict[str, str]:
    """Every rule and checkpoint of rules/*.smk that runs something: name -> its text."""
    import re

    blocks = {}
    for smk in (ROOT / "rules").glob("*.smk"):
        for block in re.split(r"(?m)^(?=\s*(?:rule|checkpoint) \w+:)", smk.read_text()):
            name = re.match(r"\s*(?:rule|checkpoint) (\w+):", block)
            if name and name.group(1) in workflow_rules():
                blocks[name.group(1)] = block
    return blocks


def test_every_rule_has_memory_runtime_and_cpus_that_grow_with_attempt():
    """Memory and wall time are set once, in the rules, growing with each retry (grows() in rules/common.smk:
    amount * attempt); the profile adds one CPU per thread and never sets memory or time again."""
    import re

    common = (ROOT / "rules" / "common.smk").read_text()
    assert "return lambda wildcards, attempt: amount * attempt" in common
    resources = set_resources(load_profile())
    missing = workflow_rules() - set(resources)
    assert not missing, f"rules without resources in profiles/slurm: {sorted(missing)}"
    for rule, res in resources.items():
        assert "mem_mb" not in res and "runtime" not in res, rule
        assert evaluate(res["cpus_per_task"], 1, threads=3) == 3, rule
    for rule, block in rule_blocks().items():
        for key in ("mem_mb", "runtime"):
            assert re.search(rf"^\s+{key}=grows\(\d+\),$", block, re.M), (rule, key)


def test_training_asks_for_one_gpu_through_the_plugin_and_one_setting_turns_it_off():
    from snakemake_executor_plugin_slurm.submit_string import get_submit_command
    from snakemake_executor_plugin_slurm.utils import set_gres_string

    def sbatch_flags(profile: dict) -> str:
        gpu = int(set_resources(profile)["train_cnn"]["gpu"])
        job = SimpleNamespace(resources=SimpleNamespace(gpu=gpu, mem_mb=8000, runtime=240, cpus_per_task=1,
                                                        get=lambda k, d=None: {"gpu": gpu, "mem_mb": 8000,
                                                                               "runtime": 240, "cpus_per_task": 1}.get(k, d)),
                              threads=1)
        params = {"run_uuid": "x", "slurm_logfile": "x.log", "comment_str": "c", "account": "", "partition": "",
                  "workdir": "."}
        return get_submit_command(job, params) + set_gres_string(job)

    text = (PROFILE / "config.yaml").read_text()
    assert "  training_gpus: 1\n" in text
    on = sbatch_flags(load_profile(text))
    assert "--gpus=1" in on and "--cpus-per-task=1" in on
    off = sbatch_flags(load_profile(text.replace("  training_gpus: 1\n", "  training_gpus: 0\n")))
    assert "--gpus" not in off and "--gres" not in off and "--cpus-per-task=1" in off


def test_partition_and_account_are_set_in_one_place():
    text = (PROFILE / "config.yaml").read_text()
    assert load_profile(text).get("default-resources", []) == []
    chosen = text.replace("  slurm_partition: null\n", "  slurm_partition: gpu\n").replace(
        "  slurm_account: null\n", "  slurm_account: lab42\n")
    assert sorted(load_profile(chosen)["default-resources"]) == ["slurm_account=lab42", "slurm_partition=gpu"]


def dry_run(config: Path, tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    cmd = SNAKEMAKE + ["-n", "--snakefile", str(ROOT / "Snakefile"), "--workflow-profile", str(PROFILE),
                       "--directory", str(tmp_path), "--configfile", str(config), *args]
    return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=600)


# the REMC study for two of its cells: the same rules as its 56 (tests/test_remc.py plans all 56), a smaller DAG
@pytest.mark.parametrize("config,args", [("config.yaml", ()), ("remc.yaml", ("--config", "cells=E003,E123"))],
                         ids=["config.yaml", "remc.yaml"])
def test_dry_run_through_the_profile(config, args, tmp_path):
    out = dry_run(ROOT / "config" / config, tmp_path, *args)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    assert "train_cnn" in out.stdout and "group" in out.stdout.lower()


# ---- a real SLURM ---------------------------------------------------------------------------------

def ensure_slurm_installed():
    if all(shutil.which(c) for c in ("munged", "slurmctld", "slurmd", "sbatch", "squeue")):
        return
    if os.geteuid() != 0:
        not_possible("slurm-wlm and munge are missing and installing them needs root")
    if not shutil.which("apt-get"):
        not_possible("slurm-wlm and munge are missing and there is no apt-get to install them")
    apt_install("slurm-wlm", "munge")


def stop_cluster(state: Path):
    subprocess.run(["bash", str(HELPERS / "stop_cluster.sh"), str(state)], capture_output=True, timeout=60)
    for name in ("slurmd", "slurmctld", "munged"):  # in case the script could not: by PID, never by name
        pidfile = state / f"{name}.pid"
        if pidfile.exists() and pidfile.read_text().strip().isdigit():
            try:
                os.kill(int(pidfile.read_text()), signal.SIGKILL)
            except ProcessLookupError:
                pass


@pytest.fixture(scope="module")
def slurm_cluster(tmp_path_factory):
    """A one-node SLURM cluster on 127.0.0.1 (stand-in GPU included), stopped again whatever happens; skips the
    test when DEEPCHROME_TEST_NO_SLURM=1."""
    if os.environ.get("DEEPCHROME_TEST_NO_SLURM") == "1":
        pytest.skip("DEEPCHROME_TEST_NO_SLURM=1: no local SLURM cluster (nor the apt-get install of slurm-wlm, munge)")
    if os.geteuid() != 0:
        not_possible("a local SLURM cluster needs root (daemons and /etc/slurm)")
    for name in ("slurm.conf", "gres.conf"):
        conf = Path("/etc/slurm") / name
        if conf.exists() and MARKER not in conf.read_text().splitlines():
            not_possible(f"{conf} exists and was not written by this test: a real cluster's config stays untouched")
    ensure_slurm_installed()
    state = tmp_path_factory.mktemp("slurm-state")
    start = time.perf_counter()
    out = subprocess.run(["bash", str(HELPERS / "start_cluster.sh"), str(state)], capture_output=True, text=True,
                         timeout=120)
    try:
        if out.returncode == 3:
            not_possible(out.stderr.strip())
        assert out.returncode == 0, out.stderr + "".join(p.read_text() for p in (state / "log").glob("*.log"))
        print(f"test cluster up in {time.perf_counter() - start:.2f} s")
        yield state
    finally:
        stop_cluster(state)
    assert not Path("/etc/slurm/slurm.conf").exists() or MARKER not in Path("/etc/slurm/slurm.conf").read_text()


def run_snakemake(workdir: Path, *args: str, timeout: int) -> subprocess.CompletedProcess:
    cmd = SNAKEMAKE + ["--snakefile", str(ROOT / "Snakefile"), "--directory", str(workdir), *args]
    # timeout -k: a hung run (a job SLURM never starts) ends instead of blocking CI
    env = {k: v for k, v in os.environ.items() if k != "CUDA_VISIBLE_DEVICES"}  # only SLURM gives GPUs here
    return subprocess.run(["timeout", "-k", "10", str(timeout), *cmd], cwd=ROOT, capture_output=True, text=True,
                          env=env)


def metrics(workdir: Path) -> dict[str, dict]:
    """Every metrics.json of the cells in CELLS, keyed by its path under results/."""
    out = {}
    for cell in CELLS:
        for path in sorted((workdir / "results" / cell).glob("*/metrics.json")):
            out[str(path.relative_to(workdir / "results"))] = json.loads(path.read_text())
    return out


def without_cells(run: Path, work: Path) -> Path:
    """A copy of ``run`` at ``work`` as if the cells in CELLS had never been built (their results and logs gone)."""
    copy_run(run, work)
    for folder in ("results", "logs"):  # results/cellA/, logs/features/cellA/, logs/cnn/cellA.log, ...
        for path in sorted((work / folder).rglob("*"), reverse=True):
            if path.name in CELLS or path.stem in CELLS:
                shutil.rmtree(path) if path.is_dir() else path.unlink()
    assert not (work / "results" / CELLS[0]).exists()
    return work


def assert_same(a, b, where=""):
    if isinstance(a, dict):
        assert set(a) == set(b), where
        for key in a:
            assert_same(a[key], b[key], f"{where}.{key}")
    elif isinstance(a, list):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b)):
            assert_same(x, y, f"{where}[{i}]")
    elif isinstance(a, float) and isinstance(b, (int, float)):
        assert abs(a - b) <= 1e-6, f"{where}: {a} != {b}"
    else:
        assert a == b, f"{where}: {a!r} != {b!r}"


@pytest.mark.slow
def test_demo_through_slurm_matches_a_local_run(slurm_cluster, demo_run, tmp_path):
    local = demo_run
    cluster = without_cells(demo_run, tmp_path / "slurm")
    config = yaml.safe_load((local / "config.yaml").read_text())
    models = configured_models(config["networks"], config["baselines"]["models"], config["marks"], "class")
    # what the comparison reads: every model's metrics of the cells (features, labels, both networks' training on
    # the stand-in GPU and the baselines' job); the figures after them are the same rules as the local run's
    targets = [f"results/{cell}/{model}/metrics.json" for cell in CELLS for model in models]
    t = time.perf_counter()
    out = run_snakemake(cluster, *targets, "--workflow-profile", str(PROFILE), *CLUSTER_ARGS,
                        "--configfile", str(cluster / "config.yaml"), "--config", f"cells={','.join(CELLS)}",
                        timeout=900)
    print(f"demo, {', '.join(CELLS)} through SLURM: {time.perf_counter() - t:.0f} s")
    log = out.stdout + out.stderr
    assert out.returncode == 0, log[-6000:]
    assert "Falling back to 'sacct'" not in log, "the plugin ignored --slurm-status-command squeue"
    assert "SLURM jobid" in log, "no job went through SLURM"

    ref, got = metrics(local), metrics(cluster)
    assert len(ref) == len(models) * len(CELLS) and set(got) == set(ref)  # the networks and the baselines
    for name in ref:
        a = {k: v for k, v in ref[name].items() if k not in ("seconds", "device", "device_warning")}
        b = {k: v for k, v in got[name].items() if k not in ("seconds", "device", "device_warning")}
        assert_same(a, b, name)

    # the training jobs asked SLURM for the stand-in GPU, got CUDA_VISIBLE_DEVICES, found no CUDA
    # device and trained on the CPU, saying so in the log and metrics.json
    for cell in CELLS:
        m = got[f"{cell}/cnn/metrics.json"]
        assert m["device"] == "cpu" and "CUDA_VISIBLE_DEVICES=0" in (m["device_warning"] or ""), m
        assert "CUDA_VISIBLE_DEVICES=0" in (cluster / "logs" / "cnn" / f"{cell}.log").read_text()
        assert ref[f"{cell}/cnn/metrics.json"]["device_warning"] is None
