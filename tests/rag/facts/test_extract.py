"""rag/facts/extract.py: each figure's entity, metric, period and kind, read from sentence structure
and table labels (sentences written for these tests, in the shapes of broker notes)."""

import pytest

from rag.facts.extract import extract_facts, facts_from_json, facts_json
from rag.facts.lexicon import subjects_before
from rag.glossary import Glossary
from rag.plan.question import general_metric_vocab

GLOSSARY = Glossary(
    entities=[["宁德时代", "CATL"], ["比亚迪", "BYD"], ["Ping An"], ["China Life"], ["CPIC"],
              ["远航科技"], ["青禾股份"], ["谷歌"], ["Meta"]]
)  # fmt: skip


def _facts(text: str, **kwargs):
    return {
        f.quantity.raw: f for f in extract_facts(text, GLOSSARY, general_metric_vocab(), **kwargs)
    }


def test_each_clause_figure_belongs_to_its_clause_subject_not_the_nearest_name():
    facts = _facts("宁德时代毛利率为24.5%，比亚迪毛利率为19.4%。")
    assert facts["24.5%"].entity == "宁德时代" and facts["19.4%"].entity == "比亚迪"
    assert facts["19.4%"].metric == "毛利率" and facts["19.4%"].own_clause


def test_a_change_keeps_the_metric_and_subject_of_the_clause_before():
    facts = _facts("三季度比亚迪归母净利润78.23亿元、同比下降32.60%，环比增长12.1%。")
    level, yoy, qoq = facts["78.23亿元"], facts["32.60%"], facts["12.1%"]
    assert (level.change, yoy.change, qoq.change) == (None, "yoy", "qoq")
    assert {level.entity, yoy.entity, qoq.entity} == {"比亚迪"}
    assert yoy.metric == "归母净利润" and level.period == "q3"


def test_a_name_in_parentheses_after_a_figure_owns_it():
    facts = _facts("远航科技涨幅高达38.2%，涨幅最低的也有9.75%（青禾股份）。")
    assert facts["38.2%"].entity == "远航科技" and facts["9.75%"].entity == "青禾股份"


def test_a_figure_of_several_companies_together_belongs_to_none_alone():
    assert _facts("谷歌和Meta的液冷需求合计约30-50亿美元。")["约30-50亿美元"].entity is None


def test_a_table_cell_belongs_to_its_column_company_and_row_metric():
    table = (
        "| Metric | Ping An | China Life | CPIC |\n|---|---|---|---|\n"
        "| P&C combined ratio | 97.0% | n/a | 97.6% |\n"
        "| Net profit attributable (9M25) | 132.9 | 167.8 | 45.7 |\n"
    )
    facts = extract_facts(table, GLOSSARY, general_metric_vocab())
    by_entity = {(f.entity, f.quantity.raw) for f in facts}
    assert ("CPIC", "97.6%") in by_entity and ("China Life", "167.8") in by_entity
    assert not any(f.entity == "China Life" and "%" in f.quantity.raw for f in facts)
    assert all(f.quantity.raw != "9M" for f in facts)  # the row label names the row
    assert {f.period for f in facts if f.quantity.raw == "167.8"} == {"9m"}


def test_a_sentence_naming_no_one_keeps_the_subject_before_and_facts_round_trip():
    facts = extract_facts(
        "CATL reported revenue of RMB 283.1bn. Net profit rose 36.2% year on year.",
        GLOSSARY,
        general_metric_vocab(),
    )
    assert [f.entity for f in facts] == ["宁德时代", "宁德时代"]
    assert facts[1].change == "yoy"
    assert facts_from_json(facts_json(facts)) == facts


def test_a_sentence_that_names_no_period_takes_its_sections_heading_period():
    facts = _facts(
        "CPIC's operating revenue was RMB344.90bn.", heading="Wrap › Key metrics, H1 2025"
    )
    assert facts["RMB344.90bn"].period == "h1"
    assert _facts("CPIC's operating revenue was RMB344.90bn.")["RMB344.90bn"].period is None


def test_figures_listed_respectively_take_the_years_listed_in_order():
    facts = _facts(
        "我们预测远航科技今年、明年归母净利润分别为110.93亿元、126.16亿元。", doc_year=2025
    )
    assert (facts["110.93亿元"].quantity.year, facts["126.16亿元"].quantity.year) == (2025, 2026)
    english = _facts(
        "CPIC expects revenue of RMB 10bn and RMB 12bn in 2026 and 2027, respectively."
    )
    assert (english["RMB 10bn"].quantity.year, english["RMB 12bn"].quantity.year) == (2026, 2027)


