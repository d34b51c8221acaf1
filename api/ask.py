"""`POST /v1/ask` (one JSON answer) and `POST /v1/ask/stream` (Server-Sent Events).

The service is synchronous and CPU-heavy, so it runs in worker threads and the event loop
stays free for health checks, Slack acks and 503s.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncGenerator, AsyncIterator, Iterator
from contextlib import aclosing

import anyio
from fastapi import APIRouter
from sse_starlette import EventSourceResponse, ServerSentEvent
from starlette.background import BackgroundTask
from starlette.concurrency import iterate_in_threadpool, run_in_threadpool

from api.deps import GateDep, ServiceDep, SettingsDep
from api.errors import ErrorBody, ErrorDetail, responses
from api.limits import Ticket, check_ask_limits
from rag.service import AnsweringService
from rag.types import Answer, AskRequest, StreamEvent

log = logging.getLogger(__name__)

router = APIRouter(prefix="/v1", tags=["answers"])

_STREAM_DOC = """\
Server-Sent Events: zero or more `token` events (`{"text": "..."}`, draft text), then one
`final` event whose data is the verified Answer (it may differ from the draft). A failure
after the stream started ends it with an `error` event (`{"error": {"code", "message"}}`)."""


@router.post("/ask", response_model=Answer, responses=responses(400, 401, 413, 422, 503))
async def ask(
    request: AskRequest, service: ServiceDep, gate: GateDep, settings: SettingsDep
) -> Answer:
    """Answer one question with numbered citations and any calculator trace."""
    check_ask_limits(request, settings)
    async with gate.admit():
        return await run_in_threadpool(service.ask, request)


@router.post(
    "/ask/stream",
    response_class=EventSourceResponse,
    responses={
        200: {"description": _STREAM_DOC, "content": {"text/event-stream": {}}},
        **responses(400, 401, 413, 422, 503),
    },
)
async def ask_stream(
    request: AskRequest, service: ServiceDep, gate: GateDep, settings: SettingsDep
) -> EventSourceResponse:
    """Stream draft tokens, then the final verified answer."""
    check_ask_limits(request, settings)
    ticket = gate.admit()  # decided before the 200 goes out, so overload is still a 503
    return EventSourceResponse(
        _sse_events(service, request, ticket), background=BackgroundTask(ticket.leave)
    )


async def _sse_events(
    service: AnsweringService, request: AskRequest, ticket: Ticket
) -> AsyncIterator[ServerSentEvent]:
    # aclosing: when the client leaves, the inner generator's cleanup runs now, not at GC.
    async with aclosing(stream_service(service, request, ticket)) as events:
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
    service: AnsweringService, request: AskRequest, ticket: Ticket
) -> AsyncGenerator[StreamEvent | ErrorDetail]:
    """The service's events, pulled in worker threads while holding an answering slot.

    Ends with the `final` event, or with an ErrorDetail when the service failed or broke its
    contract; the underlying generator is closed even when the client goes away.
    """
    async with ticket:
        events: Iterator[StreamEvent] | None = None
        try:
            events = await run_in_threadpool(service.stream, request)
            async for event in iterate_in_threadpool(events):
                yield event
                if event.type == "final":
                    return
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
