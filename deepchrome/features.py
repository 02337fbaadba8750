"""Features of one cell x one mark: pick the reader by file type, orient the bins, check the values.

Returns float32 ``[genes, n_bins]`` with one row per window: mean signal per bin from a bigWig
(:mod:`deepchrome.bigwig`) or reads per bin from a reads file (:mod:`deepchrome.reads`).
"""

from __future__ import annotations

import logging
import os

import numpy as np
import pandas as pd

from .annotation import read_chrom_sizes
from .bigwig import BIGWIG_SUFFIXES, bigwig_features, is_bigwig
from .errors import DeepChromeError
from .reads import READS_SUFFIXES, is_bam, read_features
from .windows import check_exists, orient

log = logging.getLogger("deepchrome.features")

TRANSFORM_SETTING = "cnn.params.transform"


def mark_features(path: str | os.PathLike, windows: pd.DataFrame, n_bins: int = 100, bin_size: int = 100,
                  bin_order: str = "genome", bigwig_nan: str = "error", transform: str = "none",
                  threads: int = 1, chrom_sizes: str | os.PathLike | None = None,
                  length_mismatch: str = "error") -> np.ndarray:
    """Features of one mark from a bigWig (mean signal per bin) or reads file (reads per bin).

    The file type is decided by content (bigWig magic number, BAM header) and name: ``.bw`` /
    ``.bigwig`` must be bigWig; ``.tagAlign``, ``.bed`` (optionally ``.gz``) and ``.bam`` are reads.
    ``bin_order``: see :func:`deepchrome.windows.orient`. ``bigwig_nan``: ``"error"`` or
    ``"zero"`` (NaN values in a bigWig count as 0). ``transform``: the model's input transform;
    ``"log1p"`` needs non-negative features, so negative ones (a log2 fold-change track) are an
    error here rather than at training. ``threads``: 2 or more let a reads file's gzip be inflated on a
    second thread. ``chrom_sizes``: the run's chromosome sizes file; a bigWig or BAM header of other lengths is
    an error unless ``length_mismatch`` is ``"warn"``. A file whose every window is 0 is logged as a warning.
    Returns float32 ``[genes, n_bins]``, rows as ``windows``.
    """
    p = check_exists(path)
    lengths = dict(chrom_sizes=read_chrom_sizes(chrom_sizes) if chrom_sizes else None, sizes_path=chrom_sizes,
                   accept_lengths=length_mismatch == "warn")
    lower = p.name.lower()
    if is_bigwig(p) or lower.endswith(BIGWIG_SUFFIXES):  # a .bw that is not a bigWig: the reader says why
        values = bigwig_features(p, windows, n_bins, bin_size, nan_as_zero=bigwig_nan == "zero", **lengths)
    elif lower.endswith(READS_SUFFIXES) or is_bam(p):
        values = read_features(p, windows, n_bins, bin_size, threads=threads, **lengths)
    else:
        raise DeepChromeError(
            path,
            "unknown file type: neither a bigWig nor a reads file",
            "give a bigWig (.bw/.bigwig) or reads as .tagAlign(.gz), .bed(.gz) or .bam",
        )
    if transform == "log1p" and len(values) and values.min() < 0:
        rows, bins = np.nonzero(values < 0)
        raise DeepChromeError(
            path,
            f"negative signal in {len(np.unique(rows))} gene window(s) (lowest {values.min():.3g}; e.g. "
            f"{windows['gene_id'].iloc[rows[0]] if 'gene_id' in windows else rows[0]}), but the model's "
            "input transform is log1p, which needs values >= 0 (is this a log2 fold-change track?)",
            f"set {TRANSFORM_SETTING}: none in the config (e.g. cnn: {{params: {{transform: none}}}}), "
            "or give a non-negative track (fold change, -log10 p, reads)",
        )
    if len(values) and not values.any():
        log.warning("%s: every bin of all %d gene windows is 0: this mark carries no information in this cell "
                    "(an empty track, or one of another genome build?); the run goes on", path, len(values))
    return orient(values, windows["strand"].to_numpy(), bin_order)