def test_a_period_written_after_another_amount_dates_that_one_and_headings_frame_the_first():
    text = (
        "CPIC NBV was RMB35,724 million, up 46.2% YoY, after RMB22,335 million in the first half."
    )
    facts = _facts(text, heading="China insurers 9M25 wrap › CPIC")
    assert facts["RMB22,335 million"].period == "h1"
    assert facts["RMB35,724 million"].period == "9m"  # the note's 9M25, not the first half
    assert _facts("CPIC revenue was RMB 10bn, up 5%, in the first half.")["RMB 10bn"].period == "h1"


def test_percentage_points_always_state_a_change():
    facts = _facts("CPIC raised its share of regular premiums by more than 45pp.")
    assert facts["more than 45pp"].change is not None


def test_a_period_written_in_a_later_clause_dates_what_follows_it_not_the_figure_before():
    text = (
        "分产品看，第三季度远航科技整机收入29.52亿元，同比增长2.60%，前三季度该产品海外占比70%；"
        "配件收入36.34亿元，同比下降2.81%，前三季度海外收入占比为37%。"
    )
    facts = _facts(text)
    assert facts["29.52亿元"].period == "q3"
    # The clause after the semicolon keeps the quarter its sentence opened with, and the
    # 前三季度 written after it dates only the share that follows.
    assert facts["36.34亿元"].period == "q3"
    assert facts["37%"].period == "9m"


@pytest.mark.unit
def test_each_item_of_a_list_of_companies_and_figures_is_its_own_companys():
    glossary = Glossary(entities=[["金风科技"], ["远景能源"], ["明阳智能"]]).with_lexicon([], [])
    vocab = frozenset({"装机", "份额", "出货"})
    text = "其中金风科技约1.9万MW、远景能源约1.6万MW，明阳智能新增装机约1.1万MW。"
    facts = {f.quantity.raw: f for f in extract_facts(text, glossary, vocab)}
    assert facts["约1.9万MW"].entity == "金风科技"
    assert facts["约1.6万MW"].entity == "远景能源"  # not the clause's first name
    assert facts["约1.1万MW"].entity == "明阳智能"


@pytest.mark.unit
def test_an_amount_never_takes_a_proportions_metric_word():
    glossary = Glossary(entities=[["金风科技"], ["远景能源"]]).with_lexicon([], [])
    vocab = frozenset({"出货", "份额"})
    text = "金风科技全年出货1200台、市场份额约25%，远景能源以900台、约19%的份额排名第二。"
    facts = {f.quantity.raw: f for f in extract_facts(text, glossary, vocab)}
    assert facts["900台"].metric == "出货"  # a count is a shipment, not a share
    assert facts["900台"].entity == "远景能源"
    assert facts["约19%"].metric == "份额"


@pytest.mark.unit
def test_the_agent_of_a_passive_owns_the_figures_after_it():
    glossary = Glossary(entities=[["东方电气"], ["上海电气"]]).with_lexicon([], [])
    vocab = frozenset({"中标", "单价"})
    text = "标段1为50台燃气轮机，由东方电气中标，金额12亿元，折合单价约2400万元/台；"
    facts = {f.quantity.raw: f for f in extract_facts(text, glossary, vocab)}
    assert facts["12亿元"].entity == "东方电气" and facts["12亿元"].metric == "中标"
    assert facts["约2400万元/台"].entity == "东方电气"


@pytest.mark.unit
def test_a_sentence_naming_no_metric_continues_the_one_before():
    glossary = Glossary(entities=[["宁德时代"]]).with_lexicon([], [])
    vocab = frozenset({"市场规模", "出货"})
    text = (
        "全球储能电池市场规模2024年约300亿美元。今年约420亿美元。明年预计约550亿美元。"
        "Q：出货怎么看？明年预计约60万台。"
    )
    facts = {f.quantity.raw: f for f in extract_facts(text, glossary, vocab, doc_year=2025)}
    assert facts["约420亿美元"].metric == "市场规模"
    assert facts["约550亿美元"].metric == "市场规模"
    assert facts["约60万台"].metric is None  # a new question: nothing carried into its answer


