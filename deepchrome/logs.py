"""How a workflow step runs: log to the rule's log file, show input problems without a traceback."""

from __future__ import annotations

import errno
import logging
import os
import shutil
import sys
from typing import TYPE_CHECKING, Callable

if TYPE_CHECKING:
    from .errors import DeepChromeError


def run_step(snakemake, step: Callable[[], None]) -> None:
    """Run ``step`` with logging sent to ``snakemake.log[0]`` (and stderr).

    A ``DeepChromeError`` (a problem with an input) is logged as its message alone and ends the
    job with exit status 1; Snakemake then removes the job's outputs. A full disk (``OSError`` errno 28) is
    one line naming the path and the space left (:func:`disk_full`). Other errors keep their traceback, since
    they are bugs.
    """
    from .errors import DeepChromeError

    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if snakemake.log:
        handlers.append(logging.FileHandler(snakemake.log[0], mode="w"))
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s",
                        handlers=handlers, force=True)
    logging.captureWarnings(True)
    try:
        step()
    except DeepChromeError as err:
        logging.getLogger("deepchrome").error("%s", err)
        sys.exit(1)
    except OSError as err:
        if err.errno != errno.ENOSPC:
            logging.getLogger("deepchrome").exception("step failed")
            raise
        outputs = list(getattr(snakemake, "output", None) or [])
        logging.getLogger("deepchrome").error("%s", disk_full(err, outputs[0] if outputs else None))
        sys.exit(1)
    except Exception:
        logging.getLogger("deepchrome").exception("step failed")
        raise


def disk_full(err: OSError, output: str | None = None) -> DeepChromeError:
    """The message of a write that found no space left: the path (from the error, else the job's ``output``,
    else the working folder) and what its file system has free."""
    from .errors import DeepChromeError

    path = err.filename or output or os.getcwd()
    folder = os.path.abspath(path)
    while not os.path.isdir(folder):  # the nearest existing folder holds the file system to free
        folder = os.path.dirname(folder)
    free = shutil.disk_usage(folder).free
    return DeepChromeError(f"'{path}'", f"no space left on the device (the file system of {folder!r} has "
                           f"{free / 1e6:,.1f} MB free)",
                           "free some space there (or point the workflow's --directory at a larger disk) and run "
                           "the workflow again: it goes on from the last complete step")
