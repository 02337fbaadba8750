"""Errors that name their cause: paths given in the config and sheets (quoted, braces, symlink loops), a full
disk in any step, a damaged model file."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from types import SimpleNamespace

import pytest

from deepchrome.errors import DeepChromeError
from deepchrome.fetch import download_path
from deepchrome.logs import run_step
from deepchrome.sources import check_path, fill_template, local_source

BASE = {"roadmap_url": "https://egg2.wustl.edu/roadmap/data/", "cell": "E003", "mark": "H3K4me3"}


def test_templates_fill_known_placeholders_and_keep_other_braces():
    assert fill_template("{roadmap_url}x/{cell}-{mark}.bw", BASE) == "https://egg2.wustl.edu/roadmap/data/x/E003-H3K4me3.bw"
    assert fill_template("/data/{run 1}/a{b.bw", BASE) == "/data/{run 1}/a{b.bw"


def test_a_path_with_braces_is_accepted(tmp_path):
    path = tmp_path / "{set}" / "a}b{.bigwig"
    path.parent.mkdir()
    path.write_text("x")
    assert local_source(str(path), "samples.tsv (cell c, mark m)", BASE) == str(path)


def test_missing_path_is_quoted_and_a_stray_space_or_placeholder_named(tmp_path):
    real = tmp_path / "a.bigwig"
    real.write_text("x")
    with pytest.raises(DeepChromeError) as err:
        local_source(f"{real} ", "samples.tsv (cell c, mark m)", BASE)
    assert str(err.value).startswith(f"samples.tsv (cell c, mark m): the file '{real} ' does not exist "
                                     "(it starts or ends with a space)")
    with pytest.raises(DeepChromeError, match=r"\{cel\} is no placeholder of this entry \(known: \{roadmap_url\}, "
                                              r"\{cell\}, \{mark\}\)"):
        local_source(str(tmp_path / "{cel}.bigwig"), "config.yaml (samples.signal)", BASE)
    with pytest.raises(DeepChromeError, match=r"the URL 'https://h/\{cel\}.bw' holds the unknown placeholder \{cel\}"):
        local_source("https://h/{cel}.bw", "config.yaml (samples.signal)", BASE)


def test_symlink_loop_and_dangling_link_are_named(tmp_path):
    loop = tmp_path / "loop.bigwig"
    loop.symlink_to(tmp_path / "other.bigwig")
    (tmp_path / "other.bigwig").symlink_to(loop)
    with pytest.raises(DeepChromeError, match=r"the path '.*loop.bigwig' is a symlink loop"):
        check_path(str(loop), "samples.tsv")
    dangling = tmp_path / "dangling.bigwig"
    dangling.symlink_to(tmp_path / "gone.bigwig")
    with pytest.raises(DeepChromeError, match=r"does not exist \(it is a link to a missing file\)"):
        check_path(str(dangling), "samples.tsv")


def test_urls_become_downloads_and_are_recorded():
    downloads = {}
    local = local_source("{roadmap_url}a/{cell}.bw?x=1", "config.yaml", BASE, downloads=downloads)
    assert local == download_path("https://egg2.wustl.edu/roadmap/data/a/E003.bw?x=1")
    assert downloads == {local: "https://egg2.wustl.edu/roadmap/data/a/E003.bw?x=1"}


def test_full_disk_is_one_line_with_the_path_and_free_space(tmp_path, capsys):
    """/dev/full answers every write with ENOSPC, as a full disk does."""
    log = tmp_path / "step.log"

    def step():
        with open("/dev/full", "w") as f:
            f.write("x" * 100)

    with pytest.raises(SystemExit) as stop:
        run_step(SimpleNamespace(log=[str(log)], output=[str(tmp_path / "out" / "features.npz")]), step)
    assert stop.value.code == 1
    text = log.read_text()
    assert f"'{tmp_path}/out/features.npz': no space left on the device (the file system of '{tmp_path}' has" in text
    assert "MB free" in text
    assert "Traceback" not in text and text.count("Fix:") == 1
    logging.shutdown()
