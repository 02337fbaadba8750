"""Reads per bin: a float32 ``[genes, bins]`` matrix from a tagAlign/BED (plain or gzip) or BAM file.

A read counts in a bin when they share >= 1 bp (half-open coordinates), exactly as ``bedtools
intersect -a bins.bed -b reads -c`` counts them; a read spanning two bins counts in both. No
normalisation. Bins in genome order (see :mod:`deepchrome.windows`). Chromosome names are
matched between windows and file (``chr1`` <-> ``1``, ``chrM`` <-> ``MT``); windows on
chromosomes the file lacks get zeros.

Text is parsed by pyarrow's CSV reader in blocks of about 8 MB (lines with headers, blank lines
or malformed fields are read line by line in Python; see _Parser) after ISA-L inflates gzip (on a
second thread when given two); the file is never held in memory and need not be sorted.

Integrity: gzip streams are read to their end-of-stream marker (a truncated file is an error);
a BAM file must end with the BGZF end-of-file block, and ``bedtools bamtobed`` must report no
read error on stderr (it may exit 0 on a damaged file).
"""

from __future__ import annotations

import contextlib
import fcntl
import gzip
import logging
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Iterator

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
from isal import igzip_threaded, isal_zlib

from .annotation import match_chrom
from .errors import DeepChromeError
from .windows import check_exists, check_lengths, log_missing, no_common_chrom, prepare_windows

log = logging.getLogger("deepchrome.reads")

READS_SUFFIXES = (".tagalign", ".tagalign.gz", ".bed", ".bed.gz", ".bam")
# BGZF end-of-file marker: an empty block that every complete BAM file ends with (SAM spec 4.1.2)
BAM_EOF = bytes.fromhex("1f8b08040000000000ff0600424302001b0003000000000000000000")
# bedtools/htslib stderr lines that mean the BAM was not read to its end
_BAM_READ_ERRORS = ("EOF marker is absent", "Read block operation failed", "[E::")

# reads counting: bytes of text parsed per step (bounds memory: a few arrays of ~250k lines each). At
# 30 M reads x 19,802 windows (measured, CPU s / peak RSS MB): 2 MB 3.36 / 309, 4 MB 3.11 / 313,
# 8 MB 3.06 / 323, 16 MB 3.19 / 340, 32 MB 3.84 / 429.
_BLOCK_BYTES = 8 << 20
# reads far from every window are dropped early using a mask over blocks of 2**_MASK_SHIFT bp.
_MASK_SHIFT = 10


def _sorted_unique(x: np.ndarray) -> np.ndarray:
    """Sorted unique values by sort + neighbour test: numpy 2.4's hash-based ``np.unique`` takes
    2.3 s CPU on the paper's 2 M bin edges, this 0.013 s (measured)."""
    x = np.sort(x)
    return x[np.concatenate(([True], x[1:] != x[:-1]))] if len(x) else x


