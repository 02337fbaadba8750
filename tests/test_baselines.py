import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from deepchrome import MARKS
from deepchrome.baselines import BASELINES, fit_baseline, promoter_score
from deepchrome.dataset import CellData
from deepchrome.errors import DeepChromeError
from deepchrome.spec import models_for, promoter_bins
from conftest import synthetic_cell

TRAINED = models_for("class", ("baseline",))


@pytest.fixture(scope="module")
def cell():
    return synthetic_cell(seed=3)


@pytest.mark.parametrize("name", TRAINED)
def test_baseline_fits_and_tunes_on_valid(cell, name):
    res = fit_baseline(name, cell, "log1p", seed=0)
    test = cell.split == "test"
    assert res.scores.shape == cell.y.shape and np.isfinite(res.scores).all()
    assert roc_auc_score(cell.y[test], res.scores[test]) > 0.8
    valid = cell.split == "valid"
    assert res.valid_auc == pytest.approx(roc_auc_score(cell.y[valid], res.scores[valid]))
    assert res.params and res.seconds > 0
    assert len(res.grid_valid_auc) > 1
    if name != "rf":  # rf's reported valid AUC is its grown forest's (the grid's are of the first 100 trees)
        assert max(g["valid_auc"] for g in res.grid_valid_auc) == res.valid_auc
    if name == "gbm":
        assert 1 <= res.params["n_trees"] < 500  # early stopping on the valid genes' loss ended it


def test_promoter_is_h3k4me3_summed_over_the_central_2kb(cell):
    res = fit_baseline("promoter", cell, "log1p", seed=0)
    expected = cell.X[:, 0, 40:60].sum(axis=1)  # mark 0 is H3K4me3; bins 41-60 are [TSS-1000, TSS+1000)
    np.testing.assert_allclose(res.scores, expected, rtol=1e-6)
    shuffled = CellData(cell.X[:, ::-1], cell.y, cell.gene_id, cell.split, cell.marks[::-1])
    np.testing.assert_allclose(promoter_score(shuffled, 100), expected, rtol=1e-6)
    no_k4 = CellData(cell.X[:, 1:], cell.y, cell.gene_id, cell.split, cell.marks[1:])
    with pytest.raises(DeepChromeError, match="H3K4me3"):
        promoter_score(no_k4, 100)
    assert "promoter" in BASELINES


@pytest.mark.parametrize("bin_size, n_bins, bins", [(50, 200, (80, 120)), (200, 50, (20, 30)), (400, 25, (10, 15)),
                                                    (300, 33, (13, 20))])
def test_promoter_covers_2kb_in_base_pairs_whatever_the_bin_size(bin_size, n_bins, bins):
    """The promoter score sums the bins whose centre lies within 1 kb of the TSS: 2 kb at 50, 200 and 400 bp bins
    (the middle bin of an odd window holds the TSS); 300 bp bins round to 3 whole bins each side (1.8 kb)."""
    rng = np.random.default_rng(0)
    X = rng.random((6, 5, n_bins)).astype(np.float32)
    cell = CellData(X, np.arange(6) % 2, np.array([f"g{i}" for i in range(6)]), np.array(["train"] * 6),
                    list(MARKS), bins={"bin_size": bin_size, "bin_order": "strand", "input": "signal"})
    assert promoter_bins(n_bins, bin_size) == bins
    lo, hi = bins
    assert abs((hi - lo) * bin_size - 2000) <= bin_size
    np.testing.assert_allclose(promoter_score(cell, bin_size), X[:, 0, lo:hi].sum(axis=1), rtol=1e-6)


def test_baseline_is_seeded(cell):
    a, b = (fit_baseline("rf", cell, "none", seed=5) for _ in range(2))
    assert np.array_equal(a.scores, b.scores) and a.params == b.params


def test_rf_grown_forest_is_the_forest_fitted_at_once(cell):
    """The forest searched with 100 trees and grown to 300 by warm start is the 300-tree forest of that point."""
    from sklearn.ensemble import RandomForestClassifier

    res = fit_baseline("rf", cell, "none", seed=2)
    point = {k: res.params[k] for k in ("max_features", "min_samples_leaf")}
    assert res.params["n_trees"] == 300
    X, train = cell.X.reshape(len(cell.X), -1), cell.split == "train"
    once = RandomForestClassifier(n_estimators=300, random_state=2, n_jobs=1, **point).fit(X[train], cell.y[train])
    np.testing.assert_array_equal(res.scores, once.predict_proba(X)[:, 1])


def test_unknown_baseline(cell):
    with pytest.raises(DeepChromeError, match="svm"):
        fit_baseline("knn", cell, "log1p", seed=0)


def test_one_job_fits_each_baseline_into_its_own_files(cell, tmp_path):
    """run_baselines (rule baselines: a cell's baselines in one job) writes each model's predictions and metrics to
    its own paths, the scores those of fitting the model alone."""
    import json

    from deepchrome.baselines import run_baselines
    from deepchrome.dataset import save_cell
    from deepchrome.io import read_tsv

    files = [tmp_path / f for f in ("features.npz", "labels.tsv", "split.tsv")]
    save_cell(cell, *files)
    names = ["logreg", "promoter"]
    preds = [tmp_path / n / "predictions.tsv" for n in names]
    metrics = [tmp_path / n / "metrics.json" for n in names]
    for p in preds:
        p.parent.mkdir()
    run_baselines(names, "synthetic", *files, "log1p", 0, 1, "class", preds, metrics)
    for name, p, m in zip(names, preds, metrics):
        alone = fit_baseline(name, cell, "log1p", seed=0)
        written = read_tsv(p).set_index("gene_id").loc[cell.gene_id]
        np.testing.assert_array_equal(written["score"].to_numpy(), alone.scores)
        assert json.loads(m.read_text())["params"] == alone.params
    for p in (*preds, *metrics):
        p.unlink()
    with pytest.raises(ValueError, match="one of each per baseline"):  # checked before any model is fitted
        run_baselines(names, "synthetic", *files, "log1p", 0, 1, "class", preds[:1], metrics[:1])
    assert not [p for p in (*preds, *metrics) if p.exists()]
