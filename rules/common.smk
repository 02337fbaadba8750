import os
import re
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
from snakemake.exceptions import WorkflowError
from snakemake.utils import validate

# Torch-, scikit-learn- and scipy-free modules only: the workflow parses in a plain Snakemake environment.
from deepchrome import settings, sheets, spec
from deepchrome.dataset import find_published_cells
from deepchrome.errors import DeepChromeError
from deepchrome.sources import local_source

# The workflow's own folder (schemas, sheets of the demo, report pages), also when it runs as a module of another
# project, where workflow.basedir is that project's folder.
WORKFLOW_DIR = Path(workflow.current_basedir).parent


def config_error(where, problem, fix):
    return WorkflowError(f"{where}: {problem}\n  Fix: {fix}")


def checked(function, *args, **kwargs):
    """``function(*args, **kwargs)``, its DeepChromeError shown as Snakemake shows a workflow error (no traceback)."""
    try:
        return function(*args, **kwargs)
    except DeepChromeError as err:
        raise WorkflowError(str(err))


def grows(amount):
    """A rule's memory (MB) or wall time (minutes): ``amount`` at the first attempt, growing with each retry (the
    SLURM profile's ``retries``); set here alone, for every executor."""
    return lambda wildcards, attempt: amount * attempt


def config_files():
    return ", ".join(map(str, workflow.configfiles)) or "the config"


def load_schema(schema):
    return sheets.load_schema(WORKFLOW_DIR / "schemas" / schema)


def config_file_contents():
    files = {}
    for f in workflow.configfiles:
        files[str(f)] = sheets.load_schema(f) or {}
    return files


def check_settings():
    """Start-up checks of the config (once, before any job): keys, command-line types, schema, windows, CNN."""
    overrides = dict(workflow.config_settings.config)
    checked(settings.check_config, config, load_schema("config.schema.yaml"), overrides, CONFIG_FILE_CONTENTS)
    validate(config, "../schemas/config.schema.yaml")  # fills in the defaults
    checked(settings.check_run, config, PROCESSED, overrides, CONFIG_FILE_CONTENTS)


PROCESSED = "processed" in config
CONFIG_FILE_CONTENTS = config_file_contents()
check_settings()

# Conda envs install this package from here (envs/*.post-deploy.sh), wherever --directory points.
os.environ.setdefault("DEEPCHROME_SOURCE", str(WORKFLOW_DIR))

# Two modes: raw files (signal or reads, annotation, expression) or the published processed features.
MARKS = list(config["marks"])
TARGET = config["target"]
LEVEL = spec.target(TARGET).is_level
# The networks, then the configured baselines in their form for the target (the promoter score needs H3K4me3).
MODELS = spec.configured_models(config["networks"], config["baselines"]["models"], MARKS, TARGET)
BASELINES = [m for m in MODELS if m in spec.baseline_names(TARGET)]  # one job per cell (rule baselines)
CNN_PARAMS = spec.run_params(config["cnn"])
TRANSFORM = CNN_PARAMS["transform"]  # the input transform of every model, so all see the same values
DOWNLOADS = {}  # local path under resources/downloads -> URL
DEMO_DIR = "resources/demo"


def sheet_path(path):
    """A sheet path as given, or relative to the workflow when run with --directory elsewhere."""
    return sheets.sheet_path(path, WORKFLOW_DIR)


def read_sheet(key, schema, unique):
    """A sheet (TSV) checked row by row against its schema, each ``unique`` key combination on one line; with
    ``line``: each row's line in the file."""
    if key not in config:
        raise config_error(config_files(), f"no '{key}' given", f"set '{key}' to a TSV file")
    path = sheet_path(config[key])
    if not Path(path).exists():
        raise config_error(config_files(), f"the {key} {path} does not exist", f"set '{key}' to a TSV file")
    return checked(sheets.read_sheet, path, load_schema(schema), schema, unique), path


def chosen_cells(available, where):
    """The cells of ``available`` that --config cells=... keeps (all when unset)."""
    return checked(sheets.chosen_cells, list(available), config.get("cells"), where)


BASE_URLS = {k: v for k, v in config.items() if k.endswith("_url")}


