"""DeepChrome rebuilt: gene expression from histone-modification signal around the TSS.

Data shapes used across the package (stated once):

* features: ``X`` float32 ``[genes, marks, bins]`` with ``gene_id`` (str, unique within a cell)
  and ``marks`` (the config's mark order). Bins tile a TSS-centred window; how many, their size in bp, their
  order and the input kind are the features file's own description (:func:`deepchrome.dataset.feature_description`),
  and a model's (``model.pt``'s ``inputs``), never a module constant.
* labels: 1 when the gene's RPKM is strictly above the cell's median, else 0.
"""

__version__ = "0.1.0"

MARKS = ("H3K4me3", "H3K4me1", "H3K36me3", "H3K9me3", "H3K27me3")
"""The paper's five marks, in its order: the demo's marks and the default mark list."""
