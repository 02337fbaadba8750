"""Baselines on the flattened values (marks x bins) of each gene, tuned on the valid split, and the untrained
promoter score.

Each trained baseline is fitted on the train split once per grid point; the point with the best valid ROC
AUC wins and its (train-only) model scores every gene of the cell. The random forest is searched with its
first 100 trees and the chosen point then grown to 300 (half the trees of searching at full size). ``gbm``
also stops adding trees when its loss on the valid split stops improving (the same valid genes, never an
internal random split). ``promoter`` is no model: H3K4me3 summed over the central 2 kb, the floor every
trained model must clear.

``target: level``: each baseline's regression form (``level_form`` in :data:`deepchrome.spec.REGISTRY`:
gradient-boosted and random-forest regressors, ridge in place of logistic regression, SVR in place of the SVM) is
fitted to log2(RPKM + 1) and the grid point with the best valid Pearson r wins; ``promoter`` stays the untrained
score.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import numpy as np
from scipy.stats import pearsonr
from sklearn.ensemble import (HistGradientBoostingClassifier, HistGradientBoostingRegressor, RandomForestClassifier,
                              RandomForestRegressor)
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import ParameterGrid
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC, SVR
from threadpoolctl import threadpool_limits

from .dataset import CellData, load_cell, require_both_classes
from .errors import DeepChromeError
from .evaluate import predictions_table, target_metrics
from .io import write_json, write_tsv
from .spec import PROMOTER_BP, PROMOTER_MARK, baseline_names, promoter_bins, transform
from .spec import target as spec_target

log = logging.getLogger("deepchrome.baselines")

BASELINES = baseline_names("class")
LEVEL_BASELINES = baseline_names("level")

# Grids sized so that a 6,601-gene train split takes about a minute per baseline on one core.
# SVM gamma is relative to 1 / n_features, sklearn's "scale" for standardised inputs.
GRIDS = {
    "gbm": {"max_leaf_nodes": [7, 31]},
    "svm": {"C": [0.1, 1.0], "gamma_factor": [0.2, 1.0]},
    "rf": {"max_features": ["sqrt", 0.1], "min_samples_leaf": [1, 5]},
    "logreg": {"C": [1e-4, 1e-3, 1e-2, 1e-1]},
}
FIXED = {  # settings that are not searched, recorded with the result
    "gbm": {"learning_rate": 0.05, "max_iter": 500, "early_stopping": "valid log-loss, 10 rounds without a gain of 1e-4",
            "l2_regularization": 1.0},
    "svm": {"kernel": "rbf", "scaler": "standard"},
    "rf": {"n_estimators": 300, "search_trees": 100,
           "search": "each grid point with its first 100 trees; the chosen point grown to 300 (warm start: "
                     "the same forest as 300 trees fitted at once)"},
    "logreg": {"penalty": "l2", "scaler": "standard"},
}
_SVM_CACHE_MB = 1000  # kernel cache: 6,601 train genes fit ~1.5x faster than with sklearn's 200 MB

# target: level. Each configured baseline (baselines.models) runs as its regression form (deepchrome.spec).
LEVEL_GRIDS = {
    "gbm": GRIDS["gbm"],
    # Levels span ~0-10 (log2 scale) and |dual coefficients| <= C: C < 1 shrinks every prediction towards the mean.
    "svr": {"C": [1.0, 10.0], "gamma_factor": GRIDS["svm"]["gamma_factor"]},
    "rf": GRIDS["rf"],
    "ridge": {"alpha": [1.0, 10.0, 100.0, 1000.0, 10000.0, 100000.0]},  # standardised inputs, 500 features
}
LEVEL_FIXED = {
    "gbm": {**FIXED["gbm"], "loss": "squared_error",
            "early_stopping": "valid squared error, 10 rounds without a gain of 1e-4"},
    "svr": {**FIXED["svm"], "epsilon": 0.1},
    "rf": {"n_estimators": FIXED["rf"]["n_estimators"]},
    "ridge": {"penalty": "l2", "scaler": "standard"},
}


@dataclass
class BaselineResult:
    """A tuned baseline's scores (higher = ON; not probabilities for the SVM) and how it was chosen."""

    scores: np.ndarray  # float64 [genes], cell row order (target level: the predicted level)
    params: dict  # the chosen grid point (and, for gbm, the trees kept)
    valid_auc: float  # target level: the valid Pearson r
    seconds: float
    grid: dict  # the searched grid, and the fixed settings
    grid_valid_auc: list  # [{**point, "valid_auc": ...}] for every grid point, grid order (level: "valid_r")


