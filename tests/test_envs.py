"""envs/*.yaml, checked statically (the tests run the pip set-up; no conda here): they parse, use the
conda-forge, bioconda and nodefaults channels, pin every package to the version and channel that envs/pins.tsv
records with its evidence, carry the versions of the pip pins, cover what the package and scripts import, and
install the package itself (post-deploy script)."""

from __future__ import annotations

import ast
import io
import re
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
ENVS = sorted((ROOT / "envs").glob("*.yaml"))
# pip name (requirements.txt) -> conda name; None: not part of the job envs (runs the workflow itself)
CONDA_NAME = {"torch": "pytorch", "pybigwig": "pybigwig", "pyyaml": "pyyaml", "snakemake": None,
              "snakemake-executor-plugin-slurm": None, "pygments": None}
# import name -> conda name, for the imports of deepchrome/ and scripts/
IMPORTS = {"numpy": "numpy", "pandas": "pandas", "torch": "pytorch", "pyBigWig": "pybigwig",
           "pybedtools": "pybedtools", "sklearn": "scikit-learn", "matplotlib": "matplotlib",
           "seaborn": "seaborn", "yaml": "pyyaml", "jsonschema": "jsonschema",
           "pybigtools": "pybigtools", "isal": "isal", "pyarrow": "pyarrow", "captum": "captum", "scipy": "scipy",
           "threadpoolctl": "threadpoolctl"}
OPTIONAL_IMPORTS = {"pysam"}  # BAM reading falls back to it only where bedtools is missing
PIN = re.compile(r"^(?P<name>[A-Za-z0-9_.-]+)=(?P<version>[0-9][0-9A-Za-z.]*)(?:=(?P<build>\S+))?$")


def pip_pins(path: Path = ROOT / "requirements.txt") -> dict[str, str]:
    """name -> version of a pip requirements file's exact pins."""
    pins = {}
    for line in path.read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            name, version = line.split("==")
            pins[name.lower()] = version
    return pins


def conda_pins(env: Path) -> dict[str, tuple[str, str | None]]:
    """name -> (version, build) of the env's conda dependencies (its pip: section is read by env_pip_pins)."""
    spec = yaml.safe_load(env.read_text())
    pins = {}
    for dep in spec["dependencies"]:
        if isinstance(dep, dict):
            assert set(dep) == {"pip"}, f"{env.name}: unexpected entry {dep}"
            continue
        m = PIN.match(dep.replace(" ", ""))
        assert m, f"{env.name}: {dep!r} is not pinned as name=version"
        pins[m["name"].lower()] = (m["version"], m["build"])
    return pins


def env_pip_pins(env: Path) -> dict[str, str]:
    """name -> version of the env's pip: section (packages whose conda channel lags), each pinned with ==."""
    pins = {}
    for dep in yaml.safe_load(env.read_text())["dependencies"]:
        if isinstance(dep, dict):
            for line in dep["pip"]:
                assert re.fullmatch(r"[A-Za-z0-9_.-]+==[0-9][0-9A-Za-z.]*", line), f"{env.name}: pip entry {line!r} is not name==version"
                name, version = line.split("==")
                pins[name.lower()] = version
    return pins


def pin_table() -> pd.DataFrame:
    """envs/pins.tsv: one row per package with its source, version and dated evidence."""
    lines = [line for line in (ROOT / "envs" / "pins.tsv").read_text().splitlines() if not line.startswith("#")]
    return pd.read_csv(io.StringIO("\n".join(lines)), sep="\t", dtype=str)


def test_there_are_env_files():
    assert {p.name for p in ENVS} >= {"deepchrome.yaml", "deepchrome-cuda.yaml"}


@pytest.mark.parametrize("env", ENVS, ids=lambda p: p.name)
def test_channels_and_pins(env):
    spec = yaml.safe_load(env.read_text())
    assert spec["channels"] == ["conda-forge", "bioconda", "nodefaults"]
    pins = conda_pins(env)
    version = pins["python"][0]
    assert version == f"{sys.version_info.major}.{sys.version_info.minor}", "python series of the pip set-up"
    for name, (version, _) in pins.items():
        if name != "python":
            assert version.count(".") >= 1, f"{env.name}: {name}={version} is not an exact version"


@pytest.mark.parametrize("env", ENVS, ids=lambda p: p.name)
def test_versions_equal_the_pip_pins(env):
    pins = {k: v[0] for k, v in conda_pins(env).items()} | env_pip_pins(env)
    for pip_name, version in pip_pins().items():
        conda = CONDA_NAME.get(pip_name, pip_name)
        if conda is None:
            continue
        assert conda in pins, f"{env.name} lacks {conda} (requirements.txt: {pip_name}=={version})"
        assert pins[conda] == version, f"{env.name}: {conda}={pins[conda]}, requirements.txt: {version}"


