"""The Grid tab in a real headless Chromium against the real app (uvicorn, the real answering
service over corpus/ with the shipped e5 embedder and an embedded Chroma, no LLM): choose the
notes, type two questions, Run, watch the progress bar reach the end, read the notes ×
questions table, download the XLSX (opened with openpyxl), and cancel a bigger grid with its
finished cells kept. The screenshot is the README's (docs/ui-grid.png)."""

from __future__ import annotations

import io
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from openpyxl import load_workbook
from playwright.sync_api import expect

from api.main import create_app
from ingest.pipeline import Indexer
from rag.config import Settings
from tests.conftest import CORPUS

pytestmark = [pytest.mark.integration, pytest.mark.slow]

COOLING = "000_b074af76218b3ff2.txt"
YIMIKANG = "001_96e81724b7ef4fbb.txt"
AEC = "003_558daa5f5094b1d2.txt"
QUESTIONS = ["What is Nvidia's 2026 AEC demand?", "光模块行业为何具备投资价值？"]
MORE = [
    "英伟达2025年AEC需求量是多少？",
    "AEC铜缆产品的应用场景是什么？",
    "依米康近期涨幅是多少？",
    "What is Meta's AEC demand?",
    "国产厂商海外客户突破情况如何？",
    "液冷的渗透率是多少？",
    "DeepSeek对算力需求有何影响？",
    "What drives optical module demand?",
]
# 3 notes × 30 questions: ~90 cells at ~0.1 s, long enough to cancel after a poll (a second)
# showed the first finished cells.
MANY = [*QUESTIONS, *MORE, *(f"{q} ({n})" for n in (2, 3) for q in (*QUESTIONS, *MORE))]
GRID_TIMEOUT_MS = 180_000  # the first cells wait for the models' warm-up


@pytest.fixture(scope="module")
def real_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    corpus = tmp_path_factory.mktemp("corpus")
    shutil.copytree(CORPUS, corpus, dirs_exist_ok=True)
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        environment="test",
        corpus_dir=corpus,
        data_dir=tmp_path_factory.mktemp("data"),
        embedder="e5",
        llm="none",
        grid_max_questions=len(MANY),
        grid_max_cells=3 * len(MANY),
    )
    Indexer(settings).ingest_all(progress=False)
    return settings


@pytest.fixture
def ui_app(real_settings: Settings) -> FastAPI:
    """The app as shipped (the lifespan builds the real service and library; UI at /ui)."""
    return create_app(real_settings)


def progress(page: Any) -> Any:
    return page.locator("#rna-grid-progress .rna-grid-progress")


def cell(page: Any, doc_id: str, column: int) -> Any:
    """The table cell of a note's row (column 0: the first question)."""
    row = page.locator("#rna-grid-table tr").filter(has=page.locator(f'th[data-doc-id="{doc_id}"]'))
    return row.locator("td").nth(column)


def test_a_grid_runs_in_the_browser_with_progress_table_download_and_cancel(
    live_server: str, page: Any, artifacts: Path
) -> None:
    page.goto(f"{live_server}/ui/")
    page.get_by_role("tab", name="Grid · 表格").click()
    expect(page.locator("#rna-grid-csv")).to_be_disabled()
    page.locator("#rna-grid-all").click()
    notes = page.locator("#rna-grid-notes")
    for title in ("液冷的二阶段20251222", "依米康", "AEC及电源线专家交流"):
        expect(notes).to_contain_text(title)
    page.locator("#rna-grid-questions textarea").fill("\n".join(QUESTIONS))
    page.locator("#rna-grid-run").click()

    expect(page.locator("#rna-grid-cancel")).to_be_enabled()
    expect(progress(page)).to_have_attribute("data-state", "done", timeout=GRID_TIMEOUT_MS)
    expect(progress(page)).to_contain_text("6 / 6")
    expect(page.locator("#rna-grid-cancel")).to_be_disabled()
    headers = page.locator("#rna-grid-table thead th")
    expect(headers).to_have_text(["Note · 文档", *QUESTIONS])
    expect(page.locator("#rna-grid-table tbody tr")).to_have_count(3)

    aec = cell(page, AEC, 0)
    expect(aec).to_have_attribute("data-status", "answered")
    expect(aec).to_contain_text("170万根")
    expect(aec.locator("details.rna-cite .rna-cite-title")).to_contain_text("AEC及电源线专家交流")
    expect(aec.locator("details.rna-cite")).to_contain_text("2025-11-12")
    for other in (COOLING, YIMIKANG):
        expect(cell(page, other, 0)).to_have_attribute("data-status", "not_in_note")
        expect(cell(page, other, 0)).to_contain_text("not in this note")
    expect(cell(page, COOLING, 1)).to_have_attribute("data-status", "answered")
    expect(cell(page, AEC, 1)).to_contain_text("本纪要未提及")
    aec.locator("details.rna-cite summary").first.click()  # the quote, as a reader opens it
    expect(aec.locator(".rna-quote")).to_contain_text("170万根")
    page.screenshot(path=str(artifacts / "ui-grid.png"), full_page=True)

    expect(page.locator("#rna-grid-xlsx")).to_be_enabled()
    with page.expect_download() as got:
        page.locator("#rna-grid-xlsx").click()
    assert got.value.suggested_filename.endswith(".xlsx")
    book = load_workbook(io.BytesIO(Path(got.value.path()).read_bytes()))
    rows = [list(r) for r in book["grid"].iter_rows(values_only=True)]
    assert rows[0] == ["doc_id", "title", "date", *QUESTIONS]
    by_note = {r[0]: r for r in rows[1:]}
    assert set(by_note) == {COOLING, YIMIKANG, AEC}
    assert "170万根" in by_note[AEC][3] and "AEC及电源线专家交流" in by_note[AEC][3]
    assert by_note[COOLING][3] == "not in this note"

    # A bigger grid, cancelled once it has begun: its finished cells stay on the page.
    total = 3 * len(MANY)
    page.locator("#rna-grid-questions textarea").fill("\n".join(MANY))
    page.locator("#rna-grid-run").click()
    expect(progress(page)).to_contain_text(f"/ {total}", timeout=GRID_TIMEOUT_MS)
    begun = re.compile(r"^[1-9]")  # a poll a second: it may show 1 cell done or several
    expect(progress(page)).to_have_attribute("data-done", begun, timeout=GRID_TIMEOUT_MS)
    page.locator("#rna-grid-cancel").click()
    expect(progress(page)).to_have_attribute("data-state", "cancelled")
    done = int(progress(page).get_attribute("data-done") or 0)
    assert 1 <= done < total
    finished = page.locator("#rna-grid-table td[data-status]")
    expect(finished).to_have_count(done)
    expect(page.locator("#rna-grid-table td.rna-grid-pending")).to_have_count(total - done)
    expect(page.locator("#rna-grid-csv")).to_be_enabled()
    assert page.errors == []
