"""The documents × questions grid over real HTTP: the real answering service and library (the
shipped e5 embedder, an embedded Chroma, no LLM) over corpus/, served by uvicorn.

A 3-notes × 2-questions grid is polled to done: the AEC question is answered in the AEC note
with a citation from that note and is "not in this note" in the other two; the XLSX opens with
openpyxl. Grids are bounded (limits, one running grid per API key: 409 naming it), cancelled
with their finished cells kept, resumed; interactive questions are answered meanwhile. And a
server killed with SIGKILL in the middle of a grid loses none of its finished cells: the next
server reports the grid interrupted, cells intact, and resumes it."""

from __future__ import annotations

import csv
import io
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from openpyxl import load_workbook

from api.main import create_app
from ingest.pipeline import Indexer
from rag.config import REPO_ROOT, Settings
from rag.types import GridJob
from tests.api.conftest import LiveServer, api_settings, serve
from tests.conftest import CORPUS

pytestmark = pytest.mark.integration

COOLING = "000_b074af76218b3ff2.txt"  # 液冷的二阶段 (2025-12-22)
YIMIKANG = "001_96e81724b7ef4fbb.txt"  # 依米康：“液冷”含量几何 (2025-02-14)
AEC = "003_558daa5f5094b1d2.txt"  # AEC及电源线专家交流 (2025-11-12)
NOTES = [COOLING, YIMIKANG, AEC]
AEC_QUESTION = "What is Nvidia's 2026 AEC demand?"
OPTICS_QUESTION = "光模块行业为何具备投资价值？"
TEN_QUESTIONS = [
    AEC_QUESTION,
    OPTICS_QUESTION,
    "英伟达2025年AEC需求量是多少？",
    "AEC铜缆产品的应用场景是什么？",
    "依米康近期涨幅是多少？",
    "What is Meta's AEC demand?",
    "国产厂商海外客户突破情况如何？",
    "液冷的渗透率是多少？",
    "DeepSeek对算力需求有何影响？",
    "What drives optical module demand?",
]
KEYS = ["grid-key-1", "grid-key-2"]
ONE = {"Authorization": f"Bearer {KEYS[0]}"}
TWO = {"Authorization": f"Bearer {KEYS[1]}"}


def _settings(corpus: Path, data: Path) -> Settings:
    return api_settings(
        corpus_dir=corpus,
        data_dir=data,
        llm="none",
        embedder="e5",
        api_keys=KEYS,
        grid_max_questions=12,
        grid_max_cells=30,
    )


@pytest.fixture(scope="module")
def indexed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, Path]:
    """corpus/ indexed once with e5; a copy of the index for the server that gets killed."""
    corpus = tmp_path_factory.mktemp("corpus")
    shutil.copytree(CORPUS, corpus, dirs_exist_ok=True)
    data = tmp_path_factory.mktemp("data")
    settings = _settings(corpus, data)
    Indexer(settings).ingest_all(progress=False)
    spare = tmp_path_factory.mktemp("spare") / "data"
    shutil.copytree(data, spare)
    return settings, spare


@pytest.fixture(scope="module")
def server(indexed: tuple[Settings, Path]) -> Iterator[LiveServer]:
    with serve(create_app(indexed[0], mount_ui=False)) as live:
        yield live


@pytest.fixture(scope="module")
def client(server: LiveServer) -> Iterator[httpx.Client]:
    with server.client(timeout=120, headers=ONE) as c:
        yield c


def poll(
    client: httpx.Client, job_id: str, until: Callable[[GridJob], bool], timeout_s: float = 300
) -> GridJob:
    deadline = time.monotonic() + timeout_s
    while True:
        response = client.get(f"/v1/grid/{job_id}")
        assert response.status_code == 200, response.text
        job = GridJob.model_validate(response.json())
        if until(job):
            return job
        assert time.monotonic() < deadline, f"grid {job_id} stuck at {job.progress}"
        time.sleep(0.1)


def finished(job: GridJob) -> bool:
    return job.state != "running"


def submit(client: httpx.Client, notes: list[str], questions: list[str], **kw: object) -> GridJob:
    response = client.post("/v1/grid", json={"documents": notes, "questions": questions}, **kw)  # type: ignore[arg-type]
    assert response.status_code == 202, response.text
    job = GridJob.model_validate(response.json())
    assert response.headers["Location"] == f"/v1/grid/{job.id}"
    return job


