rule labels:
    input:
        expression=EXPRESSION,
        windows="results/genes/windows.tsv",
    output:
        "results/{cell}/labels.tsv",
    params:
        column=cell_expression_column,
    log:
        "logs/labels/{cell}.log",
    threads: 1
    resources:
        mem_mb=2000,
    conda:
        "../envs/deepchrome.yaml"
    script:
        "../scripts/labels.py"
