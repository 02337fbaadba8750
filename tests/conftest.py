"""Shared test fixtures: where the real data in ../shared is, and small real files."""

from __future__ import annotations

import gzip
import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from deepchrome import MARKS
from deepchrome.dataset import CellData

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
SNAKEMAKE = [sys.executable, "-m", "snakemake"]
# The tests' Snakemake options: 2 cores and none of the local profile (its cores: all, its log printing), but for
# the profile's scheduler setting (fewer idle wake-ups of Snakemake's main process).
DEFAULT_PROFILE = yaml.safe_load((ROOT / "profiles" / "default" / "config.yaml").read_text())
LOCAL = ["--cores", "2", "--workflow-profile", "none", "--max-jobs-per-timespan",
         DEFAULT_PROFILE["max-jobs-per-timespan"]]


def shared_file(*parts: str) -> Path:
    """A file of ../shared/data, or skip the test with the reason."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"real data {path} is absent (../shared is only on developer and CI machines)")
    return path


def write_gtf(path: Path, genes: list[tuple[str, str, int, int, str]], gene_type: str = "protein_coding") -> Path:
    """A GENCODE-style GTF (gzip when the name ends in .gz) of (gene_id, chrom, start1, end1, strand) genes."""
    lines = []
    for gid, chrom, start, end, strand in genes:
        attrs = f'gene_id "{gid}"; gene_type "{gene_type}"; gene_name "N{gid[-4:]}";'
        lines.append(f"{chrom}\tDEMO\tgene\t{start}\t{end}\t.\t{strand}\t.\t{attrs}")
        lines.append(f"{chrom}\tDEMO\ttranscript\t{start}\t{end}\t.\t{strand}\t.\t{attrs} transcript_id \"T{gid}\";")
    text = "\n".join(lines) + "\n"
    if path.suffix == ".gz":
        with gzip.open(path, "wt") as f:
            f.write(text)
    else:
        path.write_text(text)
    return path


# Training parameters that keep CNN tests quick (overrides of the default preset).
FAST = {"epochs": 6, "patience": None, "batch_size": 32}


def synthetic_cell(n_genes: int = 300, seed: int = 0) -> CellData:
    """Poisson counts; ON genes (half) carry extra H3K4me3 (mark 0) over bins 41-60; split 60/20/20 %."""
    rng = np.random.default_rng(seed)
    y = (np.arange(n_genes) % 2).astype(np.int64)
    X = rng.poisson(2.0, size=(n_genes, 5, 100)).astype(np.float32)
    X[:, 0, 40:60] += rng.poisson(6.0, size=(n_genes, 20)) * y[:, None]
    split = rng.permutation(np.repeat(["train", "valid", "test"], [n_genes * 3 // 5, n_genes // 5, n_genes // 5]))
    return CellData(X=X, y=y, gene_id=np.array([f"g{i}" for i in range(n_genes)]), split=split,
                    marks=["H3K4me3", "H3K4me1", "H3K36me3", "H3K9me3", "H3K27me3"],
                    bins={"bin_size": 100, "bin_order": "strand", "input": "signal"})


class FileServer:
    """A real HTTP server on loopback serving a folder, honouring Range, that can misbehave on request.

    ``faults[path]`` is a list of faults to play on the next requests of that URL path: ``"500"``
    (answer HTTP 500) or ``"cut"`` (send a third of the body, then close). Every request is recorded
    in ``requests`` as (path, Range header or None).
    """

    def __init__(self, root: Path):
        import http.server
        import threading

        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                path = self.path.split("?")[0]
                server.requests.append((path, self.headers.get("Range")))
                faults = server.faults.get(path, [])
                fault = faults.pop(0) if faults else None
                target = server.root / path.lstrip("/")
                if fault == "500":
                    self.send_error(500)
                    return
                if not target.is_file():
                    self.send_error(404)
                    return
                data = target.read_bytes()
                start = int(self.headers["Range"].split("=")[1].split("-")[0]) if "Range" in self.headers else 0
                body = data[start:]
                self.send_response(206 if start else 200)
                if start:
                    self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
                self.send_header("Accept-Ranges", "bytes")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if fault == "cut":
                    self.wfile.write(body[: len(body) // 3])
                    self.wfile.flush()
                    self.connection.shutdown(2)
                    return
                self.wfile.write(body)

        self.root = Path(root)
        self.faults: dict[str, list[str]] = {}
        self.requests: list[tuple[str, str | None]] = []
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def file_server(tmp_path):
    """A FileServer over ``tmp_path / "www"``."""
    root = tmp_path / "www"
    root.mkdir()
    server = FileServer(root)
    yield server
    server.close()


# ---- the workflow through the real Snakemake CLI --------------------------------------------------

def snakemake(*args: str, workdir: Path | None = None, timeout: int = 900) -> subprocess.CompletedProcess:
    """Run the Snakemake CLI on this workflow (optionally in another working directory)."""
    cmd = SNAKEMAKE + ["--snakefile", str(ROOT / "Snakefile"), *LOCAL]
    if workdir is not None:
        cmd += ["--directory", str(workdir)]
    return subprocess.run(cmd + list(args), cwd=ROOT, capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="session")
def dry_run(tmp_path_factory):
    """``dry_run(*args)``: ``snakemake -n *args`` in an empty directory, run once per distinct ``args`` in the session,
    across pytest-xdist's workers too (tests that plan the same thing read one dry run)."""
    import hashlib
    import json

    def run(*args: str) -> subprocess.CompletedProcess:
        key = hashlib.sha256(json.dumps(args).encode()).hexdigest()[:16]

        def build(folder: Path) -> None:
            out = snakemake("-n", *args, workdir=folder / "work")
            (folder / "result.json").write_text(json.dumps([out.returncode, out.stdout, out.stderr]))

        folder = shared_run(f"dry-run-{key}", build, tmp_path_factory)
        code, stdout, stderr = json.loads((folder / "result.json").read_text())
        return subprocess.CompletedProcess(args, code, stdout, stderr)

    return run


