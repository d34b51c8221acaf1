"""`POST /v1/feedback` and `GET /v1/feedback` over a real uvicorn server (fakes for the
answering service): every answer path names its answer, a rating by id stores what was
served, ratings by content, pages, refusals, keys and a broken store."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.feedback_store import FeedbackStore
from api.main import create_app
from rag.types import FEEDBACK_REASON_MAX_CHARS
from tests.api.conftest import LiveServer, api_settings, serve
from tests.fakes import NV_QUOTE, FakeAssistant, FakeLibrary

pytestmark = pytest.mark.integration

QUESTION = "英伟达2026年AEC需求量是多少？"
ANSWER_ID = re.compile(r"[0-9a-f]{32}")


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LiveServer]:
    settings = api_settings(data_dir=tmp_path / "data", commit="test-commit")
    app = create_app(settings, service=FakeAssistant(), library=FakeLibrary(), mount_ui=False)
    with serve(app) as live:
        yield live


def sse(text: str) -> list[tuple[str, str]]:
    """(event, data) pairs of a Server-Sent Events body."""
    events = []
    for block in text.replace("\r\n", "\n").split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line)
        if "data" in fields:
            events.append((fields.get("event", "message"), fields["data"]))
    return events


def assert_error(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text[:300]
    body = response.json()
    assert set(body) == {"error"} and body["error"]["code"] == code and body["error"]["message"]
    return body["error"]


def test_every_answer_path_names_its_answer_and_a_rating_stores_what_was_served(
    server: LiveServer,
) -> None:
    history = [{"role": "user", "content": "Meta的呢？"}, {"role": "assistant", "content": "…"}]
    with server.client() as client:
        asked = client.post("/v1/ask", json={"question": QUESTION, "history": history}).json()
        streamed = sse(client.post("/v1/ask/stream", json={"question": QUESTION}).text)
        final = json.loads(streamed[-1][1])
        chat = client.post(
            "/v1/chat/completions", json={"messages": [{"role": "user", "content": QUESTION}]}
        ).json()
        chunks = sse(
            client.post(
                "/v1/chat/completions",
                json={"stream": True, "messages": [{"role": "user", "content": QUESTION}]},
            ).text
        )
        last = json.loads(chunks[-2][1])  # the stop chunk, before [DONE]
        ids = [asked["answer_id"], final["answer_id"], chat["answer"]["answer_id"]]
        ids.append(last["answer"]["answer_id"])
        assert streamed[-1][0] == "final" and last["choices"][0]["finish_reason"] == "stop"
        assert all(ANSWER_ID.fullmatch(i) for i in ids) and len(set(ids)) == 4

        rated = client.post(
            "/v1/feedback",
            json={
                "answer_id": asked["answer_id"],
                "rating": "down",
                "reason": "  that is the 2025 figure  ",
                "answer": "a client's own version is not what was served",
            },
        )
        assert rated.status_code == 201, rated.text
        row = rated.json()
        assert row["answer"] == asked["answer"] == "英伟达2026年AEC需求量约为170万根[1]。"
        assert row["question"] == QUESTION and row["history"] == history
        assert row["citations"] == asked["citations"] and row["citations"][0]["quote"] == NV_QUOTE
        assert (row["language"], row["verification_status"]) == ("zh", "verified")
        assert (row["surface"], row["user"], row["commit"]) == ("api", None, "test-commit")
        assert row["reason"] == "that is the 2025 figure" and row["answer_id"] == ids[0]
        for answer_id in ids[1:]:  # the streamed and OpenAI-style answers are kept too
            up = client.post("/v1/feedback", json={"answer_id": answer_id, "rating": "up"})
            assert up.status_code == 201 and up.json()["question"] == QUESTION

        listed = client.get("/v1/feedback", params={"rating": "down"}).json()
        assert listed["total"] == 1 and listed["items"] == [row]
        assert client.get("/v1/feedback", params={"rating": "up"}).json()["total"] == 3


def test_an_answer_not_kept_here_is_rated_by_its_content(server: LiveServer) -> None:
    citation = {
        "n": 1,
        "source": "003_558daa5f5094b1d2.txt",
        "title": "AEC及电源线专家交流",
        "date": "2025-11-12",
        "quote": NV_QUOTE,
        "start": 10,
        "end": 36,
        "score": 0.9,
    }
    body = {
        "rating": "down",
        "question": "What is Nvidia's 2026 AEC demand?",
        "answer": "About 1.7 million cables [1].",
        "citations": [citation],
        "language": "en",
        "verification_status": "verified",
        "user": "analyst-7",
    }
    with server.client() as client:
        rated = client.post("/v1/feedback", json=body)
        assert rated.status_code == 201, rated.text
        row = rated.json()
        assert row["answer"] == body["answer"] and row["citations"][0]["quote"] == NV_QUOTE
        assert (row["user"], row["answer_id"], row["commit"]) == ("analyst-7", None, "test-commit")
        # An id from elsewhere (another replica, before a restart) with the content: stored.
        other = client.post("/v1/feedback", json={**body, "answer_id": "f" * 32})
        assert other.status_code == 201 and other.json()["answer_id"] == "f" * 32


def test_the_list_pages_and_filters(server: LiveServer) -> None:
    content = {"question": "q", "answer": "a"}
    with server.client() as client:
        for rating in ["down", "up", "down", "down", "up"]:
            assert client.post("/v1/feedback", json={**content, "rating": rating}).is_success
        page = client.get("/v1/feedback", params={"rating": "down", "limit": 2}).json()
        assert (page["count"], page["total"], page["limit"], page["offset"]) == (2, 3, 2, 0)
        assert [i["id"] for i in page["items"]] == [4, 3]  # newest first
        rest = client.get("/v1/feedback", params={"rating": "down", "limit": 2, "offset": 2})
        assert [i["id"] for i in rest.json()["items"]] == [1]
        assert client.get("/v1/feedback").json()["total"] == 5
        assert client.get("/v1/feedback", params={"surface": "slack"}).json()["total"] == 0
        for params in (
            {"limit": 0},
            {"limit": 501},
            {"offset": -1},
            {"offset": 10**12},
            {"rating": "meh"},
            {"surface": "email"},
        ):
            assert_error(client.get("/v1/feedback", params=params), 422, "invalid_request")


def test_bad_feedback_is_a_clear_4xx_and_stores_nothing(server: LiveServer) -> None:
    content = {"question": QUESTION, "answer": "170万根"}
    longest = "因" * FEEDBACK_REASON_MAX_CHARS
    with server.client() as client:
        too_long = client.post(
            "/v1/feedback", json={**content, "rating": "down", "reason": longest + "。"}
        )
        message = assert_error(too_long, 422, "invalid_request")["message"]
        assert "reason" in message and "1000 characters" in message
        huge = b'{"rating": "down", "question": "q", "answer": "a", "reason": "'
        huge += b"x" * (2 * 1024 * 1024) + b'"}'
        assert_error(
            client.post("/v1/feedback", content=huge, headers={"content-type": "application/json"}),
            413,
            "payload_too_large",
        )
        cases = {
            "no rating": ({**content}, 422, "invalid_request"),
            "bad rating": ({**content, "rating": "meh"}, 422, "invalid_request"),
            "unknown field": ({**content, "rating": "up", "stars": 5}, 422, "invalid_request"),
            "bad answer_id": ({"rating": "up", "answer_id": "../x"}, 422, "invalid_request"),
            "nothing rated": ({"rating": "up"}, 400, "missing_answer"),
            "blank answer": (
                {"rating": "up", "question": "q", "answer": " "},
                400,
                "missing_answer",
            ),
            "unknown answer_id": ({"rating": "up", "answer_id": "0" * 32}, 404, "unknown_answer"),
            "control characters": (
                {**content, "rating": "down", "reason": "bad\x00"},
                400,
                "invalid_characters",
            ),
            "control characters in user": (
                {**content, "rating": "up", "user": "ann\x1b[31m"},
                400,
                "invalid_characters",
            ),
            "long question": (
                {"rating": "down", "question": "x" * 2001, "answer": "a"},
                400,
                "question_too_long",
            ),
        }
        for name, (body, status, code) in cases.items():
            response = client.post("/v1/feedback", json=body)
            assert response.status_code == status, f"{name}: {response.text[:200]}"
            assert response.json()["error"]["code"] == code, name
        assert client.get("/v1/feedback").json()["total"] == 0
        kept = client.post("/v1/feedback", json={**content, "rating": "down", "reason": longest})
        assert kept.status_code == 201 and kept.json()["reason"] == longest  # in full


def test_feedback_wants_the_api_key_and_records_which_one(tmp_path: Path) -> None:
    settings = api_settings(data_dir=tmp_path / "data", api_keys=["k-one", "k-two"])
    app = create_app(settings, service=FakeAssistant(), library=FakeLibrary(), mount_ui=False)
    one, two = ({"Authorization": f"Bearer {k}"} for k in ("k-one", "k-two"))
    with serve(app) as live, live.client() as client:
        assert_error(client.get("/v1/feedback"), 401, "missing_api_key")
        assert_error(client.post("/v1/feedback", json={"rating": "up"}), 401, "missing_api_key")
        answer_id = client.post("/v1/ask", json={"question": QUESTION}, headers=two).json()[
            "answer_id"
        ]
        rate = {"answer_id": answer_id, "rating": "down"}
        first = client.post("/v1/feedback", json=rate, headers=two).json()
        assert first["user"] == "key-2"  # the key's position, nothing derived from the secret
        again = client.post("/v1/feedback", json={**rate, "rating": "up"}, headers=two).json()
        assert again["id"] == first["id"] and again["rating"] == "up"  # replaced, not added
        own = client.post("/v1/feedback", json={**rate, "user": "ann"}, headers=two).json()
        other = client.post("/v1/feedback", json=rate, headers=one).json()
        assert (own["user"], other["user"]) == ("key-2:ann", "key-1")
        listed = client.get("/v1/feedback", headers=one).json()
        assert listed["total"] == 3


def test_a_broken_store_is_a_503_and_answers_still_come(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("not a folder")
    store = FeedbackStore(tmp_path / "a-file" / "feedback.sqlite3", commit="c")
    app = create_app(
        api_settings(data_dir=tmp_path / "data"),
        service=FakeAssistant(),
        library=FakeLibrary(),
        feedback_store=store,
        mount_ui=False,
    )
    with serve(app) as live, live.client() as client:
        answer = client.post("/v1/ask", json={"question": QUESTION})
        assert answer.status_code == 200 and answer.json()["answer_id"] is None
        assert_error(client.get("/v1/feedback"), 503, "feedback_unavailable")
        rated = client.post("/v1/feedback", json={"rating": "up", "question": "q", "answer": "a"})
        assert_error(rated, 503, "feedback_unavailable")
        assert rated.headers["retry-after"] == "5"
