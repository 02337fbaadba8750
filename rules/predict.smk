rule predict_cell:
    """A cell without RNA-seq: every gene scored by the model its `predict_with` names (a trained cell's
    CNN or the pooled one), after checking that its features are what the model expects and that it predicts the run's
    target (target: level adds the predicted level)."""
    input:
        features="results/{cell}/features.npz",
        model=lambda wildcards: model_file(PREDICT[wildcards.cell]),
    output:
        "results/{cell}/predicted.tsv",
    params:
        description=feature_description(),
        preset=config["cnn"]["preset"],
        overrides=cnn_overrides(),
        device=config["cnn"]["device"],
        target=TARGET,
    log:
        "logs/predict/{cell}.log",
    threads: 1
    resources:
        mem_mb=grows(2000),
        runtime=grows(30),
    conda:
        "../envs/deepchrome.yaml"
    script:
        "../scripts/predict_cell.py"
