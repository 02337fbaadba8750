"""Feature pattern maps: float ``[marks, bins]`` arrays in [0, 1], bins of ``bin_size`` bp (the model's, from its
description) centred on the TSS, per cell and across cells."""

from __future__ import annotations

import os
from typing import Mapping, Sequence

import matplotlib.ticker as mticker
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure

from .style import (DIFF_CMAP, FULL_MAPS_MAX_CELLS, MAP_CMAP, _check_map, _kb_ticks, _save, _style, _tss_extent,
                    mark_colors)


# ---------------------------------------------------------------- feature pattern maps

def _draw_map(ax, arr: np.ndarray, marks: Sequence[str], bin_size: int, show_marks: bool = True,
              show_x: bool = True):
    n_marks, n_bins = arr.shape
    im = ax.imshow(arr, aspect="auto", cmap=MAP_CMAP, vmin=0, vmax=1, interpolation="nearest",
                   extent=_tss_extent(n_bins, n_marks, bin_size))
    ax.axvline(0, color="white", lw=1.2, ls="--")
    ax.grid(False)
    ax.set_yticks(range(n_marks))
    ax.set_yticklabels(marks)
    if not show_marks:
        ax.tick_params(axis="y", length=0, labelleft=False)
    _kb_ticks(ax, n_bins, bin_size)
    if show_x:
        ax.set_xlabel("Position relative to TSS (kb)")
    else:
        ax.tick_params(axis="x", labelbottom=False)
    return im


def _draw_mark_bars(ax, values, marks: Sequence[str], xlabel: str = "Mean over bins", top: float | None = None,
                    fmt: str = "{:.2f}") -> None:
    """Horizontal per-mark bars on an axis from 0 that fits the values (or ``top``), each labelled."""
    values = np.asarray(values, dtype=float)
    top = top if top is not None else float(np.nanmax(values)) if np.isfinite(values).any() else 0.0
    top = top if top > 0 else 1.0
    ax.barh(range(len(marks)), np.nan_to_num(values), color=mark_colors(marks), height=0.7, edgecolor="#333333",
            linewidth=0.4)
    for i, v in enumerate(values):
        ax.text((v if np.isfinite(v) else 0) + 0.03 * top, i, fmt.format(v), va="center", ha="left", fontsize=7)
    ax.set_xlim(0, top * 1.45)
    ax.xaxis.set_major_locator(mticker.MaxNLocator(3))
    ax.set_ylim(len(marks) - 0.5, -0.5)
    ax.set_yticks(range(len(marks)))
    ax.tick_params(axis="y", labelleft=False, length=0)
    ax.grid(axis="y", visible=False)
    ax.set_xlabel(xlabel)


def plot_featuremap(on, off, marks: Sequence[str], path: str | os.PathLike, title: str, *, bin_size: int) -> None:
    """ON and OFF class maps of one cell (marks x bins heat maps, shared 0-1 scale, bins of ``bin_size`` bp) with
    per-mark mean bars (on one axis fitted to both maps' means)."""
    marks = [str(m) for m in marks]
    on = _check_map(on, marks, "ON map")
    off = _check_map(off, marks, "OFF map")
    if on.shape != off.shape:
        raise ValueError(f"ON map {on.shape} and OFF map {off.shape} differ in shape")
    height = 1.6 + 0.42 * len(marks)
    with _style():
        fig = Figure(figsize=(13, height), layout="constrained")
        gs = fig.add_gridspec(1, 6, width_ratios=[4.2, 1.1, 0.25, 4.2, 1.1, 0.14])
        im = None
        for col, (arr, name) in zip((0, 3), ((on, "ON class (expressed)"), (off, "OFF class (not expressed)"))):
            ax = fig.add_subplot(gs[0, col])
            im = _draw_map(ax, arr, marks, bin_size)
            ax.set_title(name, fontweight="bold")
            bar = fig.add_subplot(gs[0, col + 1], sharey=ax)
            _draw_mark_bars(bar, arr.mean(axis=1), marks, top=max(on.mean(axis=1).max(), off.mean(axis=1).max()))
            bar.set_title("Per-mark mean", fontsize=9)
        cax = fig.add_subplot(gs[0, 5])
        cb = fig.colorbar(im, cax=cax)
        cb.set_label("Optimised input\n(scaled 0-1)")
        fig.suptitle(title, fontweight="bold")
        _save(fig, path)


