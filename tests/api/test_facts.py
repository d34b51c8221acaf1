"""`GET /v1/documents/{doc_id}/facts` and `GET /v1/facts` over real HTTP: the real answering
service and library (the shipped e5 embedder, an embedded Chroma, no LLM) over a corpus of
notes written for this test, served by uvicorn; the XLSX is opened with openpyxl."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from openpyxl import load_workbook

from api.main import create_app
from ingest.pipeline import Indexer
from rag.config import Settings
from rag.facts.rows import COLUMNS
from rag.types import FactRow
from tests.api.conftest import LiveServer, api_settings, serve
from tests.fakes import FakeAssistant, FakeLibrary

pytestmark = pytest.mark.integration

NOTE = "xinghai.md"
NOTE_TEXT = (
    "# 星海科技调研纪要 2025-10-30\n\n"
    "星海科技2025年前三季度营业收入为120亿元，同比增长15%。明年营业收入预计达到180亿元。\n\n"
    "蓝鲸电子毛利率为22.5%，较上年提升1.2个百分点。\n\n"
    "| 公司 | 9M25营收（亿元） | 同比 |\n"
    "| --- | --- | --- |\n"
    "| 蓝鲸电子 | 88.5 | +12.3% |\n"
)
UPLOAD_TEXT = "# 蓝鲸电子交流纪要 2024-06-18\n\n蓝鲸电子明年出货量预计为42万台，今年约为30万台。\n"
GLOSSARY = "entities:\n  - [星海科技, Xinghai Tech]\n  - [蓝鲸电子, Bluewhale]\n"


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    corpus = tmp_path_factory.mktemp("corpus")
    (corpus / NOTE).write_text(NOTE_TEXT, encoding="utf-8")
    (corpus / "glossary.yaml").write_text(GLOSSARY, encoding="utf-8")
    return api_settings(
        corpus_dir=corpus, data_dir=tmp_path_factory.mktemp("data"), llm="none", embedder="e5"
    )


@pytest.fixture(scope="module")
def server(settings: Settings) -> Iterator[LiveServer]:
    Indexer(settings).ingest_all(progress=False)
    with serve(create_app(settings, mount_ui=False)) as live:
        yield live


@pytest.fixture(scope="module")
def client(server: LiveServer) -> Iterator[httpx.Client]:
    with server.client(timeout=120) as c:
        yield c


def _rows(response: httpx.Response) -> list[FactRow]:
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["count"] == len(body["rows"])
    return [FactRow.model_validate(r) for r in body["rows"]]


def _text(value: object) -> str:
    """A cell as text: an empty cell (None in openpyxl, "" in CSV) is ""."""
    return "" if value is None else str(value)


def _by_value(rows: list[FactRow]) -> dict[str, FactRow]:
    return {r.value: r for r in rows}


def test_a_notes_figures_as_json_rows_whose_quotes_open_in_the_original(client) -> None:
    listed = client.get("/v1/documents").json()["documents"]
    assert [d["doc_id"] for d in listed] == [NOTE]
    response = client.get(f"/v1/documents/{NOTE}/facts")
    rows = _rows(response)
    assert response.json()["title"] == listed[0]["title"]
    got = _by_value(rows)
    revenue = got["120亿元"]
    assert (revenue.entity, revenue.metric, revenue.period) == ("星海科技", "营业收入", "2025 9M")
    assert revenue.value_en == "RMB 12 billion" and revenue.change == "level"
    assert got["15%"].change == "yoy"
    assert (got["180亿元"].period, got["180亿元"].year) == ("2026", 2026)  # 明年 in a 2025 note
    assert got["88.5"].period == "2025 9M" and got["88.5"].entity == "蓝鲸电子"
    assert got["1.2个百分点"].kind == "percentage_points"
    original = NOTE_TEXT
    for row in rows:
        assert row.doc_id == NOTE and row.date == "2025-10-30"
        assert original[row.start : row.end] == row.quote and row.value in row.quote


def test_csv_and_xlsx_hold_the_same_rows_as_json(client) -> None:
    rows = _rows(client.get(f"/v1/documents/{NOTE}/facts"))
    expected = [[_text(v) for v in (r.entity, r.metric, r.period, r.value, r.quote)] for r in rows]
    picked = [COLUMNS.index(c) for c in ("entity", "metric", "period", "value", "quote")]

    as_csv = client.get(f"/v1/documents/{NOTE}/facts", params={"format": "csv"})
    assert as_csv.status_code == 200 and as_csv.headers["content-type"].startswith("text/csv")
    assert "xinghai-facts.csv" in as_csv.headers["content-disposition"]
    table = list(csv.reader(io.StringIO(as_csv.content.decode("utf-8-sig"))))
    assert tuple(table[0]) == COLUMNS
    assert [[line[i] for i in picked] for line in table[1:]] == expected

    as_xlsx = client.get(f"/v1/documents/{NOTE}/facts", params={"format": "xlsx"})
    assert as_xlsx.status_code == 200
    assert as_xlsx.headers["content-type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(as_xlsx.content)).active
    lines = list(sheet.iter_rows(values_only=True))
    assert tuple(lines[0]) == COLUMNS
    assert [[_text(line[i]) for i in picked] for line in lines[1:]] == expected
    low = COLUMNS.index("low")
    assert [line[low] for line in lines[1:]] == [r.low for r in rows]


def test_an_unknown_document_is_a_404_in_the_error_shape(client) -> None:
    for doc_id in ("nope.md", "uploads/nope.md"):
        for fmt in ("json", "xlsx"):
            response = client.get(f"/v1/documents/{doc_id}/facts", params={"format": fmt})
            assert response.status_code == 404
            assert response.json()["error"]["code"] == "document_not_found"
    bad = client.get(f"/v1/documents/{NOTE}/facts", params={"format": "pdf"})
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "invalid_request"


def test_facts_filtered_by_entity_metric_and_period_with_citations(client) -> None:
    rows = _rows(
        client.get(
            "/v1/facts", params={"entity": "xinghai tech", "metric": "revenue", "period": "2026"}
        )
    )
    assert [(r.value, r.entity, r.year) for r in rows] == [("180亿元", "星海科技", 2026)]
    assert NOTE_TEXT[rows[0].start : rows[0].end] == rows[0].quote

    nine_months = _rows(client.get("/v1/facts", params={"period": "2025 9M"}))
    assert nine_months and all(r.year == 2025 and r.span == "9m" for r in nine_months)
    bluewhale = _rows(client.get("/v1/facts", params={"entity": "BLUEWHALE"}))
    assert bluewhale and {r.entity for r in bluewhale} == {"蓝鲸电子"}
    assert _rows(client.get("/v1/facts", params={"entity": "Nobody Corp"})) == []

    sheet = load_workbook(
        io.BytesIO(client.get("/v1/facts", params={"entity": "蓝鲸电子", "format": "xlsx"}).content)
    ).active
    values = [line[COLUMNS.index("value")] for line in sheet.iter_rows(min_row=2, values_only=True)]
    assert values == [r.value for r in bluewhale]


def test_an_uploaded_note_has_its_figures_at_once_with_its_own_year(client) -> None:
    created = client.post("/v1/documents", files={"file": ("bluewhale.md", UPLOAD_TEXT.encode())})
    assert created.status_code == 201, created.text
    rows = _rows(client.get("/v1/documents/uploads/bluewhale.md/facts"))
    got = _by_value(rows)
    # 明年 in a 2024 note is 2025, 今年 is 2024: resolved per note, not by today's date.
    assert (got["42万台"].year, got["42万台"].entity) == (2025, "蓝鲸电子")
    this_year = next(r for r in rows if "30万台" in r.value)  # as written: "约为30万台"
    assert this_year.year == 2024 and this_year.value_en == "about 300,000 units"
    everywhere = _rows(client.get("/v1/facts", params={"entity": "Bluewhale", "period": "2025"}))
    assert {(r.doc_id, r.value) for r in everywhere} >= {("uploads/bluewhale.md", "42万台")}
    assert client.delete("/v1/documents/uploads/bluewhale.md").status_code == 200
    assert client.get("/v1/documents/uploads/bluewhale.md/facts").status_code == 404


def test_fact_routes_need_a_key_when_keys_are_set(tmp_path: Path) -> None:
    app = create_app(
        api_settings(api_keys=["k-facts"]),
        service=FakeAssistant(),
        library=FakeLibrary(),
        mount_ui=False,
    )
    with serve(app) as live, live.client() as c:
        for path in ("/v1/facts", "/v1/documents/notes/fake-facts.md/facts"):
            refused = c.get(path)
            assert refused.status_code == 401
            assert refused.json()["error"]["code"] == "missing_api_key"
            allowed = c.get(path, headers={"Authorization": "Bearer k-facts"})
            assert allowed.status_code == 200 and allowed.json()["count"] > 0


def test_a_delete_of_a_facts_path_is_no_delete_of_a_document(client) -> None:
    response = client.delete(f"/v1/documents/{NOTE}/facts")
    assert response.status_code == 405 and response.headers["allow"] == "GET"
    assert client.get(f"/v1/documents/{NOTE}/facts").status_code == 200
