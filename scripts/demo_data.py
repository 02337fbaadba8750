"""Generate the demo data set (rule demo_data)."""
from pathlib import Path

from deepchrome.demo import make_demo
from deepchrome.logs import run_step

p = snakemake.params
run_step(snakemake, lambda: make_demo(Path(snakemake.output[0]).parent, cells=p.cells, hidden=p.hidden, marks=p.marks,
                                     n_genes=p.genes, seed=p.seed, flank=p.flank))
