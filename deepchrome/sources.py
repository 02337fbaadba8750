"""Where a config or sheet entry's file is: templates filled, URLs mapped to downloads, local paths checked.

Used by rules/common.smk at start-up (before any job), so it imports no torch, scipy or scikit-learn. Errors
show paths in quotes, so that a leading or trailing space is visible.
"""

from __future__ import annotations

import errno
import os
import re
from collections.abc import Collection, Mapping, MutableMapping

from .errors import DeepChromeError
from .fetch import download_path, is_url

_PLACEHOLDER = re.compile(r"\{(\w+)\}")


def quoted(path: object) -> str:
    """``path`` in single quotes (Python's quoting where it holds a quote or a control character)."""
    text = str(path)
    return f"'{text}'" if "'" not in text and text.isprintable() else repr(text)


def fill_template(value: str, known: Mapping[str, object]) -> str:
    """``value`` with each ``{name}`` of ``known`` (base URLs ``{roadmap_url}``, ``{cell}``, ``{mark}``) filled in.

    Other braces stay as they are: a path may hold ``{`` or ``}``; an unknown ``{name}`` is named by
    :func:`local_source` when no such file exists.
    """
    return _PLACEHOLDER.sub(lambda m: str(known[m[1]]) if m[1] in known else m[0], value)


def local_source(value: str, where: str, known: Mapping[str, object], produced: Collection[str] = (),
                 downloads: MutableMapping[str, str] | None = None) -> str:
    """The local file behind a config or sheet entry: its download target for a URL (recorded in ``downloads``:
    local path -> URL), else the path, which must exist unless a rule makes it (``produced``)."""
    value = fill_template(value, known)
    if is_url(value):
        unknown = [name for name in _PLACEHOLDER.findall(value) if name not in known]
        if unknown:
            raise DeepChromeError(where, f"the URL {quoted(value)} holds the unknown placeholder {{{unknown[0]}}}",
                                  f"use only the placeholders {_names(known)}, or set the missing base URL "
                                  f"(e.g. {unknown[0]}: https://...)")
        local = download_path(value)
        if downloads is not None:
            downloads[local] = value
        return local
    if value not in produced:
        check_path(value, where, known)
    return value


def check_path(path: str, where: str, known: Mapping[str, object] | None = None) -> None:
    """An error (naming ``where`` the path was given) unless ``path`` is a readable file or folder: a missing
    file (with a hint for stray spaces or an unknown ``{placeholder}``) or a symlink loop."""
    try:
        os.stat(path)
        return
    except FileNotFoundError:
        pass
    except OSError as err:
        if err.errno == errno.ELOOP:
            raise DeepChromeError(where, f"the path {quoted(path)} is a symlink loop (a link that leads back to "
                                  "itself)", "point the link at the real file (ls -l shows where it leads)") from None
        raise DeepChromeError(where, f"the path {quoted(path)} cannot be read ({err.strerror})",
                              "check the path and its permissions") from None
    hints = []
    if path != path.strip():
        hints.append("it starts or ends with a space")
    unknown = [name for name in _PLACEHOLDER.findall(path) if name not in (known or {})]
    if unknown:
        hints.append(f"{{{unknown[0]}}} is no placeholder of this entry (known: {_names(known or {})})")
    if os.path.islink(path):
        hints.append("it is a link to a missing file")
    raise DeepChromeError(where, f"the file {quoted(path)} does not exist" + (f" ({'; '.join(hints)})" if hints else ""),
                          "correct the path (relative paths start at the working directory) or give a URL")


def _names(known: Mapping[str, object]) -> str:
    """The placeholders of ``known`` as a template writes them (``{cell}, {mark}``), or 'none'."""
    return ", ".join("{" + k + "}" for k in known) or "none"
