"""Expression table -> the targets per cell: ON/OFF labels and, for ``target: level``, expression levels.

Label rule (DeepChrome): 1 when the gene's RPKM is strictly greater than the cell's median RPKM,
else 0; the median is taken over the genes of the gene table that have an RPKM value (a gene
listed twice counts twice). Level (``target: level``): log2(RPKM + 1) of the same genes.
"""

from __future__ import annotations

import logging
import os
import re

import numpy as np
import pandas as pd

from .annotation import check_kept
from .errors import DeepChromeError
from .ids import strip_version
from .io import check_gzip

log = logging.getLogger("deepchrome.labels")

_LAYOUT = "give a tab-separated table: gene_id, then one RPKM column per cell"
_DECIMAL_COMMA = re.compile(r"[+-]?\d*,\d+")
_SHOWN = 5  # offending rows listed in a message
CHECKED_MISSING = ("",)  # how a checked table written by the workflow (write_tsv) spells "no value"
TARGETS = ("class", "level")  # what the models predict: the median label, or the expression level
MIN_CLASS_SHARE = 0.1  # a cell whose ON or OFF class holds fewer of its genes stops: no split could hold both


def expression_level(rpkm) -> np.ndarray:
    """The level a ``target: level`` model predicts: log2(RPKM + 1), float64, same shape as ``rpkm`` (>= 0)."""
    return np.log2(np.asarray(rpkm, dtype=np.float64) + 1.0)


def _lines(rows: pd.Series, column: str) -> str:
    """'line 7 (G1): 'n.d.', ...' for the first offending rows (``rows``: values indexed by line number)."""
    shown = [f"line {line} ({gene}): {value!r}" for (line, gene), value in list(rows.items())[:_SHOWN]]
    more = f" and {len(rows) - _SHOWN} more" if len(rows) > _SHOWN else ""
    return f"column {column!r}, " + "; ".join(shown) + more


def _numeric(raw: pd.Series, column: str, path, missing_values: set[str]) -> pd.Series:
    """Column ``column`` as float64 (NaN for the configured missing words) or an error naming the rows."""
    text = raw.str.strip()
    missing = text.isin(missing_values)
    values = pd.to_numeric(text.where(~missing), errors="coerce")
    bad = ~missing & (values.isna() | ~np.isfinite(values))
    if bad.any():
        rows = raw[bad]
        if rows.str.strip().str.fullmatch(_DECIMAL_COMMA).all():
            raise DeepChromeError(path, f"the table writes numbers with decimal commas ({_lines(rows, column)})",
                                  "write numbers with a decimal point (2.45, not 2,45): export the table with "
                                  "'.' as the decimal separator")
        raise DeepChromeError(path, f"{int(bad.sum())} value(s) are not numbers ({_lines(rows, column)})",
                              "give a number for every gene, or name the words that mean 'no value' in the "
                              "config (missing_values: [...]); such genes are then left out of that cell")
    negative = values < 0
    if negative.any():
        raise DeepChromeError(path, f"negative values ({_lines(raw[negative], column)})",
                              "give RPKM (or TPM) values >= 0, not log-scaled values")
    return values


def read_expression(path: str | os.PathLike, columns: list[str] | None = None,
                    missing_values: list[str] | tuple[str, ...] = ()) -> pd.DataFrame:
    """Read and check an RPKM table (Roadmap layout: ``gene_id`` then one column per cell).

    Returns float64 values, genes x ``columns`` (default every cell column), indexed by gene ID
    without version. Every value of those columns must be a finite number >= 0; the words in
    ``missing_values`` (none by default) are read as NaN. Errors name the first offending lines.
    Roadmap's ``57epigenomes.RPKM.pc.gz`` ends every data row with an extra tab; ``index_col=False``
    keeps pandas from shifting the columns one place to the right.
    """
    check_gzip(path)
    try:
        df = pd.read_csv(path, sep="\t", index_col=False, dtype=str, keep_default_na=False, skip_blank_lines=False)
    except (OSError, ValueError, pd.errors.ParserError) as err:
        raise DeepChromeError(path, f"cannot read the expression table ({err})", _LAYOUT) from None
    df.index = pd.RangeIndex(2, len(df) + 2, name="line")  # file line numbers (line 1 is the header)
    df = df[(df != "").any(axis=1)]
    if df.shape[1] < 2 or df.empty:
        raise DeepChromeError(path, "the expression table has no cell columns or no rows", _LAYOUT)
    genes = df.iloc[:, 0].str.strip().map(strip_version)
    if (genes == "").any():
        raise DeepChromeError(path, f"line {genes.index[genes == ''][0]} has no gene ID", "give a gene ID on every row")
    twice = genes[genes.duplicated(keep=False)]
    if not twice.empty:
        gene = twice.iloc[0]
        lines = ", ".join(map(str, twice.index[twice == gene]))
        raise DeepChromeError(path, f"gene {gene} is listed twice (lines {lines}; versions are ignored)",
                              "keep one row per gene")
    available = list(df.columns[1:])
    columns = available if columns is None else list(columns)
    absent = [c for c in columns if c not in available]
    if absent:
        raise DeepChromeError(path, f"no column {absent[0]!r} (columns: {', '.join(map(str, available[:8]))}"
                              f"{' ...' if len(available) > 8 else ''})",
                              "name each cell's expression column in the cell sheet (column 'expression') "
                              "or rename the cell to match the table; a cell without RNA-seq gets a predict_with "
                              "column instead (a trained cell of the sheet, or pooled)")
    keyed = df.set_index(genes, append=True)
    values = {c: _numeric(keyed[c], c, path, set(missing_values)) for c in columns}
    out = pd.DataFrame({c: v.to_numpy() for c, v in values.items()}, index=pd.Index(genes.to_numpy(), name="gene_id"))
    return out


