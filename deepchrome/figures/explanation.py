"""Explanation figures: attributions of P(ON) per cell (``[marks, bins]`` class means, per-mark importance,
class maps beside them), per-mark importance across cells (clustered), and one gene across cells.

Attributions are in units of P(ON) per input value; positive values raise P(ON). Bins are ``bin_size`` bp (the
model's, from its description) centred on the TSS.
"""

from __future__ import annotations

import os
from typing import Mapping, Sequence

import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure

from .featuremaps import _draw_map, _draw_mark_bars
from .style import DIFF_CMAP, MIN_CLUSTER, _check_map, _kb_ticks, _save, _style, _tss_extent

ORDER_LABELS = {"strand": "kb from the TSS, in the gene's direction (upstream left)",
                "genome": "kb from the TSS, genome order (lower coordinate left)"}


def _symmetric_limit(*arrays) -> float:
    values = np.concatenate([np.abs(np.asarray(a, dtype=float)).ravel() for a in arrays])
    values = values[np.isfinite(values)]
    return float(values.max()) if values.size and values.max() > 0 else 1.0


def _draw_attribution(ax, arr: np.ndarray, marks: Sequence[str], limit: float, bin_order: str, bin_size: int,
                      show_x: bool = True):
    n_marks, n_bins = arr.shape
    im = ax.imshow(arr, aspect="auto", cmap=DIFF_CMAP, vmin=-limit, vmax=limit, interpolation="nearest",
                   extent=_tss_extent(n_bins, n_marks, bin_size))
    ax.axvline(0, color="black", lw=1.0, ls="--")
    ax.grid(False)
    ax.set_yticks(range(n_marks))
    ax.set_yticklabels(marks)
    _kb_ticks(ax, n_bins, bin_size)
    if show_x:
        ax.set_xlabel(ORDER_LABELS.get(bin_order, "kb from the TSS"))
    else:
        ax.tick_params(axis="x", labelbottom=False)
    return im


def plot_cell_explanation(summary: Mapping[str, np.ndarray], maps: Mapping[str, np.ndarray], marks: Sequence[str],
                          path: str | os.PathLike, title: str, bin_order: str = "strand", *, bin_size: int) -> None:
    """One cell: per class (rows ON, OFF) the mean attribution ``[marks, bins]`` over the correctly predicted
    genes (diverging, centred at 0, one scale), the per-mark importance (mean |attribution|) and the class map.

    ``summary`` holds ``on``, ``off``, ``importance_on``, ``importance_off``, ``n_on``, ``n_off`` (as
    :func:`deepchrome.attribution.save_summary` writes them); ``maps`` holds ``on`` and ``off`` class maps
    in [0, 1].
    """
    marks = [str(m) for m in marks]
    attr = {k: _check_map(summary[k], marks, f"{k} attribution") for k in ("on", "off")}
    cmaps = {k: _check_map(maps[k], marks, f"{k} class map") for k in ("on", "off")}
    limit = _symmetric_limit(attr["on"], attr["off"])
    top = max(float(np.nanmax(summary["importance_on"])), float(np.nanmax(summary["importance_off"])))
    with _style():
        fig = Figure(figsize=(14, 2.4 + 0.75 * len(marks)), layout="constrained")
        gs = fig.add_gridspec(2, 5, width_ratios=[4.2, 1.3, 0.12, 4.2, 0.12])
        names = {"on": "ON: correctly predicted expressed genes", "off": "OFF: correctly predicted silent genes"}
        im_a = im_m = None
        for row, key in enumerate(("on", "off")):
            ax = fig.add_subplot(gs[row, 0])
            im_a = _draw_attribution(ax, attr[key], marks, limit, bin_order, bin_size, show_x=row == 1)
            ax.set_title(f"{names[key]} (n = {int(summary[f'n_{key}'])}): mean attribution", fontsize=9,
                         fontweight="bold")
            bar = fig.add_subplot(gs[row, 1], sharey=ax)
            _draw_mark_bars(bar, summary[f"importance_{key}"], marks, xlabel="Mean |attribution|" if row else "",
                            top=top, fmt="{:.2g}")
            bar.set_title("Per-mark importance", fontsize=9)
            cm = fig.add_subplot(gs[row, 3])
            im_m = _draw_map(cm, cmaps[key], marks, bin_size, show_x=row == 1)
            cm.set_xlabel(ORDER_LABELS.get(bin_order, "kb from the TSS") if row == 1 else "")
            cm.set_title(f"{key.upper()} class map (optimised input)", fontsize=9)
        cb = fig.colorbar(im_a, cax=fig.add_subplot(gs[:, 2]))
        cb.set_label("Attribution to P(ON)\n(red raises, blue lowers)")
        cb2 = fig.colorbar(im_m, cax=fig.add_subplot(gs[:, 4]))
        cb2.set_label("Class map (scaled 0-1)")
        fig.suptitle(title, fontweight="bold")
        _save(fig, path)


