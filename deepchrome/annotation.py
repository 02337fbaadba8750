"""Genes and their TSS windows: GTF or BED gene list -> TSS -> [TSS - flank, TSS + flank).

Coordinates are 0-based, half-open (BED). A gene table has one row per gene with columns
``gene_id`` (unique key), ``ensembl`` (Ensembl ID without version, used to match expression),
``name``, ``chrom``, ``tss`` (0-based position of the first transcribed base) and ``strand``
('+', '-' or '.' when the annotation has none).
"""

from __future__ import annotations

import logging
import os
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from .errors import DeepChromeError
from .ids import strip_version
from .io import check_gzip

if TYPE_CHECKING:  # imported where used: the feature jobs import this module and must start fast
    import pybedtools

log = logging.getLogger("deepchrome.annotation")

MIN_KEPT_SHARE = 0.5  # a step that keeps fewer of its genes than this stops: the inputs do not belong together
WARN_LOST_SHARE = 0.05  # a step that loses more than this share of its genes says so on the console


def check_kept(source, what: str, kept: int, total: int, lost_ids, fix: str) -> None:
    """Stop when fewer than :data:`MIN_KEPT_SHARE` of ``total`` genes are ``kept`` by a step (``what`` says how
    they were lost, e.g. "have a value in the expression table"); warn when more than :data:`WARN_LOST_SHARE`
    are lost. Both messages give the counts and the first lost gene IDs (``lost_ids``)."""
    lost = total - kept
    if total == 0 or lost == 0:
        return
    first = ", ".join(map(str, list(lost_ids)[:5])) + (", ..." if lost > 5 else "")
    text = f"only {kept:,} of {total:,} genes {what} ({lost:,} lost, {100 * lost / total:.1f}%; first: {first})"
    if kept < MIN_KEPT_SHARE * total:
        raise DeepChromeError(source, text + ": fewer than half, so the models would learn from a remnant", fix)
    if lost > WARN_LOST_SHARE * total:
        log.warning("%s: %s; %s", source, text.replace("only ", "", 1), fix)


def chrom_aliases(name: str) -> list[str]:
    """Spellings of one chromosome across UCSC and Ensembl conventions (``chr1``/``1``, ``chrM``/``MT``)."""
    bare = name[3:] if name[:3].lower() == "chr" else name
    names = [name, bare, "chr" + bare]
    if bare.upper() in ("M", "MT"):
        names += ["chrM", "MT", "M", "chrMT"]
    return list(dict.fromkeys(names))


def match_chrom(name: str, available) -> str | None:
    """The spelling in ``available`` (a set) of chromosome ``name``, or None."""
    return next((a for a in chrom_aliases(name) if a in available), None)


def match_chroms(wanted, available) -> dict[str, str]:
    """Map each name in ``wanted`` to its spelling in ``available``; names with no match are left out."""
    available = set(available)
    return {name: hit for name in wanted if (hit := match_chrom(name, available)) is not None}


def read_chrom_sizes(path: str | os.PathLike) -> dict[str, int]:
    """Chromosome lengths (bp) from a two-column ``name<TAB>length`` file."""
    check_gzip(path)
    try:
        df = pd.read_csv(path, sep="\t", header=None, usecols=[0, 1], names=["chrom", "size"],
                         dtype={"chrom": str}, comment="#")
        sizes = dict(zip(df["chrom"], df["size"].astype(np.int64)))
    except (OSError, ValueError, pd.errors.ParserError) as err:
        raise DeepChromeError(path, f"cannot read chromosome sizes ({err})",
                              "give a tab-separated file of chromosome name and length, like UCSC's hg19.chrom.sizes")
    if not sizes:
        raise DeepChromeError(path, "the chromosome sizes file is empty", "give UCSC's chrom.sizes for the assembly")
    return sizes


