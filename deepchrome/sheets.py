"""The run's sheets (cells, samples) and the gene queries of the config, read and checked before any job.

Torch-free (pandas, PyYAML, jsonschema): ``rules/common.smk`` calls these at start-up in a plain Snakemake
environment, and the unit tests call them directly. Every problem is one :class:`DeepChromeError` naming the
sheet, the line, what is wrong and the fix.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Mapping

import jsonschema
import pandas as pd
import yaml

from .errors import DeepChromeError
from .spec import POOLED

CELL_PATTERN = "[A-Za-z0-9][A-Za-z0-9_.-]*"
"""A cell ID: used in file names, so no path separators."""


def load_schema(path: str | os.PathLike) -> dict:
    """A JSON schema written in YAML."""
    with open(path) as f:
        return yaml.safe_load(f)


def schema_problem(data: dict, schema: dict) -> str | None:
    """The most relevant violation of ``schema`` by ``data``: where it is (keys joined by dots) and what; None when
    ``data`` is valid."""
    err = jsonschema.exceptions.best_match(jsonschema.Draft202012Validator(schema).iter_errors(data))
    if err is None:
        return None
    where = ".".join(map(str, err.absolute_path)) or "top level"
    return f"{where}: {err.message}"


def sheet_path(path: str, base: str | os.PathLike) -> str:
    """A sheet path as given, or relative to the workflow's folder ``base`` when it is not found from the working
    directory (a run with --directory elsewhere, or the workflow used as a module)."""
    p = Path(path)
    if not p.is_absolute() and not p.exists() and (Path(base) / p).exists():
        return str(Path(base) / p)
    return str(p)


def sheet_lines(path: str | os.PathLike) -> list[int]:
    """File line numbers (1-based) of a sheet's data rows, in the order pandas reads them."""
    with open(path) as f:
        numbers = [i for i, line in enumerate(f, 1) if line.strip() and not line.lstrip().startswith("#")]
    return numbers[1:]  # the first is the header


def read_sheet(path: str | os.PathLike, schema: dict, schema_name: str, unique: list[str]) -> pd.DataFrame:
    """A sheet (TSV) checked row by row against ``schema`` (``schema_name``: its file, for the fix), each ``unique``
    key combination on one line. Returns the rows as strings (``published_auc`` as a number), with a ``line``
    column: the row's line in the file."""
    if not Path(path).exists():
        raise DeepChromeError(path, "the sheet does not exist", "give the path of a tab-separated file")
    try:
        sheet = pd.read_csv(path, sep="\t", dtype=str, comment="#", skip_blank_lines=True)
    except (ValueError, pd.errors.ParserError, UnicodeDecodeError) as err:
        raise DeepChromeError(path, f"cannot read the sheet ({err})", "give a tab-separated table with a header line")
    lines = sheet_lines(path)
    sheet["line"] = lines[: len(sheet)] if len(lines) >= len(sheet) else range(2, len(sheet) + 2)
    sheet = sheet.dropna(how="all", subset=[c for c in sheet.columns if c != "line"])
    if "published_auc" in sheet:
        auc = pd.to_numeric(sheet["published_auc"].str.strip(), errors="coerce")
        bad = sheet["published_auc"].notna() & auc.isna()
        if bad.any():
            row = sheet[bad].iloc[0]
            raise DeepChromeError(path, f"line {row['line']}: published_auc {row['published_auc']!r} is not a number",
                                  "give the published AUC as a plain number between 0 and 1 (e.g. 0.80), or leave it "
                                  "empty")
        sheet["published_auc"] = auc
    for row in sheet.to_dict("records"):
        line = row.pop("line")
        problem = schema_problem({k: v for k, v in row.items() if not pd.isna(v)}, schema)
        if problem:
            raise DeepChromeError(path, f"line {line} breaks the sheet's schema: {problem}",
                                  f"correct the row (schemas/{schema_name} lists the columns; cell IDs are used in "
                                  "file names: letters, digits, '_', '.', '-')")
    listed_once(sheet, unique, path)
    return sheet


def listed_once(sheet: pd.DataFrame, keys: list[str], path: str | os.PathLike) -> None:
    """Stop when a row's ``keys`` (e.g. cell, or cell and mark) appear on more than one line."""
    twice = sheet[sheet.duplicated(keys, keep=False)]
    if not twice.empty:
        first = twice.iloc[0]
        lines = twice.loc[(twice[keys] == first[keys]).all(axis=1), "line"]
        what = ", ".join(f"{k} {first[k]}" for k in keys)
        raise DeepChromeError(path, f"{what} is listed twice (lines {', '.join(map(str, lines))})",
                              "keep one line per " + " and ".join(keys))


