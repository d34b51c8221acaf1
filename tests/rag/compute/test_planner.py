"""rag/compute/planner.py: calculations planned from a question and computed from cited figures
(sentences written for these tests in the shapes of broker notes and expert calls)."""

from decimal import Decimal

import pytest
from langchain_core.documents import Document

from rag.compute.planner import derived_margin, derived_period, plan_and_compute
from rag.glossary import Glossary
from rag.language import detect_language
from rag.plan.question import Question

GLOSSARY = Glossary(entities=[["恒瑞医药", "Hengrui"], ["Acme Robotics"]]).with_lexicon([], [])
TWO_COMPANIES = Glossary(
    entities=[["远航科技", "Voyage Tech"], ["青禾股份", "Qinghe"]]
).with_lexicon([], [])


def _docs(*texts: str) -> list[Document]:
    return [
        Document(
            id=f"c{i}",
            page_content=text,
            metadata={
                "id": f"c{i}",
                "source": f"note{i}.md",
                "title": f"note {i}",
                "date": "2025-11-06",
            },
        )
        for i, text in enumerate(texts)
    ]


def _plan(question: str, docs: list[Document], glossary: Glossary = GLOSSARY, retrieve=None):
    language = "en" if question.isascii() else "zh"
    parsed = Question.parse(question, language, glossary)  # type: ignore[arg-type]
    return plan_and_compute(parsed, docs, glossary, retrieve=retrieve or (lambda _: docs))


@pytest.mark.unit
def test_a_multiple_of_an_earlier_figure_is_their_ratio():
    docs = _docs("截至三季度末，恒瑞医药合同负债为92.45亿元，年初为3.75亿元，主要来自授权首付款。")
    calc = _plan("恒瑞医药三季度末合同负债是年初的多少倍？", docs)
    assert calc is not None and calc.tool_calls, calc
    assert calc.tool_calls[0].name == "ratio"
    assert Decimal(calc.tool_calls[0].output.split()[0].rstrip("倍x")) == Decimal("24.65")


@pytest.mark.unit
def test_growth_end_points_are_figures_of_one_kind():
    docs = _docs(
        "2024年全球HBM市场规模约180亿美元。",
        "2026年HBM服务器出货约8万至12万台，全球HBM市场规模预计达到580亿美元。",
    )
    calc = _plan("2024年到2026年全球HBM市场规模的年均复合增速是多少？", docs)
    assert calc is not None and calc.tool_calls
    assert "580亿美元" in calc.answer and "万台" not in calc.answer


@pytest.mark.unit
def test_a_missing_period_is_the_sum_or_difference_of_two_of_the_same_year():
    docs = _docs(
        "Acme Robotics reported H1 2025 revenue of RMB 1.20bn.",
        "In Q3 2025, Acme Robotics posted revenue of RMB 0.80bn.",
        "For full-year 2024, Acme Robotics revenue was RMB 2.50bn.",
    )

    def derive(question: str):
        return derived_period(Question.parse(question, "en", GLOSSARY), docs, GLOSSARY)

    nine_months = derive("What was Acme Robotics' revenue for the first nine months of 2025?")
    assert nine_months is not None and nine_months.tool_calls
    assert "RMB 2 billion" in nine_months.answer, nine_months.answer
    # 2024's full year minus 2025's nine months is not a fourth quarter of either year.
    docs[:] = _docs(
        "For full-year 2024, Acme Robotics revenue was RMB 2.50bn.",
        "Acme Robotics' revenue for the first nine months of 2025 was RMB 2.00bn.",
    )
    assert derive("What was Acme Robotics' Q4 revenue?") is None
    docs[0] = _docs("For full-year 2025, Acme Robotics guided revenue of RMB 2.90bn.")[0]
    fourth = derive("What was Acme Robotics' Q4 revenue?")
    assert fourth is not None and "RMB 900 million" in fourth.answer, fourth


@pytest.mark.unit
def test_a_derived_period_never_combines_two_companies_figures():
    glossary = Glossary(entities=[["远航风电"], ["青禾能源"]]).with_lexicon([], [])
    docs = _docs(
        "远航风电前三季度营业收入609.45亿元，同比下降10.26%；青禾能源第三季度营业收入390.64亿元。",
    )
    question = Question.parse("风电板块2025年上半年营业收入是多少？", "zh", glossary)
    assert derived_period(question, docs, glossary) is None
    own = _docs("远航风电前三季度营业收入609.45亿元；第三季度营业收入81.74亿元。")
    half = derived_period(
        Question.parse("远航风电上半年营业收入是多少？", "zh", glossary), own, glossary
    )
    assert half is not None and "527.71亿元" in half.answer, half


@pytest.mark.unit
def test_a_ratio_stated_as_its_terms_is_a_share():
    docs = _docs(
        "Acme Robotics' 2025 revenue was RMB 1.71bn and its recurring net profit attributable "
        "was RMB 600.8 million."
    )
    calc = _plan(
        "What was Acme Robotics' 2025 net margin, using recurring net profit attributable "
        "over revenue?",
        docs,
    )
    assert calc is not None and calc.tool_calls, calc
    assert "35.1%" in calc.answer, calc.answer  # 600.8 ÷ 1710 = 35.13%


@pytest.mark.unit
def test_what_the_rest_of_the_year_needs_to_reach_a_growth_target():
    docs = _docs(
        "Acme Robotics' full-year 2024 revenue was RMB 2.00bn.",
        "Acme Robotics' revenue for the first nine months of 2025 was RMB 1.50bn.",
    )
    calc = _plan(
        "If Acme Robotics is to grow full-year revenue by 10%, how much revenue does it need "
        "in the fourth quarter?",
        docs,
    )
    assert calc is not None and len(calc.tool_calls) == 2, calc
    assert "RMB 700 million" in calc.answer, calc.answer  # 2.00bn × 1.1 − 1.50bn


@pytest.mark.unit
def test_an_amount_per_unit_of_a_quantity_the_question_states():
    docs = _docs("三季度恒瑞医药归母净利润13.01亿元，同比增长9.53%。")
    calc = _plan("按三季度销量约2.6GWh计算，恒瑞医药单Wh归母净利润约为多少元？", docs)
    assert calc is not None and calc.tool_calls and calc.tool_calls[0].name == "per_unit", calc
    assert "0.5004元/Wh" in calc.answer, calc.answer  # 13.01亿元 ÷ 2.6×10^9 Wh


@pytest.mark.unit
def test_a_stated_rate_times_a_count_is_a_product_not_a_per_unit_figure():
    docs = _docs("每套关节模组价值约3500元，明年出货预计2-4万套。")
    calc = _plan("按每套3500元、出货2-4万套估算，关节模组市场价值是多少？", docs)
    assert calc is not None and calc.tool_calls and calc.tool_calls[0].name == "multiply", calc


@pytest.mark.unit
def test_a_question_naming_no_metric_takes_no_operand_of_another_measure():
    docs = _docs(
        "Omdia认为恒瑞医药2025年出货5168台，Acme Robotics出货4200台。",
    )
    calc = _plan("How much larger was Hengrui's contract than Acme Robotics's?", docs)
    assert calc is None or not calc.tool_calls  # shipments are not the contract asked
    shipped = _plan("How many more units did Hengrui ship than Acme Robotics (出货)?", docs)
    assert shipped is not None and shipped.tool_calls and "968" in shipped.answer


