"""Every cell's CNN on every cell's test genes, and the clustered heat map (rule transfer_matrix)."""
from deepchrome.figures import plot_transfer_heatmap
from deepchrome.io import write_tsv
from deepchrome.logs import run_step
from deepchrome.transfer import transfer_matrix


def main():
    i, o, p = snakemake.input, snakemake.output, snakemake.params
    matrix = transfer_matrix(p.cells, i.models, i.features, i.labels, i.split, p.device, snakemake.threads, p.target)
    write_tsv(matrix.reset_index(), o.table)
    plot_transfer_heatmap(matrix, dict(zip(p.cells, p.names)), o.figure)


run_step(snakemake, main)
