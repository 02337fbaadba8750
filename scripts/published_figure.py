"""Reproduced vs published AUC per cell (rule published_figure)."""
import pandas as pd

from deepchrome.figures import plot_published
from deepchrome.logs import run_step

run_step(snakemake, lambda: plot_published(pd.read_csv(snakemake.input[0], sep="\t"), snakemake.output[0]))
