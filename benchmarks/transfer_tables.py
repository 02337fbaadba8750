"""Print the README's tables of models across cells from a run, and check the demo's predict cells against their
hidden expression (drawing that check). Run:
``python benchmarks/transfer_tables.py <run folder> [docs/predicted.png]`` (the run's ``results/`` and, for the
check, the demo's ``resources/demo/hidden_rpkm.tsv.gz``)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import spearmanr
from sklearn.metrics import roc_auc_score

from deepchrome.figures import plot_predicted_vs_measured


def main(run: str, figure: str | None = None) -> None:
    res = Path(run) / "results"
    matrix = pd.read_csv(res / "summary" / "transfer.tsv", sep="\t").set_index("model_cell")
    print("| CNN of \\ test genes of | " + " | ".join(matrix.columns) + " |")
    print("|---|" + "---|" * len(matrix.columns))
    for cell, row in matrix.iterrows():
        print(f"| {cell} | " + " | ".join(f"**{v:.3f}**" if c == cell else f"{v:.3f}" for c, v in row.items()) + " |")
    if (res / "summary" / "pooled.tsv").exists():
        t = pd.read_csv(res / "summary" / "pooled.tsv", sep="\t")
        print("\n| cell | own CNN | pooled CNN [95% CI] | p vs own | leave-one-cell-out CNN [95% CI] | p vs own "
              "| promoter (untrained) |")
        print("|---|---|---|---|---|---|---|")
        for _, r in t.iterrows():
            print(f"| {r['cell']} | {r['cnn_auc']:.3f} | {r['pooled_auc']:.3f} [{r['pooled_low']:.3f}, "
                  f"{r['pooled_high']:.3f}] | {r['pooled_p']:.2g} | {r['left_out_auc']:.3f} [{r['left_out_low']:.3f}, "
                  f"{r['left_out_high']:.3f}] | {r['left_out_p']:.2g} | {r.get('promoter_auc', np.nan):.3f} |")
    hidden = Path(run) / "resources" / "demo" / "hidden_rpkm.tsv.gz"
    if not hidden.exists():
        return
    truth = pd.read_csv(hidden, sep="\t", index_col=False).set_index("gene_id")
    print()
    for cell in truth.columns:
        predicted = pd.read_csv(res / cell / "predicted.tsv", sep="\t")
        measured = np.log2(predicted["gene_id"].str.split(".").str[0].map(truth[cell]) + 1)
        has = measured.notna()
        score, level = predicted["score"][has].to_numpy(), measured[has].to_numpy()
        print(f"{cell}: {has.sum()} genes; Pearson r {np.corrcoef(score, level)[0, 1]:.3f}, Spearman rho "
              f"{spearmanr(score, level).statistic:.3f}, ROC AUC against the hidden median label "
              f"{roc_auc_score(level > np.median(level), score):.3f}")
        if figure:
            plot_predicted_vs_measured(score, level, figure, f"{cell}: a cell without RNA-seq, predicted")


if __name__ == "__main__":
    main(*sys.argv[1:])
