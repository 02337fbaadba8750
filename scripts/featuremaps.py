"""ON and OFF feature pattern maps of one cell's CNN over K random starts, their stability and figure (rule featuremaps)."""
from deepchrome.ensemble import load_model
from deepchrome.explain import cell_class_maps
from deepchrome.figures import plot_featuremap
from deepchrome.logs import run_step


def main():
    i, o, p = snakemake.input, snakemake.output, snakemake.params
    members, description = load_model(i.model)
    inputs = description["inputs"]  # the model's own marks, bins and bin size
    maps = cell_class_maps(members, len(inputs["marks"]), inputs["bins"], p.options, o.on, o.off, o.starts,
                           o.stability)
    how = f"mean of {p.options['starts']} starts" if p.options["method"] == "mean" else "one start, as published"
    plot_featuremap(maps["on"], maps["off"], inputs["marks"], o.figure,
                    title=f"{snakemake.wildcards.cell}: feature pattern maps ({how})", bin_size=inputs["bin_size"])


run_step(snakemake, main)
