import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from deepchrome.baselines import BASELINES, fit_baseline
from deepchrome.errors import DeepChromeError
from conftest import synthetic_cell


@pytest.fixture(scope="module")
def cell():
    return synthetic_cell(seed=3)


@pytest.mark.parametrize("name", BASELINES)
def test_baseline_fits_and_tunes_on_valid(cell, name):
    res = fit_baseline(name, cell, "log1p", seed=0)
    test = cell.split == "test"
    assert res.scores.shape == cell.y.shape and np.isfinite(res.scores).all()
    assert roc_auc_score(cell.y[test], res.scores[test]) > 0.8
    valid = cell.split == "valid"
    assert res.valid_auc == pytest.approx(roc_auc_score(cell.y[valid], res.scores[valid]))
    assert res.params and res.seconds > 0


def test_baseline_is_seeded(cell):
    a, b = (fit_baseline("rf", cell, "none", seed=5) for _ in range(2))
    assert np.array_equal(a.scores, b.scores) and a.params == b.params


def test_unknown_baseline(cell):
    with pytest.raises(DeepChromeError, match="svm"):
        fit_baseline("knn", cell, "log1p", seed=0)
