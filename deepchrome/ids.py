"""Gene-ID rules shared by the annotation and the expression table (one home, no import circle)."""

from __future__ import annotations

import re

_VERSION = re.compile(r"\.\d+(?=$|_)")  # ENSG00000000003.10 -> ENSG00000000003; keeps _PAR_Y


def strip_version(gene_id: str) -> str:
    """Ensembl ID without its version suffix (``ENSG00000000003.10`` -> ``ENSG00000000003``)."""
    return _VERSION.sub("", gene_id)
