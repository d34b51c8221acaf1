"""The app as shipped: no service given, so the lifespan builds the real Assistant and the
real library. Hash embedder and no LLM keep it fast; the corpus is a private copy."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import openai
import pytest
from httpx_sse import connect_sse

from api.main import create_app
from ingest.pipeline import Indexer
from rag.config import REPO_ROOT, Settings
from rag.types import Answer
from tests.api.conftest import serve

pytestmark = pytest.mark.integration


def _missing_stack() -> str | None:
    """Why the real stack can't run yet (it is built in parallel), or None."""
    try:
        from rag.assistant import build_assistant  # noqa: F401
        from rag.embeddings import make_embeddings  # noqa: F401
        from rag.retrieve.store import make_vector_store  # noqa: F401
    except ImportError as error:
        return str(error)
    return None


def wait_ready(client: httpx.Client, timeout_s: float = 120.0) -> dict:
    deadline = time.monotonic() + timeout_s
    while True:
        response = client.get("/readyz")
        if response.status_code == 200 or time.monotonic() > deadline:
            return response.json()
        time.sleep(0.2)


def test_real_service_over_http(fake_settings: Settings) -> None:
    if missing := _missing_stack():
        pytest.skip(f"real stack not importable yet: {missing}")
    Indexer(fake_settings).ingest_all()
    app = create_app(fake_settings, mount_ui=False)
    with serve(app) as server, server.client(timeout=120) as client:
        assert client.get("/healthz").status_code == 200
        ready = wait_ready(client)
        assert ready["ready"] is True, ready

        body = client.post("/v1/ask", json={"question": "英伟达2026年AEC需求量是多少？"})
        assert body.status_code == 200, body.text
        answer = Answer.model_validate(body.json())
        assert answer.language == "zh"
        assert answer.abstained or answer.citations  # grounded or explicitly abstained

        with connect_sse(
            client, "POST", "/v1/ask/stream", json={"question": "What is NV's AEC demand in 2026?"}
        ) as source:
            kinds = [event.event for event in source.iter_sse()]
        assert kinds[-1] == "final" and kinds.count("final") == 1

        chat = openai.OpenAI(base_url=f"{server.url}/v1", api_key="unused")
        completion = chat.chat.completions.create(
            model="research-notes",
            messages=[{"role": "user", "content": "英伟达2026年AEC需求量是多少？"}],
        )
        assert completion.choices[0].message.content
        assert "sources" in (completion.model_extra or {})

        before = client.get("/v1/documents").json()["count"]
        note = "# 测试纪要\n\n2025-11-20 某专家：测试公司2026年出货量预计为42万台。\n".encode()
        created = client.post("/v1/documents", files={"file": ("api-test.md", note)})
        assert created.status_code == 201, created.text
        listing = client.get("/v1/documents").json()
        assert listing["count"] == before + 1
        doc_id = next(
            d["doc_id"] for d in listing["documents"] if d["doc_id"].endswith("api-test.md")
        )
        rejected = client.post("/v1/documents", files={"file": ("x.exe", b"MZ")})
        assert rejected.status_code == 415, rejected.text
        asked = {"question": "测试公司2026年出货量预计为多少？"}
        assert client.post("/v1/ask", json=asked).status_code == 200
        assert client.delete(f"/v1/documents/{doc_id}").status_code == 200
        assert client.delete(f"/v1/documents/{doc_id}").status_code == 404
        assert client.get("/v1/documents").json()["count"] == before
        # Asked again at once, before the keyword index has caught up with the delete: an
        # answer from what the store still holds, never a 500 nor the deleted note's figure.
        gone = client.post("/v1/ask", json=asked)
        assert gone.status_code == 200, gone.text
        assert "42万台" not in gone.json()["answer"]


def test_python_m_api_serves(fake_settings: Settings, tmp_path: Path) -> None:
    """`python -m api` as a user runs it: settings from RNA_* variables, UI mounted."""
    if missing := _missing_stack():
        pytest.skip(f"real stack not importable yet: {missing}")
    Indexer(fake_settings).ingest_all()
    with socket.socket() as sock:  # a free port for the child (it binds it itself)
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO_ROOT),
        "RNA_HOST": "127.0.0.1",
        "RNA_PORT": str(port),
        "RNA_CORPUS_DIR": str(fake_settings.corpus_dir),
        "RNA_DATA_DIR": str(fake_settings.data_dir),
        "RNA_EMBEDDER": "fake",
        "RNA_LLM": "none",
        "RNA_API_KEYS": '["cli-key"]',
    }
    child = subprocess.Popen(
        [sys.executable, "-m", "api"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) as client:
            deadline = time.monotonic() + 120
            while True:
                try:
                    if client.get("/healthz").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert child.poll() is None and time.monotonic() < deadline, "server did not start"
                time.sleep(0.3)
            assert wait_ready(client)["ready"] is True
            assert client.post("/v1/ask", json={"question": "q"}).status_code == 401
            answer = client.post(
                "/v1/ask",
                json={"question": "英伟达2026年AEC需求量是多少？"},
                headers={"Authorization": "Bearer cli-key"},
            )
            assert answer.status_code == 200
            parsed = Answer.model_validate(answer.json())
            assert parsed.abstained or parsed.citations  # grounded or explicitly abstained
            assert client.get("/", follow_redirects=False).headers["location"] == "/ui/"
    finally:
        child.terminate()
        child.wait(timeout=30)
