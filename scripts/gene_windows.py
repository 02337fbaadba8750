"""Gene TSS windows from the annotation (rule gene_windows)."""
from deepchrome.annotation import build_windows
from deepchrome.io import write_tsv
from deepchrome.logs import run_step


def main():
    i, p = snakemake.input, snakemake.params
    windows = build_windows(i.annotation, i.chrom_sizes, flank=p.flank, bin_order=p.bin_order, gene_types=p.gene_types,
                            expression=i.expression or None)
    write_tsv(windows, snakemake.output[0])


run_step(snakemake, main)
