"""Test AUC and AUPR per cell and model (rule auc_table)."""
import pandas as pd

from deepchrome.logs import run_step
from deepchrome.summary import collect_metrics, write_summary


def main():
    files = {tuple(k): f for k, f in zip(snakemake.params.pairs, snakemake.input.metrics)}
    write_summary(collect_metrics(files, pd.DataFrame(snakemake.params.cells)), snakemake.output[0])


run_step(snakemake, main)
