"""Model-comparison figures: CNN against each baseline, AUC per model, training curves, published AUCs.

The tables are the ones :func:`deepchrome.summary.collect_metrics` returns (columns ``cell``, ``model``,
``test_auc`` and, for :func:`plot_published`, ``published_auc``).
"""

from __future__ import annotations

import os
from typing import Mapping

import matplotlib
import matplotlib.ticker as mticker
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from .style import (HIGHER_COLOR, LABEL_MAX_CELLS, LOWER_COLOR, _auc_axes, _auc_limits, _auc_wide, _label_points,
                    _n_cells, _save, _signed, _style, model_color, model_label,
                    MODEL_COLORS)


def plot_cnn_vs_baselines(table: pd.DataFrame, path: str | os.PathLike) -> None:
    """Per-cell test AUC, baseline (x) against CNN (y), one panel per baseline, with the diagonal."""
    wide = _auc_wide(table)
    if "cnn" not in wide.columns:
        raise ValueError("metrics table has no cnn rows")
    baselines = [m for m in wide.columns if m != "cnn"]
    if not baselines:
        raise ValueError("metrics table has no baseline rows (svm, rf, logreg)")
    lo, hi = _auc_limits(wide.to_numpy().ravel())
    n_cells = len(wide)
    with _style():
        fig = Figure(figsize=(4.3 * len(baselines), 4.9), layout="constrained")
        axes = np.atleast_1d(fig.subplots(1, len(baselines), sharex=True, sharey=True))
        for ax, base in zip(axes, baselines):
            pair = wide[[base, "cnn"]].dropna()
            above = int((pair["cnn"] > pair[base]).sum())
            ax.fill_between([lo, hi], [lo, hi], hi, color=MODEL_COLORS["cnn"], alpha=0.06, lw=0)
            ax.plot([lo, hi], [lo, hi], ls="--", color="#777777", lw=1, zorder=1)
            ax.text(lo + 0.03 * (hi - lo), hi - 0.03 * (hi - lo), "CNN better", ha="left", va="top",
                    fontsize=8, color=MODEL_COLORS["cnn"])
            ax.text(hi - 0.03 * (hi - lo), lo + 0.03 * (hi - lo), f"{model_label(base)} better", ha="right",
                    va="bottom", fontsize=8, color=model_color(base))
            ax.scatter(pair[base], pair["cnn"], s=45 if n_cells <= LABEL_MAX_CELLS else 24,
                       color=model_color(base), edgecolor="white", linewidth=0.6, zorder=3)
            if n_cells <= LABEL_MAX_CELLS:
                _label_points(ax, pair[base].to_numpy(), pair["cnn"].to_numpy(), list(pair.index), (lo, hi), 3.6)
            _auc_axes(ax, lo, hi)
            ax.set_xlabel(f"{model_label(base)} test AUC")
            ax.set_ylabel("CNN test AUC")
            ax.yaxis.set_tick_params(labelleft=True)
            ax.set_title(f"CNN vs {model_label(base)}\nCNN higher in {above} of {_n_cells(len(pair))}")
        fig.suptitle(f"Per-cell test ROC AUC: CNN against each baseline ({_n_cells(n_cells)})", fontweight="bold")
        _save(fig, path)


