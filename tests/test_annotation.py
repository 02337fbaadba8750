import pytest

from deepchrome.annotation import build_windows, match_chroms, read_genes
from deepchrome.ids import strip_version
from deepchrome.errors import DeepChromeError
from conftest import shared_file, write_gtf


@pytest.fixture
def sizes(tmp_path):
    path = tmp_path / "chrom.sizes"
    path.write_text("chr1\t100000\nchr2\t50000\n")
    return path


def test_tss_follows_strand(tmp_path):
    gtf = write_gtf(tmp_path / "a.gtf.gz", [("ENSG00000000001.5", "chr1", 20001, 30000, "+"),
                                             ("ENSG00000000002.1", "chr1", 40001, 50000, "-")])
    genes = read_genes(gtf).set_index("gene_id")
    # GTF is 1-based inclusive: '+' TSS = start (0-based start - 1 + 1), '-' TSS = last base.
    assert genes.loc["ENSG00000000001", "tss"] == 20000
    assert genes.loc["ENSG00000000002", "tss"] == 49999
    assert list(genes["strand"]) == ["+", "-"]


def test_off_chromosome_genes_dropped(tmp_path, sizes, caplog):
    inside = [(f"ENSG{i}.1", "chr1", 20001 + 1000 * i, 21000 + 1000 * i, "+") for i in range(5, 9)]
    gtf = write_gtf(tmp_path / "a.gtf", [("ENSG1.1", "chr1", 3001, 9000, "+"),       # window starts < 0
                                          ("ENSG2.1", "chr1", 50001, 60000, "+"),     # inside
                                          ("ENSG3.1", "chr2", 40001, 47000, "-"),     # TSS 46999 + 5000 > 50000
                                          ("ENSG4.1", "chrUn", 50001, 60000, "+"),    # not in sizes
                                          *inside])
    with caplog.at_level("INFO"):
        win = build_windows(gtf, sizes)
    assert list(win["gene_id"]) == ["ENSG5", "ENSG6", "ENSG7", "ENSG8", "ENSG2"]
    assert (win["start"].iloc[-1], win["end"].iloc[-1]) == (45000, 55000)
    assert "5 windows kept, 2 dropped as their window leaves the chromosome" in caplog.text
    assert "1 dropped as their chromosome is not in the chromosome sizes" in caplog.text
    # 3 of 8 lost (above 5 %): a warning with the counts and the first lost IDs
    assert "5 of 8 genes have a whole window inside the chromosome sizes (3 lost, 37.5%; first: ENSG1, ENSG3, " \
           "ENSG4)" in caplog.text
    assert win.attrs["counts"] == {"annotation_genes": 8, "genes": 8, "windows": 5, "outside_chromosome": 2,
                                   "chromosome_not_in_sizes": 1}


def test_chrom_sizes_of_another_build_stop_when_half_the_genes_are_lost(tmp_path):
    """Chromosome sizes halved: most windows lie past the chromosome ends: one error with the counts, not a run
    on the remnant."""
    genes = [(f"ENSG{i}.1", "chr1", 10_001 + 5_000 * i, 12_000 + 5_000 * i, "+") for i in range(10)]
    gtf = write_gtf(tmp_path / "a.gtf", genes)
    half = tmp_path / "half.sizes"
    half.write_text("chr1\t30000\n")
    with pytest.raises(DeepChromeError) as err:
        build_windows(gtf, half)
    assert str(err.value).startswith(f"{gtf}: only 4 of 10 genes have a whole window inside the chromosome sizes "
                                     "(6 lost, 60.0%; first: ENSG4, ENSG5, ENSG6, ENSG7, ENSG8, ...): fewer than half")
    assert "genome build" in err.value.fix


def test_restricting_to_an_expression_table_of_other_ids_stops(tmp_path, sizes):
    gtf = write_gtf(tmp_path / "a.gtf", [(f"ENSG{i}.1", "chr1", 20001 + 1000 * i, 21000 + 1000 * i, "+")
                                         for i in range(4)])
    with pytest.raises(DeepChromeError, match=r"only 1 of 4 genes are in the expression table.*first: ENSG1, ENSG2"):
        build_windows(gtf, sizes, keep_ids=["ENSG0", "OTHER1"])
    assert build_windows(gtf, sizes, keep_ids=["ENSG0", "ENSG1"]).attrs["counts"]["in_expression"] == 2


