"""Collect every model's metrics into one table: one row per (cell, model).

The table has the columns ``cell``, ``name`` (when the cell sheet has one), ``model``, ``test_auc``,
``test_aupr``, ``valid_auc``, ``n_train``, ``n_valid``, ``n_test``, ``seconds``, ``device`` and, when the cell
sheet gives a ``published_auc`` for at least one cell, ``published_auc``. The published number is the
DeepChrome CNN's; it is repeated on every row of its cell so the table stays flat, and is meant to be compared
with the ``cnn`` row. Rows follow the cell sheet's order, then :data:`MODELS`.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import pandas as pd

from .errors import DeepChromeError
from .io import write_tsv

MODELS = ("cnn", "svm", "rf", "logreg")
"""Model order in every table and figure."""

REQUIRED_KEYS = ("test_auc",)
METRIC_KEYS = ("test_auc", "test_aupr", "valid_auc", "n_train", "n_valid", "n_test", "seconds", "device")


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
    model_rank = {m: i for i, m in enumerate(MODELS)}
    extra_models = sorted(set(table["model"]) - set(model_rank))
    model_rank.update({m: len(MODELS) + i for i, m in enumerate(extra_models)})
    order = table.assign(_c=table["cell"].map(cell_rank), _m=table["model"].map(model_rank))
    order = order.sort_values(["_c", "_m"], kind="stable")
    return order.drop(columns=["_c", "_m"]).reset_index(drop=True)


def write_summary(table: pd.DataFrame, path: str | os.PathLike) -> None:
    """Write the metrics table as a TSV (header, no index), atomically."""
    write_tsv(table, path)
