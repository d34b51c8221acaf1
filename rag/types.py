"""Data shared by ingest, rag, api, ui and eval: one definition each, no dict guesswork."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Language = Literal["zh", "en"]


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True)


DocType = Literal["expert_call", "broker_note", "news", "other"]
DOC_TYPES: tuple[DocType, ...] = ("expert_call", "broker_note", "news", "other")


class DocumentInfo(Frozen):
    """One source document after loading and cleaning."""

    doc_id: str = Field(description="Stable id: the file's path relative to the corpus.")
    source: str = Field(description="Path of the file the text came from.")
    title: str
    date: str | None = Field(None, description="ISO date (YYYY-MM-DD) the document is about.")
    institution: str | None = None
    url: str | None = None
    doc_type: DocType = Field(
        "other", description="Declared in the file's front matter (doc_type), else read from it."
    )
    content_hash: str = Field(description="sha256 of the original text.")


class Chunk(Frozen):
    """A retrievable piece of a document; offsets index the document's original text."""

    chunk_id: str
    doc_id: str
    text: str
    start: int
    end: int
    section: str | None = Field(
        None, description="The question of a Q&A pair, or the header row of a table."
    )
    heading: str | None = Field(
        None, description="The note's headings above the chunk, outermost first."
    )


class Citation(Frozen):
    n: int
    source: str
    title: str
    date: str | None
    quote: str
    start: int
    end: int
    score: float
    # For a table row: the table's caption and header row, which say what its bare cells
    # are ("（单位：亿元）", "| 指标 | 贵州茅台 | 五粮液 |"). Shown above the quote.
    context: str = ""


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
    answer_id: str | None = Field(
        None,
        description="Names this answer for feedback (POST /v1/feedback): set when the API, the "
        "chat or Slack kept the answer; None when it was not kept (then send its content).",
    )


class Message(Frozen):
    role: Literal["user", "assistant"]
    content: str


class Filters(Frozen):
    """Restrict retrieval to some documents and/or a date range (inclusive, ISO dates)."""

    doc_ids: list[str] | None = None
    date_from: str | None = None
    date_to: str | None = None
    doc_types: list[DocType] | None = None
    company: str | None = Field(
        None,
        max_length=100,
        description="Only notes that name this company (any of its names, either language).",
    )


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


class FactRow(Frozen):
    """One figure of a note as a table row (rag/facts/rows.py), with the sentence it is quoted
    from: `doc_id`, `title`, `date`, `quote`, `start`, `end` open it like a Citation's."""

    doc_id: str
    title: str
    date: str | None = None
    entity: str | None = Field(None, description="The entity it is about (its first alias).")
    metric: str | None = Field(None, description="The metric word it is stated for.")
    sense: str | None = Field(
        None,
        description='The term a metric word of two senses means in its note: "operating income"'
        " as 营业收入 in a bank's report.",
    )
    period: str = Field(
        "", description='Year and span: "2025 9M", "2026 FY", "2026"; relative years resolved.'
    )
    year: int | None = None
    span: (
        Literal[
            "fy", "h1", "h2", "9m", "q1", "q2", "q3", "q4",
            "m01", "m02", "m03", "m04", "m05", "m06", "m07", "m08", "m09", "m10", "m11", "m12",
            "ytd02", "ytd04", "ytd05", "ytd07", "ytd08", "ytd10", "ytd11",
        ]
        | None
    ) = None  # fmt: skip
    value: str = Field(description="The figure as the note writes it.")
    value_en: str = Field(description="The figure normalised, in English.")
    value_zh: str = Field(description="The figure normalised, in Chinese.")
    low: float
    high: float
    kind: str = Field(description="count, money, percent, percentage_points, multiple, ...")
    unit: str | None = Field(None, description="Its unit or currency.")
    change: Literal["yoy", "qoq", "change", "level"] = "level"
    quote: str = Field(description="The sentence (or table row) that states it.")
    heading: str = Field("", description="The headings and the question the quote sits under.")
    start: int = Field(description="Offset of the quote in the document's original text.")
    end: int
    # The chunk it was read from: a figure question finds its sentence through it even when
    # retrieval ranked that chunk low (an English question over a Chinese note). Internal.
    chunk_id: str = Field("", exclude=True)


