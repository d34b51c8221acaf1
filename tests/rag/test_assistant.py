"""The assembled pipeline (rag/assistant.py) over a real Chroma of the notes, with fakes for the models."""

from __future__ import annotations

import pytest
from langchain_core.language_models import GenericFakeChatModel
from langchain_core.messages import AIMessage

from ingest.pipeline import Indexer
from rag.assistant import Assistant
from rag.types import AskRequest
from tests.conftest import CORPUS
from tests.fakes import HashEmbeddings, assistant_over_notes


@pytest.fixture
def indexed(fake_settings):
    embeddings = HashEmbeddings()
    indexer = Indexer(fake_settings, embeddings=embeddings)
    indexer.ingest_all()
    return fake_settings, embeddings, indexer.vector_store


@pytest.mark.integration
def test_deterministic_answers_cite_the_sentence_that_holds_the_figure(indexed):
    assistant = _assistant(indexed)
    answer = assistant.ask(
        AskRequest(question="英伟达(NV)2025年和2026年的AEC需求量是多少？", top_k=8)
    )
    assert not answer.abstained
    assert "170万根" in answer.answer and answer.citations
    cited = answer.citations[0]
    original = (CORPUS / cited.source).read_text(encoding="utf-8")
    assert "170万根" in cited.quote and cited.date == "2025-11-12"
    assert (
        original[cited.start : cited.end].replace(" ", "")[:10] == cited.quote.replace(" ", "")[:10]
    )


@pytest.mark.integration
def test_unanswerable_year_abstains_and_offers_the_nearest_facts(indexed):
    answer = _assistant(indexed).ask(
        AskRequest(question="英伟达NV 2027年的AEC需求量是多少？", top_k=8)
    )
    assert answer.abstained and answer.answer.startswith("文档中没有提到")
    assert "2027" not in "".join(c.quote for c in answer.citations)


@pytest.mark.integration
def test_llm_draft_with_a_wrong_figure_is_replaced_by_the_verified_answer(indexed):
    llm = GenericFakeChatModel(messages=iter([AIMessage("英伟达2026年AEC需求量约为17万根[1]。")]))
    answer = _assistant(indexed, llm).ask(
        AskRequest(question="英伟达NV 2026年AEC需求量是多少？", top_k=8)
    )
    assert answer.verification["status"] == "fallback"
    assert "17万根[1]" not in answer.answer and "170万根" in answer.answer


@pytest.mark.integration
def test_llm_draft_that_checks_out_is_streamed_then_verified(indexed):
    llm = GenericFakeChatModel(
        messages=iter([AIMessage("英伟达2026年AEC需求量预计为170万根左右[1]。")])
    )
    events = list(
        _assistant(indexed, llm).stream(
            AskRequest(question="英伟达NV 2026年AEC需求量是多少？", top_k=8)
        )
    )
    assert [e.type for e in events][-1] == "final" and events[0].type == "token"
    final = events[-1].answer
    assert final.verification["status"] in {"verified", "repaired"}
    assert "170万根" in final.answer and "170万根" in final.citations[0].quote


@pytest.mark.integration
@pytest.mark.parametrize(
    ("question", "figure", "tool"),
    [
        ("美墨工厂和泰国工厂的AEC产能合计是多少？", "26亿", "sum"),
        ("GB200需要5,000根铜连接，Rubin减少40%后大约需要多少根？", "3000根", "percent_change"),
        (
            "按每台机器人2000元、明年出货5-10万台计算，机器人业务对应价值多少？",
            "1亿至2亿元",
            "multiply",
        ),
        (
            "At the 20% target share, what backplane-connector value per rack would the company get?",
            "US$2,400",
            "multiply",
        ),
        ("依米康涨幅比申菱环境高多少个百分点？", "37.79个百分点", "percentage_point_difference"),
        ("按谷歌TPU与AEC 1:1.25的比例，100万颗TPU需要多少根AEC？", "125万", "apply_ratio"),
    ],
)
def test_calculations_are_planned_from_the_question_and_cited_operands(
    indexed, question, figure, tool
):
    answer = _assistant(indexed).ask(AskRequest(question=question, top_k=8))
    assert answer.verification["status"] == "computed", answer.answer
    assert figure in answer.answer and answer.citations
    assert [call.name for call in answer.tool_calls] == [tool]


def _assistant(indexed, llm=None) -> Assistant:
    settings, embeddings, store = indexed
    return Assistant(settings, embeddings=embeddings, vector_store=store, llm=llm)


@pytest.mark.integration
def test_a_which_company_question_is_answered_by_the_quoted_sentence_not_the_model(indexed):
    """The grounding check verifies figures, not names: a name the model writes would go
    unchecked, so a which-company question gets the sentence that names it, quoted."""
    llm = GenericFakeChatModel(messages=iter([AIMessage("是一家不存在的公司[1]。")]))
    answer = _assistant(indexed, llm).ask(AskRequest(question="海外太空算力以哪家公司为代表？"))
    assert answer.verification["status"] == "deterministic"
    assert answer.verification["reason"] == "name asked"
    assert "不存在" not in answer.answer and answer.citations


