"""rag/facts/periods.py and rag/sentences.py on sentences shaped like the out-of-domain notes'."""

from __future__ import annotations

import pytest

from rag.facts.periods import Period, period_before, period_years, question_period, spans_in
from rag.sentences import sentence_spans

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("question", "period"),
    [
        ("宁德时代2025年第三季度归母净利润是多少？", Period("q3", 2025)),
        ("贵州茅台前三季度营业总收入是多少？", Period("9m", None)),
        ("What was CATL's revenue in the first nine months of 2025?", Period("9m", 2025)),
        ("ICBC's NIM in H1 2025?", Period("h1", 2025)),
        ("1H25 net profit of CMB", Period("h1", 2025)),
        ("Q3 2025 combined ratio", Period("q3", 2025)),
        ("2025年全年分红多少？", Period("fy", 2025)),
        ("2025年1-9月新增光伏装机", Period("9m", 2025)),
        ("2025年1—9月人形机器人收入", Period("9m", 2025)),
        ("1－6月营收", Period("h1", None)),
        ("revenue from January to September 2025", Period("9m", 2025)),
    ],
)
def test_the_period_a_question_asks(question: str, period: Period) -> None:
    assert question_period(question) == period


def test_a_year_alone_names_no_span() -> None:
    assert question_period("英伟达2026年AEC需求量是多少？") is None
    assert spans_in("2026年预计增长至170万根") == []


def test_each_figure_takes_the_period_written_before_it() -> None:
    text = "前三季度营收2830.72亿元，同比增长9.28%；其中第三季度单季营收1041.86亿元"
    assert period_before(text, text.index("2830")) == "9m"
    assert period_before(text, text.index("1041")) == "q3"


def test_years_inside_period_codes() -> None:
    assert period_years("net profit rose in 1H25 and 9M24; FY2025 guidance") == {2025, 2024}


def test_sentences_end_at_chinese_and_english_stops_but_not_inside_parentheses() -> None:
    text = (
        "Industrial and Commercial Bank of China (工商银行, 601398.SH / 1398.HK; ICBC) reported "
        "H1 2025 income of RMB 427.09bn. The NIM was 1.30%.\n前三季度营收增长9.28%；归母净利润"
        "490.34亿元。“公司表示。”"
    )
    pieces = [text[s:e].strip() for s, e in sentence_spans(text)]
    assert pieces == [
        "Industrial and Commercial Bank of China (工商银行, 601398.SH / 1398.HK; ICBC) reported "
        "H1 2025 income of RMB 427.09bn.",
        "The NIM was 1.30%.",
        "前三季度营收增长9.28%；",
        "归母净利润490.34亿元。",
        "“公司表示。”",
    ]


def test_a_table_cell_is_read_with_its_row_and_column_labels() -> None:
    from rag.facts.tables import cell_label

    header = "| 指标 | 2025Q3单季 | 同比 | 环比 | 2025年前三季度 | 同比 |"
    row = "| 归母净利润（亿元） | 185.49 | +41.21% | +12.26% | 490.34 | +36.20% |"
    assert cell_label(row, header, row.index("185.49")) == "归母净利润（亿元），2025Q3单季"
    assert cell_label(row, header, row.index("12.26")) == "归母净利润（亿元），环比"
    assert cell_label(row, header, row.index("490.34")) == "归母净利润（亿元），2025年前三季度"
    assert cell_label(header, header, 5) is None and cell_label(row, None, 5) is None


@pytest.mark.unit
def test_weeks_and_months_named_relative_to_the_note():
    from rag.facts.periods import relative_time_before, relative_times

    assert [w for _, w in relative_times("本周均价与上周均价")] == [
        ("week", "current"),
        ("week", "previous"),
    ]
    assert relative_times("What was last month's output?")[0][1] == ("month", "previous")
    assert relative_times("上个月销量")[0][1] == ("month", "previous")
    text = "本周均价0.295元/W，上周0.303元/W"
    assert relative_time_before(text, text.index("0.295")) == ("week", "current")
    assert relative_time_before(text, text.index("0.303")) == ("week", "previous")
    assert relative_time_before("均价0.70元/W", 2) is None


@pytest.mark.unit
def test_balance_sheet_dates_are_points_not_spans():
    from rag.facts.periods import point_of, points_in

    # "三季度末" asks a balance at a date: no quarter's flow, so no span to hold figures to.
    assert question_period("中国太保三季度末归母净资产是多少？") is None
    assert question_period("What was cash at the end of Q3 2025?") is None
    assert question_period("2025年第三季度营收是多少？") == Period("q3", 2025)
    assert [p for _, p in points_in("年初与季末")] == ["opening", "closing"]
    text = "季末应收账款由年初的12.5亿元升至30.0亿元"
    figures = [text.index("12.5"), text.index("30.0")]
    # The opening date took the first figure; the second is at the date the sentence opens with.
    assert point_of(text, figures[0], figures) == "opening"
    assert point_of(text, figures[1], figures) == "closing"
    assert point_of("应收账款30.0亿元", 5) is None


