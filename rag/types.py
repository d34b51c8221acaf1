"""Data shared by ingest, rag, api, ui and eval: one definition each, no dict guesswork."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Language = Literal["zh", "en"]


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True)


class DocumentInfo(Frozen):
    """One source document after loading and cleaning."""

    doc_id: str = Field(description="Stable id: the file's path relative to the corpus.")
    source: str = Field(description="Path of the file the text came from.")
    title: str
    date: str | None = Field(None, description="ISO date (YYYY-MM-DD) the document is about.")
    institution: str | None = None
    url: str | None = None
    content_hash: str = Field(description="sha256 of the original text.")


class Chunk(Frozen):
    """A retrievable piece of a document; offsets index the document's original text."""

    chunk_id: str
    doc_id: str
    text: str
    start: int
    end: int
    section: str | None = Field(None, description="The question of a Q&A pair, or a heading.")


class Citation(Frozen):
    n: int
    source: str
    title: str
    date: str | None
    quote: str
    start: int
    end: int
    score: float


class ToolCall(Frozen):
    name: str
    inputs: dict[str, Any]
    output: str
    formula: str


class Answer(Frozen):
    answer: str
    language: Language
    abstained: bool = False
    citations: list[Citation] = Field(default_factory=list)
    tool_calls: list[ToolCall] = Field(default_factory=list)
    verification: dict[str, Any] = Field(
        default_factory=dict,
        description="The technical record: status (verified, repaired, fallback, computed, "
        "deterministic, abstained), reason, LLM state, figures checked.",
    )
    status: str = Field(
        "",
        description="A plain status for users, in the answer's language: e.g. "
        "'✓ figures checked against the sources', '✓ computed by the calculator', "
        "'not in the notes'.",
    )
    timings_ms: dict[str, float] = Field(default_factory=dict)


class Message(Frozen):
    role: Literal["user", "assistant"]
    content: str


class Filters(Frozen):
    """Restrict retrieval to some documents and/or a date range (inclusive, ISO dates)."""

    doc_ids: list[str] | None = None
    date_from: str | None = None
    date_to: str | None = None


class AskRequest(Frozen):
    question: str
    history: list[Message] = Field(default_factory=list)
    language: Language | None = Field(None, description="Overrides the detected language.")
    filters: Filters | None = None
    top_k: int | None = Field(None, ge=1, le=50)


class StreamEvent(Frozen):
    """`token` events carry verified text only: joined, they are a prefix of the final answer
    (never a figure the grounding check has not passed). Exactly one `final` event ends a
    stream; its answer starts with every token's text."""

    type: Literal["token", "final"]
    text: str = ""
    answer: Answer | None = None


class IngestReport(Frozen):
    documents: int = 0
    added: int = 0
    updated: int = 0
    deleted: int = 0
    unchanged: int = 0
    skipped: list[str] = Field(default_factory=list, description="Files not ingested, with why.")
    seconds: float = 0.0
