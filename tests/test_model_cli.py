"""The ``deepchrome`` console command on real files: the model's card, scores equal to the workflow's own (cellA's
model on cellB is the transfer matrix's AUC exactly), a model of another preset with no config, and inputs it cannot
use (features built otherwise, a truncated model.pt) refused cleanly."""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib

import pandas as pd
import pytest

from conftest import FAST, ROOT, synthetic_cell
from deepchrome.cli import main
from deepchrome.dataset import load_cell, save_cell, save_features
from deepchrome.ensemble import load_model
from deepchrome.evaluate import metrics
from deepchrome.predict import predict_cell
from deepchrome.train import train_and_save
from deepchrome.transfer import transfer_matrix

CNN = {"preset": "default", "params": {**FAST, "epochs": 3}, "seeds": 2}


def deepchrome(*args: str) -> subprocess.CompletedProcess:
    """The console command as installed (its entry point, ``deepchrome.cli:main``), run as a new process."""
    return subprocess.run([sys.executable, "-m", "deepchrome.cli", *map(str, args)], capture_output=True, text=True,
                          timeout=300)


def command(capsys, *args) -> tuple[int, str, str]:
    """``(exit status, stdout, stderr)`` of the entry point run in this process (no torch import to pay again)."""
    status = main([str(a) for a in args])
    out = capsys.readouterr()
    return status, out.out, out.err


def train(folder, name: str, seed: int, cnn: dict) -> dict:
    """A synthetic cell's files and its tiny ensemble trained by the workflow's own path into ``folder``."""
    folder.mkdir()
    files = {k: folder / f for k, f in (("features", "features.npz"), ("labels", "labels.tsv"),
                                        ("split", "split.tsv"), ("model", "model.pt"), ("history", "history.tsv"),
                                        ("metrics", "metrics.json"))}
    save_cell(synthetic_cell(300, seed), files["features"], files["labels"], files["split"])
    cell = load_cell(files["features"], files["labels"], files["split"])
    train_and_save(cell, cnn, 0, "cpu", 1, "class", name, files["model"], files["history"], files["metrics"])
    return files


@pytest.fixture(scope="module")
def cells(tmp_path_factory):
    root = tmp_path_factory.mktemp("cli")
    return {name: train(root / name, name, seed, CNN) for name, seed in (("cellA", 0), ("cellB", 1))}


def test_entry_point_and_help(capsys):
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts == {"deepchrome": "deepchrome.cli:main"}
    out = deepchrome("--help")
    assert out.returncode == 0 and "usage: deepchrome" in out.stdout and "predict" in out.stdout, out.stderr
    for args, text in ((("info",), "card"), (("predict",), "FEATURES")):
        with pytest.raises(SystemExit) as done:
            main([*args, "--help"])
        assert done.value.code == 0 and text in capsys.readouterr().out


def test_info_prints_the_models_card(cells):
    a = cells["cellA"]
    out = deepchrome("info", a["model"])
    assert out.returncode == 0, out.stderr
    test_auc = json.loads(a["metrics"].read_text())["test_auc"]
    members, _ = load_model(a["model"])
    weights = sum(p.numel() for p in members[0].parameters())
    for text in ("DeepChrome CNN", "20 filters of width 10 over 5 marks x 100 bins", "hidden layers [125]",
                 f"{weights:,} weights", "H3K4me3, H3K4me1", "100 bins of 100 bp (10 kb around the TSS)",
                 "bin order strand", "input signal", "transform log1p", "class: P(ON)", "default", "cellA", "0 1",
                 "deepchrome 0.1.0", f"test AUC  {test_auc:.4f}"):
        assert text in out.stdout, (text, out.stdout)


