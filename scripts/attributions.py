"""Attributions of the CNN's P(ON) for every test gene of one cell, and their class summaries (rule attributions)."""
import torch

from deepchrome.explain import cell_attributions
from deepchrome.logs import run_step
from deepchrome.predict import load_checked


def main():
    i, o, p = snakemake.input, snakemake.output, snakemake.params
    torch.set_num_threads(snakemake.threads)
    members, description = load_checked(i.model, i.features)
    cell_attributions(members, i.features, i.labels, i.split, description["inputs"]["transform"], p.options,
                      o.attributions, o.summary, o.stats)


run_step(snakemake, main)
