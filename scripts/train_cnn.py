"""Train the CNN of one cell (rule train_cnn)."""
from deepchrome.dataset import load_cell
from deepchrome.evaluate import model_metrics, predictions_table
from deepchrome.io import write_json, write_tsv
from deepchrome.logs import run_step
from deepchrome.train import resolve_params, save_model, train_cnn


def main():
    i, o, p = snakemake.input, snakemake.output, snakemake.params
    cell = load_cell(i.features, i.labels, i.split)
    params = resolve_params(p.preset, p.overrides)
    result = train_cnn(cell, params, seed=p.seed, device=p.device, threads=snakemake.threads)
    save_model(result.state_dict, o.model)
    write_tsv(result.history, o.history)
    write_tsv(predictions_table(cell, result.scores), o.predictions)
    extra = {"seconds": result.seconds, "device": result.device, "device_warning": result.warning,
             "best_epoch": result.best_epoch, "preset": p.preset, "params": params, "seed": p.seed}
    write_json(model_metrics(cell, result.scores, extra), o.metrics)


run_step(snakemake, main)
