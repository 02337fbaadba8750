"""The report's landing page: what was run, on which cells, with which settings, and the headline AUCs.

:func:`write_overview` fills the reStructuredText template ``report/workflow.rst`` (``str.format`` fields)
from the run's summary table (``results/summary/auc.tsv``) and, where the run made one, the per-model table
``results/summary/models.tsv``. Confidence intervals are shown where the tables carry them and never
computed here: a table without them gives "not computed".
"""

from __future__ import annotations

import math
import os
import re

import pandas as pd

from .io import atomic_path
from .summary import MODELS

MODEL_NAMES = {"cnn": "DeepChrome CNN", "svm": "SVM (RBF kernel)", "rf": "random forest",
               "logreg": "logistic regression", "gbm": "gradient-boosted trees",
               "promoter": "untrained H3K4me3 score"}
"""Readable model names; a model not listed keeps its ID."""

_LOW = re.compile(r"(^|_)(ci_)?(low|lower|lo)$")
_HIGH = re.compile(r"(^|_)(ci_)?(high|upper|hi)$")


def _ci_columns(columns: list[str]) -> tuple[str, str] | None:
    """The (low, high) columns of a test-AUC confidence interval, preferring names that mention AUC."""
    lows = [c for c in columns if _LOW.search(c) and "aupr" not in c]
    highs = [c for c in columns if _HIGH.search(c) and "aupr" not in c]
    for low in sorted(lows, key=lambda c: "auc" not in c):
        high = next((h for h in highs if _HIGH.sub("", h) == _LOW.sub("", low)), None)
        if high is not None:
            return low, high
    return None


def headline(auc: pd.DataFrame, models: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per model: mean test ROC AUC over cells, its 95% CI where a table gives one, the range over cells.

    ``auc`` has one row per (cell, model) with ``test_auc`` (and optionally ``test_auc_low``/``_high``);
    ``models`` one row per model (columns read defensively: a mean AUC column and a low/high pair). Over one
    cell the CI is that cell's; over several cells, only ``models`` can give one. Returns the columns
    ``model``, ``name``, ``mean_auc``, ``ci_low``, ``ci_high``, ``min_auc``, ``max_auc``, ``n_cells`` (NaN CI: none).
    """
    order = [m for m in MODELS if m in set(auc["model"])]
    order += [m for m in dict.fromkeys(auc["model"]) if m not in order]
    per_model = auc.groupby("model", sort=False)["test_auc"]
    rows = []
    model_ci = _ci_columns(list(models.columns)) if models is not None and "model" in models else None
    cell_ci = _ci_columns(list(auc.columns))
    for model in order:
        values = per_model.get_group(model).astype(float)
        low = high = math.nan
        if model_ci is not None and (models["model"] == model).any():
            row = models[models["model"] == model].iloc[0]
            low, high = float(row[model_ci[0]]), float(row[model_ci[1]])
        elif len(values) == 1 and cell_ci is not None:
            row = auc[auc["model"] == model].iloc[0]
            low, high = float(row[cell_ci[0]]), float(row[cell_ci[1]])
        rows.append({"model": model, "name": MODEL_NAMES.get(model, model), "mean_auc": values.mean(),
                     "ci_low": low, "ci_high": high, "min_auc": values.min(), "max_auc": values.max(),
                     "n_cells": len(values)})
    return pd.DataFrame(rows)


def _table_rst(table: pd.DataFrame) -> str:
    """The headline table as an RST list-table (best model first in bold)."""
    best = table["mean_auc"].max()
    lines = [".. list-table::", "   :header-rows: 1", "",
             "   * - model", "     - mean test AUC", "     - 95% CI", "     - lowest - highest cell"]
    for row in table.itertuples():
        mean = f"{row.mean_auc:.3f}"
        if row.mean_auc == best:
            mean = f"**{mean}**"
        ci = "not computed" if math.isnan(row.ci_low) else f"{row.ci_low:.3f} - {row.ci_high:.3f}"
        spread = "one cell" if row.n_cells == 1 else f"{row.min_auc:.3f} - {row.max_auc:.3f}"
        lines += [f"   * - {row.name}", f"     - {mean}", f"     - {ci}", f"     - {spread}"]
    return "\n".join(lines)


def _cell_list(cells: pd.DataFrame) -> str:
    """``cellA (name), cellB, ...``; long lists are cut after 20 cells."""
    names = cells["name"] if "name" in cells else pd.Series([None] * len(cells))
    items = [f"{c} ({n})" if isinstance(n, str) and n and n != "nan" else str(c)
             for c, n in zip(cells["cell"], names)]
    return ", ".join(items[:20]) + (f" and {len(items) - 20} more" if len(items) > 20 else "")


def _preset_text(params: dict) -> str:
    """One line on how the CNN was trained, from the resolved training parameters."""
    stop = (f"early stopping after {params['patience']} epochs without a better validation AUC"
            if params.get("patience") else "the epoch with the best validation AUC kept")
    return (f"{params['optimizer'].upper()}, learning rate {params['lr']:g}, {params['batch_size']} gene(s) per step, "
            f"{'log1p of the' if params['transform'] == 'log1p' else 'raw'} values, up to {params['epochs']} epochs, {stop}")


def overview_text(template: str, auc: pd.DataFrame, models: pd.DataFrame | None, settings: dict) -> str:
    """The landing page: ``template`` filled from the summary tables and the run's ``settings``.

    ``settings`` holds ``marks`` (list), ``preset`` (name), ``params`` (resolved training parameters),
    ``input``, ``split``, ``bin_order``, ``config_files`` (list of paths) and ``overrides`` (command-line
    ``--config`` values, a dict).
    """
    cells = auc.drop_duplicates("cell")
    n_test = auc.drop_duplicates("cell")["n_test"].mean() if "n_test" in auc else math.nan
    overrides = settings.get("overrides") or {}
    protocol = ("The CNN was trained as published (the ``paper`` preset)." if settings["preset"] == "paper" else
                "The CNN was trained with the ``default`` preset, tuned on real data (see the README).")
    return template.format(
        n_marks=len(settings["marks"]), marks=", ".join(settings["marks"]), protocol=protocol,
        n_cells=len(cells), n_test="an unknown number of" if math.isnan(n_test) else f"{n_test:,.0f}",
        headline=_table_rst(headline(auc, models)), cell_list=_cell_list(cells),
        config_files=", ".join(f"``{os.path.basename(str(f))}``" for f in settings["config_files"]) or "the defaults",
        preset=settings["preset"], preset_text=_preset_text(settings["params"]), input=settings["input"],
        split=settings["split"], bin_order=settings["bin_order"],
        overrides="".join(f" Command line: ``{k}={v}``." for k, v in overrides.items()),
        published_text=(", and this reproduction against the published AUCs"
                        if "published_auc" in auc and auc["published_auc"].notna().any() else ""),
    )


def write_overview(template_path: str | os.PathLike, auc_path: str | os.PathLike,
                   models_path: str | os.PathLike | None, settings: dict, out: str | os.PathLike) -> None:
    """Read the template and the summary tables, write the landing page to ``out`` atomically."""
    template = open(template_path).read()
    auc = pd.read_csv(auc_path, sep="\t")
    models = pd.read_csv(models_path, sep="\t") if models_path else None
    with atomic_path(out) as tmp:
        tmp.write_text(overview_text(template, auc, models, settings))