class _ReadCounter:
    """Counts reads per bin for a fixed set of windows, fed in chunks.

    All window chromosomes are laid end to end on one global axis (coordinates clipped to just
    outside each chromosome's window span, which keeps every read/bin relation). With the sorted
    unique bin edges E, a bin [bs, be) overlaps #(reads with start < be) - #(reads with end <= bs)
    reads (every read has start < end). Both terms are cumulative counts at the edges, so one
    ``searchsorted`` + ``add.at`` per chunk serves all genes, overlapping windows included.
    """

    def __init__(self, chrom: np.ndarray, start: np.ndarray, n_bins: int, bin_size: int):
        self.n_genes, self.n_bins = len(chrom), n_bins
        self.names = list(pd.unique(chrom))
        self.name_set = set(self.names)
        code = pd.Index(self.names).get_indexer(chrom)
        span = n_bins * bin_size
        k = len(self.names)
        self.lo = np.full(k, np.iinfo(np.int64).max, dtype=np.int64)
        self.hi = np.full(k, np.iinfo(np.int64).min, dtype=np.int64)
        np.minimum.at(self.lo, code, start)
        np.maximum.at(self.hi, code, start + span)
        width = self.hi - self.lo + 3
        self.off = np.concatenate(([0], np.cumsum(width)[:-1])).astype(np.int64)
        edges = self._to_global(np.repeat(code, n_bins + 1),
                                (start[:, None] + np.arange(n_bins + 1) * bin_size).ravel())
        self.E = _sorted_unique(edges)
        self.edge_idx = np.searchsorted(self.E, edges).reshape(self.n_genes, n_bins + 1)
        # coarse mask of the global axis: blocks of 2**_MASK_SHIFT bp touched by a window
        first = edges.reshape(self.n_genes, -1)[:, 0] >> _MASK_SHIFT
        last = (edges.reshape(self.n_genes, -1)[:, -1] - 1) >> _MASK_SHIFT
        n_blocks = int((self.off[-1] + width[-1]) >> _MASK_SHIFT) + 2 if k else 1
        diff = np.zeros(n_blocks + 1, dtype=np.int32)
        np.add.at(diff, first, 1)
        np.add.at(diff, last + 1, -1)
        mask = np.cumsum(diff)[:n_blocks] > 0
        # near[b + 1]: block b or b + 1 is touched, so a read of <= one block that touches a window
        # starts in a `near` block: one lookup per read. Reads map to block (start + base[code]) >> shift,
        # one block up from the axis above (block -1 is entry 0); the last entry is False and takes every
        # read off the window chromosomes (code -1: base 2**62) and everything past the axis.
        self.near = np.zeros(n_blocks + 2, dtype=bool)
        self.near[1:-1] = mask
        self.near[:-2] |= mask
        self.base = np.append(self.off - (self.lo - 1) + (1 << _MASK_SHIFT), np.int64(1) << 62)
        self.cnt_start = np.zeros(len(self.E) + 1, dtype=np.int64)
        self.cnt_end = np.zeros(len(self.E) + 1, dtype=np.int64)
        self.code_of: dict[str, int] = {}  # file chromosome -> window chromosome index (-1: none)
        self.n_reads = 0
        self.n_used = 0

    def _to_global(self, code: np.ndarray, x: np.ndarray) -> np.ndarray:
        lo = self.lo[code] - 1
        return self.off[code] + np.clip(x, lo, self.hi[code] + 1) - lo

    def code(self, file_chrom: str) -> int:
        """Window chromosome index of a chromosome named as in the file (-1 when no window is on it)."""
        c = self.code_of.get(file_chrom)
        if c is None:
            m = match_chrom(file_chrom, self.name_set)
            c = self.code_of[file_chrom] = -1 if m is None else self.names.index(m)
        return c

    def add(self, names: list[str], idx: np.ndarray, rs: np.ndarray, re: np.ndarray, max_len: int) -> None:
        """Count reads ``[rs, re)`` (int64, 0 <= rs <= re) on chromosomes ``names[idx]`` (file spelling);
        ``max_len``: the largest ``re - rs``."""
        codes = np.array([self.code(n) for n in names], dtype=np.int64)
        per_name = np.bincount(idx, minlength=len(names))
        self.n_reads += int(per_name[codes >= 0].sum())
        # A read that touches no window cancels out of both counts: drop it before the searches.
        blk = rs + self.base[codes][idx]
        blk >>= _MASK_SHIFT
        blk = blk.view(np.uint64)  # an overflow past int64 (absurd coordinates) wraps high: past the mask
        np.minimum(blk, np.uint64(len(self.near) - 1), out=blk)
        keep = self.near[blk]
        if max_len > (1 << _MASK_SHIFT):  # long reads may span a window with neither end near it
            keep |= (re - rs > (1 << _MASK_SHIFT)) & (codes[idx] >= 0)
        i = np.flatnonzero(keep)
        code = codes[idx[i]]
        gs, ge = self._to_global(code, rs[i]), self._to_global(code, re[i])
        self.n_used += len(i)
        # Sorted keys: numpy's searchsorted then walks the 2 M edges forward (18 ms per chunk of an unsorted
        # file without the sort, 2 ms with it); add.at, not bincount: a fresh bincount over the edges costs
        # 7.6 ms per chunk, add.at 0.04 ms.
        np.add.at(self.cnt_start, np.searchsorted(self.E, np.sort(gs), side="right"), 1)
        np.add.at(self.cnt_end, np.searchsorted(self.E, np.sort(ge), side="left"), 1)

    def result(self) -> np.ndarray:
        before_start = np.cumsum(self.cnt_start)  # [j] = reads with start < E[j]
        before_end = np.cumsum(self.cnt_end)  # [j] = reads with end <= E[j]
        counts = before_start[self.edge_idx[:, 1:]] - before_end[self.edge_idx[:, :-1]]
        return counts.astype(np.float32)


