"""Per cell and model: test AUC/AUPR with intervals and DeLong's p against the CNN; across cells: models.tsv
(rule auc_table)."""
import pandas as pd

from deepchrome.logs import run_step
from deepchrome.summary import add_delong, collect_metrics, compare_models, write_summary


def main():
    i, o, pairs = snakemake.input, snakemake.output, [tuple(k) for k in snakemake.params.pairs]
    table = collect_metrics(dict(zip(pairs, i.metrics)), pd.DataFrame(snakemake.params.cells))
    table = add_delong(table, dict(zip(pairs, i.predictions)))
    write_summary(table, o.auc)
    write_summary(compare_models(table), o.models)


run_step(snakemake, main)
