import os
import re
from pathlib import Path
from types import SimpleNamespace

import jsonschema
import pandas as pd
import yaml
from snakemake.exceptions import WorkflowError
from snakemake.utils import validate

from deepchrome import BIN_SIZE
from deepchrome.baselines import BASELINES, LEVEL_BASELINES, LEVEL_NAMES
from deepchrome.dataset import find_published_cells
from deepchrome.errors import DeepChromeError
from deepchrome.sources import local_source
from deepchrome.settings import check_config, check_target, origin
from deepchrome.train import resolve_params
from deepchrome.transfer import LEFT_OUT, POOLED


def config_error(where, problem, fix):
    return WorkflowError(f"{where}: {problem}\n  Fix: {fix}")


def config_files():
    return ", ".join(map(str, workflow.configfiles)) or "the config"


def load_schema(schema):
    with open(Path(workflow.basedir) / "schemas" / schema) as f:
        return yaml.safe_load(f)


def schema_problem(data, schema):
    """The most relevant schema violation of ``data``: where it is (keys joined by dots) and what."""
    validator = jsonschema.Draft202012Validator(load_schema(schema))
    err = jsonschema.exceptions.best_match(validator.iter_errors(data))
    where = ".".join(map(str, err.absolute_path)) or "top level"
    return f"{where}: {err.message}"


def config_file_contents():
    files = {}
    for f in workflow.configfiles:
        with open(f) as fh:
            files[str(f)] = yaml.safe_load(fh) or {}
    return files


def set_by(*keys):
    """Where the config keys (dotted) were set: the command line, a config file or the defaults."""
    overrides = dict(workflow.config_settings.config)
    return ", ".join(dict.fromkeys(origin(k.split("."), overrides, CONFIG_FILE_CONTENTS) for k in keys))


def check_settings():
    """Start-up checks of the config (once, before any job): keys, command-line types, schema, windows."""
    try:
        check_config(
            config, load_schema("config.schema.yaml"), dict(workflow.config_settings.config), CONFIG_FILE_CONTENTS
        )
    except DeepChromeError as err:
        raise WorkflowError(str(err))
    validate(config, "../schemas/config.schema.yaml")  # fills in the defaults
    flank, bin_size = config["windows"]["flank"], config["windows"]["bin_size"]
    if (2 * flank) % bin_size:
        raise config_error(
            set_by("windows.flank", "windows.bin_size"),
            f"windows.flank {flank} and windows.bin_size {bin_size}: the window of 2 x flank = {2 * flank} bp "
            "is not a whole number of bins",
            "choose windows.bin_size dividing 2 x windows.flank (e.g. flank 5000 with bin_size 100, 200, 250 or 500)",
        )
    try:
        params = resolve_params(config["cnn"]["preset"], config["cnn"]["params"])
    except DeepChromeError as err:
        raise config_error(set_by("cnn.preset", "cnn.params"), f"cnn.params: {err.problem}", err.fix)
    try:
        check_target(config["target"], PROCESSED, set_by("target", "processed", "genes"), config.get("genes"))
    except DeepChromeError as err:
        raise WorkflowError(str(err))
    n_bins = 2 * flank // bin_size
    if not PROCESSED and (n_bins - params["kernel"] + 1) // params["pool"] < 1:
        raise config_error(
            set_by("windows.bin_size", "cnn.params"),
            f"{n_bins} bins per window (windows.flank {flank}, windows.bin_size {bin_size}) are too few for the "
            f"CNN's kernel {params['kernel']} and pool {params['pool']}",
            "use smaller bins (windows.bin_size) or a smaller cnn.params.kernel / cnn.params.pool",
        )


PROCESSED = "processed" in config
CONFIG_FILE_CONTENTS = config_file_contents()
check_settings()

# Conda envs install this package from here (envs/*.post-deploy.sh), wherever --directory points.
os.environ.setdefault("DEEPCHROME_SOURCE", workflow.basedir)

# Two modes: raw files (signal or reads, annotation, expression) or the published processed features.
MARKS = list(config["marks"])
# The untrained promoter score needs H3K4me3; without it that row is left out.
MODELS = ["cnn"] + [m for m in config["baselines"]["models"] if m != "promoter" or "H3K4me3" in MARKS]
# target: level predicts log2(RPKM + 1): every baseline runs as its regression form (logreg -> ridge, svm -> svr).
TARGET = config["target"]
LEVEL = TARGET == "level"
if LEVEL:
    MODELS = [LEVEL_NAMES.get(m, m) for m in MODELS]
DOWNLOADS = {}  # local path under resources/downloads -> URL
DEMO_DIR = "resources/demo"
CELL_PATTERN = "[A-Za-z0-9][A-Za-z0-9_.-]*"


def sheet_path(path):
    """A sheet path as given, or relative to the workflow when run with --directory elsewhere."""
    p = Path(path)
    if not p.is_absolute() and not p.exists() and (Path(workflow.basedir) / p).exists():
        return str(Path(workflow.basedir) / p)
    return str(p)


