import logging

import numpy as np
import pytest
import torch

from conftest import FAST, synthetic_cell

from deepchrome.dataset import CellData
from deepchrome.errors import DeepChromeError
from deepchrome.ensemble import load_model, predict, save_model
from deepchrome.train import (PRESETS, _shifted, model_description, resolve_params, schedule, seed_list, select_device,
                              train_cnn, transform)



@pytest.fixture(scope="module")
def cell():
    return synthetic_cell()


@pytest.fixture(scope="module")
def trained(cell):
    params = resolve_params("default", FAST)
    return params, train_cnn(cell, params, seeds=[1, 2], device="cpu", threads=1)


def test_presets():
    paper = resolve_params("paper", None)
    assert (paper["optimizer"], paper["lr"], paper["batch_size"], paper["epochs"], paper["transform"]) == \
        ("sgd", 1e-3, 1, 99, "none")
    assert paper["patience"] is None and paper["seeds"] == 1 and paper["scale"] == "none"
    default = resolve_params("default", None)
    assert default["seeds"] == 5 and seed_list(default, 3) == [3, 4, 5, 6, 7]
    assert (default["n_filters"], default["hidden"], paper["n_filters"], paper["hidden"]) == (20, (125,), 50, (625, 125))
    with pytest.raises(DeepChromeError, match="seeds"):
        resolve_params("default", {"seeds": 0})
    assert resolve_params("default", {"lr": 0.5})["lr"] == 0.5
    assert PRESETS["default"]["lr"] != 0.5  # presets are not mutated
    with pytest.raises(DeepChromeError, match="allowed keys"):
        resolve_params("default", {"learning_rate": 0.1})
    with pytest.raises(DeepChromeError):
        resolve_params("nope", None)


def test_transform():
    X = np.array([[0.0, np.e - 1]])
    assert np.allclose(transform(X, "log1p"), [[0.0, 1.0]])
    assert transform(X, "none").dtype == np.float32
    with pytest.raises(DeepChromeError):
        transform(X, "zscore")


def test_learns_and_restores_each_seeds_best_epoch(cell, trained, tmp_path):
    params, res = trained
    assert list(res.history.columns) == ["epoch", "loss", "valid_auc", "valid_loss", "seed", "kept"]
    assert len(res.history) == 2 * FAST["epochs"]
    for seed in (1, 2):
        h = res.history[res.history.seed == seed].reset_index(drop=True)
        assert h.valid_auc.max() > 0.95
        assert res.valid_auc[seed] == h.valid_auc.max()
        assert h.valid_auc.iloc[res.best_epoch[seed] - 1] == res.valid_auc[seed]
        assert h.kept.tolist() == [int(e == res.best_epoch[seed]) for e in h.epoch]
    assert res.member_scores.shape == (2, len(cell.y))
    assert res.scores.shape == (len(cell.y),) and 0 <= res.scores.min() and res.scores.max() <= 1
    save_model(tmp_path / "m.pt", res.states, model_description(cell, "default", params, [1, 2], "class", "c"))
    members, description = load_model(tmp_path / "m.pt")
    np.testing.assert_allclose(predict(members, cell.X, description["inputs"]["transform"], "cpu"), res.scores,
                               rtol=1e-6, atol=1e-7)


def test_repeats_exactly_on_cpu(cell, trained):
    params, res = trained
    again = train_cnn(cell, params, seeds=[1, 2], device="cpu", threads=1)
    assert again.history.equals(res.history)
    assert np.array_equal(again.scores, res.scores)


def test_select_by_valid_loss_keeps_each_seeds_lowest_valid_loss(cell):
    """select: loss keeps the epoch of lowest valid NLL, and the history's valid_loss is that NLL of the kept
    weights (recomputed here from their scores)."""
    params = resolve_params("default", {**FAST, "epochs": 8, "select": "loss", "n_filters": 8, "hidden": [16]})
    res = train_cnn(cell, params, seeds=[3, 4], device="cpu", threads=1)
    valid = cell.split == "valid"
    y = cell.y[valid]
    for seed, scores in zip(res.seeds, res.member_scores):
        h = res.history[res.history.seed == seed].reset_index(drop=True)
        assert res.best_epoch[seed] == int(h.valid_loss.idxmin()) + 1 == int(h.kept.idxmax()) + 1
        p = scores[valid]
        nll = -np.mean(y * np.log(p) + (1 - y) * np.log1p(-p))
        assert h.valid_loss.iloc[res.best_epoch[seed] - 1] == pytest.approx(nll, rel=1e-5)
        assert res.valid_auc[seed] == h.valid_auc.iloc[res.best_epoch[seed] - 1]
    with pytest.raises(DeepChromeError, match="select"):
        resolve_params("default", {"select": "aupr"})


