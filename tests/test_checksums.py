"""An edit that keeps the old modification time (cp -p, rsync -a, tar) still reruns what reads the file: the
checksum of every raw input, through the real workflow."""

from __future__ import annotations

import gzip
import hashlib
import os
import shutil
import subprocess

import pandas as pd
import pytest

from conftest import own_config, snakemake
from deepchrome.checksums import checksum_file, refresh_checksums, write_checksum

LABELS = "results/cellA/labels.tsv"


def test_identity_and_content(tmp_path, monkeypatch):
    """chmod or touch: the record is updated, the checksum file kept; new content: rewritten and reported."""
    monkeypatch.chdir(tmp_path)
    source = tmp_path / "table.tsv"
    source.write_text("a\n")
    checksum = tmp_path / checksum_file(str(source))
    write_checksum(str(source), checksum)
    before = checksum.stat().st_mtime_ns
    os.chmod(source, 0o444)
    os.utime(source)
    assert refresh_checksums([str(source)]) == [] and checksum.stat().st_mtime_ns == before
    mtime = source.stat().st_mtime_ns
    os.chmod(source, 0o644)
    source.write_text("b\n")
    os.utime(source, ns=(mtime, mtime))  # as cp -p leaves it
    assert refresh_checksums([str(source)]) == [str(source)]
    assert checksum.read_text() == f"{hashlib.sha256(b'b' + bytes([10])).hexdigest()}  {source}\n"
    assert refresh_checksums([str(source)]) == []  # recorded: no second report


@pytest.mark.slow  # runs the labels' jobs three times
def test_cp_p_over_the_expression_table_reruns_the_labels(tmp_path, small_data):
    work = tmp_path / "run"
    work.mkdir()
    table = work / "rpkm.tsv.gz"
    shutil.copy(small_data / "rpkm.tsv.gz", table)
    args = ["--configfile", str(own_config(work, small_data, expression=str(table)))]
    first = snakemake(LABELS, *args, workdir=work)
    assert first.returncode == 0, first.stderr[-3000:]
    labels = pd.read_csv(work / LABELS, sep="\t")
    # the same genes with cellA's values reversed: most labels flip; the copy keeps the old file's time
    rpkm = pd.read_csv(table, sep="\t", index_col=False)
    rpkm["cellA"] = rpkm["cellA"].to_numpy()[::-1]
    edited = tmp_path / "edited.tsv.gz"
    with gzip.open(edited, "wt") as f:
        rpkm.to_csv(f, sep="\t", index=False)
    old = table.stat()
    os.utime(edited, ns=(old.st_atime_ns, old.st_mtime_ns))
    subprocess.run(["cp", "-p", str(edited), str(table)], check=True)
    assert table.stat().st_mtime_ns == old.st_mtime_ns
    second = snakemake(LABELS, *args, workdir=work)
    text = second.stdout + second.stderr
    assert second.returncode == 0, text[-3000:]
    assert f"{table}: its content changed since the workflow read it, though its modification time did not" in text
    relabelled = pd.read_csv(work / LABELS, sep="\t")
    assert (relabelled["label"] != labels["label"]).mean() > 0.2
    third = snakemake(LABELS, *args, workdir=work)  # recorded: nothing to do
    assert third.returncode == 0 and "Nothing to be done" in third.stdout + third.stderr, third.stderr[-3000:]