def test_a_grid_answers_each_note_from_that_note_alone(client: httpx.Client) -> None:
    job = submit(client, NOTES, [AEC_QUESTION, OPTICS_QUESTION])
    assert job.state == "running" and job.progress.total == 6
    seen = [job.progress.done]

    def progressed(polled: GridJob) -> bool:
        seen.append(polled.progress.done)
        return finished(polled)

    done = poll(client, job.id, progressed)
    assert done.state == "done" and done.progress.done == 6, done
    assert seen == sorted(seen)  # progress only grows
    assert [d.doc_id for d in done.documents] == NOTES
    assert done.documents[2].title.startswith("AEC及电源线专家交流")
    cells = {(done.documents[c.row].doc_id, done.questions[c.col]): c for c in done.cells}

    aec = cells[(AEC, AEC_QUESTION)]
    assert aec.status == "answered", aec
    assert "1.7 million" in aec.answer or "170万" in aec.answer
    assert aec.citations and {c.source for c in aec.citations} == {AEC}
    assert any("170万根" in c.quote for c in aec.citations)
    assert aec.citations[0].title == done.documents[2].title
    assert aec.citations[0].date == "2025-11-12"
    for other in (COOLING, YIMIKANG):
        cell = cells[(other, AEC_QUESTION)]
        assert (cell.status, cell.answer, cell.citations) == ("not_in_note", "not in this note", [])

    optics = cells[(COOLING, OPTICS_QUESTION)]
    assert optics.status == "answered" and {c.source for c in optics.citations} == {COOLING}
    assert cells[(AEC, OPTICS_QUESTION)].status == "not_in_note"
    assert cells[(YIMIKANG, OPTICS_QUESTION)].answer == "本纪要未提及"

    xlsx = client.get(f"/v1/grid/{job.id}", params={"format": "xlsx"})
    assert xlsx.status_code == 200
    assert xlsx.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert "attachment" in xlsx.headers["content-disposition"]
    book = load_workbook(io.BytesIO(xlsx.content))
    rows = [list(r) for r in book["grid"].iter_rows(values_only=True)]
    assert rows[0] == ["doc_id", "title", "date", AEC_QUESTION, OPTICS_QUESTION]
    assert [r[0] for r in rows[1:]] == NOTES
    assert rows[3][2] == "2025-11-12"
    assert aec.answer in rows[3][3] and aec.citations[0].quote in rows[3][3]
    assert rows[1][3] == "not in this note"
    citations = [r for r in book["cells"].iter_rows(min_row=2, values_only=True) if r[7]]
    assert {r[0] for r in citations} == {AEC, COOLING}

    text = client.get(f"/v1/grid/{job.id}", params={"format": "csv"}).content.decode("utf-8-sig")
    assert list(csv.reader(io.StringIO(text))) == [[str(v or "") for v in row] for row in rows]


def test_grids_are_bounded_and_keyed(server: LiveServer, client: httpx.Client) -> None:
    with server.client() as anonymous:
        assert (
            anonymous.post("/v1/grid", json={"documents": NOTES, "questions": ["a"]}).status_code
            == 401
        )
    too_many = client.post(
        "/v1/grid", json={"documents": [AEC], "questions": [f"q{i}" for i in range(13)]}
    )
    assert too_many.status_code == 400 and too_many.json()["error"]["code"] == "too_many_questions"
    too_large = client.post(
        "/v1/grid", json={"documents": NOTES, "questions": [f"q{i}" for i in range(11)]}
    )
    assert too_large.status_code == 400, too_large.text
    assert too_large.json()["error"] == {
        "code": "grid_too_large",
        "message": "3 notes × 11 questions make 33 cells; the limit is 30",
    }
    unknown = client.post("/v1/grid", json={"documents": ["nope.txt"], "questions": ["a"]})
    assert unknown.status_code == 400 and unknown.json()["error"]["code"] == "unknown_document"
    empty = client.post("/v1/grid", json={"documents": [], "questions": ["a"]})
    assert empty.status_code == 422
    assert client.get("/v1/grid/not-an-id").status_code == 422
    missing = client.get(f"/v1/grid/{'0' * 32}")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "grid_not_found"


