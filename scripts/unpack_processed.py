"""Unpack the published data.tar.gz (checkpoint unpack_processed)."""
from deepchrome.dataset import unpack_archive
from deepchrome.logs import run_step

run_step(snakemake, lambda: unpack_archive(snakemake.input[0], snakemake.output[0]))
