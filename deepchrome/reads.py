"""Reads per bin: a float32 ``[genes, bins]`` matrix from a tagAlign/BED (plain or gzip) or BAM file.

A read counts in a bin when they share >= 1 bp (half-open coordinates), exactly as ``bedtools
intersect -a bins.bed -b reads -c`` counts them; a read spanning two bins counts in both. No
normalisation. Bins in genome order (see :mod:`deepchrome.windows`). Chromosome names are
matched between windows and file (``chr1`` <-> ``1``, ``chrM`` <-> ``MT``); windows on
chromosomes the file lacks get zeros.

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
import queue
import shutil
import subprocess
import tempfile
import threading
from pathlib import Path
from typing import Iterator

import numpy as np
import pandas as pd
from isal import isal_zlib

from .annotation import match_chrom
from .errors import DeepChromeError
from .windows import check_exists, log_missing, no_common_chrom, prepare_windows

log = logging.getLogger("deepchrome.reads")

READS_SUFFIXES = (".tagalign", ".tagalign.gz", ".bed", ".bed.gz", ".bam")
# BGZF end-of-file marker: an empty block that every complete BAM file ends with (SAM spec 4.1.2)
BAM_EOF = bytes.fromhex("1f8b08040000000000ff0600424302001b0003000000000000000000")
# bedtools/htslib stderr lines that mean the BAM was not read to its end
_BAM_READ_ERRORS = ("EOF marker is absent", "Read block operation failed", "[E::")

# reads counting: bytes of text parsed per step (bounds memory: ~20 arrays of ~250k lines each). 8 MB
# instead of 32 MB: peak RSS 289 vs 489 MB, CPU 2.9 vs 3.4 s (3 M reads x 19,802 windows, measured).
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
    ``searchsorted`` + ``bincount`` per chunk serves all genes, overlapping windows included.
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
        # coarse mask of the global axis: blocks touched by a window
        first = edges.reshape(self.n_genes, -1)[:, 0] >> _MASK_SHIFT
        last = (edges.reshape(self.n_genes, -1)[:, -1] - 1) >> _MASK_SHIFT
        n_blocks = int((self.off[-1] + width[-1]) >> _MASK_SHIFT) + 2 if k else 1
        diff = np.zeros(n_blocks + 1, dtype=np.int32)
        np.add.at(diff, first, 1)
        np.add.at(diff, last + 1, -1)
        self.mask = np.cumsum(diff)[:n_blocks] > 0
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

    def add(self, code: np.ndarray, rs: np.ndarray, re: np.ndarray) -> None:
        """Count reads ``[rs, re)`` on window chromosomes ``code`` (-1 entries are ignored)."""
        self.n_reads += len(code)
        if len(code) and code.min() < 0:
            ok = code >= 0
            code, rs, re = code[ok], rs[ok], re[ok]
        if len(code) == 0:
            return
        # A read that touches no window cancels out of both counts: drop it before the searches.
        # The test uses unclipped global coordinates: a read of <= 1 mask block touching a window
        # has an end in a block of that window.
        base = self.off[code] - (self.lo[code] - 1)
        gs, ge = rs + base, re + base
        last = len(self.mask) - 1
        keep = (self.mask[np.clip(gs >> _MASK_SHIFT, 0, last)] | self.mask[np.clip((ge - 1) >> _MASK_SHIFT, 0, last)]
                | (re - rs > (1 << _MASK_SHIFT)))
        code, gs, ge = code[keep], gs[keep], ge[keep]
        # clip to just outside the chromosome's windows (keeps every read/edge relation)
        gmin, gmax = self.off[code], self.off[code] + (self.hi[code] - self.lo[code] + 2)
        gs, ge = np.clip(gs, gmin, gmax), np.clip(ge, gmin, gmax)
        self.n_used += len(gs)
        n = len(self.E) + 1
        self.cnt_start += np.bincount(np.searchsorted(self.E, gs, side="right"), minlength=n)
        self.cnt_end += np.bincount(np.searchsorted(self.E, ge, side="left"), minlength=n)

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


def _raw_chunks(path, stop: threading.Event) -> Iterator[bytes]:
    """Decompressed bytes of a reads file, in large pieces (runs in the reader thread).

    gzip is inflated with ISA-L (``isal``: 2-3x zlib's speed, same API) in this thread (it releases
    the GIL, so it runs on a second core beside the parser); BAM goes through ``bedtools bamtobed``
    (or pysam when bedtools is absent) once its end-of-file block is checked.
    """
    if is_bam(path):
        _check_bam_eof(path)
        exe = shutil.which("bedtools")
        if exe is None:
            yield from _bam_text_pysam(path)
            return
        yield from _command_output([exe, "bamtobed", "-i", str(path)], path, stop)
        return
    with open(path, "rb") as fh:
        if not _is_gzip(path):
            while not stop.is_set() and (data := fh.read(_BLOCK_BYTES)):
                yield data
            return
        inflate = isal_zlib.decompressobj(31)
        started = False
        while not stop.is_set() and (comp := fh.read(_BLOCK_BYTES // 8)):
            while comp:
                if not started and not comp.lstrip(b"\0"):
                    break  # zero padding after the last gzip member
                yield inflate.decompress(comp)
                started = True
                if inflate.eof:  # concatenated members (bgzip, cat a.gz b.gz): start the next one
                    comp, inflate, started = inflate.unused_data, isal_zlib.decompressobj(31), False
                else:
                    comp = b""
        if started and not inflate.eof and not stop.is_set():
            raise DeepChromeError(path, "the gzip stream ends before its end-of-stream marker (truncated file)",
                                  "download the file again; `gzip -t` tests it")


def _check_bam_eof(path) -> None:
    """A BAM file must end with the BGZF end-of-file block; a file cut short lacks it."""
    with open(path, "rb") as fh:
        fh.seek(0, os.SEEK_END)
        fh.seek(max(0, fh.tell() - len(BAM_EOF)))
        if fh.read() != BAM_EOF:
            raise DeepChromeError(path, "the BAM file lacks its end-of-file marker (truncated or damaged file)",
                                  "download or copy the BAM file again; `samtools quickcheck` tests it")


def _command_output(cmd: list[str], path, stop: threading.Event) -> Iterator[bytes]:
    """stdout of ``cmd`` in large pieces; a failure of ``cmd`` raises with its stderr.

    A failure is a non-zero exit or a read error on stderr: bedtools exits 0 on a damaged BAM
    after printing htslib's ``[E::bgzf_read] Read block operation failed``.
    """
    with tempfile.TemporaryFile() as errfile:  # a file: a chatty tool never blocks on a full pipe
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=errfile)
        try:
            fd = proc.stdout.fileno()
            with contextlib.suppress(OSError, AttributeError):  # bigger pipe: fewer wake-ups
                fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, 1 << 20)
            while not stop.is_set() and (data := os.read(fd, 1 << 20)):
                yield data
            code = proc.wait()
            errfile.seek(0)
            err = errfile.read().decode(errors="replace").strip()
            if (code != 0 or any(e in err for e in _BAM_READ_ERRORS)) and not stop.is_set():
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


_PAD = 16  # newlines in front of a block: 8-byte loads may start up to 16 bytes before a field
_TAIL = 80  # zero bytes behind a block: 8-byte loads of names up to 64 characters


def _text_blocks(path) -> Iterator[bytes]:
    """The reads file as text in padded blocks of whole lines (about _BLOCK_BYTES each).

    Each block is ``_PAD`` newlines + whole lines + ``_TAIL`` zero bytes. A background thread
    reads, decompresses and cuts the next blocks while the caller parses the current one.
    """
    blocks: queue.Queue = queue.Queue(maxsize=1)
    stop = threading.Event()
    head, tail = b"\n" * _PAD, b"\0" * _TAIL

    def reader():
        try:
            pieces, size = [], 0
            for data in _raw_chunks(path, stop):
                pieces.append(data)
                size += len(data)
                if size < _BLOCK_BYTES:
                    continue
                cut = data.rfind(b"\n") + 1
                if cut == 0:  # no line end in the last piece: keep collecting
                    continue
                blocks.put(b"".join([head, *pieces[:-1], data[:cut], tail]))
                pieces, size = ([data[cut:]], len(data) - cut) if cut < len(data) else ([], 0)
                if stop.is_set():
                    return
            rest = b"".join(pieces)
            if rest.strip():
                blocks.put(b"".join([head, rest, b"" if rest.endswith(b"\n") else b"\n", tail]))
            blocks.put(None)
        except BaseException as err:  # handed to the consumer
            blocks.put(err)

    thread = threading.Thread(target=reader, name="deepchrome-reads-reader", daemon=True)
    thread.start()
    try:
        while (block := blocks.get()) is not None:
            if isinstance(block, DeepChromeError):
                raise block
            if isinstance(block, BaseException):
                raise DeepChromeError(path, f"could not be read ({type(block).__name__}: {block})",
                                      "check that the file is complete (re-download it) and not corrupted")
            yield block
    finally:
        stop.set()
        while thread.is_alive():  # unblock the reader if it waits on a full queue
            with contextlib.suppress(queue.Empty):
                blocks.get_nowait()
            thread.join(0.05)


_U64 = np.uint64
_ZEROS = _U64(0x3030303030303030)  # eight ASCII '0'
_HIGH_NIBBLES = _U64(0xF0F0F0F0F0F0F0F0)
_SIXES = _U64(0x0606060606060606)
# [k]: the top k bytes of a word (a right-aligned field of k characters)
_TOP = np.array([0] + [((1 << 64) - 1) ^ ((1 << (8 * (8 - k))) - 1) for k in range(1, 9)], dtype=np.uint64)
# [k]: the low k bytes of a word (a left-aligned field of k characters)
_LOW = np.array([(1 << (8 * k)) - 1 for k in range(8)] + [(1 << 64) - 1], dtype=np.uint64)


def _words(buf: np.ndarray) -> np.ndarray:
    """Unaligned little-endian uint64 view: element i holds bytes ``buf[i:i+8]``."""
    return np.ndarray((len(buf) - 7,), dtype="<u8", buffer=buf, strides=(1,))


def _digits8(word: np.ndarray, n: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Value of the last ``n`` (0..8) characters of each word as decimal digits, and a bad flag.

    SWAR: the other bytes become '0', then pairs, quads and octets of digits are combined with
    three multiply-shift-mask steps on all eight bytes at once. In place: fewer page faults.
    """
    keep = _TOP[n]
    t = word & keep
    np.invert(keep, out=keep)
    keep &= _ZEROS
    t |= keep
    t ^= _ZEROS  # bytes now 0..9 where they were digits
    np.add(t, _SIXES, out=keep)
    keep |= t
    keep &= _HIGH_NIBBLES
    bad = keep != 0
    for mul, shift, mask in ((10, 8, 0x00FF00FF00FF00FF), (100, 16, 0x0000FFFF0000FFFF),
                             (10000, 32, 0x00000000FFFFFFFF)):
        np.right_shift(t, _U64(shift), out=keep)
        t *= _U64(mul)
        t += keep
        t &= _U64(mask)
    return t.view(np.int64), bad


