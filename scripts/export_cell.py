"""Write one cell in the published processed-data format (rule export_cell)."""
from pathlib import Path

from deepchrome.annotation import read_windows
from deepchrome.dataset import export_published_cell, load_cell
from deepchrome.logs import run_step


def main():
    i = snakemake.input
    cell = load_cell(i.features, i.labels, i.split)
    strands = None
    if i.windows:
        strands = read_windows(i.windows).set_index("gene_id").loc[cell.gene_id, "strand"].to_numpy()
    export_published_cell(cell, Path(snakemake.output[0]).parent, strands, snakemake.params.bin_order)


run_step(snakemake, main)
