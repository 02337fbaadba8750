"""AttentiveChrome's class summaries: where its attention went over the bins and marks (not what raised P(ON))."""

from __future__ import annotations

import os
from typing import Mapping, Sequence

import numpy as np
from matplotlib.figure import Figure

from .explanation import ORDER_LABELS
from .featuremaps import _draw_mark_bars
from .style import MAP_CMAP, _check_map, _kb_ticks, _save, _style, _tss_extent


def plot_attention(summary: Mapping[str, np.ndarray], marks: Sequence[str], path: str | os.PathLike, title: str,
                   *, bin_size: int, bin_order: str) -> None:
    """One cell: per class (rows ON, OFF: correctly predicted genes) the mean bin attention ``[marks, bins]`` (each
    mark's row sums to 1 over the bins; one colour scale for both rows) and the mean mark attention ``[marks]``
    (sums to 1 over the marks). ``summary`` as :func:`deepchrome.attention.cell_attention` writes it."""
    marks = [str(m) for m in marks]
    maps = {k: _check_map(summary[k], marks, f"{k} attention") for k in ("on", "off")}
    top = float(np.nanmax([np.nanmax(maps["on"]), np.nanmax(maps["off"])]))
    names = {"on": "ON: correctly predicted expressed genes", "off": "OFF: correctly predicted silent genes"}
    with _style():
        fig = Figure(figsize=(10, 2.4 + 0.75 * len(marks)), layout="constrained")
        gs = fig.add_gridspec(2, 3, width_ratios=[4.2, 0.12, 1.4])
        image = None
        for row, key in enumerate(("on", "off")):
            ax = fig.add_subplot(gs[row, 0])
            n_marks, n_bins = maps[key].shape
            image = ax.imshow(maps[key], aspect="auto", cmap=MAP_CMAP, vmin=0, vmax=top, interpolation="nearest",
                              extent=_tss_extent(n_bins, n_marks, bin_size))
            ax.axvline(0, color="white", lw=1.2, ls="--")
            ax.grid(False)
            ax.set_yticks(range(n_marks))
            ax.set_yticklabels(marks)
            _kb_ticks(ax, n_bins, bin_size)
            ax.set_xlabel(ORDER_LABELS.get(bin_order, "kb from the TSS") if row == 1 else "")
            ax.set_title(f"{names[key]} (n = {int(summary[f'n_{key}'])}): mean attention over bins", fontsize=9,
                         fontweight="bold")
            bar = fig.add_subplot(gs[row, 2], sharey=ax)
            _draw_mark_bars(bar, summary[f"mark_{key}"], marks, xlabel="Mean mark attention" if row else "",
                            top=1.0, fmt="{:.2f}")
            bar.set_title("Attention over marks", fontsize=9)
        fig.colorbar(image, cax=fig.add_subplot(gs[:, 1]), label="attention (a mark's bins sum to 1)")
        fig.suptitle(title, fontsize=11)
        _save(fig, path)