@pytest.mark.unit
def test_a_metric_word_inside_a_company_name_measures_nothing():
    glossary = Glossary(entities=[["COSCO Shipping Ports"], ["Harbour Revenue Group"]])
    vocab = general_metric_vocab() | {"shipping"}  # a user's term ("shipping" = shipments)
    table = (
        "| Company | Revenue | YoY | Net profit attributable | YoY |\n|---|---|---|---|---|\n"
        "| COSCO Shipping Ports | US$1.23bn | +11.4% | US$264.3m | +19.6% |\n"
    )
    facts = {f.quantity.raw: f for f in extract_facts(table, glossary, vocab)}
    # A change column measures the metric to its left, not a word of the row's name.
    assert (
        facts["11.4%"].metric == "revenue"
        and facts["US$264.3m"].metric == "net profit attributable"
    )
    assert facts["19.6%"].metric == "net profit attributable"
    sentence = extract_facts("Harbour Revenue Group handled 113.28m TEU.", glossary, vocab)
    assert [f.metric for f in sentence] == [None]


@pytest.mark.unit
def test_an_english_period_dates_the_figure_after_it_in_a_later_clause_not_those_before():
    facts = _facts(
        "CATL grew revenue 11.4% to US$1.23bn, although 3Q25 profit grew only 0.8% to US$82.5m."
    )
    assert facts["0.8%"].period == "q3"
    assert facts["11.4%"].period is None and facts["US$1.23bn"].period is None
    # "…RMB10bn, up 5%, for the nine months": written last, it dates the figures before it.
    tail = _facts("CATL's revenue was RMB10bn, up 5%, for the nine months.")
    assert tail["RMB10bn"].period == "9m"


@pytest.mark.unit
def test_a_percent_that_takes_an_amount_somewhere_is_a_change():
    facts = _facts(
        "BYD's revenue rose 11.4% to RMB 1.23bn and profit attributable 19.6% to RMB 264m."
    )
    assert facts["19.6%"].change == "change" and facts["11.4%"].change == "change"
    assert facts["RMB 264m"].change is None


def test_a_month_frames_the_next_sentences_but_a_comparison_base_does_not():
    facts = _facts(
        "远航科技10月货运量1,204万吨，同比增长8%；不过环比9月的1,150万吨只增长4.7%。"
        "其中国际航线货运量312万吨。"
    )
    assert facts["1,204万吨"].period == "m10"
    assert facts["1,150万吨"].period == "m09"  # the base, written before it
    assert facts["312万吨"].period == "m10"  # the month the text speaks of, not the base


def test_a_row_label_with_a_comma_of_its_own_keeps_its_unit_over_the_captions():
    table = (
        "表3：两家电池厂核心指标（单位：亿元，另注明者除外）\n"
        "| 指标 | 宁德时代 | 比亚迪 |\n|---|---|---|\n"
        "| 营业收入 | 2830.72 | 5662.66 |\n"
        "| 员工人数（人，年末） | 131988 | 900000 |\n"
    )
    facts = {f.quantity.raw: f for f in extract_facts(table, GLOSSARY, general_metric_vocab())}
    assert facts["2830.72"].quantity.kind == "money"
    assert facts["131988"].quantity.kind == "count" and facts["131988"].quantity.unit == "人"
    assert facts["900000"].entity == "比亚迪"


def test_a_heading_naming_several_companies_frames_its_section_with_none():
    text = "## 同业比较：宁德时代、比亚迪均实现增长\n\n板块前三季度装机量合计512GWh。"
    assert _facts(text)["512GWh"].entity is None
    # At ingest each chunk is given whom its text is about: a comparison section, no one.
    note = (
        "# 宁德时代三季报点评\n\n## 海外加速\n\n前三季度海外收入820亿元。\n\n"
        "## 同业比较：宁德时代、比亚迪均实现增长\n\n板块前三季度装机量合计512GWh。"
    )
    subject = subjects_before(note, [["宁德时代", "CATL"], ["比亚迪", "BYD"]], "宁德时代三季报点评")
    assert subject(note.index("前三季度海外")) == "宁德时代"  # the title's company
    assert subject(note.index("板块")) is None


@pytest.mark.unit
def test_a_transcripts_question_names_whom_its_answer_is_about():
    facts = _facts(
        "问：远航科技三季度的情况呢？\n\n答：三季度营业收入120.5亿元，同比增长8%。\n\n"
        "问：行业怎么看？\n\n答：行业规模约900亿元。"
    )
    assert facts["120.5亿元"].entity == "远航科技"
    assert facts["约900亿元"].entity is None  # a question naming no one carries no one


