"""rag/pick: which sentence and which figure answer a question, on sentences written for the tests and the seed notes."""

from __future__ import annotations

from dataclasses import replace

import pytest
from langchain_core.documents import Document

from rag.glossary import Glossary
from rag.language import detect_language
from rag.pick.choose import about_entity, best_quantity, coverage_gap
from rag.pick.evidence import select_evidence
from rag.plan.question import Question, asked_noun, specs_in
from rag.render.answer import deterministic_answer
from tests.conftest import CORPUS
from tests.fakes import evidence_sentence

GLOSSARY = Glossary.load(CORPUS / "glossary.yaml")
NV = "NV2025年的AEC需求量约为70万根,2026年预计增长至170万根左右,后续可能加单。"
META = "Meta2025年的总需求量约为110万根,预计2026年将超过150万根。"


_evidence = evidence_sentence


def _picked(
    text: str, docs: list[Document], glossary: Glossary, language: str = "en"
) -> str | None:
    """The figure (as written) best_quantity picks for a question over these chunks."""
    question = Question.parse(text, language, glossary)
    best = best_quantity(question, select_evidence(question, docs, glossary))
    return best[1].raw if best else None


def _note(text: str) -> Document:
    """One made-up note's chunk, untitled and undated."""
    return Document(page_content=text, metadata={"source": "v.md", "title": "t", "start": 0})


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
def test_a_table_that_gives_a_metric_for_other_companies_only_is_no_answer():
    from langchain_core.documents import Document

    from rag.pick.choose import coverage_gap

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
    from rag.pick.choose import coverage_gap
    from rag.render.answer import abstention

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
    from rag.facts.extract import Fact
    from rag.numbers import extract_quantities
    from rag.pick.choose import fact_fit
    from rag.pick.evidence import by_named_source

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

    from rag.pick.choose import best_quantity

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
    from rag.pick.choose import coverage_gap
    from rag.plan.question import asks_relative

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
    from rag.pick.choose import asks_measure

    sentence = _evidence("2025年1-9月全国新增风电并网容量61.09GW，同比增长15%。")
    asked = Question.parse("2025年1-9月全国新增风电并网容量多少GW？", "zh", GLOSSARY)
    picked = best_quantity(asked, [sentence])
    assert picked is not None and picked[1].raw == "61.09GW"
    (gw,) = [q for q in sentence.quantities if q.unit == "GW"]
    assert asks_measure("How many GW were added?", gw)
    assert not asks_measure("How many were added?", gw)


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

    from rag.plan.question import per_entity_questions
    from rag.render.answer import per_entity_answer

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
    from rag.compute.planner import intent_text

    glossary = Glossary(entities=[["比亚迪", "BYD"], ["宁德时代"]]).with_lexicon([], [])
    question = Question.parse("宁德时代和比亚迪三季度归母净利润分别是多少？", "zh", glossary)
    assert "比亚迪" not in intent_text(question)  # "比…少" would plan a difference


@pytest.mark.unit
def test_a_market_named_by_acronym_ranks_its_notes_sentences_above_another_markets():
    """The second sentence names no metric and no market: it continues the first (its figure
    is the HBM market's), and its note names HBM; the liquid-cooling sentence shares more words
    with the question but is about another market."""
    glossary = Glossary().with_lexicon([], [["HBM", "高带宽内存"]])

    def doc(i: int, title: str, text: str) -> Document:
        meta = {"id": f"c{i}", "source": f"n{i}.md", "title": title, "date": "2025-11-06"}
        return Document(id=f"c{i}", page_content=text, metadata=meta)

    docs = [
        doc(0, "液冷专家纪要", "2026年全球液冷市场总规模预计可达130亿至150亿美元。"),
        doc(
            1,
            "HBM专家纪要",
            "HBM（高带宽内存）2024年全球市场规模约180亿美元。明年的基准假设是580亿美元左右。",
        ),
    ]
    question = Question.parse("2026年全球HBM市场规模预计能到多少？", "zh", glossary)
    evidence = select_evidence(question, docs, glossary)
    picked = best_quantity(question, evidence)
    assert picked is not None and picked[1].raw.startswith("580亿美元")
    assert evidence[0].doc_id == "n1.md"


@pytest.mark.unit
def test_a_question_asking_a_name_is_answered_by_the_sentence_that_names_it():
    """ "What is the brand of …" asks no figure: the sentence sharing what is asked beyond the
    company's name answers, not the one repeating the name beside a figure."""
    glossary = Glossary(entities=[["Zhongxin Turbine", "中信风机"]]).with_lexicon([], [])
    text = (
        "中信风机三季度风机对外销售容量5.2GW，同比增长31%。"
        "公司海上风机品牌“海鲲”已在福建完成吊装。"
        "中信风机的在手订单仍以陆上机组为主。"
    )
    doc = Document(page_content=text, metadata={"source": "wind.md", "title": "t", "start": 0})
    brand = Question.parse(
        "What is the brand name of Zhongxin Turbine's offshore turbines?", "en", glossary
    )
    assert not brand.asks_figure
    answer = deterministic_answer(brand, select_evidence(brand, [doc], glossary))
    assert "海鲲" in answer
    # A what-question naming a metric or a change still asks a figure.
    for text in (
        "What was Zhongxin Turbine's Q3 revenue?",
        "What was Zhongxin Turbine's sales growth in Q3?",
    ):
        assert Question.parse(text, "en", glossary).asks_figure, text