@pytest.mark.unit
def test_a_share_of_an_enumerated_part_takes_the_part_the_question_names():
    # The paragraph's label ("装机：") is no other measure: the question's own words label
    # each figure, and the part named is the one after the enumeration comma.
    docs = _docs(
        "3. 装机：2025年1-9月全国新增风电并网容量61.09GW，其中陆上风电58.64GW、海上风电2.45GW；"
        "截至9月底全国累计风电并网容量581.6GW。"
    )
    calc = _plan("前三季度海上风电占全国新增风电并网容量的比重是多少？", docs)
    assert calc is not None and calc.tool_calls, calc
    assert calc.tool_calls[0].name == "share"
    assert "2.45GW" in calc.answer and "61.09GW" in calc.answer  # units shown in Chinese
    assert calc.tool_calls[0].formula.startswith("2.45 ÷ 61.09")  # 4.01%, shown as 4%


@pytest.mark.unit
def test_a_closing_balance_as_a_multiple_of_the_opening_one():
    docs = _docs(
        "Acme Robotics订单大增。受此影响，季末应收账款由年初的12.5亿元升至30.0亿元，较半年末增加6.2亿元。"
    )
    calc = _plan("Acme Robotics三季度末应收账款是年初的多少倍？", docs)
    assert calc is not None and calc.tool_calls, calc
    assert calc.tool_calls[0].name == "ratio"
    assert Decimal(calc.tool_calls[0].output.split()[0].rstrip("倍x")) == Decimal("2.4")


@pytest.mark.unit
def test_an_operand_comes_from_the_market_the_question_names_not_another_notes():
    glossary = Glossary().with_lexicon([], [["MLCC", "片式多层陶瓷电容器"]])
    docs = _docs(
        "MLCC（片式多层陶瓷电容器）2024年全球市场规模约120亿美元。明年的基准假设是160亿美元左右，车规MLCC贡献一半。",
        "2026年全球液冷市场总规模预计可达130亿至150亿美元。",
    )
    parsed = Question.parse("2024年到2026年全球MLCC市场规模的年均复合增速是多少？", "zh", glossary)
    calc = plan_and_compute(parsed, docs, glossary, retrieve=lambda _: docs)
    assert calc is not None and calc.tool_calls, calc
    assert "160亿美元" in calc.answer and "130亿" not in calc.answer


@pytest.mark.unit
def test_a_sum_of_the_periods_the_question_names():
    docs = _docs(
        "上半年Acme Robotics整机收入64.24亿元（-16.11%）。",
        "第三季度Acme Robotics整机收入36.34亿元，同比下降2.81%。",
    )
    calc = _plan(
        "Adding H1 and Q3, what was Acme Robotics's machine revenue for the first nine months?",
        docs,
    )
    assert calc is not None and calc.tool_calls, calc
    assert calc.tool_calls[0].name == "sum" and "10.058 billion" in calc.answer


@pytest.mark.unit
@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("电池级碳酸锂本周均价比上周低多少？", "1500元/吨"),
        ("电池级碳酸锂均价较上周下降了多少万元/吨？", "1500元/吨"),
    ],
)
def test_a_week_on_week_change_is_this_weeks_cell_minus_last_weeks(question, expected):
    docs = _docs(
        "表1：锂盐周度价格（万元/吨）\n"
        "| 品种 | 本周均价 | 上周均价 | 周涨跌 |\n|---|---|---|---|\n"
        "| 电池级碳酸锂 | 7.45 | 7.60 | -1.97% |\n| 氢氧化锂 | 6.90 | 6.80 | +1.47% |"
    )
    calc = _plan(question, docs)
    assert calc is not None and calc.tool_calls, calc
    assert calc.tool_calls[0].name == "difference"
    assert expected in calc.answer and "下降" in calc.answer
    assert "1.97%" not in calc.answer  # the stated percent change is no answer in 万元/吨


@pytest.mark.unit
def test_a_week_on_week_percentage_asked_is_not_computed():
    docs = _docs(
        "| 品种（万元/吨） | 本周均价 | 上周均价 | 周涨跌 |\n|---|---|---|---|\n"
        "| 电池级碳酸锂 | 7.45 | 7.60 | -1.97% |"
    )
    assert _plan("电池级碳酸锂均价周环比下跌了百分之多少？", docs) is None


@pytest.mark.unit
def test_two_operands_in_one_sentence_are_cited_once_with_both_figures():
    docs = _docs(
        "Acme Robotics revenue was RMB12,400 million for the nine months, "
        "after RMB8,100 million in the first half."
    )
    parsed = Question.parse("What was Acme Robotics' Q3 revenue?", "en", GLOSSARY)
    calc = derived_period(parsed, docs, GLOSSARY)
    assert calc is not None and len(calc.evidence) == 1, calc
    assert "4.3 billion" in calc.answer


@pytest.mark.unit
def test_how_much_larger_a_contract_compares_amounts_not_counts():
    glossary = Glossary(entities=[["东方电气"], ["上海电气"]]).with_lexicon([], [])
    docs = _docs(
        "截至8月，东方电气年内中标项目9个，上海电气68个。",
        "标段1由东方电气中标，金额7800万元；标段2由上海电气中标，金额4605万元。",
    )
    parsed = Question.parse(
        "How much larger was 东方电气's contract than 上海电气's?", "en", glossary
    )
    calc = plan_and_compute(parsed, docs, glossary, retrieve=lambda _: docs)
    assert calc is not None and calc.tool_calls, calc
    assert "31.95 million" in calc.answer  # 7,800万 − 4,605万, not 9 − 68 projects


@pytest.mark.unit
def test_a_pace_kept_for_the_whole_year_annualises_the_asked_metric_not_a_volume_beside_it():
    docs = _docs(
        "| Company | 9M25 revenue | 9M25 net profit attributable | 9M25 volume |\n|---|---|---|---|\n"
        "| Acme Robotics | RMB 16.76bn | RMB 2.70bn | 20.18m units |\n"
    )
    computed = _plan(
        "If Acme Robotics kept its 9M25 pace for the whole year, what would its full-year net "
        "profit attributable be?",
        docs,
    )
    assert computed is not None and computed.tool_calls
    assert "RMB 3.6 billion" in computed.answer and "units" not in computed.answer


@pytest.mark.unit
def test_what_share_of_a_whole_went_somewhere_is_the_narrowed_part_over_the_whole():
    glossary = Glossary(entities=[["远航汽车", "Yuanhang Auto"]]).with_lexicon([], [])
    docs = _docs(
        "答：远航汽车10月新能源汽车销量120,000辆，同比增长12%，环比增长5%。"
        "海外销量30,000辆，同比增长约80%。10月营业收入达到210亿元。"
    )
    parsed = Question.parse(
        "What share of Yuanhang Auto's October sales was sold overseas?", "en", glossary
    )
    calc = plan_and_compute(parsed, docs, glossary, retrieve=lambda _: docs)
    assert calc is not None and calc.tool_calls, calc
    assert calc.tool_calls[0].name == "share"
    assert calc.tool_calls[0].inputs == {"part": "30,000辆", "whole": "120,000辆"}
    assert calc.tool_calls[0].output.startswith("25")


