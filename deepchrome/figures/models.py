"""Model-comparison figures: CNN against each model, AUC per model, the comparison across cells, training
curves, published AUCs.

The tables are ``results/summary/auc.tsv`` (columns ``cell``, ``model``, ``test_auc``; where present
``test_auc_low``/``test_auc_high`` draw intervals and ``p_vs_cnn`` counts verdicts; :func:`plot_published`
needs ``published_auc``) and ``results/summary/models.tsv`` (:func:`plot_model_comparison`).
"""

from __future__ import annotations

import math
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

from ..stats import mean_ci
from ..summary import ALPHA
from .style import (HIGHER_COLOR, LABEL_MAX_CELLS, LOWER_COLOR, MODEL_COLORS, _auc_axes, _auc_limits, _auc_wide,
                    _label_points, _n_cells, _ordered_models, _save, _signed, _style, model_color, model_label)


def _interval(table: pd.DataFrame, column: str) -> pd.DataFrame:
    """``column`` as cells x models (NaN where absent), cells and models in the order of :func:`_auc_wide`."""
    wide = _auc_wide(table)
    if column not in table.columns:
        return pd.DataFrame(np.nan, index=wide.index, columns=wide.columns)
    t = table.assign(cell=table["cell"].astype(str), model=table["model"].astype(str),
                     value=pd.to_numeric(table[column], errors="coerce"))
    return t.pivot_table(index="cell", columns="model", values="value", aggfunc="first",
                         dropna=False).reindex(index=wide.index, columns=wide.columns)


def _verdicts(table: pd.DataFrame, base: str) -> tuple[int, int, int] | None:
    """Cells where DeLong's test finds the CNN better / not different / worse than ``base`` at p < ALPHA."""
    if "p_vs_cnn" not in table.columns:
        return None
    wide, p = _auc_wide(table), _interval(table, "p_vs_cnn")
    pair = pd.DataFrame({"diff": wide["cnn"] - wide[base], "p": p[base]}).dropna()
    sig = pair["p"] < ALPHA
    return int((sig & (pair["diff"] > 0)).sum()), int((~sig).sum()), int((sig & (pair["diff"] < 0)).sum())


def plot_cnn_vs_baselines(table: pd.DataFrame, path: str | os.PathLike) -> None:
    """Per-cell test AUC, each other model (x) against the CNN (y), one panel per model, with the diagonal,
    95% bootstrap intervals as crosses and the count of cells where the CNN is better / not different /
    worse by DeLong's test at p < 0.05."""
    wide = _auc_wide(table)
    if "cnn" not in wide.columns:
        raise ValueError("metrics table has no cnn rows")
    baselines = [m for m in wide.columns if m != "cnn"]
    if not baselines:
        raise ValueError("metrics table has no baseline rows (gbm, svm, rf, logreg, promoter)")
    low, high = _interval(table, "test_auc_low"), _interval(table, "test_auc_high")
    lo, hi = _auc_limits(np.r_[wide.to_numpy().ravel(), low.to_numpy().ravel(), high.to_numpy().ravel()])
    n_cells = len(wide)
    ncols = min(3, len(baselines))
    nrows = math.ceil(len(baselines) / ncols)
    with _style():
        fig = Figure(figsize=(4.3 * ncols, 4.9 * nrows), layout="constrained")
        axes = np.atleast_1d(fig.subplots(nrows, ncols, sharex=True, sharey=True, squeeze=False)).ravel()
        for ax in axes[len(baselines):]:
            ax.set_visible(False)
        for ax, base in zip(axes, baselines):
            pair = wide[[base, "cnn"]].dropna()
            ax.fill_between([lo, hi], [lo, hi], hi, color=MODEL_COLORS["cnn"], alpha=0.06, lw=0)
            ax.plot([lo, hi], [lo, hi], ls="--", color="#777777", lw=1, zorder=1)
            ax.text(lo + 0.03 * (hi - lo), hi - 0.03 * (hi - lo), "CNN better", ha="left", va="top",
                    fontsize=8, color=MODEL_COLORS["cnn"])
            ax.text(hi - 0.03 * (hi - lo), lo + 0.03 * (hi - lo), f"{model_label(base)} better", ha="right",
                    va="bottom", fontsize=8, color=model_color(base))
            x, y = pair[base].to_numpy(), pair["cnn"].to_numpy()
            xerr = np.vstack([x - low[base].reindex(pair.index), high[base].reindex(pair.index) - x])
            yerr = np.vstack([y - low["cnn"].reindex(pair.index), high["cnn"].reindex(pair.index) - y])
            if np.isfinite(xerr).any() or np.isfinite(yerr).any():
                ax.errorbar(x, y, xerr=np.nan_to_num(xerr), yerr=np.nan_to_num(yerr), fmt="none",
                            ecolor=model_color(base), elinewidth=0.8 if n_cells <= LABEL_MAX_CELLS else 0.5,
                            alpha=0.6 if n_cells <= LABEL_MAX_CELLS else 0.3, zorder=2)
            ax.scatter(x, y, s=45 if n_cells <= LABEL_MAX_CELLS else 24,
                       color=model_color(base), edgecolor="white", linewidth=0.6, zorder=3)
            if n_cells <= LABEL_MAX_CELLS:
                _label_points(ax, x, y, list(pair.index), (lo, hi), 3.6)
            _auc_axes(ax, lo, hi)
            ax.set_xlabel(f"{model_label(base)} test AUC")
            ax.set_ylabel("CNN test AUC")
            ax.yaxis.set_tick_params(labelleft=True)
            ax.xaxis.set_tick_params(labelbottom=True)
            verdict = _verdicts(table, base)
            counts = (f"CNN better / not different / worse\n(DeLong p < {ALPHA}): {verdict[0]} / {verdict[1]} / "
                      f"{verdict[2]}" if verdict else f"CNN higher in {int((pair['cnn'] > pair[base]).sum())} of "
                      f"{_n_cells(len(pair))}")
            ax.set_title(f"CNN vs {model_label(base)}\n{counts}", fontsize=9)
        fig.suptitle(f"Per-cell test ROC AUC with 95% bootstrap intervals: CNN against each model "
                     f"({_n_cells(n_cells)})", fontweight="bold")
        _save(fig, path)


