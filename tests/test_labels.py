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
        cell_labels(genes(["G1", "G2"]), read_expression(path, missing_values=[""]), "E003", source=path)
    assert str(path) in str(err.value)
    with pytest.raises(DeepChromeError, match="no column 'E999'"):
        read_expression(path, ["E999"])


def rpkm_with(tmp_path, low_value, n=40):
    """A table whose lower half of E003 is ``low_value`` (a word or a number) and upper half 10..."""
    rows = [[f"G{i}", low_value if i < n // 2 else 10 + i, i] for i in range(n)]
    return write_table(tmp_path / "rpkm.tsv.gz", ["gene_id", "E003", "E004"], rows)


@pytest.mark.parametrize("word", ["n.d.", "NA", "nan", "inf", "", "<0.1"])
def test_non_numeric_values_are_an_error_naming_the_lines(tmp_path, word):
    # Finding 2: such values were silently dropped, moving the median and flipping labels.
    path = rpkm_with(tmp_path, word)
    with pytest.raises(DeepChromeError, match="not numbers") as err:
        read_expression(path)
    message = str(err.value)
    assert str(path) in message and "line 2 (G0)" in message and "line 6 (G4)" in message and "15 more" in message
    assert "missing_values" in message


def test_missing_values_setting_names_words_to_leave_out(tmp_path):
    table = read_expression(rpkm_with(tmp_path, "n.d."), ["E003"], missing_values=["n.d."])
    assert table["E003"].isna().sum() == 20 and list(table.columns) == ["E003"]


def test_decimal_commas_are_named(tmp_path):
    path = rpkm_with(tmp_path, "2,45")
    with pytest.raises(DeepChromeError, match="decimal commas") as err:
        read_expression(path)
    assert "gene" not in str(err.value).split("Fix")[1].lower()  # the fix does not blame the gene IDs


def test_gene_listed_twice_names_both_lines(tmp_path):
    path = write_table(tmp_path / "rpkm.tsv.gz", ["gene_id", "E003"], [["G1.1", 1], ["G2", 2], ["G1.2", 3]])
    with pytest.raises(DeepChromeError, match=r"G1 is listed twice \(lines 2, 4"):
        read_expression(path)


def test_truncated_gzip_says_download_again(tmp_path):
    # Finding 11: a cut rpkm.tsv.gz must say to download it again.
    path = rpkm_with(tmp_path, 1.5, n=4000)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(DeepChromeError, match="truncated") as err:
        read_expression(path)
    assert "download" in str(err.value) and str(path) in str(err.value)


@pytest.mark.parametrize("values", [[0.0] * 6, [3.0] * 6])
def test_constant_column_leaves_a_class_empty(values):
    # Finding 7: an all-zero column gave 0 ON genes and a failure much later.
    expr = pd.DataFrame({"c": values}, index=[f"G{i}" for i in range(6)])
    with pytest.raises(DeepChromeError, match="one class .* is empty"):
        cell_labels(genes([f"G{i}" for i in range(6)]), expr, "c", source="rpkm.tsv")


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


def test_expression_table_of_other_ids_stops_with_the_counts(caplog):
    """90% of the annotation's genes unmatched: an error with the counts and the first unmatched IDs; 10%
    unmatched: a console warning, and the counts in the summary."""
    ids = [f"ENSG{i:03d}" for i in range(100)]
    rpkm = np.arange(100, dtype=float)
    matched = pd.DataFrame({"c": rpkm[:10]}, index=ids[:10])
    with pytest.raises(DeepChromeError) as err:
        cell_labels(genes(ids), matched, "c", source="rpkm.tsv")
    assert str(err.value).startswith("rpkm.tsv: only 10 of 100 genes of the annotation have a value in column 'c' "
                                      "(cell c) (90 lost, 90.0%; first: ENSG010, ENSG011, ENSG012, ENSG013, ENSG014, "
                                      "...): fewer than half")
    assert "same gene IDs" in err.value.fix
    with caplog.at_level("WARNING"):
        _, info = cell_labels(genes(ids), pd.DataFrame({"c": rpkm[:90]}, index=ids[:90]), "c", source="rpkm.tsv")
    assert "90 of 100 genes of the annotation have a value" in caplog.text
    assert info["n_labelled"] == 90 and info["n_dropped_no_value"] == 10 and info["first_dropped"][0] == "ENSG090"


def test_median_rpkm_of_zero_is_named():
    """Only 10 of 200 genes expressed: the median is 0 and the ON class tiny: the cell and the cause named."""
    rpkm = np.r_[np.arange(1.0, 11.0), np.zeros(190)]
    expr = pd.DataFrame({"E1": rpkm}, index=[f"G{i}" for i in range(200)])
    with pytest.raises(DeepChromeError, match=r"column 'E1' \(cell cellX\): the median RPKM is 0 \(190 of 200 genes "
                                              r"have RPKM 0\), so only 10 genes are above it \(ON\)"):
        cell_labels(genes([f"G{i}" for i in range(200)]), expr, "cellX", column="E1")


def test_gene_ids_match_in_every_form():
    """`snakemake explain --config genes=...`: the full ID, its version and the processed files' number match."""
    from deepchrome.ids import gene_key, gene_rows

    ids = ["196932", "130749", "ENSG00000000003_PAR_Y", "TP53"]
    for query, row in (("ENSG00000130749", 1), ("ENSG00000130749.5", 1), ("130749", 1), ("ensg00000196932", 0),
                       ("ENSG00000000003_PAR_Y", 2), ("TP53", 3)):
        assert gene_rows(query, ids) == [row], query
    assert gene_rows("ENSG00000000003", ids) == [] and gene_key("ENSG00000141510.2") == "141510"


def test_gene_ids_of_the_published_processed_files():
    """The published E123 files key genes by the ENSG number: the full IDs of its gene table find them."""
    from deepchrome.ids import gene_rows

    processed = pd.read_csv(shared_file("real", "E123", "test.csv"), header=None, usecols=[0])[0].astype(str).unique()
    table = pd.read_csv(shared_file("real", "E123", "genes.tsv"), sep="\t")
    test_genes = table[table["deepchrome_split"] == "test"]["gene_id"].head(20)
    assert all(len(gene_rows(g, processed)) == 1 for g in test_genes)


def test_negative_values_and_a_header_without_rows_are_named(tmp_path):
    path = write_table(tmp_path / "rpkm.tsv.gz", ["gene_id", "E003"], [["G1", 1.0], ["G2", 2.0], ["G3", -1.5]])
    with pytest.raises(DeepChromeError, match="negative") as err:
        read_expression(path)
    assert str(path) in str(err.value) and "line 4" in str(err.value)
    empty = write_table(tmp_path / "empty.tsv.gz", ["gene_id", "E003", "E004"], [])
    with pytest.raises(DeepChromeError, match="no rows") as err:
        read_expression(empty)
    assert str(empty) in str(err.value) and str(err.value).count("Fix:") == 1