@pytest.mark.unit
def test_sales_are_counted_when_the_question_counts_things_in_money_when_it_asks_money():
    from rag.plan.question import asked_metrics

    general = Glossary().with_lexicon([], [])

    def heads(text: str) -> set[str]:
        return {g[0] for g in asked_metrics(text, general)}

    assert heads("How many units were sold in Q3, in sales terms?") == {"销量"}
    assert heads("What were sales volumes in Q3?") == {"销量"}
    assert heads("What was sales revenue in Q3?") == {"营业收入"}
    assert heads("What were Yuanhang Auto's Q3 sales in RMB?") == {"营业收入"}
    # Neither said: either may answer, and the figure's unit (辆 or 亿元) tells which it is.
    assert heads("What is Yuanhang Auto's overseas sales target for 2026?") == {"营业收入", "销量"}


@pytest.mark.unit
def test_a_derived_period_takes_the_series_asked_not_a_product_named_after_the_company():
    glossary = Glossary(entities=[["远航风电", "远航"]]).with_lexicon([], [])
    docs = _docs(
        "远航风电前三季度营业收入1284.54亿元；第三季度营业收入390.64亿元。",
        "前三季度远航风机收入1105.14亿元；第三季度远航风机收入349.24亿元。",
        "远航风电前三季度直销渠道收入555.55亿元；第三季度直销收入155.46亿元；线上平台单季收入19.31亿元。",
    )

    def derive(question: str):
        return derived_period(Question.parse(question, "zh", glossary), docs, glossary)

    company = derive("远航风电2025年上半年营业收入是多少？")
    assert company is not None and "893.9亿元" in company.answer, company
    product = derive("远航风机2025年上半年收入是多少？")
    assert product is not None and "755.9亿元" in product.answer, product
    channel = derive("远航风电直销渠道2025年上半年收入是多少？")
    assert channel is not None and "400.09亿元" in channel.answer, channel


@pytest.mark.unit
def test_an_amount_per_unit_divides_by_the_count_the_question_names():
    glossary = Glossary(entities=[["远航风电"]]).with_lexicon([], [])
    docs = _docs(
        "远航风电第三季度归母净利润78.23亿元，同比下降32.6%；参股2家风场。",
        "远航风电第三季度风机销量111.4万台，同比增长8%。",
    )
    question = "按三季度归母净利润和风机销量计算，远航风电三季度单台归母净利润约为多少元？"
    calc = plan_and_compute(
        Question.parse(question, "zh", glossary), docs, glossary, retrieve=lambda _: []
    )
    assert calc is not None and calc.tool_calls and "7022.44元/台" in calc.answer, calc
    # A count the question does not name ("2家") is never what an amount is divided by.
    english = "What was 远航风电's third-quarter net profit attributable per vehicle sold?"
    calc = plan_and_compute(
        Question.parse(english, "en", glossary), docs[:1], glossary, retrieve=lambda _: []
    )
    assert calc is None or not calc.tool_calls


@pytest.mark.unit
def test_a_period_is_derived_from_the_two_the_question_names():
    docs = _docs(
        "Acme Robotics posted H1 2025 revenue of RMB 1.20bn, of which Q2 contributed RMB 0.70bn.",
        "Acme Robotics' revenue for the first nine months of 2025 was RMB 2.00bn.",
    )
    first = _plan("What was Acme Robotics' Q1 2025 revenue, given its H1 and Q2 figures?", docs)
    assert first is not None and "RMB 500 million" in first.answer, first
    # The period asked comes first in English; the ones after "derived from" are operands.
    third = _plan(
        "What was Acme Robotics' Q3 2025 revenue, derived from its 9M and first-half figures?",
        docs,
    )
    assert third is not None and "RMB 800 million" in third.answer, third
    zh = _docs("恒瑞医药上半年归母净利润44.50亿元，其中二季度归母净利润21.30亿元。")
    q1 = _plan("根据上半年和二季度数据，恒瑞医药一季度归母净利润是多少？", zh)
    assert q1 is not None and "23.2亿元" in q1.answer, q1


@pytest.mark.unit
def test_the_level_before_a_change_the_question_states_is_worked_back():
    docs = _docs("恒瑞医药前三季度营业收入230.00亿元，同比增长15.00%，主要来自创新药放量。")
    calc = _plan("恒瑞医药前三季度营收230亿元、同比增长15%，去年同期营收约多少亿元？", docs)
    assert calc is not None and calc.tool_calls, calc
    assert "200亿元" in calc.answer, calc.answer  # 230 ÷ 1.15, not 230 × 1.15
    fell = _docs("恒瑞医药三季度归母净利润30.00亿元，同比下降40.00%。")
    back = _plan("恒瑞医药三季度归母净利润同比下降40%，去年三季度归母净利润是多少？", fell)
    assert back is not None and "50亿元" in back.answer, back


@pytest.mark.unit
def test_english_writes_the_change_before_the_level_it_led_to():
    docs = _docs(
        "Acme Robotics' net profit attributable rose 25.0% to RMB 5.00bn in 9M25, and the "
        "third quarter alone contributed RMB 2.40bn, up 60.0% YoY."
    )
    calc = _plan(
        "Given Acme Robotics' 9M25 net profit attributable and its YoY growth, what was its "
        "9M24 net profit attributable?",
        docs,
    )
    assert calc is not None and "RMB 4 billion" in calc.answer, calc  # 5.00 ÷ 1.25, not ÷ 1.60


@pytest.mark.unit
def test_growth_between_two_quarters_or_months_the_question_names():
    docs = _docs(
        "恒瑞医药二季度营业收入80.00亿元。",
        "恒瑞医药三季度营业收入88.00亿元，创单季新高。",
    )
    calc = _plan("恒瑞医药三季度营收环比二季度增长了多少？", docs)
    assert calc is not None and "10%" in calc.answer, calc  # (88 − 80) ÷ 80
    assert calc.answer.startswith("从二季度"), calc.answer
    months = _docs("Acme Robotics delivered 1,200 units in September and 1,500 units in October.")
    en = _plan(
        "By how much, in percent, did Acme Robotics' October deliveries change versus September?",
        months,
    )
    assert en is not None and "25%" in en.answer, en  # (1,500 − 1,200) ÷ 1,200


@pytest.mark.unit
def test_adding_up_companies_adds_their_amounts_not_their_growth_rates():
    glossary = Glossary(entities=[["Acme Robotics"], ["Borealis Motors"]]).with_lexicon([], [])
    docs = _docs(
        "Acme Robotics' H1 2025 net profit attributable rose 12.0% to RMB 3.00bn.",
        "Borealis Motors' H1 2025 net profit attributable fell 4.0% to RMB 1.50bn.",
    )
    question = Question.parse(
        "Add up H1 2025 net profit attributable for Acme Robotics and Borealis Motors — what's the total?",
        "en",
        glossary,
    )
    assert not question.asks_change  # "add up" asks no change
    calc = plan_and_compute(question, docs, glossary, retrieve=lambda _: docs)
    assert calc is not None and "RMB 4.5 billion" in calc.answer, calc