@pytest.mark.unit
def test_a_month_asked_is_answered_by_that_months_figure_not_the_years():
    glossary = Glossary(entities=[["远航汽车", "Yuanhang Auto"]]).with_lexicon([], [])
    text = "远航汽车2025年销量有望达到120万辆。10月销量11.2万辆，同比增长8%；不过环比9月的10.5万辆只增长6.7%。"
    doc = Document(page_content=text, metadata={"source": "auto.md", "title": "t", "start": 0})
    for asked, figure in (
        ("远航汽车10月销量是多少辆？", "11.2万辆"),
        ("How many vehicles did Yuanhang Auto sell in September?", "10.5万辆"),
        ("远航汽车2025年销量预计是多少辆？", "120万辆"),
    ):
        question = Question.parse(asked, detect_language(asked), glossary)
        picked = best_quantity(question, select_evidence(question, [doc], glossary))
        assert picked is not None and picked[1].raw.strip().endswith(figure), asked


@pytest.mark.unit
def test_a_question_opening_with_a_name_no_note_writes_is_not_answered_by_anothers_figure():
    glossary = Glossary(entities=[["远航风电"]]).with_lexicon([], [])
    note = _evidence("远航风电第三季度营业收入81.74亿元，同比下降12.0%。")
    # A brand-like name with no company ending, which no note writes: abstain.
    unknown = Question.parse("青峰塔2025年第三季度营业收入是多少？", "zh", glossary)
    assert unknown.subject_words and coverage_gap(unknown, [note]) == "name"
    # What only frames the question ("根据…", "如果…") names nothing the note must write.
    framed = Question.parse("根据前三季度数据，远航风电第三季度营业收入是多少？", "zh", glossary)
    assert framed.subject_words == ()
    known = Question.parse("远航风电第三季度营业收入是多少？", "zh", glossary)
    assert known.subject_words == () and coverage_gap(known, [note]) is None
    # A sector the note writes word by word ("风电…板块") is covered.
    sector = Question.parse("风电板块第三季度营业收入是多少？", "zh", glossary)
    board = _evidence("风电板块第三季度营业收入合计812.3亿元。")
    assert coverage_gap(sector, [board]) is None


@pytest.mark.unit
def test_a_measure_answers_the_metric_it_is_stated_for_without_its_unit_asked():
    glossary = Glossary(entities=[["远航风电"]]).with_lexicon([], [])
    sentence = _evidence("远航风电第三季度新增装机4.1GW，风机单机容量6.25MW。")
    asked = Question.parse("远航风电第三季度新增装机是多少？", "zh", glossary)
    assert asked.metrics
    picked = best_quantity(asked, [sentence])
    assert picked is not None and picked[1].raw == "4.1GW"
    # A measure of another metric is no answer to a metric it is not stated for.
    revenue = Question.parse("远航风电第三季度营收是多少？", "zh", glossary)
    assert best_quantity(revenue, [sentence]) is None


@pytest.mark.unit
def test_a_table_rows_metric_is_named_by_its_header_row():
    glossary = Glossary(entities=[["Acme Bank", "ABK"], ["Borealis Bank"]]).with_lexicon([], [])
    table = (
        "Acme Bank's H1 2025 revenue was RMB 100.0bn, up 2.0% YoY.\n\n"
        "| Bank | Revenue (RMB bn) | NIM |\n|---|---|---|\n"
        "| ABK | 100.0 | 1.30% |\n| Borealis Bank | 50.0 | 1.80% |\n"
    )
    metadata = {"id": "c0", "source": "banks.md", "title": "Banks", "date": "2025-09-01"}
    metadata["heading"] = "Key metrics, H1 2025"
    doc = Document(id="c0", page_content=table, metadata=metadata)
    question = Question.parse(
        "What was Acme Bank's net interest margin in H1 2025?", "en", glossary
    )
    evidence = select_evidence(question, [doc], glossary)
    assert coverage_gap(question, evidence, table) is None
    picked = best_quantity(question, evidence)
    assert picked is not None and picked[1].raw == "1.30%", picked


@pytest.mark.unit
def test_a_metric_noun_no_vocabulary_knows_must_be_named_by_the_answer():
    from rag.pick.choose import unnamed_measure_words

    glossary = Glossary(entities=[["远航港口"]]).with_lexicon([], [])
    text = "远航港口前三季度营业收入127.6亿元，同比增长4.9%。前三季度集装箱靠泊量1.55亿TEU。"
    doc = Document(
        id="c0",
        page_content=text,
        metadata={"id": "c0", "source": "ports.md", "title": "Ports", "date": "2025-11-10"},
    )
    question = Question.parse("远航港口前三季度集装箱靠泊量是多少？", "zh", glossary)
    assert [sorted(w)[0] for w in unnamed_measure_words(question)] == ["靠泊量"]
    evidence = select_evidence(question, [doc], glossary)
    picked = best_quantity(question, evidence)
    assert picked is not None and picked[1].raw == "1.55亿TEU", picked
    only_revenue = Document(id="c1", page_content=text.split("。")[0] + "。", metadata=doc.metadata)
    assert best_quantity(question, select_evidence(question, [only_revenue], glossary)) is None
    # A measure the vocabulary knows (吞吐量, throughput) is asked as a metric: the same holds.
    known = Question.parse("远航港口前三季度集装箱吞吐量是多少？", "zh", glossary)
    assert known.metrics and unnamed_measure_words(known) == []
    stated = Document(id="c2", page_content=text.replace("靠泊量", "吞吐量"), metadata=doc.metadata)
    picked = best_quantity(known, select_evidence(known, [stated], glossary))
    assert picked is not None and picked[1].raw == "1.55亿TEU", picked
    assert best_quantity(known, select_evidence(known, [only_revenue], glossary)) is None


# Made-up power-sector sentences: the shipped industry words (rag/data/finance_terms.yaml).
_GENERAL = Glossary().with_lexicon([], [])
_WIND_AND_SOLAR = (
    "2024年1-6月全国新增风电并网容量51.84GW，其中海上风电4.1GW；",
    "2024年1-6月全国新增光伏并网容量102.48GW，其中分布式光伏52.88GW；",
)


