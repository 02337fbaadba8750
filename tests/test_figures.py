"""Every figure function writes a readable PNG, for 1 cell and for 56 cells."""

import math

import matplotlib

matplotlib.use("Agg")
import matplotlib.image as mpimg  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from deepchrome import figures  # noqa: E402
from deepchrome.summary import MODELS, compare_models  # noqa: E402

MARKS = ["H3K4me3", "H3K4me1", "H3K36me3", "H3K9me3", "H3K27me3"]
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _cells(n):
    return [f"E{3 + i:03d}" for i in range(n)]


def _table(n, published=True, seed=0):
    rng = np.random.default_rng(seed)
    rows = []
    for cell in _cells(n):
        base = rng.uniform(0.7, 0.9)
        pub = round(rng.uniform(0.69, 0.92), 2) if published else math.nan
        for model in MODELS:
            auc = base + rng.normal(0, 0.02)
            rows.append({"cell": cell, "name": f"name of {cell}", "model": model,
                         "test_auc": auc, "test_auc_low": auc - 0.02, "test_auc_high": min(1.0, auc + 0.02),
                         "p_vs_cnn": math.nan if model == "cnn" else rng.uniform(0, 0.2),
                         "test_aupr": 0.7, "valid_auc": 0.8,
                         "n_test": 200, "seconds": 1.0, "device": "cpu", "published_auc": pub})
    return pd.DataFrame(rows)


def _histories(n, seed=0, seeds=3):
    rng = np.random.default_rng(seed)
    epochs = np.tile(np.arange(1, 21), seeds)
    k = len(epochs)
    return {cell: pd.DataFrame({"epoch": epochs, "loss": 0.7 * np.exp(-epochs / 8) + rng.normal(0, 0.01, k),
                                "valid_auc": 0.85 - 0.2 * np.exp(-epochs / 4) + rng.normal(0, 0.01, k),
                                "seed": np.repeat(np.arange(seeds), 20)})
            for cell in _cells(n)}


def _maps(n, seed=0):
    rng = np.random.default_rng(seed)
    return {cell: (rng.uniform(0, 1, (5, 100)).astype(np.float32), rng.uniform(0, 1, (5, 100)).astype(np.float32))
            for cell in _cells(n)}


def _assert_png(path, min_px=200, max_px=4000):
    assert path.read_bytes()[:8] == PNG_MAGIC
    img = mpimg.imread(path)
    h, w = img.shape[:2]
    assert min_px <= w <= max_px and min_px <= h <= max_px, (w, h)
    assert img.std() > 0  # not a blank image
    assert not list(path.parent.glob(f".{path.name}*"))  # no temporary file left behind


@pytest.mark.parametrize("n", [1, 56])
def test_comparison_figures(tmp_path, n):
    table = _table(n)
    for name, func in (("cnn_vs_baselines", figures.plot_cnn_vs_baselines),
                       ("auc_by_model", figures.plot_auc_by_model),
                       ("published", figures.plot_published)):
        out = tmp_path / f"{name}.png"
        func(table, out)
        _assert_png(out)
    out = tmp_path / "model_comparison.png"
    figures.plot_model_comparison(compare_models(table), out)
    _assert_png(out)


def test_figures_without_intervals(tmp_path):
    """An auc.tsv of an older run (no interval or p columns) still draws."""
    table = _table(3).drop(columns=["test_auc_low", "test_auc_high", "p_vs_cnn"])
    for name, func in (("cnn_vs_baselines", figures.plot_cnn_vs_baselines),
                       ("auc_by_model", figures.plot_auc_by_model)):
        func(table, tmp_path / f"{name}.png")
        _assert_png(tmp_path / f"{name}.png")


def test_auc_by_model_many_cells_branch(tmp_path):
    out = tmp_path / "auc_by_model.png"
    figures.plot_auc_by_model(_table(20), out)
    _assert_png(out)


@pytest.mark.parametrize("n", [1, 56])
def test_training_curves(tmp_path, n):
    out = tmp_path / "curves.png"
    figures.plot_training_curves(_histories(n), out)
    _assert_png(out)


def test_training_curves_without_loss(tmp_path):
    out = tmp_path / "curves.png"
    hist = {c: h.drop(columns="loss") for c, h in _histories(2).items()}
    figures.plot_training_curves(hist, out)
    _assert_png(out)


def test_featuremap(tmp_path):
    on, off = _maps(1)["E003"]
    out = tmp_path / "E003_featuremap.png"
    figures.plot_featuremap(on, off, MARKS, out, "E003: feature pattern maps", bin_size=100)
    _assert_png(out)


def test_featuremap_rejects_wrong_shape(tmp_path):
    on, off = _maps(1)["E003"]
    with pytest.raises(ValueError, match="marks"):
        figures.plot_featuremap(on[:4], off, MARKS, tmp_path / "x.png", "x", bin_size=100)
    assert not (tmp_path / "x.png").exists()


@pytest.mark.parametrize("n", [1, 56])
def test_featuremaps_grid(tmp_path, n):
    out = tmp_path / "grid.png"
    figures.plot_featuremaps_grid(_maps(n), MARKS, out, bin_size=100)
    _assert_png(out)


