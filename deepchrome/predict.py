"""Cells without RNA-seq: every gene of a cell's features scored by a model trained elsewhere.

A model can only score features built the way its training features were: the same marks in the same
order, the same number and size of bins, the same bin order (strand or genome), the same kind of input
(bigWig signal, read counts, or the published processed counts) and the same transform. ``model.pt``
records these (:func:`feature_inputs`, stored by :func:`deepchrome.ensemble.save_members`); a model used on
features described otherwise is refused with one error that names both files. A model also says what it predicts
(:func:`deepchrome.ensemble.saved_target`: P(ON) or the level); one that predicts other than the run's ``target``
is refused likewise.
"""

from __future__ import annotations

import logging
import os

import numpy as np
import pandas as pd
import torch

from .dataset import load_features
from .ensemble import load_members, model_inputs, predict, saved_target
from .errors import DeepChromeError
from .io import write_tsv
from .train import select_device

log = logging.getLogger("deepchrome.predict")

INPUT_KEYS = ("marks", "bins", "bin_size", "bin_order", "input", "transform")
"""What must agree between a model and the features it scores."""


def feature_inputs(marks, n_bins: int, description: dict) -> dict:
    """How features were built: marks (in array order), number of bins, and from ``description`` the bin size
    (``bin_size``, bp), bin order (``bin_order``: strand/genome), input kind (``input``: signal/reads/processed)
    and the models' transform (``transform``)."""
    return {"marks": [str(m) for m in marks], "bins": int(n_bins), "bin_size": int(description["bin_size"]),
            **{k: str(description[k]) for k in ("bin_order", "input", "transform")}}


def check_inputs(model_path: str | os.PathLike, expected: dict | None, features_path: str | os.PathLike,
                 given: dict) -> None:
    """Raise one DeepChromeError naming the model and the features file unless ``given`` (the features'
    description) is what the model ``expected`` (its recorded description; None: not recorded)."""
    if expected is None:
        raise DeepChromeError(model_path, f"the model file records no description of its input features, so it "
                              f"cannot be checked against {features_path}",
                              "train the model again with this version of the workflow (its model.pt records them)")
    diffs = [f"{k}: the model expects {expected.get(k)!r}, the features have {given[k]!r}"
             for k in INPUT_KEYS if expected.get(k) != given[k]]
    if diffs:
        raise DeepChromeError(model_path, f"the model and the features {features_path} disagree: " + "; ".join(diffs),
                              "build the features as the model's were (marks in its order, windows.flank and "
                              "windows.bin_size, windows.bin_order, input, cnn.params.transform), or use a model "
                              "trained on features like these")


def check_target(model_path: str | os.PathLike, target: str) -> None:
    """Raise one DeepChromeError naming the model file unless it predicts the run's ``target`` (``class``: P(ON),
    ``level``: log2(RPKM + 1))."""
    saved = saved_target(model_path)
    if saved != target:
        raise DeepChromeError(model_path, f"the model was trained for target: {saved}, but this run has target: "
                              f"{target}", f"train the model again with target: {target}, or run with "
                              f"target: {saved}")


def load_checked(model_path: str | os.PathLike, features_path: str | os.PathLike, given: dict, params: dict,
                 target: str = "class"):
    """The ensemble's members at ``model_path`` after :func:`check_target` against the run's ``target`` and
    :func:`check_inputs` against the features' ``given``."""
    check_target(model_path, target)
    check_inputs(model_path, model_inputs(model_path), features_path, given)
    return load_members(model_path, params)


def predict_cell(model_path: str | os.PathLike, features_path: str | os.PathLike, description: dict, params: dict,
                 out: str | os.PathLike, device: str = "auto", threads: int | None = None,
                 target: str = "class") -> pd.DataFrame:
    """Score every gene of a cell's features with the model; write ``out`` (gene_id, score: the ensemble's
    P(ON), float64 in [0, 1], features' gene order; ``target="level"``: score is the predicted level, the
    ranking the AUCs use, and ``level`` the same predicted log2(RPKM + 1)) and return it. The model must have
    been trained for ``target`` (:func:`check_target`).

    ``description``: the features' settings except marks and bins (``bin_size``, ``bin_order``, ``input``,
    ``transform``), which are read from the features file.
    """
    if threads:
        torch.set_num_threads(threads)
    X, gene_id, marks = load_features(features_path)
    given = feature_inputs(marks, X.shape[2], description)
    members = load_checked(model_path, features_path, given, params, target)
    score = predict(members, X, params, select_device(device)[0])
    table = pd.DataFrame({"gene_id": gene_id, "score": np.asarray(score, dtype=np.float64)})
    if target == "level":
        table["level"] = table["score"]
        log.info("%d genes scored with %s (%d members): mean predicted level %.3f (log2(RPKM + 1))", len(table),
                 model_path, len(members), table["level"].mean())
    else:
        log.info("%d genes scored with %s (%d members): mean P(ON) %.3f, %d genes above 0.5", len(table), model_path,
                 len(members), table["score"].mean(), int((table["score"] > 0.5).sum()))
    write_tsv(table, out)
    return table
