"""Shared test fixtures: where the real data in ../shared is, and small real files."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"


def shared_file(*parts: str) -> Path:
    """A file of ../shared/data, or skip the test with the reason."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"real data {path} is absent (../shared is only on developer and CI machines)")
    return path


def write_gtf(path: Path, genes: list[tuple[str, str, int, int, str]], gene_type: str = "protein_coding") -> Path:
    """A GENCODE-style GTF (gzip when the name ends in .gz) of (gene_id, chrom, start1, end1, strand) genes."""
    lines = []
    for gid, chrom, start, end, strand in genes:
        attrs = f'gene_id "{gid}"; gene_type "{gene_type}"; gene_name "N{gid[-4:]}";'
        lines.append(f"{chrom}\tDEMO\tgene\t{start}\t{end}\t.\t{strand}\t.\t{attrs}")
        lines.append(f"{chrom}\tDEMO\ttranscript\t{start}\t{end}\t.\t{strand}\t.\t{attrs} transcript_id \"T{gid}\";")
    text = "\n".join(lines) + "\n"
    if path.suffix == ".gz":
        with gzip.open(path, "wt") as f:
            f.write(text)
    else:
        path.write_text(text)
    return path
