"""Downloads that hold up: retries with back-off, resume by Range, size and checksum checks, atomic rename."""

from __future__ import annotations

import hashlib
import logging
import os
import re
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from .errors import DeepChromeError
from .io import check_gzip

log = logging.getLogger("deepchrome.fetch")

URL_SCHEMES = ("http", "https", "ftp", "file")
CHUNK = 1 << 20
PROGRESS_SECONDS = 10.0  # at most one progress line per this many seconds of a transfer


def is_url(source: str) -> bool:
    """True for http(s), ftp and file URLs; False for local paths."""
    return urllib.parse.urlparse(str(source)).scheme in URL_SCHEMES


def download_path(url: str, root: str = "resources/downloads") -> str:
    """Where a URL is stored locally: ``root/<host>/<digest>/<file name>``, always inside ``root``.

    ``<digest>`` is the first 16 hex digits of the SHA-256 of the whole URL (query string included), so two
    different URLs never share a file. The file name is the URL path's last segment, decoded and reduced to
    ``[A-Za-z0-9._-]`` (its suffix kept: the readers tell ``.bigwig`` and ``.gz`` by it); ``..``, ``%2e%2e``,
    ``%2f``, backslashes and empty segments cannot lead anywhere since only that one segment is kept and it
    never starts with a dot. A file URL's host is ``file``.
    """
    parts = urllib.parse.urlsplit(url)
    host = _safe_segment(parts.netloc.rsplit("@", 1)[-1].replace(":", "_") or parts.scheme) or "host"
    path = parts.path
    for _ in range(3):  # doubly encoded %252e%252e is still only text, but decode it as far as it goes
        path = urllib.parse.unquote(path)
    segments = [s for s in re.split(r"[/\\]", path) if s not in ("", ".", "..")]
    name = _safe_segment(segments[-1]) if segments else ""
    digest = hashlib.sha256(url.encode()).hexdigest()[:16]
    return f"{root}/{host}/{digest}/{name or 'download'}"


def _safe_segment(text: str) -> str:
    """``text`` as one file name: characters outside ``[A-Za-z0-9._-]`` become '_', no leading dot (a hidden
    file, or '..'), at most 100 characters (the end kept: it holds the suffix)."""
    return re.sub(r"[^A-Za-z0-9._-]", "_", text)[-100:].lstrip(".")


def sha256sum(path: str | os.PathLike) -> str:
    """Hex SHA-256 of a file."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(CHUNK), b""):
            h.update(block)
    return h.hexdigest()


class _Retry(Exception):
    """A transient failure: try again (the message says why)."""


def _transfer(url: str, part: Path, timeout: float) -> None:
    """Append the rest of ``url`` to ``part``, resuming from its size when the server honours Range."""
    have = part.stat().st_size if part.exists() else 0
    request = urllib.request.Request(url, headers={"User-Agent": "deepchrome"})
    if have and url.startswith("http"):
        request.add_header("Range", f"bytes={have}-")
    try:
        response = urllib.request.urlopen(request, timeout=timeout)
    except urllib.error.HTTPError as err:
        if err.code == 416 and have:  # asked past the end: the partial file may already be whole
            total = _content_range_total(err.headers.get("Content-Range"))
            if total == have:
                return
        if err.code in (408, 425, 429) or err.code >= 500:
            raise _Retry(f"HTTP {err.code} {err.reason}")
        raise DeepChromeError(url, f"the server answered HTTP {err.code} {err.reason}",
                              "check the URL (and the base-URL setting it derives from) or use a local copy")
    except (urllib.error.URLError, TimeoutError, ConnectionError) as err:
        raise _Retry(f"cannot connect ({getattr(err, 'reason', err)})")
    with response:
        status = getattr(response, "status", None)
        if have and status != 206:  # the server ignored Range: start over
            have = 0
        total = _content_range_total(response.headers.get("Content-Range")) if status == 206 else None
        if total is None and response.headers.get("Content-Length") is not None:
            total = have + int(response.headers["Content-Length"])
        progress = _Progress(url, have, total)
        with open(part, "ab" if have else "wb") as out:
            try:
                for block in iter(lambda: response.read(CHUNK), b""):
                    out.write(block)
                    progress.add(len(block))
            except (TimeoutError, ConnectionError, OSError) as err:
                raise _Retry(f"transfer broke off ({err})")
        progress.done()
    size = part.stat().st_size
    if total is not None and size != total:
        raise _Retry(f"transfer cut short: {size} of {total} bytes")


class _Progress:
    """Log a transfer's bytes, rate and percent (of ``total`` when known) every PROGRESS_SECONDS and at its end."""

    def __init__(self, url: str, have: int, total: int | None):
        self.url, self.have, self.total = url, have, total
        self.start = self.last = time.monotonic()
        self.received = 0

    def add(self, n: int) -> None:
        self.received += n
        if time.monotonic() - self.last >= PROGRESS_SECONDS:
            self.log()

    def done(self) -> None:
        self.log()

    def log(self) -> None:
        self.last = time.monotonic()
        rate = self.received / max(self.last - self.start, 1e-9) / 1e6
        size = self.have + self.received
        of = f" of {self.total / 1e6:,.1f} MB ({100 * size / self.total:.0f}%)" if self.total else ""
        log.info("%s: %s MB%s at %.1f MB/s", self.url, f"{size / 1e6:,.1f}", of, rate)


def _content_range_total(header: str | None) -> int | None:
    m = re.match(r"bytes (?:\d+-\d+|\*)/(\d+)", header or "")
    return int(m.group(1)) if m else None


def fetch(url: str, dest: str | os.PathLike, sha256: str | None = None, retries: int = 5,
          backoff: float = 1.0, timeout: float = 60.0) -> Path:
    """Download ``url`` to ``dest``; return ``dest``.

    Bytes go to ``dest.part`` (kept between tries so a broken transfer resumes with a Range request)
    and are renamed onto ``dest`` only when complete (its length, and a gzip file's end-of-stream
    marker) and, if ``sha256`` is given, verified. Transient
    failures (connection errors, HTTP 5xx/429, short transfers) are retried ``retries`` times with
    exponential back-off starting at ``backoff`` seconds; other HTTP errors stop at once.
    """
    dest = Path(dest)
    if dest.exists() and (sha256 is None or sha256sum(dest) == sha256.lower()):
        log.info("%s present, not downloaded again", dest)
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    try:
        for attempt in range(retries + 1):
            try:
                log.info("fetching %s (try %d of %d)", url, attempt + 1, retries + 1)
                _transfer(url, part, timeout)
                break
            except _Retry as err:
                if attempt == retries:
                    raise DeepChromeError(url, f"download failed after {retries + 1} tries: {err}",
                                          "check the network and the server, then run the workflow again")
                wait = backoff * 2 ** attempt
                log.warning("%s: %s; retrying in %.1f s", url, err, wait)
                time.sleep(wait)
        if sha256 is not None and sha256sum(part) != sha256.lower():
            part.unlink()
            raise DeepChromeError(url, "the downloaded file does not match its sha256 checksum",
                                  "check the checksum in the config, or the mirror serving the file")
        try:
            check_gzip(part)  # a server that sends no length can still cut a transfer short
        except DeepChromeError as err:
            raise DeepChromeError(url, err.problem, "run the workflow again to download it again; if it "
                                  "persists, the server's copy is damaged: use another mirror") from None
        os.replace(part, dest)
    except DeepChromeError:
        part.unlink(missing_ok=True)
        raise
    log.info("saved %s (%d bytes)", dest, dest.stat().st_size)
    return dest