@pytest.mark.unit
@pytest.mark.parametrize(
    ("text", "spans"),
    [
        ("远航物流10月货运量1,204万吨，9月份为1,150万吨", ["m10", "m09"]),
        ("Passenger traffic in March 2025 rose 8%, after February's 6%", ["m03", "m02"]),
        ("Sep-25 shipments of 12,000 units", ["m09"]),
        # a range from January is its own part of the year, never its last month
        ("1-10月累计运量9,860万吨", ["ytd10"]),
        ("1—11月销量", ["ytd11"]),
        ("Deliveries from January to October reached 1.2 million", ["ytd10"]),
        ("前8个月出口", ["ytd08"]),
        ("in the first ten months of 2025", ["ytd10"]),
        ("1-6月、1-9月", ["h1", "9m"]),  # ranges a half or three quarters end keep their span
        ("1-3月、一至十二月、January-March", ["q1", "fy", "q1"]),
        # days and balance dates are no single month
        ("公司于12月26日发布公告", []),
        ("截至9月末存款余额3.2万亿元", []),
        ("at end-June, deposits were RMB3.2tn", []),
        ("October 26, 2025: the board approved", []),
        ("we may see a rebound", []),  # "may" is no month
        ("前三季度收入、第四季度", ["9m", "q4"]),
    ],
)
def test_a_single_month_is_a_period(text: str, spans: list[str]) -> None:
    assert [s for _, _, s in spans_in(text)] == spans
    if spans:
        assert question_period(f"{text}？") is not None


@pytest.mark.unit
def test_the_base_of_a_comparison_frames_nothing_after_it() -> None:
    from rag.facts.periods import carried_spans_in

    assert carried_spans_in("远航物流10月货运量环比9月的1,150万吨增长4.7%") == {"m10"}
    assert carried_spans_in("不过环比9月的1,150万吨增长4.7%") == frozenset()
    assert carried_spans_in("Volume rose 4.7% from September") == frozenset()


@pytest.mark.unit
def test_the_period_asked_is_not_one_the_operands_are_given_for():
    assert question_period("What was Q3 profit, derived from its 9M and H1 figures?").span == "q3"  # type: ignore[union-attr]
    assert question_period("Q1 revenue, given its H1 and Q2 figures?").span == "q1"  # type: ignore[union-attr]
    assert question_period("根据上半年和二季度数据，一季度营收是多少？").span == "q1"  # type: ignore[union-attr]
    assert question_period("Backing out Q3 from the 9M figure, what was 1H25 profit?").span == "h1"  # type: ignore[union-attr]


@pytest.mark.unit
def test_a_day_of_a_month_is_a_date_not_the_month():
    assert question_period("As of 30 October, what was the wholesale price?") is None
    assert [s for _, _, s in spans_in("Sales in October rose; by 12 November stock fell")] == [
        "m10"
    ]


@pytest.mark.parametrize(
    ("text", "span"),
    [
        ("How fast did revenue grow in the September quarter?", "q3"),
        ("June-quarter revenue", "q2"),
        ("revenue in the quarter ended 31 March 2025", "q1"),
        ("the three months ended December 31, 2025", "q4"),
        ("sales in September 2025", "m09"),  # a month is still a month
    ],
)
def test_a_quarter_named_by_the_month_it_ends(text: str, span: str) -> None:
    assert [s for _, _, s in spans_in(text)] == [span]


def test_a_period_after_a_comparisons_base_figure_frames_nothing() -> None:
    from rag.facts.periods import carried_spans_in

    text = "Cloud revenue rose 34% to RMB 39.82bn, accelerating from 26% in the June quarter."
    assert carried_spans_in(text) == frozenset()
    assert carried_spans_in("Revenue rose 5% in the September quarter.") == {"q3"}


def test_an_english_sentence_ends_after_an_acronym_but_not_after_an_initial() -> None:
    def split(text: str) -> list[str]:
        return [text[s:e].strip() for s, e in sentence_spans(text)]

    assert split("Throughput was 38.98m TEU. Revenue rose 11.4%.") == [
        "Throughput was 38.98m TEU.",
        "Revenue rose 11.4%.",
    ]
    assert split("Shares of U.S. Steel rose 3%.") == ["Shares of U.S. Steel rose 3%."]


@pytest.mark.unit
def test_a_part_of_the_year_named_without_a_year_is_of_the_notes_year() -> None:
    from rag.facts.periods import implied_year

    assert implied_year("q2", "2025-11-05") == 2025
    assert implied_year("q4", "2025-11-05") == 2025  # a forecast of this year's quarter
    assert implied_year("q4", "2026-01-20") == 2025  # a January note's fourth quarter
    assert implied_year("h2", "2026-02-10") == 2025
    assert implied_year("q1", "2026-01-20") == 2026
    assert implied_year("m10", "2025-11-05") == 2025
    assert implied_year("q3", None) is None


@pytest.mark.unit
def test_a_comparisons_base_period_does_not_date_the_clause_after_it() -> None:
    text = "The NIM was 1.30%, down 12bp from full-year 2024 and down 13bp YoY."
    assert period_before(text, text.index("13bp")) is None
    assert period_before("full-year revenue rose 5%", 20) == "fy"