def plot_auc_by_model(table: pd.DataFrame, path: str | os.PathLike) -> None:
    """Test AUC per model across cells: grouped bars for <= 4 cells, else boxes with one point per cell."""
    wide = _auc_wide(table)
    models = list(wide.columns)
    long = wide.reset_index(names="cell").melt(id_vars="cell", var_name="model", value_name="test_auc")
    long = long.dropna(subset=["test_auc"])
    if long.empty:
        raise ValueError("metrics table has no test AUC values")
    cells = list(wide.index)
    palette = {m: model_color(m) for m in models}
    lo, hi = _auc_limits(long["test_auc"])
    with _style():
        if len(cells) <= 4:
            fig = Figure(figsize=(max(5.5, 1.9 * len(cells) + 2.5), 4.6), layout="constrained")
            ax = fig.subplots()
            sns.barplot(data=long, x="cell", y="test_auc", hue="model", order=cells, hue_order=models,
                        palette=palette, ax=ax, edgecolor="white", linewidth=0.6)
            for container in ax.containers:
                ax.bar_label(container, fmt="%.3f", fontsize=7, padding=2, rotation=90 if len(models) > 3
                             and len(cells) > 2 else 0)
            ax.set_ylim(max(0.0, lo - 0.05), min(1.0, hi) + 0.06)
            ax.set_xlabel("Cell type")
            handles, labels = ax.get_legend_handles_labels()
            ax.legend(handles, [model_label(m) for m in labels], title="Model", ncol=len(models),
                      loc="upper center", bbox_to_anchor=(0.5, -0.14), frameon=False)
            ax.set_title(f"Test ROC AUC per model ({len(cells)} cell{'s' if len(cells) > 1 else ''})")
        else:
            fig = Figure(figsize=(max(5.5, 1.5 * len(models) + 2), 5.2), layout="constrained")
            ax = fig.subplots()
            xs = {m: i for i, m in enumerate(models)}
            alpha = 0.5 if len(cells) <= 15 else 0.22
            for _, row in wide.iterrows():
                ok = row.dropna()
                ax.plot([xs[m] for m in ok.index], ok.values, color="#999999", lw=0.7, alpha=alpha, zorder=1)
            sns.boxplot(data=long, x="model", y="test_auc", hue="model", order=models, hue_order=models,
                        palette=palette, width=0.45, showfliers=False, ax=ax, legend=False,
                        boxprops={"alpha": 0.35}, zorder=2)
            for m in models:
                v = wide[m].dropna()
                ax.scatter(np.full(len(v), xs[m]), v, s=18, color=model_color(m), edgecolor="white",
                           linewidth=0.4, zorder=3)
            ax.set_xticks(range(len(models)))
            ax.set_xticklabels([f"{model_label(m)}\nmean {wide[m].mean():.3f}" for m in models])
            ax.set_ylim(lo, hi)
            ax.set_xlabel("Model")
            ax.set_title(f"Test ROC AUC per model across {len(cells)} cells\n"
                         "(one point per cell; grey lines join the same cell)")
        ax.set_ylabel("Test ROC AUC")
        if ax.get_ylim()[0] < 0.5 < ax.get_ylim()[1]:
            ax.axhline(0.5, color="#555555", lw=0.8, ls=":")
            ax.text(ax.get_xlim()[1], 0.5, " chance", va="center", ha="left", fontsize=7, color="#555555")
        _save(fig, path)


# ---------------------------------------------------------------- training

