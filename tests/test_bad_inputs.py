"""Bad inputs through the real workflow: each stops with one message naming the file or key, no traceback,
no output of the failing step.

One case per stage and kind of input keeps the checks' wiring into the workflow tested (the config file and the
command line, the cell sheet, a sample path, the annotation, the chromosome sizes, the expression table, the labels,
a reads file, a bigWig); every other case of each check is a unit test of the package function behind it
(tests/test_settings.py, test_sheets.py, test_sources.py, test_annotation.py, test_labels.py, test_reads.py,
test_bigwig.py). The cases live in one table, BAD_INPUTS: adding a case is one line. Each row is (name, how to break
the small demo data set, the target to build, texts the message must contain). ``{work}`` and ``{data}`` in the
expected texts stand for the run's folder and the data set's folder.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import pandas as pd
import pytest

from conftest import own_config, snakemake

pytestmark = pytest.mark.slow  # each row runs the workflow until its bad input stops it

WINDOWS = "results/genes/windows.tsv"
EXPRESSION = "results/genes/expression.tsv"
LABELS = "results/cellA/labels.tsv"
MARK = "results/cellA/marks/H3K4me3.npy"  # the job that reads cellA's H3K4me3 file (the broken one in those rows)


# ---- ways to break an input (each returns the Snakemake arguments of the run) ----------------------

def config(**changes):
    """A config key changed in the config file."""
    return lambda work, data: ["--configfile", str(own_config(work, data, **changes))]


def command_line(*entries, **changes):
    """Good config file, bad ``--config`` entries."""
    return lambda work, data: ["--configfile", str(own_config(work, data, **changes)), "--config", *entries]


def sheet(name, edit):
    """The cell or sample sheet (``name``) edited as text by ``edit``."""
    def make(work, data):
        args = ["--configfile", str(own_config(work, data))]
        path = work / name
        path.write_text(edit(path.read_text()))
        return args
    return make


def rpkm(edit, **changes):
    """The expression table, rewritten as text by ``edit`` (a function of the whole table as strings)."""
    def make(work, data):
        table = pd.read_csv(data / "rpkm.tsv.gz", sep="\t", index_col=False, dtype=str)
        path = work / "rpkm.tsv"
        edited = edit(table)
        (edited.to_csv(path, sep="\t", index=False) if isinstance(edited, pd.DataFrame) else path.write_text(edited))
        return ["--configfile", str(own_config(work, data, expression=str(path), **changes))]
    return make


def set_values(column, rows, value):
    def edit(table):
        table.loc[rows, column] = value
        return table
    return edit


def cut(name, key):
    """A gzip input cut in half, as an interrupted download leaves it."""
    def make(work, data):
        data_bytes = (data / name).read_bytes()
        path = work / name
        path.write_bytes(data_bytes[: len(data_bytes) // 2])
        return ["--configfile", str(own_config(work, data, **{key: str(path)}))]
    return make


def replaced(name, key, text):
    """An input replaced by ``text`` (gzip when ``name`` ends in .gz)."""
    def make(work, data):
        path = work / name
        if name.endswith(".gz"):
            with gzip.open(path, "wt") as f:
                f.write(text)
        else:
            path.write_text(text)
        return ["--configfile", str(own_config(work, data, **{key: str(path)}))]
    return make


def missing_signal(work, data):
    """cellA's H3K4me3 signal named in the sample sheet but absent."""
    return ["--configfile", str(own_config(work, data, files={("cellA", "H3K4me3"): work / "no.bigwig"}))]


def mark_file(name, content, column="signal"):
    """cellA's H3K4me3 file replaced by ``content(data)`` (bytes); ``column`` reads: tagAlign input."""
    def make(work, data):
        args = ["--configfile", str(own_config(work, data, input=column))]
        samples = pd.read_csv(work / "samples.tsv", sep="\t")
        if column == "reads":
            samples["reads"] = samples["signal"].str.replace(".bigwig", ".tagAlign.gz")
        path = work / name
        path.write_bytes(content(data))
        samples.loc[(samples["cell"] == "cellA") & (samples["mark"] == "H3K4me3"), column] = str(path)
        samples.to_csv(work / "samples.tsv", sep="\t", index=False)
        return args
    return make