def plot_featuremaps_grid(maps: Mapping[str, tuple[np.ndarray, np.ndarray]], marks: Sequence[str],
                          path: str | os.PathLike, *, bin_size: int) -> None:
    """All cells' class maps (bins of ``bin_size`` bp): full ON/OFF maps per row for <= 10 cells, else cells x marks
    mean heat maps."""
    if not maps:
        raise ValueError("no feature maps given")
    marks = [str(m) for m in marks]
    checked = {}
    for cell, pair in maps.items():
        on, off = pair
        on, off = _check_map(on, marks, f"ON map of {cell}"), _check_map(off, marks, f"OFF map of {cell}")
        if on.shape != off.shape:
            raise ValueError(f"{cell}: ON map {on.shape} and OFF map {off.shape} differ in shape")
        checked[str(cell)] = (on, off)
    n = len(checked)
    with _style():
        if n <= FULL_MAPS_MAX_CELLS:
            row_h = 0.2 * len(marks) + 0.45
            fig = Figure(figsize=(10, row_h * n + 1.4), layout="constrained")
            axes = np.array(fig.subplots(n, 2, sharex=True, sharey=True, squeeze=False))
            im = None
            for i, (cell, (on, off)) in enumerate(checked.items()):
                for j, arr in enumerate((on, off)):
                    ax = axes[i, j]
                    im = _draw_map(ax, arr, marks, bin_size, show_marks=(j == 0), show_x=(i == n - 1))
                    ax.tick_params(axis="y", labelsize=7)
                    if i == 0:
                        ax.set_title(("ON class (expressed)", "OFF class (not expressed)")[j], fontweight="bold")
                axes[i, 0].set_ylabel(cell, fontweight="bold", labelpad=6)
            cb = fig.colorbar(im, ax=axes, shrink=min(1.0, 3.0 / max(n, 1)) if n > 3 else 1.0,
                              aspect=max(10, 6 * min(n, 3)))
            cb.set_label("Optimised input (scaled 0-1)")
            fig.suptitle(f"Feature pattern maps of the CNN per cell ({n} cell{'s' if n > 1 else ''})",
                         fontweight="bold")
        else:
            on_means = pd.DataFrame({c: p[0].mean(axis=1) for c, p in checked.items()}, index=marks).T
            off_means = pd.DataFrame({c: p[1].mean(axis=1) for c, p in checked.items()}, index=marks).T
            height = min(max(4.0, 0.19 * n + 2.0), 16.0)
            label_size = 8 if n <= 30 else max(5, 8 - (n - 30) // 10)
            fig = Figure(figsize=(12, height), layout="constrained")
            axes = fig.subplots(1, 3, sharey=True)
            annot = n <= 20
            for ax, data, name in ((axes[0], on_means, "ON class (expressed)"),
                                   (axes[1], off_means, "OFF class (not expressed)")):
                sns.heatmap(data, ax=ax, cmap=MAP_CMAP, vmin=0, vmax=1, annot=annot, fmt=".2f",
                            annot_kws={"fontsize": 6}, cbar=ax is axes[1], yticklabels=True,
                            cbar_kws={"label": "Mean over bins (0-1)", "shrink": 0.6})
                ax.set_title(name, fontweight="bold")
            lim = max(0.05, float(np.nanmax(np.abs((on_means - off_means).to_numpy()))))
            sns.heatmap(on_means - off_means, ax=axes[2], cmap=DIFF_CMAP, vmin=-lim, vmax=lim, center=0,
                        annot=annot, fmt="+.2f", annot_kws={"fontsize": 6}, yticklabels=True,
                        cbar_kws={"label": "ON \u2212 OFF", "shrink": 0.6})
            axes[2].set_title("ON minus OFF", fontweight="bold")
            for k, ax in enumerate(axes):
                ax.set_xlabel("Histone mark")
                ax.set_ylabel("Cell type" if k == 0 else "")
                ax.tick_params(axis="x", labelrotation=45, labelsize=8)
                for t in ax.get_xticklabels():
                    t.set_ha("right")
                    t.set_rotation_mode("anchor")
                ax.tick_params(axis="y", labelsize=label_size, labelrotation=0)
            window_kb = next(iter(checked.values()))[0].shape[1] * bin_size / 1000
            fig.suptitle(f"Feature pattern maps: per-mark mean over the {window_kb:g} kb window around the TSS "
                         f"({n} cells)",
                         fontweight="bold")
        _save(fig, path)

