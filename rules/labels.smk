rule expression:
    """Check the expression table once (numbers only, one row per gene, complete download) and keep
    the columns of the cell sheet's cells."""
    input:
        EXPRESSION,
    output:
        "results/genes/expression.tsv",
    params:
        columns=sorted(set(expression_columns().values())),
        missing_values=config["missing_values"],
    log:
        "logs/expression.log",
    benchmark:
        "results/benchmarks/expression.tsv"
    threads: 1
    resources:
        mem_mb=grows(2000),
        runtime=grows(10),
    conda:
        "../envs/deepchrome.yaml"
    script:
        "../scripts/expression.py"


rule labels:
    """ON/OFF labels of one cell: RPKM above the cell's median (target: level: and log2(RPKM + 1) per gene)."""
    input:
        expression="results/genes/expression.tsv",
        windows="results/genes/windows.tsv",
    output:
        "results/{cell}/labels.tsv",
    params:
        column=cell_expression_column,
        source=EXPRESSION,
        target=TARGET,
    log:
        "logs/labels/{cell}.log",
    benchmark:
        "results/benchmarks/labels/{cell}.tsv"
    threads: 1
    resources:
        mem_mb=grows(2000),
        runtime=grows(10),
    conda:
        "../envs/deepchrome.yaml"
    script:
        "../scripts/labels.py"
