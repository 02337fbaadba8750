"""Read one cell of the published processed data into the workflow's files (rule processed_cell)."""
from deepchrome.dataset import load_published_cell, save_cell
from deepchrome.logs import run_step


def main():
    files = {split: snakemake.input[split] for split in ("train", "valid", "test") if split in snakemake.input.keys()}
    p, o = snakemake.params, snakemake.output
    save_cell(load_published_cell(files, p.marks, seed=p.seed, valid_fraction=p.valid_fraction), o.features, o.labels, o.split)


run_step(snakemake, main)
