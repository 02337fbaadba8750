"""Features files and the published processed-data format (read, write, round trip, bad files)."""

import numpy as np
import pytest

from deepchrome.dataset import (PUBLISHED_MARKS, SPLITS, export_published_cell, feature_description,
                                find_published_cells, load_cell, load_published_cell, read_published_csv, save_cell,
                                save_features, unpack_archive, write_published_csv)
from deepchrome.errors import DeepChromeError
from conftest import shared_file

MARKS = ["H3K4me3", "H3K4me1", "H3K36me3", "H3K9me3", "H3K27me3"]
BINS = {"bin_size": 100, "bin_order": "strand", "input": "signal"}


def gene_rows(gene, label, offset=0, bins=100):
    return [f"{gene},{b},{b + offset},{2 * b},{3},{4 * b + offset},{0},{label}" for b in range(1, bins + 1)]


def write(path, lines, newline="\n", final=True):
    path.write_bytes((newline.join(lines) + (newline if final else "")).encode())
    return path


def test_reads_crlf_unpadded_ids_and_no_final_newline(tmp_path):
    path = write(tmp_path / "a.csv", gene_rows("3", 1) + gene_rows("130749", 0, 5), newline="\r\n", final=False)
    X, gene_id, y = read_published_csv(path)
    assert X.shape == (2, 5, 100) and X.dtype == np.float32
    assert list(gene_id) == ["000003", "130749"] and list(y) == [1, 0]
    assert X[1, 0, 0] == 6 and X[0, 3, 99] == 400  # H3K27me3 bin 1 of gene 2; H3K4me3 bin 100 of gene 1


def test_gene_listed_twice_is_two_genes(tmp_path):
    write(tmp_path / "train.csv", gene_rows("062370", 1) + gene_rows("062370", 0, 1) + gene_rows("5", 0))
    write(tmp_path / "valid.csv", gene_rows("9", 1) + gene_rows("8", 0))
    write(tmp_path / "test.csv", gene_rows("062370", 1) + gene_rows("6", 0))
    _, gene_id, y = read_published_csv(tmp_path / "train.csv")
    assert list(gene_id) == ["062370", "062370", "000005"] and list(y) == [1, 0, 0]
    cell = load_published_cell(find_published_cells(tmp_path)[tmp_path.name], MARKS)
    assert list(cell.gene_id) == ["062370", "062370_2", "000005", "000009", "000008", "062370_3", "000006"]


@pytest.mark.parametrize("lines,message", [
    ([], "empty"),
    (gene_rows("1", 1)[:99] + gene_rows("2", 1)[:1], "consecutive rows"),
    (gene_rows("1", 1)[:50] + gene_rows("1", 1)[51:] + gene_rows("1", 1)[:1], "consecutive rows"),
    ([r.replace(",3,", ",x,") if i == 7 else r for i, r in enumerate(gene_rows("1", 1))], "line 8"),
    (gene_rows("1", 1)[:50] + gene_rows("1", 0)[50:], "more than one label"),
])
def test_bad_files_name_file_and_line(tmp_path, lines, message):
    path = tmp_path / "bad.csv"
    path.write_text("\n".join(lines))
    with pytest.raises(DeepChromeError, match=message) as err:
        read_published_csv(path)
    assert str(path) in str(err.value) and "Fix:" in str(err.value)


def test_round_trip_and_carved_validation(tmp_path):
    rng = np.random.default_rng(0)
    root = tmp_path / "data" / "E999" / "classification"
    root.mkdir(parents=True)
    for split, n in (("train", 50), ("test", 20)):
        lines = []
        for g in range(n):
            lines += gene_rows(str(rng.integers(1, 999999)) if g else "7", g % 2, offset=int(rng.integers(9)))
        write(root / f"{split}.csv", lines)
    files = find_published_cells(tmp_path / "data")
    assert list(files) == ["E999"] and "valid" not in files["E999"]
    cell = load_published_cell(files["E999"], MARKS, seed=1)
    counts = {s: int((cell.split == s).sum()) for s in SPLITS}
    assert counts == {"train": 40, "valid": 10, "test": 20}
    assert cell.y[cell.split == "valid"].mean() == pytest.approx(0.5)  # stratified
    assert list(cell.marks) == MARKS
    again = load_published_cell(files["E999"], MARKS, seed=1)
    assert (again.gene_id == cell.gene_id).all()

    # through the workflow's files and back out in the published format
    save_cell(cell, tmp_path / "f.npz", tmp_path / "l.tsv", tmp_path / "s.tsv")
    loaded = load_cell(tmp_path / "f.npz", tmp_path / "l.tsv", tmp_path / "s.tsv")
    export_published_cell(loaded, tmp_path / "out" / "E999" / "classification")
    back = load_published_cell(find_published_cells(tmp_path / "out")["E999"], MARKS)
    order = np.argsort(loaded.gene_id)
    back_order = np.argsort(back.gene_id)
    np.testing.assert_array_equal(back.X[back_order], loaded.X[order])
    np.testing.assert_array_equal(back.y[back_order], loaded.y[order])
    np.testing.assert_array_equal(back.split[back_order], loaded.split[order])


