"""Models across cells: the transfer matrix as a clustered heat map, and the own / pooled / leave-one-cell-out
CNN per cell."""

from __future__ import annotations

import os
from collections.abc import Mapping

import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.patches import Rectangle

from .style import MIN_CLUSTER, _auc_limits, _save, _style, model_color


def _cell_order(matrix: pd.DataFrame):
    """Average-linkage clustering of the cells on the symmetrised matrix (a cell's row and column together),
    so that rows and columns share one order and the diagonal stays the diagonal; None below
    :data:`~deepchrome.figures.style.MIN_CLUSTER` cells (the sheet's order: a tree over so few says nothing)."""
    if len(matrix) < MIN_CLUSTER:
        return None
    from scipy.cluster.hierarchy import linkage

    sym = (matrix.to_numpy() + matrix.to_numpy().T) / 2
    return linkage(np.hstack([sym, sym.T]), method="average")


def plot_transfer_heatmap(matrix: pd.DataFrame, names: Mapping[str, str], path: str | os.PathLike) -> None:
    """Cells x cells test AUC (row: the model's cell, column: the data's cell; ``matrix`` indexed by cell IDs,
    shown with the sheet's ``names``), cells clustered by how their models transfer (from
    :data:`~deepchrome.figures.style.MIN_CLUSTER` cells on), AUC written in each box up to 20 cells, the diagonal
    (each cell's own CNN) outlined in black and white, so that the outline shows on every colour. The colours span
    the matrix's own range, which the title states: a narrow range looks like large differences."""
    if matrix.empty:
        raise ValueError("no transfer AUCs given")
    data = matrix.astype(float).rename(index=names, columns=names)
    link = _cell_order(matrix)
    n = len(data)
    lo, hi = np.nanmin(data.to_numpy()), np.nanmax(data.to_numpy())
    with _style():
        g = sns.clustermap(data, row_linkage=link, col_linkage=link, row_cluster=link is not None,
                           col_cluster=link is not None, cmap="viridis", annot=n <= 20, fmt=".3f",
                           annot_kws={"fontsize": 7}, figsize=(3.2 + 0.55 * n, 3.0 + 0.5 * n),
                           cbar_kws={"label": f"Test ROC AUC\n({lo:.3f} to {hi:.3f})"},
                           dendrogram_ratio=(0.12, 0.12 if link is not None else 0.02),  # left: the colour bar's room
                           cbar_pos=(0.02, 0.80, 0.02, 0.14))
        g.ax_cbar.yaxis.set_label_position("left")
        g.ax_cbar.yaxis.set_ticks_position("left")
        for k in range(n):  # the diagonal: each model on its own cell (one order on both axes)
            for color, width in (("black", 3.5), ("white", 1.2)):
                g.ax_heatmap.add_patch(Rectangle((k, k), 1, 1, fill=False, edgecolor=color, lw=width))
        g.ax_heatmap.set_xlabel("Test genes of cell")
        g.ax_heatmap.set_ylabel("CNN trained on cell")
        g.ax_heatmap.tick_params(axis="y", labelrotation=0)
        g.ax_heatmap.tick_params(axis="x", labelrotation=90)
        g.figure.suptitle(f"Each cell's CNN on every cell: test ROC AUC\n(outlined: the model on its own cell; "
                          f"colours span only {lo:.3f} to {hi:.3f})", fontweight="bold", fontsize=10, y=1.04)
        try:
            _save(g.figure, path)
        finally:
            import matplotlib.pyplot as plt

            plt.close(g.figure)


_KINDS = {"cnn": ("Own CNN", model_color("cnn"), "o"),
          "pooled": ("Pooled CNN (all cells)", "#0072B2", "s"),
          "left_out": ("Pooled without the cell (leave-one-cell-out)", "#009E73", "D"),
          "promoter": ("H3K4me3 promoter (untrained)", model_color("promoter"), "|")}


def plot_pooled(table: pd.DataFrame, path: str | os.PathLike) -> None:
    """Per cell (rows of ``table``, :func:`deepchrome.transfer.pooled_table`, weakest own CNN at the top): test AUC
    of its own CNN, the pooled CNN and the leave-one-cell-out CNN with 95% bootstrap intervals, and the untrained
    promoter score where given; the pooled CNN's marker is filled where DeLong's p < 0.05 against the own CNN."""
    import matplotlib.pyplot as plt

    if table.empty:
        raise ValueError("no cells in the pooled table")
    kinds = [k for k in _KINDS if f"{k}_auc" in table]
    values = np.concatenate([table[f"{k}_auc"].to_numpy(dtype=float) for k in kinds])
    lo, hi = _auc_limits(values)
    n = len(table)
    with _style():
        fig, ax = plt.subplots(figsize=(6.4, 1.4 + 0.45 * n))
        y = np.arange(n)[::-1]
        offsets = dict(zip(kinds, np.linspace(0.22, -0.22, len(kinds))))
        for kind in kinds:
            label, color, marker = _KINDS[kind]
            auc = table[f"{kind}_auc"].to_numpy(dtype=float)
            if f"{kind}_low" in table:
                ax.hlines(y + offsets[kind], table[f"{kind}_low"], table[f"{kind}_high"], color=color, lw=1.2)
            filled = (table[f"{kind}_p"] < 0.05).to_numpy() if f"{kind}_p" in table else np.ones(n, dtype=bool)
            ax.scatter(auc[filled], (y + offsets[kind])[filled], color=color, marker=marker, s=36, zorder=3,
                       label=label)
            if (~filled).any():
                ax.scatter(auc[~filled], (y + offsets[kind])[~filled], facecolor="white", edgecolor=color,
                           marker=marker, s=36, zorder=3)
        ax.set_yticks(y, [f"{nm} ({c})" if nm != c else c for c, nm in zip(table["cell"], table["name"])])
        ax.set_xlim(lo, hi)
        ax.set_ylim(-0.6, n - 0.4)
        ax.set_xlabel("Test ROC AUC (95% bootstrap interval)")
        ax.set_title("One model for all cells against each cell's own\n(filled: DeLong p < 0.05 against the own "
                     "CNN; cells by their own CNN, weakest on top)", fontsize=9, fontweight="bold")
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.12 - 0.4 / (1 + n)), ncol=2, fontsize=7, frameon=False)
        try:
            _save(fig, path)
        finally:
            plt.close(fig)


def plot_predicted_vs_measured(score: np.ndarray, measured: np.ndarray, path: str | os.PathLike, title: str) -> None:
    """A cell without RNA-seq checked against expression measured apart: predicted P(ON) ``[genes]`` against
    log2(RPKM + 1) ``[genes]`` as a hexbin, with Pearson's r and the median split of the measured values."""
    import matplotlib.pyplot as plt

    score, measured = np.asarray(score, dtype=float), np.asarray(measured, dtype=float)
    r = float(np.corrcoef(score, measured)[0, 1])
    with _style():
        fig, ax = plt.subplots(figsize=(5.0, 4.0))
        hb = ax.hexbin(measured, score, gridsize=35, cmap="viridis", mincnt=1, bins="log")
        fig.colorbar(hb, ax=ax, label="Genes")
        ax.axvline(np.median(measured), color="white", lw=1, ls="--")
        ax.set_xlabel("Measured expression, log2(RPKM + 1)\n(never seen by the workflow)")
        ax.set_ylabel("Predicted P(ON)")
        ax.set_title(f"{title}\nPearson r = {r:.2f} over {len(score):,} genes (dashed: measured median)",
                     fontsize=9, fontweight="bold")
        try:
            _save(fig, path)
        finally:
            plt.close(fig)
