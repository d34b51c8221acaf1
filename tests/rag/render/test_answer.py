"""rag/render/answer.py: answers composed from evidence (sentences written for these tests)."""

from __future__ import annotations

import pytest
from langchain_core.documents import Document

from rag.glossary import Glossary
from rag.pick.evidence import select_evidence
from rag.plan.question import Question
from rag.render.answer import deterministic_answer

GLOSSARY = Glossary(entities=[["青禾酒业"], ["远山酒业"]]).with_lexicon([], [])


@pytest.mark.unit
def test_a_name_asked_is_said_when_the_quoted_sentence_leaves_it_to_the_one_before():
    text = (
        "青禾酒业前三季度营收329.24亿元，同比增长5.00%。"
        "第三季度营收89.60亿元，单季营收首次超过远山酒业。"
    )
    doc = Document(page_content=text, metadata={"source": "liquor.md", "title": "t", "start": 0})
    question = Question.parse("哪家公司第三季度单季营收首次超过远山酒业？", "zh", GLOSSARY)
    evidence = select_evidence(question, [doc], GLOSSARY)
    answer = deterministic_answer(question, evidence)
    assert answer.startswith("青禾酒业："), answer
    english = Question.parse(
        "Which company's quarterly revenue first exceeded 远山酒业's in Q3?", "en", GLOSSARY
    )
    answer = deterministic_answer(english, select_evidence(english, [doc], GLOSSARY))
    assert answer.startswith("青禾酒业. The notes say:"), answer


@pytest.mark.unit
def test_the_name_said_first_is_written_in_the_answers_language():
    glossary = Glossary(entities=[["青禾酒业", "Qinghe Liquor"], ["远山酒业"]]).with_lexicon([], [])
    text = "青禾酒业前三季度营收329.24亿元。第三季度营收89.60亿元，单季营收首次超过远山酒业。"
    doc = Document(page_content=text, metadata={"source": "liquor.md", "title": "t", "start": 0})
    question = Question.parse("Which company first out-earned 远山酒业 in Q3?", "en", glossary)
    answer = deterministic_answer(
        question, select_evidence(question, [doc], glossary), {"青禾酒业": "Qinghe Liquor"}.get
    )
    assert answer.startswith("Qinghe Liquor (青禾酒业). The notes say:"), answer


@pytest.mark.unit
def test_one_figure_is_not_shown_as_each_of_two_companies():
    from rag.plan.question import Question
    from rag.render.answer import per_entity_answer
    from tests.fakes import evidence_sentence

    glossary = Glossary(entities=[["谷歌", "Google"], ["Meta"]]).with_lexicon([], [])
    ev = evidence_sentence("两项相加，全球液冷市场总规模预计可达130亿至150亿美元。")
    q = ev.quantities[0]
    parts = [
        (Question.parse("谷歌的液冷市场空间是多少？", "zh", glossary), [ev], (0, q)),
        (Question.parse("Meta的液冷市场空间是多少？", "zh", glossary), [ev], (0, q)),
    ]
    assert per_entity_answer(parts, "zh") is None


@pytest.mark.unit
def test_a_figure_and_its_change_are_answered_each_with_its_marker():
    from rag.plan.question import level_and_change
    from rag.render.answer import level_and_change_answer

    glossary = Glossary(entities=[["远航科技", "Voyage Tech"]]).with_lexicon([], [])
    text = "远航科技三季度收入23.82亿元，环比增长7.8%，同比增长9.7%。毛利率22.0%。"
    doc = Document(page_content=text, metadata={"source": "v.md", "title": "t", "start": 0})
    question = Question.parse("远航科技三季度收入多少，同比增长多少？", "zh", glossary)
    level, change = level_and_change(question, glossary)
    answer = level_and_change_answer(level, change, select_evidence(question, [doc], glossary))
    assert answer is not None and answer.startswith("23.82亿元[1]"), answer
    assert "9.7%[1]" in answer and "7.8%" not in answer.split("原文")[0], answer


@pytest.mark.unit
def test_a_figure_with_its_change_is_quoted_where_stated_most_precisely_with_its_direction():
    from rag.plan.question import level_and_change
    from rag.render.answer import level_and_change_answer

    glossary = Glossary(entities=[["Voyage Home", "远航家电"]]).with_lexicon([], [])
    text = (
        "| Company | 3Q25 NP attributable | YoY |\n|---|---|---|\n"
        "| Voyage Home | RMB 0.74bn | -5.4% |\n\n"
        "Voyage Home's attributable profit fell 5.4% to RMB 735m in 3Q25."
    )
    doc = Document(page_content=text, metadata={"source": "v.md", "title": "t", "start": 0})
    question = Question.parse(
        "What did Voyage Home earn in attributable net profit in 3Q25, and how did that "
        "compare with a year earlier?",
        "en",
        glossary,
    )
    level, change = level_and_change(question, glossary)
    answer = level_and_change_answer(level, change, select_evidence(question, [doc], glossary))
    assert answer is not None and "RMB 735m" in answer and "down 5.4%" in answer, answer
