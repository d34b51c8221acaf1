"""The Slack side of the bot: request verification, retry dedupe and posting answers.

Slack wants an acknowledgement within 3 s, so routes only verify and schedule; the answer is
posted later with the Web API (`chat.postMessage`, in the thread) or a slash command's
`response_url`, with 👍/👎 buttons when it was kept for feedback (api/feedback_store.py).
"""

from __future__ import annotations

import logging
import re
import time
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlparse

from slack_sdk import WebClient
from slack_sdk.signature import SignatureVerifier
from slack_sdk.webhook import WebhookClient
from starlette.concurrency import run_in_threadpool

from api.errors import ApiError
from api.feedback_store import FeedbackStore
from api.limits import AnswerGate, ask_service, check_ask_limits
from api.slack_format import answer_blocks, escape, format_answer, reason_modal
from rag.config import Settings
from rag.service import AnsweringService
from rag.types import Answer, AskRequest, Language

log = logging.getLogger(__name__)

BUSY = "Too many questions at once right now; please ask again in {seconds} s."
_MENTION = re.compile(r"<@[A-Z0-9]+(?:\|[^>]*)?>")


class SeenKeys:
    """Keys seen in the last `ttl` seconds (bounded), to drop Slack's retries and replays."""

    def __init__(self, ttl: float = 3600.0, max_items: int = 10_000) -> None:
        self.ttl = ttl
        self.max_items = max_items
        self._seen: OrderedDict[str, float] = OrderedDict()

    def first_time(self, key: str) -> bool:
        now = time.monotonic()
        while self._seen and next(iter(self._seen.values())) < now - self.ttl:
            self._seen.popitem(last=False)
        if key in self._seen:
            return False
        self._seen[key] = now
        if len(self._seen) > self.max_items:
            self._seen.popitem(last=False)
        return True


def question_from(text: str) -> str:
    """The question in a message: mentions of the bot removed, whitespace tidied."""
    return " ".join(_MENTION.sub(" ", text).split())


