"""The documentation's results tables and figures, written from the run outputs kept under ``benchmarks/runs/``.

Every block between ``<!-- table:NAME -->`` (or ``figure:NAME``) and ``<!-- /table:NAME -->`` in README.md and
docs/*.md is generated: one provenance line (this script, the kept run and the run's date) and the table, or the
picture. A kept run is a folder of small text files with a ``run.yaml`` (``date``, ``command``, ``commit``).

    python benchmarks/doc_tables.py                  rewrite every block from the kept runs
    python benchmarks/doc_tables.py --check          exit 1 (and print a diff) when a page differs
    python benchmarks/doc_tables.py --keep demo RUN  keep a finished run: copy its outputs (RUN: the folder the
                                                     workflow ran in) into benchmarks/runs/demo/ and its figures
                                                     into docs/; --command says how it was run, --commit
                                                     with which code (default: HEAD)

Runs: ``demo`` (the demo config, ``snakemake --cores 2 all transfer``), ``level`` (the demo config with
``--config target=level``), ``e123`` (``--configfile config/processed.yaml`` on the real E123 cell); the
``cnn_protocol`` folder holds ``benchmarks/cnn_protocol.py``'s runs (its docstring gives their options), ``tests``
``benchmarks/bench_tests.py``'s.
"""

from __future__ import annotations

import argparse
import datetime
import difflib
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import yaml

from deepchrome import MARKS
from deepchrome.stats import mean_ci
from deepchrome.summary import markdown_levels, markdown_tables
from protocol_tables import markdown_summary, markdown_versus_each
from transfer_tables import hidden_expression, markdown_pooled, markdown_transfer

ROOT = Path(__file__).resolve().parents[1]
RUNS = ROOT / "benchmarks" / "runs"
DOCS = ROOT / "docs"
SCRIPT = "benchmarks/doc_tables.py"
BLOCK = re.compile(r"<!-- (table|figure):([\w-]+) -->\n.*?<!-- /\1:\2 -->", re.S)


def read(run: str, name: str) -> pd.DataFrame:
    """A kept TSV of a run."""
    return pd.read_csv(RUNS / run / name, sep="\t")


def explanation_table(t: pd.DataFrame) -> str:
    """Attribution completeness and class-map stability per cell, from ``explanation.tsv``."""
    lines = ["| cell | IG complete within 1% | 99th pct gap | ON split-half r | ON single-start r | OFF split-half r "
             "| OFF single-start r |", "|---|---|---|---|---|---|---|"]
    for r in t.itertuples():
        lines.append(f"| {r.cell} | {100 * r.completeness_share_under_tolerance:.1f}% | "
                     f"{100 * r.completeness_p99_gap:.2f}% | {r.on_split_half_r:.2f} | {r.on_single_start_r:.2f} | "
                     f"{r.off_split_half_r:.2f} | {r.off_single_start_r:.2f} |")
    return "\n".join(lines) + "\n"


def importance_table(t: pd.DataFrame) -> str:
    """Per cell and mark, the mark's share of the CNN's attribution (``importance.tsv``), marks as columns in the
    workflow's default order."""
    marks = [m for m in MARKS if m in set(t["mark"])] + sorted(set(t["mark"]) - set(MARKS))
    wide = t.pivot(index="cell", columns="mark", values="share").reindex(columns=marks)
    lines = ["| cell | " + " | ".join(wide.columns) + " |", "|---" * (len(wide.columns) + 1) + "|"]
    for cell, row in wide.iterrows():
        lines.append(f"| {cell} | " + " | ".join(f"{v:.2f}" for v in row) + " |")
    return "\n".join(lines) + "\n"


def headline_table() -> str:
    """Per model: the demo's mean test AUC over its cells and the real E123 cell's test AUC, each with its 95%
    interval (``models.tsv`` of the demo, ``auc.tsv`` of E123)."""
    demo, e123 = read("demo", "models.tsv").set_index("model"), read("e123", "auc.tsv").set_index("model")
    lines = ["| model | demo: mean test AUC over 3 cells [95% CI] | real K562 (E123): test AUC [95% CI] |",
             "|---|---|---|"]
    for model in demo.index:
        d, e = demo.loc[model], e123.loc[model]
        lines.append(f"| {model} | {d.mean_test_auc:.3f} [{d.mean_low:.3f}, {d.mean_high:.3f}] | "
                     f"{e.test_auc:.3f} [{e.test_auc_low:.3f}, {e.test_auc_high:.3f}] |")
    return "\n".join(lines) + "\n"


