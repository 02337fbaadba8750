"""Atomic file writing (every output is written to a temporary name and renamed when complete) and
the integrity check of gzip inputs."""

from __future__ import annotations

import contextlib
import glob
import gzip
import json
import os
import re
import tempfile
import zlib
from pathlib import Path
from typing import TYPE_CHECKING, Iterator

from .errors import DeepChromeError

if TYPE_CHECKING:  # numpy and pandas load only where used: the checksum and fetch jobs need neither
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
    remove_stale_temporaries(path)
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


def _temporary_pattern(path: Path) -> re.Pattern:
    """Names ``atomic_path`` gives the temporaries of ``path`` (mkstemp adds 8 characters of [a-z0-9_])."""
    suffix = "".join(path.suffixes) or ".tmp"
    return re.compile(re.escape(f".{path.name}.") + "[a-z0-9_]{8}" + re.escape(suffix))


def remove_stale_temporaries(path: str | os.PathLike) -> None:
    """Delete temporaries of ``path`` left by a writer that was killed (kill -9 gives no chance to clean up).

    Each output has one writer at a time (Snakemake runs one job per output), so a temporary of
    ``path`` that exists when a new write of ``path`` starts is stale.
    """
    path = Path(path)
    pattern = _temporary_pattern(path)
    for stale in path.parent.glob(f".{glob.escape(path.name)}.*"):
        if pattern.fullmatch(stale.name):
            stale.unlink(missing_ok=True)


def check_gzip(path: str | os.PathLike) -> None:
    """Read a gzip file (when ``path`` is one, by its magic bytes) to its end-of-stream marker.

    A download cut short leaves a gzip file that decompresses fine up to the cut; readers that stop
    early (or read it in chunks) would take its first part as the whole file.
    """
    with open(path, "rb") as f:
        if f.read(2) != b"\x1f\x8b":
            return
    try:
        with gzip.open(path, "rb") as f:
            while f.read(1 << 22):
                pass
    except (EOFError, OSError, zlib.error) as err:
        raise DeepChromeError(path, f"the gzip file is truncated or damaged ({err})",
                              "download (or copy) the file again: an interrupted transfer leaves a cut file") from None


def write_tsv(df: pd.DataFrame, path: str | os.PathLike) -> None:
    """Write ``df`` as a tab-separated file with a header and no index, atomically."""
    with atomic_path(path) as tmp:
        df.to_csv(tmp, sep="\t", index=False)


def read_tsv(path: str | os.PathLike, **kwargs) -> pd.DataFrame:
    """A tab-separated table this workflow wrote (:func:`write_tsv`), its floats read back exactly: pandas' default
    parser is up to one unit in the last place off the written value, which breaks an AUC that must repeat another."""
    import pandas as pd

    return pd.read_csv(path, sep="\t", float_precision="round_trip", **kwargs)


def write_json(obj: dict, path: str | os.PathLike) -> None:
    """Write ``obj`` as indented JSON, atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(obj, indent=2, sort_keys=True) + "\n")


def read_summary(path: str | os.PathLike) -> dict:
    """A cell's class summary (``attribution_summary.npz`` or ``attention_summary.npz``): its arrays by name, with
    ``marks`` as a list of str. Torch-free, for the figure jobs."""
    import numpy as np

    with np.load(path, allow_pickle=False) as z:
        out = {k: z[k] for k in z.files}
    out["marks"] = [str(m) for m in out["marks"]]
    return out


def write_npy(arr: np.ndarray, path: str | os.PathLike) -> None:
    """Write one array in ``.npy`` format, atomically."""
    import numpy as np

    with atomic_path(path) as tmp:
        np.save(tmp, arr)