@pytest.mark.parametrize("bin_size", [50, 200])
def test_kb_axes_follow_the_data_bin_size(monkeypatch, tmp_path, bin_size):
    """100 bins of 50 bp span TSS +/- 2.5 kb, of 200 bp TSS +/- 10 kb: every map of the feature-map and explanation
    figures spans that window, its outer tick labels read it, and the many-cells grid's title names it."""
    from deepchrome.figures import explanation, featuremaps

    drawn = []
    for module in (explanation, featuremaps):
        monkeypatch.setattr(module, "_save", lambda fig, path: drawn.append(fig))
    on, off = _maps(1)["E003"]
    figures.plot_featuremap(on, off, MARKS, tmp_path / "a.png", "x", bin_size=bin_size)
    figures.plot_featuremaps_grid(_maps(2), MARKS, tmp_path / "b.png", bin_size=bin_size)
    summary = {"on": on - 0.5, "off": off - 0.5, "importance_on": on.mean(1), "importance_off": off.mean(1),
               "n_on": 3, "n_off": 4}
    figures.plot_cell_explanation(summary, {"on": on, "off": off}, MARKS, tmp_path / "c.png", "x", bin_size=bin_size)
    panel = {"cell": "E003", "name": "E003", "features": on, "attributions": off - 0.5, "score": 0.7, "label": 1,
             "split": "test"}
    figures.plot_gene_explanation("g", [panel], MARKS, tmp_path / "d.png", bin_size=bin_size)
    half = 100 * bin_size / 2 / 1000
    edge = f"{half:g}"
    assert len(drawn) == 4
    for fig in drawn:
        maps = [ax for ax in fig.axes if ax.images]  # the heat maps over the window (not bars, not colour bars)
        assert len(maps) >= 2
        for ax in maps:
            assert ax.get_xlim() == pytest.approx((-half, half)), ax.get_title()
            ticks = ax.get_xticks()
            labels = [ax.xaxis.get_major_formatter()(v, i) for i, v in enumerate(ticks)]
            assert ticks[[0, -1]] == pytest.approx([-half, half]) and labels[0] == "\u2212" + edge
            assert labels[-1] == "+" + edge and "TSS" in labels
    many = []
    monkeypatch.setattr(featuremaps, "_save", lambda fig, path: many.append(fig))
    figures.plot_featuremaps_grid(_maps(12), MARKS, tmp_path / "e.png", bin_size=bin_size)
    assert f"over the {2 * half:g} kb window" in many[0]._suptitle.get_text()


def test_plot_published_needs_published_values(tmp_path):
    out = tmp_path / "published.png"
    with pytest.raises(ValueError):
        figures.plot_published(_table(3, published=False), out)
    with pytest.raises(ValueError):
        figures.plot_published(_table(3).drop(columns="published_auc"), out)
    assert not out.exists()


def test_palettes_are_fixed():
    assert figures.model_color("cnn") == figures.MODEL_COLORS["cnn"]
    assert figures.mark_colors(MARKS) == [figures.MARK_COLORS[m] for m in MARKS]
    assert len(set(figures.mark_colors(MARKS + ["H2A.Z", "H3K27ac"]))) == 7


@pytest.mark.parametrize("n", [3, 5])
def test_transfer_heatmap_states_its_colour_range_and_clusters_from_four_cells(tmp_path, monkeypatch, n):
    from matplotlib.collections import LineCollection

    from deepchrome.figures import transfer

    drawn = {}
    monkeypatch.setattr(transfer, "_save", lambda fig, path: drawn.update(fig=fig))
    cells = _cells(n)
    matrix = pd.DataFrame(np.linspace(0.874, 0.895, n * n).reshape(n, n), index=cells, columns=cells)
    figures.plot_transfer_heatmap(matrix, {c: c for c in cells}, tmp_path / "transfer.png")
    fig = drawn["fig"]
    assert "colours span only 0.874 to 0.895" in fig._suptitle.get_text()
    heatmap = next(ax for ax in fig.axes if ax.get_xlabel() == "Test genes of cell")
    assert sorted({p.get_edgecolor()[:3] for p in heatmap.patches}) == [(0.0, 0.0, 0.0), (1.0, 1.0, 1.0)]
    trees = [c for ax in fig.axes[:2] for c in ax.collections if isinstance(c, LineCollection)]  # seaborn's row,
    assert (len(trees) > 0) == (n >= 4)  # column dendrogram axes: drawn from 4 cells on


def test_importance_heatmap_colours_start_at_zero(tmp_path, monkeypatch):
    from deepchrome.figures import explanation

    drawn = {}
    monkeypatch.setattr(explanation, "_save", lambda fig, path: drawn.update(fig=fig))
    table = pd.DataFrame(np.random.default_rng(0).dirichlet(np.ones(5), 3), index=_cells(3), columns=MARKS)
    figures.plot_importance_clustermap(table, tmp_path / "importance.png", "Importance")
    mesh = next(c for ax in drawn["fig"].axes for c in ax.collections if ax.get_xlabel() == "Histone mark")
    assert mesh.norm.vmin == 0


def test_figure_text_is_never_mathtext():
    """Every figure is drawn with mathtext off: a cell named '$5$ cells' is shown as written."""
    import matplotlib

    from deepchrome.figures.style import _style

    with _style():
        assert matplotlib.rcParams["text.parse_math"] is False
