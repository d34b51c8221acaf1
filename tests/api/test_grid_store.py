"""api/grid_store.py: jobs and finished cells in SQLite; one running job per owner, claimed
atomically; a cancelled job takes no more cells; and a process killed mid-job (SIGKILL, no
clean-up) loses none of the cells it had finished."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from api.grid_store import GridStore, OwnerBusy, TooManyJobs
from rag.config import REPO_ROOT
from rag.types import Citation, GridCell, GridDocument

pytestmark = pytest.mark.unit

DOCS = [
    GridDocument(doc_id="a.md", title="Note A", date="2025-11-12"),
    GridDocument(doc_id="b.md", title="Note B"),
]
QUESTIONS = ["What is Nvidia's 2026 AEC demand?", "光模块行业为何具备投资价值？"]
CITATION = Citation(
    n=1,
    source="a.md",
    title="Note A",
    date="2025-11-12",
    quote="NV2026年AEC需求量预计为170万根",
    start=3,
    end=22,
    score=0.9,
)


def cell(row: int, col: int, status: str = "answered") -> GridCell:
    return GridCell(
        row=row,
        col=col,
        doc_id=DOCS[row].doc_id,
        question=QUESTIONS[col],
        status=status,  # type: ignore[arg-type]
        answer="About 1.7 million cables [1]." if status == "answered" else "not in this note",
        citations=[CITATION] if status == "answered" else [],
        seconds=0.1,
    )


@pytest.fixture
def store(tmp_path: Path) -> GridStore:
    return GridStore(tmp_path / "grid.sqlite3")


def test_a_job_keeps_its_cells_in_order_with_progress(store: GridStore) -> None:
    job = store.create(DOCS, QUESTIONS, language="en", owner="key-1")
    assert job.state == "running" and job.progress.total == 4 and job.cells == []
    assert store.put_cell(job.id, cell(1, 0, "not_in_note"))
    assert store.put_cell(job.id, cell(0, 1))
    assert store.put_cell(job.id, cell(0, 0))
    got = store.get(job.id)
    assert got is not None
    assert [(c.row, c.col) for c in got.cells] == [(0, 0), (0, 1), (1, 0)]
    assert got.cells[0].citations == [CITATION] and got.cells[0].question == QUESTIONS[0]
    assert got.cells[2].doc_id == "b.md" and got.cells[2].status == "not_in_note"
    assert (got.progress.done, got.progress.answered, got.progress.not_in_note) == (3, 2, 1)
    assert got.documents == DOCS and got.questions == QUESTIONS and got.language == "en"
    assert store.get("0" * 32) is None


def test_one_running_job_per_owner_and_a_cap_on_all(store: GridStore) -> None:
    first = store.create(DOCS, QUESTIONS, owner="key-1")
    with pytest.raises(OwnerBusy) as busy:
        store.create(DOCS, QUESTIONS, owner="key-1")
    assert busy.value.job_id == first.id
    assert store.running("key-1") == first.id and store.running("key-2") is None
    store.create(DOCS, QUESTIONS, owner="key-2")
    anonymous = store.create(DOCS, QUESTIONS, owner=None)  # no keys: one for everyone
    with pytest.raises(OwnerBusy):
        store.create(DOCS, QUESTIONS, owner=None)
    with pytest.raises(TooManyJobs):
        store.create(DOCS, QUESTIONS, owner="key-3", max_running=3)
    assert store.finish(anonymous.id, "done")
    store.create(DOCS, QUESTIONS, owner="key-3", max_running=3)


def test_a_cancelled_job_keeps_its_cells_and_takes_no_more(store: GridStore) -> None:
    job = store.create(DOCS, QUESTIONS)
    store.put_cell(job.id, cell(0, 0))
    assert store.finish(job.id, "cancelled", error="cancelled")
    assert not store.put_cell(job.id, cell(0, 1))  # a cell answered after the cancel
    assert not store.finish(job.id, "done")  # only a running job finishes
    got = store.get(job.id)
    assert got is not None and got.state == "cancelled" and len(got.cells) == 1
    assert store.resume(job.id) is True
    assert store.resume(job.id) is False  # running already
    assert store.put_cell(job.id, cell(0, 1))
    with pytest.raises(KeyError):
        store.resume("f" * 32)


def test_reopened_store_marks_running_jobs_interrupted_with_cells_intact(tmp_path: Path) -> None:
    path = tmp_path / "grid.sqlite3"
    first = GridStore(path)
    job = first.create(DOCS, QUESTIONS, owner="key-1")
    first.put_cell(job.id, cell(0, 0))
    first.put_cell(job.id, cell(1, 1, "not_in_note"))
    first.close()

    again = GridStore(path)
    assert again.interrupt_running("stopped") == [job.id]
    got = again.get(job.id)
    assert got is not None and got.state == "interrupted" and got.error == "stopped"
    assert [(c.row, c.col, c.status) for c in got.cells] == [
        (0, 0, "answered"),
        (1, 1, "not_in_note"),
    ]
    assert again.running("key-1") is None  # the owner may start another


def test_a_killed_process_loses_no_finished_cell(tmp_path: Path) -> None:
    """A writer SIGKILLed right after its cells were stored: every one of them is there."""
    path = tmp_path / "grid.sqlite3"
    script = textwrap.dedent(
        f"""
        import os, signal, sys
        from api.grid_store import GridStore
        from tests.api.test_grid_store import DOCS, QUESTIONS, cell
        store = GridStore({str(path)!r})
        job = store.create(DOCS, QUESTIONS, owner="key-1")
        for row, col in [(0, 0), (0, 1), (1, 0)]:
            store.put_cell(job.id, cell(row, col))
        print(job.id, flush=True)
        os.kill(os.getpid(), signal.SIGKILL)
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=REPO_ROOT,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == -signal.SIGKILL, done.stderr
    job_id = done.stdout.strip()
    store = GridStore(path)
    assert store.interrupt_running("killed") == [job_id]
    got = store.get(job_id)
    assert got is not None and got.state == "interrupted"
    assert [(c.row, c.col) for c in got.cells] == [(0, 0), (0, 1), (1, 0)]


def test_only_the_newest_jobs_are_kept(tmp_path: Path) -> None:
    store = GridStore(tmp_path / "grid.sqlite3", keep_jobs=2)
    ids = []
    for _ in range(4):
        job = store.create(DOCS, QUESTIONS)
        store.put_cell(job.id, cell(0, 0))
        store.finish(job.id, "done")
        ids.append(job.id)
    running = store.create(DOCS, QUESTIONS)
    assert [store.get(i) is not None for i in ids] == [False, False, True, True]
    assert store.get(running.id) is not None
