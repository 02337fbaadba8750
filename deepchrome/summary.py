"""Collect every model's metrics into one table, one row per (cell, model), and compare the models.

The table has the columns ``cell``, ``name`` (when the cell sheet has one), ``model``, ``test_auc``,
``test_auc_low``, ``test_auc_high`` (95% stratified-bootstrap interval), ``test_aupr`` (and its interval),
``p_vs_cnn`` (DeLong's paired test of the CNN against this model on the cell's test genes; empty for the CNN),
``valid_auc``, ``n_train``, ``n_valid``, ``n_test``, ``seconds``, ``device`` and, when the cell sheet gives a
``published_auc`` for at least one cell, ``published_auc``. The published number is the
DeepChrome CNN's; it is repeated on every row of its cell so the table stays flat, and is meant to be compared
with the ``cnn`` row. Rows follow the cell sheet's order, then the registry's (:data:`deepchrome.spec.REGISTRY`).
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import pandas as pd

from .errors import DeepChromeError
from .io import read_tsv, write_tsv
from .spec import model_order, models_for
from .stats import delong_test, mean_ci, wilcoxon_p

MODELS = models_for("class")
"""Model order in every table and figure (the registry's)."""
LEVEL_MODELS = models_for("level")
"""The models of ``target: level`` (svr and ridge: the regression forms of svm and logreg), in table order."""

ALPHA = 0.05  # significance level of the per-cell counts (CNN better / not different / worse)
REQUIRED_KEYS = ("test_auc",)
METRIC_KEYS = ("test_auc", "test_auc_low", "test_auc_high", "test_aupr", "test_aupr_low", "test_aupr_high",
               "valid_auc", "n_train", "n_valid", "n_test", "seconds", "device")
_INTERVALS = {"test_auc_ci": ("test_auc_low", "test_auc_high"), "test_aupr_ci": ("test_aupr_low", "test_aupr_high")}


def _read_metrics(path: Path) -> dict:
    """Read one metrics.json and check it holds numbers where numbers are expected."""
    if not path.is_file():
        raise DeepChromeError(path, "metrics file is missing",
                              "run the evaluation step for this cell and model first (snakemake makes it)")
    try:
        data = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DeepChromeError(path, f"metrics file cannot be read as JSON ({exc})",
                              "delete it and rerun the evaluation step") from exc
    if not isinstance(data, dict):
        raise DeepChromeError(path, "metrics file does not hold a JSON object",
                              "delete it and rerun the evaluation step")
    missing = [k for k in REQUIRED_KEYS if k not in data]
    if missing:
        raise DeepChromeError(path, f"metrics file lacks {', '.join(missing)}",
                              "delete it and rerun the evaluation step")
    for key, (low, high) in _INTERVALS.items():
        interval = data.get(key)
        if interval is not None:
            if not (isinstance(interval, list) and len(interval) == 2):
                raise DeepChromeError(path, f"{key} is {interval!r}, not [low, high]",
                                      "delete it and rerun the evaluation step")
            data[low], data[high] = interval
    row = {}
    for key in METRIC_KEYS:
        value = data.get(key)
        if key == "device":
            row[key] = "" if value is None else str(value)
            continue
        if value is None:
            row[key] = math.nan
            continue
        try:
            number = float(value)
            row[key] = int(number) if key.startswith("n_") and number.is_integer() else number
        except (TypeError, ValueError) as exc:
            raise DeepChromeError(path, f"{key} is {value!r}, not a number",
                                  "delete it and rerun the evaluation step") from exc
    return row


def collect_metrics(metric_files: dict[tuple[str, str], str | os.PathLike],
                    cells: pd.DataFrame) -> pd.DataFrame:
    """One row per ``(cell, model)`` from ``{(cell, model): metrics.json}``, in cell-sheet then model order.

    ``cells`` is the cell sheet (column ``cell``, optional ``name`` and ``published_auc``). Cells missing from
    the sheet are kept, after the sheet's cells. A missing or unreadable file raises
    :class:`~deepchrome.errors.DeepChromeError` naming it.
    """
    if "cell" not in cells.columns:
        raise DeepChromeError(None, "the cell sheet has no 'cell' column", "add a 'cell' column to the cell sheet")
    sheet = cells.drop_duplicates("cell").copy()
    sheet.index = sheet["cell"].astype(str)
    published = None
    if "published_auc" in sheet.columns:
        values = pd.to_numeric(sheet["published_auc"], errors="coerce")
        bad = sheet.index[values.isna() & sheet["published_auc"].notna()
                          & (sheet["published_auc"].astype(str).str.strip() != "")]
        if len(bad):
            raise DeepChromeError(None, f"published_auc of cell(s) {', '.join(bad)} is not a number",
                                  "write a number between 0 and 1, or leave it empty")
        if values.notna().any():
            published = values

    rows = []
    for (cell, model), path in metric_files.items():
        cell, model = str(cell), str(model)
        row = {"cell": cell}
        if "name" in sheet.columns:
            row["name"] = str(sheet["name"].get(cell, "")) if cell in sheet.index else ""
        row["model"] = model
        row.update(_read_metrics(Path(path)))
        if published is not None:
            row["published_auc"] = float(published.get(cell, math.nan))
        rows.append(row)

    columns = ["cell"] + (["name"] if "name" in sheet.columns else []) + ["model", *METRIC_KEYS]
    if published is not None:
        columns.append("published_auc")
    table = pd.DataFrame(rows, columns=columns)
    if table.empty:
        return table

    cell_rank = {c: i for i, c in enumerate(sheet.index)}
    extra = sorted(set(table["cell"]) - set(cell_rank))
    cell_rank.update({c: len(cell_rank) + i for i, c in enumerate(extra)})
    model_rank = {m: i for i, m in enumerate(model_order(table["model"]))}
    order = table.assign(_c=table["cell"].map(cell_rank), _m=table["model"].map(model_rank))
    order = order.sort_values(["_c", "_m"], kind="stable")
    return order.drop(columns=["_c", "_m"]).reset_index(drop=True)


def _test_scores(path: str | os.PathLike) -> pd.Series:
    """Test-split scores of one predictions.tsv, indexed by gene_id (with the label as a second level)."""
    pred = read_tsv(path, dtype={"gene_id": str})
    missing = {"gene_id", "split", "label", "score"} - set(pred.columns)
    if missing:
        raise DeepChromeError(path, f"predictions file lacks {', '.join(sorted(missing))}",
                              "delete it and rerun the model's step")
    test = pred[pred["split"] == "test"]
    return test.set_index(["gene_id", "label"])["score"].sort_index()


def add_delong(table: pd.DataFrame, predictions: dict[tuple[str, str], str | os.PathLike]) -> pd.DataFrame:
    """``table`` with ``p_vs_cnn``: per cell, DeLong's two-sided p of the CNN against each other model on the
    same test genes (empty for the CNN and where a cell has no CNN). ``predictions``: ``{(cell, model): tsv}``."""
    p = []
    for cell, model in zip(table["cell"].astype(str), table["model"].astype(str)):
        if model == "cnn" or (cell, "cnn") not in predictions:
            p.append(math.nan)
            continue
        cnn, other = _test_scores(predictions[cell, "cnn"]), _test_scores(predictions[cell, model])
        if not cnn.index.equals(other.index):
            raise DeepChromeError(predictions[cell, model], "its test genes or labels differ from the CNN's",
                                  "rerun both models on the same split")
        p.append(delong_test(cnn.index.get_level_values("label").to_numpy(), cnn.to_numpy(), other.to_numpy())["p"])
    out = table.copy()
    out.insert(out.columns.get_loc("test_aupr_high") + 1, "p_vs_cnn", p)
    return out


def compare_models(table: pd.DataFrame) -> pd.DataFrame:
    """Across cells, one row per model: ``n_cells``, mean test AUC with its 95% t-interval over cells
    (``mean_test_auc``, ``mean_low``, ``mean_high``), the mean difference CNN minus model, the Wilcoxon signed-rank
    p of the CNN against the model over cells (``wilcoxon_p``), and the count of cells where DeLong's test finds
    the CNN better, not different or worse at p < :data:`ALPHA` (``cnn_better``, ``not_different``,
    ``cnn_worse``). The CNN's own row carries only its mean."""
    wide = table.pivot_table(index="cell", columns="model", values="test_auc", aggfunc="first")
    pvals = table.pivot_table(index="cell", columns="model", values="p_vs_cnn", aggfunc="first")
    rows = []
    for model in model_order(wide.columns):
        mean, low, high = mean_ci(wide[model], bounds=(0.0, 1.0))
        row = {"model": model, "n_cells": int(wide[model].notna().sum()), "mean_test_auc": mean,
               "mean_low": low, "mean_high": high}
        if model != "cnn" and "cnn" in wide.columns:
            pair = wide[["cnn", model]].dropna()
            diff = pair["cnn"] - pair[model]
            p = pvals[model].reindex(pair.index) if model in pvals.columns else pd.Series(math.nan, pair.index)
            significant = p < ALPHA
            row.update({"mean_diff_cnn": float(diff.mean()) if len(diff) else math.nan,
                        "wilcoxon_p": wilcoxon_p(pair["cnn"], pair[model]),
                        "cnn_better": int((significant & (diff > 0)).sum()),
                        "not_different": int((~significant).sum()),
                        "cnn_worse": int((significant & (diff < 0)).sum())})
        rows.append(row)
    columns = ["model", "n_cells", "mean_test_auc", "mean_low", "mean_high", "mean_diff_cnn", "wilcoxon_p",
               "cnn_better", "not_different", "cnn_worse"]
    out = pd.DataFrame(rows).reindex(columns=columns)
    for col in ("cnn_better", "not_different", "cnn_worse"):
        out[col] = out[col].astype("Int64")
    return out


def write_summary(table: pd.DataFrame, path: str | os.PathLike) -> None:
    """Write the metrics table as a TSV (header, no index), atomically."""
    write_tsv(table, path)


def markdown_tables(auc: pd.DataFrame, models: pd.DataFrame | None, digits: int = 3) -> str:
    """The README's accuracy tables from ``auc.tsv`` and ``models.tsv``: test AUC [95% interval] per cell and
    model, with DeLong's p against the CNN; and (unless ``models`` is None) per model the mean over cells, its
    interval, the verdict counts and the Wilcoxon p."""
    order = model_order(auc["model"])

    def cell_text(r) -> str:
        text = f"{r.test_auc:.{digits}f} [{r.test_auc_low:.{digits}f}, {r.test_auc_high:.{digits}f}]"
        return text if pd.isna(r.p_vs_cnn) else f"{text} p={r.p_vs_cnn:.2g}"

    lines = ["| cell | " + " | ".join(order) + " |", "|---" * (len(order) + 1) + "|"]
    for cell, rows in auc.groupby("cell", sort=False):
        by_model = {r.model: cell_text(r) for r in rows.itertuples()}
        lines.append(f"| {cell} | " + " | ".join(by_model.get(m, "") for m in order) + " |")
    if models is None:
        return "\n".join(lines) + "\n"
    lines += ["", "| model | cells | mean test AUC [95% CI] | CNN better / not different / worse (DeLong p < 0.05) "
              "| Wilcoxon p vs CNN |", "|---|---|---|---|---|"]
    for r in models.itertuples():
        counts = "" if r.model == "cnn" else f"{r.cnn_better:.0f} / {r.not_different:.0f} / {r.cnn_worse:.0f}"
        wilcoxon = "" if pd.isna(r.wilcoxon_p) else f"{r.wilcoxon_p:.2g}"
        lines.append(f"| {r.model} | {r.n_cells} | {r.mean_test_auc:.{digits}f} [{r.mean_low:.{digits}f}, "
                     f"{r.mean_high:.{digits}f}] | {counts} | {wilcoxon} |".replace("[nan, nan]", "[-]"))
    return "\n".join(lines) + "\n"


# ---- target: level ---------------------------------------------------------------------------------

LEVEL_COLUMNS = ("r", "rho", "r2", "mse", "auc")
"""Test metrics of ``levels.tsv``, each with its 95% bootstrap interval (``_low``, ``_high``)."""


def collect_levels(metric_files: dict[tuple[str, str], str | os.PathLike], cells: pd.DataFrame) -> pd.DataFrame:
    """One row per ``(cell, model)`` of a ``target: level`` run: ``cell``, ``name`` (when the cell sheet has one),
    ``model``, then for each of :data:`LEVEL_COLUMNS` ``test_{metric}`` with ``_low``/``_high``, ``valid_r`` and
    ``n_test``; rows in cell-sheet then model order. R^2 and MSE of the untrained promoter score are empty
    (its metrics.json says why). A file without ``test_r`` (made for target: class) is an error."""
    rows = []
    for (cell, model), path in metric_files.items():
        data = json.loads(Path(path).read_text())
        if "test_r" not in data:
            raise DeepChromeError(path, "metrics file has no test_r (it was made for target: class)",
                                  "rerun with target: level, which rebuilds the models' metrics")
        row = {"cell": str(cell), "model": str(model)}
        for metric in LEVEL_COLUMNS:
            low, high = data.get(f"test_{metric}_ci") or (None, None)
            row.update({f"test_{metric}": data.get(f"test_{metric}"), f"test_{metric}_low": low,
                        f"test_{metric}_high": high})
        row.update({"valid_r": data.get("valid_r"), "n_test": data.get("n_test")})
        rows.append(row)
    table = pd.DataFrame(rows).astype({c: float for c in rows[0] if c not in ("cell", "model", "n_test")})
    sheet = cells.drop_duplicates("cell").set_index("cell")
    if "name" in sheet.columns:
        table.insert(1, "name", [str(sheet["name"].get(c, "")) if c in sheet.index else "" for c in table["cell"]])
    cell_rank = {c: i for i, c in enumerate(sheet.index.astype(str))}
    model_rank = {m: i for i, m in enumerate(model_order(table["model"], "level"))}
    order = table.assign(_c=table["cell"].map(cell_rank).fillna(len(cell_rank)), _m=table["model"].map(model_rank))
    return order.sort_values(["_c", "_m"], kind="stable").drop(columns=["_c", "_m"]).reset_index(drop=True)


def compare_levels(table: pd.DataFrame) -> pd.DataFrame:
    """Across cells, one row per model of ``levels.tsv``: ``n_cells``, mean test Pearson r with its 95% t-interval
    over cells (``mean_test_r``, ``mean_low``, ``mean_high``), the mean ``test_rho``, ``test_r2``, ``test_mse`` and
    ``test_auc``, the mean difference of r CNN minus model and the Wilcoxon signed-rank p of the CNN's r against
    the model's over cells."""
    rows = []
    wide = table.pivot_table(index="cell", columns="model", values="test_r", aggfunc="first")
    for model in model_order(wide.columns, "level"):
        part = table[table["model"] == model]
        mean, low, high = mean_ci(part["test_r"], bounds=(-1.0, 1.0))
        row = {"model": model, "n_cells": int(part["test_r"].notna().sum()), "mean_test_r": mean, "mean_low": low,
               "mean_high": high, **{f"mean_test_{m}": float(part[f"test_{m}"].mean()) for m in LEVEL_COLUMNS[1:]}}
        if model != "cnn" and "cnn" in wide.columns:
            pair = wide[["cnn", model]].dropna()
            row.update({"mean_diff_cnn": float((pair["cnn"] - pair[model]).mean()) if len(pair) else math.nan,
                        "wilcoxon_p": wilcoxon_p(pair["cnn"], pair[model])})
        rows.append(row)
    columns = ["model", "n_cells", "mean_test_r", "mean_low", "mean_high",
               *[f"mean_test_{m}" for m in LEVEL_COLUMNS[1:]], "mean_diff_cnn", "wilcoxon_p"]
    return pd.DataFrame(rows).reindex(columns=columns)


def markdown_levels(levels: pd.DataFrame, models: pd.DataFrame, digits: int = 3) -> str:
    """The README's expression-level tables from ``levels.tsv`` and ``level_models.tsv``: per cell and model the
    test Pearson r [95% interval], Spearman rho, R^2, MSE and AUC; then per model the mean r over cells [95%
    t-interval] and the mean rho, R^2 and AUC. Empty values (the promoter score's R^2 and MSE) print as '-'."""
    def num(v) -> str:
        return "-" if pd.isna(v) else f"{v:.{digits}f}"

    lines = ["| cell | model | r [95% CI] | rho | R^2 | MSE | AUC |", "|---|---|---|---|---|---|---|"]
    for r in levels.itertuples():
        lines.append(f"| {r.cell} | {r.model} | {num(r.test_r)} [{num(r.test_r_low)}, {num(r.test_r_high)}] | "
                     f"{num(r.test_rho)} | {num(r.test_r2)} | {num(r.test_mse)} | {num(r.test_auc)} |")
    lines += ["", "| model | cells | mean r [95% CI] | mean rho | mean R^2 | mean AUC |", "|---|---|---|---|---|---|"]
    for r in models.itertuples():
        lines.append(f"| {r.model} | {r.n_cells} | {num(r.mean_test_r)} [{num(r.mean_low)}, {num(r.mean_high)}] | "
                     f"{num(r.mean_test_rho)} | {num(r.mean_test_r2)} | {num(r.mean_test_auc)} |")
    return "\n".join(lines) + "\n"


def genes_kept(windows: str | os.PathLike, labels: list[str | os.PathLike]) -> pd.DataFrame:
    """One row per cell: the genes of the annotation (``annotation_genes``), those with a whole window inside their
    chromosome (``windows``), the labelled ones (``labelled``: a value in the cell's expression column), how many of
    them are ON, and the cell's median RPKM, from the gene-window step's record (``windows``) and each cell's labels
    record (``labels``)."""
    counts = json.loads(Path(windows).read_text())
    rows = []
    for path in labels:
        cell = json.loads(Path(path).read_text())
        rows.append({"cell": cell["cell"], "annotation_genes": counts["annotation_genes"], "windows": counts["windows"],
                     "labelled": cell["n_labelled"], "on": cell["n_on"], "median_rpkm": cell["median_rpkm"]})
    return pd.DataFrame(rows, columns=["cell", "annotation_genes", "windows", "labelled", "on", "median_rpkm"])

