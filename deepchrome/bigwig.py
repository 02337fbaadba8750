"""Mean bigWig signal per bin: a float32 ``[genes, bins]`` matrix, as deepTools computes it.

A bin's value is ``sum(value * covered bases) / bin_size`` in the track's units (fold change,
-log10 p, ...): bases without data count as 0, exactly ``computeMatrix reference-point
--missingDataAsZero``. Bins in genome order (see :mod:`deepchrome.windows`). Chromosome names
are matched between windows and file (``chr1`` <-> ``1``, ``chrM`` <-> ``MT``); windows on
chromosomes the file lacks get zeros.

The reader is pybigtools (Rust): one ``values(chrom, start, end, bins=n_bins, exact=True)``
call per window with every option given (0.3.0 changed the defaults), written straight into the
output row. NaN values in a bigWig (its header summary says so) are an error unless the caller
allows them (``nan_as_zero``); then they count as 0 and the NaN bases under the windows are
logged.
"""

from __future__ import annotations

import logging
import math
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pybigtools

from .annotation import match_chrom
from .errors import DeepChromeError
from .windows import check_exists, check_lengths, log_missing, no_common_chrom, prepare_windows

log = logging.getLogger("deepchrome.bigwig")

BIGWIG_MAGIC = 0x888FFC26
BIGBED_MAGIC = 0x8789F2EB
BIGWIG_SUFFIXES = (".bw", ".bigwig")
NAN_SETTING = "windows.bigwig_nan"
_FIX = "give a bigWig signal track (e.g. REMC *.fc.signal.bigwig); convert bedGraph with bedGraphToBigWig"


def _magic(path) -> int | None:
    with open(path, "rb") as fh:
        head = fh.read(4)
    return int.from_bytes(head, "little") if len(head) == 4 else None


def _either_endian(magic: int) -> tuple[int, int]:
    return magic, int.from_bytes(magic.to_bytes(4, "little"), "big")


def is_bigwig(path) -> bool:
    """Whether the file starts with the bigWig magic number (either byte order)."""
    return _magic(path) in _either_endian(BIGWIG_MAGIC)


def open_bigwig(path) -> pybigtools.pybigtools.BBIReader:
    """Open a bigWig with pybigtools; one clear error when it is missing, a bigBed, not a bigWig or damaged."""
    check_exists(path)
    m = _magic(path)
    if m in _either_endian(BIGBED_MAGIC):
        raise DeepChromeError(path, "is a bigBed file, not a bigWig", _FIX)
    if m not in _either_endian(BIGWIG_MAGIC):
        raise DeepChromeError(path, "is not a bigWig file (wrong magic number)", _FIX)
    try:
        # the compiled reader itself: pybigtools.open() wraps it only to stage 0.3.0's deprecation
        # warnings (about 2 % of the time per call); every option is passed explicitly below
        bw = pybigtools.pybigtools.open(str(path))
        bw.chroms()  # reads the chromosome tree: a file cut short fails here
    except Exception as err:  # pybigtools raises plain Exceptions/OSErrors on damaged files
        raise DeepChromeError(path, f"pybigtools could not read it ({err}); the file may be truncated",
                              "download the file again; " + _FIX) from None
    return bw


def _has_nan(bw) -> bool:
    """Whether the file holds NaN values: the header's whole-file summary sum is then NaN."""
    return math.isnan(bw.info()["summary"]["sum"])


def _nan_bases(bw, chrom: str, starts: np.ndarray, span: int) -> int:
    """Bases under the windows ``[starts, starts + span)`` whose value is NaN (windows may overlap)."""
    n = 0
    for st in starts.tolist():
        for s, e, v in bw.records(chrom, max(0, st), st + span):
            if math.isnan(v):
                n += min(e, st + span) - max(s, st)
    return n