@pytest.mark.unit
def test_an_industry_word_is_answered_only_by_a_sentence_naming_it_in_either_language():
    wind, solar = (_evidence(t) for t in _WIND_AND_SOLAR)
    asked = Question.parse(
        "How much new solar capacity was grid-connected in China in January-June 2024?",
        "en",
        _GENERAL,
    )
    # "capacity" asks either 产能 or 装机量; "solar" asks 光伏, never the wind line beside it.
    assert any("装机量" in g for g in asked.metrics) and any("产能" in g for g in asked.metrics)
    assert [g[0] for g in asked.topics] == ["光伏", "并网"]
    picked = best_quantity(asked, [wind, solar])
    assert picked is not None and picked[0] == 1 and str(picked[1].low) == "102.48"
    hydro = Question.parse(
        "How much new hydropower capacity was grid-connected in January-June 2024?", "en", _GENERAL
    )
    assert coverage_gap(hydro, [wind, solar]) == "topic"


@pytest.mark.unit
def test_an_industry_word_inside_a_longer_one_or_a_company_name_asks_nothing_of_its_own():
    startups = Question.parse("Which EV start-up delivered the most cars?", "en", _GENERAL)
    assert [g[0] for g in startups.topics] == ["新势力"]  # not also every EV
    glossary = Glossary(entities=[["Harbour Ports", "海港港口"]]).with_lexicon([], [])
    ports = Question.parse("海港港口前三季度归母净利润同比增长多少？", "zh", glossary)
    assert ports.topics == ()


@pytest.mark.unit
def test_an_industry_abbreviation_stays_a_name_the_notes_must_write():
    # "PV" is photovoltaic in one note and present value in another: it is not spelled out.
    asked = Question.parse("How much PV capacity was added in June?", "en", _GENERAL)
    assert ("PV",) in asked.names
    spelled = Question.parse("How much distributed PV capacity was added?", "en", _GENERAL)
    assert ("PV",) not in spelled.names and [g[0] for g in spelled.topics] == ["分布式光伏"]


@pytest.mark.unit
def test_a_change_asked_is_shown_with_the_decline_its_sentence_states():
    sentence = _evidence(
        "Harbour Lines carried 2.1m TEU in 3Q24 and average revenue per TEU dropped 18.2%.",
        entities=("Harbour Lines",),
    )
    glossary = Glossary(entities=[["Harbour Lines", "海港航运"]]).with_lexicon([], [])
    asked = Question.parse("海港航运三季度平均每TEU收入同比下降了多少？", "zh", glossary)
    assert deterministic_answer(asked, [sentence]).startswith("下降18.2%[1]")


@pytest.mark.unit
def test_a_narrower_metric_answers_when_nothing_states_the_asked_one_by_its_own_name():
    glossary = Glossary(entities=[["Harbour Lines", "海港航运"]]).with_lexicon([], [])
    attributable = _evidence(
        "Harbour Lines reported 3Q24 net profit attributable of RMB 2.10bn, down 31.5% YoY.",
        entities=("Harbour Lines",),
    )
    index = _evidence(
        "The freight index averaged 12.4% less than a year earlier in the quarter.",
        entities=("Harbour Lines",),
    )
    asked = Question.parse(
        "What was Harbour Lines' 3Q24 net profit change year on year?", "en", glossary
    )
    picked = best_quantity(asked, [index, attributable])
    assert picked is not None and picked[0] == 1 and picked[1].raw == "31.5%"
    # Stated under its own name, the asked metric wins over the narrower one.
    both = _evidence(
        "Harbour Lines' 3Q24 net profit fell 29.0% YoY and net profit attributable 31.5%.",
        entities=("Harbour Lines",),
    )
    picked = best_quantity(asked, [both])
    assert picked is not None and picked[1].raw == "29.0%"


@pytest.mark.unit
def test_a_sentence_naming_no_one_is_about_the_company_its_note_is_titled_after():
    glossary = Glossary(entities=[["远航汽车"], ["海星电池"]]).with_lexicon([], [])
    asked = Question.parse("远航汽车三季度归母净利润是多少？", "zh", glossary)
    transcript = replace(
        _evidence("答：三季度归母净利润78.23亿元，同比下降32.6%。", section="问：三季报的情况呢？"),
        title="专家电话会纪要：远航汽车10月销量与三季报",
    )
    other = replace(transcript, title="海星电池三季报点评")
    assert about_entity(transcript, asked) and not about_entity(other, asked)
    # A sentence that names a company is that company's, whatever the title says.
    named = replace(
        _evidence("海星电池三季度归母净利润185.49亿元。", entities=("海星电池",)),
        title=transcript.title,
    )
    assert not about_entity(named, asked)


@pytest.mark.unit
def test_a_company_the_question_opens_with_must_be_named_by_some_sentence_answering_it():
    glossary = Glossary(entities=[["海星电池"]]).with_lexicon([], [])
    other = replace(
        _evidence("归母净利润185.49亿元，同比增长41.21%。", entities=("海星电池",)),
        title="海星电池三季报点评",
    )
    asked = Question.parse("远航汽车2025年三季度净利润是多少？", "zh", glossary)
    assert asked.names and best_quantity(asked, [other]) is None


@pytest.mark.unit
def test_a_duration_answers_only_the_metric_that_measures_it():
    glossary = Glossary(entities=[["远航汽车"]]).with_lexicon([], [])
    stock = _evidence(
        "远航汽车经销商库存约1.6个月，低于行业平均的1.9个月。",
        entities=("远航汽车",),
    )
    stock = replace(stock, lead="10月乘用车行业综合优惠率约8.9%；")
    asked = Question.parse("远航汽车10月综合优惠率是多少？", "zh", glossary)
    assert best_quantity(asked, [stock]) is None  # the months are the stock's, not the discount's


