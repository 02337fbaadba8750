"""AttentiveChrome's attention for every test gene of one cell and its class summaries (rule attention)."""
from deepchrome.attention import cell_attention
from deepchrome.logs import run_step

i, o = snakemake.input, snakemake.output
run_step(snakemake, lambda: cell_attention(i.model, i.features, i.labels, i.split, o.attention, o.summary,
                                           threads=snakemake.threads))
