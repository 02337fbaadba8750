"""One cell's AttentiveChrome class summaries as a figure (rule attention_figure)."""
from deepchrome.attention import load_attention_summary
from deepchrome.ensemble import read_description
from deepchrome.figures import plot_attention
from deepchrome.logs import run_step


def main():
    i, p = snakemake.input, snakemake.params
    summary = load_attention_summary(i.summary)
    inputs = read_description(i.model)["inputs"]
    plot_attention(summary, summary["marks"], snakemake.output[0], title=f"{p.label}: where AttentiveChrome looked",
                   bin_size=inputs["bin_size"], bin_order=inputs["bin_order"])


run_step(snakemake, main)
