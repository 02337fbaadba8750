"""target: level (log2(RPKM + 1) per gene): the level beside the label, the CNN's regression head, the baselines'
regression forms, the metrics against scipy/sklearn, the processed-mode error, a model's target checked when it
predicts, and the demo end to end (with a cell without RNA-seq and the transfer matrix)."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from scipy import stats as sps
from sklearn.metrics import mean_squared_error, r2_score

from conftest import FAST, ROOT, snakemake, synthetic_cell
from deepchrome.baselines import LEVEL_BASELINES, fit_baseline
from deepchrome.dataset import save_features
from deepchrome.ensemble import build_member, load_model, predict, read_description, save_model
from deepchrome.errors import DeepChromeError
from deepchrome.evaluate import level_metrics, level_model_metrics
from deepchrome.io import read_tsv
from deepchrome.labels import cell_labels, expression_level
from deepchrome.model import DeepChromeCNN
from deepchrome.predict import predict_cell
from deepchrome.stats import bootstrap_level_ci
from deepchrome.train import model_description, resolve_params, seed_list, train_cnn
from deepchrome.transfer import train_pooled


def level_cell(n_genes: int = 300, seed: int = 0):
    """The synthetic cell with a level: log2(RPKM + 1) that rises with its promoter H3K4me3, plus noise."""
    cell = synthetic_cell(n_genes, seed)
    signal = np.log1p(cell.X[:, 0, 40:60].sum(axis=1)).astype(np.float64)
    cell.level = np.clip(signal - 2.5 + np.random.default_rng(seed).normal(0, 0.3, n_genes), 0, None)
    return cell


# ---- targets -----------------------------------------------------------------------------------------

def test_level_is_log2_rpkm_plus_one_beside_an_unchanged_label():
    genes = pd.DataFrame({"gene_id": ["g1", "g2", "g3", "g4"], "ensembl": ["E1", "E2", "E3", "E4"]})
    expression = pd.DataFrame({"c": [0.0, 1.0, 3.0, 7.0]}, index=pd.Index(["E1", "E2", "E3", "E4"]))
    as_class, _ = cell_labels(genes, expression, "c")
    as_level, _ = cell_labels(genes, expression, "c", target="level")
    assert list(as_class.columns) == ["gene_id", "rpkm", "label"]
    pd.testing.assert_frame_equal(as_level[list(as_class.columns)], as_class)
    assert as_level["level"].tolist() == [0.0, 1.0, 2.0, 3.0]
    assert expression_level([15.0]).tolist() == [4.0]


# ---- metrics against scipy / sklearn -------------------------------------------------------------------

def test_level_metrics_match_scipy_and_sklearn():
    rng = np.random.default_rng(3)
    measured = rng.gamma(2.0, 1.5, 60)
    predicted = measured * 0.7 + rng.normal(0, 0.8, 60)
    predicted[:5] = predicted[5]  # ties for Spearman
    got = level_metrics(measured, predicted)
    assert got["r"] == pytest.approx(sps.pearsonr(measured, predicted)[0], abs=1e-12)
    assert got["rho"] == pytest.approx(sps.spearmanr(measured, predicted)[0], abs=1e-12)
    assert got["r2"] == pytest.approx(r2_score(measured, predicted), abs=1e-12)
    assert got["mse"] == pytest.approx(mean_squared_error(measured, predicted), abs=1e-12)


def test_level_bootstrap_equals_a_plain_loop_and_is_seeded():
    rng = np.random.default_rng(4)
    measured = rng.gamma(2.0, 1.5, 40)
    predicted = measured + rng.normal(0, 1.0, 40)
    ci = bootstrap_level_ci(measured, predicted, n_resamples=300, seed=7)
    assert ci == bootstrap_level_ci(measured, predicted, n_resamples=300, seed=7)
    draws = np.random.default_rng(7).integers(0, 40, size=(300, 40))  # the same draws, one resample at a time
    loop = {k: [] for k in ci}
    for idx in draws:
        m = level_metrics(measured[idx], predicted[idx])
        for k in ci:
            loop[k].append(m[k])
    for k in ci:
        assert ci[k] == pytest.approx(np.percentile(loop[k], [2.5, 97.5]).tolist(), abs=1e-9), k
        assert ci[k][0] < level_metrics(measured, predicted)[k] < ci[k][1], k


def test_level_model_metrics_leave_r2_and_mse_of_an_unscaled_score_empty():
    cell = level_cell()
    score = cell.X[:, 0, 40:60].sum(axis=1).astype(np.float64)  # the promoter score: another scale
    out = level_model_metrics(cell, score, {}, scaled=False)
    test = cell.split == "test"
    assert out["test_r"] == pytest.approx(sps.pearsonr(cell.level[test], score[test])[0])
    assert out["test_r2"] is None and out["test_mse"] is None and out["test_r2_ci"] is None
    assert "R^2 and MSE" in out["not_reported"]["r2"]
    assert 0.5 < out["test_auc"] <= 1 and out["target"] == "level"


# ---- the CNN's level head ------------------------------------------------------------------------------

def test_level_head_is_one_linear_output_and_the_class_network_is_unchanged():
    torch.manual_seed(0)
    level = DeepChromeCNN(head="level")
    torch.manual_seed(0)
    klass = DeepChromeCNN()
    assert sum(p.numel() for p in klass.parameters()) == 644_177
    assert sum(p.numel() for p in level.parameters()) == 644_177 - 126
    assert "level_output" in level.state_dict() and "level_output" not in klass.state_dict()
    x = torch.rand(4, 5, 100)
    assert level(x).shape == (4, 1) and klass(x).shape == (4, 2)
    assert torch.allclose(klass(x).exp().sum(dim=1), torch.ones(4))


@pytest.fixture(scope="module")
def level_ensemble():
    cell = level_cell(400)
    params = resolve_params("default", {**FAST, "epochs": 12, "seeds": 2})
    return cell, params, train_cnn(cell, params, seed_list(params, 0), device="cpu", threads=1, target="level")


def test_level_cnn_learns_the_level_and_stops_on_valid_r(level_ensemble, tmp_path):
    cell, params, result = level_ensemble
    assert list(result.history.columns) == ["epoch", "loss", "valid_r", "valid_loss", "seed", "kept"]
    test = cell.split == "test"
    r = sps.pearsonr(cell.level[test], result.scores[test])[0]
    assert r > 0.7, r
    for seed, h in result.history.groupby("seed"):
        assert result.best_epoch[seed] == int(h.loc[h["valid_r"].idxmax(), "epoch"])
    save_model(tmp_path / "model.pt", result.states, model_description(cell, "default", params, [0, 1], "level", "c"))
    members, description = load_model(tmp_path / "model.pt")
    assert description["target"] == "level" and description["network"]["head"] == "level"
    np.testing.assert_allclose(predict(members, cell.X, "log1p"), result.scores, rtol=1e-6, atol=1e-6)


def test_saved_class_model_says_class_and_predicts_p_on(tmp_path):
    cell = synthetic_cell(200)
    params = resolve_params("default", {**FAST, "epochs": 2, "seeds": 1})
    result = train_cnn(cell, params, seed_list(params, 0), device="cpu", threads=1)
    save_model(tmp_path / "model.pt", result.states, model_description(cell, "default", params, [0], "class", "c"))
    members, description = load_model(tmp_path / "model.pt")
    assert description["target"] == "class"
    p_on = predict(members, cell.X, description["inputs"]["transform"])
    assert ((p_on >= 0) & (p_on <= 1)).all()


def test_a_model_predicts_only_for_its_own_target(tmp_path):
    """predicted.tsv under level: gene_id, score and level (both the predicted level); a class model asked for a
    level (or the reverse) is one error naming the model file and both targets, and writes nothing."""
    params = resolve_params("default", {"seeds": 1})
    cell = synthetic_cell(20)
    save_features(tmp_path / "f.npz", cell.X, cell.gene_id, cell.marks, cell.bins)
    torch.manual_seed(0)
    for head in ("class", "level"):
        save_model(tmp_path / f"{head}.pt", {0: build_member(params, 5, 100, head=head).state_dict()},
                   model_description(cell, "default", params, [0], head, "c"))
    table = predict_cell(tmp_path / "level.pt", tmp_path / "f.npz", tmp_path / "p.tsv", "cpu", target="level")
    assert list(table.columns) == ["gene_id", "score", "level"] and (table["score"] == table["level"]).all()
    pd.testing.assert_frame_equal(read_tsv(tmp_path / "p.tsv"), table)
    for model, target in (("class", "level"), ("level", "class")):
        with pytest.raises(DeepChromeError) as err:
            predict_cell(tmp_path / f"{model}.pt", tmp_path / "f.npz", tmp_path / "bad.tsv", "cpu", target=target)
        text = str(err.value)
        assert str(tmp_path / f"{model}.pt") in text and f"trained for target: {model}" in text, text
        assert f"this run has target: {target}" in text and text.count("Fix:") == 1, text
    assert not (tmp_path / "bad.tsv").exists()


def test_pooled_cnn_learns_the_level_of_the_cells_together(tmp_path):
    """The pooled CNN under level: level head, level metrics over the pooled genes, every cell's measured level
    beside its predicted one."""
    files = {"features": [], "labels": [], "split": []}
    for seed in (0, 1):
        cell = level_cell(200, seed)
        save_features(tmp_path / f"f{seed}.npz", cell.X, cell.gene_id, cell.marks, cell.bins)
        pd.DataFrame({"gene_id": cell.gene_id, "label": cell.y, "level": cell.level}).to_csv(
            tmp_path / f"l{seed}.tsv", sep="\t", index=False)
        pd.DataFrame({"gene_id": cell.gene_id, "split": cell.split}).to_csv(tmp_path / f"s{seed}.tsv", sep="\t",
                                                                          index=False)
        for key, name in (("features", f"f{seed}.npz"), ("labels", f"l{seed}.tsv"), ("split", f"s{seed}.tsv")):
            files[key].append(str(tmp_path / name))
    out = {k: str(tmp_path / f"pooled.{k}") for k in ("model", "history", "metrics", "predictions")}
    train_pooled(["a", "b"], files["features"], files["labels"], files["split"], None,
                 {"preset": "default", "params": {**FAST, "epochs": 3}, "seeds": 1}, 0, "cpu", 1, out, target="level")
    described = read_description(out["model"])
    assert described["target"] == "level" and described["cell"] == "pooled" and described["cells"] == ["a", "b"]
    recorded = json.loads(Path(out["metrics"]).read_text())
    assert recorded["target"] == "level" and np.isfinite(recorded["test_r"]) and recorded["cells"] == ["a", "b"]
    scores = read_tsv(out["predictions"])
    assert list(scores.columns) == ["cell", "gene_id", "split", "label", "score", "level"] and len(scores) == 400
    assert scores.loc[scores["cell"] == "b", "level"].tolist() == pytest.approx(level_cell(200, 1).level.tolist())


# ---- baselines' regression forms -------------------------------------------------------------------------

@pytest.mark.parametrize("name", [m for m in LEVEL_BASELINES if m not in ("rf", "svr")])
def test_regression_baselines_are_chosen_on_valid_r(name):
    cell = level_cell()
    result = fit_baseline(name, cell, "log1p", seed=0, target="level")
    valid = cell.split == "valid"
    assert result.valid_auc == pytest.approx(sps.pearsonr(cell.level[valid], result.scores[valid])[0])
    if result.grid_valid_auc:
        assert result.valid_auc == max(p["valid_r"] for p in result.grid_valid_auc)
    assert result.valid_auc > 0.6


def test_level_without_levels_and_class_names_under_level_are_errors():
    cell = synthetic_cell(200)
    with pytest.raises(DeepChromeError, match="no 'level' column"):
        fit_baseline("ridge", cell, "log1p", seed=0, target="level")
    with pytest.raises(DeepChromeError, match="unknown baseline 'logreg'"):
        fit_baseline("logreg", level_cell(), "log1p", seed=0, target="level")


# ---- the workflow ----------------------------------------------------------------------------------------

def test_processed_mode_refuses_target_level(tmp_path):
    out = snakemake("-n", "--configfile", str(ROOT / "config" / "processed.yaml"), "--config",
                    f"processed={tmp_path}", "target=level", workdir=tmp_path)
    text = out.stdout + out.stderr
    assert out.returncode != 0
    assert "hold 0/1 labels only" in text and "an expression table" in text and "Traceback" not in text, text[-2000:]


def test_explain_refuses_target_level(tmp_path):
    out = snakemake("-n", "explain", "--config", "target=level", "genes=ENSG90000000691", workdir=tmp_path)
    text = out.stdout + out.stderr
    assert out.returncode != 0 and "target: level has no explanation" in text and "Traceback" not in text, text[-2000:]


def test_demo_level_run_end_to_end(level_run):
    summary = level_run / "results" / "summary"
    levels = read_tsv(summary / "levels.tsv")
    models = ["cnn", "attentive", "gbm", "svr", "rf", "ridge", "promoter"]  # the demo config's networks and baselines
    assert list(levels.drop_duplicates("model")["model"]) == models  # in the registry's order for target: level
    metrics = [f"test_{m}{s}" for m in ("r", "rho", "r2", "mse", "auc") for s in ("", "_low", "_high")]
    for column in metrics + ["valid_r"]:
        values = levels.loc[~((levels["model"] == "promoter") & column.startswith(("test_r2", "test_mse"))), column]
        assert np.isfinite(values.to_numpy(float)).all(), column
    promoter = levels[levels["model"] == "promoter"]
    assert promoter[["test_r2", "test_mse"]].isna().all().all()  # not on the level's scale: left empty
    for cell, rows in levels.groupby("cell"):
        cnn, ridge = rows.set_index("model").loc["cnn"], rows.set_index("model").loc["ridge"]
        # The demo's level is known to be predictable: the CNN's test r lies in [0.6, 0.95] on each cell, above
        # ridge regression or within ridge's 95% interval, and above the untrained promoter score.
        assert 0.6 <= cnn["test_r"] <= 0.95, (cell, cnn["test_r"])
        assert cnn["test_r"] > ridge["test_r_low"], (cell, cnn["test_r"], ridge["test_r_low"])
        assert cnn["test_r"] > rows.set_index("model").loc["promoter", "test_r"]
        assert cnn["test_r_low"] <= cnn["test_r"] <= cnn["test_r_high"]
    across = read_tsv(summary / "level_models.tsv").set_index("model")
    assert across.loc["cnn", "mean_test_r"] == pytest.approx(levels[levels["model"] == "cnn"]["test_r"].mean())
    # two cells: no interval over cells (a t-interval with one degree of freedom means nothing; none below three)
    assert levels["cell"].nunique() == 2 and across.loc["cnn", ["mean_low", "mean_high"]].isna().all()
    for figure in ("levels", "r_by_model", "level_training"):
        png = summary / "figures" / f"{figure}.png"
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 20_000, figure
    cell = levels["cell"].iloc[0]
    assert read_description(level_run / "results" / cell / "cnn" / "model.pt")["target"] == "level"
    recorded = json.loads((level_run / "results" / cell / "cnn" / "metrics.json").read_text())
    assert "valid Pearson r" in recorded["protocol"]["selection"] and recorded["seeds"][0]["valid_r"] > 0
    svr = json.loads((level_run / "results" / cell / "svr" / "metrics.json").read_text())
    assert {"C", "gamma_factor"} <= set(svr["params"]) and len(svr["protocol"]["grid_valid_r"]) == 4
    assert not (level_run / "results" / cell / "cnn" / "featuremap.png").exists()
    auc = read_tsv(summary / "auc.tsv")  # the AUC of the predicted level: the targets compare
    assert auc.set_index(["cell", "model"])["test_auc"].to_dict() == pytest.approx(
        levels.set_index(["cell", "model"])["test_auc"].to_dict())


def test_demo_level_predict_cell_and_transfer(level_run):
    """Under target: level the cell without RNA-seq gets its predicted level (following its hidden expression),
    and the transfer matrix's diagonal is each cell's test AUC exactly."""
    res = level_run / "results"
    predicted = read_tsv(res / "cellD" / "predicted.tsv")
    assert list(predicted.columns) == ["gene_id", "score", "level"]
    assert (predicted["score"] == predicted["level"]).all() and not predicted["level"].between(0, 1).all()
    with gzip.open(level_run / "resources" / "demo" / "hidden_rpkm.tsv.gz", "rt") as f:
        hidden = read_tsv(f, index_col=False).set_index("gene_id")["cellD"]
    truth = predicted["gene_id"].str.split(".").str[0].map(hidden)
    has = truth.notna()
    r = sps.pearsonr(predicted["level"][has], np.log2(truth[has] + 1))[0]
    print(f"cellD: Pearson r of the predicted level with the hidden log2(RPKM + 1): {r:.3f} ({has.sum()} genes)")
    assert r >= 0.6, r
    matrix = read_tsv(res / "summary" / "transfer.tsv").set_index("model_cell")
    assert list(matrix.index) == list(matrix.columns) == ["cellA", "cellB"]
    for cell in matrix.index:
        own = json.loads((res / cell / "cnn" / "metrics.json").read_text())
        assert matrix.loc[cell, cell] == own["test_auc"], cell  # the predicted level's AUC, scored the same way
    assert (matrix.to_numpy() > 0.7).all(), matrix


def test_demo_level_report_builds(level_run, tmp_path):
    html = tmp_path / "report.html"
    out = snakemake("--configfile", str(level_run / "config.yaml"), "--report", str(html), workdir=level_run)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    text = html.read_text()
    landing = (level_run / "results" / "summary" / "overview.rst").read_text()
    assert "predict each gene's expression level" in landing and "not run for ``target: level``" in landing
    for caption in ("level_scatter", "level_r_by_model", "level_table", "level_training", "transfer", "transfer_table"):
        sentence = (ROOT / "report" / f"{caption}.rst").read_text().split("What to look for:**", 1)[1].split(";")[0]
        assert " ".join(sentence.split()[:6]) in " ".join(text.split()), caption
