rule auc_table:
    """Per cell and model: test AUC/AUPR with bootstrap intervals and DeLong's p against the CNN; across cells:
    each model's mean AUC with its interval and the Wilcoxon test against the CNN."""
    input:
        metrics=per_cell("results/{cell}/{model}/metrics.json", model=MODELS),
        predictions=per_cell("results/{cell}/{model}/predictions.tsv", model=MODELS),
    output:
        auc=report(
            "results/summary/auc.tsv",
            caption="../report/auc_table.rst",
            category="Summary",
        ),
        models=report(
            "results/summary/models.tsv",
            caption="../report/models_table.rst",
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
    input:
        table="results/summary/auc.tsv",
        models="results/summary/models.tsv",
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
        model_comparison=report(
            "results/summary/figures/model_comparison.png",
            caption="../report/model_comparison.rst",
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
