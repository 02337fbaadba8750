"""One cell's AttentiveChrome class summaries as a figure (rule attention_figure)."""
from deepchrome.dataset import feature_description
from deepchrome.figures import plot_attention
from deepchrome.io import read_summary
from deepchrome.logs import run_step


def main():
    i, p = snakemake.input, snakemake.params
    summary = read_summary(i.summary)
    inputs = feature_description(i.features)
    plot_attention(summary, summary["marks"], snakemake.output[0], title=f"{p.label}: where AttentiveChrome looked",
                   bin_size=inputs["bin_size"], bin_order=inputs["bin_order"])


run_step(snakemake, main)
