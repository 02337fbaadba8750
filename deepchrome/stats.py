"""Uncertainty of the comparisons: bootstrap confidence intervals, DeLong's paired test, tests across cells.

Scores are any monotone per-gene scores (higher = ON), labels 0/1; AUC is ROC AUC, AUPR is average precision.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import stats as sps

from .errors import DeepChromeError

N_BOOTSTRAP = 2000
LEVEL = 0.95
_CHUNK = 200  # resamples at a time: bounds memory to ~ 3 x 200 x genes floats


def _weighted_auc_aupr(pos_w: np.ndarray, neg_w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """ROC AUC and average precision of weighted genes, one row per resample.

    ``pos_w``, ``neg_w``: ``[resamples, groups]`` counts of positive and negative genes per distinct score,
    groups in ascending score order. Ties count 1/2 in the AUC; the AP is scikit-learn's (no interpolation:
    the sum over thresholds of the recall step times the precision at that threshold).
    """
    m, n = pos_w.sum(axis=1), neg_w.sum(axis=1)
    neg_below = np.cumsum(neg_w, axis=1) - neg_w
    auc = (pos_w * (neg_below + 0.5 * neg_w)).sum(axis=1) / (m * n)
    tp = np.cumsum(pos_w[:, ::-1], axis=1)  # descending thresholds
    fp = np.cumsum(neg_w[:, ::-1], axis=1)
    precision = np.divide(tp, tp + fp, out=np.zeros_like(tp, dtype=np.float64), where=(tp + fp) > 0)
    aupr = (pos_w[:, ::-1] * precision).sum(axis=1) / m
    return auc, aupr


def bootstrap_ci(y: np.ndarray, score: np.ndarray, n_resamples: int = N_BOOTSTRAP, seed: int = 0,
                 level: float = LEVEL) -> dict[str, list[float]]:
    """Percentile confidence intervals ``{"auc": [low, high], "aupr": [low, high]}`` of ROC AUC and AUPR by a
    stratified bootstrap: each resample draws the positives and the negatives with replacement, each at its own
    count, so every resample keeps the class balance. Seeded: the same inputs give the same interval."""
    y = np.asarray(y)
    score = np.asarray(score, dtype=np.float64)
    if np.unique(y).size < 2:
        raise DeepChromeError(None, f"only one class among {y.size} labels: no confidence interval",
                              "evaluate on a set holding both classes")
    _, group = np.unique(score, return_inverse=True)  # tied scores share a group; groups in score order
    n_groups = int(group.max()) + 1
    g_pos, g_neg = group[y == 1], group[y == 0]
    rng = np.random.default_rng(seed)
    aucs, auprs = [], []
    for start in range(0, n_resamples, _CHUNK):
        b = min(_CHUNK, n_resamples - start)
        offset = (np.arange(b) * n_groups)[:, None]
        counts = [np.bincount((offset + g[rng.integers(0, len(g), size=(b, len(g)))]).ravel(),
                              minlength=b * n_groups).reshape(b, n_groups).astype(np.float64) for g in (g_pos, g_neg)]
        auc, aupr = _weighted_auc_aupr(*counts)
        aucs.append(auc)
        auprs.append(aupr)
    q = [(1 - level) / 2 * 100, (1 + level) / 2 * 100]
    return {"auc": np.percentile(np.concatenate(aucs), q).tolist(),
            "aupr": np.percentile(np.concatenate(auprs), q).tolist()}


def _structural_components(y: np.ndarray, score: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    """DeLong's placements: AUC, ``V10`` ``[positives]`` (share of negatives each positive beats, ties 1/2)
    and ``V01`` ``[negatives]`` (share of positives that beat each negative), via midranks (Sun & Xu 2014)."""
    pos, neg = score[y == 1], score[y == 0]
    m, n = len(pos), len(neg)
    all_ranks = sps.rankdata(np.r_[pos, neg])
    v10 = (all_ranks[:m] - sps.rankdata(pos)) / n
    v01 = 1.0 - (all_ranks[m:] - sps.rankdata(neg)) / m
    return float(v10.mean()), v10, v01


def delong_test(y: np.ndarray, score_a: np.ndarray, score_b: np.ndarray) -> dict[str, float]:
    """DeLong, DeLong & Clarke-Pearson (1988) test of two correlated ROC AUCs on the same genes.

    Returns ``auc_a``, ``auc_b``, ``diff`` (a - b), its standard error ``se``, ``z`` and the two-sided ``p``.
    Identical rankings give ``se`` 0, ``z`` 0 and ``p`` 1.
    """
    y = np.asarray(y)
    a, b = np.asarray(score_a, dtype=np.float64), np.asarray(score_b, dtype=np.float64)
    if not (y.shape == a.shape == b.shape):
        raise ValueError(f"labels {y.shape} and scores {a.shape}, {b.shape} differ in shape")
    m, n = int((y == 1).sum()), int((y == 0).sum())
    if m < 2 or n < 2:
        raise DeepChromeError(None, f"{m} positive and {n} negative genes: DeLong's test needs >= 2 of each",
                              "compare on a larger test set")
    auc_a, v10_a, v01_a = _structural_components(y, a)
    auc_b, v10_b, v01_b = _structural_components(y, b)
    s10 = np.cov(np.vstack([v10_a, v10_b]))  # 2 x 2, ddof 1
    s01 = np.cov(np.vstack([v01_a, v01_b]))
    var = (s10[0, 0] + s10[1, 1] - 2 * s10[0, 1]) / m + (s01[0, 0] + s01[1, 1] - 2 * s01[0, 1]) / n
    diff = auc_a - auc_b
    se = math.sqrt(max(var, 0.0))
    if se == 0:
        z, p = 0.0, 1.0
    else:
        z = diff / se
        p = float(2 * sps.norm.sf(abs(z)))
    return {"auc_a": auc_a, "auc_b": auc_b, "diff": diff, "se": se, "z": float(z), "p": p}


MIN_CELLS_CI = 3
"""Fewer cells than this get no interval of their mean: with two cells a t-interval spans 12.7 standard errors
(one degree of freedom) and ran far outside [0, 1] (0.083 - 1.674 for two real cells)."""


def mean_ci(values: np.ndarray, level: float = LEVEL,
            bounds: tuple[float, float] | None = None) -> tuple[float, float, float]:
    """Mean over independent values (cells) and its t-interval ``(mean, low, high)``, clipped to the metric's
    ``bounds`` where given (AUC: [0, 1]; Pearson r: [-1, 1]; None for differences, which have no bounds). Below :data:`MIN_CELLS_CI` finite values the bounds
    are NaN (no interval); identical values give the degenerate interval ``(mean, mean, mean)``."""
    v = np.asarray(values, dtype=np.float64)
    v = v[np.isfinite(v)]
    if v.size == 0:
        return math.nan, math.nan, math.nan
    mean = float(v.mean())
    if v.size < MIN_CELLS_CI:
        return mean, math.nan, math.nan
    half = float(sps.t.ppf((1 + level) / 2, v.size - 1) * v.std(ddof=1) / math.sqrt(v.size))
    low, high = mean - half, mean + half
    return (mean, low, high) if bounds is None else (mean, max(low, bounds[0]), min(high, bounds[1]))


def wilcoxon_p(a: np.ndarray, b: np.ndarray) -> float:
    """Two-sided Wilcoxon signed-rank p of paired values ``a`` vs ``b`` (cells); NaN with no non-zero difference."""
    d = np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64)
    d = d[np.isfinite(d)]
    if np.count_nonzero(d) == 0:
        return math.nan
    return float(sps.wilcoxon(d).pvalue)


def _row_pearson(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pearson r of each row pair of ``a``, ``b`` ``[resamples, genes]`` (NaN where a row is constant)."""
    a = a - a.mean(axis=1, keepdims=True)
    b = b - b.mean(axis=1, keepdims=True)
    denom = np.sqrt((a * a).sum(axis=1) * (b * b).sum(axis=1))
    return np.divide((a * b).sum(axis=1), denom, out=np.full(len(a), np.nan), where=denom > 0)


