"""The report's landing page (rule overview)."""
from deepchrome.dataset import feature_description
from deepchrome.logs import run_step
from deepchrome.overview import write_overview
from deepchrome.spec import run_params


def main():
    i, p = snakemake.input, snakemake.params
    settings = {"marks": p.marks, "preset": p.cnn["preset"], "params": run_params(p.cnn), "input": p.input,
                "split": p.split, "config_files": p.config_files, "overrides": p.command_line, "target": p.target,
                "predict": p.predict, "bins": feature_description(i.features[0])}
    write_overview(i.template, i.table, i.get("models"), settings, snakemake.output.page, snakemake.output.table)


run_step(snakemake, main)
