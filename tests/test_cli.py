"""What a new user meets first: run.sh's help and dry-run line, --list-rules that explain themselves, the
formatting check (snakefmt, beside --lint), and a pip set-up (requirements.txt alone) that can build the report."""

from __future__ import annotations

import ast
import importlib.metadata
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import snakemake as snakemake_package

from conftest import ROOT, snakemake

RULE = re.compile(r"^(\s*)(?:rule|checkpoint) (\w+):\s*$", re.M)


def run_sh(*args: str, timeout: int = 600) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", str(ROOT / "run.sh"), *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout)


def test_help_lists_the_commands_and_exits_0():
    for flag in ("--help", "-h"):
        out = run_sh(flag)
        assert out.returncode == 0, out.stderr
        for command in ("demo", "test", "setup", "--report"):
            assert command in out.stdout, out.stdout
    out = run_sh("nonsense")
    assert out.returncode == 2 and "unknown command 'nonsense'" in out.stderr and "demo" in out.stderr


def test_a_dry_run_says_nothing_ran(tmp_path):
    out = run_sh("demo", "-n", "--directory", str(tmp_path))
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    last = out.stdout.strip().splitlines()[-1]
    assert last.startswith("== dry run: nothing was run"), last
    assert "finished" not in out.stdout and not (tmp_path / "results").exists()


def test_dotted_config_names_work_through_run_sh(tmp_path):
    """Finding 5: `--config cnn.preset=paper` made Snakemake print a traceback; run.sh nests dotted names."""
    from deepchrome.settings import nest_dotted

    assert nest_dotted(["-n", "--config", "cnn.preset=paper", "cells=cellA", "cnn.params.epochs=5", "-p"]) == [
        "-n", "-p", "--config", "cells=cellA", "cnn={preset: paper, params: {epochs: 5}}"]
    out = run_sh("demo", "-n", "--directory", str(tmp_path), "--config", "cnn.preset=paper", "cells=cellA",
                 "cnn.params.epochs=5")
    text = out.stdout + out.stderr
    assert out.returncode == 0 and "Traceback" not in text, text[-3000:]
    assert "results/cellA/cnn/model.pt" in text and "results/cellB/cnn/model.pt" not in text, text[-3000:]


def test_every_rule_has_a_docstring():
    """Statically, over every rule file (some rules exist only in processed mode), and through --list-rules."""
    for smk in [ROOT / "Snakefile", *sorted((ROOT / "rules").glob("*.smk"))]:
        lines = smk.read_text().splitlines()
        for i, line in enumerate(lines):
            if RULE.match(line):
                assert lines[i + 1].strip().startswith('"""'), f"{smk.name}:{i + 1}: {line.strip()} has no docstring"
    out = snakemake("--list-rules")
    assert out.returncode == 0, out.stderr[-3000:]
    # one entry per rule: "name (docstring)", a docstring of several lines continuing on indented lines
    listed = re.findall(r"^\w+(?: \(.*?\))?$", re.sub(r"\n\s+", " ", out.stdout), re.M)
    assert len(listed) >= 15, out.stdout
    undocumented = [line for line in listed if not re.match(r"^\w+ \(.{20,}\)$", line)]
    assert not undocumented, f"rules without a description in --list-rules: {undocumented}"


def test_snakefmt_check_is_clean():
    """The Snakemake catalog's formatting check (settings in pyproject.toml), run in CI beside --lint."""
    out = subprocess.run([sys.executable, "-m", "snakefmt", "--check", "."], cwd=ROOT, capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, f"run `snakefmt .` to format:\n{out.stdout[-3000:]}{out.stderr[-3000:]}"


def report_modules() -> set[str]:
    """Top-level third-party modules that `snakemake --report` imports: its report package's imports, and the
    packages it names in 'Python package X must be installed to create reports'."""
    root = Path(snakemake_package.__file__).parent
    found = set()
    for path in (root / "report").rglob("*.py"):
        text = path.read_text()
        found |= set(re.findall(r"Python package (\w+) must be installed to create reports", text))
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.Import):
                found |= {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.add(node.module.split(".")[0])
    return {m for m in found if m not in sys.stdlib_module_names and m != "snakemake"}


@pytest.mark.slow  # pip resolves requirements.txt afresh
def test_requirements_alone_bring_what_the_report_needs(tmp_path):
    """The README's first command installs requirements.txt only: resolve it afresh (pip --dry-run, ignoring what is
    installed here, where the test extras may bring more) and require every module the report imports."""
    out = subprocess.run([sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed", "--quiet",
                          "--report", str(tmp_path / "plan.json"), "-r", str(ROOT / "requirements.txt")],
                         capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    planned = {i["metadata"]["name"].lower().replace("_", "-") for i in json.loads((tmp_path / "plan.json").read_text())["install"]}
    providers = importlib.metadata.packages_distributions()
    modules = report_modules()
    assert {"pygments", "jinja2", "docutils"} <= modules, modules
    missing = {m: providers.get(m) for m in modules
               if not {d.lower().replace("_", "-") for d in providers.get(m, [])} & planned}
    assert not missing, f"requirements.txt does not bring what snakemake --report imports: {missing}"
