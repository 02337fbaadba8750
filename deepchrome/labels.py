"""Expression table -> ON/OFF labels per cell.

Label rule (DeepChrome): 1 when the gene's RPKM is strictly greater than the cell's median RPKM,
else 0; the median is taken over the genes of the gene table that have an RPKM value (a gene
listed twice counts twice).
"""

from __future__ import annotations

import logging
import os

import numpy as np
import pandas as pd

from .annotation import strip_version
from .errors import DeepChromeError

log = logging.getLogger("deepchrome.labels")


def read_expression(path: str | os.PathLike) -> pd.DataFrame:
    """Read an RPKM table (Roadmap layout: ``gene_id`` then one column per cell) indexed by gene ID.

    Roadmap's ``57epigenomes.RPKM.pc.gz`` ends every data row with an extra tab; ``index_col=False``
    keeps pandas from shifting the columns one place to the right. IDs lose any version suffix.
    """
    try:
        df = pd.read_csv(path, sep="\t", index_col=False, dtype={0: str})
    except (OSError, ValueError, pd.errors.ParserError, EOFError) as err:
        raise DeepChromeError(path, f"cannot read the expression table ({err})",
                              "give a tab-separated table: gene_id, then one RPKM column per cell")
    if df.shape[1] < 2 or df.empty:
        raise DeepChromeError(path, "the expression table has no cell columns or no rows",
                              "give a tab-separated table: gene_id, then one RPKM column per cell")
    df = df.rename(columns={df.columns[0]: "gene_id"})
    df["gene_id"] = df["gene_id"].map(strip_version)
    if df["gene_id"].duplicated().any():
        dup = df.loc[df["gene_id"].duplicated(), "gene_id"].iloc[0]
        raise DeepChromeError(path, f"gene {dup} has more than one row", "keep one row per gene")
    return df.set_index("gene_id")


def cell_labels(genes: pd.DataFrame, expression: pd.DataFrame, cell: str, column: str | None = None,
                source: str | os.PathLike | None = None) -> tuple[pd.DataFrame, dict]:
    """Labels of one cell: a table (gene_id, rpkm, label) and a summary (median, counts).

    ``genes`` needs ``gene_id`` and ``ensembl``; ``column`` is the cell's column in the expression
    table (default: ``cell``). Genes absent from the table, or without a value, are dropped and counted.
    """
    column = column or cell
    if column not in expression.columns:
        raise DeepChromeError(source, f"no column {column!r} for cell {cell!r} (columns: "
                              f"{', '.join(map(str, expression.columns[:8]))}{' ...' if expression.shape[1] > 8 else ''})",
                              "name the cell's expression column in the cell sheet (column 'expression') "
                              "or rename the cell to match the table")
    values = pd.to_numeric(expression[column], errors="coerce")
    rpkm = genes["ensembl"].map(values)
    has = rpkm.notna()
    if not has.any():
        raise DeepChromeError(source, f"the RPKM column {column!r} has no value for any gene of the annotation",
                              "fill the cell's column, or check that the table and the annotation use the same "
                              "gene IDs (Ensembl IDs, versions are ignored)")
    if (rpkm[has] < 0).any():
        raise DeepChromeError(source, f"column {column!r} holds negative values", "give RPKM (or TPM) values >= 0")
    median = float(np.median(rpkm[has]))
    table = pd.DataFrame({"gene_id": genes["gene_id"][has].to_numpy(), "rpkm": rpkm[has].to_numpy(),
                          "label": (rpkm[has] > median).astype(np.int64).to_numpy()})
    info = {"cell": cell, "median_rpkm": median, "n_genes": int(len(genes)), "n_labelled": int(has.sum()),
            "n_dropped_no_value": int((~has).sum()), "n_on": int(table["label"].sum())}
    log.info("%s: median RPKM %.4g over %d genes; %d ON, %d OFF; %d genes without a value dropped", cell, median,
             info["n_labelled"], info["n_on"], info["n_labelled"] - info["n_on"], info["n_dropped_no_value"])
    return table, info