def chosen_cells(available: list[str], wanted, where: str) -> list[str]:
    """The cells of ``available`` that ``--config cells=...`` (``wanted``: a list, a comma-separated string, or
    empty for all) keeps, in ``available``'s order."""
    if not wanted:
        return list(available)
    wanted = wanted.split(",") if isinstance(wanted, str) else list(wanted)
    unknown = [c for c in wanted if c not in available]
    if unknown:
        raise DeepChromeError(where, f"cells not found: {', '.join(unknown)}", f"choose among {', '.join(available)}")
    return [c for c in available if c in wanted]


def predict_models(sheet: pd.DataFrame, path: str | os.PathLike) -> dict[str, str]:
    """Cells without RNA-seq: cell -> the model that scores it (``predict_with``: a trained cell or ``pooled``).

    A predict cell has no expression column; it names a cell of the sheet that has one, or the pooled model.
    ``sheet``: :func:`read_sheet`'s rows (with ``line``).
    """
    if POOLED in set(sheet["cell"]):
        line = sheet.loc[sheet["cell"] == POOLED, "line"].iloc[0]
        raise DeepChromeError(path, f"line {line}: the cell ID '{POOLED}' is reserved for the model pooled over all "
                              f"cells (predict_with: {POOLED})", "give the cell another ID")
    if "predict_with" not in sheet:
        return {}
    rows = sheet[sheet["predict_with"].notna()]
    predict = dict(zip(rows["cell"], rows["predict_with"].str.strip()))
    for _, row in rows.iterrows():
        cell, model, where = row["cell"], predict[row["cell"]], f"line {row['line']}"
        if "expression" in sheet and pd.notna(row["expression"]):
            raise DeepChromeError(path, f"{where}: cell {cell} has both an expression column and predict_with",
                                  "a cell with RNA-seq is trained on its own labels: drop predict_with; a cell "
                                  "without RNA-seq: drop expression")
        if model != POOLED and model not in set(sheet["cell"]):
            raise DeepChromeError(path, f"{where}: predict_with {model!r} of cell {cell} is not a cell of the sheet",
                                  f"name a cell of the sheet that has expression, or '{POOLED}' (the model trained "
                                  "on all such cells)")
        if model in predict:
            raise DeepChromeError(path, f"{where}: predict_with {model!r} of cell {cell} is itself a cell without "
                                  f"RNA-seq (predict_with {predict[model]!r}): it has no model of its own",
                                  f"name a cell of the sheet that has expression, or '{POOLED}'")
    if len(predict) == len(sheet):
        raise DeepChromeError(path, "every cell of the sheet has predict_with: no cell has expression to train a "
                              "model on", "give at least one cell with RNA-seq (no predict_with) for the models to "
                              "learn from")
    return predict


def sample_files(sheet: pd.DataFrame, path: str | os.PathLike, column: str, cells: list[str],
                 marks: list[str]) -> dict[tuple[str, str], tuple[str, int]]:
    """(cell, mark) -> (the sample sheet's ``column`` entry, its line) for every cell and mark of the run; one error
    naming the first cell and mark without one."""
    if column not in sheet:
        raise DeepChromeError(path, f"no '{column}' column", f"add a '{column}' column or set input to the column you "
                              "have")
    rows = {(r["cell"], r["mark"]): r for r in sheet.to_dict("records")}
    files = {}
    for cell in cells:
        for mark in marks:
            row = rows.get((cell, mark))
            if row is None or pd.isna(row[column]):
                raise DeepChromeError(path, f"cell {cell}, mark {mark}: no line with a '{column}' file",
                                      f"give one line per cell and mark with its {column} file")
            files[cell, mark] = (row[column], row["line"])
    return files


def sheet_names(table: pd.DataFrame, labels: bool = False) -> list[str]:
    """Each cell's name from a cell sheet (columns ``cell``, optional ``name``; the ID where no name is given);
    with ``labels`` as ``name (cell)`` where the name differs from the ID."""
    names = table["name"] if "name" in table else table["cell"]
    out = [str(c) if pd.isna(n) or str(n) == "" else str(n) for c, n in zip(table["cell"], names)]
    return [n if n == str(c) or not labels else f"{n} ({c})" for c, n in zip(table["cell"], out)]


def query_genes(value) -> list[str]:
    """The genes of ``--config genes=...`` (a list, or one comma-separated string)."""
    if value is None:
        return []
    genes = value.split(",") if isinstance(value, str) else list(value)
    return [g.strip() for g in genes if g.strip()]


def safe_name(gene: str) -> str:
    """A gene ID as a file name (characters other than letters, digits, ``_ . -`` become ``_``)."""
    return re.sub(r"[^A-Za-z0-9_.-]", "_", gene)


def gene_figures(queried: Mapping[str, str]) -> list[str]:
    """The figures of ``snakemake explain``: ``results/explain/<gene>.png`` per queried gene (file name -> ID)."""
    if not queried:
        raise DeepChromeError(None, "no genes to explain",
                              "name them on the command line: snakemake explain --config genes=ENSG...,ENSG...")
    return [f"results/explain/{name}.png" for name in queried]