def _make(name: str, point: dict, n_features: int, seed: int, threads: int):
    if name == "svm":
        svc = SVC(kernel="rbf", C=point["C"], gamma=point["gamma_factor"] / n_features,
                  cache_size=_SVM_CACHE_MB, random_state=seed)
        return make_pipeline(StandardScaler(), svc)
    if name == "rf":  # searched with its first trees, then grown (see fit_baseline)
        return RandomForestClassifier(n_estimators=FIXED["rf"]["search_trees"], warm_start=True, random_state=seed,
                                      n_jobs=threads, **point)
    if name == "gbm":
        return HistGradientBoostingClassifier(max_iter=FIXED["gbm"]["max_iter"], early_stopping=True,
                                              n_iter_no_change=10, tol=1e-4, scoring="loss",
                                              l2_regularization=FIXED["gbm"]["l2_regularization"],
                                              learning_rate=FIXED["gbm"]["learning_rate"],
                                              random_state=seed, **point)
    return make_pipeline(StandardScaler(), LogisticRegression(C=point["C"], max_iter=2000))


def _make_regressor(name: str, point: dict, n_features: int, seed: int, threads: int):
    """The regression form of baseline ``name`` (a :data:`LEVEL_GRIDS` key) at grid ``point``."""
    if name == "svr":
        svr = SVR(kernel="rbf", C=point["C"], gamma=point["gamma_factor"] / n_features,
                  epsilon=LEVEL_FIXED["svr"]["epsilon"], cache_size=_SVM_CACHE_MB)
        return make_pipeline(StandardScaler(), svr)
    if name == "rf":
        return RandomForestRegressor(n_estimators=FIXED["rf"]["n_estimators"], random_state=seed, n_jobs=threads,
                                     **point)
    if name == "gbm":
        return HistGradientBoostingRegressor(max_iter=FIXED["gbm"]["max_iter"], early_stopping=True,
                                             n_iter_no_change=10, tol=1e-4, scoring="loss",
                                             l2_regularization=FIXED["gbm"]["l2_regularization"],
                                             learning_rate=FIXED["gbm"]["learning_rate"], random_state=seed, **point)
    return make_pipeline(StandardScaler(), Ridge(alpha=point["alpha"]))


def _pearson(measured: np.ndarray, predicted: np.ndarray) -> float:
    """Pearson r; 0 for a constant prediction (no correlation), so the grid search can still compare it."""
    return float(pearsonr(measured, predicted)[0]) if np.ptp(predicted) > 0 else 0.0


def _score(model, X: np.ndarray) -> np.ndarray:
    if hasattr(model, "decision_function") and not isinstance(model, HistGradientBoostingClassifier):
        return model.decision_function(X).astype(np.float64)  # SVM, logistic regression: the margin ranks genes
    return model.predict_proba(X)[:, 1].astype(np.float64)


def promoter_score(cell: CellData, bin_size: int) -> np.ndarray:
    """H3K4me3 summed over the central :data:`PROMOTER_BP` of each gene's window (raw values, no transform),
    float64 ``[genes]``; ``bin_size``: the features' bins in bp (:func:`deepchrome.spec.promoter_bins` says how a
    bin size that does not divide 1 kb rounds). The window is centred on the TSS, so the central bins are the
    same in either bin order."""
    if PROMOTER_MARK not in cell.marks:
        raise DeepChromeError(None, f"the promoter score needs {PROMOTER_MARK}, the marks are {', '.join(cell.marks)}",
                              f"add {PROMOTER_MARK} to the marks or drop 'promoter' from baselines.models")
    lo, hi = promoter_bins(cell.X.shape[2], bin_size)
    return cell.X[:, cell.marks.index(PROMOTER_MARK), lo:hi].astype(np.float64).sum(axis=1)


def bin_size_of(cell: CellData) -> int:
    """The bin size (bp) of the cell's features, from their description."""
    if not cell.bins:
        raise DeepChromeError(None, "the cell's features do not say their bin size",
                              "load the cell with deepchrome.dataset.load_cell from a features file of this version")
    return int(cell.bins["bin_size"])


