"""Text from sheets, files and the command line shown in the report and figures as text, never as markup.

The report's captions and landing page are Jinja templates rendered into reStructuredText and then HTML
(docutils with its raw directive and file inclusion on), and matplotlib reads ``$...$`` as mathtext: a cell
name such as ``` `x <javascript:alert(3)>`_ ``` or ``{{ ... }}`` must reach neither unescaped.
"""

from __future__ import annotations

import re

_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")
_RST_SPECIAL = re.compile(r"([^\w\s]|_)")  # every ASCII and Unicode punctuation character, and '_'
_LITERAL_SAFE = re.compile(r"[\w.,:=/+@-]+(?: [\w.,:=/+@-]+)*")


def rst_text(text: object) -> str:
    """``text`` as plain reStructuredText that Jinja leaves alone: line breaks and control characters become
    spaces (no new directive can start), every punctuation character is backslash-escaped (no role, link,
    substitution, emphasis or Jinja ``{{``/``{%``/``{#``); docutils shows the characters themselves."""
    return _RST_SPECIAL.sub(r"\\\1", _CONTROL.sub(" ", str(text)))


def rst_literal(text: object) -> str:
    """``text`` as an inline literal (````text````) when it is made of letters, digits, spaces and ``._-,:=/+@``;
    otherwise as :func:`rst_text` (a literal cannot escape backticks, and Jinja reads braces inside it)."""
    text = _CONTROL.sub(" ", str(text))
    return f"``{text}``" if _LITERAL_SAFE.fullmatch(text) else rst_text(text)


def plot_text(text: object) -> str:
    """``text`` for a matplotlib title or label: ``$`` escaped (no mathtext), control characters as spaces."""
    return _CONTROL.sub(" ", str(text)).replace("$", r"\$")
