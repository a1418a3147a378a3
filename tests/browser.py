"""Open a page in a real headless Chromium and report what a reader would meet: console
errors, uncaught exceptions, network requests, images that fail to decode, and a
screenshot. Speaks the DevTools protocol over ``--remote-debugging-pipe`` (NUL-separated
JSON on file descriptors 3 and 4), so it needs nothing beyond the standard library."""

from __future__ import annotations

import base64
import json
import os
import select
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

IMAGES = """Promise.all(Array.from(document.images).map(
    img => img.decode().then(() => [img.naturalWidth, img.naturalHeight],
                             err => 'failed: ' + err)))"""


def chromium():
    """Path of a Chromium binary, or None."""
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if path := shutil.which(name):
            return path
    return None


@dataclass
class PageCheck:
    errors: list = field(default_factory=list)  # console errors and uncaught exceptions
    requests: list = field(default_factory=list)  # URLs other than file: and data:
    images: list = field(default_factory=list)  # [width, height] or 'failed: ...' per <img>
    screenshot: bytes = b""
    overflow: bool = False  # wider than the window: a horizontal scroll bar


def check_page(path, width=1200, height=900, timeout=60):
    """Load ``path`` (an HTML file) and return a ``PageCheck``."""
    with tempfile.TemporaryDirectory() as profile, _Chromium(profile, timeout) as cdp:
        target = cdp.call("Target.createTarget", url="about:blank")["targetId"]
        session = cdp.call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        for domain in ("Runtime", "Log", "Page", "Network"):
            cdp.call(f"{domain}.enable", session=session)
        cdp.call(
            "Emulation.setDeviceMetricsOverride",
            session=session,
            width=width,
            height=height,
            deviceScaleFactor=1,
            mobile=False,
        )
        cdp.call("Page.navigate", session=session, url=Path(path).resolve().as_uri())
        cdp.wait_for("Page.loadEventFired", session)
        images = cdp.call(
            "Runtime.evaluate",
            session=session,
            expression=IMAGES,
            awaitPromise=True,
            returnByValue=True,
        )["result"]["value"]
        wide = cdp.call(
            "Runtime.evaluate",
            session=session,
            expression="document.documentElement.scrollWidth > window.innerWidth",
            returnByValue=True,
        )["result"]["value"]
        shot = cdp.call("Page.captureScreenshot", session=session, format="png")["data"]
        check = PageCheck(images=images, screenshot=base64.b64decode(shot), overflow=wide)
        for method, params in cdp.events:
            if method == "Runtime.exceptionThrown":
                details = params["exceptionDetails"]
                thrown = details.get("exception", {}).get("description")
                check.errors.append(thrown or details.get("text", "exception"))
            elif method == "Runtime.consoleAPICalled" and params["type"] in ("error", "assert"):
                check.errors.append(" ".join(str(a.get("value")) for a in params["args"]))
            elif method == "Log.entryAdded" and params["entry"]["level"] == "error":
                check.errors.append(params["entry"]["text"])
            elif method == "Network.requestWillBeSent":
                url = params["request"]["url"]
                if not url.startswith(("file:", "data:")):
                    check.requests.append(url)
        return check


class _Chromium:
    def __init__(self, profile, timeout):
        self.timeout = timeout
        self.events, self._buffer, self._next = [], b"", 0
        self._replies = {}
        to_child, self._write = os.pipe()
        self._read, from_child = os.pipe()

        def wire():  # the child's fd 3 reads our commands, its fd 4 writes replies
            a, b = os.dup(to_child), os.dup(from_child)
            os.dup2(a, 3)
            os.dup2(b, 4)

        self.proc = subprocess.Popen(
            [
                chromium(),
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-default-apps",
                "--disable-extensions",
                "--disable-sync",
                "--no-first-run",
                "--remote-debugging-pipe",
                f"--user-data-dir={profile}",
                "about:blank",
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            preexec_fn=wire,
            pass_fds=(3, 4),
        )
        os.close(to_child)
        os.close(from_child)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        try:
            self._send("Browser.close", {}, None)
            self.proc.wait(timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            self.proc.kill()
            self.proc.wait()
        os.close(self._write)
        os.close(self._read)

    def call(self, method, session=None, **params):
        msg_id = self._send(method, params, session)
        deadline = time.monotonic() + self.timeout
        while msg_id not in self._replies:
            self._pump(deadline, method)
        reply = self._replies.pop(msg_id)
        if "error" in reply:
            raise RuntimeError(f"{method}: {reply['error']}")
        return reply["result"]

    def wait_for(self, event, session):
        deadline = time.monotonic() + self.timeout
        seen = 0
        while True:
            for method, _ in self.events[seen:]:
                if method == event:
                    return
            seen = len(self.events)
            self._pump(deadline, event)

    def _send(self, method, params, session):
        self._next += 1
        msg = {"id": self._next, "method": method, "params": params}
        if session:
            msg["sessionId"] = session
        os.write(self._write, json.dumps(msg).encode() + b"\0")
        return self._next

    def _pump(self, deadline, waiting_for):
        left = deadline - time.monotonic()
        ready, _, _ = select.select([self._read], [], [], max(left, 0))
        if not ready:
            raise TimeoutError(f"Chromium did not answer {waiting_for} in {self.timeout} s")
        chunk = os.read(self._read, 1 << 20)
        if not chunk:
            raise RuntimeError(f"Chromium exited (code {self.proc.poll()})")
        self._buffer += chunk
        *messages, self._buffer = self._buffer.split(b"\0")
        for raw in messages:
            msg = json.loads(raw)
            if "id" in msg:
                self._replies[msg["id"]] = msg
            else:
                self.events.append((msg["method"], msg.get("params", {})))


def assert_page_renders(path):
    """The page loads in Chromium with no console error and no network request, every
    image decodes, nothing is wider than a 1200-pixel window, and the screenshot is not
    blank."""
    import io
    from html.parser import HTMLParser

    import numpy as np
    from PIL import Image

    class Count(HTMLParser):
        images = 0

        def handle_starttag(self, tag, attrs):
            self.images += tag == "img"

    count = Count()
    count.feed(Path(path).read_text())
    check = check_page(path)
    assert check.errors == [], check.errors
    assert check.requests == [], check.requests
    assert len(check.images) == count.images > 0
    failed = [img for img in check.images if not (isinstance(img, list) and min(img) > 0)]
    assert not failed, failed
    assert not check.overflow, "the page scrolls sideways at 1200 pixels"
    shot = np.asarray(Image.open(io.BytesIO(check.screenshot)).convert("L"))
    counts = np.unique(shot, return_counts=True)[1]
    # a blank page fails here: test_report_page's negative control checks it
    assert 1 - counts.max() / shot.size > 0.02, "the screenshot is (nearly) one colour"
    return check
