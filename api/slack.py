"""Slack endpoints: `POST /slack/events` (Events API: url_verification, app_mention,
message.im) and `POST /slack/commands` (the `/ask` slash command).

Both check Slack's signature instead of our API keys, acknowledge at once, and answer in a
background task once the response has gone out."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs

from fastapi import APIRouter, BackgroundTasks, Request

from api.deps import GateDep, ServiceDep, SlackDep
from api.errors import ApiError
from api.slack_bot import question_from
from api.slack_format import escape

router = APIRouter(prefix="/slack", tags=["slack"], include_in_schema=False)

_USAGE = "Ask me about the research notes, e.g. `/ask 英伟达2026年AEC需求量是多少？`"


@router.post("/events")
async def events(
    request: Request,
    bot: SlackDep,
    service: ServiceDep,
    gate: GateDep,
    background: BackgroundTasks,
) -> dict[str, Any]:
    body = await request.body()
    bot.verify(body, request.headers)
    try:
        payload = json.loads(body)
    except (ValueError, RecursionError) as exc:  # RecursionError: deeply nested arrays
        raise ApiError(400, "bad_json", "the event body is not JSON") from exc
    if not isinstance(payload, dict):
        raise ApiError(400, "bad_event", "the event body is not an object")
    if payload.get("type") == "url_verification":
        return {"challenge": payload.get("challenge", "")}
    if payload.get("type") != "event_callback":
        return {"ok": True}
    # Slack retries until it sees a 2xx within 3 s; each retry carries the same event_id.
    event_id = str(payload.get("event_id") or "")
    if event_id and not bot.events.first_time(event_id):
        return {"ok": True, "duplicate": True}
    event = payload.get("event")
    if not isinstance(event, dict) or not _is_question(event, payload):
        return {"ok": True}
    question = question_from(str(event.get("text", "")))
    channel = str(event.get("channel", ""))
    thread_ts = str(event.get("thread_ts") or event.get("ts") or "")
    if question and channel:
        background.add_task(bot.reply_in_thread, service, gate, question, channel, thread_ts)
    return {"ok": True}


def _is_question(event: dict[str, Any], payload: dict[str, Any]) -> bool:
    # Our own posts come back as message events: bot_id, a subtype, or our user id.
    if event.get("bot_id") or event.get("subtype"):
        return False
    authorizations = payload.get("authorizations")
    own_ids = {
        a.get("user_id")
        for a in (authorizations if isinstance(authorizations, list) else [])
        if isinstance(a, dict) and a.get("is_bot")
    }
    if event.get("user") in own_ids:
        return False
    kind = event.get("type")
    return kind == "app_mention" or (kind == "message" and event.get("channel_type") == "im")


@router.post("/commands")
async def commands(
    request: Request,
    bot: SlackDep,
    service: ServiceDep,
    gate: GateDep,
    background: BackgroundTasks,
) -> dict[str, Any]:
    body = await request.body()
    bot.verify(body, request.headers)
    form = {k: v[0] for k, v in parse_qs(body.decode("utf-8", "replace")).items()}
    question = question_from(form.get("text", ""))
    response_url = form.get("response_url", "")
    if not question:
        return {"response_type": "ephemeral", "text": _USAGE}
    if not bot.response_url_allowed(response_url):
        raise ApiError(400, "bad_response_url", "response_url is not a Slack URL")
    background.add_task(bot.reply_to_command, service, gate, question, response_url)
    return {"response_type": "ephemeral", "text": f":mag: Looking into: {escape(question)}"}