def test_pin_table_is_complete_and_dated():
    table = pin_table()
    assert list(table.columns) == ["package", "pip_name", "source", "version", "evidence", "date"]
    assert not table.isna().any().any(), "every row needs all six fields"
    assert table["package"].str.lower().is_unique
    assert set(table["source"]) <= {"conda-forge", "bioconda", "pip", "runner"}
    assert table["date"].str.fullmatch(r"20\d\d-\d\d-\d\d").all(), "evidence dates as YYYY-MM-DD"


@pytest.mark.parametrize("env", ENVS, ids=lambda p: p.name)
def test_envs_follow_the_pin_table(env):
    """Each conda dependency from its table channel at its table version; each pip: entry a table pip row."""
    table = pin_table().assign(key=lambda t: t["package"].str.lower()).set_index("key")
    conda, pip = conda_pins(env), env_pip_pins(env)
    for name, (version, _) in conda.items():
        assert name in table.index, f"{env.name}: {name} has no row in envs/pins.tsv (channel, version, evidence)"
        row = table.loc[name]
        assert row["source"] in ("conda-forge", "bioconda"), f"{env.name}: {name} is a {row['source']} package in envs/pins.tsv"
        assert version == row["version"], f"{env.name}: {name}={version}, envs/pins.tsv: {row['version']}"
    for name, version in pip.items():
        assert name in table.index and table.loc[name, "source"] == "pip", f"{env.name}: pip entry {name} is not a pip row of envs/pins.tsv"
        assert version == table.loc[name, "version"]
    job_packages = table[table["source"] != "runner"].index
    assert set(job_packages) == set(conda) | set(pip), "envs/pins.tsv and the env file list different packages"


def test_pip_pins_follow_the_pin_table():
    table = pin_table()
    rows = {r.pip_name.lower(): r for r in table.itertuples() if r.pip_name != "-"}
    for name, version in pip_pins().items():
        assert name in rows, f"requirements.txt pins {name} without a row in envs/pins.tsv"
        assert rows[name].version == version, f"requirements.txt: {name}=={version}, envs/pins.tsv: {rows[name].version}"
    runner = {r.pip_name.lower() for r in table.itertuples() if r.source == "runner"}
    assert runner <= set(pip_pins()), "a runner package must be in requirements.txt (the .venv that runs Snakemake)"


def test_cpu_and_cuda_variants_differ_only_in_the_torch_build():
    cpu = conda_pins(ROOT / "envs" / "deepchrome.yaml")
    cuda = conda_pins(ROOT / "envs" / "deepchrome-cuda.yaml")
    assert cpu["pytorch"][1].startswith("cpu") and cuda["pytorch"][1].startswith("cuda")
    assert {k: v[0] for k, v in cpu.items()} == {k: v[0] for k, v in cuda.items()}
    assert env_pip_pins(ROOT / "envs" / "deepchrome.yaml") == env_pip_pins(ROOT / "envs" / "deepchrome-cuda.yaml")


def third_party_imports() -> set[str]:
    found = set()
    for path in list((ROOT / "deepchrome").glob("*.py")) + list((ROOT / "scripts").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                found |= {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.add(node.module.split(".")[0])
    return {m for m in found if m not in sys.stdlib_module_names and m not in ("deepchrome", "snakemake")}


@pytest.mark.parametrize("env", ENVS, ids=lambda p: p.name)
def test_envs_cover_every_import(env):
    pins = conda_pins(env)
    unknown = third_party_imports() - set(IMPORTS) - OPTIONAL_IMPORTS
    assert not unknown, f"imports without a conda package in IMPORTS: {sorted(unknown)}"
    for module in third_party_imports() - OPTIONAL_IMPORTS:
        assert IMPORTS[module] in pins or IMPORTS[module] in env_pip_pins(env), f"{env.name} lacks {IMPORTS[module]} (imported as {module})"
    assert "bedtools" in pins, "pybedtools needs the bedtools binary"


@pytest.mark.parametrize("env", ENVS, ids=lambda p: p.name)
def test_post_deploy_installs_the_package(env):
    script = env.with_name(env.stem + ".post-deploy.sh")
    assert script.exists(), f"{script.name} missing: without it script: rules cannot import deepchrome"
    text = script.read_text()
    assert text.startswith("#!/usr/bin/env bash") and "pip install" in text and "--no-deps" in text
    assert {"pip", "setuptools"} <= set(conda_pins(env)), "the editable install needs pip and setuptools in the env"


def test_rules_use_the_env_files():
    used = set()
    for smk in (ROOT / "rules").glob("*.smk"):
        used |= set(re.findall(r'conda:\s*\n\s*"\.\./envs/([^"]+)"', smk.read_text()))
    assert used, "no rule names a conda env"
    assert used <= {p.name for p in ENVS}


def test_driver_requirements_are_the_runner_pins():
    """requirements-driver.txt (a plain Snakemake environment, tests/test_driver_env.py) pins what requirements.txt
    pins, and nothing of the job runtime."""
    pins, driver = pip_pins(), pip_pins(ROOT / "requirements-driver.txt")
    assert set(driver) == {"snakemake", "pandas", "pyyaml", "jsonschema", "snakemake-executor-plugin-slurm"}
    assert all(pins[name] == version for name, version in driver.items()), (driver, pins)
