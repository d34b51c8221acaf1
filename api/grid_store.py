"""Grid jobs and their finished cells, in SQLite (`<data_dir>/grid.sqlite3`, stdlib `sqlite3`).

Two tables: `grid_jobs` (what was asked of which notes, by whom, and the job's state) and
`grid_cells` (one row per finished cell: its status, answer and citations). A cell is written
in its own transaction the moment it is answered, so a killed server loses no finished cell;
on the next start a job that was running is `interrupted` (api/grid_jobs.py), with its cells
intact, and can be resumed.

Crash-safe and thread-safe like api/feedback_store.py: WAL journal, every change one
transaction (IMMEDIATE, so "one running job per owner" is checked and claimed atomically even
across processes), one connection behind a lock. Nothing here imports FastAPI: the UI uses it
too. The newest KEEP_JOBS jobs are kept.
"""

from __future__ import annotations

import json
import sqlite3
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from pydantic import TypeAdapter

from api.sqlite_store import SqliteStore
from rag.config import Settings
from rag.types import (
    Citation,
    GridCell,
    GridDocument,
    GridJob,
    GridProgress,
    GridState,
    Language,
)

KEEP_JOBS = 500  # a 100-cell job with citations is ~100 KB: at most ~50 MB
SCHEMA_VERSION = 1
_CITATIONS = TypeAdapter(list[Citation])
_DOCUMENTS = TypeAdapter(list[GridDocument])
_QUESTIONS = TypeAdapter(list[str])

_SCHEMA = """
CREATE TABLE IF NOT EXISTS grid_jobs (
    id TEXT PRIMARY KEY,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    owner TEXT,
    state TEXT NOT NULL
        CHECK (state IN ('running', 'done', 'cancelled', 'interrupted', 'failed')),
    documents TEXT NOT NULL,
    questions TEXT NOT NULL,
    language TEXT,
    error TEXT
);
CREATE INDEX IF NOT EXISTS grid_jobs_by_state ON grid_jobs (state, owner);
CREATE TABLE IF NOT EXISTS grid_cells (
    job_id TEXT NOT NULL,
    doc_index INTEGER NOT NULL,
    question_index INTEGER NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('answered', 'not_in_note', 'error')),
    answer TEXT NOT NULL,
    citations TEXT NOT NULL DEFAULT '[]',
    seconds REAL NOT NULL,
    finished_at TEXT NOT NULL,
    PRIMARY KEY (job_id, doc_index, question_index)
);
"""

_JOB_COLUMNS = "id, created_at, updated_at, state, documents, questions, language, error"


class OwnerBusy(Exception):
    """The owner already has a running job (`job_id`)."""

    def __init__(self, job_id: str) -> None:
        super().__init__(f"grid job {job_id} is still running")
        self.job_id = job_id


class TooManyJobs(Exception):
    """`running` jobs run already; the limit allows no more."""

    def __init__(self, running: int) -> None:
        super().__init__(f"{running} grid jobs are running")
        self.running = running


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