@pytest.mark.integration
def test_a_question_naming_an_industry_is_read_in_the_notes_about_it(fake_settings):
    """ "哪家银行…" over a bank note written in English: the Chinese question retrieves the AEC
    notes first; the note that names banks is searched instead of answering from them."""
    assistant = _assistant_with_note(
        fake_settings,
        "lenders_h1.md",
        "---\ntitle: Lenders, H1 2025\ndate: 2025-09-01\n---\n\n"
        "## Results\n\n"
        "| Bank | Net profit attributable (RMB bn) | YoY |\n|---|---|---|\n"
        "| Alpha Bank | 120.5 | +2.1% |\n"
        "| Beta Bank | 80.2 | -1.5% |\n"
        "| Gamma Bank | 60.7 | +4.3% |\n",
    )
    answer = assistant.ask(AskRequest(question="上半年归母净利润同比增速最快的是哪家银行？"))
    assert not answer.abstained and answer.citations, answer.answer
    assert all(c.source.endswith("lenders_h1.md") for c in answer.citations), answer.citations
    assert "AEC" not in answer.answer


@pytest.mark.unit
def test_an_english_answer_names_a_company_as_the_notes_write_it():
    from functools import partial

    from rag.assistant import _name_in
    from rag.glossary import Glossary

    glossary = Glossary(
        entities=[["春秋航空", "Chunqiuhangkong", "601021.SH"], ["比亚迪", "BYD", "002594.SZ"]]
    ).with_lexicon([], [])
    english = partial(_name_in, glossary, "en")
    # Only the pinyin read at ingest: the Chinese name leads, its spelling beside it.
    assert english("春秋航空") == "春秋航空 (Chunqiuhangkong)"
    assert english("比亚迪") == "BYD"  # a Latin name the notes write
    assert _name_in(glossary, "zh", "比亚迪") == "比亚迪"


def test_the_chunk_stating_the_asked_figure_is_read_even_when_retrieval_missed_it(fake_settings):
    """Facts read at ingest find the sentence by metric, period and company: the chunk is
    added to the retrieved ones (an English question over a Chinese note ranks it low)."""
    from rag.plan.question import Question
    from rag.types import Filters

    assistant = _assistant_with_note(
        fake_settings,
        "solar_adds.md",
        "---\ntitle: 光伏装机月报\ndate: 2025-10-20\n---\n\n"
        "## 装机\n\n2025年9月全国新增光伏装机9.66GW，去年同期为20.89GW。\n",
    )
    question = Question.parse(
        "How much new installations did China add in September 2025?", "en", assistant.glossary
    )
    added = assistant._stating_chunks(question, [], None)
    assert [d.metadata["source"] for d in added] == ["solar_adds.md"]
    assert "9.66GW" in added[0].page_content and added[0].metadata["facts"]
    # Already retrieved, or outside the notes the caller allows: nothing is added.
    assert assistant._stating_chunks(question, added, None) == []
    only_aec = Filters(doc_ids=["001_3b8a1a1a5c8f3b0e.txt"])
    assert assistant._stating_chunks(question, [], only_aec) == []
    # Another month asked: that chunk states no figure for it.
    august = Question.parse(
        "How much new installations did China add in August 2025?", "en", assistant.glossary
    )
    assert assistant._stating_chunks(august, [], None) == []


def _assistant_with_note(settings, name: str, text: str) -> Assistant:
    """An assistant over the seed notes and one more note, indexed with hash embeddings."""
    return assistant_over_notes(settings, {name: text})


@pytest.mark.integration
def test_a_which_question_ranks_in_the_note_framed_as_the_group_it_names(fake_settings):
    """Two notes can rank "attributable profit growth": the one whose title names the group
    asked ("internet platforms") answers, whichever retrieval ranked first."""
    carriers = (
        "---\ntitle: Carriers 3Q25 roundup\ndate: 2025-11-01\n---\n\n"
        "Skyway Airlines (天路航空, 1111.HK) and Cloudline Airlines (云线航空, 2222.HK) reported.\n\n## 3Q25 snapshot\n\n"
        "| Company | Net profit attributable | YoY |\n|---|---|---|\n"
        "| Skyway Airlines | RMB 3.5bn | +34% |\n| Cloudline Airlines | RMB 3.8bn | +20% |\n"
    )
    platforms = (
        "---\ntitle: Internet platforms 3Q25 wrap\ndate: 2025-11-27\n---\n\n"
        "Alpha Net (阿尔法网, 3333.HK) and Beta Net (贝塔网, 4444.HK) reported.\n\n## 3Q25 snapshot\n\n"
        "| Company | Net profit attributable | YoY |\n|---|---|---|\n"
        "| Alpha Net | RMB 63.1bn | +19% |\n| Beta Net | RMB 8.6bn | +31.8% |\n"
    )
    assistant = assistant_over_notes(
        fake_settings, {"carriers_q3.md": carriers, "platforms_q3.md": platforms}
    )
    for question in (
        "Which of the internet platforms grew attributable profit fastest in 3Q25?",
        "Which of the carriers grew attributable profit fastest in 3Q25?",
    ):
        answer = assistant.ask(AskRequest(question=question))
        expected = "platforms_q3.md" if "internet" in question else "carriers_q3.md"
        assert not answer.abstained and answer.citations, answer.answer
        assert {c.source for c in answer.citations} == {expected}, answer.citations
    assert (
        "Beta Net"
        in assistant.ask(
            AskRequest(question=question.replace("carriers", "internet platforms"))
        ).answer
    )


