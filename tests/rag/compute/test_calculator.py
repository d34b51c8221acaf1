"""Tests for rag/compute/calculator.py: named operations on the notes' figures, qualifier and
range propagation, and the evidence checks on operands."""

from __future__ import annotations

import ast
import operator
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rag.compute.calculator import (
    CalculatorError,
    UngroundedOperandError,
    apply_ratio,
    average,
    cagr,
    check_operands,
    difference,
    growth_rate,
    midpoint,
    multiply,
    percent_change,
    percentage_point_difference,
    ratio,
    share,
    total,
)
from rag.numbers import Quantity, extract_quantities, parse_quantity, same_value
from rag.types import ToolCall

pytestmark = pytest.mark.unit

CORPUS = Path(__file__).resolve().parents[3] / "corpus"
NOTE_000 = (CORPUS / "000_b074af76218b3ff2.txt").read_text(encoding="utf-8")
NOTE_003 = (CORPUS / "003_558daa5f5094b1d2.txt").read_text(encoding="utf-8")
D = Decimal
P = parse_quantity


def figure(text: str, raw: str) -> Quantity:
    hits = [q for q in extract_quantities(text, doc_year=2025) if q.raw == raw]
    assert hits, raw
    return hits[0]


# ---------------------------------------------------------------------------------------------
# Named operations on the notes' own figures


def test_growth_rate_formula_in_both_languages() -> None:
    nv_2025 = figure(NOTE_003, "约为70万根")
    nv_2026 = figure(NOTE_003, "170万根左右")
    r = growth_rate(nv_2025, nv_2026)
    assert r.formula_zh == "(170万 − 70万) ÷ 70万 = 约142.9%"
    assert r.formula_en == "(1.7 million − 700,000) ÷ 700,000 = about 142.9%"
    assert r.value.low == D("142.9") and r.value.kind == "percent"
    assert r.operands == (nv_2025, nv_2026)  # evidence spans kept for citations
    assert r.operands[0].start is not None


def test_exact_growth_rate() -> None:
    r = growth_rate(P("70万"), P("170万"))
    assert (r.text("zh"), r.text("en")) == ("142.9%", "142.9%")
    assert r.value.qualifier == "exact"


def test_apply_ratio_direction_from_note_003() -> None:
    # "谷歌TPU与AEC比例为1:1.25,估算谷歌明年至少需要两百多万根AEC": TPU:AEC = 1:1.25, the AEC
    # figure is the right-hand term, so TPU = AEC × 1 ÷ 1.25.
    ratio_q = figure(NOTE_003, "1:1.25")
    aec = figure(NOTE_003, "至少需要两百多万根")
    assert aec.noun == "AEC" and aec.year == 2026
    r = apply_ratio(aec, ratio_q, "right", left_name="TPU", right_name="AEC")
    assert r.value.low == D(1600000)
    assert r.value.qualifier == "at_least"
    assert r.text("zh") == "至少160万"
    assert r.text("en") == "at least 1.6 million TPUs"
    assert r.formula_zh == "TPU:AEC = 1:1.25，TPU = 200万 × 1 ÷ 1.25 = 至少160万"
    assert r.formula_en == "TPU:AEC = 1:1.25; TPU = 2 million × 1 ÷ 1.25 = at least 1.6 million"


def test_apply_ratio_other_direction() -> None:
    r = apply_ratio(P("160万"), P("1:1.25"), "left", left_name="TPU", right_name="AEC")
    assert r.value.low == D(2000000) and r.value.noun == "AEC"


def test_apply_ratio_needs_a_ratio() -> None:
    with pytest.raises(CalculatorError, match="ratio"):
        apply_ratio(P("200万"), P("1.25"), "right")


def test_sum_reproduces_note_000_market_size() -> None:
    # "仅此一项即可支撑约100亿美元...两者合计贡献30亿至50亿美元...总规模预计可达130亿至150亿美元"
    nvidia = figure(NOTE_000, "约100亿美元")
    others = figure(NOTE_000, "30亿至50亿美元")
    stated = figure(NOTE_000, "130亿至150亿美元")
    r = total([nvidia, others])
    assert same_value(r.value, stated, tolerance=0)
    assert r.value.qualifier == "approx"
    assert r.text("en") == "about US$13–15 billion"
    assert r.formula_zh == "100亿美元 + 30亿至50亿美元 = 约130亿至150亿美元"


