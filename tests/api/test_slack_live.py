"""The Slack bot end to end: real signed requests against the running server, answers
posted to a local stand-in for Slack's Web API."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from urllib.parse import urlencode

import httpx
import pytest

from tests.api.conftest import SLACK_SECRET, SLACK_TOKEN, LiveServer, SlackStandIn

pytestmark = pytest.mark.integration

POST_MESSAGE = "/api/chat.postMessage"


def signed(body: bytes, *, secret: str = SLACK_SECRET, age_s: int = 0) -> dict[str, str]:
    """Headers Slack would send: v0 HMAC-SHA256 of 'v0:{timestamp}:{body}'."""
    timestamp = str(int(time.time()) - age_s)
    base = b"v0:" + timestamp.encode() + b":" + body
    digest = hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": timestamp, "X-Slack-Signature": f"v0={digest}"}


def event_body(event_id: str, event: dict) -> bytes:
    payload = {
        "type": "event_callback",
        "team_id": "T1",
        "event_id": event_id,
        "event_time": int(time.time()),
        "authorizations": [{"user_id": "U0BOT", "is_bot": True}],
        "event": event,
    }
    return json.dumps(payload, ensure_ascii=False).encode()


def post_event(server: LiveServer, body: bytes, headers: dict[str, str]) -> httpx.Response:
    headers = {**headers, "Content-Type": "application/json"}
    return httpx.post(f"{server.url}/slack/events", content=body, headers=headers, timeout=10)


def test_url_verification(live: LiveServer) -> None:
    body = json.dumps({"type": "url_verification", "challenge": "abc123", "token": "x"}).encode()
    response = post_event(live, body, signed(body))
    assert response.status_code == 200 and response.json() == {"challenge": "abc123"}


def test_app_mention_answered_in_thread_once(live: LiveServer, slack_api: SlackStandIn) -> None:
    before = len(slack_api.posts(POST_MESSAGE))
    body = event_body(
        "Ev-mention-1",
        {
            "type": "app_mention",
            "user": "U123",
            "text": "<@U0BOT> 英伟达2026年AEC需求量是多少？",
            "channel": "C1",
            "ts": "1700000000.000100",
        },
    )
    started = time.monotonic()
    response = post_event(live, body, signed(body))
    assert response.status_code == 200 and time.monotonic() - started < 3  # Slack's ack window
    posts = slack_api.wait_for(POST_MESSAGE, before + 1)
    assert len(posts) == before + 1
    post = posts[-1]
    assert post["auth"] == f"Bearer {SLACK_TOKEN}"
    assert post["body"]["channel"] == "C1" and post["body"]["thread_ts"] == "1700000000.000100"
    assert post["body"]["text"] == (
        "英伟达2026年AEC需求量约为170万根[1]。\n\n"
        "_✓ 数字已与来源核对_\n\n"  # the plain status, never the technical record
        "*来源*\n*[1]* AEC及电源线专家交流 · 2025-11-12\n>英伟达(NV)2026年AEC需求量预计为170万根"
    )

    # Slack retries the same event (same event_id, signed afresh): acknowledged, never
    # answered twice. (A replay of the very same signed request is a 401: test_hostile.py.)
    # Signed a second later than the first (never the same second: that would be a replay).
    retry = post_event(live, body, {**signed(body, age_s=-1), "X-Slack-Retry-Num": "1"})
    assert retry.status_code == 200 and retry.json() == {"ok": True, "duplicate": True}
    time.sleep(0.5)
    assert len(slack_api.posts(POST_MESSAGE)) == before + 1


def test_direct_message_abstention_marked(live: LiveServer, slack_api: SlackStandIn) -> None:
    before = len(slack_api.posts(POST_MESSAGE))
    body = event_body(
        "Ev-dm-1",
        {
            "type": "message",
            "channel_type": "im",
            "user": "U123",
            "text": "What is NV's AEC demand in 2027?",
            "channel": "D1",
            "ts": "1700000001.000200",
        },
    )
    assert post_event(live, body, signed(body)).status_code == 200
    post = slack_api.wait_for(POST_MESSAGE, before + 1)[-1]
    assert post["body"]["channel"] == "D1"
    assert post["body"]["text"] == (
        ":warning: *Not found in the research notes.*\n\nThe documents do not say."
    )


def test_own_and_edited_messages_ignored(live: LiveServer, slack_api: SlackStandIn) -> None:
    before = len(slack_api.posts(POST_MESSAGE))
    own = {"type": "message", "channel_type": "im", "channel": "D1", "ts": "2.0"}
    for n, event in enumerate(
        [
            {**own, "bot_id": "B1", "text": "an answer I posted"},
            {**own, "user": "U0BOT", "text": "also mine"},
            {**own, "user": "U123", "subtype": "message_changed", "text": "edit"},
            {
                "type": "message",
                "channel_type": "channel",
                "user": "U123",
                "text": "chatter",
                "channel": "C1",
                "ts": "3.0",
            },
        ]
    ):
        body = event_body(f"Ev-ignored-{n}", event)
        assert post_event(live, body, signed(body)).status_code == 200
    time.sleep(0.5)
    assert len(slack_api.posts(POST_MESSAGE)) == before


def test_bad_signature_and_stale_timestamp_rejected(
    live: LiveServer, slack_api: SlackStandIn
) -> None:
    before = len(slack_api.calls)
    body = event_body(
        "Ev-forged",
        {"type": "app_mention", "user": "U1", "text": "<@U0BOT> hi", "channel": "C1", "ts": "4.0"},
    )
    cases = {
        "wrong secret": signed(body, secret="not-the-secret"),
        "stale": signed(body, age_s=6 * 60),
        "missing": {},
        "garbage timestamp": {"X-Slack-Request-Timestamp": "soon", "X-Slack-Signature": "v0=00"},
    }
    for name, headers in cases.items():
        response = post_event(live, body, headers)
        assert response.status_code == 401, name
        assert response.json()["error"]["code"] == "invalid_signature"
    tampered = body.replace(b"hi", b"ho")
    assert post_event(live, tampered, signed(body)).status_code == 401
    time.sleep(0.3)
    assert len(slack_api.calls) == before
    # A forged event is not remembered: the genuine one with that id still gets answered.
    posted = len(slack_api.posts(POST_MESSAGE))
    assert post_event(live, body, signed(body)).status_code == 200
    assert len(slack_api.wait_for(POST_MESSAGE, posted + 1)) == posted + 1


def test_slash_command_answers_via_response_url(live: LiveServer, slack_api: SlackStandIn) -> None:
    hook = "/commands/T1/123/abc"
    form = urlencode(
        {
            "command": "/ask",
            "text": "NV AEC demand in 2026?",
            "response_url": f"{slack_api.url}{hook}",
            "user_id": "U123",
            "channel_id": "C1",
        }
    ).encode()
    headers = {**signed(form), "Content-Type": "application/x-www-form-urlencoded"}
    started = time.monotonic()
    ack = httpx.post(f"{live.url}/slack/commands", content=form, headers=headers, timeout=10)
    assert ack.status_code == 200 and time.monotonic() - started < 3
    assert ack.json() == {
        "response_type": "ephemeral",
        "text": ":mag: Looking into: NV AEC demand in 2026?",
    }
    [post] = slack_api.wait_for(hook)
    assert post["body"]["response_type"] == "in_channel"
    assert post["body"]["text"].startswith(
        "About 1.7 million cables (170万根) [1].\n\n"
        "_✓ figures checked against the sources_\n\n*Sources*\n*[1]*"
    )

    replay = httpx.post(f"{live.url}/slack/commands", content=form, headers=headers, timeout=10)
    assert replay.status_code == 401 and replay.json()["error"]["code"] == "replayed_request"
    time.sleep(0.5)
    assert len(slack_api.posts(hook)) == 1


def test_slash_command_refuses_foreign_response_url(live: LiveServer) -> None:
    form = urlencode(
        {"command": "/ask", "text": "q", "response_url": "http://evil.example/x"}
    ).encode()
    headers = {**signed(form), "Content-Type": "application/x-www-form-urlencoded"}
    response = httpx.post(f"{live.url}/slack/commands", content=form, headers=headers, timeout=10)
    assert response.status_code == 400 and response.json()["error"]["code"] == "bad_response_url"

    empty = urlencode(
        {"command": "/ask", "text": "  ", "response_url": "http://evil.example/x"}
    ).encode()
    headers = {**signed(empty), "Content-Type": "application/x-www-form-urlencoded"}
    usage = httpx.post(f"{live.url}/slack/commands", content=empty, headers=headers, timeout=10)
    assert usage.status_code == 200 and "/ask" in usage.json()["text"]
