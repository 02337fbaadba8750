"""Across cells: completeness and class-map stability, per-mark importance and its clustered heat map (rule explanation_summary)."""
from deepchrome.explain import explanation_table, importance_matrix
from deepchrome.figures import plot_importance_clustermap
from deepchrome.logs import run_step


def main():
    i, o, p = snakemake.input, snakemake.output, snakemake.params
    table = explanation_table(p.cells, p.names, i.stats, i.stability, o.table, o.importance)
    plot_importance_clustermap(importance_matrix(table, p.marks), o.figure,
                               title="Per-mark importance per cell\n(share of the mean |attribution| of P(ON) over test genes)")


run_step(snakemake, main)
