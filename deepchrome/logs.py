"""How a workflow step runs: log to the rule's log file, show input problems without a traceback."""

from __future__ import annotations

import logging
import sys
from typing import Callable


def run_step(snakemake, step: Callable[[], None]) -> None:
    """Run ``step`` with logging sent to ``snakemake.log[0]`` (and stderr).

    A ``DeepChromeError`` (a problem with an input) is logged as its message alone and ends the
    job with exit status 1; Snakemake then removes the job's outputs. Other errors keep their
    traceback, since they are bugs.
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
    except Exception:
        logging.getLogger("deepchrome").exception("step failed")
        raise
