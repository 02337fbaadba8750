"""Shared look of every figure: fixed colour-blind-safe colours per model and mark, style, saving, axes helpers.

Every figure function of this package draws one figure and writes one PNG atomically
(see :func:`deepchrome.io.atomic_path`).
"""

from __future__ import annotations

import contextlib
import math
import os
import warnings
from typing import Iterator, Sequence

import matplotlib

matplotlib.use("Agg")  # no screen: never pick an interactive backend
import matplotlib.ticker as mticker  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from .. import BIN_SIZE  # noqa: E402
from ..io import atomic_path  # noqa: E402
from ..spec import REGISTRY, model_label, model_order  # noqa: E402,F401 (model_label: the figures' API)

DPI = 150
LABEL_MAX_CELLS = 15  # label points with cell ids up to this many cells
FULL_MAPS_MAX_CELLS = 10  # above this, the grid shows per-mark means instead of full maps

MODEL_COLORS = {s.name: s.color for s in REGISTRY}
MODEL_LABELS = {s.name: s.label for s in REGISTRY}
_EXTRA_MODEL_COLORS = ["#56B4E9", "#000000", "#F0E442"]

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
    return model_order([str(m) for m in models])


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
