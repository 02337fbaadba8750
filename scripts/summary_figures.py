"""Summary figures across cells (rule summary_figures)."""
import numpy as np
import pandas as pd

from deepchrome import figures
from deepchrome.dataset import feature_description
from deepchrome.logs import run_step


def main():
    i, o, cells = snakemake.input, snakemake.output, snakemake.params.cells
    table = pd.read_csv(i.table, sep="\t")
    figures.plot_cnn_vs_baselines(table, o.cnn_vs_baselines)
    figures.plot_auc_by_model(table, o.auc_by_model)
    figures.plot_model_comparison(pd.read_csv(i.models, sep="\t"), o.model_comparison)
    figures.plot_training_curves({c: pd.read_csv(f, sep="\t") for c, f in zip(cells, i.histories)}, o.training_curves)
    maps = {c: (np.load(on), np.load(off)) for c, on, off in zip(cells, i.on, i.off)}
    figures.plot_featuremaps_grid(maps, snakemake.params.marks, o.featuremaps,
                                  bin_size=feature_description(i.features[0])["bin_size"])


run_step(snakemake, main)