def test_export_restores_genome_order_and_column_order(tmp_path):
    X = np.arange(2 * 5 * 100, dtype=np.float32).reshape(2, 5, 100)
    path = tmp_path / "x.csv"
    write_published_csv(path, X, ["ENSG00000000003", "ENSG00000000005_TNMD"], [1, 0], MARKS)
    first = path.read_text().splitlines()[0].split(",")
    assert first[0] == "000003" and first[1] == "1"
    # columns alphabetical: H3K27me3 is MARKS[4]
    assert [int(v) for v in first[2:7]] == [int(X[0, MARKS.index(m), 0]) for m in PUBLISHED_MARKS]


def test_unpack_archive(tmp_path):
    import tarfile

    src = tmp_path / "E1" / "classification"
    src.mkdir(parents=True)
    write(src / "train.csv", gene_rows("1", 1) + gene_rows("2", 0))
    write(src / "test.csv", gene_rows("3", 1) + gene_rows("4", 0))
    with tarfile.open(tmp_path / "data.tar.gz", "w:gz") as tar:
        tar.add(tmp_path / "E1", arcname="data/E1")
    unpack_archive(tmp_path / "data.tar.gz", tmp_path / "unpacked")
    assert list(find_published_cells(tmp_path / "unpacked" / "data")) == ["E1"]
    (tmp_path / "broken.tar.gz").write_bytes((tmp_path / "data.tar.gz").read_bytes()[:100])
    with pytest.raises(DeepChromeError, match="cannot unpack"):
        unpack_archive(tmp_path / "broken.tar.gz", tmp_path / "never")
    assert not (tmp_path / "never").exists()


def test_features_file_contract(tmp_path):
    with pytest.raises(ValueError, match="unique"):
        save_features(tmp_path / "f.npz", np.zeros((2, 5, 100)), ["a", "a"], MARKS, BINS)


def test_features_file_describes_its_bins(tmp_path):
    """A features file carries how it was made (as deepTools' matrix carries its parameters); one without it is
    one clear error naming the file."""
    bins = {"bin_size": 200, "bin_order": "genome", "input": "reads"}
    save_features(tmp_path / "f.npz", np.zeros((2, 5, 50)), ["a", "b"], MARKS, bins)
    assert feature_description(tmp_path / "f.npz") == {"marks": MARKS, "bins": 50, **bins}
    np.savez_compressed(tmp_path / "old.npz", X=np.zeros((2, 5, 50), np.float32), gene_id=np.array(["a", "b"]),
                        marks=np.array(MARKS))
    with pytest.raises(DeepChromeError, match="old.npz.*records no description"):
        feature_description(tmp_path / "old.npz")


def test_real_e123_and_slice():
    e123 = load_published_cell(find_published_cells(shared_file("real", "E123"))["E123"], MARKS)
    assert e123.X.shape == (600, 5, 100) and {s: int((e123.split == s).sum()) for s in SPLITS} == \
        {"train": 320, "valid": 80, "test": 200}
    # H3K4me3 is exactly twice the read count in the published files: always even
    assert (e123.X[:, 0] % 2 == 0).all()
    cells = find_published_cells(shared_file("real", "E123_slice"))
    piece = load_published_cell(cells["E123_slice"], MARKS)
    assert piece.X.shape == (30, 5, 100) and all(len(g) == 6 for g in piece.gene_id)
