"""The explanation steps of the workflow (rules/explain.smk, rules/featuremaps.smk): files in, files out.

Each function reads a cell's files, calls :mod:`deepchrome.attribution` or :mod:`deepchrome.featuremaps`,
and writes its outputs atomically; the members are the reported CNN's networks (their mean P(ON) is
the reported model).
"""

from __future__ import annotations

import json
import logging
from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from . import attribution as attr
from . import featuremaps as fm
from .dataset import load_cell
from .errors import DeepChromeError
from .sheets import sheet_names
from .io import atomic_path, write_json, write_npy, write_tsv
from .model import DeepChromeCNN
from .train import transform

log = logging.getLogger("deepchrome.explain")


def cell_attributions(members: Sequence[DeepChromeCNN], features, labels, split, transform_kind: str, options: dict,
                      out_attributions, out_summary, out_stats) -> dict:
    """Attributions of every test gene of one cell, their class summaries and their record (returned too).

    ``options``: the config's ``attribution`` block (method, steps, max_steps, tolerance, references, samples, seed).
    """
    cell = load_cell(features, labels, split)
    method = options["method"]
    result, summary = attr.explain_test_genes(
        members, cell, transform_kind, method, steps=options["steps"], max_steps=options["max_steps"],
        tolerance=options["tolerance"], references=options["references"], samples=options["samples"],
        seed=options["seed"])
    test = cell.split == "test"
    record = attr.stats(result, summary, cell.marks, method, options["tolerance"])
    c = record["completeness"]
    log.info("%s over %d test genes with %d member(s): completeness gap under %.3g of |f(x) - f(baseline)| for "
             "%.2f%% of genes (99th percentile %.4f, steps median %g, max %d), %.1f s", method, c["n_genes"],
             len(members), options["tolerance"], 100 * c["share_under_tolerance"], c["p99_gap"], c["steps_median"],
             c["steps_max"], result.seconds)
    if method == "integrated_gradients" and c["share_under_tolerance"] < 0.99:
        log.warning("fewer than 99%% of genes meet the completeness tolerance: raise attribution.max_steps")
    for key in ("on", "off"):
        ranks = sorted(record[f"importance_{key}"].items(), key=lambda kv: -(kv[1] or 0))
        log.info("importance for %s genes: %s", key.upper(), ", ".join(f"{m} {v:.3g}" for m, v in ranks if v is not None))
    attr.save_attributions(out_attributions, result, cell.gene_id[test], cell.y[test], cell.marks, method)
    attr.save_summary(out_summary, summary, cell.marks)
    write_json(record, out_stats)
    return record


def cell_class_maps(members: Sequence[DeepChromeCNN], n_marks: int, n_bins: int, options: dict, out_on, out_off,
                    out_starts, out_stability) -> dict[str, np.ndarray]:
    """ON and OFF class maps of one cell from ``options['starts']`` starts: the reported maps (``.npy``), every
    start with the between-start spread (``.npz``) and the split-half stability (``.json``, also logged)."""
    starts = {name: fm.class_maps(members, target, n_marks, n_bins, starts=options["starts"], steps=options["steps"],
                                  lr=options["lr"], l2=options["l2"], seed=options["seed"])
              for name, target in (("on", 1), ("off", 0))}
    record = {"method": options["method"], "starts": options["starts"]}
    for name, maps in starts.items():
        record[name] = fm.stability(maps, seed=options["seed"])
        log.info("%s class map over %d starts: split-half r %.3f (mean maps of two halves), single-start r %.3f",
                 name.upper(), len(maps), record[name]["split_half_r"], record[name]["single_start_r"])
    reported = {name: fm.reported_map(maps, options["method"]) for name, maps in starts.items()}
    write_npy(reported["on"], out_on)
    write_npy(reported["off"], out_off)
    with atomic_path(out_starts) as tmp:
        np.savez_compressed(tmp, on=starts["on"], off=starts["off"], on_spread=starts["on"].std(axis=0),
                            off_spread=starts["off"].std(axis=0))
    write_json(record, out_stability)
    return reported