def hidden_table(t: pd.DataFrame) -> str:
    """A cell without RNA-seq against its expression measured apart (``hidden.tsv``)."""
    lines = ["| cell | scored by | genes | Pearson r | Spearman rho | ROC AUC vs its median label |",
             "|---|---|---|---|---|---|"]
    for r in t.itertuples():
        lines.append(f"| {r.cell} | {r.model} | {r.genes:,} | {r.pearson_r:.3f} | {r.spearman_rho:.3f} | {r.auc:.3f} |")
    return "\n".join(lines) + "\n"


def cost_table(t: pd.DataFrame) -> str:
    """Per step of a run: jobs, summed CPU seconds and the largest peak memory (``jobs.tsv``; its wall seconds
    depend on what else the machine ran and are not shown)."""
    lines = ["| step | jobs | CPU s (sum) | peak RSS MB (max) |", "|---|---|---|---|"]
    for r in t.itertuples():
        lines.append(f"| {r.step} | {r.jobs} | {r.cpu_s:.1f} | {r.max_rss_mb:.0f} |")
    lines.append(f"| **all** | {t.jobs.sum()} | {t.cpu_s.sum():.1f} | {t.max_rss_mb.max():.0f} |")
    return "\n".join(lines) + "\n"


def parse_table(t: pd.DataFrame) -> str:
    """CPU seconds of a dry run of the demo (``parse_time.tsv`` of ``benchmarks/bench_parse.py``; its wall seconds
    depend on what else the machine ran and are not shown)."""
    lines = ["| workflow layer, Python environment | CPU s of `snakemake -n` (median) | dry runs |", "|---|---|---|"]
    for r in t.itertuples():
        what = r.what.replace("this checkout", "torch-free rules").replace("(pip .venv)", "(pip set-up, .venv)")
        what = what.replace("ef797e2", "rules importing torch (ef797e2)")
        lines.append(f"| {what} | {r.cpu_s_median:.2f} | {r.repeats} |")
    return "\n".join(lines) + "\n"


def attention_table(t: pd.DataFrame) -> str:
    """Per cell: how AttentiveChrome's attention agrees with the CNN's attributions (``attention.tsv``): Spearman's
    rho of the marks' ranks, and Pearson r over bins of the ON profiles per mark."""
    marks = list(dict.fromkeys(t["mark"]))
    lines = ["| cell | marks ranked alike (rho) | " + " | ".join(f"{m}: bins r" for m in marks) + " |",
             "|---|---|" + "---|" * len(marks)]
    for cell, part in t.groupby("cell", sort=False):
        r = part.set_index("mark")["bins_r"]
        lines.append(f"| {cell} | {part['marks_rho'].iloc[0]:.2f} | " + " | ".join(f"{r[m]:.2f}" for m in marks)
                     + " |")
    return "\n".join(lines) + "\n"


def attentive_e123_table() -> str:
    """AttentiveChrome (both presets) against the CNN default on real E123: test AUC [95% CI], DeLong's p, CPU s."""
    auc, cost = read("attentive", "e123_auc.tsv"), read("attentive", "e123.tsv").set_index("model")
    lines = ["| model | test AUC [95% CI] | DeLong p vs CNN | CPU s (1 thread) |", "|---|---|---|---|"]
    for r in auc.itertuples():
        p = "" if pd.isna(r.delong_p_vs_cnn) else f"{r.delong_p_vs_cnn:.2f}"
        lines.append(f"| {r.model} | {r.test_auc:.3f} [{r.ci_low:.3f}, {r.ci_high:.3f}] | {p} | "
                     f"{cost.loc[r.model, 'cpu_s']:.1f} |")
    return "\n".join(lines) + "\n"