def _gtf_genes(bt: pybedtools.BedTool, path, gene_types) -> pd.DataFrame:
    rows = []
    for f in bt:
        if f[2] not in ("gene", "transcript", "exon"):
            continue
        attrs = f.attrs
        if "gene_id" not in attrs:
            raise DeepChromeError(path, f"line for {f.chrom}:{f.start + 1} has no gene_id attribute",
                                  "give a GENCODE/Ensembl GTF whose lines carry gene_id")
        rows.append((f[2], attrs["gene_id"], attrs.get("gene_name", attrs["gene_id"]),
                     attrs.get("gene_type", attrs.get("gene_biotype", "")), f.chrom, f.start, f.end, f.strand))
    df = pd.DataFrame(rows, columns=["feature", "raw_id", "name", "gene_type", "chrom", "start", "end", "strand"])
    if df.empty:
        raise DeepChromeError(path, "no gene, transcript or exon lines", "give a GTF annotation (GENCODE or Ensembl)")
    if gene_types:
        df = df[df["gene_type"].isin(gene_types)]
        if df.empty:
            raise DeepChromeError(path, f"no gene of type {', '.join(gene_types)}",
                                  "change gene_types in the config (or empty it to keep every gene)")
    # A gene's own line where it has one; a gene without one (GTFs may mix both) spans its transcripts/exons.
    with_line = df["feature"] == "gene"
    spanned = df[~df["raw_id"].isin(set(df.loc[with_line, "raw_id"]))].groupby("raw_id", sort=False).agg(
        name=("name", "first"), chrom=("chrom", "first"), start=("start", "min"), end=("end", "max"),
        strand=("strand", "first")).reset_index()
    genes = pd.concat([df.loc[with_line, spanned.columns], spanned], ignore_index=True)
    order = {gid: i for i, gid in enumerate(dict.fromkeys(df["raw_id"]))}  # the file's order of genes
    genes = genes.sort_values("raw_id", key=lambda ids: ids.map(order), kind="stable").reset_index(drop=True)
    tss = np.where(genes["strand"] == "-", genes["end"] - 1, genes["start"])
    ids = genes["raw_id"].map(strip_version)
    return pd.DataFrame({"gene_id": ids, "ensembl": ids, "name": genes["name"].to_numpy(),
                         "chrom": genes["chrom"].to_numpy(), "tss": tss, "strand": genes["strand"].to_numpy()})


