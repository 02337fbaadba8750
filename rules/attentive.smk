# AttentiveChrome beside the CNN: the same features, split, seeds and transform; its attention as its explanation.


rule train_attentive:
    """AttentiveChrome's ensemble of one cell: one network per seed, each with its own early stopping."""
    input:
        features="results/{cell}/features.npz",
        labels="results/{cell}/labels.tsv",
        split=split_file,
    output:
        model="results/{cell}/attentive/model.pt",
        history="results/{cell}/attentive/history.tsv",
        metrics="results/{cell}/attentive/metrics.json",
        predictions="results/{cell}/attentive/predictions.tsv",
    params:
        cnn=config["cnn"],
        attentive=config["attentive"],
        device=config["cnn"]["device"],
        seed=config["cnn"]["seed"],
        target=TARGET,
    log:
        "logs/attentive/{cell}.log",
    benchmark:
        "results/benchmarks/attentive/{cell}.tsv"
    threads: 1
    resources:
        mem_mb=grows(8000),
        runtime=grows(480),
    conda:
        "../envs/deepchrome-cuda.yaml"
    script:
        "../scripts/train_attentive.py"


rule attention:
    """AttentiveChrome's attention over bins and marks for every test gene of one cell, and its class summaries."""
    input:
        model="results/{cell}/attentive/model.pt",
        features="results/{cell}/features.npz",
        labels="results/{cell}/labels.tsv",
        split=split_file,
    output:
        attention="results/{cell}/attentive/attention.npz",
        summary="results/{cell}/attentive/attention_summary.npz",
    log:
        "logs/attention/{cell}.log",
    benchmark:
        "results/benchmarks/attention/{cell}.tsv"
    threads: 1
    resources:
        mem_mb=grows(3000),
        runtime=grows(30),
    conda:
        "../envs/deepchrome.yaml"
    script:
        "../scripts/attention.py"


rule attention_figure:
    """One cell's mean attention of correctly predicted ON and OFF genes, over bins and over marks."""
    input:
        summary="results/{cell}/attentive/attention_summary.npz",
        features="results/{cell}/features.npz",  # the bins AttentiveChrome was trained on
    output:
        report(
            "results/{cell}/attentive/attention.png",
            caption="../report/attention.rst",
            category="4. Explanation",
            subcategory="AttentiveChrome's attention",
            labels={"cell": "{cell}"},
        ),
    params:
        label=lambda wildcards: dict(zip(cells(), sheet_names(cell_table(), labels=True)))[wildcards.cell],
    log:
        "logs/attention_figure/{cell}.log",
    threads: 1
    resources:
        mem_mb=grows(1000),
        runtime=grows(10),
    conda:
        "../envs/deepchrome.yaml"
    script:
        "../scripts/attention_figure.py"


rule attention_agreement:
    """Across cells: AttentiveChrome's attention against the CNN's attributions, per cell and mark."""
    input:
        attention=per_cell("results/{cell}/attentive/attention_summary.npz"),
        attributions=per_cell("results/{cell}/cnn/attribution_summary.npz"),
    output:
        table=report(
            "results/summary/attention.tsv",
            caption="../report/attention_table.rst",
            category="4. Explanation",
            subcategory="All cells",
        ),
    params:
        cells=run_cells,
        names=lambda _: sheet_names(cell_table()),
    log:
        "logs/summary/attention.log",
    threads: 1
    resources:
        mem_mb=grows(1000),
        runtime=grows(10),
    conda:
        "../envs/deepchrome.yaml"
    script:
        "../scripts/attention_agreement.py"
