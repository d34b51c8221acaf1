"""api/grid_jobs.py: the grid runner over a real SQLite store and the project's fakes — each
cell asks one question of one note, limits and "one running grid per owner" are enforced,
cancel keeps finished cells, a stopped runner's jobs are interrupted and resume answers only
the missing cells, and cells admitted through the API's gate wait for it."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from api.errors import ApiError
from api.grid_jobs import (
    GridRunner,
    GridStopped,
    cell_from_answer,
    direct_answerer,
    gated_answerer,
)
from api.grid_store import GridStore
from api.limits import AnswerGate
from rag.config import Settings
from rag.types import Answer, AskRequest, DocumentInfo, GridJob, GridRequest
from tests.fakes import NV_QUOTE, FakeAssistant

pytestmark = pytest.mark.unit

AEC = "aec.md"
DOCS = [
    DocumentInfo(doc_id=d, source=d, title=t, date="2025-11-12", content_hash="0" * 64)
    for d, t in [
        (AEC, "AEC及电源线专家交流"),
        ("cooling.md", "液冷的二阶段"),
        ("yimikang.md", "依米康"),
    ]
]
QUESTION = "What is Nvidia's 2026 AEC demand?"


class NoteAssistant(FakeAssistant):
    """Answers (with FakeAssistant's cited sentence) only over the AEC note; abstains over any
    other; fails on "boom". With `permits`, each answer first waits for one."""

    def __init__(self, permits: threading.Semaphore | None = None) -> None:
        super().__init__()
        self.permits = permits

    def ask(self, request: AskRequest, *, use_llm: bool = True) -> Answer:
        if self.permits is not None and not self.permits.acquire(timeout=30):
            raise TimeoutError("no permit")
        if "boom" in request.question:
            raise RuntimeError("the index is on fire")
        doc_ids = request.filters.doc_ids if request.filters else None
        if doc_ids != [AEC]:
            # FakeAssistant abstains on a question naming 2027, in the question's language.
            request = request.model_copy(update={"question": request.question + " 2027"})
        return super().ask(request, use_llm=use_llm)


def settings(tmp_path: Path, **overrides: object) -> Settings:
    return Settings(_env_file=None, environment="test", data_dir=tmp_path, **overrides)  # type: ignore[call-arg, arg-type]


@pytest.fixture
def service() -> NoteAssistant:
    return NoteAssistant()


@pytest.fixture
def runner(tmp_path: Path, service: NoteAssistant) -> Iterator[GridRunner]:
    grid = GridRunner(GridStore(tmp_path / "grid.sqlite3"), settings(tmp_path))
    grid.start(direct_answerer(service))
    yield grid
    grid.stop()


def wait_for(
    runner: GridRunner, job_id: str, *, state: str = "done", cells: int | None = None
) -> GridJob:
    deadline = time.monotonic() + 20
    while True:
        job = runner.get(job_id)
        assert job is not None
        if (cells is None and job.state == state) or (
            cells is not None and len(job.cells) >= cells
        ):
            return job
        assert time.monotonic() < deadline, job
        time.sleep(0.02)


def request(docs: list[str], questions: list[str]) -> GridRequest:
    return GridRequest(documents=docs, questions=questions)


def refused(call: object) -> ApiError:
    with pytest.raises(ApiError) as caught:
        call()  # type: ignore[operator]
    return caught.value


def test_each_cell_asks_one_question_of_one_note(
    runner: GridRunner, service: NoteAssistant
) -> None:
    docs = [AEC, "cooling.md", "yimikang.md"]
    job = runner.submit(
        request(docs, [QUESTION, "英伟达2026年AEC需求量是多少？"]), owner="key-1", documents=DOCS
    )
    assert job.state == "running" and job.progress.total == 6
    assert [d.title for d in job.documents] == [d.title for d in DOCS]
    done = wait_for(runner, job.id)
    assert (
        done.progress.done == 6 and done.progress.answered == 2 and done.progress.not_in_note == 4
    )
    by_place = {(c.row, c.col): c for c in done.cells}
    assert by_place[(0, 0)].status == "answered"
    assert by_place[(0, 0)].citations[0].quote == NV_QUOTE
    assert by_place[(0, 1)].answer.startswith("英伟达")  # each question in its own language
    assert (
        by_place[(1, 0)].status == "not_in_note" and by_place[(1, 0)].answer == "not in this note"
    )
    assert by_place[(2, 1)].answer == "本纪要未提及" and by_place[(2, 1)].citations == []
    asked = sorted((r.filters.doc_ids, r.question) for r in service.requests if r.filters)
    assert len(asked) == 6 and all(len(ids or []) == 1 for ids, _ in asked)
    assert service.llm_flags == [False] * 6  # direct answers never use the model


def test_limits_duplicates_questions_and_unknown_notes(tmp_path: Path) -> None:
    grid = GridRunner(
        GridStore(tmp_path / "grid.sqlite3"),
        settings(
            tmp_path,
            grid_max_documents=2,
            grid_max_questions=2,
            grid_max_cells=3,
            max_question_chars=50,
        ),
    )
    two = [AEC, "cooling.md"]
    assert (
        refused(lambda: grid.check(request([d.doc_id for d in DOCS], ["q"]), DOCS)).code
        == "too_many_documents"
    )
    assert (
        refused(lambda: grid.check(request([AEC], ["a", "b", "c"]), DOCS)).code
        == "too_many_questions"
    )
    too_large = refused(lambda: grid.check(request(two, ["a", "b"]), DOCS))
    assert too_large.status_code == 400 and too_large.code == "grid_too_large"
    assert "2 notes × 2 questions make 4 cells; the limit is 3" in str(too_large.detail)
    blank = refused(lambda: grid.check(request([AEC], ["a", "  "]), DOCS))
    assert blank.code == "empty_question" and str(blank.detail).startswith("questions[1]:")
    long = refused(lambda: grid.check(request([AEC], ["x" * 51]), DOCS))
    assert long.code == "question_too_long"
    unknown = refused(lambda: grid.check(request([AEC, "nope.md"], ["a"]), DOCS))
    assert unknown.code == "unknown_document" and "'nope.md'" in str(unknown.detail)
    # Repeats are dropped (a repeated cell would only be answered twice), blanks trimmed.
    checked = grid.check(request([AEC, AEC, "cooling.md"], [" a ", "a"]), DOCS)
    assert checked.documents == [AEC, "cooling.md"] and checked.questions == ["a"]
    not_started = refused(lambda: grid.submit(request([AEC], ["a"]), owner=None, documents=DOCS))
    assert not_started.status_code == 503 and not_started.code == "grid_unavailable"


def test_one_running_grid_per_owner_and_a_cap_on_all(tmp_path: Path) -> None:
    permits = threading.Semaphore(0)
    grid = GridRunner(GridStore(tmp_path / "grid.sqlite3"), settings(tmp_path, grid_max_jobs=2))
    grid.start(direct_answerer(NoteAssistant(permits)))
    try:
        first = grid.submit(request([AEC], [QUESTION]), owner="key-1", documents=DOCS)
        busy = refused(
            lambda: grid.submit(request([AEC], ["other"]), owner="key-1", documents=DOCS)
        )
        assert busy.status_code == 409 and busy.code == "grid_running"
        assert first.id in str(busy.detail)
        assert (busy.headers or {})["Location"] == f"/v1/grid/{first.id}"
        assert grid.running_job("key-1") == first.id
        second = grid.submit(request([AEC], [QUESTION]), owner="key-2", documents=DOCS)
        full = refused(
            lambda: grid.submit(request([AEC], [QUESTION]), owner="key-3", documents=DOCS)
        )
        assert full.status_code == 503 and full.code == "grid_busy"
        assert (full.headers or {})["Retry-After"]
        permits.release(2)
        wait_for(grid, first.id)
        wait_for(grid, second.id)
        again = grid.submit(request([AEC], [QUESTION]), owner="key-1", documents=DOCS)
        permits.release(1)
        wait_for(grid, again.id)
    finally:
        permits.release(10)
        grid.stop()


def test_cancel_keeps_finished_cells_and_resume_answers_only_the_rest(tmp_path: Path) -> None:
    permits = threading.Semaphore(0)
    service = NoteAssistant(permits)
    grid = GridRunner(GridStore(tmp_path / "grid.sqlite3"), settings(tmp_path))
    grid.start(direct_answerer(service))
    try:
        job = grid.submit(request([AEC, "cooling.md"], [QUESTION, "b"]), owner=None, documents=DOCS)
        permits.release(2)
        wait_for(grid, job.id, cells=2)
        cancelled = grid.cancel(job.id)
        assert cancelled is not None and cancelled.state == "cancelled"
        permits.release(1)  # the cell being answered at the cancel is dropped, not stored
        time.sleep(0.3)
        kept = grid.get(job.id)
        assert kept is not None and kept.state == "cancelled" and len(kept.cells) == 2
        assert grid.running_job(None) is None  # the owner may start another
        asked = len(service.requests)

        resumed = grid.resume(job.id)
        assert resumed is not None and resumed.state == "running"
        permits.release(10)
        done = wait_for(grid, job.id)
        assert done.progress.done == 4 and done.cells[:2] == kept.cells
        assert len(service.requests) == asked + 2  # only the missing cells were asked again
        assert grid.cancel(job.id) == done  # a finished grid stays as it is
        assert grid.cancel("0" * 32) is None and grid.resume("0" * 32) is None
    finally:
        permits.release(10)
        grid.stop()


def test_a_stopped_runner_interrupts_its_jobs_and_a_new_one_resumes_them(tmp_path: Path) -> None:
    permits = threading.Semaphore(0)
    store_path = tmp_path / "grid.sqlite3"
    first = GridRunner(GridStore(store_path), settings(tmp_path))
    first.start(direct_answerer(NoteAssistant(permits)))
    job = first.submit(request([AEC, "cooling.md"], [QUESTION]), owner="key-1", documents=DOCS)
    permits.release(1)
    wait_for(first, job.id, cells=1)
    first.stop(timeout_s=0.5)  # a cell still waits for its answer: dropped
    permits.release(10)
    stopped = GridStore(store_path).get(job.id)
    assert stopped is not None and stopped.state == "interrupted" and len(stopped.cells) == 1
    assert stopped.error and "resume" in stopped.error

    second = GridRunner(GridStore(store_path), settings(tmp_path))
    service = NoteAssistant()
    second.start(direct_answerer(service))
    try:
        resumed = second.resume(job.id)
        assert resumed is not None
        done = wait_for(second, job.id)
        assert done.progress.done == 2 and done.cells[0] == stopped.cells[0]
        assert [r.filters.doc_ids for r in service.requests if r.filters] == [["cooling.md"]]
    finally:
        second.stop()


def test_a_runner_start_interrupts_what_a_killed_process_left_running(tmp_path: Path) -> None:
    store = GridStore(tmp_path / "grid.sqlite3")
    left = store.create([], ["a"], owner="key-1")  # as a killed server leaves it: running
    grid = GridRunner(GridStore(tmp_path / "grid.sqlite3"), settings(tmp_path))
    grid.start(direct_answerer(NoteAssistant()))
    try:
        job = grid.get(left.id)
        assert job is not None and job.state == "interrupted"
        assert grid.running_job("key-1") is None
    finally:
        grid.stop()


def test_a_failing_cell_is_an_error_and_the_grid_goes_on(runner: GridRunner) -> None:
    job = runner.submit(request([AEC], ["boom?", QUESTION]), owner=None, documents=DOCS)
    done = wait_for(runner, job.id)
    assert [c.status for c in done.cells] == ["error", "answered"]
    assert done.cells[0].answer == "the index is on fire" and done.progress.error == 1


def test_grids_of_several_owners_take_turns(tmp_path: Path) -> None:
    permits = threading.Semaphore(0)
    service = NoteAssistant(permits)
    grid = GridRunner(GridStore(tmp_path / "grid.sqlite3"), settings(tmp_path))
    grid.start(direct_answerer(service))
    try:
        a = grid.submit(request([AEC], ["a1", "a2", "a3"]), owner="key-1", documents=DOCS)
        b = grid.submit(request([AEC], ["b1", "b2"]), owner="key-2", documents=DOCS)
        permits.release(5)
        wait_for(grid, a.id)
        wait_for(grid, b.id)
        order = [r.question for r in service.requests]
        # The second grid arrived while a1 was answered: its turn comes next.
        assert order == ["a1", "b1", "a2", "b2", "a3"]
    finally:
        permits.release(10)
        grid.stop()


def test_an_abstention_is_not_in_this_note() -> None:
    answer = FakeAssistant().ask(AskRequest(question="NV demand in 2027?"))
    cell = cell_from_answer(answer, 1, 2, "x.md", "NV demand in 2027?", 0.2)
    assert (cell.status, cell.answer, cell.citations) == ("not_in_note", "not in this note", [])


@pytest.fixture
def loop() -> Iterator[asyncio.AbstractEventLoop]:
    """An event loop in its own thread, as uvicorn's is for the grid's worker thread."""
    running = asyncio.new_event_loop()
    thread = threading.Thread(target=running.run_forever, daemon=True)
    thread.start()
    yield running
    running.call_soon_threadsafe(running.stop)
    thread.join(5)
    running.close()


def _hold(gate: AnswerGate, loop: asyncio.AbstractEventLoop) -> object:
    """Take the gate's only place from the loop, as a /v1/ask question being answered does."""

    async def hold() -> object:
        ticket = gate.admit()
        await ticket.__aenter__()
        return ticket

    return asyncio.run_coroutine_threadsafe(hold(), loop).result(5)


def _leave(ticket: object, loop: asyncio.AbstractEventLoop) -> None:
    asyncio.run_coroutine_threadsafe(ticket.__aexit__(None, None, None), loop).result(5)  # type: ignore[attr-defined]


def test_a_gated_cell_waits_for_a_full_gate_then_uses_the_model(
    loop: asyncio.AbstractEventLoop,
) -> None:
    gate = AnswerGate(1, 0, max_wait_s=60)
    service = FakeAssistant()
    answer = gated_answerer(service, gate, loop)
    ticket = _hold(gate, loop)
    got: dict[str, Answer] = {}
    cell = threading.Thread(
        target=lambda: got.update(answer=answer(AskRequest(question=QUESTION), threading.Event()))
    )
    cell.start()
    time.sleep(1.2)
    assert cell.is_alive() and service.requests == []  # refused (full), waiting, not failed
    _leave(ticket, loop)
    cell.join(5)
    assert got["answer"].citations and service.llm_flags == [True]
    assert gate.admitted == 0 and gate.running == 0  # its place is given back


def test_a_gated_cell_is_degraded_when_the_model_is_busy(loop: asyncio.AbstractEventLoop) -> None:
    gate = AnswerGate(1, 0, max_wait_s=60, overflow=AnswerGate(1, 4, max_wait_s=10))
    service = FakeAssistant()
    ticket = _hold(gate, loop)
    try:
        answer = gated_answerer(service, gate, loop)(
            AskRequest(question=QUESTION), threading.Event()
        )
    finally:
        _leave(ticket, loop)
    assert service.llm_flags == [False] and answer.verification["degraded"] == "llm_busy"


def test_a_gated_cell_stops_waiting_when_its_grid_is_cancelled(
    loop: asyncio.AbstractEventLoop,
) -> None:
    gate = AnswerGate(1, 0, max_wait_s=60)
    gate.warming = True
    stop = threading.Event()
    threading.Timer(0.3, stop.set).start()
    started = time.monotonic()
    with pytest.raises(GridStopped):
        gated_answerer(FakeAssistant(), gate, loop)(AskRequest(question=QUESTION), stop)
    assert time.monotonic() - started < 3
    assert gate.admitted == 0


def test_a_direct_cell_waits_for_the_warm_up() -> None:
    gate = AnswerGate(1, 0)
    gate.warming = True
    threading.Timer(0.3, lambda: setattr(gate, "warming", False)).start()
    service = FakeAssistant()
    answer = direct_answerer(service, gate)(AskRequest(question=QUESTION), threading.Event())
    assert answer.citations and service.llm_flags == [False]
    gate.warming = True
    stop = threading.Event()
    stop.set()
    with pytest.raises(GridStopped):
        direct_answerer(service, gate)(AskRequest(question=QUESTION), stop)
