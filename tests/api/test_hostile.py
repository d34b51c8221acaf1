"""Hostile and bad input to the answering endpoints and the Slack bot (issue #7).

Every case gets one 4xx in the error shape (`{"error": {"code", "message"}}`) and never reaches
the answering service. The limits are the shipped defaults (2,000-character questions, 20
history messages, 1 MB JSON bodies). Uploads are in test_uploads_hostile.py.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlencode

import pytest
from fastapi.testclient import TestClient

from api.main import JSON_BODY_LIMIT, create_app
from rag.config import Settings
from tests.api.conftest import SLACK_SECRET, SLACK_TOKEN, SlackStandIn, api_settings
from tests.fakes import FakeAssistant, FakeLibrary

pytestmark = pytest.mark.unit

DEFAULTS = Settings.model_fields
MAX_QUESTION = DEFAULTS["max_question_chars"].default
MAX_HISTORY = DEFAULTS["max_history_messages"].default


def _ask(question: Any, history: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return {"question": question, "history": history, **extra}


def _chat(stream: bool) -> Callable[..., dict[str, Any]]:
    def body(question: Any, history: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
        messages = [*history, {"role": "user", "content": question}]
        return {"model": "research-notes", "messages": messages, "stream": stream, **extra}

    return body


ENDPOINTS = {
    "ask": ("/v1/ask", _ask),
    "ask-stream": ("/v1/ask/stream", _ask),
    "chat": ("/v1/chat/completions", _chat(False)),
    "chat-stream": ("/v1/chat/completions", _chat(True)),
}


@pytest.fixture
def service() -> FakeAssistant:
    return FakeAssistant()


@pytest.fixture
def client(service: FakeAssistant) -> Iterator[TestClient]:
    app = create_app(api_settings(), service=service, library=FakeLibrary(), mount_ui=False)
    with TestClient(app) as test_client:
        yield test_client


def assert_error(response: Any, status: int, code: str) -> None:
    assert response.status_code == status, response.text[:500]
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}, body
    assert body["error"]["code"] == code and body["error"]["message"], body


def post_json(client: TestClient, path: str, body: Any) -> Any:
    # json.dumps escapes to ASCII, so lone surrogates ("\ud800") travel as JSON escapes.
    data = json.dumps(body).encode()
    return client.post(path, content=data, headers={"content-type": "application/json"})


def user(text: str) -> dict[str, str]:
    return {"role": "user", "content": text}


def assistant(text: str) -> dict[str, str]:
    return {"role": "assistant", "content": text}


# (question, history, extra fields) -> (status, code)
BAD_QUESTIONS: dict[str, tuple[Any, list[dict[str, Any]], dict[str, Any], int, str]] = {
    "empty": ("", [], {}, 400, "empty_question"),
    "whitespace": (" \n\t\u3000 ", [], {}, 400, "empty_question"),
    "zero-width only": ("\u200b\u200d\ufeff", [], {}, 400, "empty_question"),
    "100 KB": ("问" * (100 * 1024 // 3), [], {}, 400, "question_too_long"),
    "just over the limit": ("x" * (MAX_QUESTION + 1), [], {}, 400, "question_too_long"),
    "NUL and control bytes": ("AEC\x00\x01\x02\x1b[2J?", [], {}, 400, "invalid_characters"),
    "lone surrogate": ("AEC \ud800 demand?", [], {}, 400, "invalid_characters"),
    "not a string": (12345, [], {}, 422, "invalid_request"),
    "many history messages": (
        "q",
        [user("a"), assistant("b")] * MAX_HISTORY,
        {},
        400,
        "history_too_long",
    ),
    "huge user message in history": (
        "那Meta呢？",
        [user("英" * (MAX_QUESTION + 1))],
        {},
        400,
        "history_message_too_long",
    ),
    "huge assistant message in history": (
        "q",
        [user("a"), assistant("x" * (4 * MAX_QUESTION + 1))],
        {},
        400,
        "history_message_too_long",
    ),
    "binary history": ("q", [user("a\x00b")], {}, 400, "invalid_characters"),
    "bad role in history": ("q", [{"role": "root", "content": "a"}], {}, 422, "invalid_request"),
    "filter date not a date": (
        "q",
        [],
        {"filters": {"date_from": "yesterday"}},
        400,
        "invalid_filter",
    ),
    "filter date out of range": (
        "q",
        [],
        {"filters": {"date_to": "99999999999999999999"}},
        400,
        "invalid_filter",
    ),
    "top_k huge": ("q", [], {"top_k": 10**12}, 422, "invalid_request"),
}


@pytest.mark.parametrize("case", list(BAD_QUESTIONS))
@pytest.mark.parametrize("endpoint", list(ENDPOINTS))
def test_bad_questions_are_refused_before_answering(
    client: TestClient, service: FakeAssistant, endpoint: str, case: str
) -> None:
    path, make = ENDPOINTS[endpoint]
    question, history, extra, status, code = BAD_QUESTIONS[case]
    assert_error(post_json(client, path, make(question, history, **extra)), status, code)
    assert service.requests == []


def _nested(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


# Raw bodies that are not the JSON they claim to be.
BAD_BODIES: dict[str, tuple[bytes, str, int, str]] = {
    "invalid UTF-8": (b'{"question": "\xff\xfe\xfd AEC"}', "application/json", 400, "bad_request"),
    "100k levels of [[[[": (_nested(100_000), "application/json", 400, "bad_request"),
    "deep nesting in a field": (
        b'{"question": "q", "history": ' + _nested(100_000) + b"}",
        "application/json",
        400,
        "bad_request",
    ),
    "truncated JSON": (b'{"question": "q', "application/json", 422, "invalid_request"),
    "binary noise": (bytes(range(256)) * 8, "application/json", 422, "invalid_request"),
    "JSON array": (b'["question", "q"]', "application/json", 422, "invalid_request"),
    "form instead of JSON": (
        b"question=q",
        "application/x-www-form-urlencoded",
        422,
        "invalid_request",
    ),
    "over the 1 MB body limit": (
        b'{"question": "' + b"x" * JSON_BODY_LIMIT + b'"}',
        "application/json",
        413,
        "payload_too_large",
    ),
}


@pytest.mark.parametrize("case", list(BAD_BODIES))
@pytest.mark.parametrize("path", ["/v1/ask", "/v1/ask/stream", "/v1/chat/completions"])
def test_undecodable_bodies_are_refused(
    client: TestClient, service: FakeAssistant, path: str, case: str
) -> None:
    body, content_type, status, code = BAD_BODIES[case]
    response = client.post(path, content=body, headers={"content-type": content_type})
    assert_error(response, status, code)
    assert service.requests == []


def test_chat_counts_every_earlier_message(client: TestClient, service: FakeAssistant) -> None:
    """System and empty messages are not history, but they are not free either."""
    question = user("英伟达2026年AEC需求量是多少？")
    systems = [{"role": "system", "content": "s"}] * 20_000  # ~0.7 MB of tiny messages
    empties = [user("")] * (MAX_HISTORY + 2)
    for earlier in (systems, empties):
        body = {"model": "m", "messages": [*earlier, question]}
        assert_error(post_json(client, "/v1/chat/completions", body), 400, "history_too_long")
    content_parts = {"role": "user", "content": [{"type": "text", "text": "AEC\x00"}]}
    body = {"model": "m", "messages": [content_parts]}
    assert_error(post_json(client, "/v1/chat/completions", body), 400, "invalid_characters")
    assert service.requests == []
    # One system prompt on top of a full history is what OpenAI clients send: accepted.
    history = [user("a"), assistant("b")] * (MAX_HISTORY // 2)
    body = {"model": "m", "messages": [{"role": "system", "content": "s"}, *history, question]}
    assert post_json(client, "/v1/chat/completions", body).status_code == 200


def test_questions_at_the_limits_are_answered(client: TestClient, service: FakeAssistant) -> None:
    history = [user("问" * MAX_QUESTION), assistant("答" * 4 * MAX_QUESTION)] * (MAX_HISTORY // 2)
    body = _ask("\t英伟达2026年AEC需求量是多少？\n" + " " * 10, history)
    body["filters"] = {"date_from": "2025-01-01", "date_to": "2025-12-31"}
    assert post_json(client, "/v1/ask", body).status_code == 200
    assert post_json(client, "/v1/ask", _ask("x" * MAX_QUESTION, [])).status_code == 200
    assert len(service.requests) == 2


# -- Slack -------------------------------------------------------------------------------------

POST_MESSAGE = "/api/chat.postMessage"


@pytest.fixture
def slack(slack_api: SlackStandIn) -> Iterator[tuple[TestClient, FakeAssistant]]:
    """In-process app with Slack on: background answers run before the client returns."""
    settings = api_settings(
        slack_signing_secret=SLACK_SECRET,
        slack_bot_token=SLACK_TOKEN,
        slack_api_url=f"{slack_api.url}/api/",
    )
    service = FakeAssistant()
    app = create_app(settings, service=service, library=FakeLibrary(), mount_ui=False)
    with TestClient(app) as test_client:
        yield test_client, service


def signed(body: bytes, *, secret: str = SLACK_SECRET, age_s: int = 0) -> dict[str, str]:
    timestamp = str(int(time.time()) - age_s)
    base = b"v0:" + timestamp.encode() + b":" + body
    digest = hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": timestamp, "X-Slack-Signature": f"v0={digest}"}


def _event(event_id: str) -> tuple[str, bytes, str]:
    payload = {
        "type": "event_callback",
        "event_id": event_id,
        "event": {
            "type": "app_mention",
            "user": "U1",
            "text": "<@U0BOT> 英伟达2026年AEC需求量是多少？",
            "channel": "C1",
            "ts": f"{time.time():.6f}",
        },
    }
    return "/slack/events", json.dumps(payload).encode(), "application/json"


def _command(hook: str, slack_api: SlackStandIn) -> tuple[str, bytes, str]:
    form = {"command": "/ask", "text": "NV AEC 2026?", "response_url": f"{slack_api.url}{hook}"}
    return "/slack/commands", urlencode(form).encode(), "application/x-www-form-urlencoded"


def _answered(service: FakeAssistant, slack_api: SlackStandIn, calls_before: int) -> int:
    assert len(slack_api.calls) - calls_before == len(service.requests)
    return len(service.requests)


@pytest.mark.parametrize("kind", ["events", "commands"])
def test_slack_replay_is_refused_and_not_answered_again(
    slack: tuple[TestClient, FakeAssistant], slack_api: SlackStandIn, kind: str
) -> None:
    client, service = slack
    before = len(slack_api.calls)
    path, body, ctype = (
        _event(f"Ev-replay-{time.time_ns()}")
        if kind == "events"
        else _command(f"/commands/replay/{time.time_ns()}", slack_api)
    )
    headers = {**signed(body), "Content-Type": ctype}
    assert client.post(path, content=body, headers=headers).status_code == 200
    assert _answered(service, slack_api, before) == 1
    for _ in range(2):  # the same signature, timestamp and body again
        assert_error(client.post(path, content=body, headers=headers), 401, "replayed_request")
    assert _answered(service, slack_api, before) == 1
    if kind == "events":
        # Slack's own retry is signed afresh: it passes verification and is dropped by event_id.
        # Signed a second later than the first (the same second would be a replay).
        retry = {**signed(body, age_s=-1), "Content-Type": ctype, "X-Slack-Retry-Num": "1"}
        reply = client.post(path, content=body, headers=retry)
        assert reply.status_code == 200 and reply.json()["duplicate"] is True
        assert _answered(service, slack_api, before) == 1


@pytest.mark.parametrize(
    "forge",
    [
        pytest.param(lambda body: signed(body, secret="not-the-secret"), id="bad-signature"),
        pytest.param(lambda body: signed(body, age_s=5 * 60 + 30), id="stale"),
        pytest.param(lambda body: signed(body, age_s=-(5 * 60 + 30)), id="from-the-future"),
        pytest.param(
            lambda body: {**signed(body), "X-Slack-Signature": "v0=" + "0" * 64}, id="zeros"
        ),
        pytest.param(lambda body: {}, id="unsigned"),
    ],
)
def test_slack_command_with_a_forged_or_stale_signature_is_refused(
    slack: tuple[TestClient, FakeAssistant], slack_api: SlackStandIn, forge: Any
) -> None:
    client, service = slack
    before = len(slack_api.calls)
    path, body, ctype = _command("/commands/forged", slack_api)
    response = client.post(path, content=body, headers={**forge(body), "Content-Type": ctype})
    assert_error(response, 401, "invalid_signature")
    assert service.requests == [] and len(slack_api.calls) == before


def test_slack_event_from_the_future_and_deeply_nested_are_refused(
    slack: tuple[TestClient, FakeAssistant], slack_api: SlackStandIn
) -> None:
    client, service = slack
    before = len(slack_api.calls)
    path, body, ctype = _event("Ev-future")
    future = {**signed(body, age_s=-(5 * 60 + 30)), "Content-Type": ctype}
    assert_error(client.post(path, content=body, headers=future), 401, "invalid_signature")
    nested = _nested(100_000)  # signed correctly, so only the body is hostile
    response = client.post(path, content=nested, headers={**signed(nested), "Content-Type": ctype})
    assert_error(response, 400, "bad_json")
    assert service.requests == [] and len(slack_api.calls) == before
