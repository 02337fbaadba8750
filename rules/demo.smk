if "demo" in config:

    rule demo_data:
        output:
            sorted(DEMO_FILES),
        params:
            outdir=DEMO_DIR,
            cells=CELLS,
            marks=MARKS,
            seed=config["demo"]["seed"],
            genes=config["demo"]["genes"],
        log:
            "logs/demo_data.log",
        benchmark:
            "results/benchmarks/demo_data.tsv"
        threads: 1
        resources:
            mem_mb=2000,
        script:
            "../scripts/demo_data.py"
