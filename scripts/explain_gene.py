"""One gene in every cell: its features, attributions and P(ON) against its label, one figure (rule explain_gene)."""
from deepchrome.ensemble import load_members
from deepchrome.explain import gene_panels
from deepchrome.figures import plot_gene_explanation
from deepchrome.logs import run_step
from deepchrome.train import resolve_params


def main():
    i, p = snakemake.input, snakemake.params
    params = resolve_params(p.preset, p.overrides)
    cells = {c: {"name": name, "features": f, "labels": l, "split": s, "members": load_members(m, params)}
             for c, name, f, l, s, m in zip(p.cells, p.names, i.features, i.labels, i.split, i.model)}
    panels = gene_panels(p.gene, cells, params["transform"], p.options)
    plot_gene_explanation(p.gene, panels, p.marks, snakemake.output[0], bin_order=p.bin_order)


run_step(snakemake, main)
