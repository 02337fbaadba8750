"""One CNN ensemble pooled over cells (or over all but one), and its scores of every cell (rule train_pooled)."""
from deepchrome.logs import run_step
from deepchrome.transfer import train_pooled

i, o, p = snakemake.input, snakemake.output, snakemake.params
run_step(snakemake, lambda: train_pooled(p.cells, i.features, i.labels, i.split, p.left_out, p.cnn, p.seed, p.device,
                                         snakemake.threads, dict(o.items()), p.target))
