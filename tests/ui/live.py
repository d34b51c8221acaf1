"""A real uvicorn server in a thread and a real headless Chromium, for browser tests.

Reusable beyond tests/ui: `serve(app)` runs any ASGI app on a free 127.0.0.1 port;
`chromium()` launches Debian's /usr/bin/chromium through Playwright (never `playwright install`).
"""

from __future__ import annotations

import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import uvicorn

REPO_ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
INSTALL_SCRIPT = REPO_ROOT / "scripts" / "install_browser.sh"
ARTIFACTS = REPO_ROOT / "test-artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serve(app: Any, startup_timeout_s: float = 60.0) -> Iterator[str]:
    """Run `app` with uvicorn (lifespan on) in a daemon thread; yield its base URL."""
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name=f"uvicorn-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + startup_timeout_s
    while not server.started:
        if not thread.is_alive():
            raise RuntimeError("uvicorn exited during start-up")
        if time.monotonic() > deadline:
            server.should_exit = True
            raise TimeoutError(f"uvicorn did not start within {startup_timeout_s} s")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=15)


def ensure_chromium() -> tuple[str | None, str]:
    """(path of Chromium, what happened), running scripts/install_browser.sh if it is missing.
    The path is None when the install failed; the message then says why (for pytest.skip)."""
    if CHROMIUM.exists():
        return str(CHROMIUM), "present"
    try:
        result = subprocess.run(
            ["bash", str(INSTALL_SCRIPT)], capture_output=True, text=True, timeout=900
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        return None, f"{INSTALL_SCRIPT.name} could not run: {error}"
    if result.returncode == 0 and CHROMIUM.exists():
        return str(CHROMIUM), "installed"
    tail = (result.stdout + result.stderr).strip()[-400:]
    return None, f"{CHROMIUM} is missing and {INSTALL_SCRIPT.name} failed: {tail}"


@contextmanager
def chromium() -> Iterator[Any]:
    """A headless Playwright Browser on Debian's Chromium."""
    from playwright.sync_api import sync_playwright

    path, why = ensure_chromium()
    if path is None:
        raise FileNotFoundError(why)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=path, headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()