def _sniff(path) -> bytes:
    with open(path, "rb") as fh:
        return fh.read(4)


def _is_gzip(path) -> bool:
    return _sniff(path)[:2] == b"\x1f\x8b"


def is_bam(path) -> bool:
    """Whether the file is BAM (gzip whose content starts with BAM\\1)."""
    if not _is_gzip(path):
        return False
    try:
        with gzip.open(path, "rb") as fh:
            return fh.read(4) == b"BAM\x01"
    except OSError:
        return False


def _whole_lines(fh) -> Iterator[bytes]:
    """The binary stream ``fh`` in pieces of whole lines, about ``_BLOCK_BYTES`` each (the last one
    may lack its final newline)."""
    while data := fh.read(_BLOCK_BYTES):
        if not data.endswith(b"\n"):
            data += fh.readline()
        yield data


def _text_blocks(path, threads: int = 1) -> Iterator[bytes]:
    """The reads file as text, in blocks of whole lines (see _whole_lines).

    gzip is inflated with ISA-L (``isal``, 2-3x zlib's speed): on the calling thread, or with
    ``threads`` >= 2 by ``igzip_threaded`` on a background thread that releases the GIL, so that
    inflating overlaps with parsing on a second core. BAM goes through ``bedtools bamtobed`` (or
    pysam when bedtools is absent) once its end-of-file block is checked.
    """
    if is_bam(path):
        _check_bam_eof(path)
        exe = shutil.which("bedtools")
        if exe is None:
            yield from _bam_text_pysam(path)
        else:
            yield from _command_output([exe, "bamtobed", "-i", str(path)], path)
        return
    if not _is_gzip(path):
        with open(path, "rb") as fh:
            yield from _whole_lines(fh)
        return
    try:
        with igzip_threaded.open(path, "rb", threads=int(threads > 1)) as fh:  # 0: igzip.open, same thread
            yield from _whole_lines(fh)
    except EOFError:
        raise DeepChromeError(path, "the gzip stream ends before its end-of-stream marker (truncated file)",
                              "download the file again; `gzip -t` tests it") from None
    except (OSError, isal_zlib.error) as err:
        raise DeepChromeError(path, f"could not be read as gzip ({type(err).__name__}: {err})",
                              "check that the file is complete (re-download it) and not corrupted") from None


def _check_bam_eof(path) -> None:
    """A BAM file must end with the BGZF end-of-file block; a file cut short lacks it."""
    with open(path, "rb") as fh:
        fh.seek(0, os.SEEK_END)
        fh.seek(max(0, fh.tell() - len(BAM_EOF)))
        if fh.read() != BAM_EOF:
            raise DeepChromeError(path, "the BAM file lacks its end-of-file marker (truncated or damaged file)",
                                  "download or copy the BAM file again; `samtools quickcheck` tests it")


def bam_lengths(path) -> dict[str, int]:
    """Chromosome -> length (bp) from a BAM file's binary header (its reference list, SAM spec 4.2)."""
    try:
        with gzip.open(path, "rb") as fh:
            if fh.read(4) != b"BAM\1":
                raise ValueError("no BAM magic")
            fh.read(int.from_bytes(fh.read(4), "little"))  # the SAM header text
            sizes = {}
            for _ in range(int.from_bytes(fh.read(4), "little")):
                name = fh.read(int.from_bytes(fh.read(4), "little")).rstrip(b"\0").decode()
                sizes[name] = int.from_bytes(fh.read(4), "little")
    except (OSError, EOFError, ValueError, UnicodeDecodeError) as err:
        raise DeepChromeError(path, f"cannot read the BAM header ({err})",
                              "download or copy the BAM file again; `samtools quickcheck` tests it") from None
    return sizes


