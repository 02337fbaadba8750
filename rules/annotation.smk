rule gene_windows:
    """Gene list (GTF or BED) -> one 10 kb window of 100 bins around each gene's TSS."""
    input:
        annotation=ANNOTATION,
        chrom_sizes=CHROM_SIZES,
        expression="results/genes/expression.tsv" if config["restrict_to_expression"] else [],
    output:
        "results/genes/windows.tsv",
    params:
        flank=config["windows"]["flank"],
        bin_order=config["windows"]["bin_order"],
        gene_types=config["gene_types"],
    log:
        "logs/gene_windows.log",
    benchmark:
        "results/benchmarks/gene_windows.tsv"
    threads: 1
    resources:
        mem_mb=grows(4000),
        runtime=grows(10),
    conda:
        "../envs/deepchrome.yaml"
    script:
        "../scripts/gene_windows.py"