def test_predict_scores_are_the_workflows_own(cells, tmp_path, capsys):
    """cellA's model on its own features equals the package's predict_cell; on cellB's it gives exactly the transfer
    matrix's AUC (the same scoring path, no workflow run needed)."""
    a, b = cells["cellA"], cells["cellB"]
    out = deepchrome("predict", a["model"], a["features"], tmp_path / "own.tsv")
    assert out.returncode == 0 and "300 genes scored (P(ON))" in out.stderr, out.stderr
    predict_cell(a["model"], a["features"], tmp_path / "package.tsv", "cpu", threads=1)
    assert (tmp_path / "own.tsv").read_bytes() == (tmp_path / "package.tsv").read_bytes()
    assert (tmp_path / "own.tsv").read_text().startswith("gene_id\tscore\n")

    assert command(capsys, "predict", a["model"], b["features"], tmp_path / "on_b.tsv")[0] == 0
    on_b = pd.read_csv(tmp_path / "on_b.tsv", sep="\t", dtype={"gene_id": str}).set_index("gene_id")["score"]
    cell_b = load_cell(b["features"], b["labels"], b["split"])
    test = cell_b.split == "test"
    matrix = transfer_matrix(["cellA", "cellB"], [a["model"], b["model"]], [a["features"], b["features"]],
                             [a["labels"], b["labels"]], [a["split"], b["split"]], "cpu", 1)
    assert metrics(cell_b.y[test], on_b.loc[cell_b.gene_id[test]].to_numpy())["auc"] == matrix.loc["cellA", "cellB"]
    assert matrix.loc["cellA", "cellA"] == json.loads(a["metrics"].read_text())["test_auc"]


def test_a_paper_preset_model_loads_and_scores_with_no_config(tmp_path, capsys):
    paper = train(tmp_path / "paper", "cellP", 2, {"preset": "paper", "params": {"epochs": 1, "batch_size": 32}})
    status, out, err = command(capsys, "info", paper["model"])
    assert status == 0, err
    assert "50 filters" in out and "hidden layers [625, 125]" in out and "644,177 weights" in out
    assert "paper (sgd" in out and "transform none" in out
    assert command(capsys, "predict", paper["model"], paper["features"], tmp_path / "p.tsv")[0] == 0
    scores = pd.read_csv(tmp_path / "p.tsv", sep="\t")["score"]
    assert len(scores) == 300 and scores.between(0, 1).all()


def test_features_built_otherwise_and_a_truncated_model_fail_cleanly(cells, tmp_path, capsys):
    a, b = cells["cellA"], cells["cellB"]
    cell = load_cell(b["features"], b["labels"], b["split"])
    cases = {"bin_size": (cell.marks, {**cell.bins, "bin_size": 200}),
             "marks": (cell.marks[::-1], cell.bins),
             "input": (cell.marks, {**cell.bins, "input": "reads"})}
    for key, (marks, bins) in cases.items():
        features = tmp_path / f"{key}.npz"
        save_features(features, cell.X, cell.gene_id, marks, bins)
        status, _, err = command(capsys, "predict", a["model"], features, tmp_path / "out.tsv")
        assert status == 2 and str(a["model"]) in err and str(features) in err and key in err, err
        assert err.count("Fix:") == 1
    out = deepchrome("predict", a["model"], tmp_path / "bin_size.npz", tmp_path / "out.tsv")  # as a new process
    assert out.returncode == 2 and "Traceback" not in out.stderr and "bin_size" in out.stderr, out.stderr
    cut = tmp_path / "model.pt"
    cut.write_bytes(a["model"].read_bytes()[:5000])
    for named, args in ((cut, ("info", cut)), (cut, ("predict", cut, a["features"], tmp_path / "out.tsv")),
                        (tmp_path / "missing.npz", ("predict", a["model"], tmp_path / "missing.npz",
                                                    tmp_path / "out.tsv"))):
        status, _, err = command(capsys, *args)
        assert status == 2 and "Fix:" in err and str(named) in err, err
    assert "truncated" in command(capsys, "info", cut)[2]
    assert not (tmp_path / "out.tsv").exists() and not list(tmp_path.glob(".out.tsv*"))
