"""Fit one baseline (gbm, svm, rf, logreg; target level: gbm, svr, rf, ridge) or score the untrained promoter for
one cell (rule baseline)."""
from deepchrome.baselines import fit_baseline
from deepchrome.dataset import load_cell
from deepchrome.evaluate import level_model_metrics, model_metrics, predictions_table
from deepchrome.io import write_json, write_tsv
from deepchrome.logs import run_step


def main():
    i, o, p, name = snakemake.input, snakemake.output, snakemake.params, snakemake.wildcards.baseline
    cell = load_cell(i.features, i.labels, i.split)
    result = fit_baseline(name, cell, p.transform, seed=p.seed, threads=snakemake.threads, target=p.target)
    write_tsv(predictions_table(cell, result.scores), o.predictions)
    metric = "r" if p.target == "level" else "auc"
    extra = {"seconds": result.seconds, "device": "cpu", "params": result.params, "transform": p.transform,
             "protocol": {"grid": result.grid, f"grid_valid_{metric}": result.grid_valid_auc,
                          "selection": f"the grid point with the best valid {'Pearson r' if metric == 'r' else 'AUC'}, "
                                       "fitted on the train split",
                          "test_genes_used_for": "the reported metrics only"}}
    if p.target == "level":
        write_json(level_model_metrics(cell, result.scores, extra, scaled=name != "promoter"), o.metrics)
    else:
        write_json(model_metrics(cell, result.scores, extra, name=f"{name}, cell {snakemake.wildcards.cell}"), o.metrics)


run_step(snakemake, main)
