"""One train/valid/test split for all cells (rule split)."""
from deepchrome.annotation import read_windows
from deepchrome.io import write_tsv
from deepchrome.logs import run_step
from deepchrome.splits import label_matrix, make_split


def main():
    p = snakemake.params
    labels = label_matrix(dict(zip(p.cells, snakemake.input.labels)))
    split = make_split(read_windows(snakemake.input.windows), labels, p.method, p.seed,
                       p.valid_chromosomes, p.test_chromosomes)
    write_tsv(split, snakemake.output[0])


run_step(snakemake, main)