def source(value, where, produced=(), **fields):
    """The local file behind a config or sheet entry (``{name_url}`` base URLs and ``fields`` such as cell and
    mark filled in): a download target for URLs, else the path."""
    return checked(local_source, value, where, {**BASE_URLS, **fields}, produced, DOWNLOADS)


if PROCESSED:
    if not config["processed"]:
        raise config_error(
            config_files(),
            "no processed data given",
            "set it on the command line: --config processed=<folder of <EID>/classification/*.csv, data.tar.gz, or its URL>",
        )
    PROCESSED_SOURCE = source(config["processed"], f"{config_files()} (processed)")
    PROCESSED_IS_DIR = Path(PROCESSED_SOURCE).is_dir()
    if PROCESSED_IS_DIR:
        try:
            PROCESSED_FILES = find_published_cells(PROCESSED_SOURCE)
        except DeepChromeError as err:
            raise WorkflowError(str(err))
    CELL_SHEET = (
        read_sheet("cell_sheet", "cells.schema.yaml", ["cell"])[0]
        if "cell_sheet" in config
        else pd.DataFrame({"cell": [], "line": []})
    ).drop(columns="line")
    if "predict_with" in CELL_SHEET and CELL_SHEET["predict_with"].notna().any():
        raise config_error(
            sheet_path(config["cell_sheet"]),
            "predict_with is set, but the processed data hold features and labels only (no raw files to build a "
            "cell without RNA-seq from)",
            "leave predict_with empty in processed mode; predict cells need the raw-files mode (signal or reads)",
        )
    PREDICT = {}
else:
    CELL_SHEET, CELL_SHEET_PATH = read_sheet("cell_sheet", "cells.schema.yaml", ["cell"])
    PREDICT = checked(sheets.predict_models, CELL_SHEET, CELL_SHEET_PATH)
    CELL_SHEET = CELL_SHEET.drop(columns="line")
    CELLS = chosen_cells(list(CELL_SHEET["cell"]), CELL_SHEET_PATH)


def demo_files():
    """Everything the demo generator writes (empty without a `demo:` block)."""
    if "demo" not in config or PROCESSED:
        return []
    data = [f"{DEMO_DIR}/{c}-{m}.{ext}" for c in CELL_SHEET["cell"] for m in MARKS for ext in ("bigwig", "tagAlign.gz")]
    hidden = [f"{DEMO_DIR}/hidden_rpkm.tsv.gz"] if PREDICT else []  # the predict cells' expression: never read
    return [f"{DEMO_DIR}/chrom.sizes", f"{DEMO_DIR}/genes.gtf.gz", f"{DEMO_DIR}/rpkm.tsv.gz"] + hidden + data


DEMO_FILES = set(demo_files())


def sample_table():
    """cell x mark -> local file of the chosen input (a sheet column or a template), checked to be complete."""
    column = config["input"]
    if "samples" in config:
        if column not in config["samples"]:
            raise config_error(
                config_files(),
                f"no samples.{column} template",
                f"add samples.{column} or set input to the kind you have",
            )
        return {
            (cell, mark): source(
                config["samples"][column], f"{config_files()} (samples.{column})", DEMO_FILES, cell=cell, mark=mark
            )
            for cell in NEEDED_CELLS
            for mark in MARKS
        }
    SAMPLE_SHEET, SAMPLE_SHEET_PATH = read_sheet("sample_sheet", "samples.schema.yaml", ["cell", "mark"])
    entries = checked(sheets.sample_files, SAMPLE_SHEET, SAMPLE_SHEET_PATH, column, NEEDED_CELLS, MARKS)
    return {
        (cell, mark): source(value, f"{SAMPLE_SHEET_PATH} (cell {cell}, mark {mark})", DEMO_FILES)
        for (cell, mark), (value, line) in entries.items()
    }


def needed_cells():
    """The chosen cells and the trained cells whose models the chosen predict cells use (the pooled model: all)."""
    models = {PREDICT[c] for c in CELLS if c in PREDICT}
    extra = [c for c in CELL_SHEET["cell"] if c in models or (spec.POOLED in models and c not in PREDICT)]
    return list(dict.fromkeys(CELLS + extra))


