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