@pytest.mark.unit
def test_a_measure_or_a_duration_never_answers_a_change_asked():
    glossary = Glossary().with_lexicon([], [])
    level = _evidence("9月全国新增光伏装机回升至9.66GW。")
    asked = Question.parse("9月全国新增光伏装机同比变化了百分之多少？", "zh", glossary)
    assert asked.asks_change and best_quantity(asked, [level]) is None
    stated = _evidence("9月全国新增光伏装机9.66GW，同比下降53.8%。")
    picked = best_quantity(asked, [stated])
    assert picked is not None and picked[1].raw == "53.8%"


@pytest.mark.unit
def test_a_profit_asked_is_money_never_the_volume_its_sentence_counts():
    from rag.plan.question import Question

    glossary = Glossary(entities=[["Harbour Ports"]]).with_lexicon([], [])
    text = (
        "Harbour Ports handled 113.28m TEU in 9M25 (+5.6%). "
        "Its profit attributable rose 19.6% to US$264.3m in 9M25."
    )
    doc = Document(page_content=text, metadata={"source": "p.md", "title": "t", "start": 0})
    question = Question.parse("What was Harbour Ports' 9M25 profit attributable?", "en", glossary)
    evidence = select_evidence(question, [doc], glossary)
    picked = best_quantity(question, evidence)
    assert picked is not None and picked[1].raw.strip() == "US$264.3m", picked
    only_volume = Document(
        page_content="Harbour Ports handled 113.28m TEU in 9M25 (+5.6%).",
        metadata={"source": "p.md", "title": "t", "start": 0},
    )
    evidence = select_evidence(question, [only_volume], glossary)
    assert best_quantity(question, evidence) is None  # no profit stated: no figure at all


@pytest.mark.unit
def test_the_part_of_the_company_asked_is_answered_by_the_sentence_naming_it():
    glossary = Glossary(entities=[["拼多多", "PDD"], ["Tencent"]]).with_lexicon([], [])
    whole = _evidence("PDD's 3Q25 revenue was RMB 108.28bn (+9% YoY).", entities=("拼多多",))
    parts = _evidence(
        "Online marketing services brought in RMB 53.35bn and transaction services RMB 54.93bn.",
        entities=("拼多多",),
    )
    asked = Question.parse("拼多多三季度交易服务收入是多少？", "zh", glossary)
    # 交易服务 read as the English note writes it ("transaction services")
    assert best_quantity(asked, [whole, parts])[1].raw == "RMB 54.93bn"
    total = Question.parse("What was PDD's revenue in 3Q25?", "en", glossary)
    assert best_quantity(total, [whole, parts])[1].raw == "RMB 108.28bn"


@pytest.mark.unit
def test_a_calculations_part_takes_the_figure_written_after_the_market_it_names():
    glossary = Glossary().with_lexicon([], [])
    ev = _evidence(
        "2025年1-9月全国新增光伏并网容量239.53GW，其中集中式光伏111.59GW、分布式光伏127.93GW；"
    )
    part = Question.parse("前三季度分布式光伏新增装机", "zh", glossary)
    # An operand lookup (the planner leaves asks_change open): the part named, not the total.
    assert best_quantity(replace(part, asks_change=None), [ev])[1].raw == "127.93GW"


@pytest.mark.unit
def test_a_why_question_is_answered_by_the_sentence_giving_a_reason():
    glossary = Glossary(entities=[["阿里巴巴", "Alibaba"]]).with_lexicon([], [])
    text = (
        "Alibaba's income from operations fell 85% to RMB 5.37bn this quarter. "
        "Alibaba's income from operations fell mainly because of heavy spending on quick commerce."
    )
    doc = Document(
        page_content=text,
        metadata={"source": "wrap.md", "title": "China internet wrap", "date": "2025-11-27"},
    )
    question = Question.parse("Why did Alibaba's income from operations fall?", "en", glossary)
    best = select_evidence(question, [doc], glossary)[0]
    assert "because" in best.text


@pytest.mark.unit
def test_a_share_asked_is_never_answered_by_a_growth_rate():
    glossary = Glossary(entities=[["网易", "NetEase"]]).with_lexicon([], [])
    grew = _evidence("NetEase lifted attributable profit 31.8% in 3Q25.", entities=("网易",))
    share = Question.parse("网易三季度归母净利润占净收入的比例是多少？", "zh", glossary)
    assert best_quantity(share, [grew]) is None
    part = _evidence("其中,大约30%的需求是400G规格,其余则以800G为主。", entities=("网易",))
    assert best_quantity(Question.parse("网易需求中400G占比是多少？", "zh", glossary), [part])


@pytest.mark.unit
def test_a_change_asked_in_percentage_points_is_never_the_level_reached():
    glossary = Glossary(entities=[["远航科技", "Voyage Tech"]]).with_lexicon([], [])
    level_only = _evidence("远航科技海外市场市占率29.1%，欧洲份额约46%。")
    both = _evidence("远航科技海外市场市占率29.1%，同比提升2.1pct，欧洲份额约46%。")
    for text, language in [
        ("By how many percentage points did Voyage Tech's overseas market share rise?", "en"),
        ("远航科技海外市场市占率同比提升了多少个百分点？", "zh"),
    ]:
        question = Question.parse(text, language, glossary)
        assert question.asked_kind == "percentage_points"
        picked = best_quantity(question, [both])
        assert picked is not None and picked[1].raw == "2.1pct", picked
        assert best_quantity(question, [level_only]) is None
        assert coverage_gap(question, [level_only]) is not None