def half(name):
    return lambda data: (data / name).read_bytes()[: (data / name).stat().st_size // 2]


def first_row(text, line=1):
    """The sheet's data line ``line`` repeated once more."""
    lines = text.splitlines()
    return "\n".join(lines + [lines[line]]) + "\n"


def bigwig(scale):
    """cellA's H3K4me3 bigWig rewritten with its chromosome lengths times ``scale`` in the header (another build)."""
    def content(data):
        import tempfile

        import pyBigWig

        src = pyBigWig.open(str(data / "cellA-H3K4me3.bigwig"))
        with tempfile.TemporaryDirectory() as tmp:
            path = f"{tmp}/x.bigwig"
            out = pyBigWig.open(path, "w")
            sizes = {c: max(1, int(n * scale)) for c, n in src.chroms().items()}
            out.addHeader(list(sizes.items()))
            for c, n in sizes.items():
                iv = [(s, e, v) for s, e, v in (src.intervals(c) or []) if e <= n]
                if iv:
                    out.addEntries([c] * len(iv), [s for s, _, _ in iv], ends=[e for _, e, _ in iv],
                                   values=[float(v) for _, _, v in iv])
            out.close()
            return Path(path).read_bytes()
    return content


def few_expressed(table):
    """cellA expressed in 10 genes only: its median RPKM is 0."""
    table["cellA"] = "0"
    table.loc[:9, "cellA"] = "5.0"
    return table


BAD_INPUTS = [
    # name, how to break, target, expected texts
    ("unknown top-level key in the file (finding 11)", config(cell="cellA"), WINDOWS,
     ["unknown key 'cell'", "cells", "{work}/config.yaml"]),
    ("command-line value of the wrong type (finding 10)", command_line("cnn={params: {epochs: five}}"), WINDOWS,
     ["cnn.params.epochs", "command line", '--config "cnn={params: {epochs: VALUE}}"']),
    ("cell listed twice", sheet("cells.tsv", first_row), WINDOWS, ["cellA is listed twice", "{work}/cells.tsv"]),
    ("sample file that does not exist", missing_signal, WINDOWS, ["{work}/no.bigwig", "does not exist"]),
    ("truncated GTF download (finding 5)", cut("genes.gtf.gz", "annotation"), WINDOWS,
     ["{work}/genes.gtf.gz", "truncated", "download"]),
    ("chromosome sizes with words", replaced("chrom.sizes", "chrom_sizes", "chr1\tlong\n"), WINDOWS,
     ["{work}/chrom.sizes"]),
    ("expression words for low values (finding 2)", rpkm(set_values("cellA", slice(0, 40), "n.d.")), EXPRESSION,
     ["{work}/rpkm.tsv", "not numbers", "column 'cellA', line 2", "missing_values"]),
    ("truncated tagAlign.gz download", mark_file("cut.tagAlign.gz", half("cellA-H3K4me3.tagAlign.gz"), "reads"),
     MARK, ["{work}/cut.tagAlign.gz", "truncated", "again"]),
    ("bigWig of another genome build (issue 23)", mark_file("half.bigwig", bigwig(scale=0.5)), MARK,
     ["{work}/half.bigwig: its header gives other chromosome lengths than the chromosome sizes {data}/chrom.sizes",
      "bp in the file", "windows.length_mismatch: warn"]),
    ("median RPKM of 0 (issue 23)", rpkm(few_expressed), LABELS,
     ["{work}/rpkm.tsv: column 'cellA' (cell cellA): the median RPKM is 0", "only 10 genes are above it"]),
]


@pytest.mark.parametrize("name,make,target,expected", BAD_INPUTS, ids=[row[0] for row in BAD_INPUTS])
def test_bad_input(name, make, target, expected, tmp_path, small_data):
    work = tmp_path / "run"
    work.mkdir()
    out = snakemake(target, *make(work, small_data), workdir=work)
    text = out.stdout + out.stderr
    assert out.returncode != 0, text[-3000:]
    for phrase in expected:
        phrase = phrase.replace("{work}", str(work)).replace("{data}", str(small_data))
        assert phrase in text, (phrase, text[-3000:])
    assert "Traceback" not in text, text[-3000:]
    results = work / "results"
    made = sorted(p.relative_to(work).as_posix() for p in results.rglob("*") if p.is_file()) if results.exists() else []
    assert target not in made and not [p for p in made if Path(p).name.startswith(".")], made
    assert text.count("Fix:") == 1, text[-3000:]  # one message, printed once
