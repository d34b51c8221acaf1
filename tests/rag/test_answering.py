"""Answering logic on the real notes with fakes for the models (fast)."""

from __future__ import annotations

import pytest
from langchain_core.documents import Document
from langchain_core.language_models import GenericFakeChatModel
from langchain_core.messages import AIMessage

from ingest.pipeline import Indexer
from rag.answering import (
    asked_noun,
    best_quantity,
    check_grounding,
    coverage_gap,
    deterministic_answer,
    last_sentence_end,
    misses_the_asked_figure,
    rewrite_follow_up,
)
from rag.assistant import Assistant
from rag.evidence import Question, select_evidence, specs_in
from rag.glossary import Glossary
from rag.language import detect_language
from rag.types import AskRequest, Message
from tests.conftest import CORPUS
from tests.fakes import HashEmbeddings, evidence_sentence

GLOSSARY = Glossary.load(CORPUS / "glossary.yaml")
NV = "NV2025年的AEC需求量约为70万根,2026年预计增长至170万根左右,后续可能加单。"
META = "Meta2025年的总需求量约为110万根,预计2026年将超过150万根。"


_evidence = evidence_sentence


@pytest.mark.unit
@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("英伟达2026年AEC需求量是多少？", "zh"),
        ("What is Nvidia's 2026 AEC demand?", "en"),
        ("NV的AEC demand是多少", "zh"),
        ("How much is 170万根 in English?", "en"),
    ],
)
def test_language_is_the_dominant_script(text, language):
    assert detect_language(text) == language


@pytest.mark.unit
def test_follow_ups_become_standalone_questions():
    history = [
        Message(role="user", content="英伟达2026年AEC需求量是多少？"),
        Message(role="assistant", content="约170万根[1]。"),
    ]
    assert rewrite_follow_up("那Meta呢?", history, GLOSSARY) == "Meta2026年AEC需求量是多少？"
    assert rewrite_follow_up("那2025年呢？", history, GLOSSARY) == "英伟达2025年AEC需求量是多少？"
    en = [Message(role="user", content="What is Nvidia's 2026 AEC demand?")]
    assert rewrite_follow_up("and Amazon?", en, GLOSSARY) == "What is Amazon's 2026 AEC demand?"
    # A full question is left alone.
    assert (
        rewrite_follow_up("谷歌TPU与AEC的比例是多少？", history, GLOSSARY)
        == "谷歌TPU与AEC的比例是多少？"
    )


@pytest.mark.unit
def test_coverage_gap_names_why_evidence_cannot_answer():
    q2027 = Question.parse("英伟达2027年的AEC需求是多少？", "zh", GLOSSARY)
    assert coverage_gap(q2027, [_evidence(NV)]) == "year"
    q_amazon = Question.parse("亚马逊2026年AEC需求量？", "zh", GLOSSARY)
    assert coverage_gap(q_amazon, [_evidence(NV), _evidence(META)]) == "name"
    q_oracle = Question.parse("How many AECs will Oracle buy in 2026?", "en", GLOSSARY)
    assert coverage_gap(q_oracle, [_evidence(NV), _evidence(META)]) == "name"
    q_topic = Question.parse("How large is Meta's liquid-cooling market?", "en", GLOSSARY)
    assert coverage_gap(q_topic, [_evidence(META)]) == "topic"
    q_nv = Question.parse("What is Nvidia's 2026 AEC demand?", "en", GLOSSARY)
    assert coverage_gap(q_nv, [_evidence(NV)]) is None


@pytest.mark.unit
def test_grounding_rejects_wrong_figures_and_repairs_wrong_citations():
    evidence = [_evidence(META), _evidence(NV)]
    ok = check_grounding("Nvidia's 2026 AEC demand is about 1.7 million cables [2].", evidence)
    assert ok.ok and not ok.repaired and ok.checked == 1
    wrong_scale = check_grounding("Nvidia's 2026 AEC demand is about 170,000 cables [2].", evidence)
    assert not wrong_scale.ok and wrong_scale.unsupported
    invented = check_grounding("英伟达2026年AEC需求量约为180万根[2]。", evidence)
    assert not invented.ok
    repaired = check_grounding("英伟达2026年AEC需求量约为170万根[1]。", evidence)
    assert repaired.ok and repaired.repaired and "[2]" in repaired.text
    uncited = check_grounding("英伟达2026年AEC需求量约为170万根。", evidence)
    assert (
        uncited.ok and uncited.repaired and uncited.text == "英伟达2026年AEC需求量约为170万根[2]。"
    )
    two = check_grounding("Meta: about 1.1 million [2]; Nvidia: about 1.7 million.", evidence)
    assert two.ok and two.text == "Meta: about 1.1 million [1]; Nvidia: about 1.7 million[2]."
    unit = check_grounding("Nvidia's 2026 AEC demand is about 1.7 million cables.", evidence)
    assert unit.text == "Nvidia's 2026 AEC demand is about 1.7 million cables[2]."
    assert not check_grounding("The notes describe AEC demand.", evidence).ok  # nothing cited


