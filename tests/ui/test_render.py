"""ui/render.py: answers, drafts and documents to Markdown/HTML, with everything escaped."""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rag.types import Answer, Citation, DocumentInfo, IngestReport, ToolCall
from ui.render import (
    ABSTAIN_LABEL,
    DRAFT_LABEL,
    chat_messages,
    describe_error,
    describe_report,
    document_rows,
    history_from_turns,
    render_answer,
    render_citation,
    render_draft,
    render_error,
    render_tool_call,
)

pytestmark = pytest.mark.unit

EVIL = "<script>alert('x')</script> & \"q\""


def citation(n: int = 1, **changes: Any) -> Citation:
    fields: dict[str, Any] = {
        "n": n,
        "source": "corpus/003.txt",
        "title": "AEC及电源线专家交流",
        "date": "2025-11-12",
        "quote": "英伟达(NV)2026年AEC需求量预计为170万根",
        "start": 10,
        "end": 36,
        "score": 0.9,
    }
    fields.update(changes)
    return Citation(**fields)  # type: ignore[arg-type]


def answer(**changes: object) -> Answer:
    fields: dict[str, object] = {
        "answer": "英伟达2026年AEC需求量约为170万根[1]。",
        "language": "zh",
        "citations": [citation()],
    }
    fields.update(changes)
    return Answer(**fields)  # type: ignore[arg-type]


def test_citation_is_a_closed_footnote_with_title_date_and_quote() -> None:
    html = render_citation(citation())
    assert html.startswith('<details class="rna-cite"')
    assert "<summary>" in html and "[1]" in html
    assert "AEC及电源线专家交流" in html and "2025-11-12" in html
    assert (
        '<blockquote class="rna-quote">英伟达(NV)2026年AEC需求量预计为170万根</blockquote>' in html
    )
    assert "\n" not in html  # a single line: Markdown never re-parses the block


def test_citation_without_date_has_no_dangling_separator() -> None:
    html = render_citation(citation(date=None))
    assert "AEC及电源线专家交流</span></summary>" in html


def test_quote_line_breaks_become_br_and_never_a_blank_line() -> None:
    html = render_citation(citation(quote="第一行\n\n第二行  \n"))
    assert "第一行<br>第二行" in html
    assert "\n" not in html


@pytest.mark.parametrize("field", ["quote", "title", "source", "date"])
def test_document_text_in_citations_is_escaped(field: str) -> None:
    changes: dict[str, Any] = {field: EVIL}
    html = render_citation(citation(**changes))
    assert "<script>" not in html
    assert "&lt;script&gt;" in html
    assert "&quot;q&quot;" in html


def test_answer_markers_of_known_citations_become_superscripts() -> None:
    md = render_answer(answer(answer="A [1] and B [2]."))
    assert '<sup class="rna-ref">[1]</sup>' in md
    assert "B [2]." in md  # no citation 2: left as typed


def test_grouped_markers_become_one_superscript() -> None:
    md = render_answer(answer(answer="A [1, 2] B [1，3].", citations=[citation(1), citation(2)]))
    assert '<sup class="rna-ref">[1,2]</sup>' in md
    assert "[1，3]" in md  # 3 is not a citation


def test_answer_text_is_escaped() -> None:
    md = render_answer(answer(answer=EVIL))
    assert "<script>" not in md
    assert "&lt;script&gt;" in md


def test_answer_lists_citations_in_order_under_a_sources_heading() -> None:
    md = render_answer(answer(citations=[citation(2, title="B"), citation(1, title="A")]))
    assert "Sources" in md
    assert md.index('data-n="1"') < md.index('data-n="2"')


def test_answer_without_tool_calls_has_no_calculation_section() -> None:
    assert "rna-tools" not in render_answer(answer())


def test_tool_calls_show_name_formula_and_output_escaped() -> None:
    call = ToolCall(
        name="growth_rate",
        inputs={"a": 100, "b": 170},
        formula="(170 - 100) / 100 <b>",
        output="70%",
    )
    md = render_answer(answer(tool_calls=[call]))
    assert "Calculation" in md
    assert render_tool_call(call) in md
    assert "growth_rate" in md and "70%" in md
    assert "(170 - 100) / 100 &lt;b&gt;" in md