@pytest.mark.unit
def test_an_average_across_the_companies_named():
    glossary = Glossary(entities=[["Acme Bank"], ["Borealis Bank"]]).with_lexicon([], [])
    docs = _docs(
        "Acme Bank's H1 2025 net interest margin was 1.60%.",
        "Borealis Bank's H1 2025 net interest margin was 1.90%.",
    )
    question = Question.parse(
        "What was the average H1 2025 net interest margin of Acme Bank and Borealis Bank?",
        "en",
        glossary,
    )
    calc = plan_and_compute(question, docs, glossary, retrieve=lambda _: docs)
    assert calc is not None and calc.answer.startswith("An average of 1.75%"), calc


@pytest.mark.unit
def test_a_share_whose_part_exceeds_its_whole_is_not_answered():
    docs = _docs(
        "恒瑞医药三季度创新药收入50.00亿元。",
        "恒瑞医药三季度海外授权收入8.00亿元。",
    )
    # No sentence gives the quarter's total revenue: the licensing income is no whole.
    calc = _plan("恒瑞医药三季度创新药收入占海外授权收入的比重是多少？", docs)
    assert calc is None or "625" not in calc.answer, calc


@pytest.mark.unit
def test_a_share_is_never_one_figure_over_itself():
    # The part (交易服务收入) is written in no sentence: the total, found for both phrases, is
    # no answer ("1082.8亿元 ÷ 1082.8亿元 = 100%").
    docs = _docs("拼多多三季度总营收1082.8亿元，同比增长9%。")
    calc = _plan("拼多多三季度交易服务收入占总营收的比重是多少？", docs)
    assert calc is None or "100%" not in calc.answer, calc


@pytest.mark.unit
def test_a_margin_not_stated_is_its_profit_over_its_revenue():
    docs = _docs("恒瑞医药三季度营业收入80.00亿元，营业利润20.00亿元。")
    question = Question.parse("恒瑞医药三季度营业利润率是多少？", "zh", GLOSSARY)
    calc = derived_margin(question, docs, GLOSSARY, retrieve=lambda _: docs)
    assert calc is not None and "25%" in calc.answer, calc  # 20 ÷ 80
    en = _docs("Acme Robotics' Q3 2025 revenue was RMB 5.00bn and its gross profit RMB 1.50bn.")
    asked = Question.parse("What was Acme Robotics' Q3 2025 gross margin?", "en", GLOSSARY)
    gross = derived_margin(asked, en, GLOSSARY, retrieve=lambda _: en)
    assert gross is not None and "30%" in gross.answer, gross
    # A rate that is no margin (a growth rate, a ratio of two balances) is not derived.
    growth = Question.parse("恒瑞医药三季度营收增长率是多少？", "zh", GLOSSARY)
    assert derived_margin(growth, docs, GLOSSARY, retrieve=lambda _: docs) is None


@pytest.mark.unit
def test_a_stated_change_works_back_to_an_earlier_year_never_forward():
    docs = _docs("2025年三季度恒瑞医药营业收入115.00亿元，同比增长15.00%。")
    back = _plan("恒瑞医药三季度营收115亿元、同比增长15%，那么2024年三季度营收约为多少？", docs)
    assert back is not None and "100亿元" in back.answer, back
    # A later year is a projection, not the level before the change.
    ahead = _plan("恒瑞医药三季度营收同比增长15%，那么2026年三季度营收约为多少？", docs)
    assert ahead is None or "100亿元" not in ahead.answer, ahead


@pytest.mark.unit
def test_the_count_divided_by_is_looked_up_by_its_own_metric_not_beside_the_amount():
    glossary = Glossary(entities=[["远航风电"], ["海星风电"]]).with_lexicon([], [])
    docs = _docs(
        "三季度海星风电归母净利润185.49亿元，而远航风电同期归母净利润78.23亿元，两家龙头分化。",
        "远航风电前三季度风机销量326.01万台，其中三季度单季销量111.4万台。",
    )
    question = "按三季度归母净利润和风机销量计算，远航风电三季度单台归母净利润约为多少元？"
    calc = plan_and_compute(
        Question.parse(question, "zh", glossary), docs, glossary, retrieve=lambda _: []
    )
    # "两家" sits beside the profit, yet the count asked is the quarter's turbine sales.
    assert calc is not None and calc.tool_calls and "7022.44元/台" in calc.answer, calc


@pytest.mark.unit
@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("铜箔一季度出货比二季度多多少吨？", True),
        ("By what percentage is the A2 grade's price above the A1 grade's?", True),
        ("A2级单颗价格比A1级高百分之多少？", True),
        ("How many tonnes less copper foil than aluminium foil was shipped?", True),
        ("To hit its full-year target, how much revenue does it need in Q4?", True),
        ("11、12两个月平均每月需要卖多少万辆？", True),
        ("Over the three years, what was the annualised run-rate of bookings?", True),
        # a change or a share of one figure is stated, not computed from two
        ("恒瑞医药三季度营收同比增长多少？", False),
        ("恒瑞医药三季度归母净利润环比增长多少？", False),
        ("恒瑞医药海外收入占比多少？", False),
        ("What was Hengrui's Q3 revenue?", False),
    ],
)
def test_only_a_calculation_answers_a_comparison_a_target_or_a_mean(question, expected):
    from rag.compute.planner import only_computed

    language = "en" if question.isascii() else "zh"
    assert only_computed(Question.parse(question, language, GLOSSARY)) is expected  # type: ignore[arg-type]


@pytest.mark.unit
def test_two_parts_compared_are_the_parts_not_their_total():
    docs = _docs("2025年1-9月全国铜箔出货合计83.20万吨，其中锂电铜箔51.10万吨、标准铜箔32.10万吨。")
    calc = _plan(
        "How many tonnes less standard copper foil than lithium battery copper foil was shipped?",
        docs,
    )
    assert calc is None or "83.2" not in calc.answer  # never the total as one side
    english = _docs(
        "Lithium battery copper foil shipments were 511,000 tonnes in 9M25.",
        "Standard copper foil shipments were 321,000 tonnes in 9M25.",
    )
    calc = _plan(
        "How many tonnes more lithium battery copper foil than standard copper foil was shipped in 9M25?",
        english,
    )
    assert calc is not None and calc.tool_calls and calc.tool_calls[0].name == "difference", calc
    assert "190,000" in calc.answer or "190000" in calc.answer.replace(",", ""), calc.answer


@pytest.mark.unit
def test_a_price_above_another_grades_is_their_gap_in_percent():
    docs = _docs("明年12层HBM4单颗约560美元，对比12层HBM3E约370美元，价差明显。")
    calc = _plan("12层HBM4单颗价格比12层HBM3E高百分之多少？", docs)
    assert calc is not None and calc.tool_calls and calc.tool_calls[0].name == "growth_rate", calc
    assert "51.4%" in calc.answer, calc.answer  # (560 − 370) ÷ 370, 560 being HBM4's


