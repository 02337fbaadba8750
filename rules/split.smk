rule split:
    input:
        windows="results/genes/windows.tsv",
        labels=per_cell("results/{cell}/labels.tsv"),
    output:
        "results/split.tsv",
    params:
        cells=run_cells,
        method=config["split"]["method"],
        seed=config["split"]["seed"],
        valid_chromosomes=config["split"]["valid_chromosomes"],
        test_chromosomes=config["split"]["test_chromosomes"],
    log:
        "logs/split.log",
    threads: 1
    resources:
        mem_mb=2000,
    conda:
        "../envs/deepchrome.yaml"
    script:
        "../scripts/split.py"
