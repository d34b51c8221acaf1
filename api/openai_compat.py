"""OpenAI-compatible `POST /v1/chat/completions` and `GET /v1/models`.

The last user message is the question and earlier user/assistant messages are the history;
system messages are ignored (the assistant has its own grounded prompts). `model` is accepted
and echoed. Extras ride along without breaking OpenAI clients:

* request: optional `language`, `filters`, `top_k` (the `openai` client sends them via
  `extra_body=`);
* response: `sources` (the citations, numbered as in the text) and `answer` (the full Answer:
  abstained, tool_calls with formulas, verification, timings, and the `answer_id` to rate it
  with at `POST /v1/feedback`). When streaming, both come in the last chunk, the one whose
  `finish_reason` is `stop`.

Streamed deltas carry verified text only (see `/v1/ask/stream`): joined, they are the final
answer, with no draft and no "corrected answer" after it.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import aclosing
from typing import Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field
from sse_starlette import EventSourceResponse
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool

from api.ask import check_ask_input, stream_service
from api.deps import FeedbackDep, GateDep, ServiceDep, SettingsDep
from api.errors import ApiError, ErrorBody, ErrorDetail, responses
from api.feedback_store import FeedbackStore
from api.limits import Ticket, ask_service
from rag.service import AnsweringService
from rag.types import Answer, AskRequest, Citation, Filters, Language, Message

router = APIRouter(prefix="/v1", tags=["openai-compatible"])

MODEL_ID = "research-notes"


class ContentPart(BaseModel):
    model_config = ConfigDict(extra="allow")
    type: str
    text: str | None = None


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="allow")
    role: Literal["system", "developer", "user", "assistant", "tool", "function"]
    content: str | list[ContentPart] | None = None

    def text(self) -> str:
        if isinstance(self.content, list):
            return "".join(p.text or "" for p in self.content if p.type == "text")
        return self.content or ""


class ChatCompletionRequest(BaseModel):
    model_config = ConfigDict(extra="allow")  # temperature, max_tokens...: accepted, unused
    model: str = MODEL_ID
    messages: list[ChatMessage] = Field(min_length=1)
    stream: bool = False
    language: Language | None = None
    filters: Filters | None = None
    top_k: int | None = Field(None, ge=1, le=50)


class ChatResponseMessage(BaseModel):
    role: Literal["assistant"] = "assistant"
    content: str


class ChatChoice(BaseModel):
    index: int = 0
    message: ChatResponseMessage
    finish_reason: Literal["stop"] = "stop"
    logprobs: None = None


class ChatCompletion(BaseModel):
    id: str
    object: Literal["chat.completion"] = "chat.completion"
    created: int
    model: str
    choices: list[ChatChoice]
    usage: None = None
    sources: list[Citation] = Field(description="The answer's citations, numbered as in the text.")
    answer: Answer = Field(description="The full answer record.")


class ModelCard(BaseModel):
    id: str
    object: Literal["model"] = "model"
    created: int = 0
    owned_by: str = "research-notes-assistant"


class ModelList(BaseModel):
    object: Literal["list"] = "list"
    data: list[ModelCard]


def to_ask_request(body: ChatCompletionRequest) -> AskRequest:
    if body.messages[-1].role != "user":
        raise ApiError(400, "last_message_not_user", "the last message must be the user's question")
    history = [
        Message(role=m.role, content=m.text())  # type: ignore[arg-type]
        for m in body.messages[:-1]
        if m.role in ("user", "assistant") and m.text()
    ]
    return AskRequest(
        question=body.messages[-1].text(),
        history=history,
        language=body.language,
        filters=body.filters,
        top_k=body.top_k,
    )


@router.get("/models", response_model=ModelList, responses=responses(401))
async def list_models() -> ModelList:
    return ModelList(data=[ModelCard(id=MODEL_ID)])


@router.post(
    "/chat/completions",
    response_model=ChatCompletion,
    responses={
        200: {
            "description": "A chat.completion, or with `stream: true` chat.completion.chunk "
            "Server-Sent Events ending with `data: [DONE]`.",
            "content": {"text/event-stream": {}},
        },
        **responses(400, 401, 413, 422, 503),
    },
)
async def chat_completions(
    body: ChatCompletionRequest,
    service: ServiceDep,
    gate: GateDep,
    settings: SettingsDep,
    feedback: FeedbackDep,
) -> ChatCompletion | EventSourceResponse:
    request = to_ask_request(body)
    # Empty and system messages are not history, but they still count here: one system
    # prompt on top of the history is what OpenAI clients send.
    if len(body.messages) - 1 > settings.max_history_messages + 1:
        raise ApiError(
            400,
            "history_too_long",
            f"{len(body.messages)} messages; the limit is {settings.max_history_messages} "
            "earlier messages plus one system prompt and the question",
        )
    check_ask_input(request, settings)
    completion_id = f"chatcmpl-{uuid.uuid4().hex}"
    created = int(time.time())
    if body.stream:
        ticket = gate.admit()
        chunks = _chunks(service, request, ticket, feedback, completion_id, created, body.model)
        return EventSourceResponse(chunks, background=BackgroundTask(ticket.leave))
    async with gate.admit() as ticket:
        answer = await ask_service(service, request, ticket)
    answer = await run_in_threadpool(feedback.remember, request, answer, "api")
    return ChatCompletion(
        id=completion_id,
        created=created,
        model=body.model,
        choices=[ChatChoice(message=ChatResponseMessage(content=answer.answer))],
        sources=answer.citations,
        answer=answer,
    )


def _chunk(
    completion_id: str,
    created: int,
    model: str,
    delta: dict[str, Any],
    finish_reason: str | None = None,
    **extra: Any,
) -> dict[str, str]:
    body = {
        "id": completion_id,
        "object": "chat.completion.chunk",
        "created": created,
        "model": model,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason, "logprobs": None}],
        **extra,
    }
    return {"data": json.dumps(body, ensure_ascii=False)}


async def _chunks(
    service: AnsweringService,
    request: AskRequest,
    ticket: Ticket,
    feedback: FeedbackStore,
    completion_id: str,
    created: int,
    model: str,
) -> AsyncIterator[dict[str, str]]:
    yield _chunk(completion_id, created, model, {"role": "assistant", "content": ""})
    streamed = ""
    failed = False
    async with aclosing(stream_service(service, request, ticket, feedback)) as events:
        async for event in events:
            if isinstance(event, ErrorDetail):  # the openai client raises APIError on this
                failed = True
                yield {"data": ErrorBody(error=event).model_dump_json()}
            elif event.type == "token":
                streamed += event.text
                yield _chunk(completion_id, created, model, {"content": event.text})
            elif event.answer is not None:
                answer = event.answer
                rest = _completion_of(streamed, answer)
                if rest:
                    yield _chunk(completion_id, created, model, {"content": rest})
                yield _chunk(
                    completion_id,
                    created,
                    model,
                    {},
                    "stop",
                    sources=[c.model_dump() for c in answer.citations],
                    answer=answer.model_dump(),
                )
    if not failed:
        yield {"data": "[DONE]"}


def _completion_of(streamed: str, answer: Answer) -> str:
    """Text to append so the concatenated deltas read as the final answer.

    The service streams only verified text, a prefix of its final answer, so this is the
    rest. Deltas can't be retracted: should the final answer ever not continue what was sent,
    nothing more is appended (never a second, "corrected" answer); `answer` in the last chunk
    holds the full record."""
    final = answer.answer
    return final[len(streamed) :] if final.startswith(streamed) else ""