class GridStore(SqliteStore):
    """Grid jobs and cells in one SQLite file (opened on first use)."""

    schema = _SCHEMA
    schema_version = SCHEMA_VERSION

    def __init__(self, path: Path, *, keep_jobs: int = KEEP_JOBS) -> None:
        super().__init__(path)
        self.keep_jobs = keep_jobs

    @classmethod
    def from_settings(cls, settings: Settings) -> GridStore:
        return cls(settings.grid_db)

    # -- jobs ------------------------------------------------------------------------------

    def create(
        self,
        documents: Sequence[GridDocument],
        questions: Sequence[str],
        *,
        language: Language | None = None,
        owner: str | None = None,
        max_running: int | None = None,
    ) -> GridJob:
        """A new running job. Raises OwnerBusy when `owner` (None: callers without a key)
        has a running job, TooManyJobs when `max_running` jobs run already."""
        job_id = uuid.uuid4().hex
        now = _now()
        with self._transaction() as conn:
            self._claim(conn, owner, max_running)
            conn.execute(
                "INSERT INTO grid_jobs (id, created_at, updated_at, owner, state, documents, "
                "questions, language) VALUES (?, ?, ?, ?, 'running', ?, ?, ?)",
                (
                    job_id,
                    now,
                    now,
                    owner,
                    _DOCUMENTS.dump_json(list(documents)).decode(),
                    json.dumps(list(questions), ensure_ascii=False),
                    language,
                ),
            )
            self._prune(conn)
        job = self.get(job_id)
        assert job is not None
        return job

    @staticmethod
    def _claim(conn: sqlite3.Connection, owner: str | None, max_running: int | None) -> None:
        mine = conn.execute(
            "SELECT id FROM grid_jobs WHERE state = 'running' AND owner IS ? "
            "ORDER BY created_at LIMIT 1",
            (owner,),
        ).fetchone()
        if mine is not None:
            raise OwnerBusy(mine["id"])
        if max_running is not None:
            (running,) = conn.execute(
                "SELECT COUNT(*) FROM grid_jobs WHERE state = 'running'"
            ).fetchone()
            if running >= max_running:
                raise TooManyJobs(int(running))

    def _prune(self, conn: sqlite3.Connection) -> None:
        old = conn.execute(
            "SELECT id FROM grid_jobs WHERE state != 'running' "
            "ORDER BY created_at DESC, rowid DESC LIMIT -1 OFFSET ?",
            (self.keep_jobs,),
        ).fetchall()
        for row in old:
            conn.execute("DELETE FROM grid_cells WHERE job_id = ?", (row["id"],))
            conn.execute("DELETE FROM grid_jobs WHERE id = ?", (row["id"],))

    def get(self, job_id: str) -> GridJob | None:
        """The job with its finished cells, or None."""
        with self._transaction(write=False) as conn:
            row = conn.execute(
                f"SELECT {_JOB_COLUMNS} FROM grid_jobs WHERE id = ?", (job_id,)
            ).fetchone()
            if row is None:
                return None
            cells = conn.execute(
                "SELECT doc_index, question_index, status, answer, citations, seconds "
                "FROM grid_cells WHERE job_id = ? ORDER BY doc_index, question_index",
                (job_id,),
            ).fetchall()
        return _job(row, cells)

    def owner(self, job_id: str) -> str | None:
        with self._transaction(write=False) as conn:
            row = conn.execute("SELECT owner FROM grid_jobs WHERE id = ?", (job_id,)).fetchone()
        return None if row is None else row["owner"]

    def running(self, owner: str | None) -> str | None:
        """The id of `owner`'s running job, or None."""
        with self._transaction(write=False) as conn:
            row = conn.execute(
                "SELECT id FROM grid_jobs WHERE state = 'running' AND owner IS ? "
                "ORDER BY created_at LIMIT 1",
                (owner,),
            ).fetchone()
        return None if row is None else str(row["id"])

    def put_cell(self, job_id: str, cell: GridCell) -> bool:
        """Store a finished cell of a running job (True), in its own transaction; a job no
        longer running (cancelled meanwhile) takes no more cells (False)."""
        now = _now()
        with self._transaction() as conn:
            state = conn.execute("SELECT state FROM grid_jobs WHERE id = ?", (job_id,)).fetchone()
            if state is None or state["state"] != "running":
                return False
            conn.execute(
                "INSERT OR REPLACE INTO grid_cells (job_id, doc_index, question_index, status, "
                "answer, citations, seconds, finished_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    job_id,
                    cell.row,
                    cell.col,
                    cell.status,
                    cell.answer,
                    _CITATIONS.dump_json(cell.citations).decode(),
                    cell.seconds,
                    now,
                ),
            )
            conn.execute("UPDATE grid_jobs SET updated_at = ? WHERE id = ?", (now, job_id))
        return True

    def finish(
        self,
        job_id: str,
        state: GridState,
        *,
        error: str | None = None,
        only_from: Sequence[GridState] = ("running",),
    ) -> bool:
        """Move a job in one of `only_from` to `state` (True), else leave it (False)."""
        marks = ",".join("?" * len(only_from))
        with self._transaction() as conn:
            changed = conn.execute(
                f"UPDATE grid_jobs SET state = ?, error = ?, updated_at = ? "
                f"WHERE id = ? AND state IN ({marks})",
                (state, error, _now(), job_id, *only_from),
            ).rowcount
        return changed > 0

    def resume(self, job_id: str, *, max_running: int | None = None) -> bool:
        """Run a stopped job again (its finished cells kept): True when it was stopped, False
        when it is running already. Raises KeyError for an unknown job, OwnerBusy and
        TooManyJobs as `create`."""
        with self._transaction() as conn:
            row = conn.execute(
                "SELECT state, owner FROM grid_jobs WHERE id = ?", (job_id,)
            ).fetchone()
            if row is None:
                raise KeyError(job_id)
            if row["state"] == "running":
                return False
            self._claim(conn, row["owner"], max_running)
            conn.execute(
                "UPDATE grid_jobs SET state = 'running', error = NULL, updated_at = ? WHERE id = ?",
                (_now(), job_id),
            )
        return True

    def interrupt_running(self, reason: str) -> list[str]:
        """Mark every running job interrupted (a server start: nothing runs them any more);
        their ids."""
        with self._transaction() as conn:
            ids = [
                str(r["id"])
                for r in conn.execute("SELECT id FROM grid_jobs WHERE state = 'running'")
            ]
            conn.executemany(
                "UPDATE grid_jobs SET state = 'interrupted', error = ?, updated_at = ? "
                "WHERE id = ?",
                [(reason, _now(), job_id) for job_id in ids],
            )
        return ids


def _job(row: sqlite3.Row, cells: Sequence[sqlite3.Row]) -> GridJob:
    documents = _DOCUMENTS.validate_json(row["documents"])
    questions = _QUESTIONS.validate_json(row["questions"])
    finished = [
        GridCell(
            row=c["doc_index"],
            col=c["question_index"],
            doc_id=documents[c["doc_index"]].doc_id,
            question=questions[c["question_index"]],
            status=c["status"],
            answer=c["answer"],
            citations=_CITATIONS.validate_json(c["citations"]),
            seconds=c["seconds"],
        )
        for c in cells
    ]
    statuses = [c.status for c in finished]
    progress = GridProgress(
        done=len(finished),
        total=len(documents) * len(questions),
        answered=statuses.count("answered"),
        not_in_note=statuses.count("not_in_note"),
        error=statuses.count("error"),
    )
    return GridJob(
        id=row["id"],
        state=row["state"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        documents=documents,
        questions=questions,
        language=row["language"],
        progress=progress,
        cells=finished,
        error=row["error"],
    )