def test_one_grid_per_key_cancel_keeps_cells_resume_finishes(
    server: LiveServer, client: httpx.Client
) -> None:
    big = submit(client, NOTES, TEN_QUESTIONS)
    busy = client.post("/v1/grid", json={"documents": [AEC], "questions": [AEC_QUESTION]})
    assert busy.status_code == 409, busy.text
    assert busy.json()["error"]["code"] == "grid_running"
    assert big.id in busy.json()["error"]["message"]
    assert busy.headers["Location"] == f"/v1/grid/{big.id}"

    with server.client(timeout=120, headers=TWO) as other:
        small = submit(other, [AEC], [AEC_QUESTION])  # another key is not held up
        # Interactive questions are answered meanwhile (the grid takes one slot at most).
        started = time.monotonic()
        ask = other.post("/v1/ask", json={"question": "英伟达2026年AEC需求量是多少？"})
        assert ask.status_code == 200 and "170万" in ask.json()["answer"]
        assert time.monotonic() - started < 30
        assert poll(other, small.id, finished).state == "done"

    partial = poll(client, big.id, lambda j: j.progress.done >= 2)
    cancelled = client.post(f"/v1/grid/{big.id}/cancel")
    assert cancelled.status_code == 200 and cancelled.json()["state"] == "cancelled"
    kept = GridJob.model_validate(cancelled.json())
    assert partial.progress.done <= kept.progress.done < 30, kept.progress
    time.sleep(0.5)
    later = GridJob.model_validate(client.get(f"/v1/grid/{big.id}").json())
    assert later.cells == kept.cells and later.state == "cancelled"  # nothing lands afterwards
    export = load_workbook(io.BytesIO(client.get(f"/v1/grid/{big.id}?format=xlsx").content))
    answered = sum(
        1
        for row in export["grid"].iter_rows(min_row=2, min_col=4, values_only=True)
        for v in row
        if v
    )
    assert answered == kept.progress.done

    resumed = client.post(f"/v1/grid/{big.id}/resume")
    assert resumed.status_code == 200 and resumed.json()["state"] == "running"
    done = poll(client, big.id, finished)
    assert done.state == "done" and done.progress.done == 30
    assert all(cell in done.cells for cell in kept.cells)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.slow
def test_a_killed_server_loses_no_finished_cell(indexed: tuple[Settings, Path]) -> None:
    settings, spare = indexed
    port = _free_port()
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO_ROOT),
        "RNA_ENVIRONMENT": "test",
        "RNA_CORPUS_DIR": str(settings.corpus_dir),
        "RNA_DATA_DIR": str(spare),
        "RNA_EMBEDDER": "e5",
        "RNA_LLM": "none",
        "RNA_PORT": str(port),
        "RNA_API_KEYS": f'["{KEYS[0]}"]',
        "RNA_GRID_MAX_CELLS": "30",
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "api"],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=ONE, timeout=60) as c:
            deadline = time.monotonic() + 240
            while True:
                assert proc.poll() is None, "the server exited"
                try:
                    if c.get("/readyz").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert time.monotonic() < deadline, "the server did not get ready"
                time.sleep(0.5)
            job = submit(c, NOTES, TEN_QUESTIONS)
            seen = poll(c, job.id, lambda j: j.progress.done >= 3)
    finally:
        proc.send_signal(signal.SIGKILL)  # no shutdown, no clean-up
        proc.wait(30)
    assert seen.state == "running"

    again = settings.model_copy(update={"data_dir": spare})
    with (
        serve(create_app(again, mount_ui=False)) as live,
        live.client(headers=ONE, timeout=60) as c,
    ):
        after = GridJob.model_validate(c.get(f"/v1/grid/{job.id}").json())
        assert after.state == "interrupted" and "resume" in (after.error or "")
        assert len(after.cells) >= len(seen.cells)
        assert all(cell in after.cells for cell in seen.cells)
        assert c.post(f"/v1/grid/{job.id}/resume").json()["state"] == "running"
        done = poll(c, job.id, finished)
        assert done.state == "done" and done.progress.done == 30
        assert all(cell in done.cells for cell in seen.cells)
