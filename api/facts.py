"""The notes' key figures as tables: `GET /v1/documents/{doc_id}/facts` (one note's) and
`GET /v1/facts?entity=&metric=&period=` (every note's, filtered), as JSON rows with their
citations, or as CSV or XLSX to download (rag/facts/rows.py)."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal
from urllib.parse import quote

from fastapi import APIRouter, Query
from fastapi.responses import Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from api.deps import FactTablesDep
from api.errors import ApiError, responses
from rag.facts.rows import to_csv, to_xlsx
from rag.types import FactRow

router = APIRouter(prefix="/v1", tags=["facts"])

Format = Literal["json", "csv", "xlsx"]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_FILES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "JSON rows, or with `format=csv|xlsx` the same rows as a file.",
        "content": {"text/csv": {}, XLSX: {}},
    }
}
FormatQuery = Annotated[Format, Query(description="json (default), csv or xlsx.")]
Filter = Annotated[str | None, Query(max_length=100)]


class DocumentFacts(BaseModel):
    doc_id: str
    title: str | None = None
    date: str | None = None
    rows: list[FactRow]
    count: int


class FactList(BaseModel):
    rows: list[FactRow] = Field(description="Matching figures; each quote opens as a citation.")
    count: int


def _download(rows: list[FactRow], format: Format, name: str) -> Response:
    """The rows as a CSV (UTF-8 with a BOM, so Excel reads the Chinese) or XLSX attachment."""
    stem = re.sub(r"[^\w.-]+", "_", name.rsplit("/", 1)[-1].rsplit(".", 1)[0]).strip("_")
    filename = f"{stem or 'facts'}-facts.{format}"
    ascii_name = filename.encode("ascii", "replace").decode().replace("?", "_")
    disposition = f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"
    headers = {"Content-Disposition": disposition}
    if format == "csv":
        body = to_csv(rows).encode("utf-8-sig")
        return Response(body, media_type="text/csv; charset=utf-8", headers=headers)
    return Response(to_xlsx(rows), media_type=XLSX, headers=headers)


@router.get(
    "/documents/{doc_id:path}/facts",
    response_model=DocumentFacts,
    responses={**responses(401, 404, 422), **_FILES},
)
async def document_facts(
    doc_id: str, tables: FactTablesDep, format: FormatQuery = "json"
) -> DocumentFacts | Response:
    """Every figure of one note: entity, metric, period, value, unit, change and the quoted
    sentence with its offsets in the note's original text."""
    rows = await run_in_threadpool(tables.document_facts, doc_id)
    if rows is None:
        raise ApiError(404, "document_not_found", f"no document {doc_id!r}")
    if format != "json":
        return _download(rows, format, doc_id)
    first = rows[0] if rows else None
    return DocumentFacts(
        doc_id=doc_id,
        title=first.title if first else None,
        date=first.date if first else None,
        rows=rows,
        count=len(rows),
    )


@router.get("/facts", response_model=FactList, responses={**responses(401, 422), **_FILES})
async def find_facts(
    tables: FactTablesDep,
    entity: Filter = None,
    metric: Filter = None,
    period: Filter = None,
    format: FormatQuery = "json",
) -> FactList | Response:
    """Every note's figures about `entity` (any of its names), for `metric` (any of its
    names, either language) and in `period` ("2025", "9m", "2025Q3"); omitted: any."""
    rows = await run_in_threadpool(
        lambda: tables.find_facts(entity=entity, metric=metric, period=period)
    )
    if format != "json":
        return _download(rows, format, "facts")
    return FactList(rows=rows, count=len(rows))
