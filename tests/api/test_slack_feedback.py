"""The 👍/👎 buttons under the bot's answers, end to end: real signed requests to the running
server's `/slack/interactions`, the bot's posts and modals sent to the local Slack stand-in,
and the ratings read back from the feedback store."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest

from api.feedback_store import FeedbackStore
from api.main import create_app
from api.slack_format import REASON_VIEW
from tests.api.conftest import (
    SLACK_SECRET,
    SLACK_TOKEN,
    LiveServer,
    SlackStandIn,
    api_settings,
    serve,
)
from tests.api.test_slack_live import POST_MESSAGE, event_body, post_event, signed
from tests.fakes import NV_QUOTE, FakeAssistant, FakeLibrary

pytestmark = pytest.mark.integration

VIEWS_OPEN = "/api/views.open"
QUESTION = "英伟达2026年AEC需求量是多少？"


@pytest.fixture(scope="module")
def bot_server(
    slack_api: SlackStandIn, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    settings = api_settings(
        data_dir=tmp_path_factory.mktemp("data"),
        commit="slack-commit",
        slack_signing_secret=SLACK_SECRET,
        slack_bot_token=SLACK_TOKEN,
        slack_api_url=f"{slack_api.url}/api/",
    )
    app = create_app(settings, service=FakeAssistant(), library=FakeLibrary(), mount_ui=False)
    with serve(app) as server:
        yield server


def store_of(server: LiveServer) -> FeedbackStore:
    return server.app.state.feedback


def blocks_of(post: dict[str, Any]) -> list[dict[str, Any]]:
    blocks = post["body"]["blocks"]
    return json.loads(blocks) if isinstance(blocks, str) else blocks


def ask_in_channel(server: LiveServer, slack: SlackStandIn, event_id: str) -> dict[str, Any]:
    """Mention the bot with QUESTION; the answer it posts to the stand-in."""
    before = len(slack.posts(POST_MESSAGE))
    body = event_body(
        event_id,
        {
            "type": "app_mention",
            "user": "U42",
            "text": f"<@U0BOT> {QUESTION}",
            "channel": "C9",
            "ts": f"{time.time():.6f}",
        },
    )
    assert post_event(server, body, signed(body)).status_code == 200
    return slack.wait_for(POST_MESSAGE, before + 1)[-1]


def interaction(server: LiveServer, payload: dict[str, Any], **sign: Any) -> httpx.Response:
    form = urlencode({"payload": json.dumps(payload, ensure_ascii=False)}).encode()
    headers = {**signed(form, **sign), "Content-Type": "application/x-www-form-urlencoded"}
    return httpx.post(f"{server.url}/slack/interactions", content=form, headers=headers, timeout=10)


def click(
    user: str, action_id: str, answer_id: str, response_url: str, trigger_id: str = "trig-1"
) -> dict[str, Any]:
    """A block_actions payload as Slack sends it for a button click (the parts we read)."""
    return {
        "type": "block_actions",
        "team": {"id": "T1"},
        "user": {"id": user, "username": user.lower()},
        "trigger_id": trigger_id,
        "response_url": response_url,
        "container": {"type": "message", "channel_id": "C9", "message_ts": "1.0001"},
        "actions": [
            {
                "type": "button",
                "block_id": "rna_feedback",
                "action_id": action_id,
                "value": answer_id,
                "action_ts": f"{time.time():.6f}",
            }
        ],
    }


def submission(user: str, private_metadata: str, reason: str | None) -> dict[str, Any]:
    return {
        "type": "view_submission",
        "team": {"id": "T1"},
        "user": {"id": user},
        "view": {
            "callback_id": REASON_VIEW,
            "private_metadata": private_metadata,
            "state": {
                "values": {"reason": {"reason": {"type": "plain_text_input", "value": reason}}}
            },
        },
    }


def test_a_thumbs_down_is_stored_with_the_answer_and_asks_for_a_reason(
    bot_server: LiveServer, slack_api: SlackStandIn
) -> None:
    post = ask_in_channel(bot_server, slack_api, "Ev-fb-down")
    blocks = blocks_of(post)
    *sections, actions = blocks
    assert "\n\n".join(s["text"]["text"] for s in sections) == post["body"]["text"]
    assert actions["type"] == "actions"
    up, down = actions["elements"]
    assert (up["action_id"], down["action_id"]) == ("rna_feedback_up", "rna_feedback_down")
    assert (up["text"]["text"], down["text"]["text"]) == ("👍 有帮助", "👎 有问题")
    answer_id = up["value"]
    assert re.fullmatch(r"[0-9a-f]{32}", answer_id) and down["value"] == answer_id

    hook = f"{slack_api.url}/actions/T1/1/down"
    views_before = len(slack_api.posts(VIEWS_OPEN))
    started = time.monotonic()
    ack = interaction(bot_server, click("U42", "rna_feedback_down", answer_id, hook))
    assert ack.status_code == 200 and ack.content == b"" and time.monotonic() - started < 3

    [row] = [r for r in store_of(bot_server).all() if r.answer_id == answer_id]
    assert (row.rating, row.reason, row.surface, row.user) == ("down", None, "slack", "U42")
    assert row.question == QUESTION  # the mention is not part of it
    assert row.answer == "英伟达2026年AEC需求量约为170万根[1]。"
    assert row.citations[0].quote == NV_QUOTE and row.verification_status == "verified"
    assert row.commit == "slack-commit" and row.language == "zh"

    view_call = slack_api.wait_for(VIEWS_OPEN, views_before + 1)[-1]
    assert view_call["auth"] == f"Bearer {SLACK_TOKEN}"
    assert view_call["body"]["trigger_id"] == "trig-1"
    view = view_call["body"]["view"]
    view = json.loads(view) if isinstance(view, str) else view
    assert view["callback_id"] == REASON_VIEW and view["title"]["text"] == "哪里不对？"
    meta = view["private_metadata"]
    assert json.loads(meta) == {"feedback_id": row.id, "language": "zh"}
    assert view["blocks"][1]["element"]["max_length"] == 1000

    # Someone else can't give this rating's reason; one over the limit is refused in the modal.
    assert interaction(bot_server, submission("U99", meta, "spam")).content == b""
    refused = interaction(bot_server, submission("U42", meta, "长" * 1001)).json()
    assert refused["response_action"] == "errors" and "1001" in refused["errors"]["reason"]
    assert store_of(bot_server).get(row.id).reason is None  # type: ignore[union-attr]

    saved = interaction(bot_server, submission("U42", meta, "  数字是2025年的，不是2026年  "))
    assert saved.status_code == 200 and saved.content == b""  # closes the modal
    assert store_of(bot_server).get(row.id).reason == "数字是2025年的，不是2026年"  # type: ignore[union-attr]


def test_a_changed_mind_replaces_the_rating_and_is_confirmed(
    bot_server: LiveServer, slack_api: SlackStandIn
) -> None:
    answer_id = blocks_of(ask_in_channel(bot_server, slack_api, "Ev-fb-up"))[-1]["elements"][0][
        "value"
    ]
    first_hook, second_hook = (f"/actions/T1/2/{n}" for n in ("a", "b"))
    interaction(bot_server, click("U7", "rna_feedback_down", answer_id, slack_api.url + first_hook))
    again = interaction(
        bot_server, click("U7", "rna_feedback_up", answer_id, slack_api.url + second_hook)
    )
    assert again.status_code == 200
    [confirm] = slack_api.wait_for(second_hook)
    assert confirm["body"] == {
        "text": "谢谢，已记录您的 👍。",
        "response_type": "ephemeral",
        "replace_original": False,
    }
    other = interaction(bot_server, click("U8", "rna_feedback_down", answer_id, slack_api.url))
    assert other.status_code == 200
    rows = [r for r in store_of(bot_server).all() if r.answer_id == answer_id]
    assert sorted((r.user, r.rating) for r in rows) == [("U7", "up"), ("U8", "down")]


def test_the_slash_command_answer_has_the_buttons_too(
    bot_server: LiveServer, slack_api: SlackStandIn
) -> None:
    hook = "/commands/T1/9/fb"
    form = urlencode(
        {"command": "/ask", "text": "NV AEC demand in 2026?", "response_url": slack_api.url + hook}
    ).encode()
    headers = {**signed(form), "Content-Type": "application/x-www-form-urlencoded"}
    assert httpx.post(f"{bot_server.url}/slack/commands", content=form, headers=headers).is_success
    [post] = slack_api.wait_for(hook)
    actions = blocks_of(post)[-1]
    assert [b["text"]["text"] for b in actions["elements"]] == ["👍 Helpful", "👎 Not right"]
    answer_id = actions["elements"][1]["value"]
    kept = store_of(bot_server).kept_answer(answer_id)
    assert (
        kept is not None and kept.surface == "slack" and kept.question == "NV AEC demand in 2026?"
    )


def test_an_answer_no_longer_kept_is_not_rated(
    bot_server: LiveServer, slack_api: SlackStandIn
) -> None:
    before = store_of(bot_server).list()[1]
    hook = "/actions/T1/3/gone"
    for value in ("0" * 32, "not-an-id"):
        response = interaction(
            bot_server, click("U1", "rna_feedback_down", value, slack_api.url + hook)
        )
        assert response.status_code == 200
    posts = slack_api.wait_for(hook, 2)
    assert all("no longer kept" in p["body"]["text"] for p in posts)
    assert store_of(bot_server).list()[1] == before


def test_interactions_need_slacks_signature(
    bot_server: LiveServer, slack_api: SlackStandIn
) -> None:
    answer_id = blocks_of(ask_in_channel(bot_server, slack_api, "Ev-fb-forged"))[-1]["elements"][0][
        "value"
    ]
    payload = click("U5", "rna_feedback_down", answer_id, slack_api.url)
    before = store_of(bot_server).list()[1]
    for name, sign in {"wrong secret": {"secret": "nope"}, "stale": {"age_s": 6 * 60}}.items():
        response = interaction(bot_server, payload, **sign)
        assert response.status_code == 401, name
        assert response.json()["error"]["code"] == "invalid_signature"
    unsigned = httpx.post(
        f"{bot_server.url}/slack/interactions",
        content=b"payload=%7B%7D",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert unsigned.status_code == 401
    assert store_of(bot_server).list()[1] == before

    form = urlencode({"payload": json.dumps(payload)}).encode()
    headers = {**signed(form), "Content-Type": "application/x-www-form-urlencoded"}
    url = f"{bot_server.url}/slack/interactions"
    assert httpx.post(url, content=form, headers=headers).status_code == 200
    replay = httpx.post(url, content=form, headers=headers)
    assert replay.status_code == 401 and replay.json()["error"]["code"] == "replayed_request"
    assert store_of(bot_server).list()[1] == before + 1

    for body in (b"payload=not-json", b"nothing=here", b"payload=%5B1%5D"):
        bad = httpx.post(
            url,
            content=body,
            headers={**signed(body), "Content-Type": "application/x-www-form-urlencoded"},
        )
        assert bad.status_code == 400 and bad.json()["error"]["code"] == "bad_payload", body
