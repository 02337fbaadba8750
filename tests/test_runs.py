"""Runs that don't undo each other: a run on some cells (--config cells=...) builds those cells and leaves the
other cells and the summary alone, and the next plain run builds only what is missing; runs of two
configurations in their own --directory stay apart."""

from __future__ import annotations

import re
import shutil

import pytest

from conftest import copy_run, snakemake

pytestmark = pytest.mark.slow


def planned_jobs(dry_run_output: str) -> list[tuple[str, str]]:
    """(rule, wildcards) of every job a dry run lists."""
    jobs = []
    for block in re.split(r"\n(?=\[[^\]]+\]\n)", dry_run_output):
        rule = re.search(r"^(?:local)?(?:rule|checkpoint) (\w+):", block, re.M)
        if rule:
            wildcards = re.search(r"^\s+wildcards: (.*)$", block, re.M)
            jobs.append((rule.group(1), wildcards.group(1) if wildcards else ""))
    return jobs


def snapshot(work, pattern="results/**/*"):
    """path -> (size, mtime_ns) of the run's files."""
    return {p.relative_to(work): (p.stat().st_size, p.stat().st_mtime_ns) for p in work.glob(pattern) if p.is_file()}


@pytest.fixture
def run_copy(demo_run, tmp_path):
    """A copy of the finished demo run (metadata and time stamps kept)."""
    return copy_run(demo_run, tmp_path / "run")


def test_a_subset_run_leaves_other_cells_and_the_summary_alone(run_copy):
    config = str(run_copy / "config.yaml")
    shutil.rmtree(run_copy / "results" / "cellB")  # cellB still to build, as after a first run on cellA only
    summary = snapshot(run_copy, "results/summary/**/*")
    cell_c = snapshot(run_copy, "results/cellC/**/*")

    out = snakemake("--configfile", config, "--config", "cells=cellA", workdir=run_copy)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    ran = planned_jobs(out.stdout + out.stderr)
    assert not [job for job in ran if job[0] in ("train_cnn", "baselines", "featuremaps", "split")], ran
    assert snapshot(run_copy, "results/summary/**/*") == summary, "a run on cellA changed the full summary"
    assert snapshot(run_copy, "results/cellC/**/*") == cell_c
    assert not (run_copy / "results" / "cellB").exists()

    plan = snakemake("-n", "--configfile", config, workdir=run_copy)
    assert plan.returncode == 0, plan.stdout[-3000:] + plan.stderr[-3000:]
    jobs = planned_jobs(plan.stdout)
    trained = {(rule, wc) for rule, wc in jobs if rule in ("train_cnn", "baselines")}
    assert trained and all("cell=cellB" in wc for _, wc in trained), f"re-trains cells already built: {trained}"
    assert "auc_table" in {rule for rule, _ in jobs}, "the plain run must rebuild the summary with cellB"


def test_a_summary_asked_for_in_a_subset_run_is_refused(run_copy):
    out = snakemake("-n", "results/summary/auc.tsv", "--forcerun", "auc_table", "--configfile",
                    str(run_copy / "config.yaml"), "--config", "cells=cellA", workdir=run_copy)
    assert out.returncode != 0
    assert "the summary covers every cell" in out.stdout + out.stderr


def test_two_configurations_side_by_side(demo_run, tmp_path):
    """README: one --directory per configuration (here the paper preset beside the default one)."""
    before = snapshot(demo_run)
    paper = tmp_path / "paper"
    out = snakemake("results/cellA/labels.tsv", "--configfile", str(demo_run / "config.yaml"), "--config",
                    "cnn={preset: paper}", workdir=paper)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    assert (paper / "results" / "cellA" / "labels.tsv").exists()
    plan = snakemake("-n", "--configfile", str(demo_run / "config.yaml"), "--config", "cnn={preset: paper}",
                     workdir=paper)
    assert ("train_cnn", "cell=cellA") in planned_jobs(plan.stdout), "the paper run plans its own training"
    assert snapshot(demo_run) == before, "a run in another directory touched the default run's results"
    again = snakemake("-n", "--configfile", str(demo_run / "config.yaml"), workdir=demo_run)
    assert again.returncode == 0 and "Nothing to be done" in again.stdout + again.stderr, again.stdout[-3000:]
