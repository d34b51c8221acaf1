"""Documents × questions grids as background jobs: checked, stored (api/grid_store.py) and
answered cell by cell by one worker thread, so a grid never takes more than one answering
slot from interactive questions.

Each cell asks the one answering entry point (`AnsweringService.ask`) one question with
retrieval restricted to one note (`filters.doc_ids = [doc_id]`): an answer cites only that
note, and an abstention there means "not in this note". With the LLM, each cell is admitted
by the API's own AnswerGate like a `/v1/ask` question (so a busy model degrades it to the
verified quote, and a full house makes it wait, never fail); without it (`grid_use_llm` off)
cells are answered in the worker thread directly, ~0.1 s each, and never touch the gate (whose
time estimates are for the LLM's answers).

Several jobs (one per API key or chat user, `grid_max_jobs` in all) take turns cell by cell.
A cancelled job keeps its finished cells; a job the server stopped is `interrupted` (at start,
too, for what a killed process left running) and `resume` answers only the missing cells. One
process runs the grids of a data_dir: a second one would mark the first one's jobs interrupted.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from api.ask import check_ask_input
from api.errors import ApiError
from api.grid_store import GridStore, OwnerBusy, TooManyJobs
from api.limits import AnswerGate, ask_service
from rag.config import Settings
from rag.service import AnsweringService
from rag.types import (
    Answer,
    AskRequest,
    DocumentInfo,
    Filters,
    GridCell,
    GridDocument,
    GridJob,
    GridRequest,
    Language,
)

log = logging.getLogger(__name__)

NOT_IN_NOTE: dict[Language, str] = {"en": "not in this note", "zh": "本纪要未提及"}
INTERRUPTED = "the server stopped before this grid finished; resume it to answer the rest"
POLL_S = 0.5  # how often a waiting cell checks whether its job was cancelled


class GridStopped(Exception):
    """The job was cancelled or the runner is stopping: the cell is not stored."""


CellAnswerer = Callable[[AskRequest, threading.Event], Answer]
"""Answers one cell's question; raises GridStopped once the event is set while it waits."""


def direct_answerer(service: AnsweringService, gate: AnswerGate | None = None) -> CellAnswerer:
    """Cells answered without the LLM in the calling (worker) thread, after any warm-up."""

    def answer(request: AskRequest, stop: threading.Event) -> Answer:
        while gate is not None and gate.warming:
            if stop.wait(POLL_S):
                raise GridStopped
        return service.ask(request, use_llm=False)

    return answer


def gated_answerer(
    service: AnsweringService, gate: AnswerGate, loop: asyncio.AbstractEventLoop
) -> CellAnswerer:
    """Cells admitted by `gate` on the event loop `loop` like a `/v1/ask` question: answered
    with the LLM, or without it when the ticket says the model is busy; a refusal (503: full,
    warming up) is waited out, checking `stop` meanwhile."""

    async def admitted(request: AskRequest, stop: threading.Event) -> Answer:
        while True:
            if stop.is_set():
                raise GridStopped
            try:
                ticket = gate.admit()
            except ApiError as refused:
                if refused.status_code != 503:
                    raise
                await asyncio.sleep(POLL_S)
                continue
            async with ticket:
                return await ask_service(service, request, ticket)

    def answer(request: AskRequest, stop: threading.Event) -> Answer:
        future = asyncio.run_coroutine_threadsafe(admitted(request, stop), loop)
        while True:
            try:
                return future.result(timeout=POLL_S)
            except TimeoutError:
                if stop.is_set():
                    future.cancel()
                    raise GridStopped from None

    return answer


def cell_from_answer(
    answer: Answer, row: int, col: int, doc_id: str, question: str, seconds: float
) -> GridCell:
    """An abstention is "not in this note"; anything else is answered, with its citations."""
    if answer.abstained:
        return GridCell(
            row=row,
            col=col,
            doc_id=doc_id,
            question=question,
            status="not_in_note",
            answer=NOT_IN_NOTE.get(answer.language, NOT_IN_NOTE["en"]),
            seconds=seconds,
        )
    return GridCell(
        row=row,
        col=col,
        doc_id=doc_id,
        question=question,
        status="answered",
        answer=answer.answer,
        citations=answer.citations,
        seconds=seconds,
    )


@dataclass
class _Run:
    """A running job as the worker sees it: what is left to answer."""

    job_id: str
    documents: list[GridDocument]
    questions: list[str]
    language: Language | None
    pending: deque[tuple[int, int]]
    stop: threading.Event = field(default_factory=threading.Event)


