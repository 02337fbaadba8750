"""Cells without RNA-seq: every gene of a cell's features scored by a model trained elsewhere.

A model can only score features built the way its training features were: the same marks in the same
order, the same number and size of bins, the same bin order (strand or genome) and the same kind of input
(bigWig signal, read counts, or the published processed counts). ``model.pt`` records these in its description
(``inputs``, with the model's own transform: :func:`deepchrome.train.model_inputs`) and every features file records
its own (:func:`deepchrome.dataset.feature_description`); a model used on features described otherwise is refused
with one error that names both files. A model also says what it predicts (its ``target``: P(ON) or the level); one
that predicts other than the run's ``target`` is refused likewise.
"""

from __future__ import annotations

import logging
import os

import numpy as np
import pandas as pd
import torch

from .dataset import feature_description, load_features
from .ensemble import load_model, predict
from .errors import DeepChromeError
from .io import write_tsv
from .train import select_device

log = logging.getLogger("deepchrome.predict")

INPUT_KEYS = ("marks", "bins", "bin_size", "bin_order", "input")
"""What must agree between a model's ``inputs`` and the description of the features it scores."""


def check_inputs(model_path: str | os.PathLike, description: dict, features_path: str | os.PathLike) -> None:
    """Raise one DeepChromeError naming the model and the features file unless the features (their own
    :func:`~deepchrome.dataset.feature_description`) are what the model (its ``description``) expects."""
    expected, given = description["inputs"], feature_description(features_path)
    diffs = [f"{k}: the model expects {expected.get(k)!r}, the features have {given.get(k)!r}"
             for k in INPUT_KEYS if expected.get(k) != given.get(k)]
    if diffs:
        raise DeepChromeError(model_path, f"the model and the features {features_path} disagree: " + "; ".join(diffs),
                              "build the features as the model's were (its marks in its order, windows.flank and "
                              "windows.bin_size, windows.bin_order, input: see `deepchrome info MODEL`), or use a "
                              "model trained on features like these")


def check_target(model_path: str | os.PathLike, description: dict, target: str) -> None:
    """Raise one DeepChromeError naming the model file unless it predicts ``target`` (``class``: P(ON),
    ``level``: log2(RPKM + 1))."""
    saved = description["target"]
    if saved != target:
        raise DeepChromeError(model_path, f"the model was trained for target: {saved}, but this run has target: "
                              f"{target}", f"train the model again with target: {target}, or run with "
                              f"target: {saved}")


def load_checked(model_path: str | os.PathLike, features_path: str | os.PathLike,
                 target: str | None = None) -> tuple[list, dict]:
    """``(members, description)`` of the model at ``model_path`` after :func:`check_target` (unless ``target`` is
    None: whatever it predicts) and :func:`check_inputs` against the features at ``features_path``."""
    members, description = load_model(model_path)
    if target is not None:
        check_target(model_path, description, target)
    check_inputs(model_path, description, features_path)
    return members, description


def score_features(model_path: str | os.PathLike, features_path: str | os.PathLike, device: str = "auto",
                   target: str | None = None) -> tuple[pd.DataFrame, dict]:
    """``(table, description)``: every gene of the features file scored by the model (checked by
    :func:`load_checked`); ``table`` has ``gene_id`` and ``score`` (the ensemble's P(ON), float64 in [0, 1]; a
    level model: the predicted log2(RPKM + 1)), in the features' gene order."""
    members, description = load_checked(model_path, features_path, target)
    X, gene_id, _ = load_features(features_path)
    score = predict(members, X, description["inputs"]["transform"], select_device(device)[0])
    return pd.DataFrame({"gene_id": gene_id, "score": np.asarray(score, dtype=np.float64)}), description


def predict_cell(model_path: str | os.PathLike, features_path: str | os.PathLike, out: str | os.PathLike,
                 device: str = "auto", threads: int | None = None, target: str = "class") -> pd.DataFrame:
    """Score every gene of a cell's features with the model (:func:`score_features`); write ``out`` (gene_id,
    score; ``target="level"``: score is the predicted level, the ranking the AUCs use, and ``level`` the same
    predicted log2(RPKM + 1)) and return it. The model must have been trained for ``target``."""
    if threads:
        torch.set_num_threads(threads)
    table, description = score_features(model_path, features_path, device, target)
    n = len(description["seeds"])
    if target == "level":
        table["level"] = table["score"]
        log.info("%d genes scored with %s (%d members): mean predicted level %.3f (log2(RPKM + 1))", len(table),
                 model_path, n, table["level"].mean())
    else:
        log.info("%d genes scored with %s (%d members): mean P(ON) %.3f, %d genes above 0.5", len(table), model_path,
                 n, table["score"].mean(), int((table["score"] > 0.5).sum()))
    write_tsv(table, out)
    return table
