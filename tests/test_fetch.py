"""Downloads against a real HTTP server on loopback that honours Range and can misbehave on request."""

import hashlib
import http.server
import threading

import pytest

from deepchrome.errors import DeepChromeError
from deepchrome.fetch import download_path, fetch, is_url

PAYLOAD = bytes(range(256)) * 4000  # ~1 MB


class Handler(http.server.BaseHTTPRequestHandler):
    faults: dict = {}  # path -> list of faults still to play: "500", "cut"
    ranges: list = []

    def log_message(self, *args):
        pass

    def do_GET(self):
        faults = self.faults.get(self.path, [])
        if self.path == "/missing.bin":
            self.send_error(404)
            return
        if faults and faults[0] == "500":
            faults.pop(0)
            self.send_error(500)
            return
        start = 0
        if "Range" in self.headers:
            self.ranges.append(self.headers["Range"])
            start = int(self.headers["Range"].split("=")[1].rstrip("-"))
        body = PAYLOAD[start:]
        self.send_response(206 if start else 200)
        if start:
            self.send_header("Content-Range", f"bytes {start}-{len(PAYLOAD) - 1}/{len(PAYLOAD)}")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if faults and faults[0] == "cut":
            faults.pop(0)
            self.wfile.write(body[: len(body) // 3])
            self.wfile.flush()
            self.connection.shutdown(2)  # the client sees a short transfer
            return
        self.wfile.write(body)


@pytest.fixture
def server():
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    Handler.faults, Handler.ranges = {}, []
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


def test_plain_download_and_checksum(server, tmp_path):
    digest = hashlib.sha256(PAYLOAD).hexdigest()
    out = fetch(f"{server}/a.bin", tmp_path / "a.bin", sha256=digest, backoff=0.01)
    assert out.read_bytes() == PAYLOAD
    with pytest.raises(DeepChromeError, match="sha256"):
        fetch(f"{server}/b.bin", tmp_path / "b.bin", sha256="0" * 64, backoff=0.01)
    assert list(tmp_path.iterdir()) == [tmp_path / "a.bin"]


def test_server_error_is_retried(server, tmp_path):
    Handler.faults["/a.bin"] = ["500"]
    assert fetch(f"{server}/a.bin", tmp_path / "a.bin", backoff=0.01).read_bytes() == PAYLOAD


def test_cut_transfer_resumes_with_range(server, tmp_path):
    Handler.faults["/a.bin"] = ["cut"]
    assert fetch(f"{server}/a.bin", tmp_path / "a.bin", backoff=0.01).read_bytes() == PAYLOAD
    assert len(Handler.ranges) == 1 and Handler.ranges[0].startswith("bytes=")


def test_404_names_the_url_and_leaves_nothing(server, tmp_path):
    url = f"{server}/missing.bin"
    with pytest.raises(DeepChromeError, match="HTTP 404") as err:
        fetch(url, tmp_path / "missing.bin", backoff=0.01)
    assert url in str(err.value)
    assert list(tmp_path.iterdir()) == []


def test_file_urls_and_paths(tmp_path):
    src = tmp_path / "src.txt"
    src.write_text("hello")
    assert is_url(f"file://{src}") and not is_url(str(src))
    assert fetch(f"file://{src}", tmp_path / "out" / "x.txt").read_text() == "hello"
    assert download_path("https://egg2.wustl.edu/roadmap/data/x.gz") == "resources/downloads/egg2.wustl.edu/roadmap/data/x.gz"