def attentive_protocol_table() -> str:
    """Per protocol task: test AUC of the CNN default and AttentiveChrome's default, and their CPU seconds; then the
    mean difference over the tasks with its 95% t-interval."""
    t = read("attentive", "protocol.tsv")
    wide = t.pivot(index="task", columns="model", values="test_auc")
    cpu = t.pivot(index="task", columns="model", values="cpu_s")
    lines = ["| task | CNN test AUC | attentive test AUC | attentive - CNN | CPU s CNN / attentive |",
             "|---|---|---|---|---|"]
    for task in wide.index:
        lines.append(f"| {task} | {wide.loc[task, 'cnn']:.4f} | {wide.loc[task, 'attentive']:.4f} | "
                     f"{wide.loc[task, 'attentive'] - wide.loc[task, 'cnn']:+.4f} | "
                     f"{cpu.loc[task, 'cnn']:.1f} / {cpu.loc[task, 'attentive']:.1f} |")
    mean, low, high = mean_ci((wide["attentive"] - wide["cnn"]).dropna().to_numpy())
    lines.append(f"| mean of {len(wide)} tasks | {wide['cnn'].mean():.4f} | {wide['attentive'].mean():.4f} | "
                 f"{mean:+.4f} [{low:+.4f}, {high:+.4f}] | {cpu['cnn'].mean():.1f} / {cpu['attentive'].mean():.1f} |")
    return "\n".join(lines) + "\n"


def attentive_cost_table() -> str:
    """AttentiveChrome's cost and test AUC on a synthetic cell of the paper's size (measured part, and the full run
    it implies), beside what the CNN default and logistic regression reach on the same cell."""
    t, ref = read("attentive", "cost.tsv"), read("attentive", "reference.tsv")
    lines = ["| model | measured | CPU s measured | CPU s of a full run | kept epochs | test AUC |",
             "|---|---|---|---|---|---|"]
    for r in t.itertuples():
        what = f"{r.epochs_run} epoch(s) of {r.seeds} seed(s)"
        full = f"{r.cpu_s_full_run:.0f}" + (" (extrapolated)" if r.extrapolated else "")
        lines.append(f"| attentive {r.preset} | {what} | {r.cpu_s:.1f} | {full} | {r.best_epochs} | "
                     f"{r.test_auc:.3f} |")
    for r in ref.itertuples():
        lines.append(f"| {r.model} (reference) | the whole fit | {r.cpu_s:.1f} | {r.cpu_s:.0f} |  | {r.test_auc:.3f} |")
    return "\n".join(lines) + "\n"


def suite_table(t: pd.DataFrame, slowest: pd.DataFrame) -> str:
    """The suite's wall and CPU seconds as CI runs it and for the inner loop, against their targets
    (``suite.tsv`` of ``benchmarks/bench_tests.py``), then the 15 slowest tests of the CI run (``slowest.tsv``)."""
    lines = ["| command | wall s | CPU s | target wall s | passed | failed | skipped |",
             "|---|---|---|---|---|---|---|"]
    for r in t.itertuples():
        lines.append(f"| {r.what} | {r.wall_s} | {r.cpu_s} | {r.target_s} | {r.passed} | {r.failed + r.errors} | "
                     f"{r.skipped} |")
    lines += ["", "| slowest tests of the CI run | phase | s |", "|---|---|---|"]
    # a test's name without pytest-xdist's "@group" suffix
    lines += [f"| `{r.test.split('@')[0]}` | {r.phase} | {r.seconds:.0f} |" for r in slowest.itertuples()]
    return "\n".join(lines) + "\n"


TABLES: dict[str, tuple[tuple[str, ...], Callable[[], str]]] = {
    # name: (the kept runs it reads (a run's folder, or one file of it), the markdown)
    "headline": (("demo", "e123"), headline_table),
    "demo-auc": (("demo",), lambda: markdown_tables(read("demo", "auc.tsv"), read("demo", "models.tsv"))),
    "e123-auc": (("e123",), lambda: markdown_tables(read("e123", "auc.tsv"), None)),
    "demo-explanation": (("demo",), lambda: explanation_table(read("demo", "explanation.tsv"))),
    "e123-explanation": (("e123",), lambda: explanation_table(read("e123", "explanation.tsv"))),
    "demo-importance": (("demo",), lambda: importance_table(read("demo", "importance.tsv"))),
    "e123-importance": (("e123",), lambda: importance_table(read("e123", "importance.tsv"))),
    "demo-attention": (("demo",), lambda: attention_table(read("demo", "attention.tsv"))),
    "e123-attention": (("e123",), lambda: attention_table(read("e123", "attention.tsv"))),
    "demo-transfer": (("demo",), lambda: markdown_transfer(read("demo", "transfer.tsv"))),
    "demo-pooled": (("demo",), lambda: markdown_pooled(read("demo", "pooled.tsv"))),
    "demo-hidden": (("demo",), lambda: hidden_table(read("demo", "hidden.tsv"))),
    "demo-cost": (("demo",), lambda: cost_table(read("demo", "jobs.tsv"))),
    "parse-time": (("parse/parse_time.tsv",), lambda: parse_table(read("parse", "parse_time.tsv"))),
    "test-time": (("tests",), lambda: suite_table(read("tests", "suite.tsv"), read("tests", "slowest.tsv"))),
    "attentive-e123": (("attentive/e123_auc.tsv",), attentive_e123_table),
    "attentive-protocol": (("attentive/protocol.tsv",), attentive_protocol_table),
    "attentive-cost": (("attentive/cost.tsv", "attentive/reference.tsv"), attentive_cost_table),
    "level-levels": (("level",), lambda: markdown_levels(read("level", "levels.tsv"),
                                                         read("level", "level_models.tsv"))),
    **{f"protocol-{part}{suffix}": ((f"cnn_protocol/{part}.tsv",),
                                    lambda part=part, f=f: f(read("cnn_protocol", f"{part}.tsv")))
       for part in ("choice", "heldout", "heldout2")
       for suffix, f in (("", markdown_summary), ("-each", markdown_versus_each))},
}

