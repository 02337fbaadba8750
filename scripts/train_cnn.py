"""Train the CNN ensemble of one cell, one network per seed in one job (rule train_cnn)."""
from deepchrome.dataset import load_cell
from deepchrome.ensemble import save_members
from deepchrome.evaluate import level_model_metrics, model_metrics, predictions_table
from deepchrome.io import write_json, write_tsv
from deepchrome.logs import run_step
from deepchrome.predict import feature_inputs
from deepchrome.train import cnn_metrics, resolve_params, seed_list, train_cnn


def main():
    i, o, p = snakemake.input, snakemake.output, snakemake.params
    cell = load_cell(i.features, i.labels, i.split)
    params = resolve_params(p.preset, p.overrides)
    result = train_cnn(cell, params, seeds=seed_list(params, p.seed), device=p.device, threads=snakemake.threads,
                       target=p.target)
    save_members(result.states, o.model, feature_inputs(cell.marks, cell.X.shape[2], p.description))
    write_tsv(result.history, o.history)
    write_tsv(predictions_table(cell, result.scores), o.predictions)
    evaluate = level_model_metrics if p.target == "level" else model_metrics
    write_json(evaluate(cell, result.scores, cnn_metrics(cell, result, p.preset, params, p.target)), o.metrics)


run_step(snakemake, main)
