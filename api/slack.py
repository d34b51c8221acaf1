"""Slack endpoints: `POST /slack/events` (Events API: url_verification, app_mention,
message.im), `POST /slack/commands` (the `/ask` slash command) and `POST /slack/interactions`
(the 👍/👎 buttons under every answer, and the reason modal a 👎 opens).

All check Slack's signature instead of our API keys, acknowledge at once, and answer in a
background task once the response has gone out."""

from __future__ import annotations

import json
import logging
import re
from typing import Any
from urllib.parse import parse_qs

from fastapi import APIRouter, BackgroundTasks, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from api.deps import FeedbackDep, GateDep, ServiceDep, SlackDep
from api.errors import ApiError
from api.feedback_store import FeedbackStore
from api.slack_bot import SlackBot, question_from
from api.slack_format import (
    FEEDBACK_ACTIONS,
    REASON_BLOCK,
    REASON_INPUT,
    REASON_VIEW,
    escape,
    label,
)
from rag.types import FEEDBACK_REASON_MAX_CHARS

router = APIRouter(prefix="/slack", tags=["slack"], include_in_schema=False)
log = logging.getLogger(__name__)
_ANSWER_ID = re.compile(r"[0-9a-f]{32}")

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


@router.post("/interactions")
async def interactions(
    request: Request, bot: SlackDep, feedback: FeedbackDep, background: BackgroundTasks
) -> Response:
    """Interactivity (Request URL `https://<host>/slack/interactions`): a 👍/👎 click is
    stored with the answer it rates, a 👎 then opens a modal for its optional reason, and the
    modal's submission adds that reason."""
    body = await request.body()
    bot.verify(body, request.headers)
    try:
        payload = json.loads(parse_qs(body.decode("utf-8", "replace"))["payload"][0])
    except (KeyError, IndexError, ValueError, RecursionError) as exc:
        raise ApiError(400, "bad_payload", "the body has no JSON `payload` field") from exc
    if not isinstance(payload, dict):
        raise ApiError(400, "bad_payload", "the payload is not an object")
    kind = payload.get("type")
    if kind == "block_actions":
        await _rate(payload, bot, feedback, background)
    elif kind == "view_submission" and _get(payload, "view", "callback_id") == REASON_VIEW:
        return await _reason(payload, feedback)
    return Response(status_code=200)  # Slack's ack: an empty 200


def _get(data: Any, *keys: str) -> Any:
    """data[k1][k2]... or None where a level is missing or not an object."""
    for key in keys:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data


async def _rate(
    payload: dict[str, Any], bot: SlackBot, feedback: FeedbackStore, background: BackgroundTasks
) -> None:
    actions = payload.get("actions")
    action = next(
        (
            a
            for a in (actions if isinstance(actions, list) else [])
            if isinstance(a, dict) and a.get("action_id") in FEEDBACK_ACTIONS
        ),
        None,
    )
    if action is None:
        return
    rating = FEEDBACK_ACTIONS[action["action_id"]]
    answer_id = str(action.get("value") or "")
    user = str(_get(payload, "user", "id") or "") or None
    response_url = str(payload.get("response_url") or "")
    kept = (
        await run_in_threadpool(feedback.kept_answer, answer_id)
        if _ANSWER_ID.fullmatch(answer_id)
        else None
    )
    if kept is None:
        background.add_task(bot.confirm, response_url, label(None, "gone"))
        return
    stored = await run_in_threadpool(feedback.record, kept.entry(rating, None, "slack", user))
    language = kept.answer.language
    thanks = label(language, f"thanks_{rating}")
    if rating == "down":
        trigger_id = str(payload.get("trigger_id") or "")
        background.add_task(bot.ask_reason, trigger_id, stored.id, language, response_url, thanks)
    else:
        background.add_task(bot.confirm, response_url, thanks)


async def _reason(payload: dict[str, Any], feedback: FeedbackStore) -> Response:
    try:
        meta = json.loads(str(_get(payload, "view", "private_metadata")))
        feedback_id = int(meta["feedback_id"])
        language = meta.get("language") if meta.get("language") in ("zh", "en") else None
    except (ValueError, TypeError, KeyError, RecursionError):
        return Response(status_code=200)
    value = _get(payload, "view", "state", "values", REASON_BLOCK, REASON_INPUT, "value")
    reason = value.strip() if isinstance(value, str) and value.strip() else None
    if reason is not None and len(reason) > FEEDBACK_REASON_MAX_CHARS:  # refused, never cut
        message = label(language, "too_long").format(limit=FEEDBACK_REASON_MAX_CHARS, n=len(reason))
        return JSONResponse({"response_action": "errors", "errors": {REASON_BLOCK: message}})
    user = str(_get(payload, "user", "id") or "")
    updated = None
    if user:  # only the person who rated may give the reason
        updated = await run_in_threadpool(
            lambda: feedback.set_reason(feedback_id, reason, user=user)
        )
    if updated is None:
        log.warning("a feedback reason for %s by %r matched no rating", feedback_id, user)
    return Response(status_code=200)  # closes the modal
