"""Bootstrap intervals, DeLong's test and the across-cell statistics against references and simulations."""

import math

import numpy as np
import pytest
from scipy.stats import norm
from sklearn.metrics import average_precision_score, roc_auc_score

from deepchrome.errors import DeepChromeError
from deepchrome.stats import _weighted_auc_aupr, bootstrap_ci, delong_test, mean_ci, wilcoxon_p


def test_weighted_auc_and_aupr_equal_sklearn_on_a_resample_with_ties():
    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, 300)
    s = np.round(rng.normal(size=300) + y, 1)  # many ties
    _, g = np.unique(s, return_inverse=True)
    pos, neg = rng.choice(np.flatnonzero(y == 1), (y == 1).sum()), rng.choice(np.flatnonzero(y == 0), (y == 0).sum())
    w = [np.bincount(g[i], minlength=g.max() + 1)[None].astype(float) for i in (pos, neg)]
    auc, aupr = _weighted_auc_aupr(*w)
    labels, scores = np.r_[np.ones(len(pos)), np.zeros(len(neg))], np.r_[s[pos], s[neg]]
    assert auc[0] == pytest.approx(roc_auc_score(labels, scores), abs=1e-12)
    assert aupr[0] == pytest.approx(average_precision_score(labels, scores), abs=1e-12)


def test_bootstrap_interval_covers_the_true_auc_at_about_the_nominal_rate():
    """Binormal scores (positives N(d, 1), negatives N(0, 1)): the true AUC is Phi(d / sqrt 2)."""
    rng = np.random.default_rng(0)
    d, n, reps = 1.2, 100, 300
    true_auc = norm.cdf(d / math.sqrt(2))
    y = np.r_[np.ones(n), np.zeros(n)].astype(int)
    hits = 0
    for r in range(reps):
        s = np.r_[rng.normal(d, 1, n), rng.normal(0, 1, n)]
        low, high = bootstrap_ci(y, s, n_resamples=1000, seed=r)["auc"]
        hits += low <= true_auc <= high
    coverage = hits / reps  # nominal 0.95; the standard error of this estimate is ~0.013
    assert 0.91 <= coverage <= 0.985, coverage


def test_bootstrap_is_seeded_and_brackets_the_estimate():
    rng = np.random.default_rng(3)
    y = rng.integers(0, 2, 400)
    s = rng.normal(size=400) + y
    a, b = bootstrap_ci(y, s, seed=7), bootstrap_ci(y, s, seed=7)
    assert a == b
    assert a["auc"][0] < roc_auc_score(y, s) < a["auc"][1]
    assert a["aupr"][0] < average_precision_score(y, s) < a["aupr"][1]
    with pytest.raises(DeepChromeError, match="one class"):
        bootstrap_ci(np.ones(5), np.arange(5.0))


def test_delong_against_a_hand_computed_case():
    """Two positives, three negatives.

    A: positives 0.9, 0.4; negatives 0.5, 0.3, 0.1 -> V10 = [1, 2/3], V01 = [1/2, 1, 1], AUC 5/6.
    B: positives 0.6, 0.15; negatives 0.7, 0.2, 0.1 -> V10 = [2/3, 1/3], V01 = [0, 1/2, 1], AUC 1/2.
    S10 (ddof 1): var A 1/18, var B 1/18, cov 1/18 -> var of the difference 0.
    S01: var A 1/12, var B 1/4, cov 1/8 -> 1/12 + 1/4 - 1/4 = 1/12, over n = 3: 1/36.
    se = 1/6, difference 1/3, z = 2, p = 2 (1 - Phi(2)) = 0.0455003.
    """
    y = np.array([1, 1, 0, 0, 0])
    a = np.array([0.9, 0.4, 0.5, 0.3, 0.1])
    b = np.array([0.6, 0.15, 0.7, 0.2, 0.1])
    res = delong_test(y, a, b)
    assert res["auc_a"] == pytest.approx(5 / 6) and res["auc_b"] == pytest.approx(1 / 2)
    assert res["se"] == pytest.approx(1 / 6)
    assert res["z"] == pytest.approx(2.0)
    assert res["p"] == pytest.approx(0.0455003, abs=1e-6)
    assert delong_test(y, a, a)["p"] == 1.0