@pytest.mark.integration
def test_each_company_listed_is_looked_up_when_the_shared_retrieval_missed_it(fake_settings):
    """ "A, B and C's NPL ratios": retrieval for the whole question may bring one company's
    note only; each other company is then looked up on its own, never left "not in the notes"."""
    notes = {
        f"{code[:6]}.md": (
            f"---\ntitle: {name} H1 2025 results\ndate: 2025-09-01\n---\n\n"
            f"{name} ({zh}, {code}) reported H1 2025 operating income of RMB {income}bn. "
            f"The NPL ratio was {npl}% at end-June, and provision coverage was 300%.\n"
        )
        for name, zh, code, income, npl in (
            ("Harbour Bank", "港湾银行", "601901.SH", "40.1", "0.81"),
            ("Summit Bank", "峰顶银行", "601902.SH", "52.3", "1.12"),
            ("Lakeside Bank", "湖畔银行", "601903.SH", "18.9", "0.95"),
        )
    }
    assistant = assistant_over_notes(fake_settings, notes)
    answer = assistant.ask(
        AskRequest(
            question="What were the NPL ratios of Harbour Bank, Summit Bank and Lakeside Bank "
            "at end-June 2025?",
            top_k=1,
        )
    )
    for figure in ("0.81%", "1.12%", "0.95%"):
        assert figure in answer.answer, answer.answer
    assert {c.source for c in answer.citations} == set(notes), answer.citations


@pytest.mark.integration
def test_a_metric_word_of_two_senses_is_read_as_its_note_reads_it(fake_settings):
    """A bank's report in English writes "operating income" for its revenue (营业收入): a
    question about revenue gets it. A report that also states revenue keeps "operating income"
    as operating profit, and a revenue question gets the revenue."""
    bank = (
        "---\ntitle: Harbour Bank H1 2025 results\ndate: 2025-09-01\n---\n\n"
        "Harbour Bank (港湾银行, 601901.SH) reported H1 2025 operating income of RMB 40.1bn, "
        "up 2.5% YoY, and net profit attributable of RMB 12.2bn, up 4.0% YoY.\n"
    )
    maker = (
        "---\ntitle: Voyage Tech 3Q25 results\ndate: 2025-11-01\n---\n\n"
        "Voyage Tech (远航科技, 688901.SH) reported 3Q25 revenue of RMB 8.4bn, up 12% YoY, "
        "and operating income of RMB 1.3bn, up 20% YoY.\n"
    )
    assistant = assistant_over_notes(fake_settings, {"harbour.md": bank, "voyage.md": maker})
    asked = {
        "港湾银行上半年营收是多少？": "40.1",
        "What was Harbour Bank's H1 2025 revenue?": "40.1",
        "What was Harbour Bank's H1 2025 operating income?": "40.1",  # its own word
        "How fast did Harbour Bank's H1 2025 revenue grow?": "2.5%",
        "What was Voyage Tech's 3Q25 revenue?": "8.4",
        "What was Voyage Tech's 3Q25 operating profit?": "1.3",
    }
    for question, figure in asked.items():
        answer = assistant.ask(AskRequest(question=question))
        assert figure in answer.answer and not answer.abstained, (question, answer.answer)
    # Harbour Bank's operating income is its revenue, not an operating profit.
    answer = assistant.ask(AskRequest(question="What was Harbour Bank's H1 2025 operating profit?"))
    assert "40.1" not in answer.answer, answer.answer
    # Nor is one bank's revenue the sector's.
    answer = assistant.ask(AskRequest(question="What was the banking sector's H1 2025 revenue?"))
    assert answer.abstained and "40.1" not in answer.answer, answer.answer


@pytest.mark.integration
def test_a_part_asked_is_not_answered_with_the_total_of_a_clause_naming_no_part(fake_settings):
    """ "Harbour Bank's corporate revenue": the note speaks of its corporate loans, but its
    revenue figure is the whole bank's."""
    bank = (
        "---\ntitle: Harbour Bank H1 2025 results\ndate: 2025-09-01\n---\n\n"
        "Harbour Bank (港湾银行, 601901.SH) reported H1 2025 revenue of RMB 40.1bn, up 2.5% YoY, "
        "as corporate loans rose 8% to RMB 900bn. Net interest income was RMB 30.2bn.\n"
    )
    assistant = assistant_over_notes(fake_settings, {"harbour.md": bank})
    answer = assistant.ask(
        AskRequest(question="What was Harbour Bank's corporate revenue in H1 2025?")
    )
    assert "40.1" not in answer.answer.split("closest")[0], answer.answer
    answer = assistant.ask(AskRequest(question="What was Harbour Bank's revenue in H1 2025?"))
    assert "40.1" in answer.answer and not answer.abstained, answer.answer
