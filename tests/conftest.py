"""Shared test fixtures: where the real data in ../shared is, and small real files."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest

from deepchrome.dataset import CellData

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"


def shared_file(*parts: str) -> Path:
    """A file of ../shared/data, or skip the test with the reason."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"real data {path} is absent (../shared is only on developer and CI machines)")
    return path


def write_gtf(path: Path, genes: list[tuple[str, str, int, int, str]], gene_type: str = "protein_coding") -> Path:
    """A GENCODE-style GTF (gzip when the name ends in .gz) of (gene_id, chrom, start1, end1, strand) genes."""
    lines = []
    for gid, chrom, start, end, strand in genes:
        attrs = f'gene_id "{gid}"; gene_type "{gene_type}"; gene_name "N{gid[-4:]}";'
        lines.append(f"{chrom}\tDEMO\tgene\t{start}\t{end}\t.\t{strand}\t.\t{attrs}")
        lines.append(f"{chrom}\tDEMO\ttranscript\t{start}\t{end}\t.\t{strand}\t.\t{attrs} transcript_id \"T{gid}\";")
    text = "\n".join(lines) + "\n"
    if path.suffix == ".gz":
        with gzip.open(path, "wt") as f:
            f.write(text)
    else:
        path.write_text(text)
    return path


# Training parameters that keep CNN tests quick (overrides of the default preset).
FAST = {"epochs": 6, "patience": None, "batch_size": 32}


def synthetic_cell(n_genes: int = 300, seed: int = 0) -> CellData:
    """Poisson counts; ON genes (half) carry extra H3K4me3 (mark 0) over bins 41-60; split 60/20/20 %."""
    rng = np.random.default_rng(seed)
    y = (np.arange(n_genes) % 2).astype(np.int64)
    X = rng.poisson(2.0, size=(n_genes, 5, 100)).astype(np.float32)
    X[:, 0, 40:60] += rng.poisson(6.0, size=(n_genes, 20)) * y[:, None]
    split = rng.permutation(np.repeat(["train", "valid", "test"], [n_genes * 3 // 5, n_genes // 5, n_genes // 5]))
    return CellData(X=X, y=y, gene_id=np.array([f"g{i}" for i in range(n_genes)]), split=split,
                    marks=["H3K4me3", "H3K4me1", "H3K36me3", "H3K9me3", "H3K27me3"])


class FileServer:
    """A real HTTP server on loopback serving a folder, honouring Range, that can misbehave on request.

    ``faults[path]`` is a list of faults to play on the next requests of that URL path: ``"500"``
    (answer HTTP 500) or ``"cut"`` (send a third of the body, then close). Every request is recorded
    in ``requests`` as (path, Range header or None).
    """

    def __init__(self, root: Path):
        import http.server
        import threading

        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                path = self.path.split("?")[0]
                server.requests.append((path, self.headers.get("Range")))
                faults = server.faults.get(path, [])
                fault = faults.pop(0) if faults else None
                target = server.root / path.lstrip("/")
                if fault == "500":
                    self.send_error(500)
                    return
                if not target.is_file():
                    self.send_error(404)
                    return
                data = target.read_bytes()
                start = int(self.headers["Range"].split("=")[1].split("-")[0]) if "Range" in self.headers else 0
                body = data[start:]
                self.send_response(206 if start else 200)
                if start:
                    self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
                self.send_header("Accept-Ranges", "bytes")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if fault == "cut":
                    self.wfile.write(body[: len(body) // 3])
                    self.wfile.flush()
                    self.connection.shutdown(2)
                    return
                self.wfile.write(body)

        self.root = Path(root)
        self.faults: dict[str, list[str]] = {}
        self.requests: list[tuple[str, str | None]] = []
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def file_server(tmp_path):
    """A FileServer over ``tmp_path / "www"``."""
    root = tmp_path / "www"
    root.mkdir()
    server = FileServer(root)
    yield server
    server.close()
