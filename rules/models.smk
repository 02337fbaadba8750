rule train_cnn:
    """The CNN ensemble of one cell: every seed's network trained together in one job (one stacked network)."""
    input:
        features="results/{cell}/features.npz",
        labels="results/{cell}/labels.tsv",
        split=split_file,
    output:
        model="results/{cell}/cnn/model.pt",
        history="results/{cell}/cnn/history.tsv",
        metrics="results/{cell}/cnn/metrics.json",
        predictions="results/{cell}/cnn/predictions.tsv",
    params:
        preset=config["cnn"]["preset"],
        overrides=cnn_overrides(),
        device=config["cnn"]["device"],
        seed=config["cnn"]["seed"],
        target=TARGET,
        description=feature_description(),
    log:
        "logs/cnn/{cell}.log",
    benchmark:
        "results/benchmarks/cnn/{cell}.tsv"
    threads: 1
    resources:
        mem_mb=grows(8000),
        runtime=grows(240),
    conda:
        "../envs/deepchrome-cuda.yaml"
    script:
        "../scripts/train_cnn.py"


rule baseline:
    """One baseline of one cell (gbm, svm, rf, logreg: tuned on the valid split) or the untrained promoter score."""
    input:
        features="results/{cell}/features.npz",
        labels="results/{cell}/labels.tsv",
        split=split_file,
    output:
        metrics="results/{cell}/{baseline}/metrics.json",
        predictions="results/{cell}/{baseline}/predictions.tsv",
    params:
        transform=cnn_transform(),
        seed=config["baselines"]["seed"],
        target=TARGET,
    log:
        "logs/{baseline}/{cell}.log",
    benchmark:
        "results/benchmarks/{baseline}/{cell}.tsv"
    threads: 1
    resources:
        mem_mb=grows(4000),
        runtime=grows(60),
    conda:
        "../envs/deepchrome.yaml"
    script:
        "../scripts/baseline.py"
