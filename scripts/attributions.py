"""Attributions of the CNN's P(ON) for every test gene of one cell, and their class summaries (rule attributions)."""
import torch

from deepchrome.ensemble import load_members
from deepchrome.explain import cell_attributions
from deepchrome.logs import run_step
from deepchrome.train import resolve_params


def main():
    i, o, p = snakemake.input, snakemake.output, snakemake.params
    torch.set_num_threads(snakemake.threads)
    params = resolve_params(p.preset, p.overrides)
    cell_attributions(load_members(i.model, params), i.features, i.labels, i.split, params["transform"], p.options,
                      o.attributions, o.summary, o.stats)


run_step(snakemake, main)
