"""Download one URL (rule fetch)."""
from deepchrome.fetch import fetch
from deepchrome.logs import run_step

run_step(snakemake, lambda: fetch(snakemake.params.url, snakemake.output[0], sha256=snakemake.params.sha256))
