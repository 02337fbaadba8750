"""A real headless Chromium driven over the DevTools protocol (through a pipe: no extra Python package).

``Browser(path)`` starts Chromium with ``--remote-debugging-pipe`` (commands on fd 3, answers on fd 4, NUL
separated JSON), opens one page, and offers ``open(url)``, ``evaluate(js)`` and ``screenshot(png)``.
``ensure_chromium()`` installs Debian's ``chromium`` package when it is missing.
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from conftest import apt_install

NAMES = ("chromium", "chromium-browser", "google-chrome", "chromium-headless-shell")


def ensure_chromium() -> str:
    """The path of a Chromium binary, installed with apt-get (as root) when none is on PATH; skips the test when
    DEEPCHROME_TEST_NO_BROWSER=1."""
    if os.environ.get("DEEPCHROME_TEST_NO_BROWSER") == "1":
        pytest.skip("DEEPCHROME_TEST_NO_BROWSER=1: no headless Chromium (nor its apt-get install)")
    found = next((shutil.which(n) for n in NAMES if shutil.which(n)), None)
    if found:
        return found
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        pytest.skip("Chromium is missing and cannot be installed here (needs root and apt-get)")
    apt_install("chromium")
    found = shutil.which("chromium")
    assert found, "apt-get installed chromium but it is not on PATH"
    return found


class Browser:
    """One headless Chromium page (1280 x 900 CSS pixels)."""

    def __init__(self, binary: str, profile: Path):
        cmd_r, self._cmd_w = os.pipe()
        self._res_r, res_w = os.pipe()
        # Chromium reads commands on fd 3 and writes answers on fd 4: bash puts the pipe ends there (moved to
        # fds >= 10 first, so that the redirections cannot overwrite each other).
        child = [fcntl.fcntl(fd, fcntl.F_DUPFD, 10) for fd in (cmd_r, res_w)]
        for fd in (cmd_r, res_w):
            os.close(fd)
        self.proc = subprocess.Popen(
            ["bash", "-c", f'exec "$0" "$@" 3<&{child[0]} 4>&{child[1]} {child[0]}<&- {child[1]}>&-', binary,
             "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
             "--remote-debugging-pipe", f"--user-data-dir={profile}", "--window-size=1280,900",
             "--no-first-run", "--hide-scrollbars", "about:blank"],
            pass_fds=child, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        for fd in child:
            os.close(fd)
        self._buffer = b""
        self._id = 0
        self.session = None
        target = self.call("Target.createTarget", url="about:blank")["targetId"]
        self.session = self.call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        self.call("Page.enable")
        self.call("Emulation.setDeviceMetricsOverride", width=1280, height=900, deviceScaleFactor=1, mobile=False)

    def call(self, method: str, timeout: float = 60, **params) -> dict:
        """Send one DevTools command and return its result (an error answer fails the test)."""
        self._id += 1
        message = {"id": self._id, "method": method, "params": params}
        if self.session:
            message["sessionId"] = self.session
        os.write(self._cmd_w, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            while b"\0" in self._buffer:
                raw, self._buffer = self._buffer.split(b"\0", 1)
                answer = json.loads(raw)
                if answer.get("id") == self._id:
                    assert "error" not in answer, f"{method}: {answer['error']}"
                    return answer.get("result", {})
            assert time.monotonic() < deadline, f"{method}: no answer from Chromium in {timeout} s"
            chunk = os.read(self._res_r, 1 << 20)
            assert chunk, f"Chromium exited: {self.proc.stderr.read().decode()[-2000:] if self.proc.stderr else ''}"
            self._buffer += chunk

    def evaluate(self, js: str):
        """The value of a JavaScript expression in the page (promises awaited)."""
        result = self.call("Runtime.evaluate", expression=js, awaitPromise=True, returnByValue=True)
        assert "exceptionDetails" not in result, result["exceptionDetails"]
        return result["result"].get("value")

    def open(self, url: str, ready_js: str = "document.readyState === 'complete'", timeout: float = 60) -> None:
        """Load ``url`` and wait until ``ready_js`` is true."""
        self.call("Page.navigate", url=url)
        self.wait_for(ready_js, timeout)

    def wait_for(self, js: str, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while not self.evaluate(f"Boolean({js})"):
            assert time.monotonic() < deadline, f"the page never met: {js}"
            time.sleep(0.2)

    def screenshot(self, path: Path) -> None:
        """A PNG of the visible page."""
        data = self.call("Page.captureScreenshot", format="png")["data"]
        path.write_bytes(base64.b64decode(data))

    def close(self) -> None:
        self.session = None  # Browser.close is a browser-level command
        try:
            self.call("Browser.close", timeout=10)
        except AssertionError:
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()  # our own child, by its handle
            self.proc.wait()
        os.close(self._cmd_w)
        os.close(self._res_r)


if __name__ == "__main__":  # python tests/browser.py report.html docs/report.png: the README's screenshot
    import sys
    import tempfile

    with tempfile.TemporaryDirectory() as profile:
        page = Browser(ensure_chromium(), Path(profile))
        try:
            page.open(Path(sys.argv[1]).resolve().as_uri(), "typeof app !== 'undefined'")
            time.sleep(1)
            page.screenshot(Path(sys.argv[2]))
        finally:
            page.close()
    from PIL import Image  # a palette PNG: a third of the size, for the repository

    Image.open(sys.argv[2]).convert("RGB").quantize(colors=128).save(sys.argv[2], optimize=True)
