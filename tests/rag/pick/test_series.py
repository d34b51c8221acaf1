"""rag/pick/series.py: the part of a company a figure's own clause measures."""

from __future__ import annotations

import pytest
from langchain_core.documents import Document

from rag.glossary import Glossary
from rag.pick.evidence import select_evidence
from rag.pick.series import of_series_asked, own_clause
from rag.plan.question import Question

GLOSSARY = Glossary(entities=[["远航酒业", "Voyage Spirits"]]).with_lexicon([], [])


@pytest.mark.unit
def test_a_change_written_after_a_level_is_of_what_that_level_measures():
    assert own_clause("前三季度旗舰酒收入，同比增长") == "前三季度旗舰酒收入 同比增长"
    assert own_clause("营业收入，归母净利润") == "归母净利润"


@pytest.mark.unit
def test_a_products_growth_is_not_the_companys_asked_whole():
    doc = Document(
        id="c0",
        page_content=(
            "远航酒业前三季度营业收入300亿元，同比增长6.4%；前三季度旗舰酒收入250亿元，同比增长9.3%。"
        ),
        metadata={"id": "c0", "source": "note.md", "title": "note", "date": "2025-10-30"},
    )
    question = Question.parse("远航酒业前三季度营收同比增长多少？", "zh", GLOSSARY)
    asked = {
        q.raw: of_series_asked(q, ev, question)
        for ev in select_evidence(question, [doc], GLOSSARY)
        for q in ev.quantities
    }
    assert asked["6.4%"] and not asked["9.3%"], asked
    product = Question.parse("远航酒业前三季度旗舰酒收入同比增长多少？", "zh", GLOSSARY)
    assert all(
        of_series_asked(q, ev, product) == (q.raw in ("250亿元", "9.3%"))
        for ev in select_evidence(product, [doc], GLOSSARY)
        for q in ev.quantities
    )