def bigwig_features(path: str | os.PathLike, windows: pd.DataFrame, n_bins: int = 100,
                    bin_size: int = 100, nan_as_zero: bool = False, chrom_sizes: dict[str, int] | None = None,
                    sizes_path: str | os.PathLike | None = None, accept_lengths: bool = False) -> np.ndarray:
    """Mean bigWig signal per bin: float32 ``[genes, n_bins]``, genome order, rows as ``windows``.

    ``sum(value * covered bases) / bin_size`` per bin: bases without data, and bases outside the
    chromosome, count as 0 (deepTools ``--missingDataAsZero``). Windows on chromosomes missing
    from the file are 0. NaN values in the file raise unless ``nan_as_zero`` (then they are 0 and
    their count under the windows is logged). Infinite values under the windows are an error. With
    ``chrom_sizes`` (read from ``sizes_path``), a header of other chromosome lengths is an error (a warning
    with ``accept_lengths``): see :func:`deepchrome.windows.check_lengths`.
    """
    chrom, start = prepare_windows(windows, n_bins, bin_size)
    out = np.zeros((len(chrom), n_bins), dtype=np.float64)
    bw = open_bigwig(path)
    try:
        sizes = bw.chroms()
        check_lengths(path, sizes, chrom_sizes, sizes_path, accept_lengths)
        if len(chrom) == 0:
            return out.astype(np.float32)
        wanted = pd.unique(chrom)
        mapping = {c: m for c in wanted if (m := match_chrom(c, sizes)) is not None}
        if not mapping:
            raise no_common_chrom(path, wanted, sizes)
        log_missing(path, chrom, set(mapping))
        has_nan = _has_nan(bw)
        if has_nan and not nan_as_zero:
            raise DeepChromeError(path, "the bigWig holds NaN values (its header summary is NaN)",
                                  f"set {NAN_SETTING}: zero in the config to count NaN as 0 (deepTools "
                                  "--missingDataAsZero), or give a track without NaN")
        span = n_bins * bin_size
        # in genome order: neighbouring windows share the reader's file blocks (20 % less CPU than in
        # random order on the benchmark's 8 M-interval file, measured)
        order = np.lexsort((start, chrom))
        fchroms = [mapping.get(c) for c in chrom[order].tolist()]
        values = bw.values
        try:
            for i, fc, st in zip(order.tolist(), fchroms, start[order].tolist()):
                if fc is not None:
                    values(fc, st, st + span, bins=n_bins, summary="mean", exact=True, uncovered=0.0,
                           oob=0.0, fillna=0.0, arr=out[i])
        except pybigtools.BBIReadError as err:  # a data block or the index lies past the end of the file
            raise DeepChromeError(path, f"pybigtools could not read its data ({err}); the file is truncated or "
                                  "damaged", "download the file again; " + _FIX) from None
        infinite = np.isinf(out)
        if infinite.any():
            rows = np.flatnonzero(infinite.any(axis=1))
            gene = windows["gene_id"].iloc[rows[0]] if "gene_id" in windows else rows[0]
            raise DeepChromeError(path, f"the bigWig holds infinite values: {int(infinite.sum())} bin(s) of "
                                  f"{len(rows)} gene window(s) are +/-inf (e.g. {gene}, {chrom[rows[0]]}:"
                                  f"{start[rows[0]]})", "make the track again: infinite values come from a "
                                  "division by zero (e.g. a fold change over an empty control); or replace them "
                                  "with a finite value (bigWigToBedGraph, edit, bedGraphToBigWig)")
        if has_nan:
            groups = pd.Series(np.arange(len(chrom))).groupby(chrom, sort=False).indices
            n_nan = sum(_nan_bases(bw, mapping[c], start[rows], span) for c, rows in groups.items() if c in mapping)
            log.warning("%s: the bigWig holds NaN values; %d NaN bases under the windows counted as 0 (%s: zero)",
                        path, n_nan, NAN_SETTING)
        log.info("%s: %d windows x %d bins", Path(path).name, len(chrom), n_bins)
    finally:
        bw.close()
    return out.astype(np.float32)
