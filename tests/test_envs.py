"""envs/*.yaml, checked statically (the tests run the pip set-up; no conda here): they parse, use the
conda-forge, bioconda and nodefaults channels, pin every package, carry the versions of the pip pins,
cover what the package and scripts import, and install the package itself (post-deploy script)."""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
ENVS = sorted((ROOT / "envs").glob("*.yaml"))
# pip name (requirements.txt) -> conda name; None: not part of the job envs (runs the workflow itself)
CONDA_NAME = {"torch": "pytorch", "pybigwig": "pybigwig", "pyyaml": "pyyaml", "snakemake": None,
              "snakemake-executor-plugin-slurm": None, "isal": "python-isal"}
# import name -> conda name, for the imports of deepchrome/ and scripts/
IMPORTS = {"numpy": "numpy", "pandas": "pandas", "torch": "pytorch", "pyBigWig": "pybigwig",
           "pybedtools": "pybedtools", "sklearn": "scikit-learn", "matplotlib": "matplotlib",
           "seaborn": "seaborn", "yaml": "pyyaml", "jsonschema": "jsonschema",
           "pybigtools": "pybigtools", "isal": "python-isal", "scipy": "scipy", "threadpoolctl": "threadpoolctl"}
OPTIONAL_IMPORTS = {"pysam"}  # BAM reading falls back to it only where bedtools is missing
PIN = re.compile(r"^(?P<name>[A-Za-z0-9_.-]+)=(?P<version>[0-9][0-9A-Za-z.]*)(?:=(?P<build>\S+))?$")


def pip_pins() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            name, version = line.split("==")
            pins[name.lower()] = version
    return pins


def conda_pins(env: Path) -> dict[str, tuple[str, str | None]]:
    spec = yaml.safe_load(env.read_text())
    pins = {}
    for dep in spec["dependencies"]:
        assert isinstance(dep, str), f"{env.name}: no pip section expected ({dep}); the package is installed by its post-deploy script"
        m = PIN.match(dep.replace(" ", ""))
        assert m, f"{env.name}: {dep!r} is not pinned as name=version"
        pins[m["name"].lower()] = (m["version"], m["build"])
    return pins


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
    pins = conda_pins(env)
    for pip_name, version in pip_pins().items():
        conda = CONDA_NAME.get(pip_name, pip_name)
        if conda is None:
            continue
        assert conda in pins, f"{env.name} lacks {conda} (requirements.txt: {pip_name}=={version})"
        assert pins[conda][0] == version, f"{env.name}: {conda}={pins[conda][0]}, requirements.txt: {version}"


def test_cpu_and_cuda_variants_differ_only_in_the_torch_build():
    cpu = conda_pins(ROOT / "envs" / "deepchrome.yaml")
    cuda = conda_pins(ROOT / "envs" / "deepchrome-cuda.yaml")
    assert cpu["pytorch"][1].startswith("cpu") and cuda["pytorch"][1].startswith("cuda")
    assert {k: v[0] for k, v in cpu.items()} == {k: v[0] for k, v in cuda.items()}


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
        assert IMPORTS[module] in pins, f"{env.name} lacks {IMPORTS[module]} (imported as {module})"
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
