"""Fixtures for API tests: a real uvicorn server on 127.0.0.1 and a local stand-in for
Slack's Web API.

`serve(app)` works for any app, so the same tests can run against the real service later:
`with serve(create_app(settings)) as server:` (no service given: the lifespan builds it).
"""

from __future__ import annotations

import atexit
import json
import shutil
import socket
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from api.main import create_app
from rag.config import Settings
from tests.fakes import FakeAssistant, FakeLibrary

SLACK_SECRET = "test-signing-secret"
SLACK_TOKEN = "xoxb-test-token"


_SCRATCH_DATA: list[Path] = []


def _scratch_data_dir() -> Path:
    """One throw-away data dir per test process (removed at exit): what an app writes there
    (kept answers, feedback) never lands in the repo's data/."""
    if not _SCRATCH_DATA:
        path = Path(tempfile.mkdtemp(prefix="rna-api-tests-"))
        atexit.register(shutil.rmtree, path, ignore_errors=True)
        _SCRATCH_DATA.append(path)
    return _SCRATCH_DATA[0]


def api_settings(**overrides: Any) -> Settings:
    """Settings that ignore any .env file, for hermetic tests (data_dir: a scratch folder
    unless given)."""
    overrides.setdefault("data_dir", _scratch_data_dir())
    return Settings(_env_file=None, environment="test", **overrides)  # type: ignore[call-arg]


@dataclass
class LiveServer:
    url: str
    app: FastAPI

    def client(self, **kwargs: Any) -> httpx.Client:
        kwargs.setdefault("timeout", 30)
        return httpx.Client(base_url=self.url, **kwargs)


@contextmanager
def serve(app: FastAPI, *, startup_timeout_s: float = 120.0) -> Iterator[LiveServer]:
    """Run `app` under uvicorn (lifespan on) in a thread on a free 127.0.0.1 port.

    The socket is bound before uvicorn starts, so no other process can take the port."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", lifespan="on", timeout_graceful_shutdown=5)
    server = uvicorn.Server(config)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name=f"uvicorn-{port}", daemon=True
    )
    thread.start()
    deadline = time.monotonic() + startup_timeout_s
    try:
        while not server.started:
            if not thread.is_alive():
                raise RuntimeError("uvicorn exited during start-up")
            if time.monotonic() > deadline:
                raise TimeoutError(f"uvicorn did not start within {startup_timeout_s} s")
            time.sleep(0.02)
        yield LiveServer(url=f"http://127.0.0.1:{port}", app=app)
    finally:
        server.should_exit = True
        thread.join(timeout=15)
        sock.close()


@dataclass
class SlackStandIn:
    """Records what the bot sends to Slack: Web API calls and response_url posts."""

    url: str
    calls: list[dict[str, Any]] = field(default_factory=list)

    def posts(self, path: str) -> list[dict[str, Any]]:
        return [c for c in self.calls if c["path"] == path]

    def wait_for(self, path: str, count: int = 1, timeout_s: float = 10.0) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout_s
        while len(self.posts(path)) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return self.posts(path)


@contextmanager
def slack_stand_in() -> Iterator[SlackStandIn]:
    """A tiny HTTP server on 127.0.0.1 answering like slack.com/api and hooks.slack.com."""
    calls: list[dict[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
            raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            if "json" in self.headers.get("Content-Type", ""):
                body = json.loads(raw or b"{}")
            else:
                body = {k: v[0] for k, v in parse_qs(raw.decode()).items()}
            calls.append(
                {"path": self.path, "body": body, "auth": self.headers.get("Authorization")}
            )
            if self.path.startswith("/api/"):
                reply = json.dumps({"ok": True, "channel": body.get("channel"), "ts": "1.0001"})
                ctype = "application/json"
            else:  # a response_url: Slack answers a bare "ok"
                reply, ctype = "ok", "text/plain"
            data = reply.encode()
            self.send_response(200)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield SlackStandIn(url=f"http://127.0.0.1:{httpd.server_address[1]}", calls=calls)
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture
def fake_service() -> FakeAssistant:
    return FakeAssistant()


@pytest.fixture
def fake_library() -> FakeLibrary:
    return FakeLibrary()


@pytest.fixture(scope="module")
def slack_api() -> Iterator[SlackStandIn]:
    with slack_stand_in() as stand_in:
        yield stand_in


@pytest.fixture(scope="module")
def live(slack_api: SlackStandIn) -> Iterator[LiveServer]:
    """The app with fakes, Slack pointed at the stand-in, no API keys; one per test module."""
    settings = api_settings(
        slack_signing_secret=SLACK_SECRET,
        slack_bot_token=SLACK_TOKEN,
        slack_api_url=f"{slack_api.url}/api/",
        max_question_chars=200,
        max_history_messages=4,
        max_upload_bytes=4096,
    )
    app = create_app(settings, service=FakeAssistant(), library=FakeLibrary(), mount_ui=False)
    with serve(app) as server:
        yield server
