"""Feedback on answers, in SQLite (`<data_dir>/feedback.sqlite3`, stdlib `sqlite3`).

Two tables:

* `feedback`: one row per 👍/👎 (rating, optional reason, the question, answer, citations,
  language, verification status, surface, user, answer id and the commit of the code that
  answered). A person who rates the same answer again (same answer id, surface and user)
  replaces their rating; anonymous ratings are never merged.
* `answers`: the newest KEEP_ANSWERS answers the API, the chat and Slack served, by
  `answer_id`. A rating can then name an answer by id alone, hours later and after a restart
  (a Slack button carries nothing else), and it records what was really served and by which
  commit, not what a client says was.

Crash-safe: WAL journal, every change one transaction (a killed process leaves the last
committed state). Thread-safe: one connection behind a lock, so FastAPI's worker threads,
Gradio's and the Slack tasks may share a store; other processes (the eval export) open their
own, and SQLite's busy timeout orders their writes. Nothing here imports FastAPI: the UI and
the eval use it too.
"""

from __future__ import annotations

import functools
import json
import logging
import re
import sqlite3
import subprocess
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter

from api.sqlite_store import SqliteStore
from rag.config import REPO_ROOT, Settings
from rag.types import (
    FEEDBACK_REASON_MAX_CHARS,
    Answer,
    AskRequest,
    Citation,
    Feedback,
    FeedbackEntry,
    FeedbackSurface,
    Message,
    Rating,
)

log = logging.getLogger(__name__)

KEEP_ANSWERS = 10_000  # ~3 KB each: at most ~30 MB
SCHEMA_VERSION = 1
_SHA = re.compile(r"[0-9a-f]{40}")
_CITATIONS = TypeAdapter(list[Citation])
_MESSAGES = TypeAdapter(list[Message])

_SCHEMA = """
CREATE TABLE IF NOT EXISTS feedback (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    created_at TEXT NOT NULL,
    rating TEXT NOT NULL CHECK (rating IN ('up', 'down')),
    reason TEXT,
    question TEXT NOT NULL,
    history TEXT NOT NULL DEFAULT '[]',
    answer TEXT NOT NULL,
    citations TEXT NOT NULL DEFAULT '[]',
    language TEXT,
    verification_status TEXT,
    surface TEXT NOT NULL CHECK (surface IN ('api', 'ui', 'slack')),
    user_id TEXT,
    answer_id TEXT,
    commit_sha TEXT NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS feedback_one_per_user ON feedback (answer_id, surface, user_id)
    WHERE answer_id IS NOT NULL AND user_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS feedback_by_rating ON feedback (rating, id);
CREATE TABLE IF NOT EXISTS answers (
    answer_id TEXT PRIMARY KEY,
    created_at TEXT NOT NULL,
    surface TEXT NOT NULL,
    question TEXT NOT NULL,
    history TEXT NOT NULL,
    answer TEXT NOT NULL,
    commit_sha TEXT NOT NULL
);
"""

_COLUMNS = (
    "id, created_at, rating, reason, question, history, answer, citations, language, "
    "verification_status, surface, user_id, answer_id, commit_sha"
)


