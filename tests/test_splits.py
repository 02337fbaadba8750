import numpy as np
import pandas as pd
import pytest

from deepchrome.errors import DeepChromeError
from deepchrome.splits import chromosome_split, deepchrome_split, make_split
from deepchrome.annotation import read_genes
from conftest import shared_file


@pytest.mark.parametrize("n,sizes", [(9, (3, 3, 3)), (10, (4, 4, 2)), (11, (4, 4, 3)), (19802, (6601, 6601, 6600))])
def test_deepchrome_block_sizes(n, sizes):
    ids = [f"ENSG{i:011d}" for i in range(n)][::-1]  # given unsorted
    split = deepchrome_split(ids)
    assert tuple(split["split"].value_counts()[["train", "valid", "test"]]) == sizes
    assert split["gene_id"].is_monotonic_increasing
    assert (split["split"].iloc[: sizes[0]] == "train").all()


def test_paper_split_boundaries():
    genes = read_genes(shared_file("roadmap", "deepchrome_genes_hg19_tss_pm10kb.bed"))
    split = deepchrome_split(genes["gene_id"])
    assert split.loc[split["split"] == "valid", "gene_id"].iloc[0] == "ENSG00000132963"
    assert split.loc[split["split"] == "test", "gene_id"].iloc[0] == "ENSG00000172936"


def labels_for(n, seed=0):
    rng = np.random.default_rng(seed)
    ids = [f"G{i:04d}" for i in range(n)]
    genes = pd.DataFrame({"gene_id": ids, "chrom": rng.choice(["chr1", "chr2", "chr3"], n)})
    labels = pd.DataFrame({"a": rng.integers(0, 2, n), "b": rng.integers(0, 2, n)}, index=ids).astype(float)
    return genes, labels


def test_random_split_is_seeded_and_stratified():
    genes, labels = labels_for(600)
    one = make_split(genes, labels, "random", seed=3)
    assert one.equals(make_split(genes, labels, "random", seed=3))
    assert not one.equals(make_split(genes, labels, "random", seed=4))
    counts = one["split"].value_counts()
    assert abs(counts["train"] - 200) <= 2 and abs(counts["test"] - 200) <= 2
    on = labels.mean(axis=1).loc[one.set_index("gene_id").index]
    share = on.groupby(one.set_index("gene_id")["split"]).mean()
    assert share.max() - share.min() < 0.05


def test_genes_without_any_label_are_left_out():
    genes, labels = labels_for(30)
    labels.iloc[:5] = np.nan
    assert len(make_split(genes, labels, "deepchrome")) == 25


def test_chromosome_split():
    genes, labels = labels_for(300)
    split = make_split(genes, labels, "chromosome", valid_chromosomes=["2"], test_chromosomes=["chr3"])
    chrom = genes.set_index("gene_id").loc[split["gene_id"], "chrom"].to_numpy()
    assert set(split.loc[chrom == "chr2", "split"]) == {"valid"}
    assert set(split.loc[chrom == "chr3", "split"]) == {"test"}
    with pytest.raises(DeepChromeError, match="no gene for test"):
        chromosome_split(genes["gene_id"], genes["chrom"], ["chr2"], ["chr9"])


# ---- finding 3: the split never depends on which cells a run chooses --------------------------------

def planned_jobs(out) -> dict[str, int]:
    """rule -> job count from a dry run's 'Job stats' table."""
    lines = out.stdout.splitlines()
    start = next((i for i, line in enumerate(lines) if line.startswith("job ")), None)
    if start is None:
        return {}
    jobs = {}
    for line in lines[start + 2:]:
        parts = line.split()
        if len(parts) != 2 or parts[0] == "total":
            break
        jobs[parts[0]] = int(parts[1])
    return jobs


@pytest.mark.slow  # runs the split's jobs in two workflows
def test_split_does_not_depend_on_the_chosen_cells(tmp_path, small_data, method="random"):
    from conftest import own_config, snakemake

    subset, full = tmp_path / "subset", tmp_path / "full"
    for work in (subset, full):
        work.mkdir()
    args = ["--configfile", str(own_config(subset, small_data, split={"method": method, "seed": 3}))]
    out = snakemake("results/split.tsv", "results/cellA/labels.tsv", *args, "--config", "cells=cellA", workdir=subset)
    assert out.returncode == 0, out.stderr[-3000:]
    # A plain run afterwards only builds what is missing: the other cells' labels, never the split again.
    plan = planned_jobs(snakemake("-n", "results/split.tsv", "results/cellB/labels.tsv", *args, workdir=subset))
    assert plan == {"labels": 1}, plan
    full_args = ["--configfile", str(own_config(full, small_data, split={"method": method, "seed": 3}))]
    out = snakemake("results/split.tsv", *full_args, workdir=full)
    assert out.returncode == 0, out.stderr[-3000:]
    assert (subset / "results/split.tsv").read_bytes() == (full / "results/split.tsv").read_bytes()