def test_midpoint_reproduces_note_000_neutral_value() -> None:
    # "预计在2026年实现8万至12万台的液冷服务器出货,取中性值10万台计算"
    r = midpoint(figure(NOTE_000, "8万至12万台"))
    assert same_value(r.value, figure(NOTE_000, "10万台"), tolerance=0)
    assert r.formula_zh == "(8万 + 12万) ÷ 2 = 10万"
    assert r.text("en") == "100,000 liquid-cooled servers"


def test_multiply_count_by_unit_value() -> None:
    # 10万台 × 超过10万美元/台 → over US$10 billion (the note rounds it to 约100亿美元)
    r = multiply(figure(NOTE_000, "10万台"), figure(NOTE_000, "超过10万美元"))
    assert r.value.kind == "money" and r.value.currency == "USD"
    assert r.text("en") == "over US$10 billion"
    assert same_value(r.value, figure(NOTE_000, "约100亿美元"))


def test_multiply_by_factors() -> None:
    assert multiply(P("约25亿元人民币"), P("40%")).text("zh") == "约10亿元"
    third = multiply(P("100亿美元"), figure(NOTE_000, "三分之一"))
    assert third.text("en") == "US$3.33 billion"
    with pytest.raises(CalculatorError):
        multiply(P("100亿美元"), P("20亿美元"))


def test_percent_change_reproduces_note_003_rubin_cut() -> None:
    # "GB200架构需5,000多根铜连接,而Rubin架构预计减少40%左右"
    cut = percent_change(P("5,000根"), P("40%"), decrease=True)
    assert cut.value.low == 3000 and cut.text("zh") == "3000根"
    assert cut.formula("en") == "5,000 × (1 − 40%) = 3,000"
    # A lower bound stays a lower bound: "5,000多根" less 40% is over 3,000.
    assert percent_change(
        figure(NOTE_003, "5,000多根"), P("40%"), decrease=True
    ).value.qualifier in ("over", "at_least")
    assert percent_change(P("100万根"), P("25%"), decrease=False).value.low == 1250000
    with pytest.raises(CalculatorError):
        percent_change(P("40%"), P("10%"), decrease=True)  # a share is not a base
    with pytest.raises(CalculatorError):
        percent_change(P("100根"), P("150%"), decrease=True)  # below zero


def test_difference_and_percentage_points() -> None:
    assert difference(P("170万根"), P("70万根")).text("zh") == "100万根"
    pp = percentage_point_difference(P("50%"), P("40%"))
    assert (pp.text("zh"), pp.text("en")) == ("10个百分点", "10 percentage points")
    # two percentages subtract to points, not to a percent
    assert difference(P("50%"), P("42%-43%")).value.kind == "percentage_points"
    with pytest.raises(CalculatorError):
        percentage_point_difference(P("50%"), P("40万"))
    # exact: the decimals the figures are written with, not rounded to one
    assert percentage_point_difference(P("42.75%"), P("22.57%")).text("en") == (
        "20.18 percentage points"
    )
    assert difference(P("1.234亿吨"), P("1.1亿吨")).text("zh") == "1340万吨"


def test_ratio_share_cagr() -> None:
    assert ratio(P("170万"), P("70万")).text("en") == "2.43x"
    assert share(P("30万"), P("200万")).text("zh") == "15%"
    r = cagr(P("100亿元"), P("682亿元"), 5)
    assert r.text("en") == "46.8%"
    assert r.formula_en.startswith("(RMB 68.2 billion ÷ RMB 10 billion)^(1/5) − 1")
    with pytest.raises(CalculatorError):
        cagr(P("100亿"), P("682亿"), 0)


