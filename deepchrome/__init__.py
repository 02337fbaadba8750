"""DeepChrome rebuilt: gene expression from histone-modification signal around the TSS.

Data shapes used across the package (stated once):

* features: ``X`` float32 ``[genes, marks, bins]`` with ``gene_id`` (str, unique within a cell)
  and ``marks`` (the config's mark order). Bins are 100 bp over [TSS-5000, TSS+5000).
* labels: 1 when the gene's RPKM is strictly above the cell's median, else 0.
"""

__version__ = "0.1.0"

MARKS = ("H3K4me3", "H3K4me1", "H3K36me3", "H3K9me3", "H3K27me3")
N_BINS = 100
BIN_SIZE = 100
FLANK = N_BINS * BIN_SIZE // 2
