"""A grid as a table to download: notes as rows, questions as columns, each cell the answer
and its citations ("[1] title · date: “quote”"), "not in this note", or the error.

CSV holds that table; XLSX holds it as its first sheet ("grid") and, as a second ("cells"),
one row per cell and citation (note, question, status, answer, quote, cited title and date,
offsets) for filtering and pivoting. Text is always text: a cell a spreadsheet would run as a
formula is quoted in CSV and typed as a string in XLSX (the rules of rag/facts/rows.py's
export).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font
from openpyxl.worksheet.worksheet import Worksheet

from rag.facts.rows import safe_text
from rag.types import Citation, GridCell, GridJob

DOCUMENT_COLUMNS = ("doc_id", "title", "date")
CELL_COLUMNS = (
    "doc_id", "title", "date", "question", "status", "answer",
    "citation", "quote", "cited_title", "cited_date", "start", "end",
)  # fmt: skip


def citation_text(citation: Citation) -> str:
    where = " · ".join(part for part in (citation.title, citation.date or "") if part)
    return f"[{citation.n}] {where}: “{citation.quote}”"


def cell_text(cell: GridCell | None) -> str:
    """A cell as one text: the answer, then a line per citation; "" while unanswered."""
    if cell is None:
        return ""
    if cell.status == "error":
        return f"error: {cell.answer}"
    return "\n".join([cell.answer, *(citation_text(c) for c in cell.citations)])


def grid_rows(job: GridJob) -> tuple[list[str], list[list[str]]]:
    """(header, rows): doc_id, title, date, then one column per question."""
    by_place = {(c.row, c.col): c for c in job.cells}
    header = [*DOCUMENT_COLUMNS, *job.questions]
    rows = [
        [
            doc.doc_id,
            doc.title,
            doc.date or "",
            *(cell_text(by_place.get((r, q))) for q in range(len(job.questions))),
        ]
        for r, doc in enumerate(job.documents)
    ]
    return header, rows


def cell_rows(job: GridJob) -> list[list[object]]:
    """One row per finished cell and citation (a cell without citations: one row)."""
    rows: list[list[object]] = []
    for cell in job.cells:
        doc = job.documents[cell.row]
        head: list[object] = [
            doc.doc_id,
            doc.title,
            doc.date or "",
            cell.question,
            cell.status,
            cell.answer,
        ]
        if not cell.citations:
            rows.append([*head, None, "", "", "", None, None])
        for c in cell.citations:
            rows.append([*head, c.n, c.quote, c.title, c.date or "", c.start, c.end])
    return rows


def to_csv(job: GridJob) -> str:
    """The grid table as CSV (header first)."""
    header, rows = grid_rows(job)
    out = io.StringIO()
    writer = csv.writer(out)
    for row in [header, *rows]:
        writer.writerow([safe_text(v) for v in row])
    return out.getvalue()


def to_xlsx(job: GridJob) -> bytes:
    """The grid table (sheet "grid") and its cells one citation a row (sheet "cells")."""
    book = Workbook()
    grid = book.active
    assert grid is not None
    grid.title = "grid"
    header, rows = grid_rows(job)
    _fill(grid, header, rows, wrap=True)
    for column, width in zip("ABC", (28, 36, 12), strict=True):
        grid.column_dimensions[column].width = width
    for index in range(len(job.questions)):
        grid.column_dimensions[grid.cell(row=1, column=4 + index).column_letter].width = 60
    grid.freeze_panes = "D2"
    cells = book.create_sheet("cells")
    _fill(cells, CELL_COLUMNS, cell_rows(job), wrap=False)
    cells.freeze_panes = "A2"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _fill(
    sheet: Worksheet, header: Sequence[str], rows: Iterable[Sequence[object]], *, wrap: bool
) -> None:
    top = Alignment(wrap_text=True, vertical="top")
    for r, row in enumerate([header, *rows], start=1):
        for c, value in enumerate(row, start=1):
            cell = sheet.cell(row=r, column=c)
            if isinstance(value, str):
                cell.value = ILLEGAL_CHARACTERS_RE.sub("", value)
                cell.data_type = "s"  # "=…" in a question or answer is text, not a formula
            else:
                cell.value = value  # type: ignore[assignment]
            if r == 1:
                cell.font = Font(bold=True)
            elif wrap:
                cell.alignment = top
