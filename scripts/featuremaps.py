"""ON and OFF feature pattern maps of one cell's CNN over K random starts, their stability and figure (rule featuremaps)."""
from deepchrome.dataset import load_features
from deepchrome.ensemble import load_members
from deepchrome.explain import cell_class_maps
from deepchrome.figures import plot_featuremap
from deepchrome.logs import run_step
from deepchrome.train import resolve_params


def main():
    i, o, p = snakemake.input, snakemake.output, snakemake.params
    X, _, marks = load_features(i.features)
    members = load_members(i.model, resolve_params(p.preset, p.overrides))
    maps = cell_class_maps(members, X.shape[1], X.shape[2], p.options, o.on, o.off, o.starts, o.stability)
    how = f"mean of {p.options['starts']} starts" if p.options["method"] == "mean" else "one start, as published"
    plot_featuremap(maps["on"], maps["off"], marks, o.figure, title=f"{snakemake.wildcards.cell}: feature pattern maps ({how})")


run_step(snakemake, main)
