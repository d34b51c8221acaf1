"""Every endpoint over HTTP against a real uvicorn server on 127.0.0.1 (with the fakes)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import openai
import pytest
from httpx_sse import connect_sse

from api.main import create_app
from rag.types import Answer, AskRequest, StreamEvent
from tests.api.conftest import LiveServer, api_settings, serve
from tests.fakes import FakeAssistant, FakeLibrary

pytestmark = pytest.mark.integration


def sse_events(server: LiveServer, path: str, body: dict) -> list[tuple[str, str]]:
    with server.client() as client, connect_sse(client, "POST", path, json=body) as source:
        assert source.response.status_code == 200
        assert source.response.headers["content-type"].startswith("text/event-stream")
        return [(event.event, event.data) for event in source.iter_sse()]


def test_health_and_ready(live: LiveServer) -> None:
    with live.client() as client:
        assert client.get("/healthz").json() == {"status": "ok"}
        ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["ready"] is True


def test_ask(live: LiveServer) -> None:
    with live.client() as client:
        response = client.post("/v1/ask", json={"question": "英伟达2026年AEC需求量是多少？"})
    assert response.status_code == 200
    answer = Answer.model_validate(response.json())
    assert answer.answer == "英伟达2026年AEC需求量约为170万根[1]。"
    assert answer.citations[0].quote == "英伟达(NV)2026年AEC需求量预计为170万根"


def test_ask_stream_tokens_then_one_final(live: LiveServer) -> None:
    events = sse_events(live, "/v1/ask/stream", {"question": "NV AEC demand in 2026?"})
    kinds = [kind for kind, _ in events]
    assert kinds[-1] == "final" and kinds.count("final") == 1
    assert set(kinds[:-1]) == {"token"} and len(kinds) > 2
    draft = "".join(json.loads(data)["text"] for kind, data in events if kind == "token")
    final = Answer.model_validate_json(events[-1][1])
    assert draft.strip() == final.answer == "About 1.7 million cables (170万根) [1]."
    assert final.citations[0].n == 1


def test_openai_client_non_stream(live: LiveServer) -> None:
    client = openai.OpenAI(base_url=f"{live.url}/v1", api_key="unused")
    assert [m.id for m in client.models.list()] == ["research-notes"]
    completion = client.chat.completions.create(
        model="research-notes",
        messages=[
            {"role": "system", "content": "ignored"},
            {"role": "user", "content": "What is NV's AEC demand?"},
            {"role": "assistant", "content": "For which year?"},
            {"role": "user", "content": "NV AEC demand in 2026?"},
        ],
        extra_body={"language": "en"},
    )
    assert completion.choices[0].message.content == "About 1.7 million cables (170万根) [1]."
    assert completion.choices[0].finish_reason == "stop"
    extra = completion.model_extra or {}
    assert extra["sources"][0]["title"] == "AEC及电源线专家交流"
    assert extra["answer"]["abstained"] is False


def test_openai_client_stream(live: LiveServer) -> None:
    client = openai.OpenAI(base_url=f"{live.url}/v1", api_key="unused")
    stream = client.chat.completions.create(
        model="anything",
        messages=[{"role": "user", "content": "NV AEC demand in 2026?"}],
        stream=True,
    )
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks)
    assert text.strip() == "About 1.7 million cables (170万根) [1]."
    last = chunks[-1]
    assert last.choices[0].finish_reason == "stop" and last.model == "anything"
    assert (last.model_extra or {})["sources"][0]["n"] == 1


def test_openai_client_sees_our_errors(live: LiveServer) -> None:
    client = openai.OpenAI(base_url=f"{live.url}/v1", api_key="unused", max_retries=0)
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(
            model="m", messages=[{"role": "assistant", "content": "I answer, I don't ask"}]
        )
    body = caught.value.body
    assert isinstance(body, dict) and body["code"] == "last_message_not_user"


def test_documents_over_http(live: LiveServer) -> None:
    with live.client() as client:
        created = client.post(
            "/v1/documents", files={"file": ("call.md", "# 电话会\n英伟达".encode())}
        )
        assert created.status_code == 201, created.text
        assert "uploads/call.md" in [
            d["doc_id"] for d in client.get("/v1/documents").json()["documents"]
        ]

        rejected = client.post("/v1/documents", files={"file": ("call.exe", b"MZ")})
        assert (
            rejected.status_code == 415 and rejected.json()["error"]["code"] == "unsupported_type"
        )
        too_big = client.post("/v1/documents", files={"file": ("big.txt", b"x" * 5000)})
        assert too_big.status_code == 413 and too_big.json()["error"]["code"] == "too_large"

        def chunked() -> Iterator[bytes]:  # no Content-Length: the limit counts streamed bytes
            yield (
                b'--x\r\nContent-Disposition: form-data; name="file"; filename="big.txt"\r\n'
                b"Content-Type: text/plain\r\n\r\n"
            )
            for _ in range(200):
                yield b"y" * 1024
            yield b"\r\n--x--\r\n"

        streamed = client.post(
            "/v1/documents",
            content=chunked(),
            headers={"content-type": "multipart/form-data; boundary=x"},
        )
        assert (
            streamed.status_code == 413 and streamed.json()["error"]["code"] == "payload_too_large"
        )

        assert client.delete("/v1/documents/uploads/call.md").status_code == 200
        gone = client.delete("/v1/documents/uploads/call.md")
        assert gone.status_code == 404 and gone.json()["error"]["code"] == "document_not_found"


def test_limits_over_http(live: LiveServer) -> None:
    with live.client() as client:
        long = client.post("/v1/ask", json={"question": "x" * 201})
        assert long.status_code == 400 and long.json()["error"]["code"] == "question_too_long"
        history = [{"role": "user", "content": "a"}] * 5
        many = client.post("/v1/ask", json={"question": "q", "history": history})
        assert many.status_code == 400 and many.json()["error"]["code"] == "history_too_long"
        chat = client.post(
            "/v1/chat/completions",
            json={"model": "m", "messages": [{"role": "user", "content": "x" * 201}]},
        )
        assert chat.status_code == 400 and chat.json()["error"]["code"] == "question_too_long"


def test_api_keys_over_http() -> None:
    settings = api_settings(api_keys=["s3cret"])
    app = create_app(settings, service=FakeAssistant(), library=FakeLibrary(), mount_ui=False)
    with serve(app) as server, server.client() as client:
        assert client.post("/v1/ask", json={"question": "q"}).status_code == 401
        assert (
            client.get("/v1/documents", headers={"Authorization": "Bearer wrong"}).status_code
            == 401
        )
        assert (
            client.get("/healthz").status_code == 200 and client.get("/readyz").status_code == 200
        )
        ok = client.post(
            "/v1/ask", json={"question": "q"}, headers={"Authorization": "Bearer s3cret"}
        )
        assert ok.status_code == 200
        good = openai.OpenAI(base_url=f"{server.url}/v1", api_key="s3cret")
        assert good.chat.completions.create(model="m", messages=[{"role": "user", "content": "q"}])
        bad = openai.OpenAI(base_url=f"{server.url}/v1", api_key="nope", max_retries=0)
        with pytest.raises(openai.AuthenticationError):
            bad.models.list()


class SlowAssistant(FakeAssistant):
    """Blocks every answer until `release` is set, to fill the gate."""

    def __init__(self) -> None:
        super().__init__()
        self.release = threading.Event()
        self.entered = threading.Semaphore(0)

    def ask(self, request: AskRequest, *, use_llm: bool = True) -> Answer:
        self.entered.release()
        self.release.wait(30)
        return super().ask(request, use_llm=use_llm)


def test_burst_beyond_the_queue_gets_503_at_once() -> None:
    """The gate alone (no lane for busy-model answers: test_degrade_live.py has that one)."""
    service = SlowAssistant()
    settings = api_settings(llm_concurrency=1, llm_queue_limit=2, degrade_when_busy=False)
    app = create_app(settings, service=service, library=FakeLibrary(), mount_ui=False)
    with serve(app) as server, ThreadPoolExecutor(max_workers=3) as pool:
        ask = lambda: httpx.post(f"{server.url}/v1/ask", json={"question": "q"}, timeout=30)  # noqa: E731
        admitted = [pool.submit(ask) for _ in range(3)]  # 1 running + 2 waiting
        assert service.entered.acquire(timeout=10)
        gate = app.state.gate
        deadline = time.monotonic() + 10
        while gate.admitted < 3 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert (gate.admitted, gate.running) == (3, 1)

        refused = []
        for path, body in [
            ("/v1/ask", {"question": "q"}),
            ("/v1/ask/stream", {"question": "q"}),
            (
                "/v1/chat/completions",
                {"model": "m", "messages": [{"role": "user", "content": "q"}]},
            ),
            (
                "/v1/chat/completions",
                {"model": "m", "stream": True, "messages": [{"role": "user", "content": "q"}]},
            ),
        ]:
            started = time.monotonic()
            response = httpx.post(f"{server.url}{path}", json=body, timeout=30)
            refused.append((response, time.monotonic() - started))
        with httpx.Client(base_url=server.url) as client:  # probes are never gated
            assert client.get("/healthz").status_code == 200

        service.release.set()
        assert [f.result().status_code for f in admitted] == [200, 200, 200]
        assert gate.admitted == 0

    for response, seconds in refused:
        assert response.status_code == 503 and seconds < 2
        assert response.json()["error"]["code"] == "overloaded"
        assert int(response.headers["retry-after"]) >= 1


class DrippingAssistant(FakeAssistant):
    """Streams a long draft slowly and records whether its generator was closed."""

    def __init__(self) -> None:
        super().__init__()
        self.closed = threading.Event()

    def stream(self, request: AskRequest) -> Iterator[StreamEvent]:
        try:
            for n in range(100):
                time.sleep(0.05)
                yield StreamEvent(type="token", text=f"t{n} ")
            yield StreamEvent(type="final", answer=self.ask(request))
        finally:
            self.closed.set()


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/v1/ask/stream", {"question": "q"}),
        (
            "/v1/chat/completions",
            {"model": "m", "stream": True, "messages": [{"role": "user", "content": "q"}]},
        ),
    ],
)
def test_client_disconnect_frees_the_slot_and_stops_the_service(path: str, body: dict) -> None:
    service = DrippingAssistant()
    settings = api_settings(llm_concurrency=1, llm_queue_limit=0)
    app = create_app(settings, service=service, library=FakeLibrary(), mount_ui=False)
    with serve(app) as server:
        with (
            httpx.Client(base_url=server.url, timeout=30) as client,
            client.stream("POST", path, json=body) as response,
        ):
            assert response.status_code == 200
            for line in response.iter_lines():
                if "t0" in line:
                    break  # the service is streaming; now walk away
        assert service.closed.wait(10), "the service's generator was not closed"
        deadline = time.monotonic() + 10
        while app.state.gate.admitted and time.monotonic() < deadline:
            time.sleep(0.02)
        assert app.state.gate.admitted == 0
        ok = httpx.post(f"{server.url}/v1/ask", json={"question": "q"}, timeout=30)
        assert ok.status_code == 200  # the only slot is free again
