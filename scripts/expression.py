"""The checked expression table (rule expression)."""
from deepchrome.io import write_tsv
from deepchrome.labels import read_expression
from deepchrome.logs import run_step

p = snakemake.params
run_step(snakemake, lambda: write_tsv(read_expression(snakemake.input[0], p.columns, p.missing_values).reset_index(),
                                      snakemake.output[0]))