def _command_output(cmd: list[str], path) -> Iterator[bytes]:
    """stdout of ``cmd`` in blocks of whole lines; a failure of ``cmd`` raises with its stderr.

    A failure is a non-zero exit or a read error on stderr: bedtools exits 0 on a damaged BAM
    after printing htslib's ``[E::bgzf_read] Read block operation failed``.
    """
    with tempfile.TemporaryFile() as errfile:  # a file: a chatty tool never blocks on a full pipe
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=errfile)
        try:
            with contextlib.suppress(OSError, AttributeError):  # bigger pipe: fewer wake-ups
                fcntl.fcntl(proc.stdout.fileno(), fcntl.F_SETPIPE_SZ, 1 << 20)
            yield from _whole_lines(proc.stdout)
            code = proc.wait()
            errfile.seek(0)
            err = errfile.read().decode(errors="replace").strip()
            if code != 0 or any(e in err for e in _BAM_READ_ERRORS):
                raise DeepChromeError(path, f"could not be read: `{' '.join(cmd)}` failed: {err[-500:]}",
                                      "check that the file is complete (re-download it) and not corrupted")
        finally:
            if proc.poll() is None:
                proc.kill()
            proc.wait()
            proc.stdout.close()


def _bam_text_pysam(path) -> Iterator[bytes]:
    """BAM as BED text via pysam (used only when bedtools is not installed; slower)."""
    import pysam

    lines = []
    with pysam.AlignmentFile(str(path), "rb") as bam:
        for r in bam.fetch(until_eof=True):
            if r.is_unmapped or r.reference_end is None:
                continue
            lines.append(f"{r.reference_name}\t{r.reference_start}\t{r.reference_end}\n")
            if len(lines) >= 500_000:
                yield "".join(lines).encode()
                lines = []
    if lines:
        yield "".join(lines).encode()


_HEADERS = (b"#", b"track", b"browser")
# reads of one chunk: chromosome names as in the file, index into them int [n], start int64 [n], end int64 [n],
# the largest end - start
_Reads = tuple[list[str], np.ndarray, np.ndarray, np.ndarray, int]


class _Parser:
    """Columns 1-3 (chrom, start, end) of BED-like text, block by block, into the counter.

    pyarrow's CSV reader parses each block (tab-separated, no quoting, the column count of the
    file's first data line). A block that it cannot take whole (a header or blank line, a line with
    another column count, a bad number, start > end) is read again line by line in Python, which
    skips header lines (``#``, ``track``, ``browser``) and blank lines and names the first
    malformed line.
    """

    def __init__(self, path, counter: _ReadCounter):
        self.path, self.counter = path, counter
        self.lines = 0  # lines read (blank and header lines included)
        self.reads = 0  # data lines
        self.n_columns = 0
        self.parse = pacsv.ParseOptions(delimiter="\t", quote_char=False, ignore_empty_lines=False)
        self.convert = pacsv.ConvertOptions(
            include_columns=["c0", "c1", "c2"],
            column_types={"c0": pa.dictionary(pa.int32(), pa.binary()), "c1": pa.int64(), "c2": pa.int64()})

    def feed(self, block: bytes) -> None:
        """Parse one block of whole lines and pass its reads to the counter."""
        if not self.n_columns:
            self.n_columns = next((len(line.split(b"\t")) for line in block.splitlines()
                                   if line.strip() and not line.startswith(_HEADERS)), 0)
        chunks = self._arrow(block) if self.n_columns >= 3 else None
        if chunks is None:
            chunks = [self._by_line(block)]
        for chunk in chunks:
            self.reads += len(chunk[1])
            self.counter.add(*chunk)

    def _arrow(self, block: bytes) -> list[_Reads] | None:
        """The block's reads parsed by pyarrow; None when pyarrow cannot take it whole."""
        read = pacsv.ReadOptions(column_names=[f"c{j}" for j in range(self.n_columns)], use_threads=False,
                                 block_size=len(block) + 1)
        try:
            table = pacsv.read_csv(pa.py_buffer(block), read_options=read, parse_options=self.parse,
                                   convert_options=self.convert)
        except pa.ArrowInvalid:
            return None
        chunks = []
        for batch in table.to_batches():
            chrom, start, end = (batch.column(j) for j in range(3))
            if start.null_count or end.null_count:  # blank lines, empty fields
                return None
            names = [n.decode(errors="replace") for n in chrom.dictionary.to_pylist()]
            chunk = _checked(names, chrom.indices.to_numpy(), start.to_numpy(), end.to_numpy())
            if chunk is None:
                return None
            chunks.append(chunk)
        self.lines += table.num_rows
        return chunks

    def _by_line(self, block: bytes) -> _Reads:
        """The block's reads, line by line; header and blank lines skipped, the first malformed line raises."""
        index: dict[str, int] = {}
        rows = []
        lines = block.splitlines()
        for i, line in enumerate(lines):
            if not line.strip() or line.startswith(_HEADERS):
                continue
            fields = line.split(b"\t")
            if len(fields) < 3:
                why = "fewer than 3 tab-separated columns"
            else:
                start, end = fields[1].strip(), fields[2].strip()
                if not (start.isdigit() and end.isdigit() and len(start) < 19 and len(end) < 19):
                    why = "start/end are not non-negative integers"
                elif int(end) < int(start):
                    why = "end is before start"
                else:
                    name = fields[0].decode(errors="replace")
                    rows.append((index.setdefault(name, len(index)), int(start), int(end)))
                    continue
            raise DeepChromeError(
                self.path, f"line {self.lines + i + 1} is malformed ({why}): {line[:120].decode(errors='replace')!r}",
                "give a BED/tagAlign file with tab-separated chrom, start, end (integers) on every line")
        self.lines += len(lines)
        table = np.array(rows, dtype=np.int64).reshape(-1, 3)
        return _checked(list(index), table[:, 0], table[:, 1], table[:, 2])