@pytest.mark.unit
def test_a_question_listing_several_parties_carries_none_of_them():
    facts = _facts(
        "问：新势力这边，甲汽车、乙汽车、比亚迪分别怎么看？\n\n答：甲汽车10月交付7万辆。"
    )
    assert facts["7万辆"].entity is None  # not 比亚迪, the one name the glossary knows


@pytest.mark.unit
def test_a_period_a_table_cell_states_is_its_own_not_its_columns():
    glossary = Glossary(entities=[["Harbour Lines", "HLI"]]).with_lexicon([], [])
    table = (
        "| Company | Code | 9M25 revenue | YoY | 9M25 net profit | YoY |\n"
        "|---|---|---|---|---|---|\n"
        "| HLI | 0999.HK | US$6.70bn | -8.3% | US$954m (1H25 only) | +14.5% |"
    )
    facts = extract_facts(table, glossary, general_metric_vocab())
    periods = {f.quantity.raw: f.period for f in facts}
    assert periods["US$6.70bn"] == "9m"
    assert periods["US$954m"] == "h1"  # a half-year's profit, never the nine months'
    assert periods["14.5%"] == "h1"  # and the change beside it is that half-year's change
    assert periods["-8.3%"] == "9m"  # a change column's period is its left neighbour's label's


@pytest.mark.unit
def test_a_change_column_is_of_the_period_its_left_neighbour_is_labelled_with():
    glossary = Glossary(entities=[["远航航空"]]).with_lexicon([], [])
    table = (
        "| 公司 | 前三季度营收（亿元） | 同比 | 三季度归母净利润（亿元） | 同比 |\n"
        "|---|---|---|---|---|\n"
        "| 远航航空 | 320.5 | +1.3% | 12.4 | -11.3% |"
    )
    facts = {f.quantity.raw: f for f in extract_facts(table, glossary, general_metric_vocab())}
    assert (facts["1.3%"].metric, facts["1.3%"].period, facts["1.3%"].change) == (
        "营收",
        "9m",
        "yoy",
    )
    assert (facts["-11.3%"].period, facts["-11.3%"].change) == ("q3", "yoy")


@pytest.mark.unit
def test_a_duration_is_a_figure_only_where_a_metric_of_its_clause_measures_it():
    glossary = Glossary(entities=[["远航汽车"]]).with_lexicon([], [])
    stocked = "远航汽车10月销量5万辆；远航汽车经销商库存约1.6个月，低于行业平均的1.9个月。"
    facts = extract_facts(stocked, glossary, general_metric_vocab())
    assert [(f.quantity.raw, f.metric, f.period) for f in facts] == [
        ("5万辆", "销量", "m10"),
        ("约1.6个月", "库存", "m10"),  # the industry's 1.9个月 names no metric of its own
    ]
    planned = "远航汽车营收增长10%，未来3个月将推出新车。"  # a span of time
    assert [f.quantity.raw for f in extract_facts(planned, glossary, general_metric_vocab())] == [
        "10%"
    ]


@pytest.mark.unit
def test_an_undated_figure_beside_last_years_for_the_same_period_is_this_years():
    glossary = Glossary().with_lexicon([], [])
    sentence = "9月新增装机回升至9.66GW，但仍远低于去年同期的20.89GW。"
    facts = extract_facts(sentence, glossary, general_metric_vocab(), doc_year=2025)
    assert [(f.quantity.raw, f.quantity.year, f.period) for f in facts] == [
        ("9.66GW", 2025, "m09"),
        ("20.89GW", 2024, "m09"),
    ]
    # With no year of the note to count from, nothing is dated.
    undated = extract_facts(sentence, glossary, general_metric_vocab())
    assert [f.quantity.year for f in undated] == [None, None]


def test_a_market_total_is_the_markets_not_the_company_the_chunk_is_about():
    glossary = GLOSSARY.with_lexicon([], [])  # with the shipped industry words
    text = (
        "1-9月国内动力电池累计装车量493.9GWh，同比增长42.5%；其中宁德时代装车210.67GWh。"
        "公司国内动力电池装车量继续提升，达到150.2GWh。"
    )
    facts = {
        f.quantity.raw: f
        for f in extract_facts(text, glossary, general_metric_vocab(), subject="宁德时代")
    }
    assert facts["493.9GWh"].entity is None  # the whole market's, though the note is CATL's
    assert facts["210.67GWh"].entity == "宁德时代"
    assert facts["150.2GWh"].entity == "宁德时代"  # "公司…": the company's own domestic figure


