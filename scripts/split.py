"""One train/valid/test split for all cells (rule split)."""
from deepchrome.annotation import read_windows
from deepchrome.io import write_tsv
from deepchrome.labels import CHECKED_MISSING, read_expression
from deepchrome.logs import run_step
from deepchrome.splits import label_matrix, make_split


def main():
    p = snakemake.params
    windows = read_windows(snakemake.input.windows)
    expression = read_expression(snakemake.input.expression, missing_values=CHECKED_MISSING)
    labels = label_matrix(windows, expression, p.columns)
    write_tsv(make_split(windows, labels, p.method, p.seed, p.valid_chromosomes, p.test_chromosomes),
              snakemake.output[0])


run_step(snakemake, main)
