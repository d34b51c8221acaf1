"""The app in-process (TestClient) with fakes: contracts, error shape, auth, limits."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from api.deps import get_library, get_service
from api.documents import rejection_status
from api.main import create_app
from rag.types import Answer
from tests.api.conftest import api_settings
from tests.fakes import FakeAssistant, FakeLibrary

pytestmark = pytest.mark.unit

ANSWER_KEYS = {
    "answer",
    "language",
    "abstained",
    "status",
    "citations",
    "tool_calls",
    "verification",
    "timings_ms",
    "answer_id",
}
CITATION_KEYS = {"n", "source", "title", "date", "quote", "start", "end", "score", "context"}


@pytest.fixture
def client(fake_service: FakeAssistant, fake_library: FakeLibrary) -> Iterator[TestClient]:
    settings = api_settings(max_question_chars=50, max_history_messages=2, max_upload_bytes=100)
    app = create_app(settings, service=fake_service, library=fake_library, mount_ui=False)
    with TestClient(app) as test_client:
        yield test_client


def assert_error(response, status: int, code: str) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}
    assert body["error"]["code"] == code and body["error"]["message"]


def test_ask_returns_the_answer_model_fields(
    client: TestClient, fake_service: FakeAssistant
) -> None:
    response = client.post(
        "/v1/ask",
        json={
            "question": "英伟达2026年AEC需求量是多少？",
            "history": [
                {"role": "user", "content": "hi"},
                {"role": "assistant", "content": "hello"},
            ],
            "filters": {"date_from": "2025-01-01"},
            "top_k": 3,
        },
    )
    assert response.status_code == 200
    body = response.json()
    assert set(body) == ANSWER_KEYS
    assert set(body["citations"][0]) == CITATION_KEYS
    assert body["answer"] == "英伟达2026年AEC需求量约为170万根[1]。" and body["language"] == "zh"
    seen = fake_service.requests[-1]
    assert seen.top_k == 3 and seen.filters and seen.filters.date_from == "2025-01-01"
    assert [m.role for m in seen.history] == ["user", "assistant"]


def test_dependency_overrides_swap_the_service(client: TestClient) -> None:
    class Abstaining(FakeAssistant):
        def ask(self, request):  # type: ignore[no-untyped-def]
            return Answer(answer="not in the notes", language="en", abstained=True)

    client.app.dependency_overrides[get_service] = Abstaining  # type: ignore[attr-defined]
    assert client.post("/v1/ask", json={"question": "q"}).json()["abstained"] is True


def test_one_error_shape_for_4xx(client: TestClient) -> None:
    assert_error(client.post("/v1/ask", json={}), 422, "invalid_request")
    assert_error(client.post("/v1/ask", json={"question": "q", "top_k": 0}), 422, "invalid_request")
    assert_error(
        client.post("/v1/ask", content=b"{not json", headers={"content-type": "application/json"}),
        422,
        "invalid_request",
    )
    assert_error(client.get("/v1/nothing-here"), 404, "not_found")
    assert_error(client.delete("/v1/ask"), 405, "method_not_allowed")
    assert_error(client.post("/v1/ask", json={"question": " "}), 400, "empty_question")
    assert_error(client.post("/v1/ask", json={"question": "x" * 51}), 400, "question_too_long")
    history = [{"role": "user", "content": "a"}] * 3
    assert_error(
        client.post("/v1/ask", json={"question": "q", "history": history}), 400, "history_too_long"
    )
    assert_error(
        client.post("/v1/ask/stream", json={"question": "x" * 51}), 400, "question_too_long"
    )


def test_body_over_the_json_limit_is_413(client: TestClient) -> None:
    big = b'{"question": "' + b"x" * (1024 * 1024 + 10) + b'"}'
    response = client.post("/v1/ask", content=big, headers={"content-type": "application/json"})
    assert_error(response, 413, "payload_too_large")


def test_service_failure_is_a_500_in_the_error_shape(fake_library: FakeLibrary) -> None:
    class Broken(FakeAssistant):
        def ask(self, request):  # type: ignore[no-untyped-def]
            raise RuntimeError("boom")

    app = create_app(api_settings(), service=Broken(), library=fake_library, mount_ui=False)
    with TestClient(app, raise_server_exceptions=False) as test_client:
        assert_error(test_client.post("/v1/ask", json={"question": "q"}), 500, "internal_error")


def test_auth_when_keys_are_set(fake_service: FakeAssistant, fake_library: FakeLibrary) -> None:
    app = create_app(
        api_settings(api_keys=["k-one", "k-two"]),
        service=fake_service,
        library=fake_library,
        mount_ui=False,
    )
    with TestClient(app) as test_client:
        missing = test_client.post("/v1/ask", json={"question": "q"})
        assert_error(missing, 401, "missing_api_key")
        assert missing.headers["www-authenticate"] == "Bearer"
        wrong = test_client.get("/v1/documents", headers={"Authorization": "Bearer nope"})
        assert_error(wrong, 401, "invalid_api_key")
        for key in ("k-one", "k-two"):
            ok = test_client.get("/v1/models", headers={"Authorization": f"Bearer {key}"})
            assert ok.status_code == 200
        assert test_client.get("/healthz").status_code == 200  # probes stay open
        assert test_client.get("/readyz").status_code == 200


def test_documents_upload_list_delete(client: TestClient) -> None:
    created = client.post("/v1/documents", files={"file": ("note.txt", "英伟达AEC".encode())})
    assert created.status_code == 201 and created.json()["added"] == 1
    listed = client.get("/v1/documents").json()
    assert listed["count"] == 1 and listed["documents"][0]["doc_id"] == "uploads/note.txt"
    assert client.delete("/v1/documents/uploads/note.txt").json()["deleted"] == 1
    assert_error(client.delete("/v1/documents/uploads/note.txt"), 404, "document_not_found")
    assert client.get("/v1/documents").json() == {"documents": [], "count": 0}


def test_rejected_uploads_map_to_4xx(client: TestClient) -> None:
    assert_error(
        client.post("/v1/documents", files={"file": ("a.exe", b"MZ")}), 415, "unsupported_type"
    )
    assert_error(client.post("/v1/documents", files={"file": ("a.txt", b"  ")}), 400, "empty")
    assert_error(
        client.post("/v1/documents", files={"file": ("a.txt", b"x" * 101)}), 413, "too_large"
    )
    assert_error(client.post("/v1/documents", data={"x": "1"}), 422, "invalid_request")


def test_rejection_reasons_to_status() -> None:
    assert [
        rejection_status(r) for r in ("too_large", "unsupported_type", "empty", "bad_name")
    ] == [413, 415, 400, 400]


def test_readyz_503_with_the_map(fake_library: FakeLibrary) -> None:
    class NoLlm(FakeAssistant):
        def readiness(self) -> dict[str, bool]:
            return {"index": True, "llm": False}

    app = create_app(api_settings(), service=NoLlm(), library=fake_library, mount_ui=False)
    with TestClient(app) as test_client:
        response = test_client.get("/readyz")
    assert response.status_code == 503
    assert response.json() == {
        "ready": False,
        "components": {"service": True, "index": True, "llm": False, "warm_up": True},
    }


def test_lifespan_warms_up_and_gates_answers_meanwhile(fake_library: FakeLibrary) -> None:
    import threading

    loaded = threading.Event()

    class Warming(FakeAssistant):
        def warm_up(self) -> None:
            loaded.wait(10)

    app = create_app(api_settings(), service=Warming(), library=fake_library, mount_ui=False)
    with TestClient(app) as test_client:
        assert test_client.get("/healthz").status_code == 200
        assert test_client.get("/readyz").json()["components"]["warm_up"] is False
        busy = test_client.post("/v1/ask", json={"question": "q"})
        assert_error(busy, 503, "warming_up")
        assert busy.headers["retry-after"] == "10"
        loaded.set()
        for _ in range(100):
            if test_client.get("/readyz").status_code == 200:
                break
            threading.Event().wait(0.02)
        assert test_client.get("/readyz").status_code == 200
        assert test_client.post("/v1/ask", json={"question": "q"}).status_code == 200


def test_override_library_dependency(client: TestClient) -> None:
    other = FakeLibrary()
    other.add("x.md", b"# x")
    client.app.dependency_overrides[get_library] = lambda: other  # type: ignore[attr-defined]
    assert client.get("/v1/documents").json()["count"] == 1


def test_root_redirects(client: TestClient) -> None:
    response = client.get("/", follow_redirects=False)
    assert response.status_code == 307 and response.headers["location"] == "/docs"