def test_a_period_written_after_a_comparisons_base_dates_the_base_only():
    facts = _facts(
        "宁德时代 Cloud revenue rose 34% to RMB 39.82bn, accelerating from 26% in the June quarter.",
        heading="3Q25 results",
    )
    assert facts["26%"].period == "q2"
    assert facts["RMB 39.82bn"].period == "q3" and facts["34%"].period == "q3"


def test_a_contrasted_aside_keeps_its_period_from_the_clauses_before_it():
    facts = _facts(
        "CATL handled 113.28m TEU in 9M25; third-quarter throughput was 38.98m TEU (+4.2%). "
        "Revenue rose 11.4% to US$1.23bn, although 3Q25 profit grew only 0.8% to US$82.5m.",
        heading="Ports 3Q25 Wrap",
    )
    assert facts["38.98m"].period == "q3" and facts["US$82.5m"].period == "q3"
    # Carried in from the sentence before, Q3 is the aside's own period: not the first clause's.
    assert facts["US$1.23bn"].period is None


def test_an_english_clause_with_a_new_subject_after_and_owns_its_figure():
    # "A did X 15% and B did Y 31.8%": B's clause opens at "and", its names in parentheses
    # written with commas inside them.
    facts = _facts(
        "Ping An (中国平安, 2318.HK) grew revenue 15% YoY and China Life (中国人寿, 2628.HK) "
        "lifted attributable profit 31.8%."
    )
    assert facts["15%"].entity == "Ping An" and facts["31.8%"].entity == "China Life"
    assert facts["31.8%"].own_clause


def test_names_joined_by_and_before_any_figure_share_the_figures():
    facts = _facts("Ping An and China Life grew premiums 15% and 8% in total.")
    assert facts["15%"].entity is None and facts["8%"].entity is None
    # unless the sentence says they are one each, in order
    facts = _facts("Ping An and China Life grew premiums 15% and 8% respectively.")
    assert (facts["15%"].entity, facts["8%"].entity) == ("Ping An", "China Life")


def test_a_chinese_period_in_a_later_clause_with_no_figure_dates_nothing_before_it():
    facts = _facts(
        "第三季度宁德时代营收100亿元。"
        "归母净利润13.01亿元，同比增长9.53%，单季增速低于前三季度平均水平。"
    )
    assert facts["13.01亿元"].period == "q3" and facts["9.53%"].period == "q3"


def test_english_change_verbs_beyond_rose_and_fell_state_changes():
    facts = _facts(
        "Ping An's agency NBV grew 23.3%, while bancassurance NBV jumped 170.9% and "
        "group-insurance NBV slipped 4.1%; the margin expanded 9.0pp to 30.6%."
    )
    assert {facts[r].change for r in ("23.3%", "170.9%", "4.1%")} == {"change"}
    assert facts["30.6%"].change is None  # the level reached ("to 30.6%")


@pytest.mark.unit
def test_a_sectors_aggregate_figure_is_no_companys_carried_into_it():
    glossary = Glossary(entities=[["Harbour Bank"]]).with_lexicon([], [])
    text = (
        "Harbour Bank stood out with high single-digit growth. Asset quality was stable: the "
        "regulator said the commercial banking sector's aggregate NPL ratio was 1.49% at "
        "end-June, with provision coverage of 211.97%. Its own NPL ratio was 0.76%."
    )
    owners = {
        f.quantity.raw: f.entity for f in extract_facts(text, glossary, general_metric_vocab())
    }
    assert owners["1.49%"] is None
    assert owners["211.97%"] is None  # a later clause naming no one: the sector's too
    assert owners["0.76%"] == "Harbour Bank"
    zh = "远航银行上半年营收增长8%。行业平均不良率为1.5%，公司不良率为0.8%。"
    owners = {
        f.quantity.raw: f.entity
        for f in extract_facts(
            zh, Glossary(entities=[["远航银行"]]).with_lexicon([], []), general_metric_vocab()
        )
    }
    assert owners["1.5%"] is None and owners["0.8%"] == "远航银行"


