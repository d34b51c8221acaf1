"""rag/compute/ranking.py: which entity ranks first, or which declined, from one note's figure rows
(rows built from table cells and sentences written for these tests)."""

from __future__ import annotations

import pytest
from langchain_core.documents import Document

from rag.compute.ranking import rank, ranking_answer, ranking_order
from rag.facts.rows import document_rows
from rag.glossary import Glossary
from rag.plan.question import Question

pytestmark = pytest.mark.unit

GLOSSARY = Glossary(
    entities=[["Baosteel", "宝钢股份"], ["Ansteel", "鞍钢股份"], ["Shougang", "首钢股份"]]
).with_lexicon([], [])
TABLE = (
    "## Key metrics, H1 2025\n\n"
    "| Mill | Revenue (RMB bn) | YoY | Net profit attributable (RMB bn) | YoY |\n"
    "|---|---|---|---|---|\n"
    "| Baosteel | 150.2 | +3.1% | 5.1 | -2.0% |\n"
    "| Ansteel | 52.4 | -6.2% | 0.8 | +12.5% |\n"
    "| Shougang | 48.9 | +1.4% | 0.6 | -9.8% |\n"
)


def _rows():
    doc = Document(
        id="c0",
        page_content=TABLE,
        metadata={"source": "steel.md", "title": "Steel", "date": "2025-09-01", "start": 0},
    )
    return document_rows([doc], lambda _id: None, GLOSSARY)


def _ask(text: str):
    language = "zh" if not text.isascii() else "en"
    question = Question.parse(text, language, GLOSSARY)  # type: ignore[arg-type]
    order = ranking_order(question)
    assert order is not None
    return question, rank(question, _rows(), order)


def test_the_fastest_grower_is_ranked_first_with_every_entitys_figure_cited():
    question, ranking = _ask("Which mill had the fastest revenue growth in H1 2025?")
    assert ranking is not None and [r.entity for r in ranking.chosen] == ["Baosteel"]
    assert [r.entity for r in ranking.rows] == ["Baosteel", "Shougang", "Ansteel"]
    text, evidence, call = ranking_answer(ranking, "en", lambda e: e)
    assert text.startswith("Baosteel (3.1%) [1]: the highest of 3.")
    assert "Ansteel -6.2% [3]" in text and len(evidence) == 3 and call.name == "rank"
    assert evidence[0].text.startswith("| Baosteel |")


def test_a_decline_filter_names_every_entity_whose_change_is_negative():
    _, ranking = _ask("Which mills reported a YoY decline in net profit attributable?")
    assert ranking is not None
    assert sorted(r.entity for r in ranking.chosen) == ["Baosteel", "Shougang"]


def test_the_lowest_level_in_chinese_and_no_ranking_without_the_metric():
    question, ranking = _ask("哪家钢厂上半年归母净利润最低？")
    assert ranking is not None and [r.entity for r in ranking.chosen] == ["Shougang"]
    text, _, _ = ranking_answer(ranking, "zh", lambda e: {"Shougang": "首钢股份"}.get(e, e))
    assert text.startswith("首钢股份 (0.6)[1]") or text.startswith("首钢股份 (0.6) [1]")
    asked = Question.parse("Which mill had the highest gross margin?", "en", GLOSSARY)
    assert rank(asked, _rows(), "highest") is None  # no row states a gross margin
    assert ranking_order(Question.parse("What was Baosteel's revenue?", "en", GLOSSARY)) is None


def test_the_largest_decline_is_the_lowest_change():
    _, ranking = _ask("上半年归母净利润同比降幅最大的是哪家？")
    assert ranking is not None and [r.entity for r in ranking.chosen] == ["Shougang"]
    _, english = _ask("Which mill's net profit attributable fell the most YoY in H1 2025?")
    assert english is not None and [r.entity for r in english.chosen] == ["Shougang"]


def test_a_place_other_than_first_is_counted_from_the_top():
    question, ranking = _ask("上半年营收排名第二的是哪家？")
    assert ranking is not None and [r.entity for r in ranking.chosen] == ["Ansteel"]
    text, _, _ = ranking_answer(ranking, "en", lambda e: e)
    assert text.startswith("Ansteel (52.4"), text
    # "第二季度" is a quarter, not a place.
    assert ranking_order(Question.parse("第二季度营收最高的是哪家？", "zh", GLOSSARY)) == "highest"
    _, second = _ask("Which mill had the second-highest revenue in H1 2025?")
    assert second is not None and [r.entity for r in second.chosen] == ["Ansteel"]


def test_a_table_row_outranks_a_figure_a_paragraph_carries_to_its_company():
    paragraph = (
        "Baosteel held its ground. Across the sector, the average gross margin was 2.0% in H1 2025."
    )
    table = (
        "## Gross margin, H1 2025\n\n"
        "| Mill | Gross margin |\n|---|---|\n| Baosteel | 8.5% |\n| Ansteel | 4.1% |\n"
    )
    docs = [
        Document(
            id=f"c{i}",
            page_content=text,
            metadata={"source": "steel.md", "title": "Steel", "date": "2025-09-01", "start": 0},
        )
        for i, text in enumerate((paragraph, table))
    ]
    rows = document_rows(docs, lambda _id: None, GLOSSARY)
    question = Question.parse("Which mill had the lowest gross margin in H1 2025?", "en", GLOSSARY)
    ranking = rank(question, rows, "lowest")
    assert ranking is not None and [r.entity for r in ranking.chosen] == ["Ansteel"], ranking


def test_an_industry_the_question_names_ranks_only_the_companies_of_notes_about_it():
    # The steel note's mills are no answer to a shipping question, however they grew.
    question, ranking = _ask(
        "Which liner shipping company had the fastest revenue growth in H1 2025?"
    )
    assert question.topics and ranking is None
    question, ranking = _ask("Which steel mill had the fastest revenue growth in H1 2025?")
    assert ranking is not None and [r.entity for r in ranking.chosen] == ["Baosteel"]


def test_the_industry_may_be_named_once_in_the_note_not_in_every_row():
    doc = Document(
        id="c0",
        page_content="Steel output fell 3.0% in the first half.\n\n" + TABLE,
        metadata={"source": "mills.md", "title": "Sector notes", "date": "2025-09-01", "start": 0},
    )
    rows = document_rows([doc], lambda _id: None, GLOSSARY)
    asked = "Which steel mill had the fastest revenue growth in H1 2025?"
    question = Question.parse(asked, "en", GLOSSARY)
    ranking = rank(question, rows, "highest")
    assert ranking is not None and [r.entity for r in ranking.chosen] == ["Baosteel"]
    shipping = Question.parse(asked.replace("steel mill", "liner shipping company"), "en", GLOSSARY)
    assert shipping.topics and rank(shipping, rows, "highest") is None


def test_a_ranking_is_by_the_metric_after_its_superlative_not_one_named_in_an_aside():
    question = Question.parse(
        "Which mill posted the highest H1 2025 net margin (net profit attributable over revenue)?",
        "en",
        GLOSSARY,
    )
    order = ranking_order(question)
    assert order == "highest"
    assert rank(question, _rows(), order) is None  # no mill's net margin is stated


def test_a_ranking_among_a_stated_number_of_companies_needs_that_many():
    question, ranking = _ask("Of the three mills, whose revenue grew fastest in H1 2025?")
    assert ranking is not None and [r.entity for r in ranking.chosen] == ["Baosteel"]
    question = Question.parse(
        "Of the five listed mills, whose revenue grew fastest?", "en", GLOSSARY
    )
    order = ranking_order(question)
    assert order == "highest" and rank(question, _rows(), order) is None  # three, not five
