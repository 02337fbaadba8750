rule mark_features:
    """One histone mark's signal (bigWig mean) or read count per bin of every gene window."""
    input:
        data=mark_file,
        windows="results/genes/windows.tsv",
    output:
        temp("results/{cell}/marks/{mark}.npy"),
    params:
        bin_size=config["windows"]["bin_size"],
        bin_order=config["windows"]["bin_order"],
        bigwig_nan=config["windows"]["bigwig_nan"],
        transform=cnn_transform(),
    log:
        "logs/features/{cell}/{mark}.log",
    benchmark:
        "results/benchmarks/features/{cell}/{mark}.tsv"
    threads: 1
    resources:
        mem_mb=grows(2000),
        runtime=grows(30),
    conda:
        "../envs/deepchrome.yaml"
    script:
        "../scripts/mark_features.py"


rule cell_features:
    """Stack a cell's marks into features.npz [genes, marks, bins]."""
    input:
        marks=expand("results/{{cell}}/marks/{mark}.npy", mark=MARKS),
        windows="results/genes/windows.tsv",
    output:
        "results/{cell}/features.npz",
    params:
        marks=MARKS,
        bins={
            "bin_size": config["windows"]["bin_size"],
            "bin_order": config["windows"]["bin_order"],
            "input": config["input"],
        },
    log:
        "logs/features/{cell}/combine.log",
    benchmark:
        "results/benchmarks/features/{cell}/combine.tsv"
    threads: 1
    resources:
        mem_mb=grows(2000),
        runtime=grows(10),
    conda:
        "../envs/deepchrome.yaml"
    script:
        "../scripts/cell_features.py"