@pytest.mark.unit
def test_how_many_things_is_never_answered_by_a_share():
    glossary = Glossary(entities=[["远航汽车", "Voyage Auto"]]).with_lexicon([], [])
    share_only = _evidence("远航汽车装车111.21GWh、市占率22.57%，同比下降2.1pct。")
    question = Question.parse("How many vehicles did Voyage Auto sell last month?", "en", glossary)
    picked = best_quantity(question, [share_only])
    assert picked is None or picked[1].kind not in ("percent", "percentage_points"), picked
    stock = _evidence("远航汽车经销商库存约1.6个月，低于行业平均的1.9个月。")
    assert best_quantity(question, [stock]) is None  # a duration is no count of vehicles
    months = Question.parse("How many months of stock do Voyage Auto dealers hold?", "en", glossary)
    assert best_quantity(months, [stock]) is not None
    times = Question.parse(
        "How many times Voyage Auto's 2024 sales were its 2023 sales?", "en", glossary
    )
    assert times.asked_kind == "multiple"  # "how many times" asks a multiple, no count of times


@pytest.mark.unit
def test_a_year_asked_relative_to_the_note_picks_that_years_figure():
    from rag.plan.question import relative_year

    assert (relative_year("明年归母净利润预测是多少"), relative_year("last year's revenue")) == (
        1,
        -1,
    )
    assert relative_year("2026年和明年") is None  # a year by number decides
    glossary = Glossary(entities=[["远航医疗", "Voyage Medical"]]).with_lexicon([], [])
    forecast = replace(
        _evidence("我们预测远航医疗今年、明年归母净利润分别为110.93亿元、126.16亿元。"),
        date="2025-10-30",
    )
    for text, language, raw in [
        ("远航医疗明年归母净利润预测是多少？", "zh", "126.16亿元"),
        ("What is Voyage Medical's net profit forecast for next year?", "en", "126.16亿元"),
        ("远航医疗今年归母净利润预测是多少？", "zh", "110.93亿元"),
    ]:
        picked = best_quantity(Question.parse(text, language, glossary), [forecast])
        assert picked is not None and picked[1].raw == raw, (text, picked)


@pytest.mark.unit
def test_a_figure_asked_by_words_no_metric_names_is_not_the_companys_revenue():
    glossary = Glossary(entities=[["远航科技", "Voyage Tech"]]).with_lexicon([], [])
    row = _evidence("Voyage Tech reported revenue of RMB 192.87bn in 3Q25, up 15%.")
    bought = _evidence("Voyage Tech bought back HK$21.1bn of shares in 3Q25.")
    question = Question.parse("How much stock did Voyage Tech buy back in 3Q25?", "en", glossary)
    assert not question.metrics
    picked = best_quantity(question, [row])
    assert picked is None or "192.87" not in picked[1].raw, picked
    picked = best_quantity(question, [row, bought])
    assert picked is not None and picked[1].raw == "HK$21.1bn", picked


@pytest.mark.unit
def test_a_part_asked_in_chinese_is_found_in_its_plural_english_name_a_few_words_on():
    glossary = Glossary(entities=[["NetEase", "网易"]]).with_lexicon([], [])
    results = _evidence(
        "NetEase net revenues were RMB 28.36bn in 3Q25: games and related value-added "
        "services RMB 23.33bn, Youdao RMB 1.63bn.",
        entities=("NetEase",),
    )
    question = Question.parse("网易三季度游戏收入是多少？", "zh", glossary)
    picked = best_quantity(question, [results])
    assert picked is not None and picked[1].raw == "RMB 23.33bn", picked


@pytest.mark.unit
def test_a_sum_of_money_asked_is_never_a_count_nor_a_figure_of_the_companys_accounts():
    glossary = Glossary().with_lexicon([], [])
    question = Question.parse(
        "What was the total value of out-licensing deals in the third quarter?", "en", glossary
    )
    assert question.asked_kind == "money" and not question.metrics
    approvals = _evidence("第三季度新获批上市的1类创新药达24款。")
    sector = _evidence("第三季度板块收入763.1亿元，同比下降18.4%。")
    assert best_quantity(question, [approvals]) is None  # 24 drugs: a count, no value
    assert best_quantity(question, [sector]) is None  # a sector's revenue, a word not asked


@pytest.mark.unit
def test_a_metric_a_word_the_question_does_not_ask_narrows_answers_only_when_nothing_else_does():
    glossary = Glossary(entities=[["Harbour Bank", "HBK"]]).with_lexicon([], [])
    text = (
        "Key risks: retail credit deterioration (HBK's retail NPL ratio rose 7bp to 1.03%). "
        "Harbour Bank's asset quality held up: the NPL ratio was 0.93%, 2bp lower than at end-2024."
    )
    doc = Document(id="h", page_content=text, metadata={"id": "h", "source": "hbk.md"})
    asked = Question.parse("What was Harbour Bank's NPL ratio at end-June 2025?", "en", glossary)
    picked = best_quantity(asked, select_evidence(asked, [doc], glossary))
    assert picked is not None and picked[1].raw == "0.93%"  # not the retail book's 1.03%
    retail = Question.parse("What was Harbour Bank's retail NPL ratio?", "en", glossary)
    picked = best_quantity(retail, select_evidence(retail, [doc], glossary))
    assert picked is not None and picked[1].raw == "1.03%"
    alone = Document(id="r", page_content=text.split(". ")[0] + ".", metadata={"id": "r"})
    picked = best_quantity(asked, select_evidence(asked, [alone], glossary))
    assert picked is not None and picked[1].raw == "1.03%"  # the one figure stated of it


@pytest.mark.unit
def test_a_sectors_figure_after_a_sentence_about_a_company_is_not_its_answer():
    glossary = Glossary(entities=[["Harbour Bank", "港湾银行"]]).with_lexicon([], [])
    text = (
        "Harbour Bank (港湾银行) stood out with high single-digit growth in revenue. Asset quality "
        "was stable: the banking sector's aggregate NPL ratio was 1.49% at end-June."
    )
    doc = Document(id="s", page_content=text, metadata={"id": "s", "source": "banks.md"})
    asked = Question.parse("What was Harbour Bank's NPL ratio at end-June 2025?", "en", glossary)
    assert best_quantity(asked, select_evidence(asked, [doc], glossary)) is None