@functools.cache
def code_commit(override: str | None = None, root: Path = REPO_ROOT) -> str:
    """The commit of the running code, read once: `override` (RNA_COMMIT) when set, else
    `git rev-parse HEAD` of `root` with "-dirty" when tracked files differ from it, else
    "unknown" (no git, not a checkout, git refusing the directory)."""
    if override:
        return override
    try:
        head = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
        sha = head.stdout.strip()
        if head.returncode != 0 or not _SHA.fullmatch(sha):
            return "unknown"
        status = subprocess.run(  # no-optional-locks: never write .git/index from here
            ["git", "--no-optional-locks", "-C", str(root), "status", "--porcelain", "-uno"],
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    dirty = status.returncode == 0 and bool(status.stdout.strip())
    return f"{sha}-dirty" if dirty else sha


class ReasonTooLong(ValueError):
    def __init__(self, length: int) -> None:
        super().__init__(
            f"the reason has {length} characters; the limit is {FEEDBACK_REASON_MAX_CHARS}"
        )
        self.length = length


def check_reason(reason: str | None) -> None:
    """Raise ReasonTooLong for a reason FeedbackEntry would refuse."""
    if reason is not None and len(reason) > FEEDBACK_REASON_MAX_CHARS:
        raise ReasonTooLong(len(reason))


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass(frozen=True)
class KeptAnswer:
    """An answer as it was served, kept so that feedback can name it by id."""

    answer_id: str
    created_at: str
    surface: str
    question: str
    history: list[Message]
    answer: Answer
    commit: str

    def entry(
        self, rating: Rating, reason: str | None, surface: FeedbackSurface, user: str | None
    ) -> FeedbackEntry:
        """A rating of this answer (raises ValidationError on a reason over the limit)."""
        return FeedbackEntry(
            rating=rating,
            reason=reason,
            question=self.question,
            history=self.history,
            answer=self.answer.answer,
            citations=self.answer.citations,
            language=self.answer.language,
            verification_status=self.answer.verification.get("status"),
            surface=surface,
            user=user,
            answer_id=self.answer_id,
            commit=self.commit,
        )


class FeedbackStore(SqliteStore):
    """Ratings and the answers they rate, in one SQLite file (opened on first use)."""

    schema = _SCHEMA
    schema_version = SCHEMA_VERSION

    def __init__(self, path: Path, *, commit: str, keep_answers: int = KEEP_ANSWERS) -> None:
        super().__init__(path)
        self.commit = commit
        self.keep_answers = keep_answers

    @classmethod
    def from_settings(cls, settings: Settings) -> FeedbackStore:
        return cls(settings.feedback_db, commit=code_commit(settings.commit))

    # -- answers ---------------------------------------------------------------------------

    def remember(self, request: AskRequest, answer: Answer, surface: FeedbackSurface) -> Answer:
        """Keep a served answer and return it with its new `answer_id`; on a storage failure
        log it and return the answer unchanged (no id: answering never fails for this)."""
        if self.keep_answers <= 0:
            return answer
        answer_id = uuid.uuid4().hex
        kept = answer.model_copy(update={"answer_id": answer_id})
        history = json.dumps([m.model_dump() for m in request.history], ensure_ascii=False)
        try:
            with self._transaction() as conn:
                cursor = conn.execute(
                    "INSERT INTO answers (answer_id, created_at, surface, question, history, "
                    "answer, commit_sha) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (
                        answer_id,
                        _now(),
                        surface,
                        request.question,
                        history,
                        kept.model_dump_json(),
                        self.commit,
                    ),
                )
                newest = cursor.lastrowid or 0
                if newest > self.keep_answers:  # rowids only grow: drop the oldest
                    conn.execute(
                        "DELETE FROM answers WHERE rowid <= ?", (newest - self.keep_answers,)
                    )
        except (sqlite3.Error, OSError):
            log.exception("keeping the answer for feedback failed (%s)", self.path)
            return answer
        return kept

    def kept_answer(self, answer_id: str) -> KeptAnswer | None:
        with self._transaction(write=False) as conn:
            row = conn.execute(
                "SELECT answer_id, created_at, surface, question, history, answer, commit_sha "
                "FROM answers WHERE answer_id = ?",
                (answer_id,),
            ).fetchone()
        if row is None:
            return None
        return KeptAnswer(
            answer_id=row["answer_id"],
            created_at=row["created_at"],
            surface=row["surface"],
            question=row["question"],
            history=_MESSAGES.validate_json(row["history"]),
            answer=Answer.model_validate_json(row["answer"]),
            commit=row["commit_sha"],
        )

    # -- feedback --------------------------------------------------------------------------

    def record(self, entry: FeedbackEntry) -> Feedback:
        """Store a rating. The same user rating the same answer on the same surface again
        replaces their earlier rating and reason (the row keeps its id)."""
        values = (
            _now(),
            entry.rating,
            entry.reason,
            entry.question,
            json.dumps([m.model_dump() for m in entry.history], ensure_ascii=False),
            entry.answer,
            json.dumps([c.model_dump() for c in entry.citations], ensure_ascii=False),
            entry.language,
            entry.verification_status,
            entry.surface,
            entry.user,
            entry.answer_id,
            entry.commit or self.commit,
        )
        with self._transaction() as conn:
            row = conn.execute(
                f"INSERT INTO feedback ({_COLUMNS.removeprefix('id, ')}) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (answer_id, surface, user_id) "
                "WHERE answer_id IS NOT NULL AND user_id IS NOT NULL DO UPDATE SET "
                "created_at = excluded.created_at, rating = excluded.rating, "
                "reason = excluded.reason "
                f"RETURNING {_COLUMNS}",
                values,
            ).fetchone()
        return _feedback(row)

    def get(self, feedback_id: int) -> Feedback | None:
        with self._transaction(write=False) as conn:
            row = conn.execute(
                f"SELECT {_COLUMNS} FROM feedback WHERE id = ?", (feedback_id,)
            ).fetchone()
        return None if row is None else _feedback(row)

    def set_reason(
        self, feedback_id: int, reason: str | None, *, user: str | None = None
    ) -> Feedback | None:
        """Add (or replace) the reason of a stored rating, only if `user` gave it (when
        given). None when there is no such rating. Raises ReasonTooLong on a reason over the
        limit: it is refused, never cut."""
        check_reason(reason)
        with self._transaction() as conn:
            row = conn.execute(
                f"UPDATE feedback SET reason = ? WHERE id = ? AND (? IS NULL OR user_id = ?) "
                f"RETURNING {_COLUMNS}",
                (reason, feedback_id, user, user),
            ).fetchone()
        return None if row is None else _feedback(row)

    def withdraw(self, answer_id: str, surface: FeedbackSurface, user: str) -> bool:
        """Delete the rating `user` gave this answer on `surface` (a second click on the same
        thumb takes it back). False when there was none."""
        with self._transaction() as conn:
            cursor = conn.execute(
                "DELETE FROM feedback WHERE answer_id = ? AND surface = ? AND user_id = ?",
                (answer_id, surface, user),
            )
        return cursor.rowcount > 0

    def list(
        self,
        *,
        rating: Rating | None = None,
        surface: FeedbackSurface | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> tuple[list[Feedback], int]:
        """(a page of ratings, newest first; how many match in all)."""
        where = "WHERE (? IS NULL OR rating = ?) AND (? IS NULL OR surface = ?)"
        params: Sequence[Any] = (rating, rating, surface, surface)
        with self._transaction(write=False) as conn:
            total = conn.execute(f"SELECT count(*) FROM feedback {where}", params).fetchone()[0]
            rows = conn.execute(
                f"SELECT {_COLUMNS} FROM feedback {where} ORDER BY id DESC LIMIT ? OFFSET ?",
                (*params, limit, offset),
            ).fetchall()
        return [_feedback(r) for r in rows], int(total)

    def all(self, *, rating: Rating | None = None, page: int = 500) -> Iterator[Feedback]:
        """Every rating (of `rating`), oldest first, read a page at a time."""
        after = 0
        while True:
            with self._transaction(write=False) as conn:
                rows = conn.execute(
                    f"SELECT {_COLUMNS} FROM feedback WHERE id > ? AND (? IS NULL OR rating = ?) "
                    "ORDER BY id LIMIT ?",
                    (after, rating, rating, page),
                ).fetchall()
            if not rows:
                return
            for row in rows:
                yield _feedback(row)
            after = rows[-1]["id"]


def _feedback(row: sqlite3.Row) -> Feedback:
    return Feedback(
        id=row["id"],
        created_at=row["created_at"],
        rating=row["rating"],
        reason=row["reason"],
        question=row["question"],
        history=_MESSAGES.validate_json(row["history"]),
        answer=row["answer"],
        citations=_CITATIONS.validate_json(row["citations"]),
        language=row["language"],
        verification_status=row["verification_status"],
        surface=row["surface"],
        user=row["user_id"],
        answer_id=row["answer_id"],
        commit=row["commit_sha"],
    )
