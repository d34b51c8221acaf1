"""`POST /v1/feedback` (a 👍/👎 with an optional reason on one answer) and `GET /v1/feedback`
(the stored ratings, newest first, paginated). Stored by api/feedback_store.py.

An answer is named by its `answer_id` (every answer the API, the chat and Slack serve carries
one): the stored row then holds the answer as it was served and the commit that served it,
whatever else the body says. An answer the server no longer keeps (or never served) can be
rated by sending its `question`, `answer` and `citations` instead.
"""

from __future__ import annotations

import logging
import re
import sqlite3
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from api.ask import ANSWER_TO_QUESTION_CHARS
from api.deps import CallerKeyDep, FeedbackDep, SettingsDep
from api.errors import ApiError, responses
from api.feedback_store import FeedbackStore
from rag.config import Settings
from rag.types import (
    FEEDBACK_REASON_MAX_CHARS,
    Citation,
    Feedback,
    FeedbackEntry,
    FeedbackSurface,
    Language,
    Message,
    Rating,
)

router = APIRouter(prefix="/v1", tags=["feedback"])
log = logging.getLogger(__name__)

MAX_LIMIT = 500
MAX_OFFSET = 10**9  # SQLite's integers end at 2**63
# C0/C1 control characters (tab and line breaks aside) and unpaired surrogates, as in questions.
_BINARY = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


class FeedbackRequest(BaseModel):
    """A rating of one answer: `answer_id`, or the answer's `question`, `answer` and
    `citations` (with `history` for a follow-up)."""

    model_config = ConfigDict(extra="forbid")

    rating: Rating
    reason: str | None = Field(
        None,
        max_length=FEEDBACK_REASON_MAX_CHARS,
        description=f"What was wrong (or right), at most {FEEDBACK_REASON_MAX_CHARS} "
        "characters; a longer one is refused, never cut.",
    )
    answer_id: str | None = Field(
        None, pattern=r"^[0-9a-f]{32}$", description="The `answer_id` of an Answer served here."
    )
    question: str | None = Field(None, description="Without answer_id: the question asked.")
    history: list[Message] = Field(default_factory=list, description="Its earlier turns.")
    answer: str | None = Field(None, description="Without answer_id: the answer's text.")
    citations: list[Citation] = Field(default_factory=list, max_length=50)
    language: Language | None = None
    verification_status: str | None = Field(None, max_length=40)
    user: str | None = Field(
        None, max_length=200, description="The client's own id of the person rating."
    )


class FeedbackList(BaseModel):
    items: list[Feedback] = Field(description="Newest first.")
    count: int = Field(description="Items in this page.")
    total: int = Field(description="Stored ratings matching the filters.")
    limit: int
    offset: int


def _clean_reason(reason: str | None) -> str | None:
    if reason is None:
        return None
    if _BINARY.search(reason):
        raise ApiError(400, "invalid_characters", "the reason holds control characters")
    return reason.strip() or None


def _check_text(name: str, code: str, text: str, limit: int) -> None:
    if len(text) > limit:
        raise ApiError(400, code, f"{name} has {len(text)} characters; the limit is {limit}")
    if _BINARY.search(text):
        raise ApiError(400, "invalid_characters", f"{name} holds control characters")


def _entry_from_body(body: FeedbackRequest, settings: Settings, user: str | None) -> FeedbackEntry:
    """The rated answer as the body gives it, within the limits of a question and history."""
    question, answer = body.question, body.answer
    if not question or not question.strip() or not answer or not answer.strip():
        if body.answer_id:
            raise ApiError(
                404,
                "unknown_answer",
                "no answer with this answer_id is kept here; send its question, answer and "
                "citations instead",
            )
        raise ApiError(400, "missing_answer", "send answer_id, or the question and the answer")
    limit = settings.max_question_chars
    _check_text("question", "question_too_long", question, limit)
    _check_text("answer", "answer_too_long", answer, limit * ANSWER_TO_QUESTION_CHARS)
    if len(body.history) > settings.max_history_messages:
        raise ApiError(
            400,
            "history_too_long",
            f"the history has {len(body.history)} messages; "
            f"the limit is {settings.max_history_messages}",
        )
    for i, message in enumerate(body.history):
        most = limit * (ANSWER_TO_QUESTION_CHARS if message.role == "assistant" else 1)
        _check_text(f"history[{i}]", "history_message_too_long", message.content, most)
    return FeedbackEntry(
        rating=body.rating,
        reason=_clean_reason(body.reason),
        question=question,
        history=body.history,
        answer=answer,
        citations=body.citations,
        language=body.language,
        verification_status=body.verification_status,
        surface="api",
        user=user,
        answer_id=body.answer_id,
    )


def _rating_user(key: str | None, user: str | None) -> str | None:
    """The key and the client's user together: a client can't rate as another key's user."""
    if key and user:
        return f"{key}:{user}"
    return key or user


def _record(
    store: FeedbackStore, body: FeedbackRequest, settings: Settings, user: str | None
) -> Feedback:
    kept = store.kept_answer(body.answer_id) if body.answer_id else None
    if kept is not None:
        entry = kept.entry(body.rating, _clean_reason(body.reason), "api", user)
    else:
        entry = _entry_from_body(body, settings, user)
    return store.record(entry)


@router.post(
    "/feedback",
    status_code=201,
    response_model=Feedback,
    responses=responses(400, 401, 404, 413, 422, 503),
)
async def post_feedback(
    body: FeedbackRequest, store: FeedbackDep, settings: SettingsDep, key: CallerKeyDep
) -> Feedback:
    """Store a 👍/👎 on one answer. Rating the same answer again with the same key (and
    `user`) replaces the earlier rating."""
    if body.user is not None and _BINARY.search(body.user):
        raise ApiError(400, "invalid_characters", "the user holds control characters")
    user = _rating_user(key, body.user)
    try:
        return await run_in_threadpool(_record, store, body, settings, user)
    except (sqlite3.Error, OSError) as exc:
        raise _unavailable(exc) from exc


@router.get("/feedback", response_model=FeedbackList, responses=responses(401, 422, 503))
async def list_feedback(
    store: FeedbackDep,
    rating: Annotated[Rating | None, Query(description="up or down; omitted: both.")] = None,
    surface: Annotated[FeedbackSurface | None, Query(description="api, ui or slack.")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> FeedbackList:
    """Stored ratings, newest first."""
    try:
        items, total = await run_in_threadpool(
            lambda: store.list(rating=rating, surface=surface, limit=limit, offset=offset)
        )
    except (sqlite3.Error, OSError) as exc:
        raise _unavailable(exc) from exc
    return FeedbackList(items=items, count=len(items), total=total, limit=limit, offset=offset)


def _unavailable(exc: Exception) -> ApiError:
    log.error("feedback store failed: %s", exc, exc_info=exc)
    return ApiError(
        503,
        "feedback_unavailable",
        "the feedback store can't be read or written; see the server log",
        headers={"Retry-After": "5"},
    )
