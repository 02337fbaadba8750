"""Scores -> ROC AUC / average precision per split with bootstrap CIs on test, and the per-gene predictions table;
for ``target: level`` also Pearson r, Spearman rho, R^2 and MSE of the predicted against the measured level."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
from scipy import stats as sps
from sklearn.metrics import average_precision_score, mean_squared_error, r2_score, roc_auc_score

from .dataset import SPLITS, CellData
from .errors import DeepChromeError
from .stats import N_BOOTSTRAP, bootstrap_ci, bootstrap_level_ci

log = logging.getLogger("deepchrome.evaluate")

MIN_SPLIT_GENES = 100
"""A split of fewer genes gets a console warning: its AUC moves by about 0.1 with a few genes more or less."""
LEVEL_METRICS = ("r", "rho", "r2", "mse")  # Pearson r, Spearman rho, R^2, mean squared error
UNSCALED = ("r2", "mse")  # meaningless for a score on another scale than the level (the untrained promoter score)
UNSCALED_REASON = ("the untrained promoter score is summed H3K4me3 signal, not on the log2(RPKM + 1) scale: R^2 and "
                   "MSE would measure the scale, not the prediction; r, rho and AUC do not depend on it")


def metrics(y: np.ndarray, score: np.ndarray) -> dict:
    """ROC AUC and average precision (``aupr``) of ``score`` (any monotone score, higher = ON) for 0/1 ``y``."""
    y = np.asarray(y)
    score = np.asarray(score, dtype=np.float64)
    if np.unique(y).size < 2:
        raise DeepChromeError(None, f"only one class among {y.size} labels: AUC is undefined",
                              "evaluate on a set holding both expressed (1) and unexpressed (0) genes")
    if not np.isfinite(score).all():
        raise DeepChromeError(None, "scores contain NaN or infinity (the model diverged)",
                              "lower the learning rate or use the log1p transform")
    return {"auc": float(roc_auc_score(y, score)), "aupr": float(average_precision_score(y, score))}


def model_metrics(cell: CellData, scores: np.ndarray, extra: dict, name: str = "the model") -> dict:
    """Test/valid/train AUC, test AUPR with their 95% stratified-bootstrap intervals (``test_auc_ci``,
    ``test_aupr_ci``: [low, high], seed 0) and split sizes of ``scores`` (one per gene, cell row order), plus
    ``extra``. ``name`` (e.g. "gbm, cell E003") goes into the warnings: a split below :data:`MIN_SPLIT_GENES`
    genes, a constant predictor (``constant_predictor``: true; its AUC is 0.5 by ties) and a test interval of
    zero width (``test_auc_ci_degenerate``: true)."""
    scores = np.asarray(scores)
    if scores.shape != cell.y.shape:
        raise ValueError(f"{scores.shape[0]} scores for {cell.y.shape[0]} genes")
    out: dict = {}
    for split in SPLITS:
        if (cell.split == split).sum() < MIN_SPLIT_GENES:
            log.warning("%s: the %s split has %d genes (fewer than %d): its AUC is rough; give the cell more genes "
                        "(a fuller annotation or expression table)", name, split, (cell.split == split).sum(),
                        MIN_SPLIT_GENES)
    test_scores = scores[cell.split == "test"]
    out["constant_predictor"] = bool(len(test_scores) and np.ptp(test_scores) == 0)
    if out["constant_predictor"]:
        log.warning("%s: a constant predictor: every test gene gets the score %.4g, so its AUC of 0.5 comes from "
                    "ties, not from the data (too few genes or an uninformative mark?)", name, test_scores[0])
    for split in SPLITS:
        mask = cell.split == split
        m = metrics(cell.y[mask], scores[mask])
        out[f"{split}_auc"] = m["auc"]
        if split == "test":
            out["test_aupr"] = m["aupr"]
            ci = bootstrap_ci(cell.y[mask], scores[mask])
            out["test_auc_ci"], out["test_aupr_ci"] = ci["auc"], ci["aupr"]
            out["test_auc_ci_degenerate"] = ci["auc"][0] == ci["auc"][1]
            if out["test_auc_ci_degenerate"]:
                log.warning("%s: the test AUC's 95%% interval is degenerate ([%.3f, %.3f]: every resample gives the "
                            "same AUC), not a precise estimate", name, *ci["auc"])
            out["bootstrap"] = {"resamples": N_BOOTSTRAP, "stratified": True, "level": 0.95, "seed": 0}
        out[f"n_{split}"] = int(mask.sum())
    return {**out, **extra}


def predictions_table(cell: CellData, scores: np.ndarray) -> pd.DataFrame:
    """One row per gene: gene_id, split, label (0/1) and score (``target: level``: the predicted level, and the
    measured ``level``)."""
    table = pd.DataFrame({"gene_id": cell.gene_id, "split": cell.split, "label": cell.y,
                          "score": np.asarray(scores, dtype=np.float64)})
    if cell.level is not None:
        table["level"] = cell.level
    return table


def level_metrics(measured: np.ndarray, predicted: np.ndarray) -> dict[str, float]:
    """Pearson ``r``, Spearman ``rho``, ``r2`` (R^2, 1 - SSE / SST) and ``mse`` of ``predicted`` against
    ``measured`` levels (float ``[genes]``)."""
    measured, predicted = np.asarray(measured, dtype=np.float64), np.asarray(predicted, dtype=np.float64)
    if not np.isfinite(predicted).all():
        raise DeepChromeError(None, "predicted levels contain NaN or infinity (the model diverged)",
                              "lower the learning rate or use the log1p transform")
    constant = np.ptp(predicted) == 0
    return {"r": np.nan if constant else float(sps.pearsonr(measured, predicted)[0]),
            "rho": np.nan if constant else float(sps.spearmanr(measured, predicted)[0]),
            "r2": float(r2_score(measured, predicted)), "mse": float(mean_squared_error(measured, predicted))}


def level_model_metrics(cell: CellData, predicted: np.ndarray, extra: dict, scaled: bool = True,
                        name: str = "the model") -> dict:
    """Everything :func:`model_metrics` gives of ``predicted`` as a score (the AUC of the predicted level against
    the median label, so both targets compare), plus per split ``{split}_r`` and, on the test genes, ``test_r``,
    ``test_rho``, ``test_r2``, ``test_mse`` with 95% bootstrap intervals (``test_r_ci``, ...: [low, high], 2,000
    resamples of the test genes, seed 0), and ``extra``. ``scaled=False`` (a score on another scale than the
    level, the untrained promoter score): R^2 and MSE are null, with the reason under ``not_reported``."""
    predicted = np.asarray(predicted, dtype=np.float64)
    measured = cell.levels()
    out = model_metrics(cell, predicted, {"target": "level"}, name=name)
    for name in SPLITS:
        mask = cell.split == name
        out[f"{name}_r"] = level_metrics(measured[mask], predicted[mask])["r"]
    test = cell.split == "test"
    point, ci = level_metrics(measured[test], predicted[test]), bootstrap_level_ci(measured[test], predicted[test])
    for key in LEVEL_METRICS:
        shown = scaled or key not in UNSCALED
        out[f"test_{key}"], out[f"test_{key}_ci"] = (point[key], ci[key]) if shown else (None, None)
    out["bootstrap_level"] = {"resamples": N_BOOTSTRAP, "stratified": False, "level": 0.95, "seed": 0}
    if not scaled:
        out["not_reported"] = {key: UNSCALED_REASON for key in UNSCALED}
    return {**out, **extra}


def target_metrics(cell: CellData, scores: np.ndarray, extra: dict, target: str, scaled: bool = True,
                   name: str = "the model") -> dict:
    """metrics.json of a model for the run's ``target``: :func:`model_metrics` (``class``) or
    :func:`level_model_metrics` (``level``; ``scaled``: the scores are levels, not another scale); ``name`` (e.g.
    "gbm, cell E003") goes into :func:`model_metrics`' warnings."""
    if target == "level":
        return level_model_metrics(cell, scores, extra, scaled=scaled, name=name)
    return model_metrics(cell, scores, extra, name=name)

