"""The workflow layer parses where conda users drive it: a plain Snakemake environment (snakemake, pandas, PyYAML,
jsonschema and the SLURM plugin; no torch, scikit-learn or scipy, and the package not installed), and as a
Snakemake module of another project (``module`` + ``use rule *``, as ``snakedeploy deploy-workflow`` writes it).

The environment is a real virtual environment with requirements-driver.txt alone, installed as run.sh installs
.venv (cached under ~/.cache/deepchrome, rebuilt when that file changes).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import LOCAL, cached_venv, shared_file

ROOT = Path(__file__).resolve().parents[1]
REQUIREMENTS = ROOT / "requirements-driver.txt"
HEAVY = ("torch", "sklearn", "scipy", "captum", "pybigtools", "pyBigWig", "matplotlib")

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def driver(tmp_path_factory) -> Path:
    """The driver environment's python (a venv with requirements-driver.txt only)."""
    python = cached_venv("driver", REQUIREMENTS)
    present = subprocess.run([str(python), "-c", "import importlib.util as u; print(*[m for m in "
                              f"{HEAVY!r} + ('deepchrome',) if u.find_spec(m)])"], capture_output=True, text=True,
                             cwd="/").stdout.split()
    assert present == [], f"the driver environment must not hold {present}"
    return python


def drive(python: Path, *args: str, workdir: Path, snakefile: Path = ROOT / "Snakefile"):
    """Snakemake of the driver environment, run from ``workdir`` (not the repository: nothing imports from it)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    cmd = [str(python), "-m", "snakemake", "--snakefile", str(snakefile), *LOCAL, "--directory", str(workdir), *args]
    return subprocess.run(cmd, cwd=workdir, capture_output=True, text=True, env=env, timeout=600)


def config_args(config: str) -> list[str]:
    if config == "processed.yaml":
        return ["--config", f"processed={shared_file('real', 'E123')}"]
    return []


@pytest.mark.parametrize("config", ["config.yaml", "remc.yaml", "processed.yaml"])
def test_parses_lints_and_plans_without_the_runtime(driver, tmp_path, config):
    args = ["--configfile", str(ROOT / "config" / config), *config_args(config)]
    lint = drive(driver, "--lint", *args, workdir=tmp_path)
    assert lint.returncode == 0, lint.stdout[-3000:] + lint.stderr[-3000:]
    plan = drive(driver, "-n", *args, workdir=tmp_path)
    assert plan.returncode == 0, plan.stdout[-3000:] + plan.stderr[-3000:]
    assert "train_cnn" in plan.stdout and "baselines" in plan.stdout


def test_bad_config_is_one_clear_error_without_the_runtime(driver, tmp_path):
    """The start-up checks are package functions that run in the driver environment too."""
    out = drive(driver, "-n", "--config", "cnn={params: {seeds: 3}}", workdir=tmp_path)
    assert out.returncode != 0
    text = out.stdout + out.stderr
    assert "cnn.params.seeds: this setting has one key, cnn.seeds" in text and "Fix: set cnn.seeds" in text
    assert "Traceback" not in text and "ModuleNotFoundError" not in text


def test_deployed_as_a_module(driver, tmp_path):
    """Another project uses the workflow as a module, its config copied as snakedeploy does: the demo plans there,
    with the workflow's schemas, sheets and report pages found in the workflow's own folder."""
    project = tmp_path / "project"
    (project / "workflow").mkdir(parents=True)
    shutil.copytree(ROOT / "config", project / "config", ignore=shutil.ignore_patterns("demo", "remc"))
    (project / "workflow" / "Snakefile").write_text(
        'configfile: "config/config.yaml"\n\n\n'
        "module deepchrome:\n"
        f'    snakefile:\n        "{ROOT / "Snakefile"}"\n'
        "    config:\n        config\n\n\n"
        "use rule * from deepchrome\n")
    out = drive(driver, "-n", workdir=project, snakefile=project / "workflow" / "Snakefile")
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    assert "train_cnn" in out.stdout and "demo_data" in out.stdout