@pytest.mark.unit
def test_companies_listed_by_english_names_the_notes_write_in_chinese_get_one_figure_each():
    from rag.plan.question import per_entity_questions, text_about
    from rag.render.answer import per_entity_answer

    glossary = Glossary(
        entities=[["南方航空", "600029.SH"], ["中国国航", "601111.SH"]]
    ).with_lexicon([], [])
    question = Question.parse(
        "What were the Q3 net profits of China Southern and Air China?", "en", glossary
    )
    subs = per_entity_questions(question)
    assert [s.entities[0][0] for s in subs] == ["南方航空", "中国国航"]
    assert "China Southern" not in text_about(question, subs[1].entities[0])
    text = "南方航空三季度归母净利润38.40亿元。盈利预测：南方航空今年归母净利润9.46亿元。"
    doc = Document(id="a", page_content=text, metadata={"id": "a", "source": "air.md"})
    parts = []
    for sub in subs:
        evidence = select_evidence(sub, [doc], glossary)
        parts.append((sub, evidence, best_quantity(sub, evidence)))
    answer, _ = per_entity_answer(parts, "en")
    assert answer.startswith("China Southern: RMB 3.84 billion"), answer
    assert "Air China: not in the notes" in answer
    # This year's full-year forecast is no answer for a quarter, when the quarter's is missing.
    dated = {"id": "f", "date": "2025-11-04"}
    forecast = Document(id="f", page_content=text.split("。", 1)[1], metadata=dated)
    evidence = select_evidence(subs[0], [forecast], glossary)
    assert best_quantity(subs[0], evidence) is None


def test_a_name_of_several_words_is_not_written_by_a_longer_name_that_ends_with_it():
    from rag.pick.choose import _written_apart

    text = "Agricultural Bank of China (农业银行) reported; so did Harbour Bank."
    assert not _written_apart(text, "Bank of China")
    assert _written_apart("Profits at Bank of China rose.", "Bank of China")
    assert _written_apart("Bank of China reported.", "Bank of China")
    assert _written_apart(text, "Harbour Bank") and _written_apart(text, "农业银行")


def test_an_english_figure_answers_a_part_only_where_its_clause_names_that_part():
    from rag.numbers import extract_quantities
    from rag.pick.choose import _clause_names_part

    sentence = (
        "Harbour Bank reported H1 operating income of RMB 40.1bn, and net interest income was "
        "RMB 30.2bn."
    )
    total, interest = extract_quantities(sentence)[:2]
    part = [{"interest"}]
    assert not _clause_names_part(sentence, total, part)
    assert _clause_names_part(sentence, interest, part)
    # A Chinese sentence names its parts in words the dictionary may not give: not judged.
    zh = "公司营业收入100亿元，其中利息净收入80亿元。"
    assert _clause_names_part(zh, extract_quantities(zh)[0], part)


@pytest.mark.unit
def test_a_year_asked_with_no_part_of_it_takes_the_years_figure_a_forecast_never_a_quarters():
    glossary = Glossary(entities=[["Harbour Lines"]]).with_lexicon([], [])
    quarter = replace(
        _evidence("Harbour Lines reported 3Q25 net profit attributable of RMB 9.53bn."),
        date="2025-11-10",
    )
    year = replace(
        _evidence("We forecast Harbour Lines' net profit attributable at RMB 33.8bn this year."),
        date="2025-11-10",
    )
    forecast = Question.parse(
        "What is the 2025 net profit forecast for Harbour Lines?", "en", glossary
    )
    picked = best_quantity(forecast, [quarter, year])
    assert picked is not None and picked[1].raw == "RMB 33.8bn", picked
    assert best_quantity(forecast, [quarter]) is None  # a quarter's profit is no forecast
    asked = Question.parse("What was Harbour Lines' 2024 net profit?", "en", glossary)
    assert best_quantity(asked, [quarter]) is None  # 3Q25's year is 2025
    coded = Question.parse("What was Harbour Lines' 3Q24 net profit?", "en", glossary)
    assert best_quantity(coded, [quarter]) is None
    assert coverage_gap(coded, [quarter]) == "year"  # the notes speak of 2025 only


@pytest.mark.unit
def test_a_figure_set_against_a_per_unit_one_is_per_unit_too():
    from rag.numbers import extract_quantities
    from rag.plan.question import relative_year, states_per_unit

    text = "Revenue per TEU was US$1,280 in 3Q25, against US$1,759 in 3Q24; cash US$5bn."
    stated = {q.raw: states_per_unit(text, q) for q in extract_quantities(text)}
    assert stated == {"US$1,280": True, "US$1,759": True, "US$5bn": False}
    assert relative_year("What was its profit a year earlier?") == -1
    assert relative_year("What was its 3Q24 profit a year earlier?") is None  # 3Q24 decides


@pytest.mark.unit
def test_a_comparisons_base_answers_for_its_own_period_and_its_clause_continues_the_part():
    glossary = Glossary(entities=[["Voyage Tech"]]).with_lexicon([], [])
    cloud = _evidence(
        "Voyage Tech Cloud Group revenue rose 34% to RMB 39.82bn, accelerating from 26% in the "
        "June quarter, and AI product revenue grew at triple digits."
    )
    question = Question.parse(
        "What was Voyage Tech's cloud revenue growth in the June quarter?", "en", glossary
    )
    from rag.pick.choose import _clause_names_part, _states_period

    based = replace(cloud, spans=frozenset({"q3"}))  # the base's period is no span of its own
    assert _states_period(based, question)  # but its figure is dated to it
    base = next(q for q in cloud.quantities if q.raw == "26%")
    assert _clause_names_part(cloud.text, base, [{"cloud"}])  # "accelerating from" goes on
    ads = "Cloud revenue rose 34%, ads 26%"
    assert not _clause_names_part(
        ads, base.model_copy(update={"start": ads.index("26%")}), [{"cloud"}]
    )


