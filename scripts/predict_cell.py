"""Every gene of a cell without RNA-seq scored by the model its predict_with names (rule predict_cell)."""
from deepchrome.logs import run_step
from deepchrome.predict import predict_cell

i, p = snakemake.input, snakemake.params
run_step(snakemake, lambda: predict_cell(i.model, i.features, snakemake.output[0], p.device, snakemake.threads,
                                         p.target))