class IngestReport(Frozen):
    documents: int = 0
    added: int = 0
    updated: int = 0
    deleted: int = 0
    unchanged: int = 0
    skipped: list[str] = Field(default_factory=list, description="Files not ingested, with why.")
    seconds: float = 0.0


Rating = Literal["up", "down"]
FeedbackSurface = Literal["api", "ui", "slack"]
FEEDBACK_REASON_MAX_CHARS = 1000


class FeedbackEntry(Frozen):
    """A person's 👍/👎 on one answer, with what was asked and answered (api/feedback_store.py).

    A reason longer than FEEDBACK_REASON_MAX_CHARS is refused, never cut."""

    rating: Rating
    reason: str | None = Field(None, max_length=FEEDBACK_REASON_MAX_CHARS)
    question: str
    history: list[Message] = Field(default_factory=list, description="Earlier turns, if any.")
    answer: str
    citations: list[Citation] = Field(default_factory=list)
    language: Language | None = None
    verification_status: str | None = Field(
        None, description="The answer's verification.status (verified, fallback, abstained...)."
    )
    surface: FeedbackSurface = Field(description="Where it was given: api, ui or slack.")
    user: str | None = Field(
        None,
        description="Who rated: the API key's position in RNA_API_KEYS (key-1) and the "
        "client's own user id, a Slack user id, or the chat's login name or browser session.",
    )
    answer_id: str | None = None
    commit: str | None = Field(
        None, description="Git commit of the code that answered (None: the running code's)."
    )


class Feedback(FeedbackEntry):
    """A stored FeedbackEntry."""

    id: int
    created_at: str = Field(description="When it was given (UTC, ISO 8601).")
    commit: str


# -- documents x questions grid (api/grid.py, api/grid_jobs.py, the UI's Grid tab) ----------

GridState = Literal["running", "done", "cancelled", "interrupted", "failed"]
GridCellStatus = Literal["answered", "not_in_note", "error"]


class GridRequest(Frozen):
    """Ask every question of one note at a time: the notes are the rows, the questions the
    columns; each cell is answered with retrieval restricted to that one note."""

    documents: list[str] = Field(min_length=1, description="doc_ids of the notes (rows).")
    questions: list[str] = Field(min_length=1, description="The questions (columns).")
    language: Language | None = Field(None, description="Overrides each detected language.")


class GridDocument(Frozen):
    """A row of the grid: the note as it was listed when the grid was submitted."""

    doc_id: str
    title: str
    date: str | None = None


class GridCell(Frozen):
    """One note's answer to one question: `answered` (with its citations, all from that
    note), `not_in_note` (the note does not say) or `error` (the answer failed; `answer`
    says why)."""

    row: int = Field(description="Index of the note in `documents`.")
    col: int = Field(description="Index of the question in `questions`.")
    doc_id: str
    question: str
    status: GridCellStatus
    answer: str
    citations: list[Citation] = Field(default_factory=list)
    seconds: float = Field(
        0.0, description="From the cell's start to its answer, any wait for a slot included."
    )


class GridProgress(Frozen):
    done: int = Field(description="Finished cells (any status).")
    total: int
    answered: int = 0
    not_in_note: int = 0
    error: int = 0


class GridJob(Frozen):
    """A grid job: `running` until every cell is done, or `cancelled`, `interrupted` (the
    server stopped; finished cells are kept and `POST …/resume` answers the rest) or `failed`.
    """

    id: str
    state: GridState
    created_at: str = Field(description="UTC, ISO 8601.")
    updated_at: str
    documents: list[GridDocument]
    questions: list[str]
    language: Language | None = None
    progress: GridProgress
    cells: list[GridCell] = Field(
        default_factory=list, description="Finished cells, by row then column."
    )
    error: str | None = Field(None, description="Why it stopped, when it did not finish.")
