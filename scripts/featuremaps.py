"""ON and OFF feature pattern maps of one cell's CNN (rule featuremaps)."""
from deepchrome.dataset import load_features
from deepchrome.featuremaps import class_map
from deepchrome.figures import plot_featuremap
from deepchrome.io import write_npy
from deepchrome.logs import run_step
from deepchrome.ensemble import EnsembleCNN, load_members
from deepchrome.train import resolve_params


def main():
    i, o, p = snakemake.input, snakemake.output, snakemake.params
    X, _, marks = load_features(i.features)
    model = EnsembleCNN(load_members(i.model, resolve_params(p.preset, p.overrides)))  # the mean P over seeds
    maps = {target: class_map(model, target, X.shape[1], X.shape[2], steps=p.steps, lr=p.lr, l2=p.l2, seed=p.seed)
            for target in (1, 0)}
    write_npy(maps[1], o.on)
    write_npy(maps[0], o.off)
    plot_featuremap(maps[1], maps[0], marks, o.figure, title=f"{snakemake.wildcards.cell}: feature pattern maps")


run_step(snakemake, main)
