"""The Documents tab's key figures in a real headless Chromium against a real uvicorn server:
choosing a note shows its figures table, and both downloads hold the same rows."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from playwright.sync_api import expect

from rag.facts.rows import COLUMNS
from rag.types import DocumentInfo
from tests.fakes import FACT_DOC_ID, FACT_DOC_TITLE, FakeAssistant, FakeLibrary

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture
def ui_library() -> Any:
    """The library lists the one note the fake service keeps figures for."""
    library = FakeLibrary()
    library.docs[FACT_DOC_ID] = DocumentInfo(
        doc_id=FACT_DOC_ID, source=FACT_DOC_ID, title=FACT_DOC_TITLE, content_hash="0" * 64
    )
    return library


def test_choosing_a_document_shows_its_figures_and_downloads_them(
    live_server: str, page: Any, artifacts: Path, ui_service: FakeAssistant
) -> None:
    expected = ui_service.document_facts(FACT_DOC_ID)
    assert expected
    page.goto(f"{live_server}/ui/")
    page.get_by_role("tab", name="Documents · 文档").click()
    csv_button = page.locator("#rna-facts-csv")
    expect(csv_button).to_be_disabled()  # no note chosen yet

    page.locator("#rna-docs-table").get_by_text(FACT_DOC_ID).filter(visible=True).first.click()
    status = page.locator("#rna-facts-status")
    expect(status).to_contain_text(f"{len(expected)} figures")
    table = page.locator("#rna-facts-table")
    for row in expected:
        expect(table).to_contain_text(row.value)
        expect(table).to_contain_text(row.period or row.value)
    page.screenshot(path=str(artifacts / "ui-facts.png"), full_page=True)

    expect(csv_button).to_be_enabled()
    with page.expect_download() as got:
        csv_button.click()
    lines = list(csv.reader(io.StringIO(Path(got.value.path()).read_text(encoding="utf-8-sig"))))
    assert tuple(lines[0]) == COLUMNS
    assert [line[COLUMNS.index("value")] for line in lines[1:]] == [r.value for r in expected]

    with page.expect_download() as got:
        page.locator("#rna-facts-xlsx").click()
    assert got.value.suggested_filename.endswith(".xlsx")
    sheet = load_workbook(io.BytesIO(Path(got.value.path()).read_bytes())).active
    quotes = [line[COLUMNS.index("quote")] for line in sheet.iter_rows(min_row=2, values_only=True)]
    assert quotes == [r.quote for r in expected]
    assert page.errors == []