class GridRunner:
    """Checks and stores grid jobs and answers them in one worker thread (`start`/`stop`)."""

    def __init__(self, store: GridStore, settings: Settings) -> None:
        self.store = store
        self.settings = settings
        self._runs: OrderedDict[str, _Run] = OrderedDict()
        self._cond = threading.Condition()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._answer: CellAnswerer | None = None

    # -- life ------------------------------------------------------------------------------

    @property
    def started(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self, answer: CellAnswerer) -> None:
        """Mark what a previous process left running as interrupted, then start the worker."""
        if self.started:
            raise RuntimeError("the grid runner is running already")
        interrupted = self.store.interrupt_running(INTERRUPTED)
        if interrupted:
            log.info("grid jobs interrupted by the last stop: %s", ", ".join(interrupted))
        self._answer = answer
        # Each worker has its own stop flag: one that outlived a stop (a cell it could not
        # drop) ends at its next turn instead of working beside the new one.
        self._stopping = threading.Event()
        self._thread = threading.Thread(
            target=self._work, args=(self._stopping,), name="grid-worker", daemon=True
        )
        self._thread.start()

    def stop(self, timeout_s: float = 10.0) -> None:
        """Stop the worker; its running jobs are interrupted with their finished cells kept
        (a cell being answered is dropped)."""
        self._stopping.set()
        with self._cond:
            runs = list(self._runs.values())
            self._runs.clear()
            for run in runs:
                run.stop.set()
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout_s)
            self._thread = None
        for run in runs:
            self.store.finish(run.job_id, "interrupted", error=INTERRUPTED)
        self.store.close()

    # -- jobs ------------------------------------------------------------------------------

    def check(self, request: GridRequest, documents: Sequence[DocumentInfo]) -> GridRequest:
        """The request with repeated notes and questions dropped, or ApiError 400 when it is
        over the limits, names a note the library does not hold, or holds a question
        `/v1/ask` would refuse."""
        settings = self.settings
        doc_ids = list(dict.fromkeys(request.documents))
        questions = list(dict.fromkeys(q.strip() for q in request.questions))
        if len(doc_ids) > settings.grid_max_documents:
            raise ApiError(
                400,
                "too_many_documents",
                f"the grid has {len(doc_ids)} notes; the limit is {settings.grid_max_documents}",
            )
        if len(questions) > settings.grid_max_questions:
            raise ApiError(
                400,
                "too_many_questions",
                f"the grid has {len(questions)} questions; "
                f"the limit is {settings.grid_max_questions}",
            )
        cells = len(doc_ids) * len(questions)
        if cells > settings.grid_max_cells:
            raise ApiError(
                400,
                "grid_too_large",
                f"{len(doc_ids)} notes × {len(questions)} questions make {cells} cells; "
                f"the limit is {settings.grid_max_cells}",
            )
        for i, question in enumerate(questions):
            try:
                check_ask_input(AskRequest(question=question, language=request.language), settings)
            except ApiError as bad:
                raise ApiError(bad.status_code, bad.code, f"questions[{i}]: {bad.detail}") from None
        known = {d.doc_id for d in documents}
        unknown = [d for d in doc_ids if d not in known]
        if unknown:
            shown = ", ".join(repr(d) for d in unknown[:3]) + (" …" if len(unknown) > 3 else "")
            raise ApiError(400, "unknown_document", f"no document {shown} in the library")
        return GridRequest(documents=doc_ids, questions=questions, language=request.language)

    def submit(
        self, request: GridRequest, *, owner: str | None, documents: Sequence[DocumentInfo]
    ) -> GridJob:
        """Check and store a new job and queue its cells. ApiError: 400 (see `check`), 409
        when `owner` has a running job (its id in the message and `Location`), 503 when
        `grid_max_jobs` run or the runner is not started."""
        self._require_started()
        request = self.check(request, documents)
        by_id = {d.doc_id: d for d in documents}
        rows = [
            GridDocument(doc_id=d, title=by_id[d].title, date=by_id[d].date)
            for d in request.documents
        ]
        try:
            job = self.store.create(
                rows,
                request.questions,
                language=request.language,
                owner=owner,
                max_running=self.settings.grid_max_jobs,
            )
        except (OwnerBusy, TooManyJobs) as busy:
            raise _busy(busy) from None
        self._enqueue(job)
        return job

    def get(self, job_id: str) -> GridJob | None:
        return self.store.get(job_id)

    def running_job(self, owner: str | None) -> str | None:
        """The id of `owner`'s running job, or None."""
        return self.store.running(owner)

    def cancel(self, job_id: str) -> GridJob | None:
        """Stop a running job, keeping its finished cells; a finished job stays as it is.
        None for an unknown job."""
        self.store.finish(job_id, "cancelled", error="cancelled")
        with self._cond:
            run = self._runs.pop(job_id, None)
        if run is not None:
            run.stop.set()
        return self.store.get(job_id)

    def resume(self, job_id: str) -> GridJob | None:
        """Answer the missing cells of a stopped job (cancelled, interrupted, failed); a
        running one is returned as it is. None for an unknown job; ApiError 409/503 as
        `submit`."""
        self._require_started()
        try:
            resumed = self.store.resume(job_id, max_running=self.settings.grid_max_jobs)
        except KeyError:
            return None
        except (OwnerBusy, TooManyJobs) as busy:
            raise _busy(busy) from None
        job = self.store.get(job_id)
        if resumed and job is not None:
            self._enqueue(job)
        return job

    def _require_started(self) -> None:
        if not self.started or self._stopping.is_set():
            raise ApiError(
                503, "grid_unavailable", "grids are not running yet", {"Retry-After": "5"}
            )

    def _enqueue(self, job: GridJob) -> None:
        done = {(c.row, c.col) for c in job.cells}
        pending = deque(
            (row, col)
            for row in range(len(job.documents))
            for col in range(len(job.questions))
            if (row, col) not in done
        )
        run = _Run(job.id, job.documents, job.questions, job.language, pending)
        with self._cond:
            self._runs[job.id] = run
            self._cond.notify_all()

    # -- the worker ------------------------------------------------------------------------

    def _take(self, stopping: threading.Event) -> tuple[_Run, tuple[int, int] | None] | None:
        """The next cell, the jobs taking turns: (run, cell), (run, None) when the run has
        nothing left, None when stopping."""
        with self._cond:
            while not self._runs:
                if stopping.is_set():
                    return None
                self._cond.wait(timeout=1.0)
            if stopping.is_set():
                return None
            job_id, run = next(iter(self._runs.items()))
            if not run.pending:
                del self._runs[job_id]
                return run, None
            return run, run.pending.popleft()

    def _turn_done(self, run: _Run) -> None:
        """A cell of `run` is finished: the other grids go first, those submitted while it
        was answered too."""
        with self._cond:
            if run.job_id in self._runs:
                self._runs.move_to_end(run.job_id)

    def _work(self, stopping: threading.Event) -> None:
        while (taken := self._take(stopping)) is not None:
            run, cell = taken
            try:
                if cell is None:
                    self.store.finish(run.job_id, "done")
                else:
                    self._answer_cell(run, *cell)
                    self._turn_done(run)
            except Exception as error:  # the store failed: give up this job, keep working
                log.exception("grid job %s failed", run.job_id)
                with self._cond:
                    self._runs.pop(run.job_id, None)
                try:
                    self.store.finish(run.job_id, "failed", error=str(error) or "failed")
                except Exception:
                    log.exception("marking grid job %s failed failed too", run.job_id)

    def _answer_cell(self, run: _Run, row: int, col: int) -> None:
        assert self._answer is not None
        doc = run.documents[row]
        question = run.questions[col]
        request = AskRequest(
            question=question, language=run.language, filters=Filters(doc_ids=[doc.doc_id])
        )
        started = time.monotonic()
        try:
            answer = self._answer(request, run.stop)
        except GridStopped:
            return
        except Exception as error:  # this cell's failure; the job goes on
            log.exception("grid cell (%s, %r) failed", doc.doc_id, question)
            seconds = time.monotonic() - started
            failed = GridCell(
                row=row,
                col=col,
                doc_id=doc.doc_id,
                question=question,
                status="error",
                answer=str(error) or type(error).__name__,
                seconds=round(seconds, 3),
            )
            self.store.put_cell(run.job_id, failed)
            return
        seconds = round(time.monotonic() - started, 3)
        self.store.put_cell(
            run.job_id, cell_from_answer(answer, row, col, doc.doc_id, question, seconds)
        )


def _busy(busy: OwnerBusy | TooManyJobs) -> ApiError:
    if isinstance(busy, OwnerBusy):
        return ApiError(
            409,
            "grid_running",
            f"grid {busy.job_id} of this key is still running: wait for it or cancel it "
            f"(POST /v1/grid/{busy.job_id}/cancel)",
            {"Location": f"/v1/grid/{busy.job_id}"},
        )
    return ApiError(
        503,
        "grid_busy",
        f"{busy.running} grids are running, the most allowed; try again shortly",
        {"Retry-After": "30"},
    )
