"""One gene in every cell: its features, attributions and P(ON) against its label, one figure (rule explain_gene)."""
from deepchrome.explain import gene_panels
from deepchrome.figures import plot_gene_explanation
from deepchrome.logs import run_step
from deepchrome.predict import load_checked


def main():
    i, p = snakemake.input, snakemake.params
    cells, inputs = {}, None
    for c, name, f, l, s, m in zip(p.cells, p.names, i.features, i.labels, i.split, i.model):
        members, description = load_checked(m, f)
        inputs = inputs or description["inputs"]  # one run's models share marks and bins
        cells[c] = {"name": name, "features": f, "labels": l, "split": s, "members": members,
                    "transform": description["inputs"]["transform"]}
    panels = gene_panels(p.gene, cells, p.options)
    plot_gene_explanation(p.gene, panels, inputs["marks"], snakemake.output[0], bin_order=inputs["bin_order"],
                          bin_size=inputs["bin_size"])


run_step(snakemake, main)