def plot_importance_clustermap(table: pd.DataFrame, path: str | os.PathLike, title: str) -> None:
    """Cells x marks heat map of per-mark importance shares (rows sum to 1), cells and marks clustered
    (average linkage, Euclidean) where there are at least :data:`~deepchrome.figures.style.MIN_CLUSTER` of them
    (else in the table's order, without a dendrogram); colours start at 0, so that similar shares look similar;
    the colour bar sits left of the map, clear of its labels."""
    if table.empty:
        raise ValueError("no importance values given")
    data = table.astype(float)
    rows, cols = len(data) >= MIN_CLUSTER, data.shape[1] >= MIN_CLUSTER
    with _style():
        g = sns.clustermap(data, row_cluster=rows, col_cluster=cols, method="average",
                           cmap="viridis", vmin=0, annot=len(data) <= 20, fmt=".2f", annot_kws={"fontsize": 7},
                           figsize=(3.0 + 0.9 * data.shape[1], 2.6 + min(0.3 * len(data), 14)),
                           cbar_kws={"label": "Share"},
                           dendrogram_ratio=(0.15, 0.15 if cols else 0.02),  # left: the colour bar's room
                           cbar_pos=(0.02, 0.80, 0.02, 0.14))
        g.ax_cbar.yaxis.set_label_position("left")
        g.ax_cbar.yaxis.set_ticks_position("left")
        g.ax_heatmap.set_xlabel("Histone mark")
        g.ax_heatmap.set_ylabel("Cell type")
        g.ax_heatmap.tick_params(axis="y", labelrotation=0)
        g.figure.suptitle(title, fontweight="bold", fontsize=10, y=1.04)
        try:
            _save(g.figure, path)
        finally:
            import matplotlib.pyplot as plt

            plt.close(g.figure)


def plot_gene_explanation(gene: str, panels: Sequence[Mapping], marks: Sequence[str], path: str | os.PathLike,
                          bin_order: str = "strand", *, bin_size: int) -> None:
    """One gene across cells: per cell its features (model input space) and its attribution map ``[marks, bins]``,
    titled with P(ON) against the label. ``panels``: dicts with ``cell``, ``name``, ``features``,
    ``attributions``, ``score``, ``label`` and ``split``."""
    if not panels:
        raise ValueError(f"no cell holds gene {gene}")
    marks = [str(m) for m in marks]
    n = len(panels)
    limit = _symmetric_limit(*[p["attributions"] for p in panels])
    top = max(float(np.max(p["features"])) for p in panels) or 1.0
    with _style():
        fig = Figure(figsize=(13, 0.9 + (0.3 * len(marks) + 0.9) * n), layout="constrained")
        axes = np.array(fig.subplots(n, 2, squeeze=False))
        im_f = im_a = None
        for i, p in enumerate(panels):
            feats = _check_map(p["features"], marks, f"features of {p['cell']}")
            attr = _check_map(p["attributions"], marks, f"attributions of {p['cell']}")
            last = i == n - 1
            im_f = axes[i, 0].imshow(feats, aspect="auto", cmap="viridis", vmin=0, vmax=top, interpolation="nearest",
                                     extent=_tss_extent(feats.shape[1], len(marks), bin_size))
            axes[i, 0].axvline(0, color="white", lw=1.0, ls="--")
            axes[i, 0].grid(False)
            axes[i, 0].set_yticks(range(len(marks)))
            axes[i, 0].set_yticklabels(marks)
            _kb_ticks(axes[i, 0], feats.shape[1], bin_size)
            if last:
                axes[i, 0].set_xlabel(ORDER_LABELS.get(bin_order, "kb from the TSS"))
            else:
                axes[i, 0].tick_params(axis="x", labelbottom=False)
            im_a = _draw_attribution(axes[i, 1], attr, marks, limit, bin_order, bin_size, show_x=last)
            axes[i, 1].tick_params(axis="y", labelleft=False)
            label = "expressed (ON)" if int(p["label"]) == 1 else "silent (OFF)"
            right = (float(p["score"]) > 0.5) == (int(p["label"]) == 1)
            name = f"{p['cell']} ({p['name']})" if p.get("name") and p["name"] != p["cell"] else p["cell"]
            axes[i, 0].set_title(f"{name}: features ({p['split']} gene)", fontsize=9, fontweight="bold")
            axes[i, 1].set_title(f"P(ON) = {float(p['score']):.3f}, label {label}: "
                                 f"{'right' if right else 'wrong'}", fontsize=9,
                                 color="#222222" if right else "#B2182B")
        fig.colorbar(im_f, ax=axes[:, 0], shrink=0.8).set_label("Model input")
        fig.colorbar(im_a, ax=axes[:, 1], shrink=0.8).set_label("Attribution to P(ON)")
        fig.suptitle(f"Gene {gene}: what the CNN sees and what moves its prediction", fontweight="bold")
        _save(fig, path)