FIGURES: dict[str, tuple[str, str, str | None, str]] = {
    # name: (kept run, file under docs/, its path in the run folder (None: drawn or shot by --keep), what it shows)
    "report": ("demo", "report.png", None, "The demo's report: landing page with the headline AUC per model"),
    "transfer": ("demo", "transfer.png", "results/summary/figures/transfer.png",
                 "Transfer matrix of the demo: each cell's CNN on every cell's test genes"),
    "pooled": ("demo", "pooled.png", "results/summary/figures/pooled.png",
               "Own, pooled and leave-one-cell-out CNN per demo cell"),
    "importance": ("demo", "importance.png", "results/summary/figures/importance.png",
                   "Share of the CNN's attribution per mark and demo cell"),
    "predicted": ("demo", "predicted.png", None, "Demo cell D: predicted P(ON) against its hidden expression"),
    "levels": ("level", "levels.png", "results/summary/figures/levels.png",
               "Predicted against measured expression level, demo test genes"),
}

KEEP = {  # kept run -> {kept file: its path in the run folder}
    "demo": {f: f"results/summary/{f}" for f in ("auc.tsv", "models.tsv", "explanation.tsv", "importance.tsv",
                                                 "attention.tsv", "transfer.tsv", "pooled.tsv")},
    "level": {f: f"results/summary/{f}" for f in ("levels.tsv", "level_models.tsv")},
    "e123": {f: f"results/summary/{f}" for f in ("auc.tsv", "models.tsv", "explanation.tsv", "importance.tsv",
                                                 "attention.tsv")},
}


def provenance(runs: tuple[str, ...], kind: str, dated: bool = True) -> str:
    """The one line that says which script wrote a block, from which kept runs, and (``dated``) when and how they
    ran; the README's blocks name the runs only (their dates and commands are in docs/)."""
    parts = []
    for run in runs:
        meta = yaml.safe_load((RUNS / run.split("/")[0] / "run.yaml").read_text())
        shown = run if "/" in run else run + "/"
        parts.append(f"`benchmarks/runs/{shown}`" + (f" (run of {meta['date']}: {meta['command']})" if dated else ""))
    return f"*{kind} written by `{SCRIPT}` from " + " and ".join(parts) + ".*"


def block(kind: str, name: str, page: Path) -> str:
    """The generated text of one block, markers included."""
    dated = page.name != "README.md"
    if kind == "table":
        runs, make = TABLES[name]
        body = provenance(runs, "Table", dated) + "\n\n" + make()
    else:
        run, file, _, alt = FIGURES[name]
        image = (DOCS / file).relative_to(page.parent).as_posix()
        body = f"![{alt}]({image})\n\n" + provenance((run,), "Figure", dated) + "\n"
    return f"<!-- {kind}:{name} -->\n{body}<!-- /{kind}:{name} -->"


def pages() -> list[Path]:
    """The pages that may hold generated blocks."""
    return [ROOT / "README.md", *sorted(DOCS.glob("*.md"))]


def render(page: Path) -> str:
    """The page with every generated block rewritten; an unknown block name is an error."""
    def replace(m: re.Match) -> str:
        kind, name = m.group(1), m.group(2)
        if name not in (TABLES if kind == "table" else FIGURES):
            raise SystemExit(f"{page.relative_to(ROOT)}: unknown {kind} '{name}' (known: "
                             f"{', '.join(TABLES if kind == 'table' else FIGURES)})")
        return block(kind, name, page)

    return BLOCK.sub(replace, page.read_text())


