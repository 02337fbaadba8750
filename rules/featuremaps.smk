rule featuremaps:
    input:
        model="results/{cell}/cnn/model.pt",
        features="results/{cell}/features.npz",
    output:
        on="results/{cell}/cnn/featuremap_on.npy",
        off="results/{cell}/cnn/featuremap_off.npy",
        figure=report(
            "results/{cell}/cnn/featuremap.png",
            caption="../report/featuremap.rst",
            category="Feature maps",
            labels={"cell": "{cell}"},
        ),
    params:
        preset=config["cnn"]["preset"],
        overrides=cnn_overrides(),
        steps=config["featuremaps"]["steps"],
        lr=config["featuremaps"]["lr"],
        l2=config["featuremaps"]["l2"],
        seed=config["featuremaps"]["seed"],
    log:
        "logs/featuremaps/{cell}.log",
    benchmark:
        "results/benchmarks/featuremaps/{cell}.tsv"
    threads: 1
    resources:
        mem_mb=2000,
    conda:
        "../envs/deepchrome.yaml"
    script:
        "../scripts/featuremaps.py"
