"""Record the SHA-256 of one raw input (rule checksum)."""
from deepchrome.checksums import write_checksum
from deepchrome.logs import run_step

run_step(snakemake, lambda: write_checksum(snakemake.input[0], snakemake.output[0]))