@pytest.mark.unit
def test_a_group_of_companies_asked_takes_no_one_companys_figure():
    from langchain_core.documents import Document

    glossary = Glossary(entities=[["Harbour Bank"], ["River Bank"]]).with_lexicon([], [])
    doc = Document(
        id="b",
        page_content="Harbour Bank's net profit attributable was RMB 139.51bn in H1 2025.",
        metadata={"id": "b", "source": "banks.md", "date": "2025-09-01"},
    )
    for text in (
        "What was the combined net profit of the big four state-owned banks in H1 2025?",
        "What was the average H1 2025 net profit of the four banks?",
    ):
        question = Question.parse(text, "en", glossary)
        assert best_quantity(question, select_evidence(question, [doc], glossary)) is None, text
    zh = Question.parse("四家银行上半年归母净利润合计是多少？", "zh", glossary)
    assert zh.asks_aggregate
    # which one of the group is asked: its figures are the answer
    assert not Question.parse("Which of the four banks earned most?", "en", glossary).asks_aggregate
    assert not Question.parse("前三季度营收是多少？", "zh", glossary).asks_aggregate
    assert not Question.parse(
        "What was revenue in the first three quarters?", "en", glossary
    ).asks_aggregate


@pytest.mark.unit
def test_a_sentence_under_a_question_listing_several_companies_is_about_its_own_subject():
    names = [["远航汽车", "远航", "Voyage Auto"], ["青鸟汽车", "青鸟", "Bluebird"]]
    glossary = GLOSSARY.with_lexicon(names, [])
    text = (
        "问：远航、青鸟分别怎么看？\n\n答：远航汽车10月交付3万辆。二季度交付8万辆，车辆毛利率19.4%。"
        "\n\n青鸟汽车10月交付4万辆。二季度交付6万辆，毛利率26.4%。"
    )
    metadata = {"source": "ev.md", "title": "新能源车纪要", "date": "2025-11-05", "start": 0}
    doc = Document(
        page_content=text, metadata={**metadata, "section": "问：远航、青鸟分别怎么看？"}
    )
    for asked, answer in [("Bluebird", "26.4%"), ("Voyage Auto", "19.4%")]:
        # "vehicle margin": only 远航's sentence writes 车辆毛利率; it is still not 青鸟's
        question = Question.parse(f"What was {asked}'s vehicle margin in Q2 2025?", "en", glossary)
        evidence = select_evidence(question, [doc], glossary)
        # the quarter with no year written is the 2025 note's own
        assert coverage_gap(question, evidence) is None
        assert best_quantity(question, evidence)[1].raw == answer


@pytest.mark.unit
def test_a_figure_of_a_sentence_writing_no_year_is_the_notes_years_not_another():
    glossary = GLOSSARY.with_lexicon([["远航时代", "远航"]], [])
    text = "三季度远航时代归母净利润185.49亿元、同比增长41.21%。作为参照，公司2024年全年归母净利润为507.45亿元。"
    doc = Document(
        page_content=text,
        metadata={
            "source": "v.md",
            "title": "远航时代三季报点评",
            "date": "2025-10-21",
            "start": 0,
        },
    )
    for asked, answer in [
        ("远航时代三季度归母净利润是多少？", "185.49亿元"),
        ("远航时代2025年三季度归母净利润是多少？", "185.49亿元"),
        ("远航时代2024年三季度归母净利润是多少？", None),  # not stated: never 2025's
        ("远航时代去年三季度归母净利润是多少？", None),  # 去年 of a 2025 note
    ]:
        assert _picked(asked, [doc], glossary, "zh") == answer, asked


@pytest.mark.unit
def test_a_bracketed_change_after_a_parts_amount_is_that_parts():
    glossary = GLOSSARY.with_lexicon([["Harbour Tech", "港湾科技"]], [])
    text = (
        "Harbour Tech net revenues were RMB 28.36bn (+8.2% YoY): games RMB 23.33bn (+11.8%) and "
        "Harbour Tech Cloud Music RMB 1.96bn (-1.8%)."
    )
    doc = Document(
        page_content=text,
        metadata={"source": "h.md", "title": "Harbour Tech 3Q25", "date": "2025-11-20", "start": 0},
    )
    asked = "How did Harbour Tech Cloud Music's revenue change year on year in 3Q25?"
    assert _picked(asked, [doc], glossary) == "-1.8%"  # not the company's +8.2%


@pytest.mark.unit
def test_a_rates_level_is_no_answer_to_how_much_it_changed():
    glossary = GLOSSARY.with_lexicon([["Harbour Bank", "港湾银行"]], [])
    doc = Document(
        page_content="| Bank | NIM |\n|---|---|\n| Harbour Bank | 1.30% |\n\n"
        "Harbour Bank's NIM was 1.30%, down 12bp from full-year 2024 and down 13bp YoY.",
        metadata={"source": "b.md", "title": "Banks H1 2025", "date": "2025-09-05", "start": 0},
    )
    asked = "How much did Harbour Bank's NIM fall year on year in H1 2025?"
    assert _picked(asked, [doc], glossary) == "13bp"


@pytest.mark.unit
def test_a_variant_the_question_does_not_name_answers_only_when_nothing_else_does():
    glossary = GLOSSARY.with_lexicon([["Harbour Bank", "港湾银行"]], [])
    variant = "Key risks: retail credit (Harbour Bank's retail NPL ratio rose 7bp to 1.03%)."
    plain = "Asset quality remained the best: the NPL ratio was 0.93%, 2bp lower."
    doc = Document(
        page_content=f"## Harbour Bank\n\n{plain}\n\n## Outlook\n\n{variant}",
        metadata={
            "source": "b.md",
            "title": "Harbour Bank H1 2025",
            "date": "2025-09-05",
            "start": 0,
        },
    )
    assert _picked("What was Harbour Bank's NPL ratio?", [doc], glossary) == "0.93%"
    assert _picked("What was Harbour Bank's retail NPL ratio?", [doc], glossary) == "1.03%"


