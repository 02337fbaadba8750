"""Features of one cell and mark: [genes, bins] (rule mark_features)."""
from deepchrome.annotation import read_windows
from deepchrome.io import write_npy
from deepchrome.logs import run_step
from deepchrome.signal import mark_features, orient


def main():
    windows = read_windows(snakemake.input.windows)
    bin_size = snakemake.params.bin_size
    n_bins = int(windows["end"].iloc[0] - windows["start"].iloc[0]) // bin_size
    values = mark_features(snakemake.input.data, windows, n_bins=n_bins, bin_size=bin_size)
    write_npy(orient(values, windows["strand"].to_numpy(), snakemake.params.bin_order), snakemake.output[0])


run_step(snakemake, main)
