"""Streaming edge cases in-process: a corrected draft, a failing service, a broken contract."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from api.errors import ApiError
from api.limits import AnswerGate
from api.main import create_app
from api.openai_compat import _completion_of
from api.slack_bot import SlackBot
from rag.types import Answer, AskRequest, StreamEvent
from tests.api.conftest import api_settings
from tests.fakes import FakeAssistant, FakeLibrary

pytestmark = pytest.mark.unit


class Scripted(FakeAssistant):
    """Streams the given events; raises when it meets an exception instance."""

    def __init__(self, events: list[StreamEvent | Exception]) -> None:
        super().__init__()
        self.events = events

    def stream(self, request: AskRequest) -> Iterator[StreamEvent]:
        for event in self.events:
            if isinstance(event, Exception):
                raise event
            yield event


def client_for(service: FakeAssistant) -> TestClient:
    return TestClient(
        create_app(api_settings(), service=service, library=FakeLibrary(), mount_ui=False)
    )


def sse(text: str) -> list[tuple[str, str]]:
    events, kind = [], "message"
    for line in text.splitlines():
        if line.startswith("event: "):
            kind = line[7:]
        elif line.startswith("data: "):
            events.append((kind, line[6:]))
            kind = "message"
    return events


FINAL = Answer(answer="Verified: 170万根 [1].", language="zh")


def test_completion_of_draft() -> None:
    assert _completion_of("Verified: 170万根 ", FINAL) == "[1]."
    assert _completion_of("Verified: 170万根 [1]. ", FINAL) == ""
    assert _completion_of("Draft said 180万根", FINAL) == "\n\n更正后的回答：Verified: 170万根 [1]."


def test_corrected_draft_in_openai_stream() -> None:
    service = Scripted(
        [
            StreamEvent(type="token", text="Draft said 180万根"),
            StreamEvent(type="final", answer=FINAL),
        ]
    )
    body = {"model": "m", "stream": True, "messages": [{"role": "user", "content": "q"}]}
    with client_for(service) as client:
        events = sse(client.post("/v1/chat/completions", json=body).text)
    assert events[-1] == ("message", "[DONE]")
    chunks = [json.loads(data) for _, data in events[:-1]]
    text = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks)
    assert text == "Draft said 180万根\n\n更正后的回答：Verified: 170万根 [1]."
    assert chunks[-1]["answer"]["answer"] == FINAL.answer and chunks[-1]["sources"] == []


@pytest.mark.parametrize(
    ("events", "code"),
    [
        ([StreamEvent(type="token", text="a"), RuntimeError("model crashed")], "internal_error"),
        ([StreamEvent(type="token", text="a")], "no_final_answer"),
    ],
)
def test_stream_failure_ends_with_an_error_event(events: list, code: str) -> None:
    with client_for(Scripted(events)) as client:
        ask = sse(client.post("/v1/ask/stream", json={"question": "q"}).text)
        chat = sse(
            client.post(
                "/v1/chat/completions",
                json={"model": "m", "stream": True, "messages": [{"role": "user", "content": "q"}]},
            ).text
        )
        assert client.app.state.gate.admitted == 0  # type: ignore[attr-defined]
    assert ask[0] == ("token", '{"text": "a"}')
    assert ask[-1][0] == "error" and json.loads(ask[-1][1])["error"]["code"] == code
    assert json.loads(chat[-1][1])["error"]["code"] == code  # the openai client raises on this
    assert ("message", "[DONE]") not in chat


def test_slack_answer_when_busy_or_too_long() -> None:
    bot = SlackBot(api_settings(max_question_chars=10))
    gate = AnswerGate(concurrency=1, queue_limit=0)
    gate.admit()  # the only slot is taken
    busy = asyncio.run(bot.answer(FakeAssistant(), gate, "NV 2026?"))
    assert busy.startswith(":hourglass:") and "try again in" in busy
    long = asyncio.run(bot.answer(FakeAssistant(), AnswerGate(1, 0), "x" * 11))
    assert long.startswith(":warning:") and "limit is 10" in long
    ok = asyncio.run(bot.answer(FakeAssistant(), AnswerGate(1, 0), "NV 2026?"))
    assert ok.startswith("About 1.7 million cables") and "*Sources*" in ok


def test_slack_disabled_without_signing_secret() -> None:
    with client_for(FakeAssistant()) as client:
        response = client.post("/slack/events", content=b"{}")
    assert response.status_code == 404 and response.json()["error"]["code"] == "slack_disabled"
    with pytest.raises(ApiError):
        SlackBot(api_settings()).verify(b"{}", {})
