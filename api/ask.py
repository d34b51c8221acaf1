"""`POST /v1/ask` (one JSON answer) and `POST /v1/ask/stream` (Server-Sent Events).

The service is synchronous and CPU-heavy, so it runs in worker threads and the event loop
stays free for health checks, Slack acks and 503s.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import AsyncGenerator, AsyncIterator, Iterator
from contextlib import aclosing
from datetime import date

import anyio
from fastapi import APIRouter
from sse_starlette import EventSourceResponse, ServerSentEvent
from starlette.background import BackgroundTask
from starlette.concurrency import iterate_in_threadpool, run_in_threadpool

from api.deps import FeedbackDep, GateDep, ServiceDep, SettingsDep
from api.errors import ApiError, ErrorBody, ErrorDetail, responses
from api.feedback_store import FeedbackStore
from api.limits import Ticket, ask_service, check_ask_limits
from rag.config import Settings
from rag.service import AnsweringService
from rag.types import Answer, AskRequest, StreamEvent

log = logging.getLogger(__name__)

router = APIRouter(prefix="/v1", tags=["answers"])

# Typed text never holds C0/C1 control characters (tab and line breaks aside) nor unpaired
# UTF-16 surrogates, which cannot even be encoded back to UTF-8 in the reply.
_BINARY = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
_BLANK = re.compile(r"[\s\u200b-\u200f\u2060\ufeff]+")  # whitespace and zero-width marks
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
# An earlier answer quotes its sources, so it may be longer than a question.
ANSWER_TO_QUESTION_CHARS = 4


def check_ask_input(request: AskRequest, settings: Settings) -> None:
    """`check_ask_limits`, then what hostile input needs: no invisible-only question, no
    history message longer than a question (an answer: 4x), no control characters, and
    filter dates that are ISO dates. Raises a 400 ApiError."""
    check_ask_limits(request, settings)
    if not _BLANK.sub("", request.question):
        raise ApiError(400, "empty_question", "the question is empty")
    for i, message in enumerate(request.history):
        limit = settings.max_question_chars
        if message.role == "assistant":
            limit *= ANSWER_TO_QUESTION_CHARS
        if len(message.content) > limit:
            raise ApiError(
                400,
                "history_message_too_long",
                f"history[{i}] has {len(message.content)} characters; the limit is {limit}",
            )
    if any(_BINARY.search(t) for t in (request.question, *(m.content for m in request.history))):
        raise ApiError(
            400,
            "invalid_characters",
            "the question or history holds control characters or unpaired surrogates",
        )
    filters = request.filters
    for name in ("date_from", "date_to"):
        value = getattr(filters, name, None)
        if value is not None and not _is_iso_date(value):
            raise ApiError(400, "invalid_filter", f"filters.{name} must be a date like 2025-11-12")


def _is_iso_date(value: str) -> bool:
    if not _ISO_DATE.fullmatch(value):
        return False
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True


_STREAM_DOC = """\
Server-Sent Events: zero or more `token` events (`{"text": "..."}`), then one `final` event
whose data is the Answer. Tokens carry only verified text: joined, they are the start of the
final answer (usually all of it), never a figure the grounding check has not passed. A failure
after the stream started ends it with an `error` event (`{"error": {"code", "message"}}`)."""


@router.post("/ask", response_model=Answer, responses=responses(400, 401, 413, 422, 503))
async def ask(
    request: AskRequest,
    service: ServiceDep,
    gate: GateDep,
    settings: SettingsDep,
    feedback: FeedbackDep,
) -> Answer:
    """Answer one question with numbered citations and any calculator trace; its
    `answer_id` names it for `POST /v1/feedback`."""
    check_ask_input(request, settings)
    async with gate.admit() as ticket:
        answer = await ask_service(service, request, ticket)
    return await run_in_threadpool(feedback.remember, request, answer, "api")


@router.post(
    "/ask/stream",
    response_class=EventSourceResponse,
    responses={
        200: {"description": _STREAM_DOC, "content": {"text/event-stream": {}}},
        **responses(400, 401, 413, 422, 503),
    },
)
async def ask_stream(
    request: AskRequest,
    service: ServiceDep,
    gate: GateDep,
    settings: SettingsDep,
    feedback: FeedbackDep,
) -> EventSourceResponse:
    """Stream verified text as it is checked, then the final answer."""
    check_ask_input(request, settings)
    ticket = gate.admit()  # decided before the 200 goes out, so overload is still a 503
    return EventSourceResponse(
        _sse_events(service, request, ticket, feedback), background=BackgroundTask(ticket.leave)
    )


async def _sse_events(
    service: AnsweringService, request: AskRequest, ticket: Ticket, feedback: FeedbackStore
) -> AsyncIterator[ServerSentEvent]:
    # aclosing: when the client leaves, the inner generator's cleanup runs now, not at GC.
    async with aclosing(stream_service(service, request, ticket, feedback)) as events:
        async for event in events:
            if isinstance(event, ErrorDetail):
                data = ErrorBody(error=event).model_dump_json()
                yield ServerSentEvent(data=data, event="error")
            elif event.type == "token":
                text = json.dumps({"text": event.text}, ensure_ascii=False)
                yield ServerSentEvent(data=text, event="token")
            elif event.answer is not None:
                yield ServerSentEvent(data=event.answer.model_dump_json(), event="final")


async def stream_service(
    service: AnsweringService,
    request: AskRequest,
    ticket: Ticket,
    feedback: FeedbackStore | None = None,
) -> AsyncGenerator[StreamEvent | ErrorDetail]:
    """The service's events, pulled in worker threads while holding an answering slot.

    Ends with the `final` event (its answer kept in `feedback` for rating), or with an
    ErrorDetail when the service failed or broke its contract; the underlying generator is
    closed even when the client goes away.
    """
    async with ticket:
        events: Iterator[StreamEvent] | None = None
        try:
            if ticket.use_llm:
                events = await run_in_threadpool(service.stream, request)
            else:
                events = await run_in_threadpool(lambda: service.stream(request, use_llm=False))
            async for event in iterate_in_threadpool(events):
                if event.type == "final":
                    if event.answer is not None:
                        answer = ticket.mark(event.answer)
                        if feedback is not None:
                            answer = await run_in_threadpool(
                                feedback.remember, request, answer, "api"
                            )
                        event = event.model_copy(update={"answer": answer})
                    yield event
                    return
                yield event
            yield ErrorDetail(code="no_final_answer", message="the answer stream ended early")
        except Exception:
            log.exception("answer stream failed")
            yield ErrorDetail(
                code="internal_error", message="the answer failed; see the server log"
            )
        finally:
            close = getattr(events, "close", None)
            if close is not None:
                with anyio.CancelScope(shield=True):  # also runs when the client disconnected
                    await run_in_threadpool(close)
