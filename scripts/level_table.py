"""target: level: per cell and model r, rho, R^2, MSE and AUC with intervals (levels.tsv); across cells: each
model's mean r (level_models.tsv) (rule level_table)."""
import pandas as pd

from deepchrome.logs import run_step
from deepchrome.summary import collect_levels, compare_levels, write_summary


def main():
    i, o, pairs = snakemake.input, snakemake.output, [tuple(k) for k in snakemake.params.pairs]
    table = collect_levels(dict(zip(pairs, i.metrics)), pd.DataFrame(snakemake.params.cells))
    write_summary(table, o.levels)
    write_summary(compare_levels(table), o.models)


run_step(snakemake, main)