@pytest.mark.unit
def test_relative_years_are_resolved_for_the_model():
    google = _evidence("谷歌TPU与AEC比例为1:1.25,估算谷歌明年至少需要两百多万根AEC。")
    assert "明年(2026年)" in google.display("zh")
    assert "(2026)" in google.display("en") and "2 million" in google.display("en")


SPLIT = "其中,800G规格占比超过100万条,其余三四十万条为400G规格。"
FRD = "其中涨幅最低的飞荣达，还下跌了1.31%，涨幅最高的是申菱环境，幅度为7.81%。"


@pytest.mark.unit
def test_a_grade_named_in_the_question_picks_the_figure_beside_it():
    assert specs_in("GB300单台需要多少根400G AEC, 1.6T呢? 2026年") == {"gb300", "400g", "1.6t"}
    section = "Meta2025年、2026年的AEC需求量及规格?"
    evidence = [_evidence(META, section), _evidence(SPLIT, section)]
    for text, language, raw in [
        ("Meta的AEC需求中400G规格有多少条？", "zh", "三四十万条"),
        ("How many of Meta's AECs are 800G?", "en", "超过100万条"),
    ]:
        question = Question.parse(text, language, GLOSSARY)
        i, figure = best_quantity(question, evidence)
        assert (i, figure.raw) == (1, raw)
    zh = deterministic_answer(Question.parse("Meta的400G AEC有多少条？", "zh", GLOSSARY), evidence)
    assert zh.startswith("三四十万条[2]。原文：")


@pytest.mark.unit
def test_a_sentence_naming_no_one_keeps_the_subject_before_it():
    doc = Document(
        page_content=META + SPLIT,
        metadata={"source": "003.txt", "title": "t", "date": "2025-11-12", "start": 0},
    )
    question = Question.parse("Meta的800G AEC有多少条？", "zh", GLOSSARY)
    split = next(e for e in select_evidence(question, [doc], GLOSSARY) if e.text == SPLIT)
    assert "Meta" in split.entities


@pytest.mark.unit
def test_a_figure_written_nearer_another_company_is_not_attributed_to_the_asked_one():
    evidence = [_evidence(FRD, entities=("飞荣达", "申菱环境"))]
    shenling = best_quantity(Question.parse("申菱环境涨幅是多少？", "zh", GLOSSARY), evidence)
    frd = best_quantity(Question.parse("飞荣达涨幅是多少？", "zh", GLOSSARY), evidence)
    assert shenling[1].raw == "7.81%" and frd[1].raw == "1.31%"


@pytest.mark.unit
def test_a_count_of_something_else_does_not_answer_how_many():
    google = _evidence(
        "谷歌TPU与AEC比例为1:1.25,估算谷歌明年至少需要两百多万根AEC。", entities=("谷歌",)
    )
    assert asked_noun("How many TPUs will Google ship in 2026?") == "TPU"
    assert asked_noun("谷歌明年需要多少根AEC？") == "AEC"
    assert asked_noun("How many cables?") is None  # a common noun: nothing to look for
    tpus = Question.parse("How many TPUs will Google ship in 2026?", "en", GLOSSARY)
    assert coverage_gap(tpus, [google]) == "figure"
    aec = Question.parse("谷歌明年需要多少根AEC？", "zh", GLOSSARY)
    assert coverage_gap(aec, [google]) is None