if not PROCESSED:
    NEEDED_CELLS = needed_cells()
    SAMPLE_FILES = sample_table()
    for key in ("annotation", "chrom_sizes", "expression"):
        if key not in config:
            raise config_error(config_files(), f"no '{key}' given", f"set '{key}' to a path or URL")
    ANNOTATION = source(config["annotation"], f"{config_files()} (annotation)", DEMO_FILES)
    CHROM_SIZES = source(config["chrom_sizes"], f"{config_files()} (chrom_sizes)", DEMO_FILES)
    EXPRESSION = source(config["expression"], f"{config_files()} (expression)", DEMO_FILES)
elif PROCESSED_IS_DIR:
    CELLS = chosen_cells(list(PROCESSED_FILES), PROCESSED_SOURCE)


wildcard_constraints:
    cell=(
        "|".join(map(re.escape, NEEDED_CELLS if not PROCESSED else CELLS))
        if not PROCESSED or PROCESSED_IS_DIR
        else sheets.CELL_PATTERN
    ),
    pool=f"{spec.POOLED}|{spec.LEFT_OUT}{sheets.CELL_PATTERN}",
    mark="|".join(map(re.escape, MARKS)),
    model="|".join(map(re.escape, MODELS)),


# ---- input functions ----------------------------------------------------------------------------


def processed_files():
    """{cell: {split: csv}} of the processed data, after unpacking an archive (a checkpoint) if needed."""
    if PROCESSED_IS_DIR:
        return PROCESSED_FILES
    return find_published_cells(checkpoints.unpack_processed.get().output[0])


def cells():
    """The cells of this run that have expression and so models of their own (in processed mode from an
    archive, known once it is unpacked); the predict cells are :func:`predict_cells`."""
    if PROCESSED and not PROCESSED_IS_DIR:
        return chosen_cells(list(processed_files()), PROCESSED_SOURCE)
    return [c for c in CELLS if c not in PREDICT]


def predict_cells():
    """The cells of this run without RNA-seq (`predict_with` in the cell sheet)."""
    return [c for c in CELLS if c in PREDICT] if not PROCESSED else []


def available_cells():
    """Every cell with expression the sheet (or the processed data) offers, whichever --config cells=... picks."""
    if not PROCESSED:
        return [c for c in CELL_SHEET["cell"] if c not in PREDICT]
    return list(PROCESSED_FILES if PROCESSED_IS_DIR else processed_files())


def subset_run():
    """True when --config cells=... leaves out some cells: such a run builds them and no summary."""
    return set(cells()) != set(available_cells()) or set(predict_cells()) != set(PREDICT)


def summary_inputs(pattern, **wildcards):
    """Input function of the summary rules: ``pattern`` over this run's cells, which must be all cells."""

    def inputs(_):
        if subset_run():
            raise config_error(
                "--config cells",
                f"the summary covers every cell, and this run is limited to {', '.join(cells())}",
                "run without --config cells to build the summary (cells already built are not run again)",
            )
        return expand(pattern, cell=cells(), **wildcards)

    return inputs


def processed_cell_files(wildcards):
    return processed_files()[wildcards.cell]


def mark_file(wildcards):
    return SAMPLE_FILES[wildcards.cell, wildcards.mark]


def split_file(wildcards):
    """Raw mode: one split for all cells; processed mode: each cell keeps its files' own split."""
    return f"results/{wildcards.cell}/split.tsv" if PROCESSED else "results/split.tsv"


def windows_file(wildcards):
    return [] if PROCESSED else "results/genes/windows.tsv"


def bin_order():
    return "genome" if PROCESSED else config["windows"]["bin_order"]


def cell_expression_column(wildcards):
    row = CELL_SHEET.set_index("cell").loc[wildcards.cell]
    value = row.get("expression")
    return wildcards.cell if pd.isna(value) else value


def expression_columns():
    """Cell -> its expression column, for every cell of the sheet with expression (not only this run's cells;
    never the predict cells, which have none: the split and the medians come from the others)."""
    return {
        cell: cell_expression_column(SimpleNamespace(cell=cell)) for cell in CELL_SHEET["cell"] if cell not in PREDICT
    }


def download_url(wildcards):
    return DOWNLOADS[f"resources/downloads/{wildcards.path}"]


def download_checksum(wildcards):
    return config["checksums"].get(download_url(wildcards))


