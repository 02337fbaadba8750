"""Wall and CPU time of the test suite as CI runs it: a fresh clone, ``CI=true bash .ci/run`` (set-up included),
then ``pytest -m "not slow"`` (the inner loop) in the same clone, against the targets (8 and 3 minutes).

CI's own figure is the whole run's wall time on a clean machine; this script measures the same thing on this one
(a fresh clone and empty caches: uv's, the tests' virtualenvs, Matplotlib's; the system packages are this machine's),
with the CPU seconds beside it (a 2-core machine cannot run the suite faster than its CPU seconds / 2), and keeps
pytest's 15 slowest tests. Nothing else should run on the machine meanwhile.

    python benchmarks/bench_tests.py [--commit HEAD] [--out benchmarks/runs/tests]

Writes ``suite.tsv`` (one row per command), ``slowest.tsv`` and ``run.yaml`` into --out and prints the table.
"""

from __future__ import annotations

import argparse
import datetime
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
import yaml

ROOT = Path(__file__).resolve().parents[1]
TARGET_S = {"CI (set-up and the whole suite)": 480, 'pytest -m "not slow"': 180}
OUTCOME = re.compile(r"(\d+) (passed|failed|skipped|errors?)")
DURATION = re.compile(r"^([\d.]+)s (setup|call|teardown)\s+(\S+)$", re.M)


def timed(cmd: list[str], cwd: Path, env: dict) -> tuple[float, float, str, int]:
    """(wall s, CPU s of the command and all it waited for, its output, exit status)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    out = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    return wall, cpu, out.stdout + out.stderr, out.returncode


def outcome(text: str) -> dict[str, int]:
    """pytest's closing counts (passed, failed, skipped, errors) from its last summary line."""
    last = [line for line in text.splitlines() if re.search(r" in [\d.]+s", line) and "passed" in line][-1:]
    counts = {"passed": 0, "failed": 0, "skipped": 0, "errors": 0}
    for n, kind in OUTCOME.findall(last[0] if last else ""):
        counts["errors" if kind.startswith("error") else kind] = int(n)
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--commit", default="HEAD")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "runs" / "tests")
    args = parser.parse_args()
    commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", args.commit], capture_output=True,
                            text=True, check=True).stdout.strip()
    rows, slowest = [], pd.DataFrame()
    with tempfile.TemporaryDirectory(prefix="bench-tests-") as tmp:
        clone = Path(tmp) / "deepchrome"
        if (ROOT.parent / "shared").exists():  # the real data the tests read beside the checkout, as in CI
            (Path(tmp) / "shared").symlink_to(ROOT.parent / "shared")
        subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
        subprocess.run(["git", "-C", str(clone), "checkout", "-q", commit], check=True)
        # Empty caches, as on a new CI machine: uv's, pip's, the tests' virtualenvs, Matplotlib's font cache
        cache = Path(tmp) / "cache"
        cache.mkdir()
        env = {**{k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "UV_CACHE_DIR")},
               "XDG_CACHE_HOME": str(cache)}
        runs = [("CI (set-up and the whole suite)", ["bash", ".ci/run"], {"CI": "true"}),
                ('pytest -m "not slow"', [".venv/bin/python", "-m", "pytest", "-m", "not slow", "-q"], {})]
        for what, cmd, extra in runs:
            wall, cpu, text, code = timed(cmd, clone, {**env, **extra})
            counts = outcome(text)
            print(f"{what}: {wall:.0f} s wall, {cpu:.0f} CPU s, exit {code}, {counts}", flush=True)
            rows.append({"what": what, "wall_s": round(wall), "cpu_s": round(cpu), "target_s": TARGET_S[what],
                         "exit": code, **counts})
            if what.startswith("CI"):
                slowest = pd.DataFrame(DURATION.findall(text), columns=["seconds", "phase", "test"])
    args.out.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(rows).to_csv(args.out / "suite.tsv", sep="\t", index=False)
    slowest.to_csv(args.out / "slowest.tsv", sep="\t", index=False)
    machine = f"{os.cpu_count()} CPUs, {os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30:.0f} GiB"
    meta = {"date": datetime.date.today().isoformat(),
            "command": f"python benchmarks/bench_tests.py --commit {commit} (a fresh clone, empty caches; {machine})",
            "commit": commit}
    (args.out / "run.yaml").write_text(yaml.safe_dump(meta, sort_keys=False))
    print(pd.DataFrame(rows).to_string(index=False))
    sys.exit(max(r["exit"] for r in rows))


if __name__ == "__main__":
    main()