# The workflow runs that several tests read, each made once per session (shared by the pytest-xdist workers). A test
# that runs more in one of them (another target, a report, a rerun) works on a copy (``copy_run``): no test changes a
# shared run in place.

# A cell sheet's name for cellA in the tests' demo run: reStructuredText, Jinja and HTML, which every table, figure
# and the report must show as text, never as markup.
HOSTILE_NAME = "`x <javascript:alert(3)>`_ {{ 7 * 7 }} <b>bold</b>"


def build_demo(work: Path) -> None:
    """The default (demo) workflow, shortened through the config only: 1,200 genes, ensembles of 2 seeds, feature
    maps of 300 steps, AttentiveChrome for 2 epochs (its wiring is what the demo's tests check); its cell sheet names
    cellA ``HOSTILE_NAME``, so the whole run, its report included, carries a name made of markup."""
    config = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    sheet = pd.read_csv(ROOT / config["cell_sheet"], sep="\t", dtype=str)
    sheet.loc[sheet["cell"] == "cellA", "name"] = HOSTILE_NAME
    sheet.to_csv(work / "cells.tsv", sep="\t", index=False)
    config["cell_sheet"] = str(work / "cells.tsv")
    config["demo"]["genes"] = 1200
    config["cnn"]["seeds"] = 2
    config["featuremaps"]["steps"] = 300
    config["attentive"]["params"] = {"epochs": 2, "patience": None}
    (work / "config.yaml").write_text(yaml.safe_dump(config))
    out = snakemake("--configfile", str(work / "config.yaml"), workdir=work, timeout=1500)
    assert out.returncode == 0, out.stdout[-5000:] + out.stderr[-5000:]


def build_level(work: Path) -> None:
    """The demo with target: level, made cheap through the config: two of its cells and its cell without RNA-seq
    (cellD, scored by cellA's CNN rather than the pooled one, which would train another CNN), 700 genes, 2 seeds, at
    most 30 epochs (patience 8; AttentiveChrome 2 epochs)."""
    config = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    sheet = pd.read_csv(ROOT / config["cell_sheet"], sep="\t")
    sheet = sheet[sheet["cell"].isin(["cellA", "cellB", "cellD"])].assign(
        predict_with=lambda t: t["predict_with"].where(t["cell"] != "cellD", "cellA"))
    sheet.to_csv(work / "cells.tsv", sep="\t", index=False)
    config.update({"target": "level", "demo": {"seed": 0, "genes": 700}, "cell_sheet": str(work / "cells.tsv")})
    config["cnn"].update({"seeds": 2, "params": {"epochs": 30, "patience": 8}})
    config["attentive"]["params"] = {"epochs": 2, "patience": None}
    (work / "config.yaml").write_text(yaml.safe_dump(config))
    out = snakemake("--configfile", str(work / "config.yaml"), workdir=work, timeout=900)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    assert "feature maps, attributions and `snakemake explain` are not run" in out.stderr