def plot_auc_by_model(table: pd.DataFrame, path: str | os.PathLike) -> None:
    """Test AUC per cell and model as dots with their 95% bootstrap intervals (a dot plot: the axis shows
    the range of the values and intervals, not a bar from zero). Up to 15 cells: cells on x, one dot per
    model; more: models on x, one faint dot per cell and the mean over cells with its 95% interval."""
    wide = _auc_wide(table)
    models = list(wide.columns)
    if wide.isna().all().all():
        raise ValueError("metrics table has no test AUC values")
    low, high = _interval(table, "test_auc_low"), _interval(table, "test_auc_high")
    lo, hi = _auc_limits(np.r_[wide.to_numpy().ravel(), low.to_numpy().ravel(), high.to_numpy().ravel()])
    cells = list(wide.index)
    with _style():
        if len(cells) <= LABEL_MAX_CELLS:
            fig = Figure(figsize=(max(5.5, 1.3 * len(cells) * max(1, len(models) / 4) + 2.5), 4.8),
                         layout="constrained")
            ax = fig.subplots()
            width = 0.8 / len(models)
            for k, m in enumerate(models):
                xs = np.arange(len(cells)) - 0.4 + width * (k + 0.5)
                v = wide[m].to_numpy()
                err = np.vstack([v - low[m].to_numpy(), high[m].to_numpy() - v])
                ax.errorbar(xs, v, yerr=np.nan_to_num(err), fmt="o", ms=6, color=model_color(m), mec="white",
                            mew=0.6, elinewidth=1.2, capsize=2.5, label=model_label(m))
                if len(cells) <= 4:
                    for x_, v_ in zip(xs, v):
                        ax.annotate(f"{v_:.3f}", (x_, v_), xytext=(3, 0), textcoords="offset points",
                                    fontsize=6.5, rotation=90, va="bottom", ha="left", color="#333333")
            ax.set_xticks(range(len(cells)))
            ax.set_xticklabels(cells)
            ax.set_xlim(-0.6, len(cells) - 0.4)
            ax.set_xlabel("Cell type")
            ax.legend(title="Model (dot: test AUC; whiskers: 95% bootstrap interval)", ncol=min(len(models), 3),
                      loc="upper center", bbox_to_anchor=(0.5, -0.14), frameon=False, fontsize=8)
            ax.set_title(f"Test ROC AUC per model ({_n_cells(len(cells))})")
        else:
            fig = Figure(figsize=(max(5.5, 1.3 * len(models) + 2), 5.2), layout="constrained")
            ax = fig.subplots()
            rng = np.random.default_rng(0)
            alpha = 0.5 if len(cells) <= 30 else 0.3
            for k, m in enumerate(models):
                v = wide[m].dropna()
                xs = k - 0.25 + 0.3 * rng.random(len(v))
                err = np.vstack([v - low[m].reindex(v.index), high[m].reindex(v.index) - v])
                ax.errorbar(xs, v, yerr=np.nan_to_num(err), fmt="o", ms=3, color=model_color(m), alpha=alpha,
                            elinewidth=0.5)
                mean, m_lo, m_hi = mean_ci(v.to_numpy(), bounds=(0.0, 1.0))
                ax.errorbar([k + 0.2], [mean], yerr=np.nan_to_num([[mean - m_lo], [m_hi - mean]]), fmt="D", ms=7,
                            color="black", elinewidth=1.6, capsize=4, zorder=5)
            ax.set_xticks(range(len(models)))
            ax.set_xticklabels([f"{model_label(m)}\nmean {wide[m].mean():.3f}" for m in models])
            ax.set_xlabel("Model")
            ax.set_title(f"Test ROC AUC per model across {len(cells)} cells\n(faint: one cell with its 95% "
                         "bootstrap interval; black: mean over cells with its 95% interval, none below 3 cells)")
        ax.set_ylim(lo, hi)
        ax.set_ylabel("Test ROC AUC")
        if lo < 0.5 < hi:
            ax.axhline(0.5, color="#555555", lw=0.8, ls=":")
        _save(fig, path)