def _bed_genes(bt: pybedtools.BedTool, path) -> pd.DataFrame:
    rows = []
    for i, f in enumerate(bt):
        name = f.name if len(f.fields) > 3 else f"{f.chrom}:{f.start}"
        strand = f.strand if len(f.fields) > 5 and f.strand in ("+", "-") else "."
        rows.append((name, f.chrom, (f.start + f.end) // 2, strand))
    df = pd.DataFrame(rows, columns=["name", "chrom", "tss", "strand"])
    if df.empty:
        raise DeepChromeError(path, "the gene list is empty", "give a BED file with one line per gene")
    df["ensembl"] = df["name"].str.split("_").str[0].map(strip_version)
    # A list that names one Ensembl ID twice keeps both rows, keyed by the list's whole name field.
    dup = df["ensembl"].duplicated(keep=False)
    df["gene_id"] = np.where(dup, df["name"], df["ensembl"])
    if df["gene_id"].duplicated().any():
        first = df.loc[df["gene_id"].duplicated(), "gene_id"].iloc[0]
        raise DeepChromeError(path, f"the name {first!r} appears on more than one line",
                              "give each gene line a unique name (ENSG..._SYMBOL)")
    return df[["gene_id", "ensembl", "name", "chrom", "tss", "strand"]]


def read_genes(path: str | os.PathLike, gene_types: list[str] | None = None) -> pd.DataFrame:
    """Read a GTF (gene lines, or transcripts/exons grouped by gene) or a BED gene list into a gene table.

    A BED line's TSS is the centre of its interval (the paper's list holds TSS +/- 10 kb); its strand is
    column 6 when present. GTF Ensembl IDs lose their version. ``gene_types`` filters GTF genes
    (e.g. ``["protein_coding"]``); it does not apply to a BED list.
    """
    if not os.path.exists(path):
        raise DeepChromeError(path, "the annotation file does not exist", "check the annotation path in the config")
    check_gzip(path)
    import pybedtools

    bt = pybedtools.BedTool(str(path))
    try:
        kind = bt.file_type
    except Exception as err:  # pybedtools raises bare Exceptions/IndexErrors on unparseable files
        raise DeepChromeError(path, f"not a GTF or BED file ({err})", "give a GTF annotation or a BED gene list")
    if kind == "gff":
        genes = _gtf_genes(bt, path, gene_types)
    elif kind == "bed":
        genes = _bed_genes(bt, path)
    else:
        raise DeepChromeError(path, f"file type {kind!r} is not an annotation", "give a GTF or a BED gene list")
    if genes["gene_id"].duplicated().any():
        dups = genes.loc[genes["gene_id"].duplicated(), "gene_id"].unique()[:3]
        raise DeepChromeError(path, f"gene IDs listed more than once after removing versions: {', '.join(dups)}",
                              "remove the duplicated genes or give a gene list with unique names")
    log.info("%s: %d genes (%d on '+', %d on '-', %d without strand)", path, len(genes),
             (genes["strand"] == "+").sum(), (genes["strand"] == "-").sum(), (genes["strand"] == ".").sum())
    return genes.reset_index(drop=True)


def gene_windows(genes: pd.DataFrame, chrom_sizes: dict[str, int], flank: int = 5000,
                 bin_order: str = "strand", source: str | os.PathLike | None = None) -> pd.DataFrame:
    """Windows ``[tss - flank, tss + flank)`` of the genes that lie wholly inside their chromosome.

    With ``bin_order="strand"``, '-' genes get ``[tss + 1 - flank, tss + 1 + flank)``: windows
    symmetric in transcription order, equal to deepTools ``computeMatrix reference-point``.
    ``bin_order="genome"`` (the paper setting) keeps ``[tss - flank, tss + flank)`` for all.

    Returns the gene table plus ``start`` and ``end`` (bp, 0-based half-open), chromosome names
    spelled as in ``chrom_sizes``, sorted by chromosome and start. Genes whose window leaves the
    chromosome, or whose chromosome is not in ``chrom_sizes``, are dropped and counted in the log.
    """
    if bin_order == "strand" and (genes["strand"] == ".").any():
        raise DeepChromeError(source, "the annotation has genes without a strand, so bins cannot be put in "
                              "transcription order (bin_order: strand)",
                              "set windows.bin_order: genome in the config (the paper's setting), "
                              "or give an annotation with strands (a GTF, or BED6 with column 6)")
    names = match_chroms(genes["chrom"].unique(), chrom_sizes)
    if not names:
        raise DeepChromeError(source, "no chromosome of the annotation is in the chromosome sizes "
                              f"(annotation: {', '.join(sorted(genes['chrom'].unique())[:4])}; "
                              f"sizes: {', '.join(list(chrom_sizes)[:4])})",
                              "give the chromosome sizes of the annotation's assembly")
    win = genes.copy()
    win["chrom"] = win["chrom"].map(names)
    unknown = win["chrom"].isna()
    # strand order: a '-' window is centred on the base after the TSS (the GTF end), as deepTools'
    # reference-point windows, so the TSS is the first base of bin n/2 from upstream on both strands
    centre = win["tss"] + ((bin_order == "strand") & (win["strand"] == "-"))
    win["start"] = centre - flank
    win["end"] = centre + flank
    size = win["chrom"].map(chrom_sizes)
    outside = ~unknown & ((win["start"] < 0) | (win["end"] > size))
    check_kept(source, "have a whole window inside the chromosome sizes", int((~unknown & ~outside).sum()),
               len(win), genes["gene_id"][unknown | outside],
               "give the chromosome sizes of the annotation's genome build (hg19 for the paper): the lost genes lie "
               "on chromosomes the sizes lack or past their ends")
    log.info("%d genes: %d windows kept, %d dropped as their window leaves the chromosome, "
             "%d dropped as their chromosome is not in the chromosome sizes",
             len(win), int((~unknown & ~outside).sum()), int(outside.sum()), int(unknown.sum()))
    win = win[~unknown & ~outside].astype({"start": np.int64, "end": np.int64, "tss": np.int64})
    order = {c: i for i, c in enumerate(chrom_sizes)}
    win = win.assign(_o=win["chrom"].map(order)).sort_values(["_o", "start", "gene_id"]).drop(columns="_o")
    win = win.reset_index(drop=True)
    win.attrs["counts"] = {"genes": len(genes), "windows": len(win), "outside_chromosome": int(outside.sum()),
                           "chromosome_not_in_sizes": int(unknown.sum())}
    return win


def build_windows(annotation: str | os.PathLike, chrom_sizes: str | os.PathLike, flank: int = 5000,
                  bin_order: str = "strand", gene_types: list[str] | None = None,
                  keep_ids=None) -> pd.DataFrame:
    """Read the annotation and the chromosome sizes and return the genes' windows (see ``gene_windows``).

    With ``keep_ids`` (Ensembl IDs without version, e.g. the expression table's genes), only those
    genes are kept (e.g. GENCODE TSSs restricted to the protein-coding genes of Roadmap's matrix).
    The returned table's ``attrs["counts"]`` holds the gene counts of each step (``annotation_genes``,
    ``in_expression`` with ``keep_ids``, ``genes``, ``windows``, ``outside_chromosome``, ``chromosome_not_in_sizes``);
    a step keeping fewer than half of its genes stops (:func:`check_kept`).
    """
    genes = read_genes(annotation, gene_types)
    counts = {"annotation_genes": len(genes)}
    if keep_ids is not None:
        listed = genes["ensembl"].isin(set(keep_ids))
        log.info("%d of %d genes are in the expression table; the others are left out", int(listed.sum()), len(genes))
        check_kept(annotation, "are in the expression table (restrict_to_expression: true)", int(listed.sum()),
                   len(genes), genes["gene_id"][~listed],
                   "give an expression table and an annotation with the same gene IDs (Ensembl IDs; versions are "
                   "ignored), or set restrict_to_expression: false")
        counts["in_expression"] = int(listed.sum())
        genes = genes[listed]
    windows = gene_windows(genes, read_chrom_sizes(chrom_sizes), flank=flank, bin_order=bin_order, source=annotation)
    windows.attrs["counts"] = {**counts, **windows.attrs["counts"]}
    return windows


def read_windows(path: str | os.PathLike) -> pd.DataFrame:
    """Read a windows table written by the workflow (gene_id, ensembl, name, chrom, tss, strand, start, end)."""
    return pd.read_csv(path, sep="\t", dtype={"gene_id": str, "ensembl": str, "name": str, "chrom": str,
                                              "strand": str}, keep_default_na=False)
