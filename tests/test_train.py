import logging

import numpy as np
import pytest
import torch

from conftest import FAST, synthetic_cell

from deepchrome.dataset import CellData
from deepchrome.errors import DeepChromeError
from deepchrome.train import (PRESETS, load_model, predict, resolve_params, save_model, select_device,
                              train_cnn, transform)



@pytest.fixture(scope="module")
def cell():
    return synthetic_cell()


@pytest.fixture(scope="module")
def trained(cell):
    params = resolve_params("default", FAST)
    return params, train_cnn(cell, params, seed=1, device="cpu", threads=1)


def test_presets():
    paper = resolve_params("paper", None)
    assert (paper["optimizer"], paper["lr"], paper["batch_size"], paper["epochs"], paper["transform"]) == \
        ("sgd", 1e-3, 1, 99, "none")
    assert paper["patience"] is None
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


def test_learns_and_restores_best_epoch(cell, trained, tmp_path):
    params, res = trained
    assert list(res.history.columns) == ["epoch", "loss", "valid_auc"]
    assert len(res.history) == FAST["epochs"]
    assert res.history.valid_auc.max() > 0.95
    assert res.valid_auc == res.history.valid_auc.max()
    assert res.history.valid_auc.iloc[res.best_epoch - 1] == res.valid_auc
    assert res.scores.shape == (len(cell.y),) and 0 <= res.scores.min() and res.scores.max() <= 1
    save_model(res.state_dict, tmp_path / "m.pt")
    model = load_model(tmp_path / "m.pt", params)
    np.testing.assert_allclose(predict(model, cell.X, params, "cpu"), res.scores, rtol=1e-6, atol=1e-7)


def test_repeats_exactly_on_cpu(cell, trained):
    params, res = trained
    again = train_cnn(cell, params, seed=1, device="cpu", threads=1)
    assert again.history.equals(res.history)
    assert np.array_equal(again.scores, res.scores)


def test_paper_preset_runs(cell):
    res = train_cnn(cell, resolve_params("paper", {"epochs": 1}), seed=0, device="cpu")
    assert res.best_epoch == 1 and np.isfinite(res.scores).all()


def test_early_stopping(cell):
    res = train_cnn(cell, resolve_params("default", {"epochs": 50, "patience": 1, "lr": 0.0}), seed=0, device="cpu")
    assert len(res.history) == 2  # lr 0 never improves on epoch 1


def test_one_class_valid_is_an_error(cell):
    one = CellData(cell.X, np.where(cell.split == "valid", 1, cell.y), cell.gene_id, cell.split, cell.marks)
    with pytest.raises(DeepChromeError, match="valid"):
        train_cnn(one, resolve_params("default", FAST), seed=0, device="cpu")


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without a GPU")
def test_missing_gpu_falls_back_with_warning(caplog):
    with caplog.at_level(logging.WARNING, logger="deepchrome.train"):
        device, warning = select_device("cuda")
    assert device.type == "cpu" and "cuda" in warning
    assert warning in caplog.text
    assert select_device("auto") == (torch.device("cpu"), None)
