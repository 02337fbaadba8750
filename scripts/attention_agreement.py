"""Across cells: how far AttentiveChrome's attention agrees with the CNN's attributions (rule attention_agreement)."""
from deepchrome.attention import write_agreement
from deepchrome.logs import run_step

i, p = snakemake.input, snakemake.params
run_step(snakemake, lambda: write_agreement(p.cells, p.names, i.attention, i.attributions, snakemake.output.table))
