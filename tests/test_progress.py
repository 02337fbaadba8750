"""Long steps say how far they are, in their logs (and so on the terminal, where Snakemake shows them):
downloads (bytes, rate, percent), CNN training (one line per epoch), feature maps (steps done)."""

from __future__ import annotations

import logging
import re

from conftest import FAST, synthetic_cell
from deepchrome import fetch as fetch_module
from deepchrome.featuremaps import class_maps
from deepchrome.fetch import fetch
from deepchrome.ensemble import build_member
from deepchrome.train import resolve_params, train_cnn


def test_download_logs_bytes_rate_and_percent(file_server, tmp_path, caplog, monkeypatch):
    (file_server.root / "big.bin").write_bytes(bytes(3 * fetch_module.CHUNK + 123))
    monkeypatch.setattr(fetch_module, "PROGRESS_SECONDS", 0.0)  # a line per block: the file is small
    with caplog.at_level(logging.INFO, logger="deepchrome.fetch"):
        fetch(f"{file_server.url}/big.bin", tmp_path / "big.bin")
    lines = [r.getMessage() for r in caplog.records if " MB/s" in r.getMessage()]
    assert len(lines) >= 3, caplog.text
    assert re.search(r"3\.1 MB of 3\.1 MB \(100%\) at [0-9.]+ MB/s$", lines[-1]), lines
    percents = [int(re.search(r"\((\d+)%\)", line).group(1)) for line in lines]
    assert percents == sorted(percents) and 0 < percents[0] < 100, lines


def test_training_logs_every_epoch(caplog):
    params = resolve_params("default", FAST)
    with caplog.at_level(logging.INFO, logger="deepchrome.train"):
        train_cnn(synthetic_cell(120), params, seeds=[0, 1], threads=1)
    epochs = [r.getMessage() for r in caplog.records if r.getMessage().startswith("epoch ")]
    assert [e.split()[1].rstrip(",") for e in epochs] == [f"{i}/6" for i in range(1, 7)], epochs
    assert all("valid AUC" in e for e in epochs)


def test_featuremaps_log_their_steps(caplog):
    model = build_member(resolve_params("default"), 5, 100)
    with caplog.at_level(logging.INFO, logger="deepchrome.featuremaps"):
        class_maps([model], 1, 5, 100, starts=2, steps=20)
    steps = [r.getMessage() for r in caplog.records if r.getMessage().startswith("ON map: step")]
    assert [s.split()[3] for s in steps] == [f"{i}/20," for i in range(2, 21, 2)], steps