@pytest.mark.unit
def test_a_total_asked_is_no_amount_per_unit_and_an_order_is_no_unit():
    glossary = Glossary(entities=[["远航时代", "Voyage"]]).with_lexicon([], [])
    text = (
        "远航时代中期每10股派发现金分红5.00元（含税），合计派发约12.00亿元。全年揽获订单近14亿元。"
    )
    doc = _note(text)
    assert _picked("远航时代中期分红总额是多少？", [doc], glossary, "zh") == "约12.00亿元"
    assert _picked("远航时代全年订单总额是多少？", [doc], glossary, "zh") == "14亿元"


@pytest.mark.unit
def test_a_multiple_asked_is_never_answered_by_a_share_beside_it():
    glossary = Glossary(entities=[["远航时代", "Voyage"]]).with_lexicon([], [])
    text = "远航时代2025年营收17.08亿元，同比增长335%；人形机器人收入占主营业务收入的51.53%。"
    doc = _note(text)
    assert _picked("远航时代2025年的营收是2022年的多少倍？", [doc], glossary, "zh") is None


@pytest.mark.unit
def test_a_business_line_asked_takes_no_company_total_and_a_share_no_amount():
    glossary = Glossary(entities=[["远航时代", "Voyage"]]).with_lexicon([], [])
    text = "远航时代三季度营收192.87亿元，同比增长15%。广告收入36.2亿元，同比增长21%。"
    doc = _note(text)
    assert _picked("远航时代三季度广告（营销服务）收入多少？", [doc], glossary, "zh") == "36.2亿元"
    total_only = _note("远航时代三季度营收192.87亿元，同比增长15%。")
    assert _picked("远航时代三季度广告收入多少？", [total_only], glossary, "zh") is None
    fees = _note("Voyage's net fee income was RMB 37.60bn, with wealth fees up 12% to RMB 12.80bn.")
    assert _picked("Voyage's wealth fees as a % of net fee income?", [fees], glossary) is None


@pytest.mark.unit
def test_a_bare_number_of_the_metric_asked_answers_a_count_and_as_of_frames_nothing():
    glossary = Glossary(entities=[["Voyage Life", "远航人寿"]]).with_lexicon([], [])
    text = "Voyage Life's agency force stood at 354,000 at end-September. It has 24 branches."
    doc = _note(text)
    assert _picked("截至9月末远航人寿的代理人队伍有多少人？", [doc], glossary, "zh") == "354,000"
    question = Question.parse(
        "How many agents did Voyage Life have at end-September?", "en", glossary
    )
    evidence = select_evidence(question, [doc], glossary)
    assert coverage_gap(question, evidence) is None
    assert Question.parse("截至9月末远航人寿的代理人有多少？", "zh", glossary).subject_words == ()


@pytest.mark.unit
def test_a_question_naming_no_metric_takes_no_table_cell_of_a_metric_it_never_words():
    glossary = Glossary(entities=[["远航航空", "600999.SH"]]).with_lexicon([], [])
    table = (
        "| 公司 | 代码 | 营业收入（亿元） | 客座率 |\n|---|---|---|---|\n"
        "| 远航航空 | 600999.SH | 1064.14 | 86.9% |\n"
    )
    doc = Document(id="t", page_content=table, metadata={"id": "t", "source": "air.md"})
    assert _picked("600999.SH fleet size as of end-September 2025?", [doc], glossary) is None
    assert _picked("600999.SH load factor in 9M25?", [doc], glossary) == "86.9%"


@pytest.mark.unit
def test_which_province_leads_is_answered_first_by_the_sentence_naming_the_leader():
    glossary = Glossary(entities=[["远航科技", "Voyage"]]).with_lexicon([], [])
    text = (
        "2025年1-9月全国新增光伏并网容量239.53GW，其中集中式光伏111.59GW。"
        "分省看，前三季度江苏新增24.47GW居首，新疆新增23.28GW次之。"
    )
    doc = Document(page_content=text, metadata={"source": "s.md", "title": "光伏周报", "start": 0})
    question = Question.parse("今年1-9月哪个省新增光伏装机排第一？", "zh", glossary)
    evidence = select_evidence(question, [doc], glossary)
    assert evidence[0].text.startswith("分省看")


@pytest.mark.unit
def test_an_industry_total_is_never_one_companys_figure_and_is_counted_on_in_its_paragraph():
    glossary = Glossary(entities=[["远航快运", "Voyage Express"]]).with_lexicon([], [])
    text = (
        "答：10月全国快递业务量176.0亿件，同比增长7.9%。三季度行业合计494.4亿件，同比增长13.4%。\n"
        "远航快运三季度件量95.73亿件，同比增长9.8%。"
    )
    question = Question.parse("三季度全国快递业务量一共多少亿件？", "zh", glossary)
    call = Document(page_content=text, metadata={"source": "v.md", "title": "快递行业纪要"})
    evidence = select_evidence(question, [call], glossary)
    picked = best_quantity(question, evidence)
    assert picked is not None and picked[1].raw == "494.4亿件", picked
    # the paragraph's measure frames only figures in its unit; a company's never answers
    only_company = "远航快运三季度件量95.73亿件，同比增长9.8%。"
    call = Document(page_content=only_company, metadata={"source": "v.md", "title": "快递行业纪要"})
    evidence = select_evidence(question, [call], glossary)
    assert best_quantity(question, evidence) is None


@pytest.mark.unit
def test_the_note_and_its_parts_name_no_subject():
    glossary = Glossary(entities=[["远航股份"], ["青鸟股份"]]).with_lexicon([], [])
    parsed = Question.parse("按表格里1-10月累计销量算，远航是青鸟的几倍？", "zh", glossary)
    assert "表格" not in parsed.subject_words