def cell_table():
    """The cell sheet's rows for this run's cells (cells missing from the sheet get a bare row)."""
    sheet = CELL_SHEET.set_index("cell")
    return sheet.reindex(cells()).reset_index().rename(columns={"index": "cell"})


def has_published_auc():
    table = cell_table()
    return "published_auc" in table and table["published_auc"].notna().any()


def model_file(model):
    """The model.pt of a trained cell, of the pooled model or of a leave-one-cell-out model (`without_<cell>`)."""
    if model == spec.POOLED or model.startswith(spec.LEFT_OUT):
        return f"results/transfer/{model}/cnn/model.pt"
    return f"results/{model}/cnn/model.pt"


def transfer_outputs():
    """The summary's models-across-cells part of every full run: the transfer matrix and its heat map."""
    return ["results/summary/transfer.tsv", "results/summary/figures/transfer.png"]


def pool_left_out(wildcards):
    """The cell a pooled model leaves out (`without_<cell>`), checked to be a cell with expression; None: pooled."""
    if wildcards.pool == spec.POOLED:
        return None
    cell = wildcards.pool[len(spec.LEFT_OUT) :]
    if cell not in available_cells():
        raise config_error(
            f"results/transfer/{wildcards.pool}",
            f"{cell} is not a cell with expression of this run",
            f"leave out one of {', '.join(available_cells())}",
        )
    return cell


def all_cells_of(pattern):
    """Input function: ``pattern`` over every cell with expression (the pooled models' cells)."""
    return lambda _: expand(pattern, cell=available_cells())


def split_files(cell_list):
    return [split_file(SimpleNamespace(cell=c)) for c in cell_list]


def per_cell(pattern, **wildcards):
    """Input function: ``pattern`` expanded over this run's cells (and any other wildcards)."""

    def inputs(_):
        return expand(pattern, cell=cells(), **wildcards)

    return inputs


def all_outputs(_):
    figures = ["cnn_vs_baselines", "auc_by_model", "model_comparison", "training_curves", "featuremaps"]
    if has_published_auc():
        figures.append("published")
    per_cell_outputs = expand("results/{cell}/{model}/metrics.json", cell=cells(), model=MODELS)
    if not LEVEL:  # target: level has no explanation (see Snakefile)
        per_cell_outputs += expand("results/{cell}/cnn/featuremap.png", cell=cells()) + expand(
            "results/{cell}/cnn/{file}", cell=cells(), file=["attributions.npz", "explanation.png"]
        )
        if "attentive" in MODELS:
            per_cell_outputs += expand("results/{cell}/attentive/attention.png", cell=cells())
    per_cell_outputs += expand("results/{cell}/predicted.tsv", cell=predict_cells())
    if subset_run():  # the summary stays that of the last run on all cells
        return per_cell_outputs
    summary = ["results/summary/auc.tsv", "results/summary/models.tsv", "results/summary/overview.rst"]
    summary += ["results/summary/auc_table.html"]
    summary += [] if PROCESSED else ["results/summary/genes.tsv"]
    summary += transfer_outputs()
    if LEVEL:
        return per_cell_outputs + summary + LEVEL_SUMMARY
    summary += ["results/summary/explanation.tsv", "results/summary/figures/importance.png"]
    summary += ["results/summary/attention.tsv"] if "attentive" in MODELS else []
    return per_cell_outputs + summary + [f"results/summary/figures/{f}.png" for f in figures]


# target: level's summary (rules/levels.smk): per-cell and per-model tables of r, rho, R^2 and MSE, and figures.
LEVEL_SUMMARY = [
    "results/summary/levels.tsv",
    "results/summary/level_models.tsv",
    "results/summary/figures/levels.png",
    "results/summary/figures/r_by_model.png",
    "results/summary/figures/level_training.png",
]


def overview_page():
    """The report's landing page: the run's overview once built (a full run), else a note on how to get it."""
    page = Path("results/summary/overview.rst")
    if page.exists() and not config.get("cells"):
        return str(page.absolute())
    return str(WORKFLOW_DIR / "report" / "before_summary.rst")


def cell_sheet_rows(wildcards):
    return cell_table().to_dict("list")


def run_cells(wildcards):
    return cells()


def metric_pairs(wildcards):
    return [[c, m] for c in cells() for m in MODELS]
