"""Models across cells: each cell's CNN on every other cell, one CNN pooled over cells, and leave-one-cell-out.

* **Transfer matrix**: the reported ensemble of cell ``a`` (its ``model.pt``) scores the test genes of cell
  ``b``; ``[a, b]`` is that test ROC AUC. Scores are made exactly as training made the cell's own
  (:func:`deepchrome.ensemble.predict` on all of the cell's genes, the transform the model records, the same device and
  thread count), so the diagonal equals each cell's reported CNN test AUC bit for bit. Under ``target: level``
  the score is the predicted level and the AUC is that of the predicted level against the median label, as each
  cell's reported ``test_auc`` is.
* **Pooled model**: one ensemble (same preset and seeds) trained on the train genes of all cells together,
  early stopping on all cells' valid genes; the cell's identity is not an input, so the model learns what
  holds across cells. Evaluated on each cell's test genes.
* **Leave-one-cell-out**: the pooled model trained without cell ``X`` and tested on ``X``: what a cell
  without RNA-seq can expect from a model of the others.

All three are trained for the run's ``target`` (``class`` or ``level``, as each cell's own CNN).

With one split for all cells (raw mode) no test gene of any cell was seen in training by any of these
models; in processed mode each cell keeps its files' split (the published files share theirs).
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping

import numpy as np
import pandas as pd
import torch

from .dataset import CellData, load_cell
from .ensemble import load_model, predict
from .errors import DeepChromeError
from .evaluate import metrics
from .io import read_tsv, write_tsv
from .predict import check_inputs, check_target
from .spec import LEFT_OUT, POOLED
from .stats import bootstrap_ci, delong_test
from .train import select_device, train_and_save

log = logging.getLogger("deepchrome.transfer")


def pool_cells(cells: Mapping[str, CellData]) -> CellData:
    """The genes of all ``cells`` as one cell: rows stacked in the mapping's order, each gene keeping its split,
    label and level (``target: level``: when every cell has one), gene IDs ``<cell>/<gene>``, and the cells' bins
    (which must agree, as their marks); the cell's identity is not among the features."""
    if not cells:
        raise DeepChromeError(None, "no cell to pool", "pool at least one cell with expression")
    marks = {tuple(c.marks) for c in cells.values()}
    if len(marks) > 1:
        raise DeepChromeError(None, f"the cells' features hold different marks {sorted(marks)}",
                              "build every cell's features with the same marks")
    bins = {json.dumps(c.bins, sort_keys=True) for c in cells.values()}
    if len(bins) > 1:
        raise DeepChromeError(None, f"the cells' features are binned differently ({', '.join(sorted(bins))})",
                              "build every cell's features with the same windows and input")
    return CellData(X=np.concatenate([c.X for c in cells.values()]), y=np.concatenate([c.y for c in cells.values()]),
                    gene_id=np.concatenate([np.char.add(f"{name}/", c.gene_id.astype(str))
                                            for name, c in cells.items()]),
                    split=np.concatenate([c.split for c in cells.values()]), marks=list(next(iter(cells.values())).marks),
                    level=None if any(c.level is None for c in cells.values())
                    else np.concatenate([c.level for c in cells.values()]), bins=next(iter(cells.values())).bins)


def load_cells(names: list[str], features: list[str], labels: list[str], splits: list[str]) -> dict[str, CellData]:
    """The cells ``names`` from their files (``features``, ``labels``: one per cell; ``splits``: one per cell, or a
    single split shared by all cells, as in raw mode, where the workflow lists that one file once)."""
    if len(splits) == 1:
        splits = list(splits) * len(names)
    if not len(names) == len(features) == len(labels) == len(splits):
        raise ValueError(f"{len(names)} cells, {len(features)} features, {len(labels)} labels, {len(splits)} splits")
    return {c: load_cell(f, lab, s) for c, f, lab, s in zip(names, features, labels, splits)}


def cell_scores(members, cells: Mapping[str, CellData], transform_kind: str, device) -> pd.DataFrame:
    """One row per gene of every cell: ``cell``, ``gene_id``, ``split``, ``label``, ``score`` (the ensemble's P(ON);
    level members: the predicted level, and ``level`` the measured one); ``transform_kind``: the model's."""
    parts = [pd.DataFrame({"cell": name, "gene_id": c.gene_id, "split": c.split, "label": c.y,
                           "score": predict(members, c.X, transform_kind, device),
                           **({} if c.level is None else {"level": c.level})}) for name, c in cells.items()]
    return pd.concat(parts, ignore_index=True)