def test_shift_translates_each_window_with_its_edge_bin_repeated(cell):
    xb = torch.arange(2 * 3 * 2 * 6, dtype=torch.float32).reshape(2, 3, 2, 6)  # [seeds, genes, marks, bins]
    offsets = torch.tensor([[0, 1, -2], [3, -1, 0]])
    out = _shifted(xb, offsets)
    x = xb.numpy()
    for s in range(2):
        for g in range(3):
            pos = np.clip(np.arange(6) + int(offsets[s, g]), 0, 5)
            np.testing.assert_array_equal(out[s, g].numpy(), x[s, g][:, pos])
    params = resolve_params("default", {**FAST, "epochs": 2, "n_filters": 8, "hidden": [16]})
    plain = train_cnn(cell, params, seeds=[0], device="cpu", threads=1)
    moved = train_cnn(cell, {**params, "shift": 2}, seeds=[0], device="cpu", threads=1)
    assert not np.array_equal(plain.scores, moved.scores) and np.isfinite(moved.scores).all()
    for bad in (-1, True):
        with pytest.raises(DeepChromeError, match="shift"):
            resolve_params("default", {"shift": bad})


def test_paper_preset_runs(cell):
    params = resolve_params("paper", {"epochs": 1})
    res = train_cnn(cell, params, seeds=seed_list(params, 0), device="cpu")
    assert res.best_epoch == {0: 1} and np.isfinite(res.scores).all()


def test_early_stopping_per_seed(cell):
    res = train_cnn(cell, resolve_params("default", {"epochs": 50, "patience": 1, "lr": 0.0}), seeds=[0, 1],
                    device="cpu")
    assert res.history.groupby("seed").size().tolist() == [2, 2]  # lr 0 never improves on epoch 1


def test_schedule_grows_batches_and_counts_patience_in_genes_for_large_cells_only():
    default = resolve_params("default", None)
    for n in (320, 795, 2048):  # the small cells the default was chosen on train exactly as set
        assert schedule(default, n) == {"batch_size": 32, "lr": 3e-4, "patience": 15}
    big = schedule(default, 6566)  # the paper's train split: 64 steps of 103 genes, lr * sqrt(103 / 32)
    assert big["batch_size"] == 103 and big["lr"] == pytest.approx(3e-4 * (103 / 32) ** 0.5)
    assert big["patience"] == 5  # ceil(32,768 / 6,566) epochs
    assert schedule(default, 10 ** 6)["patience"] == 3  # never fewer than 3 epochs
    paper = resolve_params("paper", None)
    assert schedule(paper, 6566) == {"batch_size": 1, "lr": 1e-3, "patience": None}


def test_training_follows_the_schedule(cell):
    """patience_genes below one epoch's genes: 3 epochs of patience (lr 0 never improves on epoch 1)."""
    params = resolve_params("default", {"epochs": 50, "lr": 0.0, "patience_genes": 1, "n_filters": 4, "hidden": [8]})
    res = train_cnn(cell, params, seeds=[0], device="cpu")
    assert len(res.history) == 4


def test_one_class_valid_is_an_error(cell):
    one = CellData(cell.X, np.where(cell.split == "valid", 1, cell.y), cell.gene_id, cell.split, cell.marks)
    with pytest.raises(DeepChromeError, match="valid"):
        train_cnn(one, resolve_params("default", FAST), seeds=[0], device="cpu")


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without a GPU")
def test_missing_gpu_falls_back_with_warning(caplog):
    with caplog.at_level(logging.WARNING, logger="deepchrome.train"):
        device, warning = select_device("cuda")
    assert device.type == "cpu" and "cuda" in warning
    assert warning in caplog.text
    assert select_device("auto") == (torch.device("cpu"), None)
