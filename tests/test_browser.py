"""The briefing seen as a person sees it: headless Chromium (``make test-browser``).

The page is opened over the DevTools protocol on a pipe (``--remote-debugging-pipe``:
the browser reads commands on fd 3 and writes on fd 4, NUL-terminated JSON), so
nothing but the standard library and Debian's ``chromium`` is needed and no port
is opened.  The tests skip, saying why, when no Chromium is installed.
"""
from __future__ import annotations

import base64
import io
import json
import os
import select
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
import pytest

pytestmark = pytest.mark.browser

#: the flags `make pdf` uses too: no network, no profile state, no GPU
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run",
                  "--hide-scrollbars", "--mute-audio"]
PAGE_WIDTH = 1000
WAIT_SECONDS = 60


def chromium_path() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    pytest.skip("no Chromium on PATH: `make test-browser` installs Debian's chromium "
                "(apt-get install -y chromium) and runs these tests")


class DevTools:
    """A minimal DevTools-protocol client over the browser's pipe."""

    def __init__(self, binary: str, profile: str):
        to_browser_r, self._to_browser = os.pipe()
        self._from_browser, from_browser_w = os.pipe()

        def wire_fds():  # runs in the child: its fd 3 reads our commands, fd 4 answers
            a, b = os.dup(to_browser_r), os.dup(from_browser_w)
            os.dup2(a, 3)
            os.dup2(b, 4)

        self.proc = subprocess.Popen(
            [binary, *CHROMIUM_FLAGS, "--remote-debugging-pipe", f"--user-data-dir={profile}",
             "about:blank"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            preexec_fn=wire_fds, pass_fds=(3, 4))
        os.close(to_browser_r)
        os.close(from_browser_w)
        self._buffer = b""
        self._next_id = 0
        self.events: list[dict] = []

    def _read_message(self, deadline: float) -> dict:
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("Chromium did not answer in time")
            ready, _, _ = select.select([self._from_browser], [], [], left)
            if ready:
                chunk = os.read(self._from_browser, 1 << 20)
                if not chunk:
                    raise RuntimeError("Chromium closed the DevTools pipe")
                self._buffer += chunk
        raw, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(raw)

    def call(self, method: str, params: dict | None = None, *, session: str | None = None) -> dict:
        self._next_id += 1
        message = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self._to_browser, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + WAIT_SECONDS
        while True:
            reply = self._read_message(deadline)
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)

    def wait_for(self, method: str) -> dict:
        deadline = time.monotonic() + WAIT_SECONDS
        for event in self.events:
            if event.get("method") == method:
                return event
        while True:
            event = self._read_message(deadline)
            self.events.append(event)
            if event.get("method") == method:
                return event

    def close(self) -> None:
        try:
            self.call("Browser.close")
        except (RuntimeError, TimeoutError, OSError):
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        os.close(self._to_browser)
        os.close(self._from_browser)


def open_page(path: Path):
    """Open ``path``; return (DevTools, session id) once the page has loaded."""
    binary = chromium_path()
    profile = tempfile.mkdtemp(prefix="briefing-chromium-")
    tools = DevTools(binary, profile)
    try:
        target = tools.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = tools.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Page", "Runtime", "Log"):
            tools.call(f"{domain}.enable", session=session)
        tools.call("Emulation.setDeviceMetricsOverride",
                   {"width": PAGE_WIDTH, "height": 1400, "deviceScaleFactor": 1, "mobile": False},
                   session=session)
        tools.call("Page.navigate", {"url": path.resolve().as_uri()}, session=session)
        tools.wait_for("Page.loadEventFired")
        # let fonts finish and any late console message arrive
        tools.call("Runtime.evaluate", {"expression": "document.fonts.ready.then(() => true)",
                                        "awaitPromise": True}, session=session)
    except BaseException:
        tools.close()
        shutil.rmtree(profile, ignore_errors=True)
        raise
    tools.profile = profile
    return tools, session


