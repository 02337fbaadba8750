# target: level's summary (included by the Snakefile for target: level only); small steps run where Snakemake runs.
localrules:
    level_table,
    level_figures,


rule level_table:
    """target: level, per cell and model: test Pearson r, Spearman rho, R^2, MSE and the AUC of the predicted level
    against the median label, each with its bootstrap interval; across cells: each model's mean r with its interval."""
    input:
        metrics=summary_inputs("results/{cell}/{model}/metrics.json", model=MODELS),
    output:
        levels=report(
            "results/summary/levels.tsv",
            caption="../report/level_table.rst",
            category="1. Accuracy",
            subcategory="Expression level",
        ),
        models="results/summary/level_models.tsv",
    params:
        cells=cell_sheet_rows,
        pairs=metric_pairs,
    log:
        "logs/summary/level_table.log",
    threads: 1
    resources:
        mem_mb=grows(1000),
        runtime=grows(10),
    conda:
        "../envs/deepchrome.yaml"
    script:
        "../scripts/level_table.py"


rule level_figures:
    """target: level figures: predicted against measured level per cell (CNN, test genes), r per model across
    cells, and the CNN's training curves (valid Pearson r and MSE per epoch)."""
    input:
        levels="results/summary/levels.tsv",
        predictions=summary_inputs("results/{cell}/cnn/predictions.tsv"),
        histories=summary_inputs("results/{cell}/cnn/history.tsv"),
    output:
        scatter=report(
            "results/summary/figures/levels.png",
            caption="../report/level_scatter.rst",
            category="1. Accuracy",
            subcategory="Expression level",
            labels={"figure": "predicted against measured level"},
        ),
        r_by_model=report(
            "results/summary/figures/r_by_model.png",
            caption="../report/level_r_by_model.rst",
            category="1. Accuracy",
            subcategory="Expression level",
            labels={"figure": "test Pearson r per model"},
        ),
        training=report(
            "results/summary/figures/level_training.png",
            caption="../report/level_training.rst",
            category="2. Training",
            subcategory="All cells",
            labels={"figure": "validation r and loss per epoch"},
        ),
    params:
        cells=run_cells,
    log:
        "logs/summary/level_figures.log",
    threads: 1
    resources:
        mem_mb=grows(2000),
        runtime=grows(10),
    conda:
        "../envs/deepchrome.yaml"
    script:
        "../scripts/level_figures.py"
