"""Tests for the rag/numbers/ package on sentences taken verbatim from the notes in corpus/."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rag.numbers import (
    Quantity,
    QuantityParseError,
    extract_quantities,
    extract_years,
    format_decimal,
    parse_numbers_in_answer,
    parse_quantity,
    quantity,
    render,
    resolve_relative_years,
    same_value,
)

pytestmark = pytest.mark.unit

CORPUS = Path(__file__).resolve().parents[3] / "corpus"
NOTES = sorted(CORPUS.glob("*.txt"))
NOTE_003 = CORPUS / "003_558daa5f5094b1d2.txt"

D = Decimal


def only(text: str, doc_year: int | None = None) -> Quantity:
    qs = extract_quantities(text, doc_year)
    assert len(qs) == 1, [q.raw for q in qs]
    return qs[0]


def find(qs: list[Quantity], raw: str) -> Quantity:
    hits = [q for q in qs if q.raw == raw]
    assert hits, f"{raw!r} not in {[q.raw for q in qs]}"
    return hits[0]


# ---------------------------------------------------------------------------------------------
# Parsing: every form, on sentences from the notes

# (sentence from a note, raw span, low, high, kind, qualifier, unit, currency)
NOTE_FIGURES = [
    (
        "NV2025年的AEC需求量约为70万根,",
        "约为70万根",
        "700000",
        "700000",
        "count",
        "approx",
        "根",
        None,
    ),
    (
        "2026年预计增长至170万根左右,后续可能加单",
        "170万根左右",
        "1700000",
        "1700000",
        "count",
        "approx",
        "根",
        None,
    ),
    ("预计2026年将超过150万根。", "超过150万根", "1500000", "1500000", "count", "over", "根", None),
    ("其余三四十万条为400G规格。", "三四十万条", "300000", "400000", "count", "exact", "条", None),
    (
        "估算谷歌明年至少需要两百多万根AEC",
        "至少需要两百多万根",
        "2000000",
        "2000000",
        "count",
        "at_least",
        "根",
        None,
    ),
    (
        "预计2026年增长至300万条甚至更高。",
        "300万条甚至更高",
        "3000000",
        "3000000",
        "count",
        "at_least",
        "条",
        None,
    ),
    (
        "总需求量约为不到100万根,其中85%为400G",
        "不到100万根",
        "1000000",
        "1000000",
        "count",
        "under",
        "根",
        None,
    ),
    (
        "预计在2026年实现8万至12万台的液冷服务器出货",
        "8万至12万台",
        "80000",
        "120000",
        "count",
        "exact",
        "台",
        None,
    ),
    ("明年出货指引5-10万台。", "5-10万台", "50000", "100000", "count", "exact", "台", None),
    ("宇树2025年的供货规模3,000台", "3,000台", "3000", "3000", "count", "exact", "台", None),
    (
        "例如,目前GB200架构需5,000多根铜连接",
        "5,000多根",
        "5000",
        "5000",
        "count",
        "over",
        "根",
        None,
    ),
    (
        "国内已有两三千家企业具备基础加工能力",
        "两三千家",
        "2000",
        "3000",
        "count",
        "exact",
        "家",
        None,
    ),
    ("每月可生产10万根电源线", "10万根", "100000", "100000", "count", "exact", "根", None),
    ("下载量仅1600次+，一度怀疑", "1600次+", "1600", "1600", "count", "over", "次", None),
    (
        "每台搭载的液冷系统价值量将超过10万美元,",
        "超过10万美元",
        "100000",
        "100000",
        "money",
        "over",
        None,
        "USD",
    ),
    (
        "仅此一项即可支撑约100亿美元的市场规模",
        "约100亿美元",
        "10000000000",
        "10000000000",
        "money",
        "approx",
        None,
        "USD",
    ),
    (
        "由此得出两者合计贡献30亿至50亿美元的市场空间",
        "30亿至50亿美元",
        "3000000000",
        "5000000000",
        "money",
        "exact",
        None,
        "USD",
    ),
    (
        "2026年全球液冷市场总规模预计可达130亿至150亿美元。",
        "130亿至150亿美元",
        "13000000000",
        "15000000000",
        "money",
        "exact",
        None,
        "USD",
    ),
    (
        "总产能约25亿元人民币。",
        "约25亿元人民币",
        "2500000000",
        "2500000000",
        "money",
        "approx",
        None,
        "CNY",
    ),
    (
        "新建泰国工厂提供6亿元人民币左右的AEC产能",
        "6亿元人民币左右",
        "600000000",
        "600000000",
        "money",
        "approx",
        None,
        "CNY",
    ),
    (
        "其中海外部分可保障约8-9亿元产能。",
        "约8-9亿元",
        "800000000",
        "900000000",
        "money",
        "approx",
        None,
        "CNY",
    ),
    (
        "这些产品总价值量约为22,000至23,000美元,",
        "约为22,000至23,000美元",
        "22000",
        "23000",
        "money",
        "approx",
        None,
        "USD",
    ),
    (
        "中国液冷服务器市场规模约能为682亿元，",
        "682亿元",
        "68200000000",
        "68200000000",
        "money",
        "exact",
        None,
        "CNY",
    ),
    (
        "每台机器人对应价值约2000元人民币,",
        "约2000元人民币",
        "2000",
        "2000",
        "money",
        "approx",
        None,
        "CNY",
    ),
    (
        "原文提及300万亿美金",
        "300万亿美金",
        "300000000000000",
        "300000000000000",
        "money",
        "exact",
        None,
        "USD",
    ),
    ("公司40%-50%,NV项目中", "40%-50%", "40", "50", "percent", "exact", None, None),
    ("相较credo等竞争对手毛利率低(credo60%+,", "60%+", "60", "60", "percent", "over", None, None),
    ("北美云厂客户接近50% );", "接近50%", "50", "50", "percent", "approx", None, None),
    ("其中,大约30%的需求是400G规格", "大约30%", "30", "30", "percent", "approx", None, None),
    ("两者价差20%左右。", "20%左右", "20", "20", "percent", "approx", None, None),
    (
        "其中涨幅最低的飞荣达，还下跌了1.31%，",
        "1.31%",
        "1.31",
        "1.31",
        "percent",
        "exact",
        None,
        None,
    ),
    ("谷歌TPU与AEC比例为1:1.25,", "1:1.25", "1.25", "1.25", "ratio", "exact", None, None),
    ("rubin肯定是gb200基础上翻倍的。", "翻倍", "2", "2", "multiple", "exact", None, None),
    (
        "申菱环境液冷产品营收为上年同期的6.5倍，",
        "6.5倍",
        "6.5",
        "6.5",
        "multiple",
        "exact",
        None,
        None,
    ),
    (
        "AEC铜缆产品主要在机柜内部应用,用于3到7米距离内的连接",
        "3到7米",
        "3",
        "7",
        "measure",
        "exact",
        "米",
        None,
    ),
    ("在短短两到三天内迅速拉升板块表现", "两到三天", "2", "3", "duration", "exact", "天", None),
    ("该主题在未来1至3年内将陆续迎来", "1至3年", "1", "3", "duration", "exact", "年", None),
]


@pytest.mark.parametrize(
    ("sentence", "raw", "low", "high", "kind", "qualifier", "unit", "currency"), NOTE_FIGURES
)
def test_note_figures(
    sentence: str,
    raw: str,
    low: str,
    high: str,
    kind: str,
    qualifier: str,
    unit: str | None,
    currency: str | None,
) -> None:
    q = find(extract_quantities(sentence), raw)
    assert sentence[q.start : q.end] == raw
    assert (q.low, q.high) == (D(low), D(high))
    assert (q.kind, q.qualifier, q.unit, q.currency) == (kind, qualifier, unit, currency)


def test_every_note_sentence_is_in_the_corpus() -> None:
    corpus = "".join(p.read_text(encoding="utf-8") for p in NOTES)
    squashed = re.sub(r"\s", "", corpus)
    for sentence, *_ in NOTE_FIGURES:
        assert re.sub(r"\s", "", sentence) in squashed, sentence


def test_fraction_from_note_000() -> None:
    q = only("配套液冷需求约为英伟达的三分之一来估算")
    assert q.kind == "fraction" and q.ratio == (D(1), D(3))
    assert render(q, "zh") == "三分之一" and render(q, "en") == "1/3"


def test_counted_noun_is_kept() -> None:
    assert only("估算谷歌明年至少需要两百多万根AEC").noun == "AEC"
    assert only("预计在2026年实现8万至12万台的液冷服务器出货").noun == "液冷服务器"
    assert only("约为5万颗卫星容量").noun == "卫星"


@pytest.mark.parametrize(
    ("text", "low", "high", "kind", "qualifier", "currency"),
    [
        ("1.7 million cables", "1700000", "1700000", "count", "exact", None),
        ("US$13-15 billion", "13000000000", "15000000000", "money", "exact", "USD"),
        ("US$13 billion to US$15 billion", "13000000000", "15000000000", "money", "exact", "USD"),
        (
            "between 13 and 15 billion dollars",
            "13000000000",
            "15000000000",
            "money",
            "exact",
            "USD",
        ),
        ("RMB 2.5 billion", "2500000000", "2500000000", "money", "exact", "CNY"),
        ("over 2 million", "2000000", "2000000", "number", "over", None),
        ("at least 1.6 million TPUs", "1600000", "1600000", "count", "at_least", None),
        ("less than 1 million", "1000000", "1000000", "number", "under", None),
        ("about 25%", "25", "25", "percent", "approx", None),
        ("~25%", "25", "25", "percent", "approx", None),
        ("142.9%", "142.9", "142.9", "percent", "exact", None),
        ("3.5 percentage points", "3.5", "3.5", "percentage_points", "exact", None),
        ("3个百分点", "3", "3", "percentage_points", "exact", None),
        ("百分之四十", "40", "40", "percent", "exact", None),
        ("2.5bn", "2500000000", "2500000000", "number", "exact", None),
        ("100k", "100000", "100000", "number", "exact", None),
        ("1,234,567.5", "1234567.5", "1234567.5", "number", "exact", None),
        ("a 2x increase", "2", "2", "multiple", "exact", None),
        ("demand doubled", "2", "2", "multiple", "exact", None),
        ("翻两番", "4", "4", "multiple", "exact", None),
        ("5千万", "50000000", "50000000", "number", "exact", None),
        ("1.2万亿", "1200000000000", "1200000000000", "number", "exact", None),
        ("-1.31%", "-1.31", "-1.31", "percent", "exact", None),
        ("RMB2.5bn", "2500000000", "2500000000", "money", "exact", "CNY"),
        ("170 万根", "1700000", "1700000", "count", "exact", None),
        ("$100,000+", "100000", "100000", "money", "over", "USD"),
        ("2000-3000 units", "2000", "3000", "count", "exact", None),
    ],
)
def test_english_and_other_forms(
    text: str, low: str, high: str, kind: str, qualifier: str, currency: str | None
) -> None:
    q = only(text)
    assert (q.low, q.high, q.kind, q.qualifier, q.currency) == (
        D(low),
        D(high),
        kind,
        qualifier,
        currency,
    )


@pytest.mark.parametrize(
    "text",
    [
        "GB200架构需要新的设计",
        "800G和1.6T规格",
        "1.6TAEC技术进展如何",
        "目前主要受限于224g线缆",
        "H100 and B200 chips",
        "GPT-4",
        "2026年第一季度",
        "2025/11/12 22:40:10",
        "液冷的二阶段20251222",
        "在2月7日-2月13日",
        "2024年五六月份",
        "第一阶段始于2023年10月",
        "行业整体发展周期已明确延伸至2027至2028年",
        "单一零部件的生产能力",
        "Q1 2026",
        "https://inews.gtimg.com/om_ls/Oss8Oel7QCC_640360/0",
    ],
)
def test_names_dates_and_words_are_not_figures(text: str) -> None:
    assert extract_quantities(text) == []


def test_years_are_not_counts_across_the_corpus() -> None:
    for path in NOTES:
        text = path.read_text(encoding="utf-8")
        years = extract_years(text)
        for q in extract_quantities(text):
            assert q.start is not None and q.end is not None
            assert text[q.start : q.end] == q.raw
            assert not any(y.start < q.end and q.start < y.end for y in years), q.raw
            assert not (
                q.kind in ("count", "number") and q.low in range(2000, 2031) and "年" in q.raw
            )


def test_extract_years() -> None:
    text = (
        "行业周期延伸至2027至2028年,2025-11-12发布,NV2025年需求,27年放量,FY2026收入,in 2026 demand"
    )
    assert [(y.raw, y.year, y.kind) for y in extract_years(text)] == [
        ("2027", 2027, "year"),
        ("2028", 2028, "year"),
        ("2025-11-12", 2025, "date"),
        ("2025", 2025, "year"),
        ("27", 2027, "year"),
        ("2026", 2026, "year"),
        ("2026", 2026, "year"),
    ]


def test_english_year_spans_are_years() -> None:
    text = "2022-2027 CAGR of 56%, and 2026 AEC demand"
    assert [q.raw for q in extract_quantities(text)] == ["56%"]
    assert [y.year for y in extract_years(text)] == [2022, 2027, 2026]


def test_short_years_are_not_durations() -> None:
    assert extract_years("近20年来的发展,未来1至3年内") == []
    assert only("近20年来").kind == "duration"


def test_resolve_relative_years() -> None:
    text = "今年(2025年)国内需求不到100万根,明年至少两百万,后年更多,去年较少; next year too"
    got = [(text[s:e], y) for (s, e), y in resolve_relative_years(text, 2025)]
    assert got == [
        ("今年", 2025),
        ("明年", 2026),
        ("后年", 2027),
        ("去年", 2024),
        ("next year", 2026),
    ]


def test_year_and_subject_attach_to_the_figure() -> None:
    q = only("英伟达(NV)2026年AEC需求量预计为170万根")
    assert q.year == 2026
    assert q.subject is not None
    assert all(word in q.subject for word in ("英伟达", "NV", "AEC"))

    text = "NV2025年的AEC需求量约为70万根,2026年预计增长至170万根左右,后续可能加单"
    first, second = extract_quantities(text)
    assert (first.year, second.year) == (2025, 2026)
    assert second.subject is not None and "NV" in second.subject and "AEC" in second.subject


def test_relative_year_attaches_with_doc_year() -> None:
    sentence = "谷歌TPU与AEC比例为1:1.25,估算谷歌明年至少需要两百多万根AEC"
    aec = find(extract_quantities(sentence, doc_year=2025), "至少需要两百多万根")
    assert aec.year == 2026
    assert find(extract_quantities(sentence), "至少需要两百多万根").year is None


def test_year_does_not_cross_sentences() -> None:
    text = "Meta2025年的总需求量约为110万根。其中,800G规格占比超过100万条"
    assert find(extract_quantities(text), "超过100万条").year is None


def test_offsets_on_whole_notes() -> None:
    text = NOTE_003.read_text(encoding="utf-8")
    qs = extract_quantities(text, doc_year=2025)
    assert len(qs) > 40
    for q in qs:
        assert q.start is not None and q.end is not None
        assert text[q.start : q.end] == q.raw
    starts = [q.start for q in qs]
    assert starts == sorted(starts)


# ---------------------------------------------------------------------------------------------
# Parsing single figures and answers


def test_parse_quantity() -> None:
    assert parse_quantity("170万").low == D(1700000)
    assert parse_quantity(" 两百 ").low == D(200)
    assert parse_quantity("2026").low == D(2026)  # a bare number here, not a year
    with pytest.raises(QuantityParseError):
        parse_quantity("no figure")
    with pytest.raises(QuantityParseError):
        parse_quantity("70万 and 170万")


def test_parse_numbers_in_answer_en() -> None:
    answer = (
        "1. NV's AEC demand is about 1.7 million cables in 2026 [1], up 142.9% from 2025 [1].\n"
        "2. The market could reach US$13–15 billion [2]; Google needs over 2 million AEC [3]."
    )
    got = [(q.raw, q.low, q.high, q.qualifier) for q in parse_numbers_in_answer(answer)]
    assert got == [
        ("about 1.7 million", D(1700000), D(1700000), "approx"),
        ("142.9%", D("142.9"), D("142.9"), "exact"),
        ("US$13–15 billion", D(13 * 10**9), D(15 * 10**9), "exact"),
        ("over 2 million", D(2000000), D(2000000), "over"),
    ]


def test_parse_numbers_in_answer_zh() -> None:
    answer = "英伟达2026年AEC需求约170万根[1]，较2025年的约70万根增长142.9%[1]；液冷市场130亿至150亿美元[2]。"
    got = [q.raw for q in parse_numbers_in_answer(answer)]
    assert got == ["约170万根", "约70万根", "142.9%", "130亿至150亿美元"]


# ---------------------------------------------------------------------------------------------
# Comparison


@pytest.mark.parametrize(
    ("answer", "evidence", "equal"),
    [
        ("1.7 million", "170万根", True),
        ("about 1.7 million cables", "170万根左右", True),
        ("170,000", "170万根", False),
        ("US$13-15 billion", "130亿至150亿美元", True),
        ("RMB 13-15 billion", "130亿至150亿美元", False),
        ("US$13 billion", "130亿至150亿美元", False),
        ("RMB 2.5 billion", "约25亿元人民币", True),
        ("142.9%", "142.857%", True),
        ("144%", "142.857%", False),
        ("25%", "25", False),
        ("1:1.25", "4:5", True),
        ("over 2 million", "两百多万根", True),
    ],
)
def test_same_value(answer: str, evidence: str, equal: bool) -> None:
    assert same_value(parse_quantity(answer), parse_quantity(evidence)) is equal


def test_same_value_tolerance_is_relative() -> None:
    a, b = parse_quantity("100万"), parse_quantity("101万")
    assert not same_value(a, b)
    assert same_value(a, b, tolerance="0.02")


# ---------------------------------------------------------------------------------------------
# Rendering


@pytest.mark.parametrize(
    ("text", "en", "zh"),
    [
        ("170万根", "1.7 million", "170万根"),  # 根 counts whatever is long: no one noun
        ("130亿至150亿美元", "US$13–15 billion", "130亿至150亿美元"),
        ("约25亿元人民币", "about RMB 2.5 billion", "约25亿元"),
        ("两百多万根", "over 2 million", "超过200万根"),
        ("超过10万美元", "over US$100,000", "超过10万美元"),
        ("不到100万根", "less than 1 million", "不到100万根"),
        ("至少200万", "at least 2 million", "至少200万"),
        ("8万至12万台", "80,000–120,000 units", "8万至12万台"),
        ("约为5万颗卫星", "about 50,000 satellites", "约5万颗"),
        ("40%-50%", "40%–50%", "40%至50%"),
        ("1:1.25", "1:1.25", "1:1.25"),
        ("3个百分点", "3 percentage points", "3个百分点"),
        ("6.5倍", "6.5x", "6.5倍"),
        ("一个月", "1 month", "1个月"),
        ("682亿元", "RMB 68.2 billion", "682亿元"),
        ("8.8亿元", "RMB 880 million", "8.8亿元"),
    ],
)
def test_render(text: str, en: str, zh: str) -> None:
    q = parse_quantity(text)
    assert render(q, "en") == en
    assert render(q, "zh") == zh


def test_render_rounds_without_noise() -> None:
    q = quantity(D(1) / D(3) * 10**6, kind="count", unit="根")
    assert render(q, "en") == "333,333.33"
    assert render(q, "en", counted="cables") == "333,333.33 cables"  # the question's noun
    assert render(quantity("1700000.0000000001"), "en") == "1.7 million"
    assert format_decimal(D("0.000001")) == "0.000001"
    assert format_decimal(D("142.857142"), 1) == "142.9"


# ---------------------------------------------------------------------------------------------
# Properties

mantissas = st.integers(min_value=1, max_value=999)
exponents = st.integers(min_value=0, max_value=11)
values = st.builds(lambda m, e: D(m) * D(10) ** e, mantissas, exponents)
qualifiers = st.sampled_from(["exact", "approx", "over", "at_least", "under", "at_most"])
kinds = st.sampled_from(["count", "money", "percent"])


@st.composite
def quantities(draw: st.DrawFn) -> Quantity:
    kind = draw(kinds)
    low = draw(values)
    high = draw(st.one_of(st.just(low), values))
    return quantity(
        low,
        high,
        kind=kind,
        qualifier=draw(qualifiers),
        unit="根" if kind == "count" else None,
        currency=draw(st.sampled_from(["USD", "CNY"])) if kind == "money" else None,
    )


@given(quantities(), st.sampled_from(["zh", "en"]))
@settings(max_examples=300, deadline=None)
def test_render_then_parse_round_trips(q: Quantity, language: str) -> None:
    text = render(q, language)  # type: ignore[arg-type]
    back = parse_quantity(text)
    assert same_value(back, q, tolerance=0), (text, back)
    assert back.qualifier == q.qualifier, text
    assert back.currency == q.currency, text
    assert back.is_range == q.is_range


@given(st.integers(1, 9999), st.integers(1, 9999))
def test_wan_times_wan_is_yi(a: int, b: int) -> None:
    wan_a, wan_b = parse_quantity(f"{a}万"), parse_quantity(f"{b}万")
    assert wan_a.low * wan_b.low == parse_quantity(f"{a * b}亿").low


@given(
    values,
    values,
    st.sampled_from(["至", "到", "-", "–", "~"]),
    st.sampled_from(["万根", "亿美元", "%"]),
)
def test_ranges_are_ordered(a: Decimal, b: Decimal, sep: str, tail: str) -> None:
    text = f"{format_decimal(a)}{tail}{sep}{format_decimal(b)}{tail}"
    for q in extract_quantities(text):
        assert q.low <= q.high


@given(st.floats(min_value=-1e15, max_value=1e15, allow_nan=False, allow_infinity=False))
def test_no_float_noise_in_rendering(x: float) -> None:
    q = quantity(D(repr(x)), kind="money", currency="USD")
    for language in ("en", "zh"):
        text = render(q, language)  # type: ignore[arg-type]
        assert "e" not in text.lower().replace("billion", "").replace("trillion", "")
        assert not re.search(r"\d\.\d{3,}", text) or abs(x) < 1, text
        assert not re.search(r"0{6,}\d|9{6,}", text.split(".")[-1]) or abs(x) < 1, text


fragments = st.sampled_from(
    [
        "170万根",
        "约",
        "超过",
        "2026年",
        "GB200",
        "1.6T",
        "至",
        "-",
        "%",
        "，",
        "。",
        "两百多万",
        "AEC",
        " ",
        "US$",
        "13",
        "billion",
        "1:1.25",
        "[1]",
    ]
)


@given(st.lists(fragments, max_size=12).map("".join))
def test_offsets_always_match_raw(text: str) -> None:
    for q in extract_quantities(text, doc_year=2025):
        assert q.start is not None and q.end is not None
        assert text[q.start : q.end] == q.raw
        assert q.low <= q.high


def test_basis_points_are_hundredths_of_a_percentage_point() -> None:
    [up, down] = extract_quantities("total investment yield up 104bp, NIM down 12 bps")
    assert (up.kind, up.low) == ("percentage_points", Decimal("1.04"))
    assert (down.kind, down.low) == ("percentage_points", Decimal("0.12"))


def test_chinese_answers_keep_the_latin_units_chinese_notes_write():
    from rag.numbers import extract_quantities, render

    (capacity,) = extract_quantities("新增风电并网容量61.09GW", 2025)
    assert render(capacity, "zh") == "61.09GW"
    (count,) = extract_quantities("出货约16万片", 2025)
    assert render(count, "zh") == "约16万片"


@pytest.mark.unit
@pytest.mark.parametrize(
    ("text", "unit", "en", "zh"),
    [
        ("组件均价0.70元/W", "/W", "RMB 0.7/W", "0.7元/W"),
        ("碳酸锂报价7.45万元/吨", "/吨", "RMB 74,500/tonne", "7.45万元/吨"),
        ("单价约39万元/台", "/台", "about RMB 390,000/unit", "约39万元/台"),
        ("at US$2.5/share", "/share", "US$2.5/share", "2.5美元/share"),
    ],
)
def test_a_price_keeps_its_denominator(text: str, unit: str, en: str, zh: str) -> None:
    (q,) = extract_quantities(text)
    assert q.kind == "money" and q.unit == unit
    assert render(q, "en") == en and render(q, "zh") == zh


@pytest.mark.unit
@pytest.mark.parametrize(
    ("text", "currency", "en", "zh"),
    [
        ("合并营收86.1万亿韩元", "KRW", "KRW 86.1 trillion", "86.1万亿韩元"),
        ("revenue of £3.2bn", "GBP", "£3.2 billion", "32亿英镑"),
        ("营收2000万新台币", "TWD", "NT$20 million", "2000万新台币"),
    ],
)
def test_more_currencies_are_money(text: str, currency: str, en: str, zh: str) -> None:
    (q,) = extract_quantities(text)
    assert q.kind == "money" and q.currency == currency
    assert render(q, "en") == en and render(q, "zh") == zh


@pytest.mark.unit
def test_month_ranges_and_lists_are_periods_not_figures():
    from rag.numbers import extract_quantities

    assert [q.raw for q in extract_quantities("1-10月累计约46.6万辆，1~9月326万辆")] == [
        "约46.6万辆",
        "326万辆",
    ]
    assert [q.raw for q in extract_quantities("11、12两个月合计还要卖大约90万辆")] == ["大约90万辆"]
    assert [q.kind for q in extract_quantities("周期为5-10个月")] == ["duration"]


@pytest.mark.unit
def test_a_lowercase_m_is_a_million_after_money_or_before_a_units_acronym_not_metres():
    from rag.numbers import extract_quantities

    (profit,) = extract_quantities("profit attributable rose to US$264.3m.")
    assert (profit.kind, profit.low, profit.currency) == ("money", 264_300_000, "USD")
    (volume,) = extract_quantities("handled 113.28m TEU in 9M25")
    assert volume.low == 113_280_000
    assert extract_quantities("a 7m cable") == []


@pytest.mark.unit
def test_general_classifiers_render_the_thing_they_count_in_english():
    from rag.numbers import extract_quantities, render

    rendered = [render(q, "en") for q in extract_quantities("交付70,289辆，共94笔交易，2架")]
    assert rendered == ["70,289 vehicles", "94 deals", "2 aircraft"]


@pytest.mark.unit
def test_a_latin_unit_after_a_chinese_scale_is_measured():
    found = extract_quantities("今年甲公司出货约124亿Gb、份额52%；乙港前三季度吞吐量1.5亿TEU")
    assert [(q.raw, q.kind, q.unit) for q in found] == [
        ("约124亿Gb", "measure", "Gb"),
        ("52%", "percent", None),
        ("1.5亿TEU", "measure", "TEU"),
    ]
    assert extract_quantities("800G光模块") == []  # a spec, no scale before it


def test_pct_in_a_chinese_note_is_percentage_points_and_in_english_a_percent():
    [share, change] = extract_quantities("海外市场市占率29.1%，同比提升2.1pct，欧洲份额约46%")[:2]
    assert (share.kind, change.kind, change.low) == ("percent", "percentage_points", Decimal("2.1"))
    [wire] = extract_quantities("Profit rose 5 pct in the quarter")
    assert wire.kind == "percent"


def test_a_counted_noun_is_never_read_past_the_figures_clause():
    [done, _] = extract_quantities("交付量超过500台，公司计划明年提升至1万台")
    assert done.noun is None and done.unit == "台"


def test_english_dates_a_figure_with_the_year_written_after_it() -> None:
    text = (
        "Average fare per seat was US$1,280 in 3Q25, against US$1,759 in 3Q24. "
        "We forecast RMB 33.8bn for this year and RMB 22.5bn for next year. "
        "Profit fell to RMB 21.00bn from RMB 43.9bn a year earlier. "
        "The index was 2,270 points of a year earlier."
    )
    years = {q.raw: q.year for q in extract_quantities(text, doc_year=2025)}
    assert years["US$1,280"] == 2025 and years["US$1,759"] == 2024  # not 3Q25's year
    assert (years["RMB 33.8bn"], years["RMB 22.5bn"]) == (2025, 2026)
    assert years["RMB 43.9bn"] == 2024 and years["RMB 21.00bn"] is None
    assert years["2,270"] == 2024
    # a comparison word between is no year's preposition
    assert find(extract_quantities("RMB 5bn versus 2024 levels."), "RMB 5bn").year is None


def test_a_period_code_dates_the_figures_after_it() -> None:
    qs = extract_quantities("3Q25 revenue was RMB 192.87bn, and 1H24 profit RMB 9bn.")
    assert [q.year for q in qs] == [2025, 2024]


@pytest.mark.unit
def test_a_range_whose_far_end_carries_the_percent_or_basis_points():
    from decimal import Decimal

    for text, low, high, kind in [
        ("revenue should grow 5-10% next year", "5", "10", "percent"),
        ("预计增长0-2%", "0", "2", "percent"),
        ("NIMs to decline by a further 5-10bp", "0.05", "0.1", "percentage_points"),
    ]:
        (q,) = extract_quantities(text)
        assert (q.low, q.high, q.kind) == (Decimal(low), Decimal(high), kind), text
    # a change and the level it reached are two figures, not a range
    assert len(extract_quantities("rose 60.5% to RMB167.80bn")) == 2


@pytest.mark.unit
def test_a_comparisons_base_year_does_not_date_the_clause_after_it():
    text = "The NIM was 1.30%, down 12bp from full-year 2024 and down 13bp YoY."
    years = {q.raw: q.year for q in extract_quantities(text, 2025)}
    assert years["13bp"] is None  # not 2024: that is the base of the 12bp
    assert {q.raw: q.year for q in extract_quantities("RMB 5bn in 2024 and RMB 6bn in 2025.")} == {
        "RMB 5bn": 2024,
        "RMB 6bn": 2025,
    }


@pytest.mark.unit
def test_years_listed_then_given_one_figure_each_date_every_list_of_one_kind() -> None:
    sentence = "我们预测公司今年、明年EPS分别为3.20元和3.65元，对应PE约20倍和18倍。"
    years = {q.raw: q.year for q in extract_quantities(sentence, doc_year=2025)}
    assert years == {"3.20元": 2025, "3.65元": 2026, "约20倍": 2025, "18倍": 2026}
    english = "We forecast EPS of RMB3.20 and RMB3.65 for 2025 and 2026 respectively."
    assert [q.year for q in extract_quantities(english)] == [2025, 2026]


def test_livestock_parcels_and_weights_are_counted_or_measured() -> None:
    found = {
        q.raw: q
        for q in extract_quantities(
            "10月销售商品猪707.6万头，件量15.04亿票，均价5.3元/斤，出栏体重120公斤"
        )
    }
    assert found["707.6万头"].kind == "count" and found["707.6万头"].unit == "头"
    assert found["15.04亿票"].kind == "count"
    assert found["5.3元/斤"].unit == "/斤"
    assert found["120公斤"].kind == "measure"


def test_an_a_share_code_alone_in_brackets_after_a_name_is_no_figure() -> None:
    raws = [q.raw for q in extract_quantities("远航股份（002714）10月销量707.6万头")]
    assert raws == ["707.6万头"]
    assert [q.raw for q in extract_quantities("收入（123456）万元")] == ["123456"]


def test_m_before_a_counted_noun_in_english_prose_is_a_million() -> None:
    shipped = extract_quantities("Xiaomi shipped more than 5.4m air conditioners in 2Q25.")
    assert [(q.kind, q.low) for q in shipped] == [("count", Decimal("5400000"))]
    assert extract_quantities("76m consumers")[0].low == Decimal("76000000")
    # a length stays a length
    assert extract_quantities("a 7m long cable") == [] and extract_quantities("2m cables") == []