def console_errors(events: list[dict]) -> list[str]:
    """Console errors, uncaught exceptions and browser-logged errors (CSP, failed loads)."""
    errors = []
    for e in events:
        p = e.get("params", {})
        if e.get("method") == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
            errors.append(" ".join(str(a.get("value", a.get("description", ""))) for a in p.get("args", [])))
        elif e.get("method") == "Runtime.exceptionThrown":
            errors.append(p.get("exceptionDetails", {}).get("text", "exception"))
        elif e.get("method") == "Log.entryAdded" and p.get("entry", {}).get("level") == "error":
            errors.append(p["entry"].get("text", ""))
    return errors


def evaluate(tools: DevTools, session: str, expression: str):
    result = tools.call("Runtime.evaluate", {"expression": expression, "returnByValue": True},
                        session=session)
    return result["result"].get("value")


@pytest.fixture(scope="module")
def briefing_in_browser(seed_run):
    _, out = seed_run
    tools, session = open_page(out / "briefing.html")
    yield tools, session, out
    tools.close()
    shutil.rmtree(tools.profile, ignore_errors=True)


def test_the_briefing_opens_without_console_errors(briefing_in_browser):
    tools, session, _ = briefing_in_browser
    assert console_errors(tools.events) == []
    assert evaluate(tools, session, "document.title")
    assert evaluate(tools, session, "document.querySelectorAll('script').length") == 0
    assert evaluate(tools, session, "document.querySelectorAll('svg').length") >= 4


def test_the_embedded_font_is_used_and_links_resolve(briefing_in_browser):
    tools, session, _ = briefing_in_browser
    assert evaluate(tools, session, "document.fonts.check('16px \"Briefing Noto Sans SC\"', '社会组织')")
    loaded = evaluate(tools, session, "[...document.fonts].filter(f => f.status === 'loaded').length")
    assert loaded >= 1
    dangling = evaluate(tools, session, """
        [...document.querySelectorAll('a[href^="#"]')]
            .map(a => a.getAttribute('href').slice(1))
            .filter(id => !document.getElementById(id))""")
    assert dangling == []


def test_the_screenshot_is_not_blank(briefing_in_browser, tmp_path_factory):
    tools, session, out = briefing_in_browser
    height = evaluate(tools, session, "document.documentElement.scrollHeight")
    shot = tools.call("Page.captureScreenshot", {
        "format": "png", "captureBeyondViewport": True,
        "clip": {"x": 0, "y": 0, "width": PAGE_WIDTH, "height": min(height, 4000), "scale": 1}},
        session=session)
    png = base64.b64decode(shot["data"])
    path = tmp_path_factory.mktemp("screenshot") / "briefing.png"
    path.write_bytes(png)
    from matplotlib import image
    pixels = image.imread(io.BytesIO(png), format="png")[..., :3]
    assert pixels.shape[1] == PAGE_WIDTH and pixels.shape[0] > 1000
    ink = (pixels.mean(axis=2) < 0.85).mean()  # share of pixels that are not (near) white
    assert float(pixels.std()) > 0.05 and ink > 0.02, f"blank-looking screenshot at {path}"
    # The top of the page carries the title: dark pixels in the first 80 rows.
    assert (pixels[:80].mean(axis=2) < 0.5).any()
    # Charts are drawn: the palette's blue appears.
    blue = np.abs(pixels - np.array([0x1f, 0x5f, 0x8b]) / 255).max(axis=2) < 0.03
    assert blue.sum() > 500


def test_pdf_prints_on_a4(seed_run, tmp_path):
    """What `make pdf` does: the briefing printed through the same browser."""
    _, out = seed_run
    binary = chromium_path()
    pdf = tmp_path / "briefing.pdf"
    profile = tmp_path / "profile"
    subprocess.run([binary, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--no-pdf-header-footer",
                    f"--print-to-pdf={pdf}", (out / "briefing.html").resolve().as_uri()],
                   check=True, timeout=120, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    from pypdf import PdfReader
    reader = PdfReader(str(pdf))
    assert len(reader.pages) >= 3
    box = reader.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (595, 842)  # A4 in points
    assert "社会组织" in reader.pages[0].extract_text()
