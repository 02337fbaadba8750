from deepchrome.sheets import gene_figures, query_genes, safe_name, sheet_names

# --config genes=ENSG...,ENSG... : file name (wildcard) -> gene ID as given
QUERIED_GENES = {safe_name(g): g for g in query_genes(config.get("genes"))}


localrules:
    explanation_summary,


rule attributions:
    """Attributions of the CNN's P(ON) for every test gene of one cell (integrated gradients from the
    all-zero input, or GradientShap), their completeness, and the mean over correctly predicted ON and OFF
    genes with per-mark importance."""
    input:
        model="results/{cell}/cnn/model.pt",
        features="results/{cell}/features.npz",
        labels="results/{cell}/labels.tsv",
        split=split_file,
    output:
        attributions="results/{cell}/cnn/attributions.npz",
        summary="results/{cell}/cnn/attribution_summary.npz",
        stats="results/{cell}/cnn/attribution_stats.json",
    params:
        options=config["attribution"],
    log:
        "logs/attributions/{cell}.log",
    benchmark:
        "results/benchmarks/attributions/{cell}.tsv"
    threads: 1
    resources:
        mem_mb=grows(3000),
        runtime=grows(60),
    conda:
        "../envs/deepchrome.yaml"
    script:
        "../scripts/attributions.py"


rule explanation_figure:
    """One cell's explanation: mean attribution of ON and OFF genes, per-mark importance, class maps."""
    input:
        summary="results/{cell}/cnn/attribution_summary.npz",
        features="results/{cell}/features.npz",  # the bins the CNN was trained and explained on
        on="results/{cell}/cnn/featuremap_on.npy",
        off="results/{cell}/cnn/featuremap_off.npy",
    output:
        report(
            "results/{cell}/cnn/explanation.png",
            caption="../report/explanation.rst",
            category="4. Explanation",
            subcategory="Each cell",
            labels={"cell": "{cell}"},
        ),
    params:
        label=lambda wildcards: dict(zip(cells(), sheet_names(cell_table(), labels=True)))[wildcards.cell],
        method=config["attribution"]["method"].replace("_", " "),
    log:
        "logs/explanation_figure/{cell}.log",
    threads: 1
    resources:
        mem_mb=grows(1000),
        runtime=grows(10),
    conda:
        "../envs/deepchrome.yaml"
    script:
        "../scripts/explanation_figure.py"


rule explanation_summary:
    """Across cells: completeness of the attributions, stability of the class maps, and per-mark
    importance as a clustered cells x marks heat map (the paper's Fig. 5 question)."""
    input:
        stats=per_cell("results/{cell}/cnn/attribution_stats.json"),
        stability=per_cell("results/{cell}/cnn/featuremap_stability.json"),
    output:
        table=report(
            "results/summary/explanation.tsv",
            caption="../report/explanation_table.rst",
            category="4. Explanation",
            subcategory="All cells",
        ),
        importance="results/summary/importance.tsv",
        figure=report(
            "results/summary/figures/importance.png",
            caption="../report/importance.rst",
            category="4. Explanation",
            subcategory="All cells",
        ),
    params:
        cells=run_cells,
        names=lambda _: sheet_names(cell_table()),
        marks=MARKS,
    log:
        "logs/summary/explanation.log",
    threads: 1
    resources:
        mem_mb=grows(2000),
        runtime=grows(10),
    conda:
        "../envs/deepchrome.yaml"
    script:
        "../scripts/explanation_summary.py"


rule explain_gene:
    """One queried gene in every cell: features, attribution map, P(ON) against the label."""
    input:
        model=per_cell("results/{cell}/cnn/model.pt"),
        features=per_cell("results/{cell}/features.npz"),
        labels=per_cell("results/{cell}/labels.tsv"),
        split=lambda _: [f"results/{c}/split.tsv" if PROCESSED else "results/split.tsv" for c in cells()],
    output:
        report(
            "results/explain/{gene}.png",
            caption="../report/explain_gene.rst",
            category="4. Explanation",
            subcategory="Queried genes",
            labels={"gene": "{gene}"},
        ),
    params:
        gene=lambda wildcards: QUERIED_GENES.get(wildcards.gene, wildcards.gene),
        cells=run_cells,
        names=lambda _: sheet_names(cell_table()),
        options=config["attribution"],
    log:
        "logs/explain/{gene}.log",
    threads: 1
    resources:
        mem_mb=grows(2000),
        runtime=grows(10),
    conda:
        "../envs/deepchrome.yaml"
    script:
        "../scripts/explain_gene.py"


rule explain:
    """`snakemake explain --config genes=ENSG...,ENSG...`: one figure per gene in results/explain/."""
    input:
        lambda _: gene_figures(QUERIED_GENES),