def processed_config(work: Path, **changes) -> Path:
    """config/processed.yaml with short feature maps (100 steps), AttentiveChrome for 12 epochs (E123's seeds keep
    epochs 11 to 18 of a full run) and ``changes``, written to work/processed.yaml."""
    config = yaml.safe_load((ROOT / "config" / "processed.yaml").read_text())
    config["featuremaps"]["steps"] = 100
    config["attentive"] = {"preset": "default", "params": {"epochs": 12, "patience": None}}
    config.update(changes)
    path = work / "processed.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def build_processed(work: Path) -> None:
    """The workflow on ../shared/data/real: cells E123 (600 genes, no valid.csv) and E123_slice (30 genes)."""
    out = snakemake("--configfile", str(processed_config(work)), "--config", f"processed={SHARED / 'real'}",
                    workdir=work, timeout=1200)
    assert out.returncode == 0, out.stdout[-4000:] + out.stderr[-4000:]


# fixture name -> (folder name, builder): the demo run first (its readers are the most), then the other two side by
# side; their readers go in this order too (the level run, the cheaper, is done first)
WORKFLOW_RUNS = {"demo_run": ("demo", build_demo), "level_run": ("level", build_level),
                 "processed_run": ("processed", build_processed)}


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist's own hook, which reads the groups marked here
def pytest_collection_modifyitems(items):
    """A test that reads a whole workflow run is an end-to-end test: marked slow (``-m "not slow"`` leaves it out).

    With pytest-xdist (``-n``, ``--dist loadgroup``), the tests of a module that has module-scoped fixtures (a
    trained model, a SLURM cluster, a virtualenv) stay on one worker, so each such fixture is made once; the other
    tests spread over the workers one by one. The session runs start in the background when collection ends, and the
    tests go out in this order, so that no worker waits long for a run and the last minute is made of short tests:
    the slow tests that read no run (while the demo run is made), the demo run's readers, the quick tests that read
    no run (while the other two runs are made), then the level run's and the processed run's readers. A module's
    tests with its module-scoped fixture move as one (where the last of them goes), before the rest of their place,
    so the fixture is made once without pytest-xdist too.
    """
    order = list(WORKFLOW_RUNS)

    def run_of(item) -> int:  # 1 + the position of the last-made run the test reads (0: none)
        return max([0, *(order.index(name) + 1 for name in getattr(item, "fixturenames", ()) if name in WORKFLOW_RUNS)])

    def module_scoped(item) -> bool:
        info = getattr(item, "_fixtureinfo", None)
        return any(d.scope == "module" for defs in (info.name2fixturedefs.values() if info else ()) for d in defs)

    groups: dict[str, list] = {}
    for item in items:
        if module_scoped(item):
            item.add_marker(pytest.mark.xdist_group(item.module.__name__))
            groups.setdefault(item.module.__name__, []).append(item)

    def key(item) -> tuple[int, bool, str]:
        group = groups.get(item.module.__name__) if module_scoped(item) else None
        members = group or [item]
        run = max(map(run_of, members))
        if run == 0:
            place = 0 if any(m.get_closest_marker("slow") for m in members) else 2
        else:
            place = 1 if run == 1 else run + 1
        return place, not group, item.module.__name__ if group else ""

    items.sort(key=key)
    for item in items:
        if run_of(item):
            item.add_marker(pytest.mark.slow)


def pytest_collection_finish(session):
    """Start the session runs that the selected tests need, in the background (the demo run first, then the others
    side by side). The tests that need no run go on meanwhile, and a test that needs one waits for it
    (:func:`shared_run`)."""
    import threading

    needed = [name for name in WORKFLOW_RUNS if any(name in getattr(i, "fixturenames", ()) for i in session.items)]
    if not (SHARED / "real" / "E123" / "train.csv").exists():  # its tests skip, saying why
        needed = [n for n in needed if n != "processed_run"]
    factory = session.config._tmp_path_factory
    # made here, before the threads start: a worker's first getbasetemp() empties the folder, and made at the same
    # time in a thread and by a test, it could empty the folder after the test had written into it
    factory.getbasetemp()

    def build(name):
        try:
            shared_run(*WORKFLOW_RUNS[name], factory)
        except BaseException:  # recorded by shared_run; the test that needs the run reports it
            pass

    def build_all():
        first, *rest = needed
        build(first)
        for name in rest:
            threading.Thread(target=build, args=(name,), daemon=True).start()

    if needed:
        threading.Thread(target=build_all, daemon=True).start()


