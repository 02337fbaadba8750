rule auc_table:
    """Per cell and model: test AUC/AUPR with bootstrap intervals and DeLong's p against the CNN; across cells:
    each model's mean AUC with its interval and the Wilcoxon test against the CNN."""
    input:
        metrics=summary_inputs("results/{cell}/{model}/metrics.json", model=MODELS),
        predictions=summary_inputs("results/{cell}/{model}/predictions.tsv", model=MODELS),
    output:
        auc=report(
            "results/summary/auc.tsv",
            caption="../report/auc_table.rst",
            category="1. Accuracy",
            subcategory="All cells",
            labels={"figure": "the same table as a TSV file (download)"},
        ),
        models=report(
            "results/summary/models.tsv",
            caption="../report/models_table.rst",
            category="1. Accuracy",
            subcategory="All cells",
        ),
    params:
        cells=cell_sheet_rows,
        pairs=metric_pairs,
    log:
        "logs/summary/auc_table.log",
    threads: 1
    resources:
        mem_mb=grows(1000),
        runtime=grows(10),
    conda:
        "../envs/deepchrome.yaml"
    script:
        "../scripts/auc_table.py"


rule summary_figures:
    """Summary figures: CNN vs baselines, AUC per model, training curves, feature maps."""
    input:
        table="results/summary/auc.tsv",
        models="results/summary/models.tsv",
        histories=summary_inputs("results/{cell}/cnn/history.tsv"),
        features=summary_inputs("results/{cell}/features.npz"),  # the maps' bin size (what the CNNs were trained on)
        on=summary_inputs("results/{cell}/cnn/featuremap_on.npy"),
        off=summary_inputs("results/{cell}/cnn/featuremap_off.npy"),
    output:
        cnn_vs_baselines=report(
            "results/summary/figures/cnn_vs_baselines.png",
            caption="../report/cnn_vs_baselines.rst",
            category="1. Accuracy",
            subcategory="All cells",
            labels={"figure": "the CNN against each baseline, per cell"},
        ),
        auc_by_model=report(
            "results/summary/figures/auc_by_model.png",
            caption="../report/auc_by_model.rst",
            category="1. Accuracy",
            subcategory="All cells",
            labels={"figure": "test AUC per model"},
        ),
        model_comparison=report(
            "results/summary/figures/model_comparison.png",
            caption="../report/model_comparison.rst",
            category="1. Accuracy",
            subcategory="All cells",
        ),
        training_curves=report(
            "results/summary/figures/training_curves.png",
            caption="../report/training_curves.rst",
            category="2. Training",
            subcategory="All cells",
            labels={"figure": "validation AUC and loss per epoch"},
        ),
        featuremaps=report(
            "results/summary/figures/featuremaps.png",
            caption="../report/featuremaps_grid.rst",
            category="3. Feature maps",
            subcategory="All cells",
            labels={"figure": "ON and OFF maps of every cell"},
        ),
    params:
        cells=run_cells,
        marks=MARKS,
    log:
        "logs/summary/figures.log",
    threads: 1
    resources:
        mem_mb=grows(2000),
        runtime=grows(10),
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
            category="1. Accuracy",
            subcategory="All cells",
            labels={"figure": "reproduced against published AUC"},
        ),
    log:
        "logs/summary/published.log",
    threads: 1
    resources:
        mem_mb=grows(1000),
        runtime=grows(10),
    conda:
        "../envs/deepchrome.yaml"
    script:
        "../scripts/published_figure.py"


rule overview:
    """The report's landing page: what was run, on which cells, with which settings, the headline AUCs."""
    input:
        template=str(WORKFLOW_DIR / "report" / "workflow.rst"),
        table="results/summary/auc.tsv",
        models="results/summary/models.tsv",
        features=per_cell("results/{cell}/features.npz"),
    output:
        page="results/summary/overview.rst",
        table=report(
            "results/summary/auc_table.html",
            caption="../report/auc_table.rst",
            category="1. Accuracy",
            subcategory="All cells",
            labels={"figure": "test AUC and AUPR of every cell and model (table)"},
        ),
    params:
        marks=MARKS,
        cnn=config["cnn"],
        input="processed (read counts)" if PROCESSED else config["input"],  # the schema defaults input to signal
        split=config["split"]["method"] if not PROCESSED else "the processed files' own",
        config_files=[str(f) for f in workflow.configfiles],
        command_line={k: str(v) for k, v in workflow.config_settings.config.items()},
        target=TARGET,
        predict=lambda _: {c: PREDICT[c] for c in predict_cells()},
    log:
        "logs/summary/overview.log",
    threads: 1
    resources:
        mem_mb=grows(1000),
        runtime=grows(10),
    conda:
        "../envs/deepchrome.yaml"
    script:
        "../scripts/overview.py"


rule genes_kept:
    """The genes each step kept: the annotation's, those with a whole window, and per cell the labelled and ON genes."""
    input:
        windows="results/genes/gene_counts.json",
        labels=per_cell("results/{cell}/label_counts.json"),
    output:
        report(
            "results/summary/genes.tsv",
            caption="../report/genes_table.rst",
            category="1. Accuracy",
            subcategory="All cells",
        ),
    log:
        "logs/summary/genes.log",
    threads: 1
    resources:
        mem_mb=grows(500),
        runtime=grows(10),
    conda:
        "../envs/deepchrome.yaml"
    script:
        "../scripts/genes_kept.py"
