"""ON/OFF labels of one cell, and its expression levels for target: level (rule labels)."""
from deepchrome.annotation import read_windows
from deepchrome.io import write_json, write_tsv
from deepchrome.labels import CHECKED_MISSING, cell_labels, read_expression
from deepchrome.logs import run_step


def main():
    expression = read_expression(snakemake.input.expression, missing_values=CHECKED_MISSING)
    table, counts = cell_labels(read_windows(snakemake.input.windows), expression, snakemake.wildcards.cell,
                                column=snakemake.params.column, source=snakemake.params.source,
                                target=snakemake.params.target)
    write_tsv(table, snakemake.output.labels)
    write_json(counts, snakemake.output.counts)


run_step(snakemake, main)
