"""Figures of the summary step: model comparison, training curves and feature pattern maps.

Every function draws one figure and writes one PNG atomically (see :func:`deepchrome.io.atomic_path`).
Colours are colour-blind safe and fixed per model (:data:`MODEL_COLORS`, Okabe-Ito) and per mark
(:data:`MARK_COLORS`, Paul Tol "bright") across all figures. The tables given to the comparison plots are
the ones :func:`deepchrome.summary.collect_metrics` returns (columns ``cell``, ``model``, ``test_auc`` and,
for :func:`plot_published`, ``published_auc``). Feature maps are float ``[marks, bins]`` arrays in [0, 1]
with bins of :data:`deepchrome.BIN_SIZE` bp centred on the TSS.
"""

from __future__ import annotations

import contextlib
import math
import os
import warnings
from typing import Iterator, Mapping, Sequence

import matplotlib

matplotlib.use("Agg")  # no screen: never pick an interactive backend
import matplotlib.ticker as mticker  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402

from . import BIN_SIZE  # noqa: E402
from .io import atomic_path  # noqa: E402
from .summary import MODELS  # noqa: E402

DPI = 150
LABEL_MAX_CELLS = 15  # label points with cell ids up to this many cells
FULL_MAPS_MAX_CELLS = 10  # above this, the grid shows per-mark means instead of full maps

# Okabe & Ito (2008) colour-blind-safe palette.
MODEL_COLORS = {"cnn": "#D55E00", "svm": "#0072B2", "rf": "#009E73", "logreg": "#CC79A7"}
MODEL_LABELS = {"cnn": "CNN", "svm": "SVM", "rf": "Random forest", "logreg": "Logistic regression"}
_EXTRA_MODEL_COLORS = ["#56B4E9", "#E69F00", "#000000", "#F0E442"]

# Paul Tol's "bright" scheme (colour-blind safe); active marks warm, repressive marks cool.
MARK_COLORS = {"H3K4me3": "#EE6677", "H3K4me1": "#CCBB44", "H3K36me3": "#228833",
               "H3K9me3": "#AA3377", "H3K27me3": "#4477AA"}
_EXTRA_MARK_COLORS = ["#66CCEE", "#BBBBBB", "#000000", "#EE7733"]

# Sign of a difference (reproduced - published): Okabe-Ito blue / orange.
HIGHER_COLOR, LOWER_COLOR = "#0072B2", "#E69F00"
MAP_CMAP = "viridis"
DIFF_CMAP = "RdBu_r"


# ---------------------------------------------------------------- helpers

def model_color(model: str) -> str:
    """The fixed colour of ``model`` (unknown models get a stable extra colour)."""
    if model in MODEL_COLORS:
        return MODEL_COLORS[model]
    return _EXTRA_MODEL_COLORS[sum(map(ord, model)) % len(_EXTRA_MODEL_COLORS)]


def model_label(model: str) -> str:
    return MODEL_LABELS.get(model, model)


def mark_colors(marks: Sequence[str]) -> list[str]:
    """Colours of ``marks``, fixed for the five core marks, stable extras for others."""
    out, extra = [], iter(_EXTRA_MARK_COLORS * (1 + len(marks)))
    for m in marks:
        out.append(MARK_COLORS.get(m) or next(extra))
    return out


@contextlib.contextmanager
def _style() -> Iterator[None]:
    with sns.axes_style("whitegrid"), sns.plotting_context("notebook", font_scale=0.85), \
            warnings.catch_warnings():
        # seaborn 0.13 passes boxplot(vert=...), which matplotlib 3.10 flags as pending deprecation
        warnings.filterwarnings("ignore", category=PendingDeprecationWarning, module="seaborn")
        yield


def _save(fig: Figure, path: str | os.PathLike) -> None:
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=DPI, bbox_inches="tight", facecolor="white")


def _ordered_models(models: Sequence[str]) -> list[str]:
    present = list(dict.fromkeys(str(m) for m in models))
    return [m for m in MODELS if m in present] + sorted(m for m in present if m not in MODELS)


