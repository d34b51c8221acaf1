"""ui/app.py's Grid tab handlers over a real grid runner and store with the fakes, without a
browser: run, poll to done (the timer then stops), downloads, refusals, cancel, reattach."""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import gradio as gr
import pytest
from openpyxl import load_workbook

from api.grid_jobs import GridRunner, direct_answerer
from api.grid_store import GridStore
from rag.config import Settings
from rag.types import Citation, DocumentInfo, GridCell, GridDocument, GridJob, GridProgress
from tests.fakes import NV_QUOTE, FakeAssistant, FakeLibrary
from ui.app import UiActions, build_ui, render_grid_table

pytestmark = pytest.mark.unit

QUESTIONS = "What is Nvidia's 2026 AEC demand?\n\n  NV AEC demand in 2027?  \n"


@pytest.fixture
def library() -> FakeLibrary:
    lib = FakeLibrary()
    for doc_id, title in [("a.md", "AEC call"), ("b.md", "Cooling note")]:
        lib.docs[doc_id] = DocumentInfo(
            doc_id=doc_id, source=doc_id, title=title, date="2025-11-12", content_hash="0" * 64
        )
    return lib


@pytest.fixture
def grid(tmp_path: Path) -> Iterator[GridRunner]:
    settings = Settings(_env_file=None, environment="test", data_dir=tmp_path)  # type: ignore[call-arg]
    runner = GridRunner(GridStore(settings.grid_db), settings)
    runner.start(direct_answerer(FakeAssistant()))
    yield runner
    runner.stop()


@pytest.fixture
def actions(library: FakeLibrary, grid: GridRunner) -> UiActions:
    return UiActions(FakeAssistant(), library, grid=grid)


def file_of(button: Any) -> Path:
    value = button.value  # a FileData dict once Gradio has taken the path
    return Path(value.get("path") if isinstance(value, dict) else value)


def done_cells(runner: GridRunner, job_id: str) -> int:
    job = runner.get(job_id)
    assert job is not None
    return job.progress.done


def poll_done(actions: UiActions, job_id: str, seen: str) -> tuple[Any, ...]:
    deadline = time.monotonic() + 10
    while True:
        view = actions.grid_poll(job_id, seen)
        if isinstance(view[1], str):
            seen = view[1]
        if ":running:" not in seen:
            return view
        assert time.monotonic() < deadline
        time.sleep(0.05)


def test_the_grid_tab_exists_only_with_a_runner(library: FakeLibrary, grid: GridRunner) -> None:
    def tabs(demo: gr.Blocks) -> set[str | None]:
        return {b.elem_id for b in demo.blocks.values() if isinstance(b, gr.Tab)}

    assert "rna-grid-tab" not in tabs(build_ui(FakeAssistant(), library))
    assert "rna-grid-tab" in tabs(build_ui(FakeAssistant(), library, grid=grid))


def test_notes_on_offer_and_all_of_them(actions: UiActions) -> None:
    assert actions.grid_choices()["choices"] == [
        ("AEC call · 2025-11-12", "a.md"),
        ("Cooling note · 2025-11-12", "b.md"),
    ]
    assert actions.grid_all_notes()["value"] == ["a.md", "b.md"]


def test_run_polls_to_a_table_and_downloads(actions: UiActions) -> None:
    job_id, seen, message, progress, table, csv_button, _, cancel, timer = actions.grid_run(
        ["a.md", "b.md"], QUESTIONS, "auto"
    )
    assert message == "" and 'data-state="running"' in progress and "/ 4" in progress
    assert timer.active is True and cancel.interactive is True
    assert csv_button.interactive is False  # nothing to download while it runs

    view = poll_done(actions, job_id, seen)
    _, _, message, progress, table, csv_button, xlsx_button, cancel, timer = view
    assert 'data-state="done"' in progress and "4 / 4" in progress
    assert timer.active is False and cancel.interactive is False
    assert table.count('data-status="answered"') == 2
    assert table.count('data-status="not_in_note"') == 2 and "not in this note" in table
    assert NV_QUOTE in table and "AEC call" in table
    rows = list(csv.reader(io.StringIO(file_of(csv_button).read_text(encoding="utf-8-sig"))))
    assert rows[0] == [
        "doc_id",
        "title",
        "date",
        "What is Nvidia's 2026 AEC demand?",
        "NV AEC demand in 2027?",
    ]
    assert [r[0] for r in rows[1:]] == ["a.md", "b.md"]
    book = load_workbook(io.BytesIO(file_of(xlsx_button).read_bytes()))
    assert NV_QUOTE in book["grid"]["D2"].value
    # The timer's next tick changes nothing: the table and files are not sent again.
    again = actions.grid_poll(job_id, view[1])
    assert again[4] == gr.skip() and again[5] == gr.skip()


