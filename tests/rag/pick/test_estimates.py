"""rag/pick/estimates.py and the answer it gives: one figure as several notes state it, each
attributed and dated, latest first, and whether they disagree (notes written for these tests,
an EV sector none of the shipped notes covers)."""

from __future__ import annotations

import pytest

from rag.pick.estimates import disagree, estimates_for
from rag.types import AskRequest, FactRow, Filters
from tests.fakes import assistant_over_notes

NOVEMBER = """---
title: "储能电池专家交流（一）"
date: "2025-11-12"
---
问：比亚迪明年海外销量怎么看？
答：比亚迪(BYD, 002594.SZ)2026年海外销量预计约150万辆，欧洲占比提升。
"""
DECEMBER = """---
title: "储能电池专家交流（二）"
date: "2025-12-20"
---
问：比亚迪明年海外销量有没有变化？
答：比亚迪(BYD, 002594.SZ)2026年海外销量预计约130万辆，比上次下调，主要因为欧洲关税。
"""


def _row(doc: str, date: str, low: float, **over: object) -> FactRow:
    fields: dict[str, object] = dict(
        doc_id=doc, title=doc, date=date, entity="宁德时代", metric="出货量", year=2026,
        span=None, value=f"约{int(low / 1e9)}GWh", value_en=f"about {int(low / 1e9)} GWh",
        value_zh=f"约{int(low / 1e9)}GWh", low=low, high=low, kind="measure", unit="GWh",
        change="level", quote="…", start=0, end=1,
    )  # fmt: skip
    return FactRow(**{**fields, **over})  # type: ignore[arg-type]


@pytest.mark.unit
def test_one_row_per_note_latest_first_and_only_the_same_figure():
    picked = _row("a.md", "2025-11-12", 300e9)
    rows = [
        picked,
        _row("b.md", "2025-12-20", 260e9),
        _row("b.md", "2025-12-20", 250e9),  # the same note again: its first statement counts
        _row("c.md", "2025-12-01", 300e9, year=2025),  # another year
        _row("d.md", "2025-12-02", 300e9, metric="产能"),  # another metric
        _row("e.md", "2025-12-03", 300e9, entity="比亚迪"),  # another company
    ]
    found = estimates_for(picked, rows)
    assert [(r.doc_id, r.low) for r in found] == [("b.md", 260e9), ("a.md", 300e9)]
    assert disagree(found)
    assert not disagree([picked, _row("f.md", "2025-12-05", 300.5e9)])  # rounding
    assert estimates_for(picked, [picked]) == []  # one note: nothing to compare
    # The request's filters hold: a note outside them is not shown.
    assert estimates_for(picked, rows, Filters(date_to="2025-12-01")) == []
    assert estimates_for(picked, rows, answers=lambda r: r.doc_id != "b.md") == []


@pytest.fixture
def two_calls(fake_settings):
    return assistant_over_notes(fake_settings, {"nov.md": NOVEMBER, "dec.md": DECEMBER})


@pytest.mark.integration
@pytest.mark.parametrize(
    ("question", "verdict"),
    [
        ("比亚迪2026年海外销量预计是多少？", "两份纪要不一致"),
        ("How many vehicles is BYD expected to sell overseas in 2026?", "2 notes disagree"),
    ],
)
def test_two_calls_giving_one_figure_are_both_shown_dated_latest_first(
    two_calls, question, verdict
):
    answer = two_calls.ask(AskRequest(question=question))
    assert answer.verification["reason"] == "several notes"
    assert verdict in answer.answer
    assert answer.answer.index("130万辆") < answer.answer.index("150万辆")  # latest first
    dates = [c.date for c in answer.citations]
    assert dates == ["2025-12-20", "2025-11-12"]
    assert "130万辆" in answer.citations[0].quote and "150万辆" in answer.citations[1].quote
    # Restricted to one note, the answer is that note's figure alone.
    only = two_calls.ask(AskRequest(question=question, filters=Filters(doc_ids=["nov.md"])))
    assert "130万辆" not in only.answer and "150万辆" in only.answer
    # Both are expert calls (speaker turns): a filter on news admits neither.
    calls = two_calls.ask(AskRequest(question=question, filters=Filters(doc_types=["expert_call"])))
    assert calls.verification["reason"] == "several notes"
    news = two_calls.ask(AskRequest(question=question, filters=Filters(doc_types=["news"])))
    assert "130万辆" not in news.answer and "150万辆" not in news.answer


@pytest.mark.integration
def test_a_company_filter_reads_only_the_notes_naming_it_in_any_of_its_names(two_calls):
    question = "2026年海外销量预计是多少？"  # names no company: the filter says whose
    by_code = two_calls.ask(AskRequest(question=question, filters=Filters(company="BYD")))
    assert {c.source for c in by_code.citations} <= {"nov.md", "dec.md"} and by_code.citations
    none = two_calls.ask(AskRequest(question=question, filters=Filters(company="理想汽车")))
    assert none.abstained and none.verification["reason"] == "company"
    assert "理想汽车" in none.answer and not none.citations
