"""Own, pooled and leave-one-cell-out CNN per cell: table and figure (rule pooled_table)."""
from deepchrome.figures import plot_pooled
from deepchrome.io import write_tsv
from deepchrome.logs import run_step
from deepchrome.transfer import pooled_table


def main():
    i, o, p = snakemake.input, snakemake.output, snakemake.params
    table = pooled_table(p.cells, p.names, i.own, i.pooled, i.left_out, i.promoter or None)
    write_tsv(table, o.table)
    plot_pooled(table, o.figure)


run_step(snakemake, main)