def plot_model_comparison(models: pd.DataFrame, path: str | os.PathLike) -> None:
    """Across cells (``models`` is :func:`deepchrome.summary.compare_models`' table): each model's mean test AUC
    with its 95% interval over cells (left), and per model the number of cells where DeLong's test finds the
    CNN better, not different or worse at p < 0.05, with the Wilcoxon p over cells (right)."""
    for col in ("model", "mean_test_auc", "mean_low", "mean_high", "cnn_better", "not_different", "cnn_worse"):
        if col not in models.columns:
            raise ValueError(f"models table lacks column {col!r}")
    if models.empty:
        raise ValueError("models table is empty")
    order = _ordered_models(models["model"])
    t = models.assign(model=models["model"].astype(str)).set_index("model").reindex(order)
    n_cells = int(pd.to_numeric(t["n_cells"], errors="coerce").max()) if "n_cells" in t else 0
    lo, hi = _auc_limits(np.r_[t["mean_test_auc"], t["mean_low"], t["mean_high"]].astype(float))
    others = [m for m in order if m != "cnn"]
    with _style():
        fig = Figure(figsize=(11, max(3.2, 0.55 * len(order) + 1.6)), layout="constrained")
        ax_m, ax_c = fig.subplots(1, 2)
        ys = np.arange(len(order))
        for y, m in zip(ys, order):
            mean, m_lo, m_hi = (float(t.loc[m, c]) for c in ("mean_test_auc", "mean_low", "mean_high"))
            ax_m.errorbar([mean], [y], xerr=np.nan_to_num([[mean - m_lo], [m_hi - mean]]), fmt="o", ms=7,
                          color=model_color(m), elinewidth=1.6, capsize=4)
            ax_m.annotate(f"{mean:.3f}", (mean, y), xytext=(0, 7), textcoords="offset points", ha="center",
                          fontsize=7.5)
        ax_m.set_yticks(ys)
        ax_m.set_yticklabels([model_label(m) for m in order])
        ax_m.set_ylim(len(order) - 0.5, -0.7)
        ax_m.set_xlim(lo, hi)
        ax_m.set_xlabel("Mean test ROC AUC over cells (95% t-interval; none below 3 cells)")
        ax_m.set_title(f"Mean test AUC per model ({_n_cells(n_cells)})")
        segments = (("cnn_better", "CNN better", MODEL_COLORS["cnn"]), ("not_different", "not different", "#BBBBBB"),
                    ("cnn_worse", "CNN worse", "#0072B2"))
        yc = np.arange(len(others))
        left = np.zeros(len(others))
        for col, label, color in segments:
            v = pd.to_numeric(t.loc[others, col], errors="coerce").fillna(0).to_numpy(dtype=float)
            ax_c.barh(yc, v, left=left, color=color, label=label, height=0.6, edgecolor="white")
            for y, l_, v_ in zip(yc, left, v):
                if v_ > 0:
                    ax_c.text(l_ + v_ / 2, y, f"{int(v_)}", ha="center", va="center", fontsize=8)
            left += v
        if "wilcoxon_p" in t.columns:
            for y, m in zip(yc, others):
                p = t.loc[m, "wilcoxon_p"]
                ax_c.annotate("Wilcoxon p " + ("n/a" if pd.isna(p) else f"{float(p):.2g}"), (left[y], y),
                              xytext=(4, 0), textcoords="offset points", va="center", fontsize=7.5)
        ax_c.set_yticks(yc)
        ax_c.set_yticklabels([f"CNN vs {model_label(m)}" for m in others])
        ax_c.set_ylim(len(others) - 0.5, -0.7)
        ax_c.set_xlim(0, max(1.0, float(left.max()) * 1.45))
        ax_c.xaxis.set_major_locator(mticker.MaxNLocator(integer=True))
        ax_c.set_xlabel("Cells")
        ax_c.set_title(f"Per cell: DeLong's test at p < {ALPHA}")
        ax_c.legend(loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=3, fontsize=8, frameon=False)
        fig.suptitle("CNN against every model", fontweight="bold")
        _save(fig, path)