def _checked(names: list[str], idx: np.ndarray, start: np.ndarray, end: np.ndarray) -> _Reads | None:
    """The reads with their longest length; None when a start is negative or an end before its start."""
    if len(start) == 0:
        return names, idx, start, end, 0
    length = end - start
    if start.min() < 0 or length.min() < 0:
        return None
    return names, idx, start, end, int(length.max())


def read_features(path: str | os.PathLike, windows: pd.DataFrame, n_bins: int = 100,
                  bin_size: int = 100, threads: int = 1, chrom_sizes: dict[str, int] | None = None,
                  sizes_path: str | os.PathLike | None = None, accept_lengths: bool = False) -> np.ndarray:
    """Reads overlapping each bin: float32 ``[genes, n_bins]``, genome order, rows as ``windows``.

    A read counts in a bin when they share >= 1 bp (half-open coordinates), exactly as
    ``bedtools intersect -a bins.bed -b reads -c``: a read across a bin edge counts in both bins,
    and overlapping windows of different genes are counted independently. Raw counts.

    ``path``: tagAlign or BED (plain or gzip; columns chrom, start, end, ...) or BAM (converted by
    ``bedtools bamtobed``; pysam when bedtools is missing). The file is streamed in blocks of
    about 8 MB of text (memory does not grow with the number of reads); gzip is inflated with ISA-L,
    on a second thread when ``threads`` >= 2 (about the same CPU seconds as one thread; less wall
    time on an idle machine, more on a busy one, where the two-thread pipeline stalls). The file need
    not be sorted; an empty file is an error. A BAM header of other chromosome lengths than ``chrom_sizes``
    (read from ``sizes_path``) is an error, a warning with ``accept_lengths`` (tagAlign/BED have no header).
    """
    check_exists(path)
    if chrom_sizes and is_bam(path):
        _check_bam_eof(path)
        check_lengths(path, bam_lengths(path), chrom_sizes, sizes_path, accept_lengths)
    chrom, start = prepare_windows(windows, n_bins, bin_size)
    if len(chrom) == 0:
        return np.zeros((0, n_bins), dtype=np.float32)
    counter = _ReadCounter(chrom, start, n_bins, bin_size)
    parser = _Parser(path, counter)
    name = Path(path).name
    # closing: an error in a block stops the inflating thread or bedtools at once, not at garbage collection
    with contextlib.closing(_text_blocks(path, threads)) as blocks:
        for step, block in enumerate(blocks, 1):
            parser.feed(block)
            if step % 8 == 0:
                log.info("%s: %.1f M lines read, %.2f M reads near windows", name, parser.lines / 1e6,
                         counter.n_used / 1e6)
    if parser.reads == 0:  # not a genome mismatch: there is nothing to match
        raise DeepChromeError(path, "the file holds no reads (it is empty or has header lines only)",
                              "make or download the reads file again: an empty file usually means that the "
                              "alignment or download step failed")
    file_chroms = [c for c in counter.code_of if c and not any(ch.isspace() for ch in c)]
    matched = {counter.names[c] for c in counter.code_of.values() if c >= 0}
    if not matched:
        raise no_common_chrom(path, counter.names, file_chroms)
    log_missing(path, chrom, matched)
    log.info("%s: %d lines, %d reads on window chromosomes, %d near windows", name, parser.lines,
             counter.n_reads, counter.n_used)
    return counter.result()


