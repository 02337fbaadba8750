rule split:
    """One train/valid/test split of the genes, shared by all cells; it depends on the gene list and
    the whole cell sheet, never on which cells a run chooses."""
    input:
        windows="results/genes/windows.tsv",
        expression="results/genes/expression.tsv",
    output:
        "results/split.tsv",
    params:
        columns=expression_columns(),
        method=config["split"]["method"],
        seed=config["split"]["seed"],
        valid_chromosomes=config["split"]["valid_chromosomes"],
        test_chromosomes=config["split"]["test_chromosomes"],
    log:
        "logs/split.log",
    benchmark:
        "results/benchmarks/split.tsv"
    threads: 1
    resources:
        mem_mb=grows(2000),
        runtime=grows(10),
    conda:
        "../envs/deepchrome.yaml"
    script:
        "../scripts/split.py"
