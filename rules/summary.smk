rule auc_table:
    """Collect every cell's and model's test metrics into results/summary/auc.tsv."""
    input:
        metrics=per_cell("results/{cell}/{model}/metrics.json", model=MODELS),
    output:
        report(
            "results/summary/auc.tsv",
            caption="../report/auc_table.rst",
            category="Summary",
        ),
    params:
        cells=cell_sheet_rows,
        pairs=metric_pairs,
    log:
        "logs/summary/auc_table.log",
    threads: 1
    resources:
        mem_mb=1000,
    conda:
        "../envs/deepchrome.yaml"
    script:
        "../scripts/auc_table.py"


rule summary_figures:
    """Summary figures: CNN vs baselines, AUC per model, training curves, feature maps."""
    input:
        table="results/summary/auc.tsv",
        histories=per_cell("results/{cell}/cnn/history.tsv"),
        on=per_cell("results/{cell}/cnn/featuremap_on.npy"),
        off=per_cell("results/{cell}/cnn/featuremap_off.npy"),
    output:
        cnn_vs_baselines=report(
            "results/summary/figures/cnn_vs_baselines.png",
            caption="../report/cnn_vs_baselines.rst",
            category="Summary",
        ),
        auc_by_model=report(
            "results/summary/figures/auc_by_model.png",
            caption="../report/auc_by_model.rst",
            category="Summary",
        ),
        training_curves=report(
            "results/summary/figures/training_curves.png",
            caption="../report/training_curves.rst",
            category="Summary",
        ),
        featuremaps=report(
            "results/summary/figures/featuremaps.png",
            caption="../report/featuremaps_grid.rst",
            category="Feature maps",
        ),
    params:
        cells=run_cells,
        marks=MARKS,
    log:
        "logs/summary/figures.log",
    threads: 1
    resources:
        mem_mb=2000,
    conda:
        "../envs/deepchrome.yaml"
    script:
        "../scripts/summary_figures.py"


rule published_figure:
    """Reproduced CNN AUC against the AUC published by Singh et al. (2016), per cell."""
    input:
        "results/summary/auc.tsv",
    output:
        report(
            "results/summary/figures/published.png",
            caption="../report/published.rst",
            category="Summary",
        ),
    log:
        "logs/summary/published.log",
    threads: 1
    resources:
        mem_mb=1000,
    conda:
        "../envs/deepchrome.yaml"
    script:
        "../scripts/published_figure.py"