class SlackBot:
    def __init__(self, settings: Settings, *, feedback: FeedbackStore | None = None) -> None:
        self.settings = settings
        self.feedback = feedback  # where answers are kept for their 👍/👎 buttons
        secret = settings.slack_signing_secret
        self.verifier = SignatureVerifier(secret.get_secret_value()) if secret else None
        token = settings.slack_bot_token
        self.client = (
            WebClient(token=token.get_secret_value(), base_url=settings.slack_api_url)
            if token
            else None
        )
        self.events = SeenKeys()
        # A timestamp is accepted up to 5 minutes either side of now, so a signature stays
        # replayable for 10 minutes; remember each one a little longer than that.
        self.signatures = SeenKeys(ttl=11 * 60)
        # response_url must point at Slack (or the configured stand-in), never elsewhere.
        api = urlparse(settings.slack_api_url)
        self.response_origins = {("https", "hooks.slack.com"), (api.scheme, api.hostname)}

    def verify(self, body: bytes, headers: Mapping[str, str]) -> None:
        """v0 HMAC-SHA256 over the raw body, a timestamp within 5 minutes, and no replay: a
        signature (unique to its timestamp and body) is accepted once. Slack's own retries of
        an event are signed afresh, pass, and are dropped by the route by `event_id`."""
        if self.verifier is None:
            raise ApiError(
                404, "slack_disabled", "Slack is not configured (RNA_SLACK_SIGNING_SECRET)"
            )
        lowered = {k.lower(): v for k, v in headers.items()}
        try:
            valid = self.verifier.is_valid_request(body, lowered)
        except ValueError:  # a timestamp that is not a number
            valid = False
        if not valid:
            raise ApiError(401, "invalid_signature", "bad or stale Slack signature")
        if not self.signatures.first_time(lowered["x-slack-signature"]):
            raise ApiError(401, "replayed_request", "this signed request was already received")

    async def answer(self, service: AnsweringService, gate: AnswerGate, question: str) -> str:
        """The mrkdwn reply for a question; busy, limit and failure cases become messages.

        A busy model is no reason to refuse: the gate hands the question to its lane without
        the LLM, and only when that is full too does the channel read "ask again"."""
        text, _ = await self.answer_message(service, gate, question)
        return text

    async def answer_message(
        self, service: AnsweringService, gate: AnswerGate, question: str
    ) -> tuple[str, list[dict[str, Any]] | None]:
        """(mrkdwn text, Block Kit blocks): an answer is kept for feedback and its blocks
        carry 👍/👎 buttons; busy, limit and failure messages are text alone (blocks None)."""
        request = AskRequest(question=question, language=None, top_k=None)
        try:
            check_ask_limits(request, self.settings)
            async with gate.admit() as ticket:
                answer = await ask_service(service, request, ticket)
        except ApiError as exc:
            if exc.status_code == 503:
                wait = (exc.headers or {}).get("Retry-After", "a few")
                return f":hourglass: {BUSY.format(seconds=wait)}", None
            return f":warning: {escape(str(exc.detail))}", None
        except Exception:
            log.exception("Slack answer failed")
            return ":x: Sorry, answering failed. Please try again later.", None
        answer = await self._keep(request, answer)
        text = format_answer(answer)
        return text, answer_blocks(text, answer)

    async def _keep(self, request: AskRequest, answer: Answer) -> Answer:
        if self.feedback is None:
            return answer
        return await run_in_threadpool(self.feedback.remember, request, answer, "slack")

    async def reply_in_thread(
        self,
        service: AnsweringService,
        gate: AnswerGate,
        question: str,
        channel: str,
        thread_ts: str,
    ) -> None:
        client = self.client
        if client is None:
            log.warning("Slack event dropped: RNA_SLACK_BOT_TOKEN is not set")
            return
        text, blocks = await self.answer_message(service, gate, question)
        try:  # `text` stays the notification's fallback for the blocks (None: not sent)
            await run_in_threadpool(
                lambda: client.chat_postMessage(
                    channel=channel,
                    thread_ts=thread_ts,
                    text=text,
                    unfurl_links=False,
                    unfurl_media=False,
                    blocks=blocks,
                )
            )
        except Exception:
            log.exception("chat.postMessage failed")

    async def reply_to_command(
        self, service: AnsweringService, gate: AnswerGate, question: str, response_url: str
    ) -> None:
        text, blocks = await self.answer_message(service, gate, question)
        try:
            webhook = WebhookClient(response_url)
            await run_in_threadpool(
                lambda: webhook.send(text=text, blocks=blocks, response_type="in_channel")
            )
        except Exception:
            log.exception("posting to response_url failed")

    async def confirm(self, response_url: str, text: str) -> None:
        """An ephemeral note to the person who clicked (a feedback button's response_url)."""
        if not self.response_url_allowed(response_url):
            log.warning("feedback confirmation dropped: response_url is not a Slack URL")
            return
        try:
            webhook = WebhookClient(response_url)
            await run_in_threadpool(
                lambda: webhook.send(text=text, response_type="ephemeral", replace_original=False)
            )
        except Exception:
            log.exception("posting the feedback confirmation failed")

    async def ask_reason(
        self,
        trigger_id: str,
        feedback_id: int,
        language: Language | None,
        response_url: str,
        fallback: str,
    ) -> None:
        """Open the modal asking a 👎 for its reason (views.open, within the trigger's 3 s);
        without a bot token or when Slack refuses, just confirm the rating."""
        client = self.client
        if client is None or not trigger_id:
            await self.confirm(response_url, fallback)
            return
        try:
            await run_in_threadpool(
                lambda: client.views_open(
                    trigger_id=trigger_id, view=reason_modal(feedback_id, language)
                )
            )
        except Exception:
            log.exception("views.open failed")
            await self.confirm(response_url, fallback)

    def response_url_allowed(self, url: str) -> bool:
        parsed = urlparse(url)
        return (parsed.scheme, parsed.hostname) in self.response_origins
