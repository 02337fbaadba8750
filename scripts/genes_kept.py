"""The genes each step kept, per cell (rule genes_kept)."""
from deepchrome.io import write_tsv
from deepchrome.logs import run_step
from deepchrome.summary import genes_kept

i = snakemake.input
run_step(snakemake, lambda: write_tsv(genes_kept(i.windows, i.labels), snakemake.output[0]))
