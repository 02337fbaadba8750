"""One train/valid/test assignment of genes, shared by all cells.

Methods:
* ``deepchrome``: genes sorted by ID, contiguous blocks of ceil(N/3), ceil(N/3) and the rest (the paper's
  split: 6601/6601/6600 for its 19,802 genes). Blocks are not label-balanced.
* ``random``: seeded, stratified on the genes' labels across all cells of the cell sheet.

The split never depends on which cells a run chooses (``--config cells=...``): the labels it looks at
are those of every cell in the sheet.
* ``chromosome``: named chromosomes held out for validation and test; the rest trains.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

from .annotation import chrom_aliases
from .errors import DeepChromeError
from .labels import cell_labels

METHODS = ("deepchrome", "random", "chromosome")


def deepchrome_split(gene_ids) -> pd.DataFrame:
    """The paper's split: (gene_id, split) for genes sorted by ID in blocks of ceil(N/3), ceil(N/3), rest."""
    ids = np.sort(np.asarray(gene_ids, dtype=str))
    third = math.ceil(len(ids) / 3)
    split = np.repeat(np.array(["train", "valid", "test"]), [third, third, len(ids) - 2 * third])
    return pd.DataFrame({"gene_id": ids, "split": split})


def random_split(gene_ids, strata, seed: int, valid: float = 1 / 3, test: float = 1 / 3) -> pd.DataFrame:
    """Seeded split stratified on ``strata`` (one value per gene); fractions of all genes."""
    ids = np.asarray(gene_ids, dtype=str)
    strata = np.asarray(strata)
    rest, test_ids, rest_s, _ = train_test_split(ids, strata, test_size=test, random_state=seed, stratify=strata)
    train_ids, valid_ids = train_test_split(rest, test_size=valid / (1 - test), random_state=seed, stratify=rest_s)
    out = pd.DataFrame({"gene_id": np.concatenate([train_ids, valid_ids, test_ids]),
                        "split": ["train"] * len(train_ids) + ["valid"] * len(valid_ids) + ["test"] * len(test_ids)})
    return out.sort_values("gene_id").reset_index(drop=True)


def chromosome_split(gene_ids, chroms, valid_chromosomes: list[str], test_chromosomes: list[str]) -> pd.DataFrame:
    """Genes on ``valid_chromosomes`` / ``test_chromosomes`` form those sets; all others train."""
    chroms = pd.Series(np.asarray(chroms, dtype=str))

    def on(names: list[str]) -> np.ndarray:
        spellings = {a for n in names for a in chrom_aliases(n)}
        return chroms.isin(spellings).to_numpy()

    is_valid, is_test = on(valid_chromosomes), on(test_chromosomes)
    if (is_valid & is_test).any():
        raise DeepChromeError(None, "a chromosome is listed both for validation and for test",
                              "list each held-out chromosome once, under split.valid_chromosomes or split.test_chromosomes")
    split = np.where(is_test, "test", np.where(is_valid, "valid", "train"))
    for name in ("train", "valid", "test"):
        if not (split == name).any():
            raise DeepChromeError(None, f"the chromosome split leaves no gene for {name}",
                                  "name chromosomes that hold genes in split.valid_chromosomes and "
                                  "split.test_chromosomes, and leave others for training")
    out = pd.DataFrame({"gene_id": np.asarray(gene_ids, dtype=str), "split": split})
    return out.sort_values("gene_id").reset_index(drop=True)


def make_split(genes: pd.DataFrame, labels: pd.DataFrame, method: str, seed: int = 0,
               valid_chromosomes: list[str] | None = None, test_chromosomes: list[str] | None = None) -> pd.DataFrame:
    """Split the genes that have a label in at least one cell.

    ``genes``: gene table (gene_id, chrom); ``labels``: genes x cells, 0/1 or NaN. Returns (gene_id, split).
    """
    ids = labels.index[labels.notna().any(axis=1)]
    genes = genes.set_index("gene_id").loc[ids]
    if method == "deepchrome":
        return deepchrome_split(ids)
    if method == "random":
        # Stratify on the share of cells in which the gene is ON (rounded), so every split sees both classes.
        strata = np.rint(labels.loc[ids].mean(axis=1).to_numpy() * 2).astype(int)
        return random_split(ids, strata, seed)
    if method == "chromosome":
        return chromosome_split(ids, genes["chrom"], valid_chromosomes or [], test_chromosomes or [])
    raise DeepChromeError(None, f"unknown split method {method!r}", f"use one of {', '.join(METHODS)}")


def label_matrix(windows: pd.DataFrame, expression: pd.DataFrame, columns: dict[str, str]) -> pd.DataFrame:
    """Genes x cells table of labels (NaN where a cell has no value) for every cell of the sheet.

    ``columns``: cell -> its column of the (checked) ``expression`` table.
    """
    return pd.DataFrame({cell: cell_labels(windows, expression, cell, column)[0].set_index("gene_id")["label"]
                         for cell, column in columns.items()})
