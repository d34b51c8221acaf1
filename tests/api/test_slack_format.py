"""api/slack_format.py: answers as Slack mrkdwn."""

from __future__ import annotations

import pytest

from api.slack_bot import question_from
from api.slack_format import (
    MAX_QUOTE_CHARS,
    REASON_VIEW,
    SECTION_CHARS,
    answer_blocks,
    escape,
    format_answer,
    reason_modal,
)
from rag.types import Answer, Citation, ToolCall

pytestmark = pytest.mark.unit

CITE = Citation(
    n=1,
    source="corpus/003.txt",
    title="AEC及电源线专家交流",
    date="2025-11-12",
    quote="英伟达(NV)2026年AEC需求量预计为170万根",
    start=10,
    end=36,
    score=0.9,
)


def test_answer_with_sources_numbered_title_date_quote() -> None:
    answer = Answer(answer="英伟达2026年AEC需求量约为170万根[1]。", language="zh", citations=[CITE])
    text = format_answer(answer)
    assert text == (
        "英伟达2026年AEC需求量约为170万根[1]。\n\n"
        "*来源*\n*[1]* AEC及电源线专家交流 · 2025-11-12\n>英伟达(NV)2026年AEC需求量预计为170万根"
    )


def test_the_plain_status_is_shown_and_the_technical_reason_is_not() -> None:
    answer = Answer(
        answer="英伟达2026年AEC需求量约为170万根[1]。",
        language="zh",
        citations=[CITE],
        status="✓ 数字直接引自来源",
        verification={"status": "fallback", "reason": "unverified figure", "degraded": "llm_busy"},
    )
    text = format_answer(answer)
    assert text.split("\n\n")[1] == "_✓ 数字直接引自来源_"
    assert "fallback" not in text and "unverified" not in text and "llm_busy" not in text


def test_calculator_trace_is_shown() -> None:
    call = ToolCall(
        name="growth_rate",
        inputs={"old": 100, "new": 170},
        output="70%",
        formula="(170 - 100) / 100",
    )
    answer = Answer(
        answer="Demand grows **70%** [1].", language="en", citations=[CITE], tool_calls=[call]
    )
    text = format_answer(answer)
    assert "Demand grows *70%* [1]." in text  # Markdown bold becomes Slack bold
    assert "*Calculations*\n• growth_rate: `(170 - 100) / 100` = *70%*" in text
    assert text.index("*Calculations*") < text.index("*Sources*")


def test_abstention_is_marked_and_sources_called_closest() -> None:
    answer = Answer(
        answer="The documents do not say.", language="en", abstained=True, citations=[CITE]
    )
    text = format_answer(answer)
    assert text.startswith(
        ":warning: *Not found in the research notes.*\n\nThe documents do not say."
    )
    assert "*Closest sources (not enough to answer)*" in text
    assert "*Sources*" not in text

    zh = format_answer(Answer(answer="文档中没有提到这一点。", language="zh", abstained=True))
    assert zh == ":warning: *研究笔记中没有找到答案。*\n\n文档中没有提到这一点。"


def test_control_characters_escaped_and_long_parts_cut() -> None:
    long_quote = "x" * 1000
    cite = CITE.model_copy(update={"title": "A <b> & C", "date": None, "quote": long_quote})
    answer = Answer(answer="a < b & c > d", language="en", citations=[cite])
    text = format_answer(answer)
    assert "a &lt; b &amp; c &gt; d" in text
    assert "*[1]* A &lt;b&gt; &amp; C\n" in text  # no date: no separator
    quote_line = text.splitlines()[-1]
    assert len(quote_line) == 1 + MAX_QUOTE_CHARS and quote_line.endswith("…")

    huge = Answer(answer="y" * 10_000, language="en")
    assert len(format_answer(huge, max_chars=500)) == 500
    assert format_answer(huge, max_chars=500).endswith("… (truncated)")


def test_escape_and_question_from_mentions() -> None:
    assert escape("<@U1> & >") == "&lt;@U1&gt; &amp; &gt;"
    assert question_from("<@U0BOT>  英伟达2026年AEC需求量？ ") == "英伟达2026年AEC需求量？"
    assert question_from("hey <@U0BOT|research> what is <@U2> doing") == "hey what is doing"


def test_answer_blocks_carry_the_text_and_buttons_named_by_the_answer() -> None:
    answer = Answer(answer="About 1.7 million cables [1].", language="en", citations=[CITE])
    text = format_answer(answer)
    assert answer_blocks(text, answer) == [
        {"type": "section", "text": {"type": "mrkdwn", "text": text}}
    ]
    kept = answer.model_copy(update={"answer_id": "a" * 32})
    *sections, actions = answer_blocks(text, kept)
    assert sections == answer_blocks(text, answer)
    assert actions["block_id"] == "rna_feedback"
    assert [(b["action_id"], b["text"]["text"], b["value"]) for b in actions["elements"]] == [
        ("rna_feedback_up", "👍 Helpful", "a" * 32),
        ("rna_feedback_down", "👎 Not right", "a" * 32),
    ]


def test_a_long_answer_is_split_into_sections_slack_accepts() -> None:
    paragraphs = ["段" * 1800, "落" * 1800, "长" * 7000, "尾"]
    text = "\n\n".join(paragraphs)
    answer = Answer(answer="x", language="zh", answer_id="b" * 32)
    sections = [b["text"]["text"] for b in answer_blocks(text, answer)[:-1]]
    assert all(0 < len(part) <= SECTION_CHARS for part in sections)
    assert "".join(sections).replace("\n\n", "") == "".join(paragraphs)  # nothing lost
    assert sections[0] == "段" * 1800  # cut at a paragraph break where one fits


def test_the_reason_modal() -> None:
    modal = reason_modal(7, "en")
    assert modal["callback_id"] == REASON_VIEW and modal["private_metadata"] == (
        '{"feedback_id": 7, "language": "en"}'
    )
    assert len(modal["title"]["text"]) <= 24  # Slack's limit for a modal title
    assert len(reason_modal(7, "zh")["title"]["text"]) <= 24
    field = modal["blocks"][1]
    assert field["optional"] is True and field["element"]["max_length"] == 1000
