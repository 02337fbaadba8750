"""CPU and wall time of `snakemake -n` on the demo: this checkout against another revision, in the same run.

Every Snakemake call (a dry run, each SLURM job, each local job's own start-up) parses the workflow, so what the
workflow layer imports is paid on every call. The other revision is checked out into a temporary git worktree;
both are timed alternately with the same Python (the pip set-up's .venv), and this checkout also with a plain
driver environment when --driver names its python (tests/test_driver_env.py builds one).

    python benchmarks/bench_parse.py --before ef797e2 --repeats 5 [--driver ~/.cache/deepchrome/driver-*/bin/python]

Prints one table and writes it (TSV) to --out.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def timed(python: str, snakefile: Path, workdir: Path) -> tuple[float, float]:
    """(CPU seconds of the child, wall seconds) of one dry run of the demo."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    out = subprocess.run([python, "-m", "snakemake", "-n", "--snakefile", str(snakefile), "--cores", "1",
                          "--workflow-profile", "none", "--directory", str(workdir)], capture_output=True, text=True,
                         env=env, cwd=workdir)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if out.returncode != 0:
        sys.exit(f"dry run failed with {python} on {snakefile}:\n{out.stdout[-2000:]}{out.stderr[-2000:]}")
    return after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime, wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", required=True, help="the revision to compare with (e.g. a commit)")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--driver", help="python of a plain Snakemake driver environment (optional)")
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "runs" / "parse" / "parse_time.tsv"))
    args = parser.parse_args()
    venv = str(ROOT / ".venv" / "bin" / "python")
    with tempfile.TemporaryDirectory() as tmp:
        old = Path(tmp) / "before"
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(old), args.before], check=True,
                       capture_output=True)
        try:
            runs = {f"{args.before} (pip .venv)": (venv, old / "Snakefile"),
                    "this checkout (pip .venv)": (venv, ROOT / "Snakefile")}
            if args.driver:
                runs["this checkout (driver environment)"] = (args.driver, ROOT / "Snakefile")
            times: dict[str, list[tuple[float, float]]] = {name: [] for name in runs}
            for _ in range(args.repeats):  # alternate, so load changes hit both alike
                for name, (python, snakefile) in runs.items():
                    work = Path(tmp) / "work"
                    work.mkdir(exist_ok=True)
                    times[name].append(timed(python, snakefile, work))
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(old)], capture_output=True)
    lines = ["what\tcpu_s_median\twall_s_median\trepeats"]
    for name, values in times.items():
        cpu, wall = statistics.median(v[0] for v in values), statistics.median(v[1] for v in values)
        lines.append(f"{name}\t{cpu:.2f}\t{wall:.2f}\t{len(values)}")
    text = "\n".join(lines) + "\n"
    print(text, end="")
    Path(args.out).write_text(text)


if __name__ == "__main__":
    main()
