rule featuremaps:
    """Class maps of one cell's CNN (paper Fig. 4-5): the input the model finds most typical of ON and of
    OFF genes, optimised from featuremaps.starts random starts together; the reported map is their mean
    (method mean) or start 0 (method paper), the between-start spread and split-half stability are kept."""
    input:
        model="results/{cell}/cnn/model.pt",
        features="results/{cell}/features.npz",
    output:
        on="results/{cell}/cnn/featuremap_on.npy",
        off="results/{cell}/cnn/featuremap_off.npy",
        starts="results/{cell}/cnn/featuremap_starts.npz",
        stability="results/{cell}/cnn/featuremap_stability.json",
        figure=report(
            "results/{cell}/cnn/featuremap.png",
            caption="../report/featuremap.rst",
            category="3. Feature maps",
            subcategory="Each cell",
            labels={"cell": "{cell}", "figure": "ON and OFF maps"},
        ),
    params:
        preset=config["cnn"]["preset"],
        overrides=cnn_overrides(),
        options=config["featuremaps"],
    log:
        "logs/featuremaps/{cell}.log",
    benchmark:
        "results/benchmarks/featuremaps/{cell}.tsv"
    threads: 1
    resources:
        mem_mb=grows(2000),
        runtime=grows(30),
    conda:
        "../envs/deepchrome.yaml"
    script:
        "../scripts/featuremaps.py"
