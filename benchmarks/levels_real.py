"""Expression levels on a real cell: the published processed features of one REMC cell (labels only) joined
with its column of Roadmap's RPKM matrix, then every ``target: level`` model fitted and scored as the workflow
does (train on train, choose on valid by Pearson r, report on test). The workflow itself refuses
``target: level`` in processed mode, since the published files carry no expression values; this script
supplies them from the matrix.

Run: ``python benchmarks/levels_real.py CELL_FOLDER RPKM_MATRIX [--cell E123] [--seeds 5]``, e.g.
``python benchmarks/levels_real.py ../shared/data/real/E123 ../shared/data/roadmap/57epigenomes.RPKM.pc.gz``.
Prints one markdown row per model: test r [95% CI], rho, R^2, MSE, AUC.
"""

from __future__ import annotations

import argparse
import os

import numpy as np

from deepchrome import MARKS
from deepchrome.baselines import LEVEL_BASELINES, fit_baseline
from deepchrome.dataset import ENSEMBL_PREFIX, find_published_cells, load_published_cell
from deepchrome.evaluate import level_model_metrics
from deepchrome.labels import expression_level, read_expression
from deepchrome.train import resolve_params, seed_list, train_cnn


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("folder")
    ap.add_argument("rpkm")
    ap.add_argument("--cell", default="E123")
    ap.add_argument("--seeds", type=int, default=5)
    args = ap.parse_args()
    files = find_published_cells(args.folder)
    cell = load_published_cell(files[os.path.basename(os.path.abspath(args.folder))], list(MARKS))
    rpkm = read_expression(args.rpkm, [args.cell])[args.cell]
    ids = [ENSEMBL_PREFIX + g.split("_")[0] for g in cell.gene_id]
    cell.level = expression_level(rpkm.reindex(ids).to_numpy())
    if np.isnan(cell.level).any():
        raise SystemExit(f"{int(np.isnan(cell.level).sum())} genes have no RPKM in {args.rpkm}")
    sizes = ", ".join(f"{s} {int((cell.split == s).sum())}" for s in ("train", "valid", "test"))
    print(f"{args.cell}: {len(cell.y)} genes ({sizes}); "
          f"labels agree with RPKM > 1.6085: {np.mean((rpkm.reindex(ids).to_numpy() > 1.6085) == cell.y):.4f}")
    params = resolve_params("default", {"seeds": args.seeds})
    result = train_cnn(cell, params, seed_list(params, 0), device="cpu", threads=1, target="level")
    scores = {"cnn": result.scores}
    for name in LEVEL_BASELINES:
        scores[name] = fit_baseline(name, cell, params["transform"], seed=0, target="level").scores
    print("| model | r [95% CI] | rho | R^2 | MSE | AUC |\n|---|---|---|---|---|---|")
    for name, s in scores.items():
        m = level_model_metrics(cell, s, {}, scaled=name != "promoter")
        num = (lambda v: "-" if v is None else f"{v:.3f}")
        print(f"| {name} | {num(m['test_r'])} [{num(m['test_r_ci'][0])}, {num(m['test_r_ci'][1])}] | "
              f"{num(m['test_rho'])} | {num(m['test_r2'])} | {num(m['test_mse'])} | {num(m['test_auc'])} |")


if __name__ == "__main__":
    main()