@pytest.mark.unit
def test_a_comparison_over_a_period_takes_no_figure_of_another_span():
    glossary = Glossary(entities=[["甲电池"], ["乙电池"]]).with_lexicon([], [])
    docs = _docs(
        "2025年1-8月甲电池全球市占率36.8%。",
        "1-9月甲电池国内市占率42.75%，乙电池市占率22.57%。",
    )
    parsed = Question.parse(
        "By how many percentage points did 甲电池's share exceed 乙电池's in January-September 2025?",
        "en",
        glossary,
    )
    calc = plan_and_compute(parsed, docs, glossary, retrieve=lambda _: docs)
    assert calc is None or "36.8" not in calc.answer, calc


@pytest.mark.unit
def test_a_targets_remainder_spread_over_the_months_left():
    glossary = Glossary(entities=[["远航汽车"]]).with_lexicon([], [])
    docs = _docs("远航汽车1-10月累计销量约80.5万辆，同比增长12%。")
    parsed = Question.parse(
        "远航汽车全年目标100万辆，按1-10月累计销量计算，11、12两个月平均每月需要卖多少万辆？",
        "zh",
        glossary,
    )
    calc = plan_and_compute(parsed, docs, glossary, retrieve=lambda _: docs)
    assert calc is not None and [c.name for c in calc.tool_calls] == ["difference", "spread"]
    assert "9.75万" in calc.answer, calc.answer  # (100万 − 80.5万) ÷ 2


@pytest.mark.unit
def test_a_growth_target_worded_in_english_is_what_the_last_quarter_needs():
    docs = _docs(
        "恒瑞医药2024年营业收入279.85亿元。",
        "恒瑞医药2025年前三季度营业收入231.88亿元。",
    )
    calc = _plan(
        "To hit a 10% full-year revenue growth target, how much revenue would Hengrui need in Q4 2025?",
        docs,
    )
    assert calc is not None and calc.tool_calls, calc
    assert "7.5955 billion" in calc.answer, calc.answer  # 279.85亿 × 1.1 − 231.88亿


@pytest.mark.unit
def test_a_year_asked_with_no_span_takes_no_nine_month_figure():
    docs = _docs(
        "2021年全年对外授权总额138.5亿美元。",
        "2024年全年对外授权总金额519亿美元。",
        "2025年前三季度对外授权总金额约920.3亿美元，已超过去年全年。",
    )
    calc = _plan("对外授权总额从2021年到2024年的年复合增速是多少？", docs)
    assert calc is not None and calc.tool_calls, calc
    assert "519亿美元" in calc.answer and "920.3" not in calc.answer, calc.answer


@pytest.mark.unit
def test_annualising_an_amount_asked_in_money_takes_no_count_of_deals():
    docs = _docs("前三季度累计交易达到103笔，交易总额约920.3亿美元。")
    calc = _plan("按前三季度的节奏简单年化，今年全年交易总额约为多少亿美元？", docs)
    assert calc is not None and calc.tool_calls and calc.tool_calls[0].name == "annualise", calc
    assert "1227.07亿美元" in calc.answer and "笔" not in calc.answer, calc.answer
    assert "约约" not in calc.answer


@pytest.mark.unit
def test_a_total_the_note_states_for_the_companies_asked_is_theirs_not_a_sum():
    glossary = Glossary(entities=[["谷歌", "Google"], ["Meta"]]).with_lexicon([], [])
    docs = _docs(
        "谷歌与Meta虽未公布明确数据，由此得出两者合计贡献30亿至50亿美元的市场空间。"
        "两项相加，2026年全球液冷市场总规模预计可达130亿至150亿美元。"
    )

    def plan(text: str, language: str):
        question = Question.parse(text, language, glossary)  # type: ignore[arg-type]
        return plan_and_compute(question, docs, glossary, retrieve=lambda _: docs)

    together = plan("谷歌与Meta合计贡献多少液冷市场空间？", "zh")
    assert together is not None and together.answer.startswith("合计30亿至50亿美元"), together
    assert not together.tool_calls  # stated, not computed
    middle = plan("What is the midpoint of Google and Meta's combined market estimate?", "en")
    assert middle is not None and "US$4 billion" in middle.answer, middle


@pytest.mark.unit
def test_one_written_figure_is_never_two_companies_operands():
    glossary = Glossary(entities=[["谷歌", "Google"], ["Meta"]]).with_lexicon([], [])
    # Only the market's total is written: no company's own figure to add up.
    docs = _docs("两项相加，2026年全球液冷市场总规模预计可达130亿至150亿美元。")
    question = Question.parse("谷歌与Meta的液冷市场空间加起来是多少？", "zh", glossary)
    calc = plan_and_compute(question, docs, glossary, retrieve=lambda _: docs)
    assert calc is None or "260亿" not in calc.answer, calc


@pytest.mark.unit
def test_a_total_right_after_the_companies_listed_is_theirs_but_one_deals_total_is_not():
    glossary = Glossary(
        entities=[["阿里云"], ["腾讯"], ["字节跳动"], ["石药集团"], ["阿斯利康"], ["Madrigal"]]
    ).with_lexicon([], [])
    listed = _docs("国内主要客户包括阿里云、腾讯和字节跳动，总需求量约为不到100万根。")
    question = Question.parse("阿里云、腾讯和字节跳动的AEC需求合计是多少？", "zh", glossary)
    calc = plan_and_compute(question, listed, glossary, retrieve=lambda _: listed)
    assert calc is not None and calc.answer.startswith("合计不到100万根"), calc
    # "总额" of one deal, written before the other company is named: no total of the two.
    deals = _docs(
        "石药集团与阿斯利康达成合作，首付款1.1亿美元，总额约53.3亿美元。",
        "石药又把SYH2086授予Madrigal，首付款1.2亿美元。",
    )
    asked = Question.parse("石药集团与阿斯利康、Madrigal的首付款合计是多少？", "zh", glossary)
    calc = plan_and_compute(asked, deals, glossary, retrieve=lambda _: deals)
    assert calc is None or "53.3" not in calc.answer, calc


@pytest.mark.unit
def test_by_what_percentage_one_figure_is_above_another():
    glossary = Glossary(entities=[["英伟达", "Nvidia"]]).with_lexicon([], [])
    docs = _docs("价格上，英伟达明年采购的12层HBM4单颗约560美元，对比12层HBM3E约370美元。")
    asked = "By what percentage is Nvidia's 12-high HBM4 price above its 12-high HBM3E price?"
    calc = _plan(asked, docs, glossary)
    assert calc is not None and "51.4%" in calc.answer, calc  # (560 - 370) / 370
    # One figure only: nothing to compare it with, so no answer (the HBM4 price alone is none).
    alone = _docs("价格上，英伟达明年采购的12层HBM4单颗约560美元。")
    calc = _plan(asked, alone, glossary)
    assert calc is None or "560" not in calc.answer.split("(")[0], calc


