"""deepchrome.windows and deepchrome.features: shared test windows, bin order, the reader dispatch and value checks."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from deepchrome.errors import DeepChromeError
from deepchrome.windows import orient

N_BINS, BIN = 20, 50  # small windows keep the files tiny; the code paths are the same as 100 x 100
SPAN = N_BINS * BIN
SIZES = {"chr1": 60_000, "chr2": 30_000, "chrM": 16_000}


def make_windows(tss: list[tuple[str, int, str]]) -> pd.DataFrame:
    return pd.DataFrame({
        "gene_id": [f"g{i}" for i in range(len(tss))],
        "chrom": [c for c, _, _ in tss],
        "start": [t - SPAN // 2 for _, t, _ in tss],
        "end": [t + SPAN // 2 for _, t, _ in tss],
        "strand": [s for _, _, s in tss],
    })


# Windows: two overlapping genes (chr1 5000/5300), one at the chromosome start (bins partly < 0),
# one at the chromosome end, far-apart ones (separate bigWig fetches), chrM, and a chromosome
# (chr3) that no file has.
WINDOWS = make_windows([
    ("chr1", 5000, "+"), ("chr1", 5300, "-"), ("chr1", 300, "+"), ("chr1", 59_800, "-"),
    ("chr1", 20_000, "+"), ("chr1", 45_000, "."), ("chr2", 10_000, "-"), ("chr2", 29_500, "+"),
    ("chrM", 8_000, "+"), ("chr3", 1_000, "+"),
])



def test_orient():
    x = np.arange(12, dtype=np.float32).reshape(3, 4)
    strands = np.array(["+", "-", "."])
    assert orient(x, strands, "genome") is x
    got = orient(x, strands, "strand")
    np.testing.assert_array_equal(got[0], x[0])
    np.testing.assert_array_equal(got[1], x[1, ::-1])
    np.testing.assert_array_equal(got[2], x[2])
    x3 = np.arange(24, dtype=np.float32).reshape(3, 2, 4)
    got3 = orient(x3, strands, "strand")
    np.testing.assert_array_equal(got3[1], x3[1, :, ::-1])
    np.testing.assert_array_equal(got3[[0, 2]], x3[[0, 2]])
    assert x[1, 0] == 4  # input untouched
    with pytest.raises(DeepChromeError, match="bin order"):
        orient(x, strands, "upstream")