def explanation_table(cells: Sequence[str], names: Sequence[str], stats_files: Sequence[str],
                      stability_files: Sequence[str], out_table, out_importance) -> pd.DataFrame:
    """Across cells: ``explanation.tsv`` (completeness and class-map stability per cell) and ``importance.tsv``
    (per cell and mark: importance for ON, OFF and all test genes, and each mark's share of the cell's total
    importance over all test genes). Returns the importance table."""
    rows, imp = [], []
    for cell, name, sfile, tfile in zip(cells, names, stats_files, stability_files):
        s, t = json.loads(open(sfile).read()), json.loads(open(tfile).read())
        c = s["completeness"]
        rows.append({"cell": cell, "name": name, "method": s["method"], "n_test": s["n_test"],
                     "completeness_share_under_tolerance": c["share_under_tolerance"], "completeness_p99_gap": c["p99_gap"],
                     "steps_median": c["steps_median"], "steps_max": c["steps_max"], "seconds": s["seconds"],
                     "map_starts": t["starts"], "on_split_half_r": t["on"]["split_half_r"],
                     "on_single_start_r": t["on"]["single_start_r"], "off_split_half_r": t["off"]["split_half_r"],
                     "off_single_start_r": t["off"]["single_start_r"]})
        total = sum(v for v in s["importance_all"].values() if v is not None) or np.nan
        for mark in s["importance_all"]:
            imp.append({"cell": cell, "name": name, "mark": mark, "importance_on": s["importance_on"][mark],
                        "importance_off": s["importance_off"][mark], "importance_all": s["importance_all"][mark],
                        "share": (s["importance_all"][mark] or 0) / total})
    write_tsv(pd.DataFrame(rows), out_table)
    table = pd.DataFrame(imp)
    write_tsv(table, out_importance)
    return table


def importance_matrix(table: pd.DataFrame, marks: Sequence[str]) -> pd.DataFrame:
    """Cells (labelled ``name (cell)`` where the sheet names them) x marks of importance shares."""
    label = sheet_names(table, labels=True)
    wide = table.assign(label=label).pivot(index="label", columns="mark", values="share")
    return wide.reindex(index=pd.unique(label), columns=list(marks))


def gene_panels(gene: str, cells: Mapping[str, dict], transform_kind: str, options: dict) -> list[dict]:
    """For one gene, per cell that holds it: its features (model input), attributions, P(ON), label and split.

    ``cells``: ``{cell: {"name", "features", "labels", "split", "members"}}``. The gene is matched by its
    ID with or without an Ensembl version (``ENSG...1.5`` matches ``ENSG...1``).
    """
    panels = []
    for cell_id, c in cells.items():
        cell = load_cell(c["features"], c["labels"], c["split"])
        base = np.array([g.split(".")[0] for g in cell.gene_id])
        rows = np.flatnonzero((cell.gene_id == gene) | (base == gene.split(".")[0]))
        if rows.size == 0:
            continue
        i = rows[0]
        X = transform(cell.X[i:i + 1], transform_kind)
        refs = (attr.reference_genes(cell, transform_kind, options["references"], options["seed"])
                if options["method"] == "gradientshap" else None)
        res = attr.attribute(c["members"], X, options["method"], steps=options["steps"], max_steps=options["max_steps"],
                             tolerance=options["tolerance"], references=refs, samples=options["samples"],
                             seed=options["seed"])
        panels.append({"cell": cell_id, "name": c.get("name") or cell_id, "features": X[0],
                       "attributions": res.values[0], "score": float(res.score[0]), "label": int(cell.y[i]),
                       "split": str(cell.split[i])})
    if not panels:
        raise DeepChromeError(None, f"gene {gene} is in none of the cells {', '.join(cells)}",
                              "give gene IDs as in results/<cell>/labels.tsv (column gene_id), e.g. "
                              "--config genes=ENSG00000141510,ENSG00000012048")
    return panels
