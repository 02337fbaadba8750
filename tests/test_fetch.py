"""Downloads against a real HTTP server on loopback that honours Range and can misbehave on request."""

import hashlib
from pathlib import Path

import pytest

from deepchrome.errors import DeepChromeError
from deepchrome.fetch import download_path, fetch, is_url

PAYLOAD = bytes(range(256)) * 4000  # ~1 MB


@pytest.fixture
def server(file_server):
    (file_server.root / "a.bin").write_bytes(PAYLOAD)
    (file_server.root / "b.bin").write_bytes(PAYLOAD)
    return file_server


def test_plain_download_and_checksum(server, tmp_path):
    out_dir = tmp_path / "out"
    digest = hashlib.sha256(PAYLOAD).hexdigest()
    out = fetch(f"{server.url}/a.bin", out_dir / "a.bin", sha256=digest, backoff=0.01)
    assert out.read_bytes() == PAYLOAD
    with pytest.raises(DeepChromeError, match="sha256"):
        fetch(f"{server.url}/b.bin", out_dir / "b.bin", sha256="0" * 64, backoff=0.01)
    assert list(out_dir.iterdir()) == [out_dir / "a.bin"]
    fetch(f"{server.url}/a.bin", out_dir / "a.bin", sha256=digest)  # present and valid: no request
    assert len(server.requests) == 2


def test_server_error_is_retried(server, tmp_path):
    server.faults["/a.bin"] = ["500"]
    assert fetch(f"{server.url}/a.bin", tmp_path / "a.bin", backoff=0.01).read_bytes() == PAYLOAD
    assert [r[0] for r in server.requests] == ["/a.bin", "/a.bin"]


def test_cut_transfer_resumes_with_range(server, tmp_path):
    server.faults["/a.bin"] = ["cut"]
    assert fetch(f"{server.url}/a.bin", tmp_path / "a.bin", backoff=0.01).read_bytes() == PAYLOAD
    assert server.requests[0][1] is None and server.requests[1][1].startswith("bytes=")


def test_404_names_the_url_and_leaves_nothing(server, tmp_path):
    url = f"{server.url}/missing.bin"
    out_dir = tmp_path / "out"
    with pytest.raises(DeepChromeError, match="HTTP 404") as err:
        fetch(url, out_dir / "missing.bin", backoff=0.01)
    assert url in str(err.value)
    assert not out_dir.exists() or list(out_dir.iterdir()) == []


def test_file_urls_and_paths(tmp_path):
    src = tmp_path / "src.txt"
    src.write_text("hello")
    assert is_url(f"file://{src}") and not is_url(str(src))
    assert fetch(f"file://{src}", tmp_path / "out" / "x.txt").read_text() == "hello"
    local = download_path("https://egg2.wustl.edu/roadmap/data/x.gz")
    assert local.startswith("resources/downloads/egg2.wustl.edu/") and local.endswith("/x.gz")


ESCAPES = [
    "http://h/x/../../../../../../../ESCAPED.bigwig",
    "http://h/x/%2e%2e/%2E%2E/%2e%2e/ESCAPED.bigwig",
    "http://h/x/..%2f..%2f..%2fESCAPED.bigwig",
    "http://h/x/%252e%252e%252f%252e%252e%252fESCAPED.bigwig",
    "http://h/x/..\\..\\..\\ESCAPED.bigwig",
    "http://h/x/..%5c..%5cESCAPED.bigwig",
    "http://h//etc/passwd",
    "http://h/%2fetc%2fpasswd",
    "file:///etc/passwd",
    "http://h/x/..",
    "http://h/x/.bashrc",
    "http://h/",
    "http://h",
    "http://../ESCAPED.bigwig",
    "http://%2e%2e/ESCAPED.bigwig",
    "http://user:pw@../x",
    "http://h:8080/a//b///c.bigwig",
    "ftp://h/a b/c d.gz",
]


@pytest.mark.parametrize("url", ESCAPES)
def test_no_url_leads_outside_the_downloads(url, tmp_path):
    root = tmp_path / "resources" / "downloads"
    local = download_path(url, str(root))
    assert Path(local).resolve().is_relative_to(root.resolve()), (url, local)
    parts = local[len(str(root)) + 1:].split("/")
    assert len(parts) == 3 and all(p and not p.startswith(".") for p in parts), (url, local)
    assert "\\" not in local and "%" not in local


def test_different_urls_never_share_a_file():
    urls = ["http://h/track.bigwig?f=A", "http://h/track.bigwig?f=B", "http://h/track.bigwig",
            "http://h/a/track.bigwig", "http://h:81/track.bigwig", "https://h/track.bigwig", "http://h/track.bigwig#x"]
    paths = [download_path(u) for u in urls]
    assert len(set(paths)) == len(urls), paths
    assert all(p.endswith("/track.bigwig") for p in paths)  # the suffix tells the readers the file type
    assert download_path(urls[0]) == paths[0]  # stable across runs


def test_served_truncated_gzip_is_not_saved(server, tmp_path):
    # The server's copy is cut (its length matches what it sends): only the gzip end-of-stream marker tells.
    import gzip

    data = gzip.compress(PAYLOAD * 3)
    (server.root / "c.gz").write_bytes(data[: len(data) // 2])
    with pytest.raises(DeepChromeError, match="truncated") as err:
        fetch(f"{server.url}/c.gz", tmp_path / "out" / "c.gz", backoff=0.01)
    assert f"{server.url}/c.gz" in str(err.value) and "download it again" in err.value.fix
    assert list((tmp_path / "out").iterdir()) == []


@pytest.mark.slow  # downloads and builds features in the workflow
def test_workflow_downloads_stay_inside_and_apart(server, tmp_path, small_data):
    """Through the workflow: two marks' URLs that differ only in the query, with '..' and '%2e%2e' in their
    paths, are two downloads, both under resources/downloads/, and the two marks' features are built from them."""
    import pandas as pd

    from conftest import own_config, snakemake

    (server.root / "x" / "%2e%2e").mkdir(parents=True)  # the test server does not decode paths: serve both
    for served in (server.root / "track.bigwig", server.root / "x" / "%2e%2e" / "track.bigwig"):
        served.write_bytes((small_data / "cellA-H3K4me3.bigwig").read_bytes())
    work = tmp_path / "run"
    work.mkdir()
    args = ["--configfile", str(own_config(work, small_data))]
    samples = pd.read_csv(work / "samples.tsv", sep="\t")
    urls = {"H3K4me3": f"{server.url}/x/../track.bigwig?f=A", "H3K4me1": f"{server.url}/x/%2e%2e/track.bigwig?f=B"}
    for mark, url in urls.items():
        samples.loc[(samples["cell"] == "cellA") & (samples["mark"] == mark), "signal"] = url
    samples.to_csv(work / "samples.tsv", sep="\t", index=False)
    before = set(tmp_path.rglob("*"))
    out = snakemake(*(f"results/cellA/marks/{mark}.npy" for mark in urls), *args, workdir=work)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    new = {p for p in set(tmp_path.rglob("*")) - before if p.is_file()}
    assert all(p.is_relative_to(work) for p in new), sorted(new)  # nothing written outside the run
    downloads = {p for p in new if p.name == "track.bigwig"}
    assert {download_path(u, str(work / "resources" / "downloads")) for u in urls.values()} == {str(p) for p in downloads}
    assert all(p.is_relative_to(work / "resources" / "downloads") for p in downloads) and len(downloads) == 2
    assert len(server.requests) == 2
