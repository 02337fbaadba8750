"""Fit one baseline (gbm, svm, rf, logreg; target level: gbm, svr, rf, ridge) or score the untrained promoter for
one cell (rule baseline)."""
from deepchrome.baselines import run_baseline
from deepchrome.logs import run_step

i, o, p, w = snakemake.input, snakemake.output, snakemake.params, snakemake.wildcards
run_step(snakemake, lambda: run_baseline(w.baseline, w.cell, i.features, i.labels, i.split, p.transform, p.seed,
                                         snakemake.threads, p.target, o.predictions, o.metrics))
