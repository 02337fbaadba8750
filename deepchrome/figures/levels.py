"""``target: level`` figures: predicted against measured expression level per cell, and Pearson r per model.

Levels are log2(RPKM + 1); the tables are ``results/summary/levels.tsv`` (:func:`deepchrome.summary.collect_levels`)
and each cell's ``predictions.tsv`` (columns ``split``, ``score`` = predicted level, ``level`` = measured).
"""

from __future__ import annotations

import math
import os
from typing import Mapping

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from ..stats import mean_ci
from ..spec import model_order
from .style import _n_cells, _save, _style, model_color, model_label


def plot_levels(predictions: Mapping[str, pd.DataFrame], path: str | os.PathLike, model: str = "cnn") -> None:
    """One hexbin panel per cell: ``model``'s predicted level (y) against the measured level (x) of the test genes,
    log counts of genes per hexagon, with the diagonal (perfect prediction) and the cell's Pearson r and R^2."""
    if not predictions:
        raise ValueError("no predictions given")
    n = len(predictions)
    cols = min(n, 4)
    rows = math.ceil(n / cols)
    tests = {c: p[p["split"] == "test"] for c, p in predictions.items()}
    values = np.concatenate([np.r_[t["level"], t["score"]] for t in tests.values()])
    lo, hi = float(np.nanmin(values)), float(np.nanmax(values))
    pad = 0.03 * (hi - lo or 1.0)
    lims = (lo - pad, hi + pad)
    with _style():
        fig = Figure(figsize=(3.4 * cols + 0.8, 3.3 * rows + 0.6), layout="constrained")
        axes = np.atleast_1d(fig.subplots(rows, cols, squeeze=False)).ravel()
        mappable = None
        for ax, (cell, t) in zip(axes, tests.items()):
            x, y = t["level"].to_numpy(float), t["score"].to_numpy(float)
            mappable = ax.hexbin(x, y, gridsize=35, extent=(*lims, *lims), bins="log", cmap="viridis", mincnt=1)
            ax.plot(lims, lims, color="#D55E00", lw=1.2, ls="--")
            r = np.corrcoef(x, y)[0, 1] if np.ptp(y) > 0 else math.nan
            r2 = 1 - ((x - y) ** 2).sum() / ((x - x.mean()) ** 2).sum()
            ax.set_title(f"{cell}: r {r:.3f}, R$^2$ {r2:.3f} ({len(t):,} genes)", fontsize=9)
            ax.set_xlim(lims)
            ax.set_ylim(lims)
            ax.set_aspect("equal")
            ax.set_xlabel("Measured log2(RPKM + 1)")
            ax.set_ylabel(f"Predicted ({model_label(model)})")
        for ax in axes[n:]:
            ax.set_visible(False)
        if mappable is not None:
            fig.colorbar(mappable, ax=list(axes[:n]), label="test genes per hexagon (log scale)", shrink=0.8)
        fig.suptitle(f"Predicted against measured expression level, test genes ({_n_cells(n)}; dashed: y = x)",
                     fontweight="bold")
        _save(fig, path)


def plot_r_by_model(table: pd.DataFrame, path: str | os.PathLike) -> None:
    """Test Pearson r per model: one dot per cell with its 95% bootstrap interval, and the mean over cells (black
    diamond) with its 95% t-interval; the mean is written under each model's name."""
    models = model_order(table["model"].astype(str), "level")
    if table["test_r"].isna().all():
        raise ValueError("levels table has no test r values")
    cells = table["cell"].astype(str).unique()
    rng = np.random.default_rng(0)
    with _style():
        fig = Figure(figsize=(max(5.5, 1.3 * len(models) + 2), 4.8), layout="constrained")
        ax = fig.subplots()
        for k, m in enumerate(models):
            part = table[table["model"].astype(str) == m].dropna(subset=["test_r"])
            v = part["test_r"].to_numpy(float)
            err = np.vstack([v - part["test_r_low"].to_numpy(float), part["test_r_high"].to_numpy(float) - v])
            xs = k - 0.25 + 0.3 * rng.random(len(v))
            ax.errorbar(xs, v, yerr=np.nan_to_num(err), fmt="o", ms=5, color=model_color(m), alpha=0.8,
                        elinewidth=0.9, capsize=2)
            mean, m_lo, m_hi = mean_ci(v)
            ax.errorbar([k + 0.2], [mean], yerr=np.nan_to_num([[mean - m_lo], [m_hi - mean]]), fmt="D", ms=7,
                        color="black", elinewidth=1.6, capsize=4, zorder=5)
        means = table.groupby("model")["test_r"].mean()
        ax.set_xticks(range(len(models)))
        ax.set_xticklabels([f"{model_label(m)}\nmean {means[m]:.3f}" for m in models], fontsize=8)
        ax.set_xlabel("Model")
        ax.set_ylabel("Test Pearson r (predicted vs measured log2(RPKM + 1))")
        ax.set_title(f"Expression level: test Pearson r per model ({_n_cells(len(cells))})\n(dots: one cell with "
                     "its 95% bootstrap interval; black: mean over cells with its 95% interval)", fontsize=10)
        _save(fig, path)