def train_pooled(names: list[str], features: list[str], labels: list[str], splits: list[str], left_out: str | None,
                 cnn: dict, first_seed: int, device: str, threads: int, out: Mapping[str, str],
                 target: str = "class") -> None:
    """Train the pooled ensemble (the config block ``cnn``, as a cell's own) on every cell of ``names`` but
    ``left_out`` (None: all), then score every gene of every cell with it. Writes ``out['model']`` (model.pt,
    describing itself: its ``cell`` is ``pooled`` or ``without_<cell>``, its ``cells`` those trained on),
    ``out['history']``, ``out['metrics']`` (AUCs over the pooled genes, the seeds, the cells trained on) and
    ``out['predictions']`` (:func:`cell_scores`). ``target``: ``class`` (P(ON)) or ``level`` (the level head, metrics
    as a cell's own level CNN's: :func:`deepchrome.evaluate.level_model_metrics`)."""
    cells = load_cells(names, features, labels, splits)
    trained = [c for c in names if c != left_out]
    pooled = pool_cells({c: cells[c] for c in trained})
    log.info("pooled training set: %s; %d train, %d valid genes", ", ".join(trained),
             int((pooled.split == "train").sum()), int((pooled.split == "valid").sum()))
    name = POOLED if left_out is None else f"{LEFT_OUT}{left_out}"
    train_and_save(pooled, cnn, first_seed, device, threads, target, name, out["model"], out["history"],
                   out["metrics"], cells=trained, extra={"cells": trained, "left_out": left_out})
    members, description = load_model(out["model"])
    write_tsv(cell_scores(members, cells, description["inputs"]["transform"], select_device(device)[0]),
              out["predictions"])


def transfer_matrix(names: list[str], models: list[str], features: list[str], labels: list[str], splits: list[str],
                    device: str, threads: int, target: str = "class") -> pd.DataFrame:
    """Test ROC AUC of every cell's model (rows, ``models[i]`` is cell ``names[i]``'s model.pt) on every cell's test
    genes (columns), cells in ``names`` order; ``target="level"``: the AUC of the predicted level against the median
    label. Each model is checked against the run's ``target`` and each cell's features first; each scores with its
    own transform (its description)."""
    torch.set_num_threads(threads)
    dev = select_device(device)[0]
    cells = load_cells(names, features, labels, splits)
    matrix = pd.DataFrame(np.nan, index=pd.Index(names, name="model_cell"), columns=names)
    for name, model in zip(names, models):
        members, description = load_model(model)
        check_target(model, description, target)
        for (data, cell), path in zip(cells.items(), features):
            check_inputs(model, description, path)
            score = predict(members, cell.X, description["inputs"]["transform"], dev)  # all genes, as training did
            test = cell.split == "test"
            matrix.loc[name, data] = metrics(cell.y[test], score[test])["auc"]
        log.info("model of %s: test AUC %s", name, matrix.loc[name].round(4).to_dict())
    return matrix


def _test_scores(path: str | os.PathLike, cell: str | None = None) -> pd.DataFrame:
    """Test genes of a predictions table (of ``cell`` when the table has a ``cell`` column), by gene_id."""
    table = read_tsv(path, dtype={"gene_id": str})
    if cell is not None:
        table = table[table["cell"] == cell]
    return table[table["split"] == "test"].set_index("gene_id")[["label", "score"]]


def pooled_table(names: list[str], labels: list[str], own: list[str], pooled: str,
                 left_out: list[str] | None = None, promoter: list[str] | None = None) -> pd.DataFrame:
    """Per cell (``names``, display ``labels``): the test AUC of its own CNN (``own``: its predictions.tsv), of the
    pooled model (``pooled``: its predictions.tsv) and, when given, of the model trained without it
    (``left_out``) and of the untrained promoter score (``promoter``). Under ``target: level`` every score is a
    predicted level and every AUC that of the predicted level against the median label.

    For the pooled and left-out models: 95% bootstrap interval (``_low``, ``_high``), difference to the own CNN
    (``_diff``) and DeLong's two-sided p against it (``_p``), and ``pooling`` = helps / hurts / no difference
    (DeLong p < 0.05). Rows are sorted by the own CNN's AUC, weakest first.
    """
    rows = []
    for i, cell in enumerate(names):
        mine = _test_scores(own[i])
        row = {"cell": cell, "name": labels[i], "n_test": len(mine), "cnn_auc": metrics(mine["label"], mine["score"])["auc"]}
        others = {"pooled": _test_scores(pooled, cell)}
        if left_out is not None:
            others["left_out"] = _test_scores(left_out[i], cell)
        for kind, table in others.items():
            table = table.loc[mine.index]
            if not (table["label"].to_numpy() == mine["label"].to_numpy()).all():
                raise DeepChromeError(pooled, f"cell {cell}: the {kind} model's test labels differ from the cell's own",
                                      "rebuild the pooled models from the cells' current labels")
            test = delong_test(mine["label"].to_numpy(), table["score"].to_numpy(), mine["score"].to_numpy())
            low, high = bootstrap_ci(mine["label"].to_numpy(), table["score"].to_numpy())["auc"]
            auc = metrics(table["label"], table["score"])["auc"]  # as every reported AUC (DeLong's differs in the last bit)
            row.update({f"{kind}_auc": auc, f"{kind}_low": low, f"{kind}_high": high,
                        f"{kind}_diff": test["diff"], f"{kind}_p": test["p"]})
        if promoter is not None:
            base = _test_scores(promoter[i]).loc[mine.index]
            row["promoter_auc"] = metrics(base["label"], base["score"])["auc"]
        row["pooling"] = ("no difference" if row["pooled_p"] >= 0.05 else
                          "helps" if row["pooled_diff"] > 0 else "hurts")
        rows.append(row)
    return pd.DataFrame(rows).sort_values("cnn_auc", kind="stable").reset_index(drop=True)
