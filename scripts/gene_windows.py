"""Gene TSS windows from the annotation (rule gene_windows)."""
from deepchrome.annotation import build_windows
from deepchrome.io import write_json, write_tsv
from deepchrome.labels import CHECKED_MISSING, read_expression
from deepchrome.logs import run_step


def main():
    i, p = snakemake.input, snakemake.params
    keep = read_expression(i.expression, missing_values=CHECKED_MISSING).index if i.expression else None
    windows = build_windows(i.annotation, i.chrom_sizes, flank=p.flank, bin_order=p.bin_order, gene_types=p.gene_types,
                            keep_ids=keep)
    write_tsv(windows, snakemake.output.windows)
    write_json(windows.attrs["counts"], snakemake.output.counts)


run_step(snakemake, main)