def check_or_write(check: bool) -> int:
    """Rewrite the pages, or (``check``) report every page whose blocks differ; 1 when one does."""
    differ = 0
    for page in pages():
        old, new = page.read_text(), render(page)
        if old == new:
            continue
        if check:
            differ = 1
            name = str(page.relative_to(ROOT))
            sys.stdout.writelines(difflib.unified_diff(old.splitlines(True), new.splitlines(True), name,
                                                       name + " (generated)"))
        else:
            page.write_text(new)
            print(f"rewrote {page.relative_to(ROOT)}")
    if differ:
        print(f"\nthe generated blocks above differ from the kept runs: run python {SCRIPT}", file=sys.stderr)
    return differ


def job_costs(results: Path) -> pd.DataFrame:
    """Per step of a run (the first folder under ``results/benchmarks``, or the file), from Snakemake's
    ``benchmark:`` files: jobs, summed wall and CPU seconds, largest peak RSS."""
    rows = []
    for f in sorted((results / "benchmarks").rglob("*.tsv")):
        rel = f.relative_to(results / "benchmarks")
        t = pd.read_csv(f, sep="\t")
        rows.append({"step": rel.parts[0].removesuffix(".tsv"), "wall_s": t["s"].iloc[-1],
                     "cpu_s": t["cpu_time"].iloc[-1], "max_rss_mb": t["max_rss"].iloc[-1]})
    jobs = pd.DataFrame(rows)
    return (jobs.groupby("step", sort=False).agg(jobs=("wall_s", "size"), wall_s=("wall_s", "sum"),
                                                 cpu_s=("cpu_s", "sum"), max_rss_mb=("max_rss_mb", "max"))
            .sort_values("cpu_s", ascending=False).reset_index())


def report_screenshot(run: Path, png: Path) -> None:
    """The run's report (``snakemake --report``) as headless Chromium shows its landing page (``tests/browser.py``)."""
    html = run / "report.html"
    subprocess.run([sys.executable, "-m", "snakemake", "-s", str(ROOT / "Snakefile"), "--directory", str(run),
                    "--report", str(html)], check=True, capture_output=True)
    subprocess.run([sys.executable, str(ROOT / "tests" / "browser.py"), str(html), str(png)], check=True)


def keep(run: str, folder: Path, command: str, commit: str | None = None) -> None:
    """Copy a finished run's outputs into ``benchmarks/runs/<run>/`` (with its ``run.yaml``) and its figures into
    docs/; the demo also keeps its job costs and its predict cell against the hidden expression. ``commit`` is the
    code the run was made with (default: the checkout's HEAD)."""
    out = RUNS / run
    out.mkdir(parents=True, exist_ok=True)
    for kept, source in KEEP[run].items():
        shutil.copyfile(folder / source, out / kept)
    if run == "demo":
        job_costs(folder / "results").to_csv(out / "jobs.tsv", sep="\t", index=False, float_format="%.2f")
        hidden_expression(folder, DOCS / "predicted.png").to_csv(out / "hidden.tsv", sep="\t", index=False,
                                                                 float_format="%.4f")
    for figure_run, file, source, _ in FIGURES.values():
        if figure_run == run and source:
            shutil.copyfile(folder / source, DOCS / file)
    if run == "demo":
        report_screenshot(folder, DOCS / "report.png")
    commit = commit or subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True,
                                      text=True).stdout.strip()
    meta = {"date": datetime.date.today().isoformat(), "command": command, "commit": commit}
    (out / "run.yaml").write_text(yaml.safe_dump(meta, sort_keys=False))
    print(f"kept {run}: {', '.join(sorted(p.name for p in out.iterdir()))}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="fail when a page differs from what the kept runs give")
    ap.add_argument("--keep", nargs=2, metavar=("RUN", "FOLDER"), help=f"keep a run: one of {', '.join(KEEP)}")
    ap.add_argument("--command", default="", help="with --keep: how the run was made (goes into run.yaml)")
    ap.add_argument("--commit", help="with --keep: the commit the run was made with (default: HEAD)")
    args = ap.parse_args()
    if args.keep:
        keep(args.keep[0], Path(args.keep[1]), args.command, args.commit)
        return 0
    return check_or_write(args.check)


if __name__ == "__main__":
    sys.exit(main())
