"""Degrade, don't refuse, over real HTTP (uvicorn on a loopback port), with a stand-in
service whose model holds its only place until released: while it does, questions on every
surface (/v1/ask, /v1/ask/stream, the OpenAI stream through the official client, Slack) are
answered at once without the model and marked so; 503 + Retry-After only once the lane
without the model is full too. The same with the embedded LLM: test_degrade_real.py."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from openai import OpenAI

from api.main import create_app
from rag.types import Answer, AskRequest, StreamEvent
from tests.api.conftest import (
    SLACK_SECRET,
    SLACK_TOKEN,
    LiveServer,
    SlackStandIn,
    api_settings,
    serve,
)
from tests.api.test_slack_live import POST_MESSAGE, event_body, post_event, signed
from tests.fakes import FakeAssistant, FakeLibrary

pytestmark = pytest.mark.integration

QUESTION = {"question": "英伟达2026年AEC需求量是多少？"}
CLIENTS = 8


class HeldModel(FakeAssistant):
    """The model's answers wait for `release`; with `hold_plain` set, so do the answers
    without it (a saturated deterministic lane)."""

    def __init__(self) -> None:
        super().__init__()
        self.release = threading.Event()
        self.in_model = threading.Event()
        self.hold_plain = False

    def ask(self, request: AskRequest, *, use_llm: bool = True) -> Answer:
        if use_llm:
            self.in_model.set()
            assert self.release.wait(30), "the test never released the model"
        elif self.hold_plain:
            assert self.release.wait(30)
        return super().ask(request, use_llm=use_llm)

    def stream(self, request: AskRequest, *, use_llm: bool = True) -> Iterator[StreamEvent]:
        yield StreamEvent(type="final", answer=self.ask(request, use_llm=use_llm))


@pytest.fixture
def held() -> HeldModel:
    return HeldModel()


@pytest.fixture
def server(held: HeldModel, slack_api: SlackStandIn) -> Iterator[LiveServer]:
    settings = api_settings(
        llm="llamacpp",  # the gate of an LLM service; the stand-in plays the model
        llm_concurrency=1,
        llm_queue_limit=0,
        deterministic_concurrency=2,
        deterministic_queue_limit=CLIENTS,
        slack_signing_secret=SLACK_SECRET,
        slack_bot_token=SLACK_TOKEN,
        slack_api_url=f"{slack_api.url}/api/",
    )
    app = create_app(settings, service=held, library=FakeLibrary(), mount_ui=False)
    with serve(app) as live:
        yield live
    held.release.set()


def _hold_the_model(server: LiveServer, held: HeldModel) -> Any:
    pool = ThreadPoolExecutor(1)
    first = pool.submit(lambda: httpx.post(f"{server.url}/v1/ask", json=QUESTION, timeout=60))
    assert held.in_model.wait(10), "the first question never reached the model"
    return first


def _sse(response: httpx.Response) -> list[tuple[str, str]]:
    events, kind = [], "message"
    for line in response.text.splitlines():
        if line.startswith("event: "):
            kind = line[7:]
        elif line.startswith("data: "):
            events.append((kind, line[6:]))
            kind = "message"
    return events


def test_while_the_model_is_busy_every_surface_answers_without_it(
    server: LiveServer, held: HeldModel, slack_api: SlackStandIn
) -> None:
    first = _hold_the_model(server, held)

    def ask(_: int) -> httpx.Response:
        return httpx.post(f"{server.url}/v1/ask", json=QUESTION, timeout=30)

    with ThreadPoolExecutor(CLIENTS) as pool:
        answers = list(pool.map(ask, range(CLIENTS)))
    assert [r.status_code for r in answers] == [200] * CLIENTS
    for body in (r.json() for r in answers):
        assert body["verification"]["degraded"] == "llm_busy", body
        assert body["verification"]["llm"] == "not used" and "170万根" in body["answer"]
        assert body["status"] == "✓ 数字直接引自来源"

    stream = httpx.post(f"{server.url}/v1/ask/stream", json=QUESTION, timeout=30)
    kind, data = _sse(stream)[-1]
    assert stream.status_code == 200 and kind == "final"
    assert json.loads(data)["verification"]["degraded"] == "llm_busy"

    client = OpenAI(base_url=f"{server.url}/v1", api_key="unused", max_retries=0)
    chunks = list(
        client.chat.completions.create(
            model="research-notes",
            messages=[{"role": "user", "content": QUESTION["question"]}],
            stream=True,
        )
    )
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    final = chunks[-1].model_extra["answer"]
    assert text == final["answer"] and final["verification"]["degraded"] == "llm_busy"

    before = len(slack_api.posts(POST_MESSAGE))
    body = event_body(
        "Ev-degrade-1",
        {
            "type": "app_mention",
            "user": "U1",
            "text": "<@U0BOT> 英伟达2026年AEC需求量是多少？",
            "channel": "C1",
            "ts": "1.1",
        },
    )
    assert post_event(server, body, signed(body)).status_code == 200
    posted = slack_api.wait_for(POST_MESSAGE, before + 1)[-1]["body"]["text"]
    assert "170万根" in posted and "✓ 数字直接引自来源" in posted
    assert "llm_busy" not in posted and "try again" not in posted

    held.release.set()
    answered = first.result(timeout=30)
    assert answered.status_code == 200
    assert answered.json()["verification"]["llm"] == "used"
    assert "degraded" not in answered.json()["verification"]
    assert held.llm_flags.count(True) == 1  # only the first question reached the model


def test_only_a_full_lane_without_the_model_gives_503_with_retry_after(
    server: LiveServer, held: HeldModel
) -> None:
    held.hold_plain = True
    first = _hold_the_model(server, held)
    capacity = 2 + CLIENTS  # the plain lane's places

    def ask(_: int) -> httpx.Response:
        return httpx.post(f"{server.url}/v1/ask", json=QUESTION, timeout=30)

    with ThreadPoolExecutor(capacity + 3) as pool:
        waiting = [pool.submit(ask, i) for i in range(capacity)]
        gate = server.app.state.gate
        deadline = time.monotonic() + 10
        while gate.overflow.admitted < capacity:  # all of them admitted, none answered
            assert time.monotonic() < deadline, gate.overflow.admitted
            time.sleep(0.02)
        refused = [f.result() for f in [pool.submit(ask, i) for i in range(3)]]
        assert [r.status_code for r in refused] == [503] * 3
        assert all(int(r.headers["Retry-After"]) >= 1 for r in refused)
        assert all(r.json()["error"]["code"] == "overloaded" for r in refused)
        held.release.set()
        assert [f.result().status_code for f in waiting] == [200] * capacity
    assert first.result(timeout=30).status_code == 200
