import gzip

import numpy as np
import pandas as pd
import pytest

from deepchrome.annotation import read_genes
from deepchrome.errors import DeepChromeError
from deepchrome.labels import cell_labels, read_expression
from conftest import shared_file


def genes(ids):
    return pd.DataFrame({"gene_id": ids, "ensembl": [i.split("_")[0] for i in ids]})


def write_table(path, header, rows, trailing_tab=True):
    end = "\t\n" if trailing_tab else "\n"
    with gzip.open(path, "wt") as f:
        f.write("\t".join(header) + "\n")
        for row in rows:
            f.write("\t".join(map(str, row)) + end)
    return path


def test_trailing_tab_does_not_shift_columns(tmp_path):
    # Roadmap's RPKM matrix ends each data row with a tab; columns must stay in place.
    path = write_table(tmp_path / "rpkm.tsv.gz", ["gene_id", "E003", "E004"],
                       [["ENSG1.2", 1.0, 10.0], ["ENSG2", 2.0, 20.0]])
    table = read_expression(path)
    assert table.loc["ENSG1", "E003"] == 1.0 and table.loc["ENSG2", "E004"] == 20.0


def test_ties_at_median_are_off_and_missing_genes_dropped():
    expr = pd.DataFrame({"c": [1.0, 2.0, 2.0, 2.0, 3.0]}, index=[f"G{i}" for i in range(5)])
    table, info = cell_labels(genes([f"G{i}" for i in range(6)]), expr, "c")
    assert info["median_rpkm"] == 2.0 and info["n_dropped_no_value"] == 1
    assert table["label"].tolist() == [0, 0, 0, 0, 1]  # strictly greater than the median


def test_gene_listed_twice_counts_twice():
    expr = pd.DataFrame({"c": [0.0, 5.0, 10.0]}, index=["A", "B", "C"])
    table, info = cell_labels(genes(["A", "B_x", "B_y", "C"]), expr, "c")
    assert info["median_rpkm"] == 5.0 and table["gene_id"].tolist() == ["A", "B_x", "B_y", "C"]


def test_empty_column_is_an_error(tmp_path):
    path = write_table(tmp_path / "rpkm.tsv.gz", ["gene_id", "E003", "E004"], [["G1", "", 1], ["G2", "", 2]],
                       trailing_tab=False)
    with pytest.raises(DeepChromeError, match="no value for any gene") as err:
        cell_labels(genes(["G1", "G2"]), read_expression(path), "E003", source=path)
    assert str(path) in str(err.value)
    with pytest.raises(DeepChromeError, match="no column 'E999'"):
        cell_labels(genes(["G1"]), read_expression(path), "E999", source=path)


def test_real_medians_on_the_paper_gene_list():
    gene_list = read_genes(shared_file("roadmap", "deepchrome_genes_hg19_tss_pm10kb.bed"))
    expr = read_expression(shared_file("roadmap", "57epigenomes.RPKM.pc.gz"))
    for cell, median in (("E003", 3.33), ("E123", 1.6085)):
        table, info = cell_labels(gene_list, expr, cell)
        assert info["median_rpkm"] == pytest.approx(median)
        assert len(table) == 19802


def test_real_labels_match_published_e123():
    published = pd.read_csv(shared_file("real", "E123", "genes.tsv"), sep="\t")
    gene_list = read_genes(shared_file("roadmap", "deepchrome_genes_hg19_tss_pm10kb.bed"))
    table, _ = cell_labels(gene_list, read_expression(shared_file("roadmap", "57epigenomes.RPKM.pc.gz")), "E123")
    ours = table.set_index("gene_id").loc[published["gene_id"]]
    np.testing.assert_allclose(ours["rpkm"], published["rpkm"])
    assert (ours["label"].to_numpy() == published["label"].to_numpy()).all()
