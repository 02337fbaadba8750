import re
from pathlib import Path

import pandas as pd
from snakemake.exceptions import WorkflowError
from snakemake.utils import validate

from deepchrome.fetch import download_path, is_url

MODELS = ["cnn"] + list(config.get("baselines", {}).get("models", ["svm", "rf", "logreg"]))


def config_error(where, problem, fix):
    return WorkflowError(f"{where}: {problem}\n  Fix: {fix}")


def config_files():
    return ", ".join(map(str, workflow.configfiles)) or "the config"


try:
    validate(config, "../schemas/config.schema.yaml")
except WorkflowError as err:
    raise config_error(
        config_files(),
        f"the configuration breaks the schema:\n{err}",
        "correct the key named above (schemas/config.schema.yaml lists every key, its type and default)",
    )


def sheet_path(path):
    """A sheet path as given, or relative to the workflow when run with --directory elsewhere."""
    p = Path(path)
    if not p.is_absolute() and not p.exists() and (Path(workflow.basedir) / p).exists():
        return str(Path(workflow.basedir) / p)
    return str(p)


def read_sheet(key, schema):
    path = sheet_path(config[key])
    if not Path(path).exists():
        raise config_error(config_files(), f"the {key} sheet {path} does not exist", f"set '{key}' to a TSV file")
    sheet = pd.read_csv(path, sep="\t", dtype=str, comment="#").dropna(how="all")
    if "published_auc" in sheet:
        sheet["published_auc"] = pd.to_numeric(sheet["published_auc"])
    try:
        validate(sheet, schema)
    except WorkflowError as err:
        raise config_error(path, f"a row breaks the sheet's schema:\n{err}", f"correct the row; {schema} lists the columns")
    return sheet, path


CELL_SHEET, CELL_SHEET_PATH = read_sheet("cells", "../schemas/cells.schema.yaml")
SAMPLE_SHEET, SAMPLE_SHEET_PATH = read_sheet("samples", "../schemas/samples.schema.yaml")
if CELL_SHEET["cell"].duplicated().any():
    raise config_error(CELL_SHEET_PATH, "a cell is listed twice", "list each cell once")
CELLS = list(CELL_SHEET["cell"])
MARKS = list(config["marks"])
DEMO_DIR = "resources/demo"


def demo_files():
    """Everything the demo generator writes (empty without a `demo:` block)."""
    if "demo" not in config:
        return []
    data = [f"{DEMO_DIR}/{c}-{m}.{ext}" for c in CELLS for m in MARKS for ext in ("bigwig", "tagAlign.gz")]
    return [f"{DEMO_DIR}/chrom.sizes", f"{DEMO_DIR}/genes.gtf.gz", f"{DEMO_DIR}/rpkm.tsv.gz"] + data


DEMO_FILES = set(demo_files())
DOWNLOADS = {}  # local path under resources/downloads -> URL


def source(value, where):
    """The local file behind a config or sheet entry: a download target for URLs, else the path."""
    if is_url(value):
        local = download_path(value)
        DOWNLOADS[local] = value
        return local
    if value not in DEMO_FILES and not Path(value).exists():
        raise config_error(where, f"the file {value} does not exist", "correct the path (relative paths start at the working directory) or give a URL")
    return value


def sample_table():
    """cell x mark -> local file of the chosen input column, checked to be complete."""
    column = config["input"]
    if column not in SAMPLE_SHEET:
        raise config_error(SAMPLE_SHEET_PATH, f"no '{column}' column", f"add a '{column}' column or set input to the column you have")
    files = {}
    for cell in CELLS:
        for mark in MARKS:
            row = SAMPLE_SHEET[(SAMPLE_SHEET["cell"] == cell) & (SAMPLE_SHEET["mark"] == mark)]
            if len(row) != 1 or pd.isna(row[column].iloc[0]):
                raise config_error(
                    SAMPLE_SHEET_PATH,
                    f"cell {cell}, mark {mark}: {'no' if row.empty else 'no single'} row with a '{column}' file",
                    f"give exactly one row per cell and mark with its {column} file",
                )
            files[cell, mark] = source(row[column].iloc[0], f"{SAMPLE_SHEET_PATH} (cell {cell}, mark {mark})")
    return files


SAMPLE_FILES = sample_table()
ANNOTATION = source(config["annotation"], f"{config_files()} (annotation)")
CHROM_SIZES = source(config["chrom_sizes"], f"{config_files()} (chrom_sizes)")
EXPRESSION = source(config["expression"], f"{config_files()} (expression)")


wildcard_constraints:
    cell="|".join(map(re.escape, CELLS)),
    mark="|".join(map(re.escape, MARKS)),
    model="|".join(map(re.escape, MODELS)),
    baseline="svm|rf|logreg",


def mark_file(wildcards):
    return SAMPLE_FILES[wildcards.cell, wildcards.mark]


def cell_expression_column(wildcards):
    row = CELL_SHEET.set_index("cell").loc[wildcards.cell]
    value = row.get("expression")
    return wildcards.cell if pd.isna(value) else value


def download_url(wildcards):
    return DOWNLOADS[f"resources/downloads/{wildcards.path}"]


def download_checksum(wildcards):
    return config["checksums"].get(download_url(wildcards))


def has_published_auc():
    return "published_auc" in CELL_SHEET and CELL_SHEET["published_auc"].notna().any()


def summary_figures():
    names = ["cnn_vs_baselines", "auc_by_model", "training_curves", "featuremaps"]
    if has_published_auc():
        names.append("published")
    return [f"results/summary/figures/{n}.png" for n in names]


def all_outputs():
    per_cell = expand(
        "results/{cell}/{model}/metrics.json", cell=CELLS, model=MODELS
    ) + expand("results/{cell}/cnn/featuremap.png", cell=CELLS)
    return per_cell + ["results/summary/auc.tsv"] + summary_figures()


def cnn_transform():
    """The CNN preset's input transform, shared with the baselines so all models see the same values."""
    from deepchrome.train import resolve_params

    return resolve_params(config["cnn"]["preset"], config["cnn"]["params"])["transform"]