def _auc_wide(table: pd.DataFrame) -> pd.DataFrame:
    """Test AUC as cells x models, cells in table order."""
    for col in ("cell", "model", "test_auc"):
        if col not in table.columns:
            raise ValueError(f"metrics table lacks column {col!r}")
    if table.empty:
        raise ValueError("metrics table is empty")
    t = table.assign(cell=table["cell"].astype(str), model=table["model"].astype(str),
                     test_auc=pd.to_numeric(table["test_auc"], errors="coerce"))
    wide = t.pivot_table(index="cell", columns="model", values="test_auc", aggfunc="mean", dropna=False)
    return wide.reindex(index=pd.unique(t["cell"]), columns=_ordered_models(t["model"]))


def _auc_limits(values) -> tuple[float, float]:
    """Square axis limits for AUCs: padded, rounded to 0.05, inside [0, 1], at least 0.1 wide."""
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    if v.size == 0:
        return 0.5, 1.0
    lo = math.floor((v.min() - 0.02) * 20) / 20
    hi = math.ceil((v.max() + 0.02) * 20) / 20
    if hi - lo < 0.1:
        mid = (hi + lo) / 2
        lo, hi = mid - 0.05, mid + 0.05
    lo, hi = max(0.0, lo), min(1.0, hi)
    if hi - lo < 0.1:
        lo, hi = (hi - 0.1, hi) if hi >= 1.0 else (lo, lo + 0.1)
    return lo, hi


def _label_points(ax, xs, ys, labels, lims: tuple[float, float], ax_inches: float, fontsize=7) -> None:
    """Label points with greedy placement: each label takes the first of eight spots around its point
    that does not overlap a label already placed (sizes estimated in points on a square axis)."""
    lo, hi = lims
    scale = ax_inches * 72 / (hi - lo)  # points per data unit
    char_w, text_h = 0.6 * fontsize, 1.2 * fontsize
    spots = [(4, 2), (4, -2 - text_h), (-4, 2), (-4, -2 - text_h), (4, 10), (4, -10 - text_h),
             (-4, 10), (-4, -10 - text_h)]
    placed: list[tuple[float, float, float, float]] = []
    points = [((x - lo) * scale, (y - lo) * scale) for x, y in zip(xs, ys)]
    order = sorted(range(len(points)), key=lambda i: (-points[i][1], points[i][0]))
    for i in order:
        px, py = points[i]
        lab = str(labels[i])
        w = char_w * len(lab)
        best = None
        for dx, dy in spots:
            x0 = px + dx if dx > 0 else px + dx - w
            box = (x0, py + dy, x0 + w, py + dy + text_h)
            hits = sum(1 for b in placed if box[0] < b[2] and b[0] < box[2] and box[1] < b[3] and b[1] < box[3])
            hits += sum(1 for qx, qy in points if box[0] - 2 < qx < box[2] + 2 and box[1] - 2 < qy < box[3] + 2)
            if best is None or hits < best[0]:
                best = (hits, dx, dy, box)
            if hits == 0:
                break
        _, dx, dy, box = best
        placed.append(box)
        ax.annotate(lab, (points[i][0] / scale + lo, points[i][1] / scale + lo), xytext=(dx, dy),
                    textcoords="offset points", fontsize=fontsize, color="#333333",
                    ha="left" if dx > 0 else "right", va="bottom", annotation_clip=True)


def _n_cells(n: int) -> str:
    return f"{n} cell{'' if n == 1 else 's'}"


def _auc_axes(ax, lo: float, hi: float) -> None:
    ax.set_xlim(lo, hi)
    ax.set_ylim(lo, hi)
    ax.set_aspect("equal", adjustable="box")
    step = 0.05 if hi - lo <= 0.35 else 0.1
    ax.xaxis.set_major_locator(mticker.MultipleLocator(step))
    ax.yaxis.set_major_locator(mticker.MultipleLocator(step))
    ax.xaxis.set_major_formatter(mticker.FormatStrFormatter("%.2f"))
    ax.yaxis.set_major_formatter(mticker.FormatStrFormatter("%.2f"))


def _signed(v: float, digits: int = 3) -> str:
    """``v`` with its sign, using a true minus sign as the axes do."""
    return f"{v:+.{digits}f}".replace("-", "\u2212")


