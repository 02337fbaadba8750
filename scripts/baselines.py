"""Fit the cell's baselines (gbm, svm, rf, logreg; target level: gbm, svr, rf, ridge) and score the untrained
promoter, one after another in this job (rule baselines)."""
from deepchrome.baselines import run_baselines
from deepchrome.logs import run_step

i, o, p = snakemake.input, snakemake.output, snakemake.params
run_step(snakemake, lambda: run_baselines(p.models, snakemake.wildcards.cell, i.features, i.labels, i.split,
                                          p.transform, p.seed, snakemake.threads, p.target, o.predictions, o.metrics))