@pytest.mark.unit
def test_a_gap_between_two_periods_each_phrase_names_reads_the_second_in_the_first_ones_note():
    glossary = Glossary().with_lexicon([], [])
    first = _docs("前三季度累计交易达到103笔，总金额约920.3亿美元，三项指标均已超过去年全年。")
    # The same note's earlier year, found only when searched with the first sentence's words.
    second = _docs("去年全年共94笔，总金额519亿美元，首付款41亿美元。")
    for d in first + second:
        d.metadata.update(source="drugs.html", date="2025-10-28")

    def retrieve(text: str) -> list[Document]:
        return first + second if "总金额" in text else first

    question = Question.parse(
        "By how much did China's 9M 2025 deal value exceed the full-year 2024 total, in percent?",
        "en",
        glossary,
    )
    calc = plan_and_compute(question, first, glossary, retrieve=retrieve)
    assert calc is not None and "77.3%" in calc.answer, calc  # 920.3 / 519 - 1


@pytest.mark.unit
def test_a_chinese_share_asked_as_the_part_within_a_whole():
    docs = _docs(
        "三季度恒瑞医药电池销量约160GWh，同比增长30%；其中储能电池销量约40GWh。",
        "前三季度公司电池销量约420GWh。",
    )
    for question in (
        "三季度恒瑞医药电池销量中，储能电池占比是多少？",
        "三季度恒瑞医药电池销量当中储能电池所占比例是多少？",
    ):
        calc = _plan(question, docs)
        assert calc is not None and calc.tool_calls and calc.tool_calls[0].name == "share", calc
        assert "25%" in calc.answer and "420" not in calc.answer, calc.answer
        assert "约约" not in calc.answer, calc.answer
    # a place, not a whole: "在中国市场" names no measured amount
    assert (
        _plan("恒瑞医药在中国市场占比多少？", docs) is None
        or "÷" not in _plan("恒瑞医药在中国市场占比多少？", docs).answer
    )


@pytest.mark.unit
def test_a_quarter_derived_from_running_totals_takes_the_kind_of_figure_asked():
    docs = _docs(
        "上半年恒瑞医药共达成授权交易72笔，潜在总金额约608亿美元。",
        "前三季度恒瑞医药累计交易达到103笔，总金额约920.3亿美元。",
    )
    calc = _plan("根据上半年和前三季度的累计数据，三季度单季恒瑞医药交易总金额是多少亿美元？", docs)
    assert calc is not None and calc.tool_calls, calc
    assert "312.3亿美元" in calc.answer and "笔" not in calc.answer, calc.answer


@pytest.mark.unit
def test_by_how_many_percentage_points_one_share_exceeds_another():
    docs = _docs("1-9月远航科技国内市占率42.75%，同比下降3.1pct；青禾股份市占率22.57%。")
    calc = _plan(
        "By how many percentage points did Voyage Tech's domestic share exceed Qinghe's in "
        "January-September 2025?",
        docs,
        TWO_COMPANIES,
    )
    assert calc is not None and calc.tool_calls, calc
    assert "20.18" in calc.tool_calls[0].output or "20.2" in calc.answer, calc.answer
    assert "42.75%" in calc.answer and "22.57%" in calc.answer, calc.answer


@pytest.mark.unit
def test_a_gap_in_percentage_points_compares_growth_rates_with_their_signs():
    docs = _docs(
        "远航科技2025年前三季度实现营业收入231.88亿元，同比增长14.85%；",
        "青禾股份2025年前三季度实现营业收入258.34亿元，同比下降12.38%；",
    )
    calc = _plan(
        "By how many percentage points did Voyage Tech's 9M25 revenue growth exceed Qinghe's?",
        docs,
        TWO_COMPANIES,
    )
    assert calc is not None and calc.tool_calls, calc
    assert "27.23 percentage points" in calc.answer, calc.answer  # 14.85 − (−12.38), no amounts
    assert "亿" not in calc.answer and "billion" not in calc.answer, calc.answer


@pytest.mark.unit
def test_a_difference_of_levels_takes_no_growth_rate_as_an_operand():
    docs = _docs(
        "| 公司 | 前三季度营收（亿元） | 同比 |\n|---|---|---|\n"
        "| 远航科技 | 500 | +1.3% |\n| 青禾股份 | 300 | -0.06% |",
        "远航科技三季度营收120亿元，同比增长5%。青禾股份三季度营收80亿元，同比下降3%。",
    )
    calc = _plan("远航科技和青禾股份三季度营收相差多少？", docs, TWO_COMPANIES)
    assert calc is not None and calc.tool_calls, calc
    assert "40亿元" in calc.answer and "%" not in calc.answer, calc.answer
    grew = _plan("远航科技和青禾股份三季度营收增速相差多少个百分点？", docs, TWO_COMPANIES)
    assert grew is not None and "8个百分点" in grew.answer, grew and grew.answer


@pytest.mark.unit
def test_a_quarter_is_not_derived_from_a_forecast_and_an_actual():
    glossary = Glossary(entities=[["远航航空"], ["青禾航空"]]).with_lexicon([], [])
    actual = "远航航空前三季度归母净利润21.03亿元，同比扭亏。"
    docs = _docs(
        actual,
        "盈利预测：青禾航空今年归母净利润9.46亿元、明年71.05亿元；远航航空今年9.5亿元、明年36.1亿元。",
    )
    question = Question.parse("远航航空四季度归母净利润是多少？", "zh", glossary)
    assert derived_period(question, docs, glossary) is None  # a forecast's year less nine months
    reported = _docs(actual, "远航航空2025年全年归母净利润30.2亿元。")
    calc = derived_period(question, reported, glossary)
    assert calc is not None and "9.17亿元" in calc.answer, calc and calc.answer


@pytest.mark.unit
def test_an_average_of_levels_takes_no_growth_rate_as_an_operand():
    table = (
        "| Company | 3Q25 revenue | YoY |\n|---|---|---|\n"
        "| Voyage Tech | RMB 192.87bn | +15% |\n| Qinghe | RMB 108.28bn | +9% |"
    )
    calc = _plan(
        "What was the average 3Q25 revenue of Voyage Tech and Qinghe?", _docs(table), TWO_COMPANIES
    )
    assert calc is not None and "150.575" in calc.answer and "%" not in calc.answer, (
        calc and calc.answer
    )
    assert "Voyage Tech RMB 192.87 billion" in calc.answer  # named as asked, in English
    grew = _plan(
        "What was the average 3Q25 revenue growth of Voyage Tech and Qinghe?",
        _docs(table),
        TWO_COMPANIES,
    )
    assert grew is not None and "12%" in grew.answer, grew and grew.answer


@pytest.mark.unit
def test_a_year_on_year_change_not_stated_is_computed_from_the_two_years_levels():
    from rag.compute.planner import year_on_year

    docs = _docs("10月风电新增装机5.2GW，较去年同期的6.5GW明显回落。")
    question = Question.parse("10月风电新增装机同比下降多少？", "zh", GLOSSARY)
    calc = year_on_year(question, docs, GLOSSARY)
    assert calc is not None and "-20%" in calc.answer, calc
    # Only this year's level stated: nothing to compare it with.
    alone = _docs("10月风电新增装机5.2GW。")
    assert year_on_year(question, alone, GLOSSARY) is None
    # A month-on-month change is not a year-on-year one.
    sequential = Question.parse("10月风电新增装机环比下降多少？", "zh", GLOSSARY)
    assert year_on_year(sequential, docs, GLOSSARY) is None