def test_mixing_currencies_or_percent_with_amounts_is_refused() -> None:
    with pytest.raises(CalculatorError, match="USD"):
        total([P("100亿美元"), P("25亿元人民币")])
    with pytest.raises(CalculatorError, match="percentage"):
        growth_rate(P("40%"), P("170万"))
    with pytest.raises(CalculatorError):
        growth_rate(P("0"), P("170万"))


# ---------------------------------------------------------------------------------------------
# Qualifier and range propagation


def test_sums_of_more_than_figures_stay_at_least() -> None:
    r = total([P("超过150万根"), P("超过100万根")])
    assert r.value.qualifier == "at_least" and r.value.low == D(2500000)


def test_one_strict_bound_is_kept() -> None:
    r = apply_ratio(P("两百多万根"), P("1:1.25"), "right")
    assert r.value.qualifier == "over" and r.value.low == D(1600000)


def test_bounds_flip_through_a_decreasing_operand() -> None:
    # Meta: 2025 约110万根, 2026 超过150万根 → growth over 36.4%
    meta = growth_rate(figure(NOTE_003, "约为110万根"), figure(NOTE_003, "超过150万根"))
    assert meta.text("zh") == "超过36.4%"
    # a base below 100万 makes growth to 200万 more than 100%
    assert growth_rate(P("不到100万根"), P("200万根")).text("en") == "over 100%"
    # a base above 100万 makes it less than 100%
    assert growth_rate(P("超过100万根"), P("200万根")).text("en") == "less than 100%"


def test_opposite_bounds_have_no_result() -> None:
    with pytest.raises(CalculatorError, match="opposite"):
        difference(P("超过150万"), P("超过100万"))


def test_ranges_propagate_as_ranges() -> None:
    r = growth_rate(P("30亿至50亿美元"), P("130亿至150亿美元"))
    assert r.value.is_range
    assert (r.value.low, r.value.high) == (D(160), D(400))
    assert r.text("en") == "160%–400%"


@given(
    st.lists(
        st.tuples(
            st.integers(1, 10**6), st.integers(0, 10**6), st.sampled_from(["", "约", "超过"])
        ),
        min_size=2,
        max_size=5,
    )
)
def test_sum_ranges_are_ordered_and_contain_the_point_sums(
    parts: list[tuple[int, int, str]],
) -> None:
    operands = [
        P(f"{q}{lo}至{lo + extra}万") if extra else P(f"{q}{lo}万") for lo, extra, q in parts
    ]
    r = total(operands)
    assert r.value.low <= r.value.high
    assert r.value.low == sum((q.low for q in operands), D(0))
    bounded = any(q.qualifier == "over" for q in operands)
    assert r.value.qualifier in (("over", "at_least") if bounded else ("exact", "approx"))


# ---------------------------------------------------------------------------------------------
# Operands must come from the evidence


def test_check_operands_accepts_figures_from_the_evidence() -> None:
    evidence = extract_quantities(NOTE_003, doc_year=2025)
    check_operands([P("1.7 million"), P("70万"), P("1:1.25"), P("两百多万根")], evidence)


def test_check_operands_names_the_missing_figure() -> None:
    evidence = extract_quantities(NOTE_003, doc_year=2025)
    with pytest.raises(UngroundedOperandError, match="170,000") as info:
        check_operands([P("170,000"), P("70万")], evidence)
    assert [q.raw for q in info.value.missing] == ["170,000"]


def test_small_constants_need_no_citation() -> None:
    check_operands([P("100"), P("2")], [])
    with pytest.raises(UngroundedOperandError):
        check_operands([P("101")], [])


# ---------------------------------------------------------------------------------------------
# Safe arithmetic


names = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,8}", fullmatch=True).filter(
    lambda s: s.lower() not in {"million", "billion", "thousand", "trillion"}
)


_FRACTION_OPS = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
}


def _fraction_eval(node: ast.AST) -> Fraction:
    if isinstance(node, ast.Expression):
        return _fraction_eval(node.body)
    if isinstance(node, ast.Constant):
        return Fraction(node.value)
    if isinstance(node, ast.UnaryOp):
        return -_fraction_eval(node.operand)
    assert isinstance(node, ast.BinOp)
    return _FRACTION_OPS[type(node.op)](_fraction_eval(node.left), _fraction_eval(node.right))


