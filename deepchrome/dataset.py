"""The in-memory form of one cell and its files.

A cell is ``X`` float32 ``[genes, marks, bins]``, ``gene_id`` (str ``[genes]``, unique), ``marks``
(str ``[marks]``, config order), ``y`` int64 ``[genes]`` (0/1) and ``split`` (str ``[genes]``: train,
valid or test).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .errors import DeepChromeError
from .io import atomic_path

SPLITS = ("train", "valid", "test")


@dataclass
class CellData:
    """Features, labels and split of one cell, rows aligned."""

    X: np.ndarray  # float32 [genes, marks, bins]
    y: np.ndarray  # int64 [genes]
    gene_id: np.ndarray  # str [genes]
    split: np.ndarray  # str [genes]
    marks: list[str]

    def part(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """``(X, y)`` of the genes in split ``name``."""
        mask = self.split == name
        return self.X[mask], self.y[mask]


def save_features(path: str | os.PathLike, X: np.ndarray, gene_id, marks) -> None:
    """Write a features file (npz with X float32 [genes, marks, bins], gene_id, marks), atomically."""
    X = np.asarray(X, dtype=np.float32)
    gene_id = np.asarray(gene_id, dtype=str)
    marks = np.asarray(marks, dtype=str)
    if X.ndim != 3 or X.shape[0] != len(gene_id) or X.shape[1] != len(marks):
        raise ValueError(f"features of shape {X.shape} do not match {len(gene_id)} genes x {len(marks)} marks")
    if len(set(gene_id)) != len(gene_id):
        raise ValueError("gene_id must be unique within a cell")
    with atomic_path(path) as tmp:
        np.savez_compressed(tmp, X=X, gene_id=gene_id, marks=marks)


def load_features(path: str | os.PathLike) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Read a features file: ``(X float32 [genes, marks, bins], gene_id str [genes], marks)``."""
    with np.load(path, allow_pickle=False) as z:
        return z["X"].astype(np.float32, copy=False), z["gene_id"].astype(str), [str(m) for m in z["marks"]]


def load_cell(features: str | os.PathLike, labels: str | os.PathLike, split: str | os.PathLike) -> CellData:
    """Join a cell's features, labels.tsv and the split.tsv on gene_id (genes missing from any are left out)."""
    X, gene_id, marks = load_features(features)
    lab = pd.read_csv(labels, sep="\t", dtype={"gene_id": str}).set_index("gene_id")
    spl = pd.read_csv(split, sep="\t", dtype={"gene_id": str}).set_index("gene_id")
    keep = np.array([g in lab.index and g in spl.index for g in gene_id], dtype=bool)
    if not keep.any():
        raise DeepChromeError(features, "no gene of the features file has both a label and a split",
                              "check that the annotation, the expression table and the split use the same gene IDs")
    ids = gene_id[keep]
    return CellData(
        X=X[keep],
        y=lab.loc[ids, "label"].to_numpy(dtype=np.int64),
        gene_id=ids,
        split=spl.loc[ids, "split"].to_numpy(dtype=str),
        marks=marks,
    )


def combine_marks(mark_files: list[str], gene_id, marks: list[str], path: str | os.PathLike) -> None:
    """Stack per-mark arrays ([genes, bins] .npy, in ``marks`` order) into a features file."""
    X = np.stack([np.load(f) for f in mark_files], axis=1)
    save_features(path, X, gene_id, marks)