@pytest.mark.unit
def test_a_figure_outside_the_asked_topic_does_not_answer_it():
    amazon_aec = _evidence(
        "亚马逊2025年的用量约200万条,预计2026年增长至300万条甚至更高。",
        section="亚马逊2025年、2026年AEC需求量及规格?",
        entities=("亚马逊",),
    )
    question = Question.parse(
        "How large is Amazon's liquid-cooling market in 2026?", "en", GLOSSARY
    )
    assert coverage_gap(question, [amazon_aec]) == "topic"
    # The liquid-cooling note names Amazon, but gives no figure for it.
    amazon_lc = _evidence(
        "此外,亚马逊、AMD等厂商因自研芯片进展尚不明确,当前市场未将其纳入主要预测范围。",
        section="Q:如何估算2026年全球液冷市场的总体规模?",
        entities=("亚马逊", "AMD"),
    )
    assert coverage_gap(question, [amazon_aec, amazon_lc]) == "figure"


@pytest.mark.unit
def test_a_figure_with_a_unit_is_not_a_year():
    question = Question.parse("按每台机器人2000元、明年出货5-10万台计算", "zh", GLOSSARY)
    assert 2000 not in question.years
    assert Question.parse("AEC demand in 2026?", "en", GLOSSARY).years == {2026}


@pytest.fixture
def indexed(fake_settings):
    embeddings = HashEmbeddings()
    indexer = Indexer(fake_settings, embeddings=embeddings)
    indexer.ingest_all()
    return fake_settings, embeddings, indexer.vector_store


def _assistant(indexed, llm=None) -> Assistant:
    settings, embeddings, store = indexed
    return Assistant(settings, embeddings=embeddings, vector_store=store, llm=llm)


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
        ("依米康涨幅比申菱环境高多少个百分点？", "37.8个百分点", "percentage_point_difference"),
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


@pytest.mark.unit
def test_a_which_company_question_prefers_the_sentence_that_names_one():
    text = (
        "太空算力的发展逻辑在于突破地面能源限制,利用太空的太阳能实现持续高算力输出。"
        "海外以SpaceX为代表,依托可重复使用火箭技术实现自我造血。"
    )
    doc = Document(page_content=text, metadata={"source": "000.txt", "title": "t", "start": 0})
    question = Question.parse("海外太空算力以哪家公司为代表？", "zh", GLOSSARY)
    assert "SpaceX" in select_evidence(question, [doc], GLOSSARY)[0].text


@pytest.mark.unit
def test_grounding_refuses_a_bound_restated_as_an_estimate():
    evidence = [_evidence(META)]
    assert check_grounding("Meta2026年AEC需求量将超过150万根[1]。", evidence).ok
    assert check_grounding("Meta's 2026 demand: more than 1.5 million cables [1].", evidence).ok
    dropped = check_grounding("Meta2026年AEC需求量约为150万根[1]。", evidence)
    assert not dropped.ok and dropped.unsupported == ["约为150万根"]


@pytest.mark.unit
def test_a_grounded_but_unasked_figure_does_not_stand_for_the_asked_one():
    rack = "例如,在72个GPU配置的机柜中,若全部采用柜内AEC,则需70到80根。"
    evidence = [_evidence(NV, entities=("英伟达",)), _evidence(rack, entities=("英伟达",))]
    question = Question.parse("NV 2025年的AEC需求量大约多少根？", "zh", GLOSSARY)
    assert misses_the_asked_figure("70到80根[2]", question, evidence)
    assert not misses_the_asked_figure("约70万根[1]", question, evidence)


@pytest.mark.parametrize(
    ("text", "after", "end"),
    [
        ("英伟达为170万根[1]。谷歌", 0, len("英伟达为170万根[1]。")),
        ("英伟达为170万根。[1]", 0, None),  # a marker may still follow: not complete yet
        ("英伟达为170万根。[1]谷歌", 0, len("英伟达为170万根。[1]")),
        ("About 1.7 million cables. [1] Google", 0, len("About 1.7 million cables. [1]")),
        ("Demand is 1.7 million", 0, None),  # "1.7" is no sentence end
        ("A [1]. B [2]. C", 0, len("A [1]. B [2].")),  # the last complete one
        ("A [1]. B [2]. C", len("A [1]. B [2]."), None),  # nothing new past `after`
    ],
)
def test_last_sentence_end(text: str, after: int, end: int | None) -> None:
    assert last_sentence_end(text, after) == end