def fit_baseline(name: str, cell: CellData, transform_kind: str, seed: int, threads: int = 1,
                 target: str = "class") -> BaselineResult:
    """Fit baseline ``name`` (see :data:`BASELINES`; ``target="level"``: :data:`LEVEL_BASELINES`, fitted to
    ``cell.level`` and chosen by valid Pearson r) on ``transform(X)`` flattened to ``[genes, marks*bins]``."""
    level = target == "level"
    known = LEVEL_BASELINES if level else BASELINES
    if name not in known:
        raise DeepChromeError(None, f"unknown baseline {name!r}", f"use one of {', '.join(known)}")
    start = time.perf_counter()
    require_both_classes(cell, "train")
    require_both_classes(cell, "valid")
    train, valid = cell.split == "train", cell.split == "valid"
    y = cell.levels() if level else cell.y
    if level:
        grids, fixed_settings, make, key = LEVEL_GRIDS, LEVEL_FIXED, _make_regressor, "valid_r"

        def judge(model, rows):
            return _pearson(y[rows], model.predict(X[rows]))
    else:
        grids, fixed_settings, make, key = GRIDS, FIXED, _make, "valid_auc"

        def judge(model, rows):
            return float(roc_auc_score(y[rows], _score(model, X[rows])))
    if name == "promoter":
        scores = promoter_score(cell, bin_size_of(cell))
        auc = _pearson(y[valid], scores[valid]) if level else float(roc_auc_score(y[valid], scores[valid]))
        fixed = {"mark": PROMOTER_MARK, "central_bp": PROMOTER_BP, "trained": False}
        return BaselineResult(scores=scores, params=fixed, valid_auc=auc, seconds=time.perf_counter() - start,
                              grid={"fixed": fixed}, grid_valid_auc=[])
    X = transform(cell.X, transform_kind).reshape(len(cell.X), -1)
    best, tried = None, []
    for point in ParameterGrid(grids[name]):
        model = make(name, point, X.shape[1], seed, threads)
        if name == "gbm":
            with threadpool_limits(threads):  # its OpenMP would otherwise take every core of the machine
                model.fit(X[train], y[train], X_val=X[valid], y_val=y[valid])
        else:
            model.fit(X[train], y[train])
        auc = judge(model, valid)
        tried.append({**point, key: auc})
        if best is None or auc > best[0]:
            best = (auc, point, model)
    auc, point, model = best
    chosen = dict(point)
    if name == "gbm":
        chosen["n_trees"] = int(model.n_iter_)
    if name == "rf" and not level:  # grow the chosen forest to its full size: trees search_trees+1.. of its seeds
        model.set_params(n_estimators=FIXED["rf"]["n_estimators"]).fit(X[train], y[train])
        chosen["n_trees"] = len(model.estimators_)
        auc = judge(model, valid)
    scores = model.predict(X).astype(np.float64) if level else _score(model, X)
    return BaselineResult(scores=scores, params=chosen, valid_auc=auc, seconds=time.perf_counter() - start,
                          grid={**grids[name], "fixed": fixed_settings[name]}, grid_valid_auc=tried)


def run_baselines(names: list[str], cell_name: str, features, labels, split, transform_kind: str, seed: int,
                  threads: int, target: str, out_predictions: list, out_metrics: list) -> None:
    """Fit each baseline of ``names`` on the files of cell ``cell_name`` (read once) for ``target``, one after
    another, and write its predictions.tsv and metrics.json (``out_predictions[i]``, ``out_metrics[i]`` for
    ``names[i]``: the test metrics, the chosen grid point, the whole grid's valid scores and the protocol)."""
    if not len(names) == len(out_predictions) == len(out_metrics):
        raise ValueError(f"{len(names)} baselines, {len(out_predictions)} predictions and {len(out_metrics)} metrics "
                         "paths: give one of each per baseline")
    cell = load_cell(features, labels, split)
    goal = spec_target(target)
    for name, out_pred, out_metrics_file in zip(names, out_predictions, out_metrics):
        result = fit_baseline(name, cell, transform_kind, seed=seed, threads=threads, target=target)
        write_tsv(predictions_table(cell, result.scores), out_pred)
        extra = {"seconds": result.seconds, "device": "cpu", "params": result.params, "transform": transform_kind,
                 "protocol": {"grid": result.grid, f"grid_valid_{goal.metric}": result.grid_valid_auc,
                              "selection": f"the grid point with the best {goal.metric_label}, fitted on the train "
                                           "split",
                              "test_genes_used_for": "the reported metrics only"}}
        write_json(target_metrics(cell, result.scores, extra, target, scaled=name != "promoter",
                                  name=f"{name}, cell {cell_name}"), out_metrics_file)
        log.info("%s of cell %s: valid %s %.4f in %.1f s", name, cell_name, goal.metric, result.valid_auc,
                 result.seconds)
