"""collect_metrics / write_summary on real metrics.json files in tmp_path."""

import json
import math

import numpy as np
import pandas as pd
import pytest

from deepchrome.errors import DeepChromeError
from deepchrome.io import read_tsv, write_tsv
from deepchrome.stats import delong_test
from deepchrome.summary import MODELS, add_delong, collect_metrics, compare_models, write_summary


def _write_metrics(root, cells, models=MODELS, auc=0.8):
    files = {}
    for i, cell in enumerate(cells):
        for j, model in enumerate(models):
            path = root / "results" / cell / model / "metrics.json"
            path.parent.mkdir(parents=True, exist_ok=True)
            value = auc + 0.01 * i - 0.005 * j
            path.write_text(json.dumps({"test_auc": value, "test_aupr": 0.7, "test_auc_ci": [value - 0.02, value + 0.02],
                                        "test_aupr_ci": [0.65, 0.75],
                                        "valid_auc": 0.81, "n_train": 400, "n_valid": 200, "n_test": 200,
                                        "seconds": 1.5, "device": "cpu", "extra": "ignored"}))
            files[(cell, model)] = path
    return files


def test_collect_metrics_orders_by_sheet_then_model(tmp_path):
    sheet = pd.DataFrame({"cell": ["E123", "E003"], "name": ["K562", "H1"]})
    files = _write_metrics(tmp_path, ["E003", "E123"], models=["logreg", "rf", "cnn", "svm"])
    assert [m for m in MODELS if m in ("logreg", "rf", "cnn", "svm")] == ["cnn", "svm", "rf", "logreg"]
    table = collect_metrics(files, sheet)
    assert list(table["cell"]) == ["E123"] * 4 + ["E003"] * 4
    assert list(table["model"]) == ["cnn", "svm", "rf", "logreg"] * 2  # MODELS order
    for col in ("cell", "name", "model", "test_auc", "test_auc_low", "test_auc_high", "test_aupr", "test_aupr_low",
                "test_aupr_high", "valid_auc", "n_test", "seconds", "device"):
        assert col in table.columns
    assert "published_auc" not in table.columns
    assert table.loc[0, "name"] == "K562"
    assert table["n_test"].tolist() == [200] * 8
    assert (table["test_auc_high"] - table["test_auc_low"]).round(6).eq(0.04).all()
    e003_cnn = table["cell"].eq("E003") & table["model"].eq("cnn")
    assert table.loc[e003_cnn, "test_auc"].item() == pytest.approx(0.79)  # cnn was the third model written


def test_collect_metrics_keeps_published_auc_on_every_row(tmp_path):
    sheet = pd.DataFrame({"cell": ["E003", "E004"], "name": ["a", "b"], "published_auc": [0.77, math.nan]})
    table = collect_metrics(_write_metrics(tmp_path, ["E003", "E004"]), sheet)
    assert "published_auc" in table.columns
    assert (table.loc[table["cell"] == "E003", "published_auc"] == 0.77).all()
    assert table.loc[table["cell"] == "E004", "published_auc"].isna().all()


def test_collect_metrics_drops_all_empty_published_column(tmp_path):
    sheet = pd.DataFrame({"cell": ["E003"], "published_auc": [math.nan]})
    table = collect_metrics(_write_metrics(tmp_path, ["E003"]), sheet)
    assert "published_auc" not in table.columns


def test_missing_metrics_file_names_the_path(tmp_path):
    files = _write_metrics(tmp_path, ["E003"])
    gone = tmp_path / "results" / "E003" / "rf" / "metrics.json"
    gone.unlink()
    with pytest.raises(DeepChromeError) as err:
        collect_metrics(files, pd.DataFrame({"cell": ["E003"]}))
    assert str(gone) in str(err.value)
    assert err.value.path == str(gone)


@pytest.mark.parametrize("text", ["{not json", "[1, 2]", '{"valid_auc": 0.8}', '{"test_auc": "high"}'])
def test_unreadable_metrics_file_raises(tmp_path, text):
    files = _write_metrics(tmp_path, ["E003"])
    bad = files[("E003", "svm")]
    bad.write_text(text)
    with pytest.raises(DeepChromeError, match="metrics"):
        collect_metrics(files, pd.DataFrame({"cell": ["E003"]}))


def test_write_summary_round_trips(tmp_path):
    sheet = pd.DataFrame({"cell": ["E003"], "published_auc": [0.77]})
    table = collect_metrics(_write_metrics(tmp_path, ["E003"]), sheet)
    out = tmp_path / "summary" / "auc.tsv"
    write_summary(table, out)
    back = read_tsv(out)
    assert list(back.columns) == list(table.columns)
    assert len(back) == len(MODELS)
    assert not list(out.parent.glob(".auc.tsv*"))  # no temporary file left behind


def _write_predictions(root, cells, models, seed=0):
    rng = np.random.default_rng(seed)
    files, scores = {}, {}
    for cell in cells:
        y = rng.integers(0, 2, 300)
        split = np.repeat(["train", "test"], [100, 200])
        for k, model in enumerate(models):
            s = y * (1.0 - 0.3 * k) + rng.normal(size=300)
            path = root / "results" / cell / model / "predictions.tsv"
            path.parent.mkdir(parents=True, exist_ok=True)
            pd.DataFrame({"gene_id": [f"g{i:03d}" for i in range(300)], "split": split, "label": y,
                          "score": s}).sample(frac=1, random_state=k).to_csv(path, sep="\t", index=False)
            files[cell, model], scores[cell, model] = path, (y[100:], s[100:])
    return files, scores