@pytest.mark.unit
def test_a_table_that_gives_a_metric_for_other_companies_only_is_no_answer():
    from langchain_core.documents import Document

    from rag.answering import coverage_gap

    glossary = Glossary(entities=[["Ping An"], ["China Life"], ["CPIC"]]).with_lexicon([], [])
    table = (
        "| Metric | Ping An | China Life | CPIC |\n|---|---|---|---|\n"
        "| P&C combined ratio | 97.0% | n/a | 97.6% |\n"
    )
    doc = Document(id="t", page_content=table, metadata={"id": "t", "source": "ins.md"})
    for asked, gap in (("China Life", "figure"), ("CPIC", None)):
        question = Question.parse(f"What was {asked}'s combined ratio in 9M25?", "en", glossary)
        evidence = select_evidence(question, [doc], glossary)
        assert coverage_gap(question, evidence, table) == gap, asked
    cpic = Question.parse("What was CPIC's combined ratio in 9M25?", "en", glossary)
    picked = best_quantity(cpic, select_evidence(cpic, [doc], glossary))
    assert picked is not None and picked[1].raw == "97.6%"


@pytest.mark.unit
def test_a_broader_metric_name_answers_only_when_nothing_names_the_asked_one():
    from langchain_core.documents import Document

    glossary = Glossary(entities=[["Acme Insurance"]]).with_lexicon([], [])
    text = (
        "Acme Insurance's 9M25 net profit attributable to shareholders was RMB46.8bn. "
        "Third-quarter net profit was RMB20.3bn, up 48.7% YoY."
    )
    doc = Document(id="a", page_content=text, metadata={"id": "a", "source": "acme.md"})
    question = Question.parse(
        "What was Acme Insurance's Q3 net profit attributable to shareholders?", "en", glossary
    )
    picked = best_quantity(question, select_evidence(question, [doc], glossary))
    assert picked is not None and picked[1].raw == "RMB20.3bn"
    nine = Question.parse(
        "What was Acme Insurance's 9M net profit attributable to shareholders?", "en", glossary
    )
    picked = best_quantity(nine, select_evidence(nine, [doc], glossary))
    assert picked is not None and picked[1].raw == "RMB46.8bn"


@pytest.mark.unit
def test_an_acronym_of_several_companies_asks_which_one_and_of_one_resolves_to_it():
    from rag.answering import abstention, coverage_gap

    glossary = Glossary(
        entities=[["PICC Group", "中国人保"], ["PICC P&C", "人保财险"], ["Acme Robotics"]]
    ).with_lexicon([], [])
    picc = Question.parse("What was PICC's third-quarter net profit?", "en", glossary)
    assert picc.ambiguous == ("PICC Group", "PICC P&C") and not picc.entities
    assert coverage_gap(picc, [], "") == "ambiguous"
    assert abstention(picc, [], "ambiguous") == "Which company do you mean: PICC Group or PICC P&C?"
    acme = Question.parse("What was ACME's revenue?", "en", glossary)
    assert [g[0] for g in acme.entities] == ["Acme Robotics"] and not acme.ambiguous
    # A word that starts many names is no acronym of any of them.
    assert not Question.parse("What share of China's demand?", "en", glossary).ambiguous


def test_a_figure_dated_to_another_year_never_fits_and_a_named_institution_is_no_entity():
    from rag.answering import fact_fit
    from rag.evidence import by_named_source
    from rag.facts import Fact
    from rag.numbers import extract_quantities

    glossary = Glossary(entities=[["远航科技"], ["启明资本"]], terms=[["营收", "revenue"]])
    question = Question.parse("远航科技2027年营收是多少？", "zh", glossary)
    (q2024,) = extract_quantities("远航科技2024年营收180亿元")
    assert fact_fit(Fact(sentence=0, quantity=q2024, entity="远航科技"), question) is None
    (undated,) = extract_quantities("远航科技营收180亿元")
    assert fact_fit(Fact(sentence=0, quantity=undated, entity="远航科技"), question) is not None

    asked = Question.parse("启明资本预测远航科技2026年营收是多少？", "zh", glossary)
    docs = [
        Document(page_content="…", metadata={"source": "a.docx", "institution": "启明资本研究部"}),
        Document(page_content="…", metadata={"source": "b.md", "institution": "某某证券"}),
    ]
    narrowed, sources = by_named_source(asked, docs)
    assert sources == ["a.docx"]
    assert [g[0] for g in narrowed.entities] == ["远航科技"] and "启明资本" not in narrowed.text
    assert by_named_source(question, docs) == (question, [])


