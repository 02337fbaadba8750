"""Write config/README.md's table of every config key from schemas/config.schema.yaml.

Each key of the schema (nested keys dotted: ``cnn.params.lr``) gets one row: its default, the values it takes,
what it does (the schema's description, or the text below where the schema has none) and when to change it.
A key without any description is an error, so a key added to the schema must be described before the page
can be written. The training parameters ``cnn.params.*`` show both presets' values.

    python scripts/config_docs.py            rewrite the block between the markers of config/README.md
    python scripts/config_docs.py --check    exit 1 when the page differs from what the schema gives
"""

from __future__ import annotations

import argparse
import difflib
import json
import sys
from collections.abc import Iterator
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = ROOT / "schemas" / "config.schema.yaml"
PAGE = ROOT / "config" / "README.md"
START, END = "<!-- table:config-keys -->", "<!-- /table:config-keys -->"
URL_KEY = "<name>_url"

WHAT = {  # what a key does, where the schema's description is missing or too terse for this page
    "cell_sheet": "cell sheet, TSV: `cell` (letters, digits, `_ . -`), optional `name`, `expression` (the cell's "
                  "column in the expression table, default the cell ID), `published_auc` and `predict_with` (a cell "
                  "without RNA-seq, scored by the model of the cell named, or `pooled`)",
    "marks": "the histone marks, in the order of the features' mark axis and of the CNN's input channels",
    "windows": "the windows around each TSS",
    "windows.flank": "bp on each side of the TSS",
    "windows.bin_size": "bp per bin; the window has 2 x flank / bin_size bins",
    "windows.bin_order": "strand: bin 1 upstream of the TSS on both strands (deepTools' reference-point windows); "
                         "genome: bin 1 at the lower coordinate (the paper's files)",
    "split": "how genes are assigned to train, valid and test (one assignment for all cells)",
    "split.method": "deepchrome: genes sorted by ID, cut into thirds (the paper's); random: seeded and stratified; "
                    "chromosome: by `valid_chromosomes` and `test_chromosomes`",
    "split.seed": "seed of the random split",
    "split.valid_chromosomes": "chromosomes whose genes validate (method chromosome)",
    "split.test_chromosomes": "chromosomes whose genes test (method chromosome)",
    "cnn": "the DeepChrome CNN",
    "cnn.preset": "default: Adam on minibatches, log1p input, early stopping, a 5-seed ensemble of a small network; "
                  "paper: Singh et al. 2016's protocol (SGD, one gene per step, raw counts, 99 epochs)",
    "cnn.device": "auto: CUDA when PyTorch sees a GPU (honouring CUDA_VISIBLE_DEVICES), else the CPU",
    "cnn.seed": "seed of the first network (the others: seed + 1, seed + 2 and so on)",
    "cnn.params.n_filters": "convolution filters",
    "cnn.params.kernel": "convolution width in bins",
    "cnn.params.pool": "max-pool width in bins",
    "cnn.params.hidden": "sizes of the fully connected hidden layers",
    "cnn.params.dropout": "dropout after the pooling",
    "cnn.params.optimizer": "sgd or adam",
    "cnn.params.lr": "learning rate",
    "cnn.params.weight_decay": "L2 weight decay",
    "cnn.params.batch_size": "genes per minibatch",
    "cnn.params.epochs": "epochs at most",
    "cnn.params.transform": "input transform of every model: log1p or none (raw values)",
    "attribution.tolerance": "completeness gap a gene may keep, as a share of abs(f(x) - f(baseline))",
    "baselines": "the models the CNN is compared with, on the same inputs",
    "baselines.seed": "seed of the baselines' random parts (forests, boosting)",
    "featuremaps": "the class maps (feature pattern maps) of each cell's CNN",
    "featuremaps.steps": "optimisation steps per start",
    "featuremaps.lr": "RMSprop learning rate",
    "featuremaps.l2": "weight of the L2 penalty on the optimised input",
    "featuremaps.seed": "seed of the random starts",
    "demo.seed": "seed of the generated data set",
    "demo.genes": "genes of the generated annotation",
    "samples.signal": "bigWig path or URL template, e.g. `{roadmap_url}/{cell}-{mark}.fc.signal.bigwig`",
    "samples.reads": "tagAlign/BED/BAM path or URL template",
}

WHEN = {  # when to change a key
    "cell_sheet": "always, for your own cells",
    "sample_sheet": "always, for your own cells (or use `samples` templates)",
    "cells": "to build some cells first; a later plain run builds the rest and the summary",
    "processed": "to start from the published processed features instead of raw files",
    "valid_fraction": "rarely; only processed cells without valid.csv use it",
    "target": "`level` to predict how much a gene is expressed, not only whether",
    "marks": "when your marks differ; a CNN only scores features with its own marks in its own order",
    "samples": "when your files follow one naming pattern (config/remc.yaml does)",
    "restrict_to_expression": "with a genome-wide annotation, to keep only the genes the expression table has",
    "input": "`reads` when your sample sheet points at aligned reads",
    "annotation": "always, for your own genome or gene list",
    "gene_types": "for non-coding genes too, or `[]` for a BED gene list without types",
    "chrom_sizes": "always, for your own genome",
    "expression": "always, for your own expression table",
    "missing_values": "when your table writes missing values as words (NA)",
    "checksums": "to verify downloads",
    "demo": "delete the block for your own data",
    "demo.seed": "for another draw of the demo",
    "demo.genes": "19802 for a paper-scale cell (timing)",
    "windows.flank": "for longer or shorter promoter windows",
    "windows.bin_size": "for finer or coarser bins",
    "windows.bin_order": "`genome` to match the paper's exported files",
    "windows.bigwig_nan": "`zero` for bigWigs that store gaps as NaN",
    "split.method": "`chromosome` to hold out whole chromosomes",
    "split.seed": "to repeat a random split with another draw",
    "split.valid_chromosomes": "with method chromosome",
    "split.test_chromosomes": "with method chromosome",
    "cnn.preset": "`paper` to repeat the published protocol",
    "cnn.device": "`cpu` to keep a GPU free, `cuda` to require one",
    "cnn.seed": "to check seed dependence",
    "cnn.seeds": "fewer for quick runs, 1 for a single network",
    "cnn.params": "to try another network or training; see docs/models.md",
    "cnn.params.n_filters": "to try another network size",
    "cnn.params.hidden": "to try another network size",
    "cnn.params.epochs": "fewer for a quick trial run",
    "cnn.params.patience": "`null` to keep the best of all epochs",
    "cnn.params.transform": "`none` for signal that is already on a log scale",
    "baselines.models": "to skip slow baselines (svm on large cells)",
    "featuremaps.method": "`paper` for the published single-start map",
    "featuremaps.starts": "fewer for quicker, noisier maps",
    "attribution.method": "`gradientshap` for expected gradients against real genes",
    "attribution.tolerance": "smaller for more exact attributions (more steps)",
    "genes": "with `snakemake explain`",
    URL_KEY: "to use a mirror or a local copy (`file://`) of a host",
}


