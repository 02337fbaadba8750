"""Bad inputs through the real workflow: each stops with one message naming the file or key, no traceback,
no output of the failing step.

The cases live in one table, BAD_INPUTS: adding a case is one line. The sheet and config checks are package
functions with unit tests of every case (tests/test_sheets.py, tests/test_settings.py); here one case per stage
keeps their wiring into the workflow tested. Each row is (name, how to break the
small demo data set, the target to build, texts the message must contain). ``{work}`` and ``{data}`` in
the expected texts stand for the run's folder and the data set's folder.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import pandas as pd
import pytest

from conftest import own_config, snakemake

WINDOWS = "results/genes/windows.tsv"
EXPRESSION = "results/genes/expression.tsv"
LABELS = "results/cellA/labels.tsv"
FEATURES = "results/cellA/features.npz"


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


def predict_rows(**models):
    """The cell sheet with a predict_with column: ``cell=model`` for the cells given, empty for the others."""
    def edit(text):
        lines = text.splitlines()
        rows = [f"{line}\t{models.get(line.split(chr(9))[0], '')}" for line in lines[1:]]
        return "\n".join([lines[0] + "\tpredict_with", *rows]) + "\n"
    return edit


def bigwig(scale=1.0, value=None):
    """cellA's H3K4me3 bigWig rewritten: chromosome lengths times ``scale`` in the header (another build), its
    values replaced by ``value`` where given (inf, 0)."""
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
                                   values=[float(v if value is None else value) for _, _, v in iv])
            out.close()
            return Path(path).read_bytes()
    return content


def sample_path(make_path):
    """cellA's H3K4me3 sample-sheet entry replaced by ``make_path(work, data)`` (a path string)."""
    def make(work, data):
        args = ["--configfile", str(own_config(work, data))]
        samples = pd.read_csv(work / "samples.tsv", sep="\t")
        samples.loc[(samples["cell"] == "cellA") & (samples["mark"] == "H3K4me3"), "signal"] = make_path(work, data)
        samples.to_csv(work / "samples.tsv", sep="\t", index=False)
        return args
    return make


def trailing_space(work, data):
    (work / "a.bigwig").write_bytes((data / "cellA-H3K4me3.bigwig").read_bytes())
    return f"{work}/a.bigwig "


def symlink_loop(work, data):
    (work / "loop.bigwig").symlink_to(work / "loop2.bigwig")
    (work / "loop2.bigwig").symlink_to(work / "loop.bigwig")
    return str(work / "loop.bigwig")


def halved_sizes(work, data):
    sizes = [line.split("\t") for line in (data / "chrom.sizes").read_text().splitlines() if line]
    path = work / "chrom.sizes"
    path.write_text("".join(f"{c}\t{int(n) // 3}\n" for c, n in sizes))
    return ["--configfile", str(own_config(work, data, chrom_sizes=str(path)))]


def renamed_ids(share):
    """The expression table with the gene IDs of its first ``share`` of rows changed (no longer in the GTF)."""
    def edit(table):
        n = int(len(table) * share)
        table.iloc[:n, 0] = [f"ENSGX{i:010d}" for i in range(n)]
        return table
    return edit


def few_expressed(table):
    """cellA expressed in 10 genes only: its median RPKM is 0."""
    table["cellA"] = "0"
    table.loc[:9, "cellA"] = "5.0"
    return table


