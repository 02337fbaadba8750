"""Classical baselines on the flattened 500 values (marks x bins) of each gene, tuned on the valid split.

Each baseline is fitted on the train split once per grid point; the point with the best valid ROC AUC
wins and its (train-only) model scores every gene of the cell.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import ParameterGrid
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

from .dataset import CellData
from .errors import DeepChromeError
from .train import require_both_classes, transform

BASELINES = ("svm", "rf", "logreg")

# Grids sized so that a 6,601-gene train split takes a couple of minutes per baseline on one core.
# SVM gamma is relative to 1 / n_features, sklearn's "scale" for standardised inputs.
_GRIDS = {
    "svm": {"C": [0.1, 1.0], "gamma_factor": [0.2, 1.0]},
    "rf": {"max_features": ["sqrt", 0.1], "min_samples_leaf": [1, 5]},
    "logreg": {"C": [1e-4, 1e-3, 1e-2, 1e-1]},
}
_RF_TREES = 300
_SVM_CACHE_MB = 1000  # kernel cache: 6,601 train genes fit ~1.5x faster than with sklearn's 200 MB


@dataclass
class BaselineResult:
    """A tuned baseline's scores (higher = ON; not probabilities for the SVM) and how it was chosen."""

    scores: np.ndarray  # float64 [genes], cell row order
    params: dict  # the chosen grid point
    valid_auc: float
    seconds: float


def _make(name: str, point: dict, n_features: int, seed: int, threads: int):
    if name == "svm":
        svc = SVC(kernel="rbf", C=point["C"], gamma=point["gamma_factor"] / n_features,
                  cache_size=_SVM_CACHE_MB, random_state=seed)
        return make_pipeline(StandardScaler(), svc)
    if name == "rf":
        return RandomForestClassifier(n_estimators=_RF_TREES, random_state=seed, n_jobs=threads, **point)
    return make_pipeline(StandardScaler(), LogisticRegression(C=point["C"], max_iter=2000))


def _score(model, X: np.ndarray) -> np.ndarray:
    if hasattr(model, "decision_function"):  # SVM, logistic regression: the margin ranks genes
        return model.decision_function(X).astype(np.float64)
    return model.predict_proba(X)[:, 1].astype(np.float64)


def fit_baseline(name: str, cell: CellData, transform_kind: str, seed: int, threads: int = 1) -> BaselineResult:
    """Fit baseline ``name`` (svm, rf or logreg) on ``transform(X)`` flattened to ``[genes, marks*bins]``."""
    if name not in BASELINES:
        raise DeepChromeError(None, f"unknown baseline {name!r}", f"use one of {', '.join(BASELINES)}")
    start = time.perf_counter()
    X = transform(cell.X, transform_kind).reshape(len(cell.X), -1)
    train, valid = cell.split == "train", cell.split == "valid"
    require_both_classes(cell, "train")
    require_both_classes(cell, "valid")
    best = None
    for point in ParameterGrid(_GRIDS[name]):
        model = _make(name, point, X.shape[1], seed, threads).fit(X[train], cell.y[train])
        auc = float(roc_auc_score(cell.y[valid], _score(model, X[valid])))
        if best is None or auc > best[0]:
            best = (auc, point, model)
    auc, point, model = best
    return BaselineResult(scores=_score(model, X), params=dict(point), valid_auc=auc,
                          seconds=time.perf_counter() - start)
