"""Downloads against a real HTTP server on loopback that honours Range and can misbehave on request."""

import hashlib

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
    assert download_path("https://egg2.wustl.edu/roadmap/data/x.gz") == "resources/downloads/egg2.wustl.edu/roadmap/data/x.gz"


def test_served_truncated_gzip_is_not_saved(server, tmp_path):
    # The server's copy is cut (its length matches what it sends): only the gzip end-of-stream marker tells.
    import gzip

    data = gzip.compress(PAYLOAD * 3)
    (server.root / "c.gz").write_bytes(data[: len(data) // 2])
    with pytest.raises(DeepChromeError, match="truncated") as err:
        fetch(f"{server.url}/c.gz", tmp_path / "out" / "c.gz", backoff=0.01)
    assert f"{server.url}/c.gz" in str(err.value) and "download it again" in err.value.fix
    assert list((tmp_path / "out").iterdir()) == []