def walk(schema: dict, prefix: str = "") -> Iterator[tuple[str, dict]]:
    """Every key of a schema object, depth first, as (dotted key, its schema); ``patternProperties`` of a base URL
    as ``<name>_url``."""
    for name, sub in schema.get("properties", {}).items():
        key = f"{prefix}{name}"
        yield key, sub
        yield from walk(sub, key + ".")
    for sub in schema.get("patternProperties", {}).values():
        yield f"{prefix}{URL_KEY}", sub


def values(sub: dict) -> str:
    """The values a key takes, from its type, enum and bounds."""
    if "enum" in sub:
        return " \\| ".join(f"`{v}`" for v in sub["enum"])
    types = [sub.get("type", "object")] if isinstance(sub.get("type", "object"), str) else sub["type"]
    text = " or ".join(t for t in types if t != "null")
    low = (f"[{sub['minimum']}" if "minimum" in sub else
           f"({sub['exclusiveMinimum']}" if "exclusiveMinimum" in sub else "")
    if low and "exclusiveMaximum" in sub:
        text += f" in {low}, {sub['exclusiveMaximum']})"
    elif low:
        text += f" {'>=' if low[0] == '[' else '>'} {low[1:]}"
    if "items" in sub and "enum" in sub["items"]:
        text += " of " + ", ".join(f"`{v}`" for v in sub["items"]["enum"])
    return text + (", or null" if "null" in types else "")


def shown(value) -> str:
    """A default as YAML flow text (lists as [a, b])."""
    return "`" + (json.dumps(value) if not isinstance(value, str) else value).replace('"', "") + "`"


def default(key: str, sub: dict, presets: dict[str, dict]) -> str:
    """The key's default; for ``cnn.params.*`` each preset's value."""
    if key.startswith("cnn.params."):
        name = key.removeprefix("cnn.params.")
        vals = {p: params.get(name) for p, params in presets.items()}
        vals = {p: list(v) if isinstance(v, tuple) else v for p, v in vals.items()}
        return ", ".join(f"{p}: {shown(v)}" for p, v in vals.items())
    if "default" not in sub:
        return ""
    return shown(sub["default"])


def row(key: str, sub: dict, presets: dict[str, dict]) -> str:
    """One table row: key, default, values, what it does (:data:`WHAT` before the schema's description) and when
    to change it."""
    what = WHAT.get(key) or sub.get("description", "").strip()
    if not what:
        raise SystemExit(f"{SCHEMA.relative_to(ROOT)}: key {key} has no description; give it one (or a WHEN/WHAT "
                         f"text in {Path(__file__).relative_to(ROOT)})")
    when = WHEN.get(key)
    text = (what + (f". *Change it:* {when}." if when else ".")).replace("|", "/").replace("<", "&lt;")
    return f"| `{key}` | {default(key, sub, presets)} | {values(sub)} | {text} |"


def table(schema: dict, presets: dict[str, dict]) -> str:
    """The generated block: one table of every key, in the schema's order; a text above for a key the schema no
    longer has is an error."""
    keys = dict(walk(schema))
    stale = sorted((set(WHAT) | set(WHEN)) - set(keys))
    if stale:
        raise SystemExit(f"{Path(__file__).relative_to(ROOT)}: texts for keys the schema does not have: "
                         f"{', '.join(stale)}")
    lines = [START, "| key | default | values | what it does |", "|---|---|---|---|"]
    lines += [row(key, sub, presets) for key, sub in keys.items()]
    return "\n".join(lines + [END])


def render(page: str) -> str:
    """The page with its generated block rewritten from the schema."""
    from deepchrome.spec import PRESETS

    head, rest = page.split(START, 1)
    tail = rest.split(END, 1)[1]
    return head + table(yaml.safe_load(SCHEMA.read_text()), PRESETS) + tail


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="fail when config/README.md differs from the schema")
    args = ap.parse_args()
    old = PAGE.read_text()
    new = render(old)
    if old == new:
        return 0
    if args.check:
        sys.stdout.writelines(difflib.unified_diff(old.splitlines(True), new.splitlines(True), str(PAGE), "generated"))
        print(f"\nconfig/README.md differs from {SCHEMA.relative_to(ROOT)}: run python scripts/config_docs.py",
              file=sys.stderr)
        return 1
    PAGE.write_text(new)
    print(f"rewrote {PAGE.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
