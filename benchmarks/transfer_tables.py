"""Tables of models across cells from a run's ``transfer.tsv`` and ``pooled.tsv``, and the demo's cells without
RNA-seq checked against their hidden expression (used by ``benchmarks/doc_tables.py``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]


def markdown_transfer(matrix: pd.DataFrame) -> str:
    """The transfer matrix (``model_cell`` then one column per data cell), the diagonal in bold."""
    matrix = matrix.set_index("model_cell")
    lines = ["| CNN of \\ test genes of | " + " | ".join(matrix.columns) + " |", "|---|" + "---|" * len(matrix.columns)]
    for cell, row in matrix.iterrows():
        lines.append(f"| {cell} | " + " | ".join(f"**{v:.3f}**" if c == cell else f"{v:.3f}"
                                               for c, v in row.items()) + " |")
    return "\n".join(lines) + "\n"


def markdown_pooled(t: pd.DataFrame) -> str:
    """Own, pooled and leave-one-cell-out CNN per cell with 95% intervals and DeLong's p against the own CNN."""
    lines = ["| cell | own CNN | pooled CNN [95% CI] | p vs own | leave-one-cell-out CNN [95% CI] | p vs own "
             "| promoter (untrained) |", "|---|---|---|---|---|---|---|"]
    for r in t.itertuples():
        lines.append(f"| {r.cell} | {r.cnn_auc:.3f} | {r.pooled_auc:.3f} [{r.pooled_low:.3f}, {r.pooled_high:.3f}] | "
                     f"{r.pooled_p:.2g} | {r.left_out_auc:.3f} [{r.left_out_low:.3f}, {r.left_out_high:.3f}] | "
                     f"{r.left_out_p:.2g} | {getattr(r, 'promoter_auc', np.nan):.3f} |")
    return "\n".join(lines) + "\n"


def hidden_expression(run: Path, figure: Path | None = None) -> pd.DataFrame:
    """Each demo cell without RNA-seq of the run folder ``run``: its predicted P(ON) against the expression the
    demo generator kept apart (``resources/demo/hidden_rpkm.tsv.gz``, never read by the workflow): genes, Pearson
    r and Spearman rho with log2(RPKM + 1), ROC AUC against its median label; ``figure`` draws the last cell."""
    from scipy.stats import spearmanr
    from sklearn.metrics import roc_auc_score

    from deepchrome.figures import plot_predicted_vs_measured

    truth = pd.read_csv(run / "resources" / "demo" / "hidden_rpkm.tsv.gz", sep="\t", index_col=False)
    truth = truth.set_index("gene_id")
    sheet = pd.read_csv(ROOT / "config" / "demo" / "cells.tsv", sep="\t").set_index("cell")
    rows = []
    for cell in truth.columns:
        predicted = pd.read_csv(run / "results" / cell / "predicted.tsv", sep="\t")
        measured = np.log2(predicted["gene_id"].str.split(".").str[0].map(truth[cell]) + 1)
        has = measured.notna()
        score, level = predicted["score"][has].to_numpy(), measured[has].to_numpy()
        rows.append({"cell": cell, "model": sheet.loc[cell, "predict_with"], "genes": int(has.sum()),
                     "pearson_r": np.corrcoef(score, level)[0, 1], "spearman_rho": spearmanr(score, level).statistic,
                     "auc": roc_auc_score(level > np.median(level), score)})
        if figure:
            plot_predicted_vs_measured(score, level, figure, f"{cell}: a cell without RNA-seq, predicted")
    return pd.DataFrame(rows)
