"""Scores -> ROC AUC / average precision per split with bootstrap CIs on test, and the per-gene predictions table."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.metrics import average_precision_score, roc_auc_score

from .dataset import SPLITS, CellData
from .errors import DeepChromeError
from .stats import N_BOOTSTRAP, bootstrap_ci


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


def model_metrics(cell: CellData, scores: np.ndarray, extra: dict) -> dict:
    """Test/valid/train AUC, test AUPR with their 95% stratified-bootstrap intervals (``test_auc_ci``,
    ``test_aupr_ci``: [low, high], seed 0) and split sizes of ``scores`` (one per gene, cell row order), plus
    ``extra``."""
    scores = np.asarray(scores)
    if scores.shape != cell.y.shape:
        raise ValueError(f"{scores.shape[0]} scores for {cell.y.shape[0]} genes")
    out: dict = {}
    for name in SPLITS:
        mask = cell.split == name
        m = metrics(cell.y[mask], scores[mask])
        out[f"{name}_auc"] = m["auc"]
        if name == "test":
            out["test_aupr"] = m["aupr"]
            ci = bootstrap_ci(cell.y[mask], scores[mask])
            out["test_auc_ci"], out["test_aupr_ci"] = ci["auc"], ci["aupr"]
            out["bootstrap"] = {"resamples": N_BOOTSTRAP, "stratified": True, "level": 0.95, "seed": 0}
        out[f"n_{name}"] = int(mask.sum())
    return {**out, **extra}


def predictions_table(cell: CellData, scores: np.ndarray) -> pd.DataFrame:
    """One row per gene: gene_id, split, label (0/1) and score."""
    return pd.DataFrame({"gene_id": cell.gene_id, "split": cell.split, "label": cell.y,
                         "score": np.asarray(scores, dtype=np.float64)})
