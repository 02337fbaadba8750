"""Atomic file writing: every output is written to a temporary name and renamed when complete."""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path
from typing import Iterator

import numpy as np
import pandas as pd


_UMASK = os.umask(0)
os.umask(_UMASK)


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it onto ``path`` only if the block succeeds.

    The temporary name keeps the final suffix so libraries that look at extensions (numpy,
    matplotlib) write the right format.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix="".join(path.suffixes) or ".tmp", dir=path.parent)
    os.close(fd)
    tmp = Path(tmp)
    try:
        yield tmp
        # mkstemp makes owner-only files; give outputs the usual permissions.
        os.chmod(tmp, 0o666 & ~_UMASK)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def write_tsv(df: pd.DataFrame, path: str | os.PathLike) -> None:
    """Write ``df`` as a tab-separated file with a header and no index, atomically."""
    with atomic_path(path) as tmp:
        df.to_csv(tmp, sep="\t", index=False)


def write_json(obj: dict, path: str | os.PathLike) -> None:
    """Write ``obj`` as indented JSON, atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(obj, indent=2, sort_keys=True) + "\n")


def write_npy(arr: np.ndarray, path: str | os.PathLike) -> None:
    """Write one array in ``.npy`` format, atomically."""
    with atomic_path(path) as tmp:
        np.save(tmp, arr)
