"""The in-memory form of one cell and its files.

A cell is ``X`` float32 ``[genes, marks, bins]``, ``gene_id`` (str ``[genes]``, unique), ``marks``
(str ``[marks]``, config order), ``y`` int64 ``[genes]`` (0/1), ``split`` (str ``[genes]``: train,
valid or test) and, for ``target: level``, ``level`` float64 ``[genes]`` (log2(RPKM + 1)).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .errors import DeepChromeError
from .io import atomic_path, read_tsv

SPLITS = ("train", "valid", "test")


@dataclass
class CellData:
    """Features, labels and split of one cell, rows aligned."""

    X: np.ndarray  # float32 [genes, marks, bins]
    y: np.ndarray  # int64 [genes]
    gene_id: np.ndarray  # str [genes]
    split: np.ndarray  # str [genes]
    marks: list[str]
    level: np.ndarray | None = None  # float64 [genes], log2(RPKM + 1); labels.tsv's level column when it has one
    bins: dict | None = None  # how the features were binned: bin_size (bp), bin_order, input (FEATURE_KEYS)

    def levels(self) -> np.ndarray:
        """``level`` float64 ``[genes]``, or an error saying how to get it (``target: level``)."""
        if self.level is None:
            raise DeepChromeError(None, "the cell's labels.tsv has no 'level' column (it was made for target: class)",
                                  "run with target: level, which rebuilds the labels with log2(RPKM + 1) per gene")
        return self.level

    def part(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """``(X, y)`` of the genes in split ``name``."""
        mask = self.split == name
        return self.X[mask], self.y[mask]


FEATURE_KEYS = ("bin_size", "bin_order", "input")
"""What a features file records of how it was made, beside its marks and number of bins."""


def save_features(path: str | os.PathLike, X: np.ndarray, gene_id, marks, bins: dict) -> None:
    """Write a features file (npz with X float32 [genes, marks, bins], gene_id, marks, and ``description``: JSON of
    ``bins``' :data:`FEATURE_KEYS`: bin size in bp, bin order strand/genome, input signal/reads/processed),
    atomically."""
    X = np.asarray(X, dtype=np.float32)
    gene_id = np.asarray(gene_id, dtype=str)
    marks = np.asarray(marks, dtype=str)
    if X.ndim != 3 or X.shape[0] != len(gene_id) or X.shape[1] != len(marks):
        raise ValueError(f"features of shape {X.shape} do not match {len(gene_id)} genes x {len(marks)} marks")
    if len(set(gene_id)) != len(gene_id):
        raise ValueError("gene_id must be unique within a cell")
    description = json.dumps({k: bins[k] for k in FEATURE_KEYS}, sort_keys=True)
    with atomic_path(path) as tmp:
        np.savez_compressed(tmp, X=X, gene_id=gene_id, marks=marks, description=np.asarray(description))


def load_features(path: str | os.PathLike) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Read a features file: ``(X float32 [genes, marks, bins], gene_id str [genes], marks)``."""
    with np.load(path, allow_pickle=False) as z:
        return z["X"].astype(np.float32, copy=False), z["gene_id"].astype(str), [str(m) for m in z["marks"]]


def feature_description(path: str | os.PathLike) -> dict:
    """How the features at ``path`` were made: ``marks`` (array order), ``bins`` (number), and :data:`FEATURE_KEYS`.
    What a model records of its training features and checks before scoring others."""
    with np.load(path, allow_pickle=False) as z:
        if "description" not in z.files:
            raise DeepChromeError(path, "the features file records no description of its bins (bin size, order, "
                                  "input): it was written by an earlier version",
                                  "delete it and rerun the workflow, which rebuilds it")
        bins = json.loads(str(z["description"]))
        marks, shape = [str(m) for m in z["marks"]], z["X"].shape
    return {"marks": marks, "bins": int(shape[2]), **bins}


def load_cell(features: str | os.PathLike, labels: str | os.PathLike, split: str | os.PathLike) -> CellData:
    """Join a cell's features, labels.tsv and the split.tsv on gene_id (genes missing from any are left out);
    ``level`` is labels.tsv's ``level`` column where it has one (``target: level``), else None."""
    X, gene_id, marks = load_features(features)
    lab = read_tsv(labels, dtype={"gene_id": str}).set_index("gene_id")
    spl = read_tsv(split, dtype={"gene_id": str}).set_index("gene_id")
    keep = np.array([g in lab.index and g in spl.index for g in gene_id], dtype=bool)
    if not keep.any():
        raise DeepChromeError(features, "no gene of the features file has both a label and a split",
                              "check that the annotation, the expression table and the split use the same gene IDs")
    ids = gene_id[keep]
    description = feature_description(features)
    return CellData(
        X=X[keep],
        y=lab.loc[ids, "label"].to_numpy(dtype=np.int64),
        gene_id=ids,
        split=spl.loc[ids, "split"].to_numpy(dtype=str),
        marks=marks,
        level=lab.loc[ids, "level"].to_numpy(dtype=np.float64) if "level" in lab.columns else None,
        bins={k: description[k] for k in FEATURE_KEYS},
    )


def combine_marks(mark_files: list[str], gene_id, marks: list[str], bins: dict, path: str | os.PathLike) -> None:
    """Stack per-mark arrays ([genes, bins] .npy, in ``marks`` order) into a features file described by ``bins``
    (:data:`FEATURE_KEYS`)."""
    X = np.stack([np.load(f) for f in mark_files], axis=1)
    save_features(path, X, gene_id, marks, bins)


# ---- the published processed-data format (Zenodo 2652278, DeepChrome / AttentiveChrome) -------------
# <EID>/classification/{train,valid,test}.csv, no header, 100 rows per gene:
# geneID,binID,<marks in alphabetical order>,label ; geneID is the Ensembl number without "ENSG00000".

PUBLISHED_MARKS = ("H3K27me3", "H3K36me3", "H3K4me1", "H3K4me3", "H3K9me3")
PUBLISHED_BINS = {"bin_size": 100, "bin_order": "genome", "input": "processed"}
"""The published files' bins: 100 bins of 100 bp over TSS +/- 5 kb, in genome order, read counts."""
ENSEMBL_PREFIX = "ENSG00000"


def published_gene_id(gene_id: str) -> str:
    """The published file's gene ID of one of our gene IDs (``ENSG00000000003`` -> ``000003``;
    a repeat key ``000003_2`` or a list name ``ENSG..._SYMBOL`` loses its suffix)."""
    core = gene_id.split("_")[0]
    return core[len(ENSEMBL_PREFIX):] if core.startswith(ENSEMBL_PREFIX) else core


def _fail(path, line: int | None, problem: str) -> DeepChromeError:
    where = f"line {line}: " if line else ""
    return DeepChromeError(path, where + problem,
                           "give the published layout: no header, 100 rows per gene (bin IDs 1..100 in order), columns "
                           "geneID,binID," + ",".join(PUBLISHED_MARKS) + ",label; re-download or re-export the cell")


def read_published_csv(path: str | os.PathLike, n_bins: int = 100) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Read one split file: ``(X float32 [genes, 5, bins], gene_id str [genes], y int64 [genes])``.

    Marks are in the file's (alphabetical) column order. Gene IDs are normalised to the 6-digit
    form (``3`` -> ``000003``) and may repeat: an ID that appears as two blocks is two genes (the
    paper's list names 7 Ensembl IDs twice; ``load_published_cell`` keys them apart). CRLF line ends
    and a missing final newline are fine. Problems name the file and line.
    """
    if not os.path.exists(path):
        raise _fail(path, None, "the file does not exist")
    if os.path.getsize(path) == 0:
        raise _fail(path, None, "the file is empty (some public copies have empty split files)")
    try:
        table = pd.read_csv(path, header=None, dtype=str, skip_blank_lines=True)
    except pd.errors.ParserError as err:
        raise _fail(path, None, f"cannot be parsed as CSV ({err})")
    table = table.apply(lambda col: col.str.strip())
    width = 3 + len(PUBLISHED_MARKS)
    if table.shape[1] != width:
        raise _fail(path, 1, f"{table.shape[1]} columns where the format has {width}")
    numbers = table.apply(pd.to_numeric, errors="coerce")
    bad = numbers.isna().to_numpy()
    if bad.any():
        row, col = map(int, np.argwhere(bad)[0])
        raise _fail(path, row + 1, f"column {col + 1} holds {table.iat[row, col]!r}, not a number")
    if len(table) % n_bins:
        raise _fail(path, None, f"{len(table)} rows is not a whole number of genes of {n_bins} bins")
    values = numbers.to_numpy(dtype=np.float64)
    genes = len(values) // n_bins
    blocks = values.reshape(genes, n_bins, width)
    ids = table[0].to_numpy().reshape(genes, n_bins)
    ragged = (ids != ids[:, :1]).any(axis=1) | (blocks[:, :, 1] != np.arange(1, n_bins + 1)).any(axis=1)
    if ragged.any():
        g = int(np.argmax(ragged))
        raise _fail(path, g * n_bins + 1, f"the gene starting here does not have {n_bins} consecutive rows with "
                                          f"bin IDs 1..{n_bins}")
    labels = blocks[:, :, -1]
    mixed = (labels != labels[:, :1]).any(axis=1) | ~np.isin(labels[:, 0], (0, 1))
    if mixed.any():
        g = int(np.argmax(mixed))
        raise _fail(path, g * n_bins + 1, "the gene starting here has more than one label, or a label other than 0/1")
    gene_id = np.array([str(int(i)).zfill(6) for i in blocks[:, 0, 0]])
    X = np.ascontiguousarray(blocks[:, :, 2:-1].transpose(0, 2, 1), dtype=np.float32)
    return X, gene_id, labels[:, 0].astype(np.int64)


def key_repeats(ids) -> np.ndarray:
    """Make IDs unique: the n-th repeat of an ID becomes ``<id>_<n>`` (``062370``, ``062370_2``)."""
    seen: dict[str, int] = {}
    out = []
    for g in ids:
        seen[g] = seen.get(g, 0) + 1
        out.append(g if seen[g] == 1 else f"{g}_{seen[g]}")
    return np.array(out, dtype=str)


def write_published_csv(path: str | os.PathLike, X: np.ndarray, gene_id, y, marks) -> None:
    """Write one split file in the published format (X [genes, marks, bins] in genome bin order), atomically.

    Columns are put in the published (alphabetical) mark order; integral values are written as integers.
    """
    order = [list(marks).index(m) for m in sorted(marks)]
    X = np.asarray(X)[:, order, :]
    genes, n_marks, n_bins = X.shape
    ids = np.repeat([published_gene_id(g) for g in gene_id], n_bins)
    bins = np.tile(np.arange(1, n_bins + 1), genes)
    values = X.transpose(0, 2, 1).reshape(-1, n_marks)
    integral = np.all(values == np.round(values))
    cols = [pd.Series(values[:, j]).map((lambda v: str(int(v))) if integral else (lambda v: f"{v:.6g}"))
            for j in range(n_marks)]
    frame = pd.DataFrame({"id": ids, "bin": bins, **{str(j): c for j, c in enumerate(cols)},
                          "label": np.repeat(np.asarray(y, dtype=np.int64), n_bins)})
    with atomic_path(path) as tmp:
        frame.to_csv(tmp, header=False, index=False)


def find_published_cells(root: str | os.PathLike) -> dict[str, dict[str, str]]:
    """Cells in a folder of the published layout: ``{cell: {split: csv path}}``.

    Accepts ``root/<EID>/classification/<split>.csv``, ``root/<EID>/<split>.csv``, or ``root`` itself
    holding ``<split>.csv`` (the cell is then named after the folder). A cell needs train.csv and
    test.csv; valid.csv is optional.
    """
    root = os.path.abspath(root)

    def splits_in(folder: str) -> dict[str, str]:
        return {s: os.path.join(folder, f"{s}.csv") for s in SPLITS if os.path.exists(os.path.join(folder, f"{s}.csv"))}

    if "train" in splits_in(root):
        return {os.path.basename(root): splits_in(root)}
    cells = {}
    for name in sorted(os.listdir(root)) if os.path.isdir(root) else []:
        for folder in (os.path.join(root, name, "classification"), os.path.join(root, name)):
            found = splits_in(folder)
            if found:
                cells[name] = found
                break
    if not cells:
        raise DeepChromeError(root, "no cell in the published layout (<EID>/classification/{train,valid,test}.csv)",
                              "point 'processed' at the folder holding the cell folders, or at data.tar.gz")
    for cell, files in cells.items():
        missing = [s for s in ("train", "test") if s not in files]
        if missing:
            raise DeepChromeError(os.path.join(root, cell), f"no {' or '.join(missing)}.csv",
                                  "each cell needs train.csv and test.csv (valid.csv is optional)")
    return cells


def load_published_cell(files: dict[str, str], marks: list[str], seed: int = 0,
                        valid_fraction: float = 0.2) -> CellData:
    """One cell from its published split files, with marks put in ``marks`` order.

    Without a valid file, a seeded, stratified ``valid_fraction`` of train becomes the validation set.
    """
    from sklearn.model_selection import train_test_split

    if sorted(marks) != sorted(PUBLISHED_MARKS):
        raise DeepChromeError(None, f"the published files hold the marks {', '.join(PUBLISHED_MARKS)}, "
                              f"the config names {', '.join(marks)}", "list those five marks under 'marks'")
    parts = {s: read_published_csv(p) for s, p in files.items()}
    if "valid" not in parts:
        X, g, y = parts["train"]
        tr, va = train_test_split(np.arange(len(y)), test_size=valid_fraction, random_state=seed, stratify=y)
        tr, va = np.sort(tr), np.sort(va)
        parts["train"], parts["valid"] = (X[tr], g[tr], y[tr]), (X[va], g[va], y[va])
    order = [PUBLISHED_MARKS.index(m) for m in marks]
    gene_id = key_repeats(np.concatenate([parts[s][1] for s in SPLITS]))
    return CellData(X=np.concatenate([parts[s][0] for s in SPLITS])[:, order, :],
                    y=np.concatenate([parts[s][2] for s in SPLITS]), gene_id=gene_id,
                    split=np.repeat(np.array(SPLITS), [len(parts[s][2]) for s in SPLITS]), marks=list(marks),
                    bins=dict(PUBLISHED_BINS))


def save_cell(cell: CellData, features: str | os.PathLike, labels: str | os.PathLike,
              split: str | os.PathLike, rpkm=None) -> None:
    """Write a cell as the workflow's files: features.npz, labels.tsv (gene_id, rpkm, label), split.tsv."""
    from .io import write_tsv

    save_features(features, cell.X, cell.gene_id, cell.marks, cell.bins)
    rpkm = np.full(len(cell.y), np.nan) if rpkm is None else rpkm
    write_tsv(pd.DataFrame({"gene_id": cell.gene_id, "rpkm": rpkm, "label": cell.y}), labels)
    write_tsv(pd.DataFrame({"gene_id": cell.gene_id, "split": cell.split}), split)


def export_published_cell(cell: CellData, outdir: str | os.PathLike, strands=None, bin_order: str = "genome") -> None:
    """Write ``outdir/{train,valid,test}.csv`` in the published format (bins put back in genome order)."""
    from .windows import orient

    X = cell.X if bin_order == "genome" else orient(cell.X, strands, bin_order)  # reversing twice restores
    for name in SPLITS:
        mask = cell.split == name
        write_published_csv(os.path.join(outdir, f"{name}.csv"), X[mask], cell.gene_id[mask], cell.y[mask], cell.marks)


def unpack_archive(archive: str | os.PathLike, outdir: str | os.PathLike) -> None:
    """Extract a (gzipped) tar archive of the published data into ``outdir``, atomically.

    Extracts into a temporary folder beside ``outdir`` and renames it when complete; only plain
    files and folders are taken (tarfile's 'data' filter refuses links and paths leaving the folder).
    """
    import shutil
    import tarfile
    import tempfile

    outdir = os.path.abspath(outdir)
    os.makedirs(os.path.dirname(outdir), exist_ok=True)
    tmp = tempfile.mkdtemp(prefix=".unpack.", dir=os.path.dirname(outdir))
    try:
        with tarfile.open(archive) as tar:
            tar.extractall(tmp, filter="data")
        os.replace(tmp, outdir)
    except (tarfile.TarError, OSError, EOFError) as err:
        raise DeepChromeError(archive, f"cannot unpack the archive ({err})",
                              "give the published data.tar.gz (download it again if it is truncated), or its unpacked folder")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def require_both_classes(cell: CellData, split: str) -> None:
    """Raise a DeepChromeError unless split ``split`` of the cell holds both classes (else AUC is undefined)."""
    y = cell.y[cell.split == split]
    if np.unique(y).size < 2:
        raise DeepChromeError(None, f"the {split} split has {y.size} genes but not both classes",
                              "use a split whose train and valid parts each hold expressed and unexpressed genes")