BAD_INPUTS = [
    # name, how to break, target, expected texts
    ("unknown top-level key in the file (finding 11)", config(cell="cellA"), WINDOWS,
     ["unknown key 'cell'", "cells", "{work}/config.yaml"]),
    ("unknown top-level key on the command line", command_line("cell=cellA"), WINDOWS,
     ["unknown key 'cell'", "did you mean 'cells'", "command line"]),
    ("unknown nested key", config(cnn={"parms": {"epochs": 5}}), WINDOWS, ["cnn.parms", "cnn.params"]),
    ("unknown CNN parameter", config(cnn={"params": {"epoch": 5}}), WINDOWS, ["cnn.params.epoch", "cnn.params.epochs"]),
    ("command-line value of the wrong type (finding 10)", command_line("cnn={params: {epochs: five}}"), WINDOWS,
     ["cnn.params.epochs", "command line", '--config "cnn={params: {epochs: VALUE}}"']),
    ("malformed nested override", command_line("cnn={params: {epochs: 5}"), WINDOWS,
     ["command line", "cnn", '--config "cnn={key: value}"']),
    ("command-line integer out of range", command_line("demo={genes: 5}"), WINDOWS, ["demo.genes", "command line"]),
    ("file value of the wrong type", config(windows={"flank": "5 kb"}), WINDOWS, ["windows.flank", "{work}/config.yaml"]),
    ("bins do not divide the window (finding 8)", config(windows={"flank": 5000, "bin_size": 300}), WINDOWS,
     ["windows.bin_size", "whole number of bins"]),
    ("unknown split method", config(split={"method": "randm"}), WINDOWS, ["split.method", "randm"]),
    ("unknown cell chosen", command_line("cells=cellZ"), WINDOWS, ["cellZ", "{work}/cells.tsv"]),
    ("cell listed twice", sheet("cells.tsv", first_row), WINDOWS, ["cellA is listed twice", "{work}/cells.tsv"]),
    ("sample file that does not exist", missing_signal, WINDOWS, ["{work}/no.bigwig", "does not exist"]),
    ("annotation that does not exist", config(annotation="/nonexistent/genes.gtf.gz"), WINDOWS,
     ["/nonexistent/genes.gtf.gz"]),
    ("truncated GTF download (finding 5)", cut("genes.gtf.gz", "annotation"), WINDOWS,
     ["{work}/genes.gtf.gz", "truncated", "download"]),
    ("annotation that is not a GTF", replaced("genes.gtf", "annotation", "hello\tworld\n"), WINDOWS,
     ["{work}/genes.gtf"]),
    ("empty chromosome sizes", replaced("chrom.sizes", "chrom_sizes", ""), WINDOWS, ["{work}/chrom.sizes"]),
    ("chromosome sizes with words", replaced("chrom.sizes", "chrom_sizes", "chr1\tlong\n"), WINDOWS,
     ["{work}/chrom.sizes"]),
    ("truncated expression download (finding 11)", cut("rpkm.tsv.gz", "expression"), EXPRESSION,
     ["{work}/rpkm.tsv.gz", "truncated", "download"]),
    ("expression words for low values (finding 2)", rpkm(set_values("cellA", slice(0, 40), "n.d.")), EXPRESSION,
     ["{work}/rpkm.tsv", "not numbers", "column 'cellA', line 2", "missing_values"]),
    ("expression with decimal commas (finding 2)", rpkm(set_values("cellB", slice(None), "2,5")), EXPRESSION,
     ["{work}/rpkm.tsv", "decimal commas", "column 'cellB'"]),
    ("expression NA without missing_values", rpkm(set_values("cellC", [5], "NA")), EXPRESSION,
     ["{work}/rpkm.tsv", "line 7", "'NA'"]),
    ("expression negative values", rpkm(set_values("cellA", [3], "-1.5")), EXPRESSION,
     ["{work}/rpkm.tsv", "negative", "line 5"]),
    ("expression gene listed twice", rpkm(lambda t: pd.concat([t, t.iloc[[0]]])), EXPRESSION,
     ["{work}/rpkm.tsv", "listed twice"]),
    ("expression without a cell's column", rpkm(lambda t: t.drop(columns="cellC")), EXPRESSION,
     ["{work}/rpkm.tsv", "no column 'cellC'", "predict_with"]),
    ("predict_with naming an unknown cell", sheet("cells.tsv", predict_rows(cellC="cellZ")), WINDOWS,
     ["line 4", "predict_with 'cellZ' of cell cellC is not a cell of the sheet", "pooled", "{work}/cells.tsv"]),
    ("expression with a header only", rpkm(lambda t: "gene_id\tcellA\tcellB\tcellC\n"), EXPRESSION,
     ["{work}/rpkm.tsv", "no rows"]),
    ("empty tagAlign (finding 11)", mark_file("empty.tagAlign", lambda data: b"", "reads"), FEATURES,
     ["{work}/empty.tagAlign", "no reads", "again"]),
    ("truncated tagAlign.gz download", mark_file("cut.tagAlign.gz", half("cellA-H3K4me3.tagAlign.gz"), "reads"),
     FEATURES, ["{work}/cut.tagAlign.gz", "truncated", "again"]),
    ("tagAlign with a malformed line", mark_file("bad.tagAlign", lambda data: b"chr1\tabc\t100\tN\t0\t+\n", "reads"),
     FEATURES, ["{work}/bad.tagAlign", "line 1"]),
    ("signal file that is not a bigWig", mark_file("text.bigwig", lambda data: b"chr1\t0\t100\t1.0\n"), FEATURES,
     ["{work}/text.bigwig"]),
    ("bigWig cut in half", mark_file("cut.bigwig", half("cellA-H3K4me3.bigwig")), FEATURES, ["{work}/cut.bigwig"]),
    ("expression column of zeros (finding 7)", rpkm(set_values("cellA", slice(None), "0")), LABELS,
     ["{work}/rpkm.tsv", "column 'cellA'", "one class", "is empty"]),
    ("bigWig of another genome build (issue 23)", mark_file("half.bigwig", bigwig(scale=0.5)), FEATURES,
     ["{work}/half.bigwig: its header gives other chromosome lengths than the chromosome sizes {data}/chrom.sizes",
      "bp in the file", "windows.length_mismatch: warn"]),
    ("bigWig with infinite values (issue 23)", mark_file("inf.bigwig", bigwig(value=float("inf"))), FEATURES,
     ["{work}/inf.bigwig: the bigWig holds infinite values", "gene window(s) are +/-inf"]),
    ("chrom_sizes of another build (issue 23)", halved_sizes, WINDOWS,
     ["{data}/genes.gtf.gz: only", "genes have a whole window inside the chromosome sizes", "fewer than half",
      "genome build"]),
    ("expression IDs mostly unmatched (issue 23)", rpkm(renamed_ids(0.9)), LABELS,
     ["{work}/rpkm.tsv: only", "have a value in column 'cellA' (cell cellA)", "fewer than half", "same gene IDs"]),
    ("median RPKM of 0 (issue 23)", rpkm(few_expressed), LABELS,
     ["{work}/rpkm.tsv: column 'cellA' (cell cellA): the median RPKM is 0", "only 10 genes are above it"]),
    ("sample path with a trailing space (issue 23)", sample_path(trailing_space), WINDOWS,
     ["the file '{work}/a.bigwig ' does not exist (it starts or ends with a space)"]),
    ("sample path that is a symlink loop (issue 23)", sample_path(symlink_loop), WINDOWS,
     ["the path '{work}/loop.bigwig' is a symlink loop"]),
    ("sample URL with an unknown placeholder (issue 23)", sample_path(lambda work, data: "http://127.0.0.1:9/{cel}.bw"),
     WINDOWS, ["the URL 'http://127.0.0.1:9/{cel}.bw' holds the unknown placeholder {cel}"]),
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