def bootstrap_level_ci(measured: np.ndarray, predicted: np.ndarray, n_resamples: int = N_BOOTSTRAP, seed: int = 0,
                       level: float = LEVEL) -> dict[str, list[float]]:
    """Percentile confidence intervals of the regression metrics of ``predicted`` against ``measured`` (float
    ``[genes]``, e.g. log2(RPKM + 1)): ``{"r", "rho", "r2", "mse": [low, high]}`` (Pearson r, Spearman rho with
    average ranks for ties, R^2 = 1 - SSE / SST and the mean squared error) by a plain bootstrap over genes
    (each resample draws the genes with replacement). Seeded: the same inputs give the same interval."""
    y = np.asarray(measured, dtype=np.float64)
    p = np.asarray(predicted, dtype=np.float64)
    if y.shape != p.shape or y.ndim != 1 or y.size < 3:
        raise DeepChromeError(None, f"{y.size} measured and {p.size} predicted levels: a bootstrap needs >= 3 pairs",
                              "evaluate on a larger test set")
    rng = np.random.default_rng(seed)
    out: dict[str, list[np.ndarray]] = {"r": [], "rho": [], "r2": [], "mse": []}
    for start in range(0, n_resamples, _CHUNK):
        idx = rng.integers(0, y.size, size=(min(_CHUNK, n_resamples - start), y.size))
        a, b = y[idx], p[idx]
        sse = ((a - b) ** 2).sum(axis=1)
        sst = ((a - a.mean(axis=1, keepdims=True)) ** 2).sum(axis=1)
        out["r"].append(_row_pearson(a, b))
        out["rho"].append(_row_pearson(sps.rankdata(a, axis=1), sps.rankdata(b, axis=1)))
        out["r2"].append(np.divide(sst - sse, sst, out=np.full(len(a), np.nan), where=sst > 0))
        out["mse"].append(sse / y.size)
    q = [(1 - level) / 2 * 100, (1 + level) / 2 * 100]
    return {k: np.nanpercentile(np.concatenate(v), q).tolist() for k, v in out.items()}
