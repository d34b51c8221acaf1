"""The Chroma server stops (or freezes) under a running API: `/readyz` goes red, `/v1/ask`
answers 503 `index_unavailable` quickly instead of a 500 or a hang, and both recover by
themselves when the server is back — no API restart.

A real `chroma run` subprocess, the real app (lifespan builds the Assistant) in
RNA_CHROMA_MODE=http; the hash embedder keeps it fast (the fault is the store's, not the
model's). Times are printed (`-s`) and recorded in docs/faults.md.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from unittest.mock import ANY

import httpx
import pytest

from api.main import create_app
from ingest.pipeline import Indexer
from rag.config import Settings
from tests.api.conftest import LiveServer, serve

pytestmark = [pytest.mark.integration, pytest.mark.slow]

QUESTION = {"question": "英伟达2026年AEC需求量是多少？"}
ASK_LIMIT_S = 2.0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class ChromaServer:
    path: Path
    port: int
    proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout_s: float = 60) -> float:
        started = time.monotonic()
        chroma = Path(sys.executable).parent / "chroma"
        self.proc = subprocess.Popen(
            [
                str(chroma),
                "run",
                "--path",
                str(self.path),
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env={**os.environ, "ANONYMIZED_TELEMETRY": "False"},
        )
        url = f"http://127.0.0.1:{self.port}/api/v2/heartbeat"
        while time.monotonic() - started < timeout_s:
            try:
                if httpx.get(url, timeout=1).status_code == 200:
                    return time.monotonic() - started
            except httpx.TransportError:
                time.sleep(0.1)
        raise RuntimeError("chroma run did not start")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGCONT)
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@pytest.fixture
def chroma(tmp_path: Path) -> Iterator[ChromaServer]:
    server = ChromaServer(tmp_path / "chroma-server", _free_port())
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def api(fake_settings: Settings, chroma: ChromaServer) -> Iterator[LiveServer]:
    settings = fake_settings.model_copy(
        update={"chroma_mode": "http", "chroma_host": "127.0.0.1", "chroma_port": chroma.port}
    )
    report = Indexer(settings).ingest_all()  # into the server, with the API's own settings
    assert report.added > 0
    with serve(create_app(settings, mount_ui=False)) as server:
        with server.client() as client:
            deadline = time.monotonic() + 120
            while client.get("/readyz").status_code != 200:
                assert time.monotonic() < deadline, "the API never got ready"
                time.sleep(0.2)
        yield server


def _ask(client: httpx.Client) -> tuple[httpx.Response, float]:
    started = time.monotonic()
    response = client.post("/v1/ask", json=QUESTION)
    return response, time.monotonic() - started


def _until(check, timeout_s: float, step_s: float = 0.1) -> float:  # type: ignore[no-untyped-def]
    """Seconds until `check()` is true (polled), or fail."""
    started = time.monotonic()
    while not check():
        assert time.monotonic() - started < timeout_s, f"not within {timeout_s} s"
        time.sleep(step_s)
    return time.monotonic() - started


def test_chroma_stopped_gives_503_quickly_and_the_api_recovers_when_it_returns(
    api: LiveServer, chroma: ChromaServer, capsys: pytest.CaptureFixture[str]
) -> None:
    with api.client(timeout=30) as client:
        ok, healthy_s = _ask(client)
        assert ok.status_code == 200 and ok.json()["answer"], ok.text

        chroma.stop()  # SIGTERM: the server process is gone, its port refuses connections
        stopped_at = time.monotonic()
        readyz = client.get("/readyz")
        red_s = time.monotonic() - stopped_at
        assert readyz.status_code == 503 and readyz.json()["components"]["index"] is False

        down, down_s = _ask(client)
        assert down.status_code == 503, down.text
        assert down.json()["error"]["code"] == "index_unavailable"
        assert "Chroma" in down.json()["error"]["message"]
        assert down.headers["Retry-After"] == "5"
        assert down_s < ASK_LIMIT_S
        again, again_s = _ask(client)
        assert again.status_code == 503 and again_s < ASK_LIMIT_S
        assert client.get("/healthz").status_code == 200  # alive, just not ready

        start_s = chroma.start()  # same port, same data
        back_at = time.monotonic()
        ready_s = _until(lambda: client.get("/readyz").status_code == 200, 30)
        answered_s = _until(lambda: _ask(client)[0].status_code == 200, 30)
        recovered_s = time.monotonic() - back_at
        final, final_s = _ask(client)
        # the same answer (each served answer has its own id, for feedback)
        assert final.status_code == 200
        assert final.json() == {**ok.json(), "timings_ms": ANY, "answer_id": ANY}

    with capsys.disabled():
        print(
            f"\nchroma stopped: /readyz 503 after {red_s:.2f} s; /v1/ask 503 in {down_s:.2f} s "
            f"and {again_s:.2f} s (healthy answer {healthy_s:.2f} s)\n"
            f"chroma restarted in {start_s:.1f} s; then /readyz 200 after {ready_s:.2f} s, "
            f"/v1/ask 200 after {recovered_s:.2f} s (poll {answered_s:.2f} s), "
            f"answer {final_s:.2f} s"
        )


def test_chroma_frozen_gives_503_after_the_client_timeout_not_a_hang(
    api: LiveServer, chroma: ChromaServer, capsys: pytest.CaptureFixture[str]
) -> None:
    """SIGSTOP: the port still accepts connections but nothing answers. chromadb's client
    would wait forever; rag/retrieve/store.py bounds it (CHROMA_HTTP_TIMEOUT: 10 s read)."""
    from rag.retrieve.store import CHROMA_HTTP_TIMEOUT

    read_s = float(CHROMA_HTTP_TIMEOUT.read or 0)
    assert chroma.proc is not None
    with api.client(timeout=60) as client:
        assert _ask(client)[0].status_code == 200
        chroma.proc.send_signal(signal.SIGSTOP)
        try:
            frozen, frozen_s = _ask(client)
        finally:
            chroma.proc.send_signal(signal.SIGCONT)
        assert frozen.status_code == 503, frozen.text
        assert frozen.json()["error"]["code"] == "index_unavailable"
        assert read_s <= frozen_s < read_s + 5
        thawed_s = _until(lambda: _ask(client)[0].status_code == 200, 30)

    with capsys.disabled():
        print(
            f"\nchroma frozen: /v1/ask 503 after {frozen_s:.2f} s (read timeout {read_s} s); "
            f"answers again {thawed_s:.2f} s after SIGCONT"
        )