# ---------------------------------------------------------------- training

def plot_training_curves(histories: Mapping[str, pd.DataFrame], path: str | os.PathLike, metric: str = "valid_auc",
                         metric_label: str = "Validation ROC AUC", metric_title: str = "validation AUC",
                         loss_label: str = "Training loss\n(cross-entropy, nats)") -> None:
    """Validation AUC (top; ``metric``: another column of the history, e.g. ``valid_r`` of ``target: level``,
    named ``metric_label`` on the axis and ``metric_title`` in the title) and training loss (bottom, named
    ``loss_label``) per epoch, one line per cell and seed (a ``seed`` column of the history), each seed's kept
    epoch starred (its ``kept`` column; else its best ``metric``)."""
    if not histories:
        raise ValueError("no training histories given")
    for cell, h in histories.items():
        for col in ("epoch", metric):
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
        for (cell, cell_h), color in zip(histories.items(), colors):
            seeds = cell_h.groupby("seed") if "seed" in cell_h.columns else [(None, cell_h)]
            for k, (_, h) in enumerate(seeds):  # one line per seed of the cell's ensemble
                h = h.sort_values("epoch")
                line, = ax_auc.plot(h["epoch"], h[metric], color=color, lw=lw, alpha=alpha, label=str(cell))
                if k == 0:
                    handles.append(line)
                if h[metric].notna().any():  # the kept epoch (histories without the column: the best valid value)
                    best = h.loc[h["kept"].idxmax() if "kept" in h.columns and h["kept"].any() else h[metric].idxmax()]
                    ax_auc.plot(best["epoch"], best[metric], marker="*", ms=11 if not many else 7,
                                color=color, mec="black", mew=0.6, zorder=5, ls="none")
                    if ax_loss is not None and "loss" in h.columns and pd.notna(best.get("loss")):
                        ax_loss.plot(best["epoch"], best["loss"], marker="*", ms=11 if not many else 7, color=color,
                                     mec="black", mew=0.6, zorder=5, ls="none")
                if ax_loss is not None and "loss" in h.columns:
                    ax_loss.plot(h["epoch"], h["loss"], color=color, lw=lw, alpha=alpha)
        star = Line2D([], [], marker="*", ms=10, color="#BBBBBB", mec="black", mew=0.6, ls="none",
                      label="kept epoch (one line and star per seed)")
        if many:
            allh = pd.concat([h.assign(_cell=c) for c, h in histories.items()])
            med = allh.groupby("epoch")[[c for c in (metric, "loss") if c in allh.columns]].median()
            ax_auc.plot(med.index, med[metric], color="black", lw=2.2, label="median across cells")
            if ax_loss is not None and "loss" in med.columns:
                ax_loss.plot(med.index, med["loss"], color="black", lw=2.2)
            legend_handles = [Line2D([], [], color=colors[n // 2], lw=1, label=f"one line per cell ({n})"),
                              Line2D([], [], color="black", lw=2.2, label="median across cells"), star]
            ax_auc.legend(handles=legend_handles, loc="lower right", fontsize=8, framealpha=0.9)
        else:
            fig.legend(handles=handles + [star], title="Cell", loc="outside right upper", fontsize=8,
                       frameon=False)
        ax_auc.set_ylabel(metric_label)
        ax_auc.set_title(f"CNN training: {metric_title}{' and training loss' if has_loss else ''} per epoch "
                         f"({n} cell{'s' if n > 1 else ''})")
        if ax_loss is not None:
            ax_loss.set_ylabel(loss_label)
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