def sheet_lines(path):
    """File line numbers (1-based) of a sheet's data rows, in the order pandas reads them."""
    with open(path) as f:
        numbers = [i for i, line in enumerate(f, 1) if line.strip() and not line.lstrip().startswith("#")]
    return numbers[1:]  # the first is the header


def read_sheet(key, schema, unique):
    """A sheet (TSV) checked row by row against its schema, each ``unique`` key combination on one line."""
    if key not in config:
        raise config_error(config_files(), f"no '{key}' given", f"set '{key}' to a TSV file")
    path = sheet_path(config[key])
    if not Path(path).exists():
        raise config_error(config_files(), f"the {key} {path} does not exist", f"set '{key}' to a TSV file")
    try:
        sheet = pd.read_csv(path, sep="\t", dtype=str, comment="#", skip_blank_lines=True)
    except (ValueError, pd.errors.ParserError, UnicodeDecodeError) as err:
        raise config_error(path, f"cannot read the sheet ({err})", "give a tab-separated table with a header line")
    lines = sheet_lines(path)
    sheet["line"] = lines[: len(sheet)] if len(lines) >= len(sheet) else range(2, len(sheet) + 2)
    sheet = sheet.dropna(how="all", subset=[c for c in sheet.columns if c != "line"])
    if "published_auc" in sheet:
        auc = pd.to_numeric(sheet["published_auc"].str.strip(), errors="coerce")
        bad = sheet["published_auc"].notna() & auc.isna()
        if bad.any():
            row = sheet[bad].iloc[0]
            raise config_error(
                path,
                f"line {row['line']}: published_auc {row['published_auc']!r} is not a number",
                "give the published AUC as a plain number between 0 and 1 (e.g. 0.80), or leave it empty",
            )
        sheet["published_auc"] = auc
    for row in sheet.to_dict("records"):
        line = row.pop("line")
        row = {k: v for k, v in row.items() if not pd.isna(v)}
        try:
            validate(row, f"../schemas/{schema}")
        except WorkflowError:
            raise config_error(
                path,
                f"line {line} breaks the sheet's schema: {schema_problem(row, schema)}",
                f"correct the row (schemas/{schema} lists the columns; cell IDs are used in file names: letters, digits, '_', '.', '-')",
            )
    listed_once(sheet, unique, path)
    return sheet.drop(columns="line"), path


def listed_once(sheet, keys, path):
    """Stop when a row's ``keys`` (e.g. cell, or cell and mark) appear on more than one line."""
    twice = sheet[sheet.duplicated(keys, keep=False)]
    if not twice.empty:
        first = twice.iloc[0]
        lines = twice.loc[(twice[keys] == first[keys]).all(axis=1), "line"]
        what = ", ".join(f"{k} {first[k]}" for k in keys)
        raise config_error(
            path,
            f"{what} is listed twice (lines {', '.join(map(str, lines))})",
            "keep one line per " + " and ".join(keys),
        )


def chosen_cells(available, where):
    """The cells of ``available`` that --config cells=... keeps (all when unset)."""
    wanted = config.get("cells")
    if not wanted:
        return list(available)
    wanted = wanted.split(",") if isinstance(wanted, str) else list(wanted)
    unknown = [c for c in wanted if c not in available]
    if unknown:
        raise config_error(where, f"cells not found: {', '.join(unknown)}", f"choose among {', '.join(available)}")
    return [c for c in available if c in wanted]


def predict_models(sheet, path):
    """Cells without RNA-seq: cell -> the model that scores it (`predict_with`: a trained cell or `pooled`).

    A predict cell has no expression column; it names a cell of the sheet that has one, or the pooled model.
    """
    numbers = sheet_lines(path)
    lines = {i: numbers[i] for i in sheet.index if i < len(numbers)}
    if POOLED in set(sheet["cell"]):
        line = lines.get(sheet.index[sheet["cell"] == POOLED][0])
        raise config_error(
            path,
            f"line {line}: the cell ID '{POOLED}' is reserved for the model pooled over all cells (predict_with: {POOLED})",
            "give the cell another ID",
        )
    if "predict_with" not in sheet:
        return {}
    rows = sheet[sheet["predict_with"].notna()]
    predict = dict(zip(rows["cell"], rows["predict_with"].str.strip()))
    for index, row in rows.iterrows():
        cell, model, where = row["cell"], predict[row["cell"]], f"line {lines.get(index)}"
        if "expression" in sheet and pd.notna(row["expression"]):
            raise config_error(
                path,
                f"{where}: cell {cell} has both an expression column and predict_with",
                "a cell with RNA-seq is trained on its own labels: drop predict_with; a cell without RNA-seq: drop expression",
            )
        if model != POOLED and model not in set(sheet["cell"]):
            raise config_error(
                path,
                f"{where}: predict_with {model!r} of cell {cell} is not a cell of the sheet",
                f"name a cell of the sheet that has expression, or '{POOLED}' (the model trained on all such cells)",
            )
        if model in predict:
            raise config_error(
                path,
                f"{where}: predict_with {model!r} of cell {cell} is itself a cell without RNA-seq (predict_with "
                f"{predict[model]!r}): it has no model of its own",
                f"name a cell of the sheet that has expression, or '{POOLED}'",
            )
    if len(predict) == len(sheet):
        raise config_error(
            path,
            "every cell of the sheet has predict_with: no cell has expression to train a model on",
            "give at least one cell with RNA-seq (no predict_with) for the models to learn from",
        )
    return predict


