"""The report's landing page (rule overview)."""
import json

from deepchrome.dataset import feature_description
from deepchrome.logs import run_step
from deepchrome.overview import write_overview
from deepchrome.spec import run_params


def main():
    i, p = snakemake.input, snakemake.params
    records = [json.loads(open(f).read()) for f in [*i.counts, *i.label_counts]]
    settings = {"marks": p.marks, "preset": p.cnn["preset"], "params": run_params(p.cnn), "input": p.input,
                "split": p.split, "config_files": p.config_files, "overrides": p.command_line, "target": p.target,
                "predict": p.predict, "bins": feature_description(i.features[0]),
                "gene_counts": records[0] if i.counts else None, "label_counts": records[len(i.counts):]}
    write_overview(i.template, i.table, i.get("models"), settings, snakemake.output.page, snakemake.output.table)


run_step(snakemake, main)
