"""api/grid_export.py: a grid as CSV and as an XLSX that openpyxl opens — notes as rows,
questions as columns, each cell the answer with its citation; text never a formula."""

from __future__ import annotations

import csv
import io

import pytest
from openpyxl import load_workbook

from api.grid_export import CELL_COLUMNS, cell_text, to_csv, to_xlsx
from rag.types import Citation, GridCell, GridDocument, GridJob, GridProgress

pytestmark = pytest.mark.unit

QUOTE = "NV2025年的AEC需求量约为70万根,2026年预计增长至170万根左右"
CITATION = Citation(
    n=1,
    source="003.txt",
    title="AEC及电源线专家交流",
    date="2025-11-12",
    quote=QUOTE,
    start=100,
    end=100 + len(QUOTE),
    score=0.9,
)
QUESTIONS = ["What is Nvidia's 2026 AEC demand?", '=HYPERLINK("http://x")']


def job() -> GridJob:
    docs = [
        GridDocument(doc_id="003.txt", title="AEC及电源线专家交流", date="2025-11-12"),
        GridDocument(doc_id="000.txt", title="液冷的二阶段", date=None),
    ]
    cells = [
        GridCell(
            row=0,
            col=0,
            doc_id="003.txt",
            question=QUESTIONS[0],
            status="answered",
            answer="About 1.7 million cables (170万根左右) [1].",
            citations=[CITATION],
        ),
        GridCell(
            row=1,
            col=0,
            doc_id="000.txt",
            question=QUESTIONS[0],
            status="not_in_note",
            answer="not in this note",
        ),
        GridCell(
            row=1,
            col=1,
            doc_id="000.txt",
            question=QUESTIONS[1],
            status="error",
            answer="@SUM(1) went wrong",
        ),
    ]
    return GridJob(
        id="a" * 32,
        state="cancelled",
        created_at="2026-01-01T00:00:00+00:00",
        updated_at="2026-01-01T00:00:01+00:00",
        documents=docs,
        questions=QUESTIONS,
        progress=GridProgress(done=3, total=4, answered=1, not_in_note=1, error=1),
        cells=cells,
    )


def test_a_cell_is_its_answer_then_its_citations() -> None:
    answered = job().cells[0]
    assert cell_text(answered) == (
        f"About 1.7 million cables (170万根左右) [1].\n[1] AEC及电源线专家交流 · 2025-11-12: “{QUOTE}”"
    )
    assert cell_text(job().cells[1]) == "not in this note"
    assert cell_text(None) == ""  # not answered (yet)


def test_csv_has_notes_as_rows_and_questions_as_columns() -> None:
    lines = list(csv.reader(io.StringIO(to_csv(job()))))
    assert lines[0] == ["doc_id", "title", "date", QUESTIONS[0], "'" + QUESTIONS[1]]
    assert lines[1][:3] == ["003.txt", "AEC及电源线专家交流", "2025-11-12"]
    assert QUOTE in lines[1][3] and lines[1][4] == ""  # the cell never answered
    assert lines[2] == [
        "000.txt",
        "液冷的二阶段",
        "",
        "not in this note",
        "error: @SUM(1) went wrong",
    ]


def test_xlsx_opens_with_the_grid_and_one_row_per_cell_and_citation() -> None:
    book = load_workbook(io.BytesIO(to_xlsx(job())))
    assert book.sheetnames == ["grid", "cells"]
    grid = [list(r) for r in book["grid"].iter_rows(values_only=True)]
    assert grid[0] == ["doc_id", "title", "date", *QUESTIONS]  # a formula-like header is text
    assert book["grid"]["E1"].data_type == "s"
    assert QUOTE in grid[1][3] and grid[2][3] == "not in this note"
    cells = [list(r) for r in book["cells"].iter_rows(values_only=True)]
    assert tuple(cells[0]) == CELL_COLUMNS
    assert cells[1][:6] == [
        "003.txt",
        "AEC及电源线专家交流",
        "2025-11-12",
        QUESTIONS[0],
        "answered",
        job().cells[0].answer,
    ]
    assert cells[1][6:] == [1, QUOTE, "AEC及电源线专家交流", "2025-11-12", 100, 100 + len(QUOTE)]
    assert cells[2][4] == "not_in_note" and cells[2][7] is None
    assert cells[3][5] == "@SUM(1) went wrong" and book["cells"]["F4"].data_type == "s"
