"""One cell's explanation figure: class-mean attributions, per-mark importance, class maps (rule explanation_figure)."""
import numpy as np

from deepchrome.dataset import feature_description
from deepchrome.figures import plot_cell_explanation
from deepchrome.io import read_summary
from deepchrome.logs import run_step


def main():
    i, p = snakemake.input, snakemake.params
    summary = read_summary(i.summary)
    inputs = feature_description(i.features)  # the bins the attributions and maps are over
    plot_cell_explanation(summary, {"on": np.load(i.on), "off": np.load(i.off)}, summary["marks"], snakemake.output[0],
                          title=f"{p.label}: what drives the CNN's P(ON) ({p.method})", bin_order=inputs["bin_order"],
                          bin_size=inputs["bin_size"])


run_step(snakemake, main)
