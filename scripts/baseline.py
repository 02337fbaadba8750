"""Fit one baseline (gbm, svm, rf, logreg) or score the untrained promoter for one cell (rule baseline)."""
from deepchrome.baselines import fit_baseline
from deepchrome.dataset import load_cell
from deepchrome.evaluate import model_metrics, predictions_table
from deepchrome.io import write_json, write_tsv
from deepchrome.logs import run_step


def main():
    i, o, p = snakemake.input, snakemake.output, snakemake.params
    cell = load_cell(i.features, i.labels, i.split)
    result = fit_baseline(snakemake.wildcards.baseline, cell, p.transform, seed=p.seed, threads=snakemake.threads)
    write_tsv(predictions_table(cell, result.scores), o.predictions)
    extra = {"seconds": result.seconds, "device": "cpu", "params": result.params, "transform": p.transform,
             "protocol": {"grid": result.grid, "grid_valid_auc": result.grid_valid_auc,
                          "selection": "the grid point with the best valid AUC, fitted on the train split",
                          "test_genes_used_for": "the reported metrics only"}}
    write_json(model_metrics(cell, result.scores, extra), o.metrics)


run_step(snakemake, main)