def _check_map(arr, marks: Sequence[str], what: str) -> np.ndarray:
    a = np.asarray(arr, dtype=float)
    if a.ndim != 2 or a.shape[0] != len(marks) or a.shape[1] < 1:
        raise ValueError(f"{what}: expected a [marks={len(marks)}, bins] array, got shape {a.shape}")
    return a


def _tss_extent(n_bins: int, n_marks: int) -> tuple[float, float, float, float]:
    half_kb = n_bins * BIN_SIZE / 2 / 1000
    return (-half_kb, half_kb, n_marks - 0.5, -0.5)


def _kb_ticks(ax, n_bins: int) -> None:
    half_kb = n_bins * BIN_SIZE / 2 / 1000
    ax.set_xticks(np.linspace(-half_kb, half_kb, 5))
    ax.xaxis.set_major_formatter(mticker.FuncFormatter(lambda v, _: _signed(v, 1).rstrip("0").rstrip(".")
                                                       if v else "TSS"))


# ---------------------------------------------------------------- model comparison

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


# ---------------------------------------------------------------- feature pattern maps

def _draw_map(ax, arr: np.ndarray, marks: Sequence[str], show_marks: bool = True, show_x: bool = True):
    n_marks, n_bins = arr.shape
    im = ax.imshow(arr, aspect="auto", cmap=MAP_CMAP, vmin=0, vmax=1, interpolation="nearest",
                   extent=_tss_extent(n_bins, n_marks))
    ax.axvline(0, color="white", lw=1.2, ls="--")
    ax.grid(False)
    ax.set_yticks(range(n_marks))
    ax.set_yticklabels(marks)
    if not show_marks:
        ax.tick_params(axis="y", length=0, labelleft=False)
    _kb_ticks(ax, n_bins)
    if show_x:
        ax.set_xlabel("Position relative to TSS (kb)")
    else:
        ax.tick_params(axis="x", labelbottom=False)
    return im


def _draw_mark_bars(ax, arr: np.ndarray, marks: Sequence[str]) -> None:
    means = arr.mean(axis=1)
    ax.barh(range(len(marks)), means, color=mark_colors(marks), height=0.7, edgecolor="#333333", linewidth=0.4)
    for i, v in enumerate(means):
        ax.text(min(v, 1.0) + 0.03, i, f"{v:.2f}", va="center", ha="left", fontsize=7)
    ax.set_xlim(0, 1.25)
    ax.set_xticks([0, 0.5, 1])
    ax.set_ylim(len(marks) - 0.5, -0.5)
    ax.set_yticks(range(len(marks)))
    ax.tick_params(axis="y", labelleft=False, length=0)
    ax.grid(axis="y", visible=False)
    ax.set_xlabel("Mean over bins")


def plot_featuremap(on, off, marks: Sequence[str], path: str | os.PathLike, title: str) -> None:
    """ON and OFF class maps of one cell (marks x bins heat maps, shared 0-1 scale) with per-mark mean bars."""
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
            im = _draw_map(ax, arr, marks)
            ax.set_title(name, fontweight="bold")
            bar = fig.add_subplot(gs[0, col + 1], sharey=ax)
            _draw_mark_bars(bar, arr, marks)
            bar.set_title("Per-mark mean", fontsize=9)
        cax = fig.add_subplot(gs[0, 5])
        cb = fig.colorbar(im, cax=cax)
        cb.set_label("Optimised input\n(scaled 0-1)")
        fig.suptitle(title, fontweight="bold")
        _save(fig, path)


def plot_featuremaps_grid(maps: Mapping[str, tuple[np.ndarray, np.ndarray]], marks: Sequence[str],
                          path: str | os.PathLike) -> None:
    """All cells' class maps: full ON/OFF maps per row for <= 10 cells, else cells x marks mean heat maps."""
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
                    im = _draw_map(ax, arr, marks, show_marks=(j == 0), show_x=(i == n - 1))
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
            window_kb = next(iter(checked.values()))[0].shape[1] * BIN_SIZE / 1000
            fig.suptitle(f"Feature pattern maps: per-mark mean over the {window_kb:g} kb window around the TSS "
                         f"({n} cells)",
                         fontweight="bold")
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
