"""The one exception type the workflow shows to users."""

from __future__ import annotations

import os


class DeepChromeError(Exception):
    """A problem with an input: says which file, what is wrong and how to fix it."""

    def __init__(self, path: str | os.PathLike | None, problem: str, fix: str):
        self.path = None if path is None else str(path)
        self.problem = problem
        self.fix = fix
        where = f"{self.path}: " if self.path else ""
        super().__init__(f"{where}{problem}\n  Fix: {fix}")