def test_a_market_the_question_names_is_only_answered_by_sentences_that_name_it():
    from dataclasses import replace

    from rag.answering import best_quantity

    glossary = Glossary(terms=[["HBM", "高带宽内存"], ["市场规模", "market size"]])
    question = Question.parse("2026年全球HBM市场规模预计能到多少？", "zh", glossary)
    assert question.subjects == (("HBM", "高带宽内存"),)
    hbm = replace(
        evidence_sentence("HBM（高带宽内存）2024年全球市场规模约180亿美元。"), title="存储纪要"
    )
    other = replace(
        evidence_sentence("2026年全球液冷市场总规模预计可达130亿至150亿美元。"), title="液冷"
    )
    picked = best_quantity(question, [other, hbm])
    assert picked is None or picked[0] == 1  # never the other market's 2026 figure
    # units are no names the notes must write
    per_wh = Question.parse("按165GWh计算，单Wh净利润约为多少元？", "zh", glossary)
    assert per_wh.names == ()


@pytest.mark.unit
def test_a_weekly_price_table_answers_the_grade_and_the_week_asked():
    from langchain_core.documents import Document

    glossary = Glossary().with_lexicon([], [])
    table = (
        "碳酸锂本周均价小幅回落至7.4万元/吨。\n\n"
        "| 品类 | 规格 | 本周均价 | 上周均价 | 涨跌幅 |\n|---|---|---|---|---|\n"
        "| 锂盐（万元/吨） | 电池级碳酸锂-99.5 | 7.40 | 7.52 | -1.60% |\n"
        "| 锂盐（万元/吨） | 氢氧化锂-56.5 | 7.10 | 7.05 | +0.71% |\n"
    )
    doc = Document(id="w", page_content=table, metadata={"id": "w", "source": "lithium.txt"})

    def picked(text: str, language: str) -> str:
        question = Question.parse(text, language, glossary)
        evidence = select_evidence(question, [doc], glossary, limit=8)
        found = best_quantity(question, evidence)
        assert found is not None, text
        return found[1].raw

    # The row of the grade named (56.5, not 99.5), the column of the week asked.
    assert picked("What was last week's average price of lithium hydroxide 56.5?", "en") == "7.05"
    assert picked("氢氧化锂56.5本周均价是多少？", "zh") == "7.10"
    assert picked("电池级碳酸锂99.5上周均价是多少？", "zh") == "7.52"


@pytest.mark.unit
def test_a_market_asked_prefers_the_sentence_that_names_it():
    from langchain_core.documents import Document

    glossary = Glossary(entities=[["安踏体育", "Anta"]]).with_lexicon([], [])
    text = (
        "安踏体育(Anta)上半年实现收入385.4亿元。分区域看，上半年国内收入301.2亿元，同比增长8%；"
        "海外收入84.2亿元，同比增长31%，海外占比提升。公司上半年净利润70.3亿元。"
    )
    doc = Document(id="a", page_content=text, metadata={"id": "a", "source": "anta.md"})
    question = Question.parse("What were Anta's overseas revenues in H1?", "en", glossary)
    evidence = select_evidence(question, [doc], glossary)
    ranked = [e.text for e in evidence]
    overseas = next(i for i, t in enumerate(ranked) if t.startswith("海外收入"))
    domestic = next((i for i, t in enumerate(ranked) if "国内收入" in t), len(ranked))
    assert overseas < domestic  # the domestic figure beside it cannot answer
    picked = best_quantity(question, evidence)
    assert picked is not None and picked[1].raw == "84.2亿元"


@pytest.mark.unit
def test_a_share_asked_is_never_answered_with_an_amount():
    from rag.answering import asks_relative, coverage_gap

    assert asks_relative("海上风电占全国新增装机的比重是多少？")
    assert asks_relative("What share of revenue came from overseas?")
    assert not asks_relative("按1:1.25的比例需要多少根AEC？")  # asks the count
    amounts = _evidence("2025年1-9月全国新增风电并网容量61.09GW，其中海上风电2.45GW。")
    question = Question.parse("海上风电占全国新增风电装机的比重是多少？", "zh", GLOSSARY)
    assert best_quantity(question, [amounts]) is None
    assert coverage_gap(question, [amounts]) == "figure"


@pytest.mark.unit
def test_the_period_asked_is_matched_as_a_period_not_as_shared_words():
    question = Question.parse("前三季度海上风电新增多少？", "zh", GLOSSARY)
    assert "前三季度" not in question.terms and "季度" not in question.terms
    assert "海上" in question.terms or "海上风电" in question.terms