def test_the_plain_status_is_shown_and_the_technical_reason_only_behind_details() -> None:
    md = render_answer(
        answer(
            status="✓ figures quoted from the sources",
            verification={"status": "fallback", "reason": "unverified <figure>", "llm": "used"},
        )
    )
    badge = md.index('class="rna-badge rna-badge-ok rna-status">✓ figures quoted from the sources')
    details = md.index('<details class="rna-details"><summary>details')
    reason = md.index("reason: unverified &lt;figure&gt;")
    assert badge < details < reason  # the reason sits inside the closed toggle
    assert md[details:].index("</details>") > md[details:].index("reason:")
    assert "fallback: " not in md  # the old badge ("fallback: <reason>") is gone
    assert "rna-status-line" not in render_answer(answer(verification={}))


def test_abstention_has_its_own_badge_and_no_sources() -> None:
    md = render_answer(Answer(answer="文档中没有提到这一点。", language="zh", abstained=True))
    assert "rna-abstain" in md and ABSTAIN_LABEL in md
    assert "文档中没有提到这一点。" in md
    assert "Sources" not in md


def test_abstention_text_is_escaped() -> None:
    md = render_answer(Answer(answer=EVIL, language="en", abstained=True))
    assert "<script>" not in md


def test_draft_is_escaped_and_marked_as_draft() -> None:
    html = render_draft(" About <1.7> million ")
    assert html.startswith("About &lt;1.7&gt; million")
    assert DRAFT_LABEL in html


def test_error_is_escaped() -> None:
    assert "<b>" not in render_error("boom <b>")


def test_chat_messages_pair_questions_with_rendered_answers_and_a_pending_turn() -> None:
    final = answer()
    messages = chat_messages([("q <1>", final)], pending=("q2", "draft"))
    assert [m["role"] for m in messages] == ["user", "assistant", "user", "assistant"]
    assert messages[0]["content"] == "q &lt;1&gt;"
    assert messages[1]["content"] == render_answer(final)
    assert messages[3]["content"] == "draft"


def test_history_is_plain_text_and_capped() -> None:
    turns = [(f"q{i}", answer(answer=f"a{i} [1]")) for i in range(5)]
    history = history_from_turns(turns, max_messages=4)
    assert [(m.role, m.content) for m in history] == [
        ("user", "q3"),
        ("assistant", "a3 [1]"),
        ("user", "q4"),
        ("assistant", "a4 [1]"),
    ]
    assert history_from_turns(turns, max_messages=0) == []


def test_document_rows() -> None:
    doc = DocumentInfo(doc_id="uploads/a.txt", source="uploads/a.txt", title="A", content_hash="h")
    assert document_rows([doc]) == [["uploads/a.txt", "A", "", "", "other"]]


def test_reports_and_errors_are_escaped() -> None:
    ok = describe_report("added", "<a>.txt", IngestReport(added=1, skipped=["<x> too big"]))
    assert "&lt;a&gt;.txt" in ok and "added 1" in ok and "&lt;x&gt; too big" in ok
    bad = describe_error("upload", "<a>.txt", "<empty>")
    assert "<a>" not in bad and "&lt;empty&gt;" in bad


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: set[str] = set()
        self.text: dict[str, str] = {}
        self._open: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        if tag != "br":  # void element: no end tag
            self._open.append(dict(attrs).get("class") or tag)

    def handle_endtag(self, tag: str) -> None:
        if self._open:
            self._open.pop()

    def handle_data(self, data: str) -> None:
        if self._open:
            key = self._open[-1]
            self.text[key] = self.text.get(key, "") + data


@given(st.text(min_size=1).filter(lambda t: t.strip() and "\n" not in t and "\r" not in t))
@settings(max_examples=200, deadline=None)
def test_any_document_text_round_trips_as_text_not_markup(text: str) -> None:
    html = render_citation(citation(quote=text, title=text))
    parser = _Tags()
    parser.feed(html)
    assert parser.tags <= {"details", "summary", "span", "blockquote", "div", "br"}
    assert (
        parser.text["rna-quote"]
        == "".join(part.strip() for part in text.strip().splitlines() if part.strip())
        or "<br>" in html
    )
    assert parser.text["rna-cite-title"] == text


@pytest.mark.unit
def test_a_table_row_citation_shows_its_caption_and_header_above_the_row():
    citation = Citation(
        n=1,
        source="notes/baijiu.pdf",
        title="白酒三季报",
        date="2025-10-31",
        quote="| Q3单季营业收入 | 390.64 | 81.74 |",
        start=10,
        end=40,
        score=0.5,
        context="表1：核心指标（单位：亿元）\n| 指标 | 贵州茅台 | 五粮液 |",
    )
    html = render_citation(citation)
    assert html.index("rna-cite-context") < html.index("rna-quote")
    assert "单位：亿元" in html and "<script" not in html
