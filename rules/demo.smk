if "demo" in config:

    rule demo_data:
        """Generate the demo data set (signal, reads, GTF, RPKM table; the predict cells' expression apart,
        in a file the workflow never reads) under resources/demo/."""
        output:
            sorted(DEMO_FILES),
        params:
            cells=[c for c in CELL_SHEET["cell"] if c not in PREDICT],
            hidden=[c for c in CELL_SHEET["cell"] if c in PREDICT],
            marks=MARKS,
            seed=config["demo"]["seed"],
            genes=config["demo"]["genes"],
        log:
            "logs/demo_data.log",
        benchmark:
            "results/benchmarks/demo_data.tsv"
        threads: 1
        resources:
            mem_mb=grows(2000),
            runtime=grows(10),
        conda:
            "../envs/deepchrome.yaml"
        script:
            "../scripts/demo_data.py"