@pytest.mark.unit
def test_a_capacity_answers_a_question_asked_in_its_unit():
    from rag.answering import asks_measure

    sentence = _evidence("2025年1-9月全国新增风电并网容量61.09GW，同比增长15%。")
    asked = Question.parse("2025年1-9月全国新增风电并网容量多少GW？", "zh", GLOSSARY)
    picked = best_quantity(asked, [sentence])
    assert picked is not None and picked[1].raw == "61.09GW"
    (gw,) = [q for q in sentence.quantities if q.unit == "GW"]
    assert asks_measure("How many GW were added?", gw)
    assert not asks_measure("How many were added?", gw)


@pytest.mark.unit
def test_a_follow_up_replaces_the_company_asked_about_not_the_source_named_first():
    glossary = Glossary(
        entities=[["智元机器人", "AgiBot"], ["优必选", "UBTech"], ["中国移动", "China Mobile"]]
    ).with_lexicon([], [])
    history = [
        Message(role="user", content="In China Mobile's procurement, what was AgiBot's unit price?")
    ]
    assert (
        rewrite_follow_up("And UBTech's?", history, glossary)
        == "In China Mobile's procurement, what was UBTech's unit price?"
    )


@pytest.mark.unit
def test_a_topic_named_in_a_sentences_first_clause_frames_its_later_clauses():
    from langchain_core.documents import Document

    glossary = Glossary(entities=[["SK海力士", "SK hynix"], ["美光", "Micron"]]).with_lexicon(
        [], [["TSV", "硅通孔"]]
    )
    text = "按TSV（硅通孔）月产能口径：SK海力士今年底大约16万片/月；美光今年约6万片/月，明年目标是9万片/月。"
    doc = Document(id="m", page_content=text, metadata={"id": "m", "source": "mem.md"})
    question = Question.parse("What is Micron's TSV capacity this year?", "en", glossary)
    evidence = select_evidence(question, [doc], glossary)
    micron = next(e for e in evidence if e.text.startswith("美光"))
    assert "TSV" in micron.lead
    picked = best_quantity(question, evidence)
    assert picked is not None and picked[1].raw == "约6万片"


@pytest.mark.unit
def test_companies_listed_side_by_side_get_one_figure_each_never_a_merged_one():
    from langchain_core.documents import Document

    from rag.answering import per_entity_answer, per_entity_questions

    glossary = Glossary(
        entities=[["洛阳钼业", "CMOC"], ["紫金矿业", "Zijin"], ["江西铜业", "Jiangxi Copper"]]
    ).with_lexicon([], [])
    text = (
        "三季度洛阳钼业归母净利润56.08亿元、同比增长96.4%，而紫金矿业同期归母净利润145.72亿元、"
        "同比增长57.1%。"
    )
    doc = Document(id="c", page_content=text, metadata={"id": "c", "source": "metals.md"})
    question = Question.parse(
        "What were CMOC's and Jiangxi Copper's Q3 net profit attributable to shareholders?",
        "en",
        glossary,
    )
    subs = per_entity_questions(question)
    assert [s.entities[0][0] for s in subs] == ["洛阳钼业", "江西铜业"]
    parts = []
    for sub in subs:
        evidence = select_evidence(sub, [doc], glossary)
        parts.append((sub, evidence, best_quantity(sub, evidence)))
    answer, cited = per_entity_answer(parts, "en")
    assert answer.startswith("CMOC: RMB 5.608 billion (56.08亿元) [1]")
    assert "Jiangxi Copper: not in the notes" in answer and "145.72" not in answer
    assert len(cited) == 1
    # Two companies in one relation ("through A to B") ask one figure, not one each.
    one = Question.parse("公司通过紫金矿业给江西铜业供货的比例是多少？", "zh", glossary)
    assert per_entity_questions(one) == []


@pytest.mark.unit
def test_a_company_name_is_no_operation_word():
    from rag.planner import intent_text

    glossary = Glossary(entities=[["比亚迪", "BYD"], ["宁德时代"]]).with_lexicon([], [])
    question = Question.parse("宁德时代和比亚迪三季度归母净利润分别是多少？", "zh", glossary)
    assert "比亚迪" not in intent_text(question)  # "比…少" would plan a difference
