"""The report's landing page: what was run, on which cells, with which settings, and the headline AUCs.

:func:`write_overview` fills the reStructuredText template ``report/workflow.rst`` (``str.format`` fields)
from the run's summary table (``results/summary/auc.tsv``) and, where the run made one, the per-model table
``results/summary/models.tsv``. Confidence intervals are shown where the tables carry them and never
computed here: a table without them gives "not computed".
"""

from __future__ import annotations

import math
import os

import pandas as pd

from .io import atomic_path, read_tsv
from .markup import rst_literal, rst_text
from .spec import model_long_name, model_order
from .stats import MIN_CELLS_CI

CELL_CI = ("test_auc_low", "test_auc_high")
"""auc.tsv's 95% interval of a cell's test AUC (deepchrome.summary.collect_metrics)."""
MODEL_CI = ("mean_low", "mean_high")
"""models.tsv's 95% interval of a model's mean test AUC over cells (deepchrome.summary.compare_models)."""


def headline(auc: pd.DataFrame, models: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per model: mean test ROC AUC over cells, its 95% CI where a table gives one, the range over cells.

    ``auc`` has one row per (cell, model) with ``test_auc`` (and optionally :data:`CELL_CI`); ``models`` one row
    per model (with :data:`MODEL_CI`). Over one cell the CI is that cell's; over several cells, only ``models`` can
    give one. Returns the columns
    ``model``, ``name``, ``mean_auc``, ``ci_low``, ``ci_high``, ``min_auc``, ``max_auc``, ``n_cells`` (NaN CI: none).
    """
    order = model_order(auc["model"])
    per_model = auc.groupby("model", sort=False)["test_auc"]
    rows = []
    model_ci = MODEL_CI if models is not None and set(MODEL_CI) <= set(models.columns) else None
    cell_ci = CELL_CI if set(CELL_CI) <= set(auc.columns) else None
    for model in order:
        values = per_model.get_group(model).astype(float)
        low = high = math.nan
        if model_ci is not None and (models["model"] == model).any():
            row = models[models["model"] == model].iloc[0]
            low, high = float(row[model_ci[0]]), float(row[model_ci[1]])
        elif len(values) == 1 and cell_ci is not None:
            row = auc[auc["model"] == model].iloc[0]
            low, high = float(row[cell_ci[0]]), float(row[cell_ci[1]])
        rows.append({"model": model, "name": model_long_name(model), "mean_auc": values.mean(),
                     "ci_low": low, "ci_high": high, "min_auc": values.min(), "max_auc": values.max(),
                     "n_cells": len(values)})
    return pd.DataFrame(rows)


def _table_rst(table: pd.DataFrame) -> str:
    """The headline table as an RST list-table (best model first in bold)."""
    best = round(table["mean_auc"].max(), 3)
    lines = [".. list-table::", "   :header-rows: 1", "",
             "   * - model", "     - mean test AUC", "     - 95% CI", "     - lowest - highest cell"]
    for row in table.itertuples():
        mean = f"{row.mean_auc:.3f}"
        if round(row.mean_auc, 3) == best:
            mean = f"**{mean}**"
        ci = (f"none below {MIN_CELLS_CI} cells" if math.isnan(row.ci_low) and 1 < row.n_cells < MIN_CELLS_CI else
              "not computed" if math.isnan(row.ci_low) else f"{row.ci_low:.3f} - {row.ci_high:.3f}")
        spread = "one cell" if row.n_cells == 1 else f"{row.min_auc:.3f} - {row.max_auc:.3f}"
        lines += [f"   * - {row.name}", f"     - {mean}", f"     - {ci}", f"     - {spread}"]
    return "\n".join(lines)


def _cell_list(cells: pd.DataFrame) -> str:
    """``cellA (name), cellB, ...``; long lists are cut after 10 cells (the landing page must fit a screen)."""
    names = cells["name"] if "name" in cells else pd.Series([None] * len(cells))
    items = [rst_text(f"{c} ({n})" if isinstance(n, str) and n and n != "nan" else c)
             for c, n in zip(cells["cell"], names)]
    return ", ".join(items[:10]) + (f" and {len(items) - 10} more" if len(items) > 10 else "")


def _preset_text(params: dict) -> str:
    """One line on how the CNN was trained, from the resolved training parameters."""
    stop = f"early stopping (patience {params['patience']})" if params.get("patience") else "best epoch by valid AUC"
    optimizer = {"sgd": "SGD", "adam": "Adam"}.get(params["optimizer"], params["optimizer"])
    return (f"{optimizer}, lr {params['lr']:g}, batch {params['batch_size']}, "
            f"{'log1p' if params['transform'] == 'log1p' else 'raw'} input, up to {params['epochs']} epochs, {stop}")


def _predict_text(predict: dict) -> str:
    """The cells without RNA-seq and where their predictions are (empty when there are none)."""
    if not predict:
        return ""
    items = [f"{cell} (model: {'pooled over the cells above' if model == 'pooled' else model}; "
             f"``results/{cell}/predicted.tsv``)" for cell, model in predict.items()]
    return " **Cells without RNA-seq** (scored, no metrics): " + ", ".join(items) + "."


def overview_text(template: str, auc: pd.DataFrame, models: pd.DataFrame | None, settings: dict) -> str:
    """The landing page: ``template`` filled from the summary tables and the run's ``settings``.

    ``settings`` holds ``marks`` (list), ``preset`` (name), ``params`` (resolved training parameters),
    ``input``, ``split``, ``config_files`` (list of paths), ``overrides`` (command-line
    ``--config`` values, a dict), ``bins`` (the features' description: ``bins``, ``bin_size``), optionally
    ``target`` (``class``, the default, or ``level``) and ``predict`` (cell without RNA-seq -> the model scoring it).
    """
    cells = auc.drop_duplicates("cell")
    n_test = cells["n_test"].mean() if "n_test" in auc else math.nan
    overrides = settings.get("overrides") or {}
    protocol = ("The CNN was trained as published (``paper`` preset)." if settings["preset"] == "paper" else
                "The CNN was trained with the ``default`` preset (tuned on real data).")
    level = settings.get("target", "class") == "level"
    return template.format(
        task=("learnt to predict each gene's expression level, log2(RPKM + 1)," if level else
              "learnt to tell genes expressed\nabove the cell's median (ON) from the rest (OFF)"),
        headline_what=" of the predicted level against the median label (r, R^2: *1. Accuracy*, Expression level)"
        if level else "",
        sections=("*1. Accuracy*, *2. Training*, *5. Across cells* (feature maps and explanation are not run for "
                  "``target: level``)"
                  if level else "*1. Accuracy*, *2. Training*, *3. Feature maps*,\n*4. Explanation*, *5. Across cells*"),
        n_marks=len(settings["marks"]), marks=rst_text(", ".join(settings["marks"])), protocol=protocol,
        bins=f"{settings['bins']['bins']} bins of {settings['bins']['bin_size']} bp",
        published_text=(", reproduced against published AUCs"
                        if "published_auc" in auc and auc["published_auc"].notna().any() else ""),
        n_cells=len(cells), n_test="?" if math.isnan(n_test) else f"{n_test:,.0f}",
        headline=_table_rst(headline(auc, models)), cell_list=_cell_list(cells),
        config_files=", ".join(rst_literal(os.path.basename(str(f))) for f in settings["config_files"]) or "the defaults",
        preset=settings["preset"], preset_text=_preset_text(settings["params"]), input=settings["input"],
        split=settings["split"], predict_text=_predict_text(settings.get("predict") or {}),
        overrides="".join(f" Command line: {rst_literal(f'{k}={v}')}." for k, v in overrides.items()),
    )


_TABLE_STYLE = """<style>
body { font-family: sans-serif; font-size: 14px; margin: 1em; }
table { border-collapse: collapse; }
th, td { padding: 4px 10px; border-bottom: 1px solid #ddd; text-align: right; }
th { background: #f3f3f3; }
td:nth-child(-n+3), th:nth-child(-n+3) { text-align: left; }
</style>"""


def auc_table_html(auc: pd.DataFrame) -> str:
    """``auc.tsv`` as a stand-alone HTML page (the report shows HTML; a TSV there is only a download).

    Numbers of AUC-like columns to 3 decimals, seconds to 1; every column of the table is kept, so columns
    added by later steps (confidence intervals, p values) appear without a change here.
    """
    shown = auc.copy()
    for column in shown.columns:
        if column == "seconds":
            shown[column] = shown[column].map(lambda v: "" if pd.isna(v) else f"{v:.1f}")
        elif pd.api.types.is_float_dtype(shown[column]):
            shown[column] = shown[column].map(lambda v: "" if pd.isna(v) else f"{v:.3f}")
    table = shown.to_html(index=False, border=0, na_rep="")
    return (f"<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Test AUC per cell and model</title>"
            f"{_TABLE_STYLE}</head><body>\n<h3>Test ROC AUC and AUPR per cell and model</h3>\n{table}\n</body></html>\n")


def write_overview(template_path: str | os.PathLike, auc_path: str | os.PathLike,
                   models_path: str | os.PathLike | None, settings: dict, page: str | os.PathLike,
                   table: str | os.PathLike) -> None:
    """Read the template and the summary tables; write the landing page and the HTML AUC table atomically."""
    template = open(template_path).read()
    auc = read_tsv(auc_path)
    models = read_tsv(models_path) if models_path else None
    with atomic_path(page) as tmp:
        tmp.write_text(overview_text(template, auc, models, settings))
    with atomic_path(table) as tmp:
        tmp.write_text(auc_table_html(auc))
