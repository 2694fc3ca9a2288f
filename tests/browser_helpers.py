"""What the real-browser tests share: Debian's chromium driven by the ``playwright`` package
(no browser download), a free port on 127.0.0.1, and waiting for a local server.

``browser`` is a pytest fixture (conftest.py makes it visible to every test module): one
chromium for one test, skipped, with the reason, where playwright or chromium is missing or
chromium cannot start. ``.ci/run`` installs chromium first. DLKIT_CHROMIUM names another binary.
"""
import os
import socket
import time
import urllib.request

import pytest

CHROMIUM = os.environ.get("DLKIT_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_server(url, proc, timeout):
    """True once ``url`` answers 200; False if ``proc`` exits or ``timeout`` s pass first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return True
        except OSError:
            time.sleep(0.3)
    return False


@pytest.fixture
def browser():
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"no chromium at {CHROMIUM}: install it with `apt-get install -y chromium` "
                    "(or set DLKIT_CHROMIUM to a chromium binary)")
    with sync_api.sync_playwright() as p:
        try:
            b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, timeout=60_000)
        except Exception as e:  # noqa: BLE001 - any launch failure means: no usable browser
            pytest.skip(f"chromium at {CHROMIUM} could not start: {str(e).splitlines()[0]}")
        try:
            yield b
        finally:
            b.close()