def cell_labels(genes: pd.DataFrame, expression: pd.DataFrame, cell: str, column: str | None = None,
                source: str | os.PathLike | None = None, target: str = "class") -> tuple[pd.DataFrame, dict]:
    """Labels of one cell: a table (gene_id, rpkm, label; with ``target`` ``level`` also ``level``, log2(RPKM + 1))
    and a summary (median, counts).

    ``genes`` needs ``gene_id`` and ``ensembl``; ``expression`` is a checked table (``read_expression``);
    ``column`` is the cell's column in it (default: ``cell``). Genes absent from the table, or without a
    value, are dropped and counted: fewer than half of ``genes`` labelled is an error, more than 5 % lost a
    warning (:func:`deepchrome.annotation.check_kept`). A column that leaves ON or OFF below
    :data:`MIN_CLASS_SHARE` of the genes is an error naming the median (e.g. a median RPKM of 0).
    """
    column = column or cell
    if column not in expression.columns:
        raise DeepChromeError(source, f"no column {column!r} for cell {cell!r}",
                              "name the cell's expression column in the cell sheet (column 'expression') "
                              "or rename the cell to match the table; a cell without RNA-seq gets a predict_with "
                              "column instead (a trained cell of the sheet, or pooled)")
    rpkm = genes["ensembl"].map(expression[column])
    has = rpkm.notna()
    if not has.any():
        raise DeepChromeError(source, f"the RPKM column {column!r} has no value for any gene of the annotation",
                              "fill the cell's column, or check that the table and the annotation use the same "
                              "gene IDs (Ensembl IDs, versions are ignored)")
    check_kept(source, f"of the annotation have a value in column {column!r} (cell {cell})", int(has.sum()),
               len(genes), genes["ensembl"][~has],
               "check that the expression table and the annotation use the same gene IDs (Ensembl IDs; versions "
               "are ignored) and that the cell's column is filled")
    median = float(np.median(rpkm[has]))
    label = (rpkm[has] > median).astype(np.int64)
    n_on = int(label.sum())
    if n_on in (0, int(has.sum())):
        raise DeepChromeError(source, f"column {column!r} (cell {cell}): {n_on} of {int(has.sum())} genes are above "
                              f"the median {median:.4g}, so one class (ON or OFF) is empty",
                              "check the cell's expression column: it is constant (all zeros?) or the wrong column "
                              "(set 'expression' in the cell sheet)")
    if min(n_on, int(has.sum()) - n_on) < MIN_CLASS_SHARE * has.sum():
        zeros = int((rpkm[has] == 0).sum())
        raise DeepChromeError(source, f"column {column!r} (cell {cell}): the median RPKM is {median:.4g} ({zeros:,} of "
                              f"{int(has.sum()):,} genes have RPKM 0), so only {n_on:,} genes are above it (ON) and "
                              f"{int(has.sum()) - n_on:,} are not: under {100 * MIN_CLASS_SHARE:.0f}% in one class, "
                              "too few for every split to hold both",
                              "check the cell's expression column (mostly zeros: the wrong column, a failed RNA-seq "
                              "run, or values on another scale?); set 'expression' in the cell sheet, or leave the "
                              "cell out")
    table = pd.DataFrame({"gene_id": genes["gene_id"][has].to_numpy(), "rpkm": rpkm[has].to_numpy(),
                          "label": label.to_numpy()})
    if target == "level":
        table["level"] = expression_level(table["rpkm"])
    info = {"cell": cell, "median_rpkm": median, "n_genes": int(len(genes)), "n_labelled": int(has.sum()),
            "n_dropped_no_value": int((~has).sum()), "n_on": n_on,
            "first_dropped": genes["ensembl"][~has].head(5).tolist()}
    log.info("%s: median RPKM %.4g over %d genes; %d ON, %d OFF; %d genes without a value dropped", cell, median,
             info["n_labelled"], info["n_on"], info["n_labelled"] - info["n_on"], info["n_dropped_no_value"])
    return table, info
