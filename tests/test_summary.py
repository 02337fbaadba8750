"""collect_metrics / write_summary on real metrics.json files in tmp_path."""

import json
import math

import pandas as pd
import pytest

from deepchrome.errors import DeepChromeError
from deepchrome.summary import MODELS, collect_metrics, write_summary


def _write_metrics(root, cells, models=MODELS, auc=0.8):
    files = {}
    for i, cell in enumerate(cells):
        for j, model in enumerate(models):
            path = root / "results" / cell / model / "metrics.json"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps({"test_auc": auc + 0.01 * i - 0.005 * j, "test_aupr": 0.7,
                                        "valid_auc": 0.81, "n_train": 400, "n_valid": 200, "n_test": 200,
                                        "seconds": 1.5, "device": "cpu", "extra": "ignored"}))
            files[(cell, model)] = path
    return files


def test_collect_metrics_orders_by_sheet_then_model(tmp_path):
    sheet = pd.DataFrame({"cell": ["E123", "E003"], "name": ["K562", "H1"]})
    files = _write_metrics(tmp_path, ["E003", "E123"], models=["logreg", "rf", "cnn", "svm"])
    table = collect_metrics(files, sheet)
    assert list(table["cell"]) == ["E123"] * 4 + ["E003"] * 4
    assert list(table["model"]) == list(MODELS) * 2
    for col in ("cell", "name", "model", "test_auc", "test_aupr", "valid_auc", "n_test", "seconds", "device"):
        assert col in table.columns
    assert "published_auc" not in table.columns
    assert table.loc[0, "name"] == "K562"
    assert table["n_test"].tolist() == [200] * 8
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
    back = pd.read_csv(out, sep="\t")
    assert list(back.columns) == list(table.columns)
    assert len(back) == 4
    assert not list(out.parent.glob(".auc.tsv*"))  # no temporary file left behind
