"""AttentiveChrome's own explanation: where its attention went, per gene and per class, and how far that agrees
with the CNN's attributions.

Attention is not an attribution: it says which bins and marks the model pooled (where it looked), not what raised
P(ON). The agreement with the CNN is therefore a comparison of profiles, not a test of either.

* :func:`cell_attention`: every test gene's bin attention ``[marks, bins]`` and mark attention ``[marks]`` (the
  members' mean), written to ``attention.npz`` with ``gene_id``, ``marks``, ``label`` and ``score``; the class
  summaries (mean over correctly predicted ON and OFF genes) to a second file.
* :func:`agreement`: per cell and mark, Pearson r over bins between the ON attention and the CNN's ON attribution
  profile, and per cell Spearman's rho between mark attention and the CNN's per-mark importance of ON genes.
"""

from __future__ import annotations

import logging
import os

import numpy as np
import pandas as pd
import torch
from scipy.stats import pearsonr, spearmanr

from .attentive import attention_maps
from .dataset import load_cell
from .ensemble import load_model, member_scores
from .errors import DeepChromeError
from .io import atomic_path, read_summary, write_tsv
from .spec import transform

log = logging.getLogger("deepchrome.attention")


def class_mean(values: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Mean of ``values`` ``[genes, ...]`` over the genes of ``mask``; NaN where no gene is in it."""
    return values[mask].mean(axis=0) if mask.any() else np.full(values.shape[1:], np.nan)


def cell_attention(model: str | os.PathLike, features, labels, split, out_attention, out_summary,
                   threads: int = 1) -> dict:
    """Attention of the AttentiveChrome ensemble at ``model`` for every test gene of one cell; writes
    ``out_attention`` (``gene_id``, ``marks``, ``label``, ``score`` (P(ON)), ``bin_attention`` float32 ``[genes,
    marks, bins]``, ``mark_attention`` float32 ``[genes, marks]``) and ``out_summary`` (``on``/``off`` bin attention
    ``[marks, bins]`` and ``mark_on``/``mark_off`` ``[marks]``: means over correctly predicted ON and OFF genes,
    ``n_on``, ``n_off``, ``marks``). Returns the summary."""
    torch.set_num_threads(threads)
    members, description = load_model(model)
    if description["network"]["family"] != "attentive":
        raise DeepChromeError(model, f"the model is a {description['network']['family']} network, not AttentiveChrome",
                              "give the model.pt of results/<cell>/attentive/")
    cell = load_cell(features, labels, split)
    test = cell.split == "test"
    X = transform(cell.X[test], description["inputs"]["transform"])
    bins, marks = attention_maps(members, X)
    score = member_scores(members, X).mean(axis=0)
    label = cell.y[test]
    with atomic_path(out_attention) as tmp:
        np.savez_compressed(tmp, gene_id=cell.gene_id[test].astype(str), marks=np.asarray(cell.marks, dtype=str),
                            label=label, score=score, bin_attention=bins.astype(np.float32),
                            mark_attention=marks.astype(np.float32))
    on, off = (label == 1) & (score > 0.5), (label == 0) & (score <= 0.5)
    summary = {"on": class_mean(bins, on), "off": class_mean(bins, off), "mark_on": class_mean(marks, on),
               "mark_off": class_mean(marks, off), "n_on": int(on.sum()), "n_off": int(off.sum())}
    with atomic_path(out_summary) as tmp:
        np.savez_compressed(tmp, marks=np.asarray(cell.marks, dtype=str), **summary)
    log.info("attention of %d test genes (%d correctly predicted ON, %d OFF); mark attention of ON genes: %s",
             int(test.sum()), summary["n_on"], summary["n_off"],
             ", ".join(f"{m} {v:.3f}" for m, v in zip(cell.marks, summary["mark_on"])))
    return summary


def _pearson(a: np.ndarray, b: np.ndarray) -> float:
    """Pearson r of two profiles; NaN where either is constant or not finite."""
    ok = np.isfinite(a) & np.isfinite(b)
    return float(pearsonr(a[ok], b[ok])[0]) if ok.sum() > 2 and np.ptp(a[ok]) > 0 and np.ptp(b[ok]) > 0 else np.nan


def agreement(cells: list[str], names: list[str], attention: list[str], attributions: list[str]) -> pd.DataFrame:
    """How far AttentiveChrome's attention agrees with the CNN's attributions, one row per cell and mark: ``cell``,
    ``name``, ``mark``, ``attention_on`` (mark attention of correctly predicted ON genes), ``importance_on`` (the
    CNN's mean |attribution| of its correctly predicted ON genes), ``bins_r`` (Pearson r over bins of the ON bin
    attention with the CNN's ON attribution profile) and ``marks_rho`` (per cell: Spearman's rho of the marks
    ranked by the two; repeated on the cell's rows). ``attention``, ``attributions``: each cell's summary files."""
    rows = []
    for cell, name, att_path, attr_path in zip(cells, names, attention, attributions):
        att, attr = read_summary(att_path), read_summary(attr_path)
        if att["marks"] != attr["marks"]:
            raise DeepChromeError(att_path, f"marks {att['marks']} differ from the CNN's {attr['marks']} in {attr_path}",
                                  "rebuild both from the same features")
        rho = spearmanr(att["mark_on"], attr["importance_on"])[0] if len(att["marks"]) > 2 else np.nan
        for m, mark in enumerate(att["marks"]):
            rows.append({"cell": cell, "name": name, "mark": mark, "attention_on": float(att["mark_on"][m]),
                         "importance_on": float(attr["importance_on"][m]),
                         "bins_r": _pearson(att["on"][m], attr["on"][m]), "marks_rho": float(rho)})
    return pd.DataFrame(rows, columns=["cell", "name", "mark", "attention_on", "importance_on", "bins_r", "marks_rho"])


def write_agreement(cells: list[str], names: list[str], attention: list[str], attributions: list[str],
                    out: str | os.PathLike) -> pd.DataFrame:
    """:func:`agreement` written as a TSV (atomically); logged per cell."""
    table = agreement(cells, names, attention, attributions)
    write_tsv(table, out)
    for cell, part in table.groupby("cell", sort=False):
        log.info("%s: marks ranked alike by attention and attribution: rho %.2f; ON profiles over bins: %s", cell,
                 part["marks_rho"].iloc[0], ", ".join(f"{m} r {r:.2f}" for m, r in zip(part["mark"], part["bins_r"])))
    return table