@pytest.mark.unit
def test_months_listed_or_run_are_each_months_figure_added_up_or_averaged():
    from rag.compute.planner import periods_listed

    def listed(text: str) -> list[str]:
        return periods_listed(Question.parse(text, "en" if text.isascii() else "zh", GLOSSARY))

    assert listed("7月、8月、9月风电新增装机合计多少？") == ["m07", "m08", "m09"]
    assert listed("6-8月风电新增装机合计多少？") == ["m06", "m07", "m08"]
    assert listed("What were wind additions in July, August and September?") == [
        "m07", "m08", "m09",
    ]  # fmt: skip
    assert listed("1-9月风电新增装机合计多少？") == []  # one period: January to September
    docs = _docs("7月、8月、9月风电新增装机分别为4.1GW、3.9GW、5.2GW，全年预计80GW。")
    calc = _plan("7月、8月、9月风电新增装机合计多少？", docs)
    assert calc is not None and "13.2" in calc.answer, calc
    calc = _plan("7-9月风电月均新增装机多少？", docs)
    assert calc is not None and "4.4" in calc.answer, calc
    # Two months compared are no sum, though "total" is written.
    assert (
        "13.2"
        not in (
            _plan("What were total wind additions in September versus July?", docs) or calc
        ).answer
    )


@pytest.mark.unit
def test_a_whole_period_less_a_named_part_is_the_period_between():
    docs = _docs("恒瑞医药前三季度营业收入300亿元；Q3营业收入110亿元。")
    calc = _plan("恒瑞医药前三季度营收减去三季度营收是多少？", docs)
    assert calc is not None and "190" in calc.answer and "H1" in calc.answer, calc
    # A share of the whole is no difference, though "比例是多少" holds "比…少".
    share = _plan("恒瑞医药三季度营收占前三季度的比例是多少？", docs)
    assert share is None or "190" not in share.answer, share


@pytest.mark.unit
def test_a_shares_whole_is_of_the_parts_period():
    docs = _docs(
        "恒瑞医药10月销量40,000盒，其中海外销量8,000盒。",
        "恒瑞医药今年总销量预计约500,000盒。",
    )
    calc = _plan("恒瑞医药10月海外销量占总销量的比例是多少？", docs)
    assert calc is not None and "20%" in calc.answer, calc


@pytest.mark.unit
def test_a_share_of_a_whole_listed_with_its_parts_divides_by_the_whole_not_a_sibling():
    glossary = Glossary(entities=[["Harbour Ports"]]).with_lexicon([], [])
    docs = _docs(
        "Harbour Ports grew 9M25 revenue 4.9% to RMB 12.76bn. Container throughput reached "
        "154.61m TEU in the nine months (+5.3%), of which mainland ports 121.41m TEU (+6.0%) "
        "and overseas ports 29.17m TEU (+4.4%)."
    )
    parsed = Question.parse(
        "What share of Harbour Ports' 9M25 container throughput came from overseas ports?",
        "en",
        glossary,
    )
    calc = plan_and_compute(parsed, docs, glossary, retrieve=lambda _: docs)
    assert calc is not None and calc.tool_calls, calc
    assert calc.tool_calls[0].inputs == {"part": "29.17m", "whole": "154.61m"}


@pytest.mark.unit
def test_a_fall_asked_in_percent_between_two_quarters_is_computed_from_their_levels():
    docs = _docs(
        "In 3Q25 Acme Robotics' capex was RMB 12.98bn, down 24% YoY and down from RMB 19.1bn in 2Q25."
        " Revenue grew 15% to RMB 192.87bn in 3Q25."
    )
    calc = _plan("By what percentage did Acme Robotics' capex fall from 2Q25 to 3Q25?", docs)
    assert calc is not None and calc.tool_calls, calc
    assert "-32%" in [c.output for c in calc.tool_calls], calc.tool_calls  # not the 24% YoY


@pytest.mark.unit
def test_two_parts_of_one_company_named_in_english_are_added_up():
    docs = _docs(
        "Acme Robotics' 3Q25 revenue grew 15% to RMB 192.87bn. Domestic games revenue grew 15% "
        "to RMB 42.8bn and international games 43% to RMB 20.8bn."
    )
    calc = _plan(
        "How much did Acme Robotics' 3Q25 domestic and international games revenue add up to?",
        docs,
    )
    assert calc is not None and calc.tool_calls, calc
    assert calc.tool_calls[0].inputs == {"domestic": "RMB 42.8bn", "international": "RMB 20.8bn"}
    # parts the note writes in other words are no calculation's: its stated total answers
    assert _plan("What is the total of Acme Robotics' cables and busbars?", docs) is None


@pytest.mark.unit
@pytest.mark.parametrize(
    "question",
    [
        "In 3Q25 net profit attributable, Voyage Tech made roughly what multiple of Qinghe?",
        "Voyage Tech 3Q25 net profit attributable as a multiple of Qinghe's?",
        "三季度远航科技归母净利润是青禾股份的几倍？",
    ],
)
def test_one_companys_figure_as_a_multiple_of_anothers(question: str):
    docs = _docs(
        "三季度远航科技归母净利润120.00亿元、同比增长12%，而青禾股份同期归母净利润48.00亿元。"
    )
    calc = _plan(question, docs, TWO_COMPANIES)
    assert calc is not None and calc.tool_calls, calc
    assert calc.tool_calls[0].name == "ratio" and "2.5" in calc.tool_calls[0].output


@pytest.mark.unit
def test_a_dated_total_as_a_percent_of_a_figure_of_the_period_the_second_phrase_names():
    docs = _docs(
        "远航科技2025年中期每10股派发现金分红5.00元（含税），合计派发约12.00亿元，对应上半年"
        "归母净利润60.00亿元。"
    )
    calc = _plan(
        "远航科技2025年中期分红总额相当于上半年归母净利润的百分之几？", docs, TWO_COMPANIES
    )
    assert calc is not None and calc.tool_calls, calc
    # the total paid, not the dividend per ten shares beside it
    assert calc.tool_calls[0].inputs == {"part": "约12.00亿元", "whole": "60.00亿元"}
    assert calc.tool_calls[0].output == "约20%"


@pytest.mark.unit
def test_how_many_points_separate_two_companies_is_their_gap():
    docs = _docs("2025年远航科技份额52%，青禾股份份额19%。")
    calc = _plan(
        "In 2025, how many points of share separate Voyage Tech from Qinghe?", docs, TWO_COMPANIES
    )
    assert calc is not None and calc.tool_calls, calc
    assert calc.tool_calls[0].output.startswith("33")


@pytest.mark.unit
def test_a_companys_operand_in_a_sum_is_never_the_whole_markets_figure_before_it():
    text = (
        "据产业联盟，1-9月国内动力电池累计装车量493.9GWh，同比增长42.5%；其中远航科技装车"
        "210.67GWh、市占率42.75%；青禾股份装车111.21GWh、市占率22.57%。"
    )
    # in a note about the first company, where a sentence naming no one is about it
    docs = [Document(id="c0", page_content=text, metadata={"id": "c0", "source": "v.md",
                     "title": "远航科技三季报点评", "date": "2025-10-21"})]  # fmt: skip
    calc = _plan(
        "Combined Jan-Sep 2025 domestic battery installations of Voyage Tech and Qinghe, in GWh?",
        docs,
        TWO_COMPANIES,
    )
    assert calc is not None and calc.tool_calls, calc
    assert calc.tool_calls[0].output.startswith("321.88")


