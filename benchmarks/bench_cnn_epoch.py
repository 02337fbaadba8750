"""Seconds per CNN training epoch on this CPU: 6,601 random genes at batch 256, and at batch 1 (paper preset).

Times whole ``train_cnn`` calls of 1 and 3 epochs and takes half the difference, so set-up and the final
scoring of every gene drop out. Batch 1 runs ``STEPS_B1`` steps per epoch and extrapolates to 6,601.
Run: ``python benchmarks/bench_cnn_epoch.py [threads]``.
"""

from __future__ import annotations

import sys

import numpy as np
import torch

from deepchrome.dataset import CellData
from deepchrome.train import resolve_params, train_cnn

N_TRAIN = 6601  # the paper's train split
STEPS_B1 = 500


def random_cell(n_train: int, n_valid: int, seed: int = 0) -> CellData:
    """Random counts and labels: timing only."""
    rng = np.random.default_rng(seed)
    n = n_train + n_valid
    return CellData(X=rng.poisson(3.0, size=(n, 5, 100)).astype(np.float32), y=np.arange(n) % 2,
                    gene_id=np.arange(n).astype(str), split=np.repeat(["train", "valid"], [n_train, n_valid]),
                    marks=["H3K4me3", "H3K4me1", "H3K36me3", "H3K9me3", "H3K27me3"])


def epoch_seconds(cell: CellData, preset: str, overrides: dict, threads: int) -> float:
    """Seconds of one training epoch over the cell's train split (its valid split is 2 genes: ~free)."""
    one, three = (train_cnn(cell, resolve_params(preset, {**overrides, "epochs": e, "patience": None}),
                            seeds=[0], device="cpu", threads=threads).seconds for e in (1, 3))
    return (three - one) / 2


def main() -> None:
    threads = int(sys.argv[1]) if len(sys.argv) > 1 else 2
    epoch_seconds(random_cell(64, 2), "default", {}, threads)  # warm-up
    t256 = epoch_seconds(random_cell(N_TRAIN, 2), "default", {"batch_size": 256}, threads)
    t1 = epoch_seconds(random_cell(STEPS_B1, 2), "paper", {}, threads)
    print(f"torch {torch.__version__}, {threads} thread(s), {N_TRAIN} train genes")
    print(f"batch 256 (Adam, log1p): {t256:.2f} s per epoch")
    print(f"batch 1 (paper preset, SGD): {t1:.2f} s for {STEPS_B1} steps -> "
          f"{t1 * N_TRAIN / STEPS_B1:.1f} s per epoch (extrapolated), {t1 * N_TRAIN / STEPS_B1 * 99 / 60:.0f} min for 99 epochs")


if __name__ == "__main__":
    main()