def plot_training_curves(histories: Mapping[str, pd.DataFrame], path: str | os.PathLike) -> None:
    """Validation AUC (top) and training loss (bottom) per epoch, one line per cell, best epoch starred."""
    if not histories:
        raise ValueError("no training histories given")
    for cell, h in histories.items():
        for col in ("epoch", "valid_auc"):
            if col not in h.columns:
                raise ValueError(f"history of {cell} lacks column {col!r}")
    has_loss = any("loss" in h.columns and h["loss"].notna().any() for h in histories.values())
    n = len(histories)
    many = n > 10
    if many:
        cmap = matplotlib.colormaps["viridis"]
        colors = [cmap(i / max(n - 1, 1)) for i in range(n)]
    else:
        colors = sns.color_palette("colorblind", n)
    lw, alpha = (0.8, 0.45) if many else (1.6, 0.95)
    with _style():
        fig = Figure(figsize=(8.5, 6.6 if has_loss else 4.2), layout="constrained")
        axes = np.atleast_1d(fig.subplots(2 if has_loss else 1, 1, sharex=True))
        ax_auc = axes[0]
        ax_loss = axes[1] if has_loss else None
        handles = []
        for (cell, h), color in zip(histories.items(), colors):
            h = h.sort_values("epoch")
            line, = ax_auc.plot(h["epoch"], h["valid_auc"], color=color, lw=lw, alpha=alpha, label=str(cell))
            handles.append(line)
            if h["valid_auc"].notna().any():
                best = h.loc[h["valid_auc"].idxmax()]
                ax_auc.plot(best["epoch"], best["valid_auc"], marker="*", ms=11 if not many else 7, color=color,
                            mec="black", mew=0.6, zorder=5, ls="none")
                if ax_loss is not None and "loss" in h.columns and pd.notna(best.get("loss")):
                    ax_loss.plot(best["epoch"], best["loss"], marker="*", ms=11 if not many else 7, color=color,
                                 mec="black", mew=0.6, zorder=5, ls="none")
            if ax_loss is not None and "loss" in h.columns:
                ax_loss.plot(h["epoch"], h["loss"], color=color, lw=lw, alpha=alpha)
        star = Line2D([], [], marker="*", ms=10, color="#BBBBBB", mec="black", mew=0.6, ls="none",
                      label="best validation epoch")
        if many:
            allh = pd.concat([h.assign(_cell=c) for c, h in histories.items()])
            med = allh.groupby("epoch").median(numeric_only=True)
            ax_auc.plot(med.index, med["valid_auc"], color="black", lw=2.2, label="median across cells")
            if ax_loss is not None and "loss" in med.columns:
                ax_loss.plot(med.index, med["loss"], color="black", lw=2.2)
            legend_handles = [Line2D([], [], color=colors[n // 2], lw=1, label=f"one line per cell ({n})"),
                              Line2D([], [], color="black", lw=2.2, label="median across cells"), star]
            ax_auc.legend(handles=legend_handles, loc="lower right", fontsize=8, framealpha=0.9)
        else:
            fig.legend(handles=handles + [star], title="Cell", loc="outside right upper", fontsize=8,
                       frameon=False)
        ax_auc.set_ylabel("Validation ROC AUC")
        ax_auc.set_title(f"CNN training: validation AUC{' and training loss' if has_loss else ''} per epoch "
                         f"({n} cell{'s' if n > 1 else ''})")
        if ax_loss is not None:
            ax_loss.set_ylabel("Training loss\n(cross-entropy, nats)")
        axes[-1].set_xlabel("Epoch")
        axes[-1].xaxis.set_major_locator(mticker.MaxNLocator(integer=True))
        _save(fig, path)



# ---------------------------------------------------------------- published numbers

def plot_published(table: pd.DataFrame, path: str | os.PathLike) -> None:
    """Reproduced CNN test AUC against the published DeepChrome AUC: scatter and sorted per-cell differences."""
    if "published_auc" not in table.columns:
        raise ValueError("metrics table has no published_auc column")
    cnn = table[table["model"].astype(str) == "cnn"]
    pair = pd.DataFrame({
        "cell": cnn["cell"].astype(str).to_numpy(),
        "reproduced": pd.to_numeric(cnn["test_auc"], errors="coerce").to_numpy(),
        "published": pd.to_numeric(cnn["published_auc"], errors="coerce").to_numpy(),
    }).dropna().drop_duplicates("cell")
    if pair.empty:
        raise ValueError("no cell has both a CNN test AUC and a published AUC")
    pair["diff"] = pair["reproduced"] - pair["published"]
    n = len(pair)
    higher = int((pair["diff"] > 0).sum())
    colors = np.where(pair["diff"] >= 0, HIGHER_COLOR, LOWER_COLOR)
    lo, hi = _auc_limits(np.r_[pair["reproduced"], pair["published"]])
    height = max(5.0, min(0.17 * n + 1.8, 14.0))
    with _style():
        fig = Figure(figsize=(12, height), layout="constrained")
        ax_sc, ax_d = fig.subplots(1, 2, width_ratios=[1, 1])
        ax_sc.plot([lo, hi], [lo, hi], ls="--", color="#777777", lw=1, zorder=1)
        ax_sc.scatter(pair["published"], pair["reproduced"], c=list(colors), s=45 if n <= LABEL_MAX_CELLS else 24,
                      edgecolor="white", linewidth=0.6, zorder=3)
        if n <= LABEL_MAX_CELLS:
            _label_points(ax_sc, pair["published"].to_numpy(), pair["reproduced"].to_numpy(), list(pair["cell"]),
                          (lo, hi), 4.8)
        _auc_axes(ax_sc, lo, hi)
        ax_sc.set_anchor("N")
        ax_sc.set_xlabel("Published DeepChrome test AUC")
        ax_sc.set_ylabel("Reproduced CNN test AUC")
        stats = f"mean difference {_signed(pair['diff'].mean())}"
        if n >= 3 and pair["published"].std() > 0 and pair["reproduced"].std() > 0:
            r = np.corrcoef(pair["published"], pair["reproduced"])[0, 1]
            stats += f", Pearson r = {r:.2f}".replace("-", "\u2212")
        ax_sc.set_title(f"Reproduced vs published ({n} cell{'s' if n > 1 else ''})\n{stats}")

        srt = pair.sort_values("diff", ascending=False).reset_index(drop=True)
        ypos = np.arange(len(srt))
        ax_d.axvspan(-0.005, 0.005, color="#CCCCCC", alpha=0.5, lw=0, zorder=0)
        ax_d.barh(ypos, srt["diff"], color=np.where(srt["diff"] >= 0, HIGHER_COLOR, LOWER_COLOR),
                  height=0.7 if n > 5 else 0.4, zorder=2)
        ax_d.axvline(0, color="black", lw=0.9, zorder=3)
        ax_d.set_yticks(ypos)
        ax_d.set_yticklabels(srt["cell"], fontsize=8 if n <= 30 else 6.5)
        ax_d.set_ylim(len(srt) - 0.5, -0.5)
        ax_d.grid(axis="y", visible=False)
        span = max(0.02, float(srt["diff"].abs().max()) * 1.15)
        ax_d.set_xlim(-span, span)
        ax_d.set_xlabel("Reproduced \u2212 published test AUC")
        ax_d.set_ylabel("Cell type")
        ax_d.set_title(f"Per-cell difference, mean {_signed(pair['diff'].mean())}\n"
                       f"reproduced higher in {higher} of {_n_cells(n)}")
        fig.legend(handles=[Patch(color=HIGHER_COLOR, label="reproduced higher"),
                             Patch(color=LOWER_COLOR, label="reproduced lower"),
                             Patch(color="#CCCCCC", label="within rounding (±0.005)")],
                   loc="outside lower center", ncol=3, fontsize=8, frameon=False)
        fig.suptitle("CNN test AUC: this reproduction against Singh et al. 2016", fontweight="bold")
        _save(fig, path)
