"""rag/facts/rows.py: a note's figures as rows, filtered by entity, metric and period, and
exported as CSV and XLSX (notes written for these tests, in the shapes of broker notes)."""

from __future__ import annotations

import csv
import io
import json

import pytest
from langchain_core.documents import Document
from openpyxl import load_workbook

from rag.facts.extract import extract_facts
from rag.facts.rows import COLUMNS, document_rows, filter_rows, parse_period, to_csv, to_xlsx
from rag.glossary import Glossary
from rag.plan.question import metric_vocab

pytestmark = pytest.mark.unit

GLOSSARY = Glossary(
    entities=[["星海科技", "Xinghai Tech", "XH"], ["蓝鲸电子", "Bluewhale"]]
).with_lexicon([], [])

# The original text of a note: a preamble, then what the chunks hold.
PREAMBLE = "# 星海纪要\n\n"
BODY = (
    "星海科技2025年前三季度营业收入为120亿元，同比增长15%。明年营业收入预计达到180亿元。"
    "蓝鲸电子毛利率为22.5%。\n\n"
    "| 公司 | 9M25营收（亿元） | 同比 |\n| --- | --- | --- |\n| 蓝鲸电子 | 88.5 | +12.3% |"
)
ORIGINAL = PREAMBLE + BODY


def _chunk(text: str, start: int, chunk_id: str = "c1", position: int = 0) -> Document:
    return Document(
        id=chunk_id,
        page_content=text,
        metadata={
            "source": "notes/xinghai.md",
            "title": "星海纪要",
            "date": "2025-10-30",
            "start": start,
            "end": start + len(text),
            "offsets": json.dumps([[0, start]]),
            "position": position,
        },
    )


def _stored(doc: Document):
    """The facts as the index derives and stores them (rag/retrieve/store.rebuild_keyword_index)."""
    return extract_facts(doc.page_content, GLOSSARY, metric_vocab(GLOSSARY), doc_year=2025)


@pytest.fixture
def rows():
    doc = _chunk(BODY, len(PREAMBLE))
    facts = {"c1": _stored(doc)}
    return document_rows([doc], facts.get, GLOSSARY)


def _by_value(rows):
    return {r.value: r for r in rows}


def test_rows_carry_entity_metric_period_value_and_the_quoted_sentence(rows) -> None:
    got = _by_value(rows)
    revenue = got["120亿元"]
    assert (revenue.entity, revenue.metric, revenue.period) == ("星海科技", "营业收入", "2025 9M")
    assert (revenue.kind, revenue.unit, revenue.change) == ("money", "CNY", "level")
    assert revenue.value_en == "RMB 12 billion" and revenue.value_zh == "120亿元"
    assert revenue.low == revenue.high == 12_000_000_000
    growth = got["15%"]
    assert growth.change == "yoy" and growth.period == "2025 9M" and growth.unit == "%"
    # Every quote is the sentence at its original offsets, and holds its figure.
    for row in rows:
        assert ORIGINAL[row.start : row.end] == row.quote
        assert row.value in row.quote
        assert (row.doc_id, row.title, row.date) == ("notes/xinghai.md", "星海纪要", "2025-10-30")


def test_relative_years_are_resolved_against_the_notes_date(rows) -> None:
    next_year = _by_value(rows)["180亿元"]
    # 明年 in a 2025 note is 2026, and the nine months of the sentence before are not carried
    # into a sentence that states its own year.
    assert (next_year.year, next_year.span, next_year.period) == (2026, None, "2026")


def test_a_table_cell_reads_its_year_and_period_from_its_column_label(rows) -> None:
    cell = _by_value(rows)["88.5"]
    assert (cell.entity, cell.period, cell.kind) == ("蓝鲸电子", "2025 9M", "money")
    assert cell.value_en == "RMB 8.85 billion"
    assert ORIGINAL[cell.start : cell.end] == "| 蓝鲸电子 | 88.5 | +12.3% |"


def test_a_sentence_two_chunks_share_gives_its_figures_once() -> None:
    first = _chunk(BODY, len(PREAMBLE), "c1", 0)
    tail = BODY[BODY.index("明年") :]
    second = _chunk(tail, len(PREAMBLE) + BODY.index("明年"), "c2", 1)
    facts = {"c1": _stored(first), "c2": _stored(second)}
    rows = document_rows([second, first], facts.get, GLOSSARY)
    keys = [(r.start, r.value) for r in rows]
    assert len(keys) == len(set(keys))
    assert [r.value for r in rows][:2] == ["120亿元", "15%"]  # reading order, not input order
    assert sum(r.value == "180亿元" for r in rows) == 1


def test_facts_missing_from_the_index_are_derived_the_same_way() -> None:
    doc = _chunk(BODY, len(PREAMBLE))
    stored = document_rows([doc], {"c1": _stored(doc)}.get, GLOSSARY)
    derived = document_rows([doc], lambda _id: None, GLOSSARY)
    assert [(r.value, r.entity, r.metric) for r in derived] == [
        (r.value, r.entity, r.metric) for r in stored
    ]


