"""Streaming edge cases in-process: a final answer that does not continue the tokens, a
failing service, a broken contract."""

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


def test_completion_of_streamed_text() -> None:
    assert _completion_of("", FINAL) == FINAL.answer
    assert _completion_of("Verified: 170万根 ", FINAL) == "[1]."
    assert _completion_of("Verified: 170万根 [1].", FINAL) == ""
    # A final answer that does not continue the deltas gets no second answer appended.
    assert _completion_of("Draft said 180万根", FINAL) == ""


def _openai_text(client: TestClient) -> tuple[str, dict]:
    body = {"model": "m", "stream": True, "messages": [{"role": "user", "content": "q"}]}
    events = sse(client.post("/v1/chat/completions", json=body).text)
    assert events[-1] == ("message", "[DONE]")
    chunks = [json.loads(data) for _, data in events[:-1]]
    text = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks)
    return text, chunks[-1]


def test_openai_stream_reads_as_the_final_answer_with_no_correction_tail() -> None:
    service = Scripted(
        [
            StreamEvent(type="token", text="Verified: 170万根 "),
            StreamEvent(type="final", answer=FINAL),
        ]
    )
    with client_for(service) as client:
        text, last = _openai_text(client)
    assert text == FINAL.answer
    assert last["answer"]["answer"] == FINAL.answer and last["sources"] == []


def test_openai_stream_never_appends_a_second_answer() -> None:
    """Should a service break the contract (tokens not a prefix of its final answer), the
    client still sees one answer, not the tokens plus a "corrected" one."""
    service = Scripted(
        [StreamEvent(type="token", text="Other text"), StreamEvent(type="final", answer=FINAL)]
    )
    with client_for(service) as client:
        text, last = _openai_text(client)
    assert text == "Other text" and "更正" not in text and "Corrected" not in text
    assert last["answer"]["answer"] == FINAL.answer


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
    assert busy.startswith(":hourglass:") and "please ask again in" in busy
    assert "questions are being answered" not in busy  # plain words, not the gate's internals
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