def test_delong_standard_error_agrees_with_a_paired_bootstrap():
    rng = np.random.default_rng(5)
    n = 1500
    y = rng.integers(0, 2, n)
    common = rng.normal(size=n)
    a = 1.0 * y + common + 0.6 * rng.normal(size=n)
    b = 0.8 * y + common + 0.6 * rng.normal(size=n)
    res = delong_test(y, a, b)
    pos, neg = np.flatnonzero(y == 1), np.flatnonzero(y == 0)
    diffs = []
    for _ in range(600):
        idx = np.r_[rng.choice(pos, len(pos)), rng.choice(neg, len(neg))]
        diffs.append(roc_auc_score(y[idx], a[idx]) - roc_auc_score(y[idx], b[idx]))
    assert res["diff"] == pytest.approx(roc_auc_score(y, a) - roc_auc_score(y, b))
    assert res["se"] == pytest.approx(np.std(diffs, ddof=1), rel=0.12)


def test_across_cells():
    mean, low, high = mean_ci([0.80, 0.82, 0.84])
    assert mean == pytest.approx(0.82)
    assert (high - mean) == pytest.approx(4.302653 * 0.02 / math.sqrt(3), rel=1e-5)  # t(0.975, 2) * sd / sqrt n
    assert math.isnan(mean_ci([0.8])[1])
    # two cells: no interval (a t-interval with one degree of freedom gave 0.083 - 1.674 for two real cells)
    mean, low, high = mean_ci([0.60, 0.99], bounds=(0.0, 1.0))
    assert mean == pytest.approx(0.795) and math.isnan(low) and math.isnan(high)
    # an interval never leaves the metric's range when given (AUC [0, 1], Pearson r [-1, 1])
    mean, low, high = mean_ci([0.55, 0.99, 0.999], bounds=(0.0, 1.0))  # the t-interval reaches 1.48: clipped at 1
    assert high == 1.0 and 0.2 < low < mean
    assert 0 <= mean_ci([0.02, 0.5, 0.98], bounds=(0.0, 1.0))[1] and mean_ci([0.02, 0.5, 0.98], bounds=(0.0, 1.0))[2] <= 1
    assert mean_ci([-0.01, 0.0, 0.01])[1] < 0  # a difference is never clipped
    assert mean_ci([-0.9, 0.0, 0.9], bounds=(-1.0, 1.0))[1:] == (-1.0, 1.0)
    assert mean_ci([0.5, 0.5, 0.5]) == (0.5, 0.5, 0.5)  # degenerate: identical cells
    cnn = np.linspace(0.80, 0.90, 10)
    assert wilcoxon_p(cnn + 0.01, cnn) == pytest.approx(2 / 2 ** 10)  # all ten differences positive: exact p
    assert math.isnan(wilcoxon_p(cnn, cnn))


def test_constant_predictor_small_split_and_degenerate_interval_are_named(caplog):
    """10 genes per split and a model that scores every gene alike (gbm on an uninformative cell): warnings name
    the model and cell, metrics.json marks the predictor constant and the interval degenerate."""
    from conftest import synthetic_cell
    from deepchrome.evaluate import model_metrics

    cell = synthetic_cell(n_genes=50)
    with caplog.at_level("WARNING", logger="deepchrome.evaluate"):
        out = model_metrics(cell, np.full(50, 0.3), {}, name="gbm, cell cellA")
    assert out["test_auc"] == 0.5 and out["test_auc_ci"] == [0.5, 0.5]
    assert out["constant_predictor"] and out["test_auc_ci_degenerate"]
    text = caplog.text
    assert "gbm, cell cellA: the test split has 10 genes (fewer than 100)" in text
    assert "gbm, cell cellA: a constant predictor: every test gene gets the score 0.3" in text
    assert "gbm, cell cellA: the test AUC's 95% interval is degenerate ([0.500, 0.500]" in text
    caplog.clear()
    big = synthetic_cell(n_genes=600)
    with caplog.at_level("WARNING", logger="deepchrome.evaluate"):
        out = model_metrics(big, big.X[:, 1].sum(axis=1), {}, name="cnn, cell cellB")  # a noisy mark
    assert not out["constant_predictor"] and not out["test_auc_ci_degenerate"] and caplog.text == ""