def test_refusals_are_messages_that_leave_the_shown_grid(actions: UiActions) -> None:
    def message(*args: Any) -> str:
        view = actions.grid_run(*args)
        assert view[0] == gr.skip() and view[4] == gr.skip()
        return str(view[2])

    assert "Choose at least one note" in message([], QUESTIONS, "auto")
    assert "Type at least one question" in message(["a.md"], " \n ", "auto")
    assert "the limit is 10" in message(["a.md"], "\n".join(f"q{i}" for i in range(11)), "auto")
    assert "no document" in message(["gone.md"], "q", "auto")


def test_a_second_run_shows_the_running_grid_and_cancel_keeps_cells(
    library: FakeLibrary, tmp_path: Path
) -> None:
    class Slow(FakeAssistant):
        def ask(self, request: Any, *, use_llm: bool = True) -> Any:
            time.sleep(0.2)
            return super().ask(request, use_llm=use_llm)

    settings = Settings(_env_file=None, environment="test", data_dir=tmp_path / "slow")  # type: ignore[call-arg]
    runner = GridRunner(GridStore(settings.grid_db), settings)
    runner.start(direct_answerer(Slow()))
    try:
        actions = UiActions(FakeAssistant(), library, grid=runner)
        first = actions.grid_run(["a.md", "b.md"], "q1\nq2\nq3", "en")
        second = actions.grid_run(["a.md"], "other", "en")
        assert second[0] == first[0]  # the running grid, shown again
        assert "still running" in second[2] and second[8].active is True
        deadline = time.monotonic() + 10
        while done_cells(runner, first[0]) < 1:
            assert time.monotonic() < deadline
            time.sleep(0.02)
        cancelled = actions.grid_cancel(first[0], first[1])
        assert 'data-state="cancelled"' in cancelled[3] and cancelled[8].active is False
        job = runner.get(first[0])
        assert job is not None and 1 <= job.progress.done < 6
        assert cancelled[4].count("data-status=") == job.progress.done
        assert cancelled[4].count("rna-grid-pending") == 6 - job.progress.done
        assert cancelled[5].interactive is True  # the finished cells can be downloaded
    finally:
        runner.stop()


def test_reattach_finds_the_users_running_grid(actions: UiActions, grid: GridRunner) -> None:
    assert actions.grid_reattach(None)[0] == gr.skip()  # nothing running
    job = grid.store.create([GridDocument(doc_id="a.md", title="AEC call")], ["q"], owner="ui:ann")
    request = gr.Request(username="ann")
    assert actions.grid_reattach(request)[0] == job.id


def test_the_table_escapes_what_notes_and_users_wrote() -> None:
    evil = '<img src=x onerror="window.__xss=1">'
    citation = Citation(
        n=1, source="a.md", title=evil, date="2025-11-12", quote=evil, start=0, end=1, score=0.5
    )
    job = GridJob(
        id="b" * 32,
        state="done",
        created_at="",
        updated_at="",
        documents=[GridDocument(doc_id="a.md", title=evil)],
        questions=[evil],
        progress=GridProgress(done=1, total=1, answered=1),
        cells=[
            GridCell(
                row=0,
                col=0,
                doc_id="a.md",
                question=evil,
                status="answered",
                answer=evil,
                citations=[citation],
            )
        ],
    )
    table = render_grid_table(job)
    assert "<img" not in table and "&lt;img src=x" in table
