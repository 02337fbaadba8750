"""Checksums of the raw inputs, so that an edit that keeps the old modification time still reruns what reads it.

Snakemake decides on modification times; ``cp -p``, ``rsync -a`` or ``tar`` replace a file's content and keep
its time. Each raw input (annotation, chromosome sizes, expression table, every signal or reads file) gets a
checksum file ``results/checksums/<name>.<digest of the path>.sha256`` (rule ``checksum``), an input of the job
that first reads the raw file. At start-up :func:`refresh_checksums` compares each raw input with its record:
the file's identity (size, modification and change times, inode) first, the SHA-256 of its content only when
that differs (a changed file always gets a new change time, which no tool can set back). A changed content
rewrites the checksum file, whose new time reruns the reading job and everything after it. The identity
record (``.stat`` beside the checksum) is kept apart, so a mere ``chmod`` or ``touch`` never rewrites a checksum.

Torch-free: rules/fetch.smk imports it at start-up.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Iterable
from pathlib import Path

from .fetch import sha256sum
from .io import atomic_path

CHECKSUM_DIR = "results/checksums"


def checksum_file(source: str | os.PathLike) -> str:
    """The checksum file of raw input ``source``: its name, made safe, and a digest of the path as given."""
    name = re.sub(r"[^A-Za-z0-9._-]", "_", Path(source).name).lstrip(".")[-80:] or "input"
    return f"{CHECKSUM_DIR}/{name}.{hashlib.sha256(str(source).encode()).hexdigest()[:12]}.sha256"


def _identity(source: str | os.PathLike) -> list[int]:
    """What changes whenever the content can have: size, modification and change times (ns), inode, device."""
    st = os.stat(source)
    return [st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_dev]


def _stat_file(checksum: str | os.PathLike) -> Path:
    return Path(str(checksum)[: -len(".sha256")] + ".stat")


def _write_identity(source: str | os.PathLike, checksum: str | os.PathLike) -> None:
    with atomic_path(_stat_file(checksum)) as tmp:
        tmp.write_text(json.dumps(_identity(source)) + "\n")


def write_checksum(source: str | os.PathLike, checksum: str | os.PathLike) -> str:
    """Write ``<sha256>  <source>`` to ``checksum`` (and the source's identity beside it); return the hex digest."""
    digest = sha256sum(source)
    with atomic_path(checksum) as tmp:
        tmp.write_text(f"{digest}  {source}\n")
    _write_identity(source, checksum)
    return digest


def refresh_checksums(sources: Iterable[str]) -> list[str]:
    """Bring the existing checksum files of ``sources`` up to date; return the sources whose content changed.

    Only a changed content rewrites a checksum file (and so reruns the jobs that read the source); a source
    whose identity changed with the same content (``touch``, ``chmod``) gets its identity record updated.
    Sources or checksum files that do not exist yet are left to the ``checksum`` rule.
    """
    changed = []
    for source in dict.fromkeys(sources):
        checksum = Path(checksum_file(source))
        if not checksum.exists() or not os.path.isfile(source):
            continue
        stat = _stat_file(checksum)
        try:
            if json.loads(stat.read_text()) == _identity(source):
                continue
        except (OSError, ValueError):
            pass  # no or a damaged record: compare the content
        recorded = checksum.read_text().split(maxsplit=1)[0] if checksum.stat().st_size else ""
        if sha256sum(source) == recorded:
            _write_identity(source, checksum)
        else:
            write_checksum(source, checksum)
            changed.append(source)
    return changed