BASE_URLS = {k: v for k, v in config.items() if k.endswith("_url")}


def source(value, where, produced=(), **fields):
    """The local file behind a config or sheet entry (``{name_url}`` base URLs and ``fields`` such as cell and
    mark filled in): a download target for URLs, else the path."""
    try:
        return local_source(value, where, {**BASE_URLS, **fields}, produced, DOWNLOADS)
    except DeepChromeError as err:
        raise WorkflowError(str(err))


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
        else pd.DataFrame({"cell": []})
    )
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
    PREDICT = predict_models(CELL_SHEET, CELL_SHEET_PATH)
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
    if column not in SAMPLE_SHEET:
        raise config_error(
            SAMPLE_SHEET_PATH, f"no '{column}' column", f"add a '{column}' column or set input to the column you have"
        )
    files = {}
    for cell in NEEDED_CELLS:
        for mark in MARKS:
            row = SAMPLE_SHEET[(SAMPLE_SHEET["cell"] == cell) & (SAMPLE_SHEET["mark"] == mark)]
            if row.empty or pd.isna(row[column].iloc[0]):
                raise config_error(
                    SAMPLE_SHEET_PATH,
                    f"cell {cell}, mark {mark}: no line with a '{column}' file",
                    f"give one line per cell and mark with its {column} file",
                )
            files[cell, mark] = source(
                row[column].iloc[0], f"{SAMPLE_SHEET_PATH} (cell {cell}, mark {mark})", DEMO_FILES
            )
    return files


def needed_cells():
    """The chosen cells and the trained cells whose models the chosen predict cells use (the pooled model: all)."""
    models = {PREDICT[c] for c in CELLS if c in PREDICT}
    extra = [c for c in CELL_SHEET["cell"] if c in models or (POOLED in models and c not in PREDICT)]
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
        else CELL_PATTERN
    ),
    pool=f"{POOLED}|{LEFT_OUT}{CELL_PATTERN}",
    mark="|".join(map(re.escape, MARKS)),
    model="|".join(map(re.escape, MODELS)),
    baseline="|".join(LEVEL_BASELINES if LEVEL else BASELINES),


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


def cnn_transform():
    """The CNN preset's input transform, shared with the baselines so all models see the same values."""
    return resolve_params(config["cnn"]["preset"], cnn_overrides())["transform"]


def cnn_overrides():
    """The config's overrides of the CNN preset, with cnn.seeds (when set) as the ensemble's size."""
    seeds = config["cnn"].get("seeds")
    return {**config["cnn"]["params"], **({} if seeds is None else {"seeds": seeds})}


def feature_description():
    """How this run builds features, beside their marks and bins (what model.pt records and predict checks)."""
    return {
        "bin_size": BIN_SIZE if PROCESSED else config["windows"]["bin_size"],
        "bin_order": bin_order(),
        "input": "processed" if PROCESSED else config["input"],
        "transform": cnn_transform(),
    }


def model_file(model):
    """The model.pt of a trained cell, of the pooled model or of a leave-one-cell-out model (`without_<cell>`)."""
    if model == POOLED or model.startswith(LEFT_OUT):
        return f"results/transfer/{model}/cnn/model.pt"
    return f"results/{model}/cnn/model.pt"


def transfer_outputs():
    """The summary's models-across-cells part of every full run: the transfer matrix and its heat map."""
    return ["results/summary/transfer.tsv", "results/summary/figures/transfer.png"]


def pool_left_out(wildcards):
    """The cell a pooled model leaves out (`without_<cell>`), checked to be a cell with expression; None: pooled."""
    if wildcards.pool == POOLED:
        return None
    cell = wildcards.pool[len(LEFT_OUT) :]
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
    per_cell_outputs += expand("results/{cell}/predicted.tsv", cell=predict_cells())
    if subset_run():  # the summary stays that of the last run on all cells
        return per_cell_outputs
    summary = ["results/summary/auc.tsv", "results/summary/models.tsv", "results/summary/overview.rst"]
    summary += ["results/summary/auc_table.html"]
    summary += transfer_outputs()
    if LEVEL:
        return per_cell_outputs + summary + LEVEL_SUMMARY
    summary += ["results/summary/explanation.tsv", "results/summary/figures/importance.png"]
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
    return f"{workflow.basedir}/report/before_summary.rst"


def cell_sheet_rows(wildcards):
    return cell_table().to_dict("list")


def run_cells(wildcards):
    return cells()


def metric_pairs(wildcards):
    return [[c, m] for c in cells() for m in MODELS]