def test_delong_p_and_comparison_across_cells(tmp_path):
    cells, models = ["A", "B", "C", "D"], ["cnn", "gbm", "promoter"]
    table = collect_metrics(_write_metrics(tmp_path, cells, models=models), pd.DataFrame({"cell": cells}))
    preds, scores = _write_predictions(tmp_path, cells, models)
    table = add_delong(table, preds)
    assert table.columns.get_loc("p_vs_cnn") == table.columns.get_loc("test_aupr_high") + 1
    assert table.loc[table["model"] == "cnn", "p_vs_cnn"].isna().all()
    row = table[(table["cell"] == "B") & (table["model"] == "promoter")].iloc[0]
    y, cnn = scores["B", "cnn"]
    assert row["p_vs_cnn"] == pytest.approx(delong_test(y, cnn, scores["B", "promoter"][1])["p"])  # rows realigned
    models_table = compare_models(table)
    assert list(models_table["model"]) == models
    gbm = models_table.set_index("model").loc["gbm"]
    assert gbm["n_cells"] == 4 and gbm["mean_low"] < gbm["mean_test_auc"] < gbm["mean_high"]
    assert gbm["cnn_better"] + gbm["not_different"] + gbm["cnn_worse"] == 4
    assert gbm["mean_diff_cnn"] == pytest.approx(0.005)  # _write_metrics: each later model 0.005 lower
    assert gbm["wilcoxon_p"] == pytest.approx(0.125)  # four positive differences, exact two-sided p
    assert models_table.set_index("model").loc["promoter", "cnn_better"] == 4  # a much weaker score
    assert pd.isna(models_table.set_index("model").loc["cnn", "wilcoxon_p"])


def test_demo_tables_carry_intervals_tests_and_protocol(demo_run):
    import yaml

    res = demo_run / "results"
    auc = read_tsv(res / "summary" / "auc.tsv")
    for col in ("test_auc_low", "test_auc_high", "test_aupr_low", "test_aupr_high", "p_vs_cnn"):
        assert col in auc.columns, col
    assert set(auc["model"]) == set(MODELS)
    assert ((auc["test_auc_low"] < auc["test_auc"]) & (auc["test_auc"] < auc["test_auc_high"])).all()
    assert auc.loc[auc["model"] == "cnn", "p_vs_cnn"].isna().all()
    assert auc.loc[auc["model"] != "cnn", "p_vs_cnn"].between(0, 1).all()
    models = read_tsv(res / "summary" / "models.tsv")
    assert list(models["model"]) == list(MODELS) and (models["n_cells"] == auc["cell"].nunique()).all()
    assert (models.iloc[1:][["cnn_better", "not_different", "cnn_worse"]].sum(axis=1) == models["n_cells"].iloc[1:]).all()
    config = yaml.safe_load((demo_run / "config.yaml").read_text())
    for cell in auc["cell"].unique():
        cnn = json.loads((res / cell / "cnn" / "metrics.json").read_text())
        assert [s["seed"] for s in cnn["seeds"]] == list(range(config["cnn"]["seed"],
                                                                  config["cnn"]["seed"] + config["cnn"]["seeds"]))
        assert {"best_epoch", "epochs_run", "valid_auc", "test_auc"} <= set(cnn["seeds"][0])
        assert cnn["params"]["seeds"] == config["cnn"]["seeds"] and "selection" in cnn["protocol"]
        history = read_tsv(res / cell / "cnn" / "history.tsv")
        assert sorted(history["seed"].unique()) == [s["seed"] for s in cnn["seeds"]]
        gbm = json.loads((res / cell / "gbm" / "metrics.json").read_text())
        assert gbm["protocol"]["grid"]["max_leaf_nodes"] and len(gbm["test_auc_ci"]) == 2 and gbm["params"]["n_trees"]
        assert json.loads((res / cell / "promoter" / "metrics.json").read_text())["params"]["trained"] is False
    assert (res / "summary" / "figures" / "model_comparison.png").stat().st_size > 10000


def test_genes_kept_per_cell(tmp_path):
    """genes.tsv: the gene-window step's counts beside each cell's labels counts, one row per cell."""
    from deepchrome.summary import genes_kept

    (tmp_path / "genes.json").write_text(json.dumps({"annotation_genes": 2400, "windows": 2390, "genes": 2400}))
    for cell, labelled, on in (("cellA", 2383, 1191), ("cellB", 2380, 1190)):
        (tmp_path / f"{cell}.json").write_text(json.dumps({"cell": cell, "n_labelled": labelled, "n_on": on,
                                                           "median_rpkm": 1.5, "n_genes": 2390}))
    table = genes_kept(tmp_path / "genes.json", [tmp_path / "cellA.json", tmp_path / "cellB.json"])
    assert table.to_dict("records") == [
        {"cell": "cellA", "annotation_genes": 2400, "windows": 2390, "labelled": 2383, "on": 1191, "median_rpkm": 1.5},
        {"cell": "cellB", "annotation_genes": 2400, "windows": 2390, "labelled": 2380, "on": 1190, "median_rpkm": 1.5}]


def test_tables_read_back_their_floats_exactly(tmp_path):
    """An AUC written to a table and read back is the same float (pandas' default parser is often 1 ulp off)."""
    values = np.random.default_rng(0).random(10000)
    write_tsv(pd.DataFrame({"gene_id": [f"g{i}" for i in range(10000)], "score": values}), tmp_path / "t.tsv")
    back = read_tsv(tmp_path / "t.tsv", dtype={"gene_id": str})
    assert np.array_equal(back["score"].to_numpy(), values)
