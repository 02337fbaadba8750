"""Gene-ID rules shared by the annotation and the expression table (one home, no import circle)."""

from __future__ import annotations

import re

_VERSION = re.compile(r"\.\d+(?=$|_)")  # ENSG00000000003.10 -> ENSG00000000003; keeps _PAR_Y


def strip_version(gene_id: str) -> str:
    """Ensembl ID without its version suffix (``ENSG00000000003.10`` -> ``ENSG00000000003``)."""
    return _VERSION.sub("", gene_id)


_ENSEMBL_NUMBER = re.compile(r"(?:ENS[A-Z]*G)?0*(\d+)", re.IGNORECASE)


def gene_key(gene_id: str) -> str:
    """The key that matches one gene across ID forms: the Ensembl gene number without leading zeros for
    ``ENSG00000130749``, ``ENSG00000130749.5`` and the published processed files' ``130749``; any other ID
    without its version, as given."""
    bare = strip_version(str(gene_id).strip())
    m = _ENSEMBL_NUMBER.fullmatch(bare)
    return str(int(m.group(1))) if m else bare


def gene_rows(query: str, gene_ids) -> list[int]:
    """Rows of ``gene_ids`` that are gene ``query`` in any of its forms (see :func:`gene_key`)."""
    key = gene_key(query)
    return [i for i, g in enumerate(gene_ids) if gene_key(g) == key]
