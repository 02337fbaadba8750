"""Features of one cell and mark: [genes, bins] in the configured bin order (rule mark_features)."""
from deepchrome.annotation import read_windows
from deepchrome.features import mark_features
from deepchrome.io import write_npy
from deepchrome.logs import run_step


def main():
    windows = read_windows(snakemake.input.windows)
    bin_size = snakemake.params.bin_size
    n_bins = int(windows["end"].iloc[0] - windows["start"].iloc[0]) // bin_size
    write_npy(mark_features(snakemake.input.data, windows, n_bins=n_bins, bin_size=bin_size,
                            bin_order=snakemake.params.bin_order, bigwig_nan=snakemake.params.bigwig_nan,
                            transform=snakemake.params.transform, threads=snakemake.threads,
                            chrom_sizes=snakemake.input.chrom_sizes,
                            length_mismatch=snakemake.params.length_mismatch), snakemake.output[0])


run_step(snakemake, main)
