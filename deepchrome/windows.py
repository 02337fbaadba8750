"""Gene windows as the feature readers use them: checks, chromosome matching, messages, bin order.

Windows are a DataFrame with columns ``gene_id`` (str), ``chrom`` (str), ``start`` (int, 0-based),
``end`` (int, half-open) and ``strand`` ('+', '-' or '.'); every window is ``n_bins * bin_size``
bp long. Readers (:mod:`deepchrome.bigwig`, :mod:`deepchrome.reads`) return one row per window
with bins in GENOME order (bin 0 = lowest coordinate); :func:`orient` turns them to strand order.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from .annotation import match_chrom
from .errors import DeepChromeError

log = logging.getLogger("deepchrome.windows")


def prepare_windows(windows: pd.DataFrame, n_bins: int, bin_size: int) -> tuple[np.ndarray, np.ndarray]:
    """Check the windows; return ``(chrom str [genes], start int64 [genes])``."""
    missing = [c for c in ("chrom", "start", "end") if c not in windows.columns]
    if missing:
        raise DeepChromeError(None, f"the windows table lacks the column(s) {', '.join(missing)}",
                              "pass windows with columns gene_id, chrom, start, end, strand")
    if n_bins < 1 or bin_size < 1:
        raise DeepChromeError(None, f"n_bins={n_bins} and bin_size={bin_size} must both be >= 1",
                              "use positive window settings (the paper: 100 bins of 100 bp)")
    chrom = windows["chrom"].astype(str).to_numpy()
    start = windows["start"].to_numpy(dtype=np.int64)
    end = windows["end"].to_numpy(dtype=np.int64)
    bad = np.flatnonzero(end - start != n_bins * bin_size)
    if len(bad):
        i = bad[0]
        raise DeepChromeError(
            None,
            f"{len(bad)} window(s) are not {n_bins} x {bin_size} = {n_bins * bin_size} bp long "
            f"(first: row {i}, {chrom[i]}:{start[i]}-{end[i]})",
            "build every window as [TSS - n_bins*bin_size/2, TSS + n_bins*bin_size/2)",
        )
    return chrom, start


def few(names, k: int = 5) -> str:
    """Up to ``k`` names, shortest first, for messages (``chr1, chr2, ...``)."""
    names = sorted(set(names), key=lambda s: (len(s), s))
    return ", ".join(names[:k]) + (", ..." if len(names) > k else "")


def no_common_chrom(path, window_chroms, file_chroms) -> DeepChromeError:
    """The error for a file that shares no chromosome with the windows."""
    return DeepChromeError(
        path,
        f"no chromosome in common with the gene windows: windows use {few(window_chroms)}; "
        f"the file uses {few(file_chroms) or 'none (no data)'}",
        "give a file aligned to the same genome assembly as the gene list (hg19 for the paper "
        "setting); chr1/1 and chrM/MT spellings are matched automatically",
    )


def check_exists(path) -> Path:
    """``path`` as a Path; an error when it is missing or a directory."""
    p = Path(path)
    if not p.exists():
        raise DeepChromeError(path, "file not found", "check the path in the sample sheet (or download the file)")
    if p.is_dir():
        raise DeepChromeError(path, "is a directory, not a file", "point the sample sheet at the signal or reads file")
    return p


def log_missing(path, chrom: np.ndarray, matched: set) -> None:
    """Warn about windows on chromosomes the file lacks (their features stay 0)."""
    lacking = ~np.isin(chrom, list(matched))
    if lacking.any():
        log.warning("%s: %d of %d windows lie on chromosomes the file lacks (%s); their features are 0",
                    path, int(lacking.sum()), len(chrom), few(chrom[lacking]))


def orient(features: np.ndarray, strands, bin_order: str) -> np.ndarray:
    """Put bins in ``bin_order``: ``"genome"`` (as given; the paper setting) or ``"strand"``.

    ``"strand"`` reverses the bins (last axis) of '-' genes so bin 0 is the most upstream; '+' and
    '.' genes keep genome order. ``features``: ``[genes, bins]`` or ``[genes, marks, bins]``;
    ``strands``: ``[genes]`` of '+', '-', '.'. Returns a new array of the same shape and dtype
    (``"genome"`` returns ``features`` itself).
    """
    if bin_order == "genome":
        return features
    if bin_order != "strand":
        raise DeepChromeError(None, f"unknown bin order {bin_order!r}", "use bin_order: genome or strand")
    strands = np.asarray(strands).astype(str)
    if len(strands) != features.shape[0]:
        raise ValueError(f"{len(strands)} strands for {features.shape[0]} genes")
    out = np.array(features, copy=True)
    minus = strands == "-"
    out[minus] = out[minus][..., ::-1]
    return out


LENGTH_SETTING = "windows.length_mismatch"


def check_lengths(path, file_sizes: Mapping[str, int], chrom_sizes: Mapping[str, int] | None,
                  sizes_path: str | os.PathLike | None = None, accept: bool = False) -> None:
    """Compare a file's header (chromosome -> length in bp: a bigWig's or a BAM's) with ``chrom_sizes``.

    Chromosomes both name (``chr1``/``1`` matched) must have the same length: another length means another
    genome build, whose windows past the file's chromosome ends would silently read as 0. One error names the
    file, the first chromosomes that disagree and both lengths; ``accept`` (``windows.length_mismatch: warn``)
    logs it as a warning instead. Nothing is checked without ``chrom_sizes``.
    """
    if not chrom_sizes:
        return
    shared = {c: f for c in chrom_sizes if (f := match_chrom(c, file_sizes)) is not None}
    differ = [(c, int(file_sizes[f]), int(chrom_sizes[c])) for c, f in shared.items()
              if int(file_sizes[f]) != int(chrom_sizes[c])]
    if not differ:
        return
    shown = "; ".join(f"{c} {n_file:,} bp in the file, {n_sizes:,} bp in chrom_sizes" for c, n_file, n_sizes
                      in differ[:5]) + (f"; and {len(differ) - 5} more" if len(differ) > 5 else "")
    problem = (f"its header gives other chromosome lengths than the chromosome sizes {sizes_path} "
               f"({len(differ)} of {len(shared)} shared chromosomes differ: {shown}): the file is of another "
               "genome build")
    if accept:
        log.warning("%s: %s; used anyway (%s: warn): windows past the file's chromosome ends read as 0",
                    path, problem, LENGTH_SETTING)
        return
    raise DeepChromeError(path, problem,
                          "give a file aligned to the build of chrom_sizes (and of the annotation; hg19 for the "
                          "paper), or the chrom_sizes of the file's build; to use it knowingly set "
                          f"{LENGTH_SETTING}: warn in the config")