def test_entity_filter_matches_any_alias_of_the_group_case_insensitively(rows) -> None:
    for name in ("星海科技", "xinghai tech", "XH"):
        found = filter_rows(rows, GLOSSARY, entity=name)
        assert found and {r.entity for r in found} == {"星海科技"}
    assert {r.entity for r in filter_rows(rows, GLOSSARY, entity="BLUEWHALE")} == {"蓝鲸电子"}
    assert filter_rows(rows, GLOSSARY, entity="Nobody Corp") == []


def test_metric_filter_matches_the_finance_term_group(rows) -> None:
    english = filter_rows(rows, GLOSSARY, metric="revenue")
    values = {r.value for r in english}
    assert {"120亿元", "180亿元", "88.5"} <= values  # 营业收入 and 营收 alike
    assert "22.5%" not in values
    assert {r.value for r in filter_rows(rows, GLOSSARY, metric="gross margin")} == {"22.5%"}


def test_period_filter_by_year_span_or_both(rows) -> None:
    assert {r.value for r in filter_rows(rows, GLOSSARY, period="2026")} == {"180亿元"}
    both = filter_rows(rows, GLOSSARY, period="2025 9M")
    assert both and all(r.year == 2025 and r.span == "9m" for r in both)
    assert {r.span for r in filter_rows(rows, GLOSSARY, period="9m")} == {"9m"}
    assert filter_rows(rows, GLOSSARY, period="2025Q3") == []
    assert filter_rows(rows, GLOSSARY, period="not a period") == []
    combined = filter_rows(rows, GLOSSARY, entity="XH", metric="营收", period="2025")
    assert {(r.value, r.change) for r in combined} == {("120亿元", "level"), ("15%", "yoy")}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2025", (2025, None)),
        ("9m", (None, "9m")),
        ("2025Q3", (2025, "q3")),
        ("Q3 2025", (2025, "q3")),
        ("3Q25", (2025, "q3")),
        ("FY", (None, "fy")),
        ("2026年全年", (2026, "fy")),
    ],
)
def test_parse_period(text: str, expected: tuple) -> None:
    assert parse_period(text) == expected


def test_csv_has_the_columns_and_one_line_per_row(rows) -> None:
    table = list(csv.reader(io.StringIO(to_csv(rows))))
    assert tuple(table[0]) == COLUMNS
    assert len(table) == len(rows) + 1
    column = {name: i for i, name in enumerate(COLUMNS)}
    for line, row in zip(table[1:], rows, strict=True):
        assert line[column["quote"]] == row.quote
        assert line[column["period"]] == row.period


def test_xlsx_opens_with_the_rows_numbers_as_numbers(rows) -> None:
    sheet = load_workbook(io.BytesIO(to_xlsx(rows))).active
    table = list(sheet.iter_rows(values_only=True))
    assert tuple(table[0]) == COLUMNS
    assert len(table) == len(rows) + 1
    column = {name: i for i, name in enumerate(COLUMNS)}
    for line, row in zip(table[1:], rows, strict=True):
        assert line[column["value"]] == row.value and line[column["quote"]] == row.quote
        assert line[column["low"]] == row.low and isinstance(line[column["low"]], int | float)


def test_exports_never_turn_note_text_into_a_formula(rows) -> None:
    hostile = rows[0].model_copy(update={"quote": '=HYPERLINK("http://x","y")', "value": "-5%"})
    line = list(csv.reader(io.StringIO(to_csv([hostile]))))[1]
    assert line[COLUMNS.index("quote")].startswith("'=")
    assert line[COLUMNS.index("value")] == "-5%"  # a signed figure stays as written
    book = load_workbook(io.BytesIO(to_xlsx([hostile])))
    cell = book.active.cell(row=2, column=COLUMNS.index("quote") + 1)
    assert cell.data_type == "s" and cell.value == hostile.quote


def test_an_english_note_with_period_codes_and_next_year() -> None:
    text = (
        "Xinghai Tech reported 9M25 revenue of RMB 16.8bn, up 9.3% YoY. In 2025 9M, Bluewhale "
        "net profit rose 12% to RMB 2.1bn. Next year, Xinghai Tech expects revenue of RMB 25bn."
    )
    rows = document_rows([_chunk(text, 0)], lambda _id: None, GLOSSARY)
    got = {r.value: (r.entity, r.metric, r.period, r.change, r.value_zh) for r in rows}
    assert got["RMB 16.8bn"] == ("星海科技", "revenue", "2025 9M", "level", "168亿元")
    assert got["9.3%"][2:4] == ("2025 9M", "yoy")
    assert got["RMB 2.1bn"][:3] == ("蓝鲸电子", "net profit", "2025 9M")
    assert got["RMB 25bn"][:3] == ("星海科技", "revenue", "2026")  # next year of a 2025 note
    assert "9M" not in got  # a period code is no figure ("9M" is not nine million)
    chinese = filter_rows(rows, GLOSSARY, entity="星海科技", metric="营业收入", period="2026")
    assert [r.value for r in chinese] == ["RMB 25bn"]
