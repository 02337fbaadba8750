rule export_cell:
    """Write one cell's features, labels and split in the published DeepChrome CSV format."""
    input:
        features="results/{cell}/features.npz",
        labels="results/{cell}/labels.tsv",
        split=split_file,
        windows=windows_file,
    output:
        expand(
            "results/export/{{cell}}/classification/{split}.csv",
            split=["train", "valid", "test"],
        ),
    params:
        bin_order=bin_order(),
    log:
        "logs/export/{cell}.log",
    threads: 1
    resources:
        mem_mb=grows(2000),
        runtime=grows(10),
    conda:
        "../envs/deepchrome.yaml"
    script:
        "../scripts/export_cell.py"


rule export:
    """Export every cell of the run in the published DeepChrome format (snakemake export)."""
    input:
        per_cell("results/export/{cell}/classification/{split}.csv", split=["train", "valid", "test"]),
