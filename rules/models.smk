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
        cnn=config["cnn"],
        device=config["cnn"]["device"],
        seed=config["cnn"]["seed"],
        target=TARGET,
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


if BASELINES:  # baselines.models may be empty

    rule baselines:
        """The cell's baselines in one job, one after another (gbm, svm, rf, logreg: each tuned on the valid
        split; the untrained promoter score): one Python start-up per cell rather than per model."""
        input:
            features="results/{cell}/features.npz",
            labels="results/{cell}/labels.tsv",
            split=split_file,
        output:
            metrics=expand("results/{{cell}}/{model}/metrics.json", model=BASELINES),
            predictions=expand("results/{{cell}}/{model}/predictions.tsv", model=BASELINES),
        params:
            models=BASELINES,
            transform=TRANSFORM,
            seed=config["baselines"]["seed"],
            target=TARGET,
        log:
            "logs/baselines/{cell}.log",
        benchmark:
            "results/benchmarks/baselines/{cell}.tsv"
        threads: 1
        resources:
            mem_mb=grows(4000),
            runtime=grows(120),
        conda:
            "../envs/deepchrome.yaml"
        script:
            "../scripts/baselines.py"
