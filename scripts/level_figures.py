"""target: level figures: predicted vs measured level per cell, r per model, training curves (rule level_figures)."""
import pandas as pd

from deepchrome import figures
from deepchrome.logs import run_step


def main():
    i, o, cells = snakemake.input, snakemake.output, snakemake.params.cells
    figures.plot_levels({c: pd.read_csv(f, sep="\t") for c, f in zip(cells, i.predictions)}, o.scatter)
    figures.plot_r_by_model(pd.read_csv(i.levels, sep="\t"), o.r_by_model)
    figures.plot_training_curves({c: pd.read_csv(f, sep="\t") for c, f in zip(cells, i.histories)}, o.training,
                                 metric="valid_r", metric_label="Validation Pearson r", metric_title="validation r",
                                 loss_label="Training loss\n(mean squared error)")


run_step(snakemake, main)
