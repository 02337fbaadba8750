if not PROCESSED_IS_DIR:

    checkpoint unpack_processed:
        """Unpack the published processed data (data.tar.gz) to find its cells."""
        input:
            PROCESSED_SOURCE,
        output:
            directory(f"resources/processed/{Path(PROCESSED_SOURCE).name.split('.')[0]}"),
        log:
            "logs/unpack_processed.log",
        threads: 1
        resources:
            mem_mb=grows(1000),
            runtime=grows(30),
        conda:
            "../envs/deepchrome.yaml"
        script:
            "../scripts/unpack_processed.py"


rule processed_cell:
    """Read one cell of the published processed data into features, labels and split."""
    input:
        unpack(processed_cell_files),
    output:
        features="results/{cell}/features.npz",
        labels="results/{cell}/labels.tsv",
        split="results/{cell}/split.tsv",
    params:
        marks=MARKS,
        seed=config["split"]["seed"],
        valid_fraction=config["valid_fraction"],
    log:
        "logs/processed/{cell}.log",
    threads: 1
    resources:
        mem_mb=grows(2000),
        runtime=grows(10),
    conda:
        "../envs/deepchrome.yaml"
    script:
        "../scripts/processed_cell.py"