@pytest.mark.unit
def test_a_period_in_a_bracket_with_its_own_figure_dates_that_figure_only():
    glossary = Glossary(entities=[["Voyage Tech"]]).with_lexicon([], [])
    text = "Voyage Tech bought back HK$21.1bn of shares in the quarter (2Q25: HK$19.4bn)."
    periods = {
        f.quantity.raw: f.period for f in extract_facts(text, glossary, general_metric_vocab())
    }
    assert periods["HK$19.4bn"] == "q2" and periods["HK$21.1bn"] != "q2"
    own = "Voyage Tech booked US$954m (1H25 only) of profit."
    assert [f.period for f in extract_facts(own, glossary, general_metric_vocab())] == ["h1"]


@pytest.mark.unit
def test_this_year_or_next_year_named_with_a_figure_is_a_whole_year():
    glossary = Glossary(entities=[["Voyage Tech"], ["远航科技"]]).with_lexicon([], [])
    text = (
        "We expect Voyage Tech's ad growth to stay near 20% in 4Q25 and forecast net profit of "
        "RMB 262bn this year and RMB 295bn next year."
    )
    facts = {
        f.quantity.raw: f
        for f in extract_facts(text, glossary, general_metric_vocab(), doc_year=2025)
    }
    assert facts["RMB 262bn"].period == facts["RMB 295bn"].period == "fy"  # not 4Q25's
    zh = "三季度远航科技归母净利润38.4亿元。盈利预测：远航科技今年归母净利润9.46亿元、明年71.05亿元。"
    facts = {
        f.quantity.raw: f
        for f in extract_facts(zh, glossary, general_metric_vocab(), doc_year=2025)
    }
    assert facts["38.4亿元"].period == "q3"
    assert facts["9.46亿元"].period == "fy"


@pytest.mark.unit
def test_a_companys_domestic_account_of_an_industry_stays_the_companys():
    glossary = Glossary(entities=[["Voyage Tech"]]).with_lexicon([], [["游戏", "games"]])
    text = (
        "Voyage Tech grew revenue 15%. Domestic games revenue grew 15% to RMB 42.8bn. "
        "The domestic games market grew 7% to RMB 250bn."
    )
    owners = {
        f.quantity.raw: f.entity for f in extract_facts(text, glossary, general_metric_vocab())
    }
    assert owners["RMB 42.8bn"] == "Voyage Tech"
    assert owners["RMB 250bn"] is None  # the market's


def test_a_metric_word_of_two_senses_takes_the_sense_its_note_gives_no_other_name():
    from rag.facts.extract import Fact, read_senses
    from rag.numbers import extract_quantities

    def fact(metric: str) -> Fact:
        return Fact(sentence=0, quantity=extract_quantities("RMB 1.3bn")[0], metric=metric)

    facts = {
        "bank-1": [fact("operating income"), fact("net profit attributable")],
        "maker-1": [fact("revenue")],
        "maker-2": [fact("operating income")],
    }
    read = read_senses(facts, {"bank-1": "bank.md", "maker-1": "maker.md", "maker-2": "maker.md"})
    assert [f.sense for f in read["bank-1"]] == ["营业收入", None]
    assert [f.sense for f in read["maker-2"]] == [None]  # the note states revenue besides
    bank = read["bank-1"][0]
    assert bank.metric_names("港湾银行上半年营收是多少？") == {"营业收入"}
    assert bank.metric_names("What was its operating income?") == {"营业收入", "operating income"}


def test_periods_listed_then_given_a_figure_each_date_one_figure_each():
    from rag.facts.extract import _respective_periods
    from rag.numbers import extract_quantities

    for sentence, spans in (
        (
            "6月、7月、8月分别回落至14.36GW、11.04GW、7.36GW，9月回升至9.66GW。",
            ["m06", "m07", "m08"],
        ),
        (
            "Revenue in 1Q25, 2Q25 and 3Q25 was RMB 10bn, RMB 12bn and RMB 14bn respectively.",
            ["q1", "q2", "q3"],
        ),
    ):
        quantities = extract_quantities(sentence)
        read = _respective_periods(sentence, quantities)
        assert [read[q.start] for q in quantities if q.start in read] == spans, sentence
    # One figure after the list, then another clause's: no figure per period.
    sentence = "6月、7月分别为10GW，全年预计100GW。"
    assert _respective_periods(sentence, extract_quantities(sentence)) == {}


