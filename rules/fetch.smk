from snakemake.logging import logger

from deepchrome.checksums import CHECKSUM_DIR, checksum_file, refresh_checksums


rule fetch:
    """Download one URL (retries, resume, checksum) into resources/downloads/."""
    output:
        protected("resources/downloads/{path}"),
    params:
        url=download_url,
        sha256=download_checksum,
    log:
        "logs/fetch/{path}.log",
    wildcard_constraints:
        path=".+",
    retries: 2
    threads: 1
    resources:
        mem_mb=grows(1000),
        runtime=grows(60),
        downloads=1,
    conda:
        "../envs/deepchrome.yaml"
    script:
        "../scripts/fetch.py"


# Raw inputs -> their checksum files (deepchrome/checksums.py): an edit that keeps the modification time
# (cp -p, rsync -a, tar) rewrites the checksum at start-up, which reruns the jobs that read the input.
CHECKSUMS = (
    {} if PROCESSED else {checksum_file(p): p for p in [ANNOTATION, CHROM_SIZES, EXPRESSION, *SAMPLE_FILES.values()]}
)
if workflow.is_main_process:
    for changed in refresh_checksums(CHECKSUMS.values()):
        logger.warning(
            f"{changed}: its content changed since the workflow read it, though its modification time did not "
            "(cp -p, rsync -a, tar?); the steps that read it run again"
        )


rule checksum:
    """Record the SHA-256 of one raw input (annotation, chromosome sizes, expression table, signal or reads)."""
    input:
        lambda wildcards: CHECKSUMS[f"{CHECKSUM_DIR}/{wildcards.name}.sha256"],
    output:
        f"{CHECKSUM_DIR}/{{name}}.sha256",
    log:
        "logs/checksums/{name}.log",
    threads: 1
    resources:
        mem_mb=grows(500),
        runtime=grows(30),
    conda:
        "../envs/deepchrome.yaml"
    script:
        "../scripts/checksum.py"