def test_chrom_names_matched(tmp_path, sizes):
    gtf = write_gtf(tmp_path / "a.gtf", [("ENSG1.1", "1", 50001, 60000, "+"), ("ENSG2.1", "2", 20001, 30000, "-")])
    win = build_windows(gtf, sizes)
    assert list(win["chrom"]) == ["chr1", "chr2"]
    assert match_chroms(["MT", "chrX"], ["chrM", "X"]) == {"MT": "chrM", "chrX": "X"}


def test_no_common_chromosome_is_an_error(tmp_path, sizes):
    gtf = write_gtf(tmp_path / "a.gtf", [("ENSG1.1", "scaffold_7", 50001, 60000, "+")])
    with pytest.raises(DeepChromeError, match="no chromosome of the annotation") as err:
        build_windows(gtf, sizes)
    assert str(gtf) in str(err.value) and "Fix:" in str(err.value)


def test_bed_list_duplicates_keyed_by_name_and_strandless(tmp_path, sizes):
    bed = tmp_path / "genes.bed"
    bed.write_text("chr1\t20000\t40000\tENSG00000000005_A\n"
                   "chr1\t20000\t40000\tENSG00000000005_B\n"
                   "chr1\t50000\t70000\tENSG00000000007_C\n")
    genes = read_genes(bed)
    assert list(genes["gene_id"]) == ["ENSG00000000005_A", "ENSG00000000005_B", "ENSG00000000007"]
    assert list(genes["tss"]) == [30000, 30000, 60000]
    assert list(genes["ensembl"]) == ["ENSG00000000005"] * 2 + ["ENSG00000000007"]
    with pytest.raises(DeepChromeError, match="bin_order: genome"):
        build_windows(bed, sizes, bin_order="strand")
    assert len(build_windows(bed, sizes, bin_order="genome")) == 3


def test_gene_types_filter_and_versions(tmp_path):
    gtf = write_gtf(tmp_path / "a.gtf", [("ENSG00000182378.14_PAR_Y", "chrY", 100001, 110000, "+")], gene_type="lncRNA")
    assert strip_version("ENSG00000182378.14_PAR_Y") == "ENSG00000182378_PAR_Y"
    assert read_genes(gtf)["gene_id"].tolist() == ["ENSG00000182378_PAR_Y"]
    with pytest.raises(DeepChromeError, match="gene_types"):
        read_genes(gtf, ["protein_coding"])


def test_paper_gene_list():
    genes = read_genes(shared_file("roadmap", "deepchrome_genes_hg19_tss_pm10kb.bed"))
    assert len(genes) == 19802 and genes["gene_id"].is_unique
    assert genes["ensembl"].nunique() == 19795


def test_gtf_mixing_gene_lines_and_transcript_only_genes_keeps_both(tmp_path):
    gtf = write_gtf(tmp_path / "a.gtf", [("ENSG00000000001.1", "chr1", 20001, 30000, "+"),
                                          ("ENSG00000000002.1", "chr1", 40001, 50000, "-")])
    # a third gene with two transcripts and no gene line, on '-': it spans both, its TSS is the larger end
    text = gtf.read_text()
    for start, end in ((60001, 65000), (61001, 70000)):
        text += (f'chr1\tDEMO\ttranscript\t{start}\t{end}\t.\t-\t.\tgene_id "ENSG00000000003.2"; '
                 f'gene_type "protein_coding"; gene_name "THREE"; transcript_id "T{start}";\n')
    gtf.write_text(text)
    genes = read_genes(gtf).set_index("gene_id")
    assert list(genes.index) == ["ENSG00000000001", "ENSG00000000002", "ENSG00000000003"]
    assert genes.loc["ENSG00000000003", "tss"] == 69999 and genes.loc["ENSG00000000003", "strand"] == "-"
    assert genes.loc["ENSG00000000001", "tss"] == 20000


@pytest.mark.parametrize("text", ["", "chr1\tlong\n"], ids=["empty", "words"])
def test_unreadable_chromosome_sizes_are_named(tmp_path, text):
    from deepchrome.annotation import read_chrom_sizes

    path = tmp_path / "chrom.sizes"
    path.write_text(text)
    with pytest.raises(DeepChromeError) as err:
        read_chrom_sizes(path)
    assert str(path) in str(err.value) and str(err.value).count("Fix:") == 1


def test_a_file_that_is_not_a_gtf_is_named(tmp_path):
    path = tmp_path / "genes.gtf"
    path.write_text("hello\tworld\n")
    with pytest.raises(DeepChromeError) as err:
        read_genes(path)
    assert str(path) in str(err.value) and str(err.value).count("Fix:") == 1