@pytest.mark.unit
def test_a_quarter_on_quarter_change_not_stated_is_of_this_quarters_and_the_last_ones_levels():
    from rag.compute.planner import sequential_change

    docs = _docs(
        "远航科技三季度营收24.45亿元，同比增长39%；营业利润11.38亿元，同比增长62%。"
        "对比二季度，营收22.23亿元、营业利润9.21亿元。"
    )
    for asked in (
        "远航科技三季度营业利润环比增长多少？",
        "Voyage Tech 3Q25 operating profit growth QoQ?",
    ):
        language = "en" if asked.isascii() else "zh"
        question = Question.parse(asked, language, TWO_COMPANIES)  # type: ignore[arg-type]
        calc = sequential_change(question, docs, TWO_COMPANIES)
        assert calc is not None and calc.tool_calls, asked
        assert any(c.output.startswith("23.6") for c in calc.tool_calls), calc.tool_calls


@pytest.mark.unit
def test_one_companys_figure_outpacing_anothers_is_their_difference():
    docs = _docs("2025年远航科技出货5168台、份额约39%，青禾股份出货4200台、份额约32%。")
    calc = _plan(
        "By how many units did Voyage Tech's 2025 shipments outpace Qinghe's?", docs, TWO_COMPANIES
    )
    assert calc is not None and calc.tool_calls, calc
    assert calc.tool_calls[0].output.startswith("968")


@pytest.mark.unit
def test_a_growth_rate_faster_than_anothers_by_points_and_an_amount_less_than_anothers():
    docs = _docs("三季度远航科技归母净利润同比增长31.8%，青禾股份归母净利润同比增长19%。")
    faster = _plan("三季度归母净利润同比增速，远航科技比青禾股份快几个pct？", docs, TWO_COMPANIES)
    assert faster is not None and faster.tool_calls, faster
    assert faster.tool_calls[0].output.startswith("12.8")
    amounts = _docs("2025年远航科技出货5168台，青禾股份出货4200台。")
    less = _plan("2025年青禾股份出货量比远航科技少多少台？", amounts, TWO_COMPANIES)
    assert less is not None and less.tool_calls, less
    assert less.tool_calls[0].output == "968台"  # the gap, not −968台


@pytest.mark.unit
def test_a_part_as_a_percent_sign_of_its_whole_is_a_share():
    docs = _docs("远航科技上半年营收60.00亿元，其中海外营收15.00亿元。")
    calc = _plan("Voyage Tech 1H25 overseas revenue as a % of revenue?", docs, TWO_COMPANIES)
    assert calc is not None and calc.tool_calls, calc
    assert calc.tool_calls[0].name == "share" and calc.tool_calls[0].output.startswith("25")


@pytest.mark.unit
def test_a_margin_derived_is_one_companys_profit_over_its_own_revenue():
    from rag.compute.planner import derived_margin

    docs = _docs("前三季度远航科技归母净利润23.36亿元。青禾股份前三季度营业收入1298亿元。")
    question = Question.parse("远航科技前三季度净利率是多少？", "zh", TWO_COMPANIES)
    assert derived_margin(question, docs, TWO_COMPANIES, lambda _: docs) is None
    which = Question.parse("哪家公司前三季度净利率最高？", "zh", TWO_COMPANIES)
    assert derived_margin(which, docs, TWO_COMPANIES, lambda _: docs) is None


@pytest.mark.unit
def test_a_period_asked_as_the_difference_of_two_it_names_is_derived_from_them():
    from rag.compute.planner import _whole_less_part

    question = Question.parse("Voyage Tech Q1 2025 revenue, i.e. 1H minus 2Q?", "en", TWO_COMPANIES)
    assert _whole_less_part(question) == ("q1", ("h1", "q2"))


@pytest.mark.unit
def test_working_back_over_a_quarter_on_quarter_change_uses_that_change_not_the_yearly_one():
    docs = _docs("三季度远航科技归母净利润78.23亿元，同比下降32.60%，但环比增长23.08%。")
    sequential = _plan(
        "用远航科技Q3归母净利润和环比增速反推，二季度单季归母净利润约多少亿元？",
        docs,
        TWO_COMPANIES,
    )
    assert sequential is not None and sequential.tool_calls, sequential
    assert sequential.tool_calls[0].inputs["change"] == "23.08%"
    yearly = _plan("按同比增速倒推，远航科技去年三季度归母净利润约多少？", docs, TWO_COMPANIES)
    assert yearly is not None and yearly.tool_calls, yearly
    assert yearly.tool_calls[0].inputs["change"] == "32.60%"


@pytest.mark.unit
def test_two_metrics_a_question_names_are_compared_in_one_unit():
    glossary = Glossary(entities=[["远航股份", "Voyage Farms"]]).with_lexicon([], [])
    text = "远航股份10月商品猪销售均价11.55元/公斤，同比下降32.73%。远航股份10月完全成本约11.3元/公斤。"
    doc = Document(page_content=text, metadata={"source": "v.md", "title": "t", "start": 0})
    for asked in (
        "远航股份10月销售均价比完全成本高多少？",
        "How much did Voyage Farms make per kg in October (selling price minus full cost)?",
    ):
        question = Question.parse(asked, detect_language(asked), glossary)
        calc = plan_and_compute(question, [doc], glossary, retrieve=lambda _: [doc])
        assert calc is not None and calc.tool_calls, asked
        assert "0.25" in calc.answer, calc.answer
    # a rate against an amount is no like-with-like comparison
    mixed = "远航股份10月销售均价11.55元/公斤，净利率12%。"
    doc = Document(page_content=mixed, metadata={"source": "v.md", "title": "t", "start": 0})
    question = Question.parse("远航股份10月销售均价比净利率高多少？", "zh", glossary)
    assert plan_and_compute(question, [doc], glossary, retrieve=lambda _: [doc]) is None


@pytest.mark.unit
def test_what_percent_of_another_amount_is_a_share_and_a_change_in_percent_asks_no_level():
    glossary = Glossary(entities=[["远航科技", "Voyage Tech"]]).with_lexicon([], [])
    text = (
        "远航科技2025年中期分红总额约44.11亿元。远航科技上半年归母净利润304.85亿元，"
        "前三季度归母净利润490.34亿元，三季度归母净利润185.49亿元。"
    )
    doc = Document(page_content=text, metadata={"source": "v.md", "title": "t", "start": 0})
    question = Question.parse(
        "远航科技2025年中期分红总额相当于上半年归母净利润的百分之几？", "zh", glossary
    )
    calc = plan_and_compute(question, [doc], glossary, retrieve=lambda _: [doc])
    assert calc is not None and "14.5%" in calc.answer, calc and calc.answer
    # its operands are the two amounts: the question asks no percentage figure of a note
    assert not question.asks_relative
    assert Question.parse("远航科技月产能环比扩了百分之几？", "zh", glossary).asks_relative