@st.composite
def expressions(draw: st.DrawFn, depth: int = 3) -> str:
    if depth == 0 or draw(st.booleans()):
        return str(draw(st.integers(0, 1000)))
    left = draw(expressions(depth - 1))
    right = draw(expressions(depth - 1))
    op = draw(st.sampled_from(["+", "-", "*", "/"]))
    return f"({left} {op} {right})" if draw(st.booleans()) else f"-({left}) {op} {right}"


# ---------------------------------------------------------------------------------------------
# Results and LangChain tools


def test_to_tool_call() -> None:
    r = growth_rate(P("70万"), P("170万"))
    call = r.to_tool_call({"start": "70万", "end": "170万"}, "en")
    assert call == ToolCall(
        name="growth_rate",
        inputs={"start": "70万", "end": "170万"},
        output="142.9%",
        formula="(1.7 million − 700,000) ÷ 700,000 = 142.9%",
    )


# ---------------------------------------------------------------------------------------------
# Working back and annualising (sentences shaped like broker results notes)

RESULTS = "三季度归母净利润185.49亿元、同比增长41.21%；上半年归母净利润304.85亿元，同比下降5.00%。"


def test_work_back_divides_by_the_reported_growth() -> None:
    from rag.compute.calculator import work_back

    level, growth = figure(RESULTS, "185.49亿元"), figure(RESULTS, "41.21%")
    result = work_back(level, growth, decrease=False)
    assert result.value.kind == "money" and result.value.currency == "CNY"
    assert abs(result.value.low - D("13135800000")) < D("1e6")
    assert "÷ (1 + 41.21%)" in result.formula("zh")
    fell = work_back(figure(RESULTS, "304.85亿元"), figure(RESULTS, "5.00%"), decrease=True)
    assert abs(fell.value.low - D("32089473684")) < D("1e6")


def test_work_back_of_a_percentage_moved_in_points() -> None:
    from rag.compute.calculator import work_back

    text = "总投资收益率6.42%，同比提升1.04个百分点"
    result = work_back(figure(text, "6.42%"), figure(text, "1.04个百分点"), decrease=False)
    assert result.value.kind == "percent" and result.value.low == D("5.4")  # percents: 1 place
    with pytest.raises(CalculatorError):
        work_back(figure(RESULTS, "185.49亿元"), figure(text, "1.04个百分点"), decrease=False)


def test_annualise_scales_a_part_year_to_twelve_months() -> None:
    from rag.compute.calculator import annualise

    half = figure(RESULTS, "304.85亿元")
    result = annualise(half, 6)
    assert result.value.low == D("60970000000") and "× 12 ÷ 6" in result.formula("en")
    assert abs(annualise(half, 9).value.low - D("40646666667")) < D("1e6")
    assert annualise(half, 10).value.low == D("36582000000")  # January to October × 12 ÷ 10
    with pytest.raises(CalculatorError):
        annualise(figure(RESULTS, "41.21%"), 6)
    with pytest.raises(CalculatorError):
        annualise(half, 12)  # a full year is no part of one


def test_an_amount_spread_over_the_periods_left() -> None:
    from rag.compute.calculator import spread

    left = extract_quantities("约89.8万辆")[0]
    result = spread(left, 2)
    assert result.value.low == D("449000") and result.formula("zh").endswith("= 约44.9万")
    with pytest.raises(CalculatorError):
        spread(left, 0)
    with pytest.raises(CalculatorError):
        spread(extract_quantities("12%")[0], 2)


def test_an_average_keeps_one_decimal_more_than_its_figures():
    figures = [extract_quantities(x)[0] for x in ("1.30%", "1.32%", "1.88%", "1.76%")]
    result = average(figures)
    assert result.text("en") == "1.565%"
    assert result.formula("en").endswith("÷ 4 = 1.565%")
    amounts = [extract_quantities(x)[0] for x in ("120亿元", "80亿元")]
    assert average(amounts).text("zh") == "100亿元"
    with pytest.raises(CalculatorError):
        average(figures[:1])
