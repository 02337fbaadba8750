from deepchrome.sheets import sheet_names


rule train_pooled:
    """One CNN ensemble on the train genes of all cells together (`pooled`) or of all but one
    (`without_<cell>`), early stopping on their valid genes; it then scores every gene of every cell."""
    input:
        features=all_cells_of("results/{cell}/features.npz"),
        labels=all_cells_of("results/{cell}/labels.tsv"),
        split=lambda _: split_files(available_cells()),
    output:
        model="results/transfer/{pool}/cnn/model.pt",
        history="results/transfer/{pool}/cnn/history.tsv",
        metrics="results/transfer/{pool}/cnn/metrics.json",
        predictions="results/transfer/{pool}/cnn/predictions.tsv",
    params:
        cells=lambda _: available_cells(),
        left_out=pool_left_out,
        preset=config["cnn"]["preset"],
        overrides=cnn_overrides(),
        seed=config["cnn"]["seed"],
        device=config["cnn"]["device"],
        description=feature_description(),
        target=TARGET,
    log:
        "logs/transfer/{pool}.log",
    benchmark:
        "results/benchmarks/transfer/{pool}.tsv"
    threads: 1
    resources:
        mem_mb=grows(8000),
        runtime=grows(480),
    conda:
        "../envs/deepchrome-cuda.yaml"
    script:
        "../scripts/train_pooled.py"


rule transfer_matrix:
    """Every cell's CNN on every cell's test genes: the cells x cells matrix of test AUC (row: the model's
    cell, column: the data's; target: level: the AUC of the predicted level) and its clustered heat map."""
    input:
        models=summary_inputs("results/{cell}/cnn/model.pt"),
        features=summary_inputs("results/{cell}/features.npz"),
        labels=summary_inputs("results/{cell}/labels.tsv"),
        split=summary_inputs("results/{cell}/split.tsv" if PROCESSED else "results/split.tsv"),
    output:
        table=report(
            "results/summary/transfer.tsv",
            caption="../report/transfer_table.rst",
            category="5. Across cells",
            subcategory="All cells",
        ),
        figure=report(
            "results/summary/figures/transfer.png",
            caption="../report/transfer.rst",
            category="5. Across cells",
            subcategory="All cells",
            labels={"figure": "each cell's CNN on every cell (test AUC)"},
        ),
    params:
        cells=run_cells,
        names=lambda _: sheet_names(cell_table()),
        description=feature_description(),
        preset=config["cnn"]["preset"],
        overrides=cnn_overrides(),
        device=config["cnn"]["device"],
        target=TARGET,
    log:
        "logs/summary/transfer.log",
    benchmark:
        "results/benchmarks/summary/transfer.tsv"
    threads: 1  # as in training, so that the diagonal repeats each cell's CNN test AUC exactly
    resources:
        mem_mb=grows(4000),
        runtime=grows(120),
    conda:
        "../envs/deepchrome.yaml"
    script:
        "../scripts/transfer_matrix.py"


rule pooled_table:
    """Per cell: test AUC of its own CNN, of the pooled CNN and of the CNN pooled over the other cells
    (leave-one-cell-out), with intervals, DeLong's p against the own CNN, and their figure."""
    input:
        own=summary_inputs("results/{cell}/cnn/predictions.tsv"),
        pooled="results/transfer/pooled/cnn/predictions.tsv",
        left_out=summary_inputs(f"results/transfer/{spec.LEFT_OUT}{{cell}}/cnn/predictions.tsv"),
        promoter=summary_inputs("results/{cell}/promoter/predictions.tsv") if "promoter" in MODELS else [],
    output:
        table=report(
            "results/summary/pooled.tsv",
            caption="../report/pooled_table.rst",
            category="5. Across cells",
            subcategory="All cells",
        ),
        figure=report(
            "results/summary/figures/pooled.png",
            caption="../report/pooled.rst",
            category="5. Across cells",
            subcategory="All cells",
            labels={"figure": "own, pooled and leave-one-cell-out CNN per cell"},
        ),
    params:
        cells=run_cells,
        names=lambda _: sheet_names(cell_table()),
    log:
        "logs/summary/pooled.log",
    threads: 1
    resources:
        mem_mb=grows(2000),
        runtime=grows(10),
    conda:
        "../envs/deepchrome.yaml"
    script:
        "../scripts/pooled_table.py"


rule transfer:
    """`snakemake transfer`: the models across cells: transfer matrix, pooled and leave-one-cell-out CNNs."""
    input:
        transfer_outputs(),
        "results/summary/pooled.tsv",
        "results/summary/figures/pooled.png",
