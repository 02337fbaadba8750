"""Summaries of a ``benchmarks/cnn_protocol.py`` run (its TSV: ``task``, ``model``, ``valid_auc``, ``test_auc``,
``seconds``) as markdown tables; torch-free, so the documentation check can rebuild them.

Run: ``python benchmarks/protocol_tables.py benchmarks/runs/cnn_protocol_heldout.tsv`` prints both tables.
"""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd

from deepchrome.stats import mean_ci

BASELINES = ("gbm", "svm", "rf", "logreg")
"""The trained baselines every task runs (``deepchrome.baselines.TRAINED``)."""
SELECT_FROM = ("paper_net", "paper_net_linear", "paper_net_linear_scale_mark")
"""``select`` picks, per task, the one of these with the best ensemble valid AUC."""


def cnn_configs(df: pd.DataFrame) -> list[str]:
    """The CNN configurations of a run: ``default`` first, then the others in the order they first ran."""
    names = [m for m in dict.fromkeys(df["model"]) if m not in BASELINES]
    return sorted(names, key=lambda m: m != "default")


def summarise(df: pd.DataFrame) -> pd.DataFrame:
    """Per configuration: mean (CNN - best baseline) and (CNN - default) over the finished tasks (every model
    run) with 95% t-intervals; ``within``: tasks where the CNN is at most 0.005 below the best baseline."""
    configs = cnn_configs(df)
    wide = df.pivot(index="task", columns="model", values="test_auc").reindex(columns=[*BASELINES, *configs]).dropna()
    valid = df.pivot(index="task", columns="model", values="valid_auc").loc[wide.index]
    cand = [c for c in SELECT_FROM if c in configs]
    if len(cand) > 1:
        wide["select"] = [wide.loc[t, valid.loc[t, cand].astype(float).idxmax()] for t in wide.index]
    best = wide[list(BASELINES)].max(axis=1)
    rows = []
    for c in [*configs, *(["select"] if len(cand) > 1 else [])]:
        d = (wide[c] - best).dropna()
        m, lo, hi = mean_ci(d.to_numpy())
        dd = (wide[c] - wide["default"]).dropna() if "default" in wide else pd.Series(dtype=float)
        m2, lo2, hi2 = mean_ci(dd.to_numpy()) if len(dd) > 1 else (np.nan,) * 3
        rows.append({"config": c, "tasks": len(d), "mean_auc": wide[c].mean(), "vs_best_baseline": m,
                     "ci_low": lo, "ci_high": hi, "within": int((d >= -0.005).sum()),
                     "vs_default": m2, "vs_default_low": lo2, "vs_default_high": hi2})
    return pd.DataFrame(rows)


def markdown_summary(df: pd.DataFrame) -> str:
    """Markdown of :func:`summarise`: per configuration the tasks, mean test AUC, CNN - best baseline, tasks within
    0.005 of it and CNN - default."""
    lines = ["| CNN configuration (5 seeds) | tasks | mean test AUC | CNN - best baseline [95% CI] | within 0.005 of "
             "the best baseline | CNN - default [95% CI] |", "|---|---|---|---|---|---|"]
    for r in summarise(df).itertuples():
        vs_default = ("" if r.config == "default" else
                      f"{r.vs_default:+.4f} [{r.vs_default_low:+.4f}, {r.vs_default_high:+.4f}]")
        lines.append(f"| {r.config} | {r.tasks} | {r.mean_auc:.4f} | {r.vs_best_baseline:+.4f} [{r.ci_low:+.4f}, "
                     f"{r.ci_high:+.4f}] | {r.within} of {r.tasks} | {vs_default} |")
    return "\n".join(lines) + "\n"


def markdown_versus_each(df: pd.DataFrame) -> str:
    """Markdown: per CNN configuration and baseline, on the tasks where both ran, the tasks where the CNN is at most
    0.005 below that baseline, and the mean of CNN - baseline."""
    wide = df.pivot(index="task", columns="model", values="test_auc")
    lines = ["| CNN configuration | " + " | ".join(f"vs {b}: within 0.005, mean difference" for b in BASELINES) + " |",
             "|---|" + "---|" * len(BASELINES)]
    for c in cnn_configs(df):
        cells = []
        for b in BASELINES:
            d = (wide[c] - wide[b]).dropna()
            cells.append(f"{int((d >= -0.005).sum())} of {len(d)}, {d.mean():+.4f}")
        lines.append(f"| {c} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    run = pd.read_csv(sys.argv[1], sep="\t")
    print(markdown_summary(run) + "\n" + markdown_versus_each(run), end="")
