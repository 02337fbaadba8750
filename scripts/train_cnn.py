"""Train the CNN ensemble of one cell, one network per seed in one job (rule train_cnn)."""
from deepchrome.dataset import load_cell
from deepchrome.evaluate import predictions_table
from deepchrome.io import write_tsv
from deepchrome.logs import run_step
from deepchrome.train import train_and_save


def main():
    i, o, p = snakemake.input, snakemake.output, snakemake.params
    cell = load_cell(i.features, i.labels, i.split)
    result = train_and_save(cell, p.cnn, p.seed, p.device, snakemake.threads, p.target, snakemake.wildcards.cell,
                            o.model, o.history, o.metrics)
    write_tsv(predictions_table(cell, result.scores), o.predictions)


run_step(snakemake, main)