def test_a_sentence_opening_with_a_company_the_glossary_does_not_know_carries_no_one_in():
    known = Glossary(entities=[["远航科技", "Voyage Tech"]]).with_lexicon([], [])
    text = "远航科技二季度交付8.1万辆。海港汽车10月交付3.2万辆；二季度交付11.1万辆。"
    facts = {f.quantity.raw: f for f in extract_facts(text, known, general_metric_vocab())}
    assert facts["8.1万辆"].entity == "远航科技"
    assert facts["3.2万辆"].entity is None and facts["11.1万辆"].entity is None
    # The company's own words for itself carry it on.
    text = "远航科技二季度交付8.1万辆。公司汽车业务三季度交付9.9万辆。"
    facts = {f.quantity.raw: f for f in extract_facts(text, known, general_metric_vocab())}
    assert facts["9.9万辆"].entity == "远航科技"


def test_last_year_opening_an_english_clause_dates_the_whole_year_and_of_names_the_metric():
    glossary = Glossary(entities=[["Harbour Lines"]]).with_lexicon([], [])
    text = (
        "Harbour Lines reported 3Q25 net profit attributable of RMB 9.53bn. "
        "Last year the company earned RMB 49.00bn of net profit attributable and paid out "
        "about half of it."
    )
    facts = {
        f.quantity.raw: f
        for f in extract_facts(text, glossary, general_metric_vocab(), doc_year=2025)
    }
    earned = facts["RMB 49.00bn"]
    assert (earned.period, earned.quantity.year) == ("fy", 2024)  # not 3Q25 carried in
    assert earned.metric == "net profit attributable"
    assert facts["RMB 9.53bn"].quantity.year == 2025


def test_of_names_what_an_amount_measures_but_not_what_a_percent_is_of():
    from rag.facts.extract import metric_after

    vocab = general_metric_vocab()
    text = "RMB 8.6bn of its net profit attributable; a payout of 40% of net profit"
    assert metric_after(text, text.index(" of its"), vocab) == "net profit attributable"
    assert metric_after(text, text.index("RMB"), vocab) is None
    facts = _facts("Ping An paid out 40% of net profit.")
    assert facts["40%"].metric != "net profit"


def test_names_listed_then_one_figure_each_own_their_figures_in_order():
    glossary = Glossary(
        entities=[["远航航空"], ["青禾航空"], ["东岭航空"], ["Harbour Bank"], ["River Bank"]]
    ).with_lexicon([], [])
    zh = (
        "单季盈利分化：远航航空、青禾航空三季度归母净利润同比分别增长34.37%和20.26%，"
        "东岭航空三季度利润同比下滑。"
    )
    facts = {f.quantity.raw: f for f in extract_facts(zh, glossary, general_metric_vocab())}
    assert (facts["34.37%"].entity, facts["20.26%"].entity) == ("远航航空", "青禾航空")
    assert facts["20.26%"].change == "yoy"  # the list's change, written before its first figure
    en = "Harbour Bank and River Bank grew net profit 5% and 7% respectively."
    facts = {f.quantity.raw: f for f in extract_facts(en, glossary, general_metric_vocab())}
    assert (facts["5%"].entity, facts["7%"].entity) == ("Harbour Bank", "River Bank")


@pytest.mark.unit
def test_an_english_appositive_measures_nothing_and_a_plural_after_of_names_the_metric():
    facts = _facts(
        "Contract liabilities, a lead indicator for games revenue, grew 25% YoY to RMB 19.5bn. "
        "CPIC bought back HK$2.1bn of shares and is targeting more than HK$8bn of "
        "buybacks this year.",
        doc_year=2025,
    )
    assert facts["RMB 19.5bn"].metric == "contract liabilities"  # not the appositive's revenue
    target = facts["more than HK$8bn"]
    assert (target.metric, target.period) == ("buyback", "fy")  # "of buybacks this year"
    assert facts["HK$2.1bn"].metric is None  # "of shares" is stock, no proportion


@pytest.mark.unit
def test_an_english_metric_written_right_after_chinese_characters_is_the_metric():
    facts = _facts("今年EPS 3.20元、明年EPS 3.65元。三季度GMV同比增长10%。", doc_year=2025)
    assert facts["3.20元"].metric == "eps" and facts["3.65元"].metric == "eps"
    assert facts["3.65元"].quantity.year == 2026 and facts["10%"].metric == "gmv"