def shared_run(name: str, build, tmp_path_factory) -> Path:
    """The folder of the session's run ``name``, made once by ``build(folder)`` even when pytest-xdist runs several
    workers: the first to need it builds it under a file lock, the others wait and read the same folder. A failed
    build is recorded, so the others fail at once with its message instead of building it again."""
    import fcntl

    base = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        base = base.parent  # the folder all workers' temporary folders live in
    folder, done, failed = base / name, base / f"{name}.done", base / f"{name}.failed"
    with open(base / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if failed.exists():
            pytest.fail(f"the shared run {name} failed:\n{failed.read_text()}")
        if not done.exists():
            folder.mkdir(exist_ok=True)
            try:
                build(folder)
            except BaseException as err:
                failed.write_text(str(err)[-8000:])
                raise
            done.touch()
    return folder


def copy_run(run: Path, dest: Path) -> Path:
    """A copy of a finished run at ``dest`` (time stamps and Snakemake's records kept, so nothing reruns)."""
    shutil.copytree(run, dest, symlinks=True)
    return dest


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory):
    """The demo run (:func:`build_demo`)."""
    return shared_run(*WORKFLOW_RUNS["demo_run"], tmp_path_factory)


@pytest.fixture(scope="session")
def level_run(tmp_path_factory):
    """The level run (:func:`build_level`)."""
    return shared_run(*WORKFLOW_RUNS["level_run"], tmp_path_factory)


@pytest.fixture(scope="session")
def processed_run(tmp_path_factory):
    """The processed-data run (:func:`build_processed`)."""
    shared_file("real", "E123", "train.csv")
    return shared_run(*WORKFLOW_RUNS["processed_run"], tmp_path_factory)


@pytest.fixture(scope="session")
def small_data(tmp_path_factory):
    """A small demo data set made directly by the generator (not through the workflow)."""
    from deepchrome.demo import make_demo

    return shared_run("small-data", lambda data: make_demo(data, n_genes=2000, seed=1), tmp_path_factory)


def cached_venv(name: str, requirements: Path, bytecode: bool = True) -> Path:
    """The python of a virtualenv with ``requirements`` under ~/.cache/deepchrome (keyed by the file's hash, so later
    runs reuse it), installed as ``run.sh`` installs .venv (uv, else pip; ``bytecode=False``: not compiled to bytecode,
    for an environment whose programs run only a few times); remade when a past install was cut short."""
    digest = hashlib.sha1(requirements.read_bytes()).hexdigest()[:12]
    venv = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "deepchrome" / f"{name}-{digest}"
    python = venv / "bin" / "python"
    if not (venv / ".complete").exists():
        shutil.rmtree(venv, ignore_errors=True)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        out = subprocess.run(["bash", str(ROOT / "run.sh"), "install", str(python), "-r", str(requirements),
                              *([] if bytecode else ["--no-compile"])], capture_output=True, text=True)
        assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
        (venv / ".complete").touch()
    return python


def apt_install(*packages: str) -> None:
    """``apt-get update`` and ``apt-get install packages`` (as root): one apt-get at a time across pytest-xdist's
    workers (the browser and the SLURM fixtures may install at once, and dpkg's lock refuses a second apt-get)."""
    import fcntl
    import tempfile

    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    with open(Path(tempfile.gettempdir()) / "deepchrome-tests-apt.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        for cmd in (["apt-get", "update", "-qq"],
                    ["apt-get", "install", "-y", "-qq", "--no-install-recommends", *packages]):
            out = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=900)
            assert out.returncode == 0, f"{' '.join(cmd)} failed:\n{out.stdout[-3000:]}\n{out.stderr[-3000:]}"


def own_config(work: Path, data: Path, **changes) -> Path:
    """A config over ``data`` (no demo block), with sheets written into ``work``; ``changes`` override keys."""
    cells = changes.pop("cells_rows", ["cellA", "cellB", "cellC"])
    pd.DataFrame({"cell": cells}).to_csv(work / "cells.tsv", sep="\t", index=False)
    rows = [{"cell": c, "mark": m, "signal": str(data / f"{c}-{m}.bigwig")} for c in cells for m in MARKS]
    samples = pd.DataFrame(rows)
    for (cell, mark), path in changes.pop("files", {}).items():
        samples.loc[(samples["cell"] == cell) & (samples["mark"] == mark), "signal"] = str(path)
    samples.to_csv(work / "samples.tsv", sep="\t", index=False)
    config = {"cell_sheet": str(work / "cells.tsv"), "sample_sheet": str(work / "samples.tsv"), "marks": list(MARKS),
              "annotation": str(data / "genes.gtf.gz"), "chrom_sizes": str(data / "chrom.sizes"),
              "expression": str(data / "rpkm.tsv.gz")}
    config.update(changes)
    path = work / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def fails_with(work, config, target, *messages):
    out = snakemake(target, "--configfile", str(config), workdir=work)
    text = out.stdout + out.stderr
    assert out.returncode != 0, text[-3000:]
    for message in messages:
        assert message in text, text[-3000:]
    assert not (work / target).exists()
    return text


