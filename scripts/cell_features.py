"""Stack a cell's marks into features.npz: X [genes, marks, bins] (rule cell_features)."""
from deepchrome.annotation import read_windows
from deepchrome.dataset import combine_marks
from deepchrome.logs import run_step

run_step(snakemake, lambda: combine_marks(snakemake.input.marks, read_windows(snakemake.input.windows)["gene_id"],
                                          snakemake.params.marks, snakemake.params.bins,
                                          snakemake.output[0]))