class _Parser:
    """Vectorised parser of BED-like text: columns 1-3 (chrom, start, end) of every line."""

    def __init__(self, path, counter: _ReadCounter):
        self.path, self.counter = path, counter
        self.lines = 0
        self.code_of_key: dict[int, int] = {}

    def feed(self, block: bytes) -> None:
        """Parse one padded block (see _text_blocks) and pass its reads to the counter."""
        buf = np.frombuffer(block, dtype=np.uint8)
        words = _words(buf)
        end_text = len(buf) - _TAIL
        seps = np.flatnonzero(buf[:end_text] <= 10)  # tabs and newlines (no other byte <= 10 in text)
        nl = np.flatnonzero(buf[seps] == 10)[_PAD - 1:]  # into seps; the last padding newline starts line 1
        first = nl[:-1] + 1  # first separator of each line
        last = len(seps) - 1
        f1 = seps[first]
        f2 = seps[np.minimum(first + 1, last)]
        f3 = seps[np.minimum(first + 2, last)]
        if block.find(b"\r", _PAD, end_text) >= 0:
            f3 = f3 - (buf[f3 - 1] == 13)  # CRLF ending a 3-column line
        start, bad_s = self._ints(buf, words, f1 + 1, f2)
        end, bad_e = self._ints(buf, words, f2 + 1, f3)
        problem = bad_s | bad_e | (end < start) | (np.diff(nl) < 3)
        ls = seps[nl[:-1]] + 1  # line starts (in buf)
        code = self._chrom_codes(buf, words, ls, f1)
        if problem.any():
            self._problems(block, problem, ls, seps[nl[1:]], start, end, code)
        self.lines += len(ls)
        self.counter.add(code, start, end)

    def _problems(self, block, problem, ls, le, start, end, code) -> None:
        """Skip blank and header lines (track / browser / #); raise on the first malformed line."""
        for i in np.flatnonzero(problem).tolist():
            line = block[ls[i]:le[i]]
            if not line.strip() or line.startswith((b"#", b"track", b"browser")):
                code[i] = -1
                continue
            fields = line.split(b"\t")
            why = ("fewer than 3 tab-separated columns" if len(fields) < 3 else
                   "end is before start" if end[i] < start[i] and all(f.strip().isdigit() for f in fields[1:3]) else
                   "start/end are not non-negative integers of at most 10 digits")
            raise DeepChromeError(
                self.path,
                f"line {self.lines + i + 1} is malformed ({why}): {line[:120].decode(errors='replace')!r}",
                "give a BED/tagAlign file with tab-separated chrom, start, end (integers) on every line",
            )

    @staticmethod
    def _ints(buf, words, a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Decimal integers in ``buf[a:b]`` per line (1 to 10 digits) and a bad flag."""
        length = b - a
        value, bad = _digits8(words[b - 8], np.clip(length, 0, 8))
        bad |= (length < 1) | (length > 10)
        if length.max(initial=0) > 8:  # 9th and 10th digits (coordinates >= 100 Mb) byte by byte
            for k, scale in ((9, 100_000_000), (10, 1_000_000_000)):
                digit = buf[b - k]
                digit -= np.uint8(48)  # wraps for non-digits
                digit[length < k] = 0
                bad |= digit > 9
                value += digit * np.int64(scale)
        return value, bad

    def _chrom_codes(self, buf: np.ndarray, words: np.ndarray, ls: np.ndarray, f1: np.ndarray) -> np.ndarray:
        """Window chromosome index per line (-1: no window there), from the first column."""
        length = f1 - ls
        n_words = -(-int(length.max(initial=1)) // 8)
        if n_words > 8:
            i = int(np.argmax(length))
            raise DeepChromeError(self.path, f"line {self.lines + i + 1}: chromosome name longer than 64 characters",
                                  "give a BED/tagAlign file with chrom, start, end as its first 3 columns")
        key = words[ls] & _LOW[np.clip(length, 0, 8)]  # names up to 8 characters: the key is the name
        for j in range(1, n_words):  # longer names: mix in the following words
            key = key * _U64(0x9E3779B97F4A7C15) + (words[ls + 8 * j] & _LOW[np.clip(length - 8 * j, 0, 8)])
        if len(key) == 0:
            return np.zeros(0, dtype=np.int64)
        # chromosomes come in long runs in most files: look names up once per run
        heads = np.flatnonzero(np.concatenate(([True], key[1:] != key[:-1])))
        uniq, inv = np.unique(key[heads], return_inverse=True)
        first_head = np.zeros(len(uniq), dtype=np.int64)
        first_head[inv[::-1]] = heads[::-1]
        codes = np.empty(len(uniq), dtype=np.int64)
        for u, h in enumerate(first_head.tolist()):
            k = int(uniq[u])
            if k not in self.code_of_key:
                name = bytes(buf[ls[h]:f1[h]]).decode(errors="replace")
                self.code_of_key[k] = self.counter.code(name)
            codes[u] = self.code_of_key[k]
        return np.repeat(codes[inv], np.diff(np.append(heads, len(key))))


def read_features(path: str | os.PathLike, windows: pd.DataFrame, n_bins: int = 100,
                  bin_size: int = 100) -> np.ndarray:
    """Reads overlapping each bin: float32 ``[genes, n_bins]``, genome order, rows as ``windows``.

    A read counts in a bin when they share >= 1 bp (half-open coordinates), exactly as
    ``bedtools intersect -a bins.bed -b reads -c``: a read across a bin edge counts in both bins,
    and overlapping windows of different genes are counted independently. Raw counts.

    ``path``: tagAlign or BED (plain or gzip; columns chrom, start, end, ...) or BAM (converted by
    ``bedtools bamtobed``; pysam when bedtools is missing). The file is streamed in blocks of
    about 8 MB of text (memory does not grow with the number of reads); gzip is inflated with ISA-L
    on a second thread. The file need not be sorted; an empty file is an error.
    """
    check_exists(path)
    chrom, start = prepare_windows(windows, n_bins, bin_size)
    if len(chrom) == 0:
        return np.zeros((0, n_bins), dtype=np.float32)
    counter = _ReadCounter(chrom, start, n_bins, bin_size)
    parser = _Parser(path, counter)
    name = Path(path).name
    step = 0
    for block in _text_blocks(path):
        parser.feed(block)
        step += 1
        if step % 8 == 0:
            log.info("%s: %.1f M lines read, %.2f M reads near windows", name, parser.lines / 1e6, counter.n_used / 1e6)
    if parser.lines == 0:  # not a genome mismatch: there is nothing to match
        raise DeepChromeError(path, "the file holds no reads (it is empty)",
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


