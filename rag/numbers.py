"""Figures in Chinese and English text: parse, locate, compare and render them.

Every figure a user asks about in these notes is a quantity with a multiplier (万/亿/million),
a unit or currency, and often a qualifier (约/超过/不到): "170万根", "130亿至150亿美元",
"两百多万根", "超过10万美元". This module turns such text into `Quantity` values with exact
`Decimal` numbers and offsets into the source, so an answer's "1.7 million" can be checked
against the evidence's "170万" and rendered back in either language without float noise.

Years and dates are recognised (so "2026年" is never read as a count of 2026) and exposed
through `extract_years` / `resolve_relative_years`; they are not quantities.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, localcontext
from functools import cache
from typing import Literal

import cn2an
from pydantic import BaseModel, ConfigDict, field_validator

from rag.types import Language

Kind = Literal[
    "count",  # a counted thing: 170万根, 8万台, 1.7 million cables
    "money",  # has a currency: 130亿美元, RMB 2.5 billion
    "percent",  # 40%, 百分之四十
    "percentage_points",  # 3个百分点, 3 pp
    "ratio",  # 1:1.25
    "fraction",  # 三分之一
    "multiple",  # 2倍, 翻倍, 2x
    "duration",  # 1至3年, 一个月, 6分钟
    "measure",  # 3到7米, 2921字
    "number",  # a bare number with no unit
]
Qualifier = Literal["exact", "approx", "over", "at_least", "under", "at_most"]
Currency = Literal["USD", "CNY", "HKD", "EUR", "JPY"]

LOWER_BOUNDS: frozenset[str] = frozenset({"over", "at_least"})
UPPER_BOUNDS: frozenset[str] = frozenset({"under", "at_most"})


class Quantity(BaseModel):
    """One figure. `low == high` for a point value; `start`/`end` index the source text.

    Values are in base units: 170万根 has low=1700000; 40% has low=40 (percent, not 0.4);
    a ratio "1:1.25" keeps its terms in `ratio` and low=high=right/left.
    Computed quantities (calculator results) have no span: start=end=None, raw="".
    """

    model_config = ConfigDict(frozen=True)

    low: Decimal
    high: Decimal
    kind: Kind
    qualifier: Qualifier = "exact"
    unit: str | None = None  # measure word (根, 台, 个月) or English unit noun (cables)
    noun: str | None = None  # the counted thing when the text names it (AEC, 卫星)
    currency: Currency | None = None
    ratio: tuple[Decimal, Decimal] | None = None
    start: int | None = None
    end: int | None = None
    raw: str = ""
    year: int | None = None  # nearest preceding year in the same sentence
    subject: str | None = None  # the words of the sentence before the figure

    @field_validator("low", "high")
    @classmethod
    def _canonical(cls, v: Decimal) -> Decimal:
        return canonical(v)

    @property
    def is_range(self) -> bool:
        return self.low != self.high

    @property
    def value(self) -> Decimal | None:
        """The point value, or None for a range."""
        return None if self.is_range else self.low


def canonical(v: Decimal) -> Decimal:
    """1700000.0 → 1700000, 1.250 → 1.25: one spelling per value, never scientific notation."""
    if not v.is_finite():
        return v
    if v == v.to_integral_value():
        return v.quantize(Decimal(1))
    return v.normalize() if v.normalize().as_tuple().exponent > -28 else v  # type: ignore[operator]


@dataclass(frozen=True)
class YearMention:
    start: int
    end: int
    raw: str
    year: int
    kind: Literal["year", "date"]  # "date" also carries a month/day: 2025-11-12, 20251222


class QuantityParseError(ValueError):
    """A string that should hold exactly one figure holds none or several."""


def quantity(
    low: Decimal | int | str,
    high: Decimal | int | str | None = None,
    *,
    kind: Kind = "number",
    qualifier: Qualifier = "exact",
    unit: str | None = None,
    noun: str | None = None,
    currency: Currency | None = None,
    ratio: tuple[Decimal, Decimal] | None = None,
) -> Quantity:
    """Build a computed (span-less) Quantity; a range is stored ordered low <= high."""
    lo = Decimal(low)
    hi = lo if high is None else Decimal(high)
    lo, hi = min(lo, hi), max(lo, hi)
    return Quantity(
        low=lo,
        high=hi,
        kind=kind,
        qualifier=qualifier,
        unit=unit,
        noun=noun,
        currency=currency,
        ratio=ratio,
    )


# ---------------------------------------------------------------------------------------------
# Vocabulary

_CN_DIGITS = "零〇一二两三四五六七八九"
_CN_NUM_CHARS = _CN_DIGITS + "十百千万亿点"
_CN_DIGIT_VALUE = {c: i for i, c in enumerate("零一二三四五六七八九")} | {"两": 2, "〇": 0}
_MULT_CHAR = {"十": 10, "百": 100, "千": 1000, "万": 10**4, "亿": 10**8}
_EN_SCALE = {
    "thousand": 10**3,
    "k": 10**3,
    "million": 10**6,
    "mn": 10**6,
    "m": 10**6,
    "billion": 10**9,
    "bn": 10**9,
    "b": 10**9,
    "trillion": 10**12,
    "tn": 10**12,
}

# Prefix qualifiers, longest first so "约为" wins over "约".
_PREFIX_QUALIFIERS: dict[str, Qualifier] = {
    "大约": "approx",
    "约为": "approx",
    "大概": "approx",
    "接近": "approx",
    "将近": "approx",
    "约": "approx",
    "超过": "over",
    "多于": "over",
    "高于": "over",
    "逾": "over",
    "至少": "at_least",
    "不少于": "at_least",
    "不低于": "at_least",
    "不到": "under",
    "不足": "under",
    "少于": "under",
    "低于": "under",
    "不超过": "at_most",
    "最多": "at_most",
    "approximately": "approx",
    "roughly": "approx",
    "around": "approx",
    "about": "approx",
    "nearly": "approx",
    "almost": "approx",
    "some": "approx",
    "~": "approx",
    "≈": "approx",
    "more than": "over",
    "over": "over",
    "above": "over",
    "in excess of": "over",
    "at least": "at_least",
    "no less than": "at_least",
    "less than": "under",
    "fewer than": "under",
    "below": "under",
    "under": "under",
    "up to": "at_most",
    "at most": "at_most",
    "no more than": "at_most",
}
_SUFFIX_QUALIFIERS: dict[str, Qualifier] = {
    "左右": "approx",
    "上下": "approx",
    "甚至更高": "at_least",
    "或更高": "at_least",
    "以上": "at_least",
    "以下": "at_most",
    "以内": "at_most",
    "+": "over",
    " or more": "at_least",
    " or less": "at_most",
}
# Words allowed between a prefix qualifier and its figure: "至少需要两百多万根", "约为70万根".
_QUALIFIER_FILLERS = ("需要", "达到", "达", "为", "是", "有")

_CURRENCY_PREFIX: dict[str, Currency] = {
    "US$": "USD",
    "USD": "USD",
    "$": "USD",
    "HK$": "HKD",
    "RMB": "CNY",
    "CNY": "CNY",
    "¥": "CNY",
    "￥": "CNY",
    "€": "EUR",
    "EUR": "EUR",
}
_CURRENCY_SUFFIX: dict[str, Currency] = {
    "元人民币": "CNY",
    "美元": "USD",
    "美金": "USD",
    "港元": "HKD",
    "港币": "HKD",
    "欧元": "EUR",
    "日元": "JPY",
    "人民币": "CNY",
    "元": "CNY",
    " US dollars": "USD",
    " dollars": "USD",
    " USD": "USD",
    " yuan": "CNY",
    " RMB": "CNY",
    " CNY": "CNY",
}

# Measure words. Durations and measures are recognised so "3个月" is not read as 3 things.
_COUNT_UNITS = tuple("根条台颗片个家块套张只件辆人次座架款种项部枚份户位笔批轮")
_DURATION_UNITS = "个月 个季度 小时 分钟 秒 年 月 天 周".split()  # noqa: SIM905
_MEASURE_UNITS = (
    "千米 公里 米 吨 千瓦时 千瓦 兆瓦时 兆瓦 瓦 TWh GWh MWh kWh Wh GW MW kW 字 平方米".split()
)  # noqa: SIM905

# English names for measure words and for the nouns these notes count (zh → en).
_UNIT_EN = {
    "根": "cables",
    "条": "cables",
    "台": "units",
    "颗": "chips",
    "片": "pieces",
    "家": "companies",
    "次": "times",
    "人": "people",
    "套": "sets",
    "件": "items",
    "种": "types",
    "项": "items",
    "年": "years",
    "个月": "months",
    "月": "months",
    "天": "days",
    "周": "weeks",
    "小时": "hours",
    "分钟": "minutes",
    "秒": "seconds",
    "个季度": "quarters",
    "米": "metres",
    "千米": "km",
    "公里": "km",
    "吨": "tonnes",
    "字": "characters",
}
_NOUN_EN = {
    "液冷服务器": "liquid-cooled servers",
    "服务器": "servers",
    "卫星": "satellites",
    "机柜": "racks",
    "电源线": "power cables",
    "铜连接": "copper links",
    "铜缆": "copper cables",
    "线缆": "cables",
    "生产线": "production lines",
    "产线": "production lines",
    "企业": "companies",
    "公司": "companies",
    "机器人": "robots",
    "交易日": "trading days",
    "芯片": "chips",
    "组件": "components",
    "产品": "products",
}
_UNIT_EN_TO_KIND: dict[str, Kind] = {
    "years": "duration",
    "months": "duration",
    "days": "duration",
    "weeks": "duration",
    "hours": "duration",
    "minutes": "duration",
    "metres": "measure",
    "meters": "measure",
}
_EN_STOPWORDS = frozenset(
    """a an the and or of in on at to by for from with per is are was were be been this that
    these those which who than as it its into over under about around up down more less fewer
    percent cent percentage point points pp ppt times x thousand million billion trillion
    bn mn k m b tn yuan dollars usd rmb cny year years""".split()  # noqa: SIM905
)

# ---------------------------------------------------------------------------------------------
# Years, dates and other number-like things that are not figures

_YEAR_TAIL = r"(?=\s*(?:年|财年))"
_RE_DATE = re.compile(
    r"(?<!\d)((?:19|20)\d{2})\s*(?:[-/.]\s*\d{1,2}\s*[-/.]\s*\d{1,2}(?!\d)|年\s*\d{1,2}\s*月\s*\d{1,2}\s*日)"
)
_RE_COMPACT_DATE = re.compile(
    r"(?<!\d)((?:19|20)\d{2})(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])(?![\d万亿千百%.,])"
)
_RE_YEAR_RANGE = re.compile(
    r"(?<!\d)((?:19|20)\d{2})\s*(?:至|到|-|–|—|~|～|和|、)\s*((?:19|20)\d{2})\s*年"
)
_RE_YEAR = re.compile(r"(?<!\d)((?:19|20)\d{2})" + _YEAR_TAIL + r"|(?:FY|CY)\s?((?:19|20)\d{2})")
# "27年" is 2027 in these notes' shorthand, but "近20年", "1至3年内", "10年前" are durations.
_RE_SHORT_YEAR = re.compile(
    r"(?<![\d.])(?<!近)(?<!过去)(?<!未来)(?<!连续)(?<!每)([1-4]\d)年(?!内|间|来|前|后|左右|以上|以内|之内)"
)
_RE_MONTH_DAY = re.compile(
    r"(?<![\d.])\d{1,2}\s*月(?:\s*\d{1,2}\s*日)?|(?<![\d.])\d{1,2}\s*日(?!元)"
    r"|(?<!第)[一二三四五六七八九十]{1,3}月份?"
)
_RE_QUARTER = re.compile(
    r"第?[一二三四1-4]季度|(?<![A-Za-z0-9])(?:Q[1-4]|[1-4]Q|[12]H|H[12])(?![A-Za-z0-9])|[上下]半年"
    # Period codes with their year: 9M25, 1H25, 3Q24, FY2024, Q3'25 (not "9 million").
    r"|(?<![A-Za-z0-9])(?:9M|[1-4]Q|[12]H|Q[1-4]|H[12]|FY)\s?'?(?:20)?\d{2}(?![A-Za-z0-9])"
)
# Stock codes are names: 601628.SH, 2628.HK, 300750.SZ, NVDA.O.
_RE_STOCK_CODE = re.compile(
    r"(?<![\dA-Za-z])(?:\d{6}\.(?:SH|SZ|SS|BJ)|\d{4,5}\.HK|\d{4}\.T)(?![A-Za-z])", re.IGNORECASE
)
_RE_TIME = re.compile(r"(?<![\d:])(?:\d{2}:\d{2}(?::\d{2})?|\d{1,2}:\d{2}:\d{2})(?![\d:])")
_RE_CITATION_MARK = re.compile(
    r"\[\s*\d+(?:\s*[,，、-]\s*\d+)*\s*\]|【\s*\d+\s*】|^\s*\d+[.)、]\s", re.M
)
_RE_URL = re.compile(r"https?://\S+|www\.\S+")
_RE_ORDINAL = re.compile(r"第[\d" + _CN_NUM_CHARS + r"]+")

_RELATIVE_YEARS: dict[str, int] = {
    "今年": 0,
    "本年": 0,
    "明年": 1,
    "后年": 2,
    "去年": -1,
    "前年": -2,
    "this year": 0,
    "next year": 1,
    "last year": -1,
    "the year after next": 2,
}
_RE_RELATIVE_YEAR = re.compile(
    "|".join(re.escape(k) for k in sorted(_RELATIVE_YEARS, key=len, reverse=True)), re.I
)


def extract_years(text: str) -> list[YearMention]:
    """Absolute year mentions: 2025年, 2027至2028年, FY2026, 27年 (→2027), dates 2025-11-12.

    English bare years ("in 2026", "2026 AEC demand") come from the figure scanner, which is
    where a bare 2026 is told apart from "2026台" or "2,026".
    """
    found: list[YearMention] = []
    taken: list[tuple[int, int]] = []

    def add(start: int, end: int, year: int, kind: Literal["year", "date"]) -> None:
        if any(s < end and start < e for s, e in taken):
            return
        taken.append((start, end))
        found.append(YearMention(start, end, text[start:end], year, kind))

    for m in _RE_DATE.finditer(text):
        add(m.start(), m.end(), int(m.group(1)), "date")
    for m in _RE_COMPACT_DATE.finditer(text):
        add(m.start(), m.end(), int(m.group(1)), "date")
    for m in _RE_YEAR_RANGE.finditer(text):
        add(m.start(1), m.end(1), int(m.group(1)), "year")
        add(m.start(2), m.end(2), int(m.group(2)), "year")
    for m in _RE_YEAR.finditer(text):
        g = 1 if m.group(1) else 2
        add(m.start(g), m.end(g), int(m.group(g)), "year")
    for m in _RE_SHORT_YEAR.finditer(text):
        add(m.start(1), m.end(1), 2000 + int(m.group(1)), "year")
    for y in _scan(text)[1]:
        add(y.start, y.end, y.year, "year")
    return sorted(found, key=lambda y: y.start)


def resolve_relative_years(text: str, doc_year: int) -> list[tuple[tuple[int, int], int]]:
    """(span, year) for 今年/明年/后年/去年/前年 and "this/next/last year", given the note's year."""
    return [
        ((m.start(), m.end()), doc_year + _RELATIVE_YEARS[m.group(0).lower()])
        for m in _RE_RELATIVE_YEAR.finditer(text)
    ]


def _masked_spans(text: str) -> list[tuple[int, int]]:
    """Spans holding years, dates, times, quarters, months, ordinals and citation marks."""
    spans: list[tuple[int, int]] = []
    for rx in (
        _RE_DATE,
        _RE_COMPACT_DATE,
        _RE_YEAR_RANGE,
        _RE_YEAR,
        _RE_TIME,
        _RE_QUARTER,
        _RE_MONTH_DAY,
        _RE_CITATION_MARK,
        _RE_ORDINAL,
        _RE_URL,
        _RE_STOCK_CODE,
    ):
        spans.extend((m.start(), m.end()) for m in rx.finditer(text))
    spans.extend((m.start(1), m.end()) for m in _RE_SHORT_YEAR.finditer(text))
    return spans


# ---------------------------------------------------------------------------------------------
# Scanning

_ARABIC = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?"
_RE_ARABIC = re.compile(_ARABIC)
_RE_CJK = re.compile(f"[{_CN_NUM_CHARS}]+")
_RE_START = re.compile(
    rf"[-−]?\d|[{_CN_DIGITS}十]|百分之|翻(?:倍|番|一番|两番)|\b(?:doubl(?:e|ed|es|ing)|twice)\b",
    re.I,
)
_RE_RATIO = re.compile(r"(\d+(?:\.\d+)?)\s*[:：]\s*(\d+(?:\.\d+)?)(?![\d:：])")
_RE_CN_MULT = re.compile(r"[十百千]?[万亿]+|[十百千](?![分])")
_RE_EN_SCALE = re.compile(
    r"\s?(thousand|million|billion|trillion)\b|(bn|mn|tn|k|K|M|B|b)(?![A-Za-z])"
)
_RE_PERCENT = re.compile(r"\s?(?:%|％|percent\b|per cent\b)", re.I)
_RE_POINTS = re.compile(r"个百分点|百分点|\s?(?:percentage points?\b|pp\b|ppts?\b|bps?\b)", re.I)
_RE_MULTIPLE = re.compile(r"倍|\s?(?:x|×)(?![A-Za-z])|\s(?:times)\b")
_RE_CONNECTOR = re.compile(r"\s*(?:至|到|~|～|-|–|—|－)\s*|\s+to\s+|\s*(?:and)\s+")
_RE_EN_NOUN = re.compile(r"\s([A-Za-z][A-Za-z\-]*)(?:\s([a-z][a-z\-]*))?")
_RE_LATIN_TOKEN = re.compile(r"[A-Za-z][A-Za-z0-9.\-]*")
_RE_SENTENCE_END = re.compile(r"[。！？!?；;\n]|\.(?=\s|$)")
_WORD_QUALIFIERS = sorted(_PREFIX_QUALIFIERS, key=len, reverse=True)
_CN_UNITS_ORDERED = sorted(
    [*_COUNT_UNITS, *_DURATION_UNITS, *_MEASURE_UNITS], key=len, reverse=True
)


@dataclass(frozen=True)
class _Atom:
    """One number with its own multiplier, percent sign, unit... (no range, no qualifier)."""

    start: int
    end: int
    low: Decimal
    high: Decimal  # > low only for "三四十万" style approximate ranges
    has_scale: bool
    scale: Decimal
    more: bool  # 多 / 余 / + right after the number: "两百多万", "5,000多根"
    marker: Literal["", "percent", "points", "multiple", "fraction"]
    currency: Currency | None
    unit: str | None
    is_cjk: bool
    has_comma: bool


def _cjk_value(s: str) -> Decimal | None:
    try:
        v = cn2an.cn2an(s, "normal")
    except (ValueError, KeyError, IndexError, TypeError):
        return None
    return Decimal(str(v))


def _cjk_number(s: str) -> tuple[Decimal, Decimal] | None:
    """Chinese numeral → (low, high); "三四十" and "两三千" are approximate ranges."""
    m = re.fullmatch(f"([{_CN_DIGITS}])([{_CN_DIGITS}])([十百千万亿]*)", s)
    if m:
        a, b = _CN_DIGIT_VALUE[m.group(1)], _CN_DIGIT_VALUE[m.group(2)]
        if b == a + 1 and a > 0:
            mult = Decimal(1)
            for ch in m.group(3):
                mult *= _MULT_CHAR[ch]
            return Decimal(a) * mult, Decimal(b) * mult
    v = _cjk_value(s)
    return None if v is None else (v, v)


def _match_prefix(text: str, pos: int, options: dict[str, Currency]) -> tuple[str, int] | None:
    for key in sorted(options, key=len, reverse=True):
        if text.startswith(key, pos):
            return key, pos + len(key)
    return None


def _number_at(text: str, pos: int) -> tuple[Decimal, Decimal, int, bool, bool] | None:
    """(low, high, end, is_cjk, has_comma) of the bare numeral at pos, before any multiplier."""
    m = _RE_ARABIC.match(text, pos)
    if m is not None:
        prev = text[pos - 1] if pos else " "
        # Identifiers glued to letters are names, not figures: GB200, H100, GPT-4 (but credo60%).
        glued_currency = any(text.endswith(k, 0, pos) for k in _CURRENCY_PREFIX if k.isalpha())
        if (
            prev.isascii()
            and prev.isalpha()
            and not glued_currency  # "RMB2.5bn" is money, "GB200" is a name
            and text[m.end() : m.end() + 1] not in ("%", "％")
        ):
            return None
        if prev == "-" and pos >= 2 and text[pos - 2].isascii() and text[pos - 2].isalpha():
            return None
        v = Decimal(m.group().replace(",", ""))
        return v, v, m.end(), False, "," in m.group()
    m = _RE_CJK.match(text, pos)
    if m is None or m.group()[0] not in _CN_DIGITS + "十":
        return None
    run = m.group().rstrip("点")  # a trailing 点 is "一点" (a bit), not a decimal point
    if run.endswith("零") and text.startswith(("部件", "件"), pos + len(run)):
        run = run[:-1]  # 零部件 (components) is a word
    parsed = _cjk_number(run) if run else None
    if parsed is None:
        return None
    return parsed[0], parsed[1], pos + len(run), True, False


def _scan_atom(text: str, pos: int, *, allow_bare_cjk: bool) -> _Atom | None:
    """One figure starting at pos: numeral, 多, multiplier, and a %/倍/currency/unit marker."""
    start = pos
    sign = Decimal(1)
    if text[pos] in "-−":
        prev = text[pos - 1] if pos else " "
        if (prev.isascii() and prev.isalnum()) or prev in ".%":
            return None  # a hyphen or a range dash, not a minus sign
        sign, pos = Decimal(-1), pos + 1
    if text.startswith("百分之", pos):
        got = _number_at(text, pos + 3)
        if got is None:
            return None
        v = got[0] * sign
        return _Atom(
            start, got[2], v, v, False, Decimal(1), False, "percent", None, None, True, False
        )
    got = _number_at(text, pos)
    if got is None:
        return None
    low, high, end, is_cjk, has_comma = got
    low, high = low * sign, high * sign
    run = text[pos:end]

    more = False  # 多/余 between the numeral and its multiplier: "两百多万"
    if text.startswith(("多", "余"), end):
        more, end = True, end + 1
    scale = Decimal(1)
    has_scale = False
    if is_cjk and not more:
        # cn2an already applied a trailing 万/亿; keep it as the scale a range can inherit.
        for ch in reversed(run):
            if ch not in "万亿":
                break
            scale *= _MULT_CHAR[ch]
            has_scale = True
    else:
        if text.startswith(" ", end) and text[end + 1 : end + 2] in ("万", "亿"):
            end += 1  # "170 万根"
        mm = _RE_CN_MULT.match(text, end)
        em = None if (mm or is_cjk) else _RE_EN_SCALE.match(text, end)
        if mm:
            for ch in mm.group():
                scale *= _MULT_CHAR[ch]
            has_scale, end = True, mm.end()
        elif em:
            scale = Decimal(_EN_SCALE[(em.group(1) or em.group(2)).lower()])
            has_scale, end = True, em.end()
        low, high = low * scale, high * scale
    if has_scale and not more and text.startswith(("多", "余"), end):
        more, end = True, end + 1  # "5,000多根", "20多亿"? (亿 then 多)

    if text.startswith("分之", end):
        got = _number_at(text, end + 2)
        if got is not None and low != 0:
            # "三分之一": the denominator comes first; keep (numerator, denominator).
            return _Atom(
                start,
                got[2],
                got[0],
                low,
                False,
                Decimal(1),
                False,
                "fraction",
                None,
                None,
                is_cjk,
                False,
            )
    marker: Literal["", "percent", "points", "multiple", "fraction"] = ""
    currency: Currency | None = None
    unit: str | None = None
    if pm := _RE_POINTS.match(text, end):
        marker, end = "points", pm.end()
        if re.fullmatch(r"\s?bps?", pm.group(), re.IGNORECASE):
            # basis points: 104bp is 1.04 percentage points
            low, high = low / 100, high / 100
    elif pm := _RE_PERCENT.match(text, end):
        marker, end = "percent", pm.end()
    elif (pm := _RE_MULTIPLE.match(text, end)) and not pm.group().startswith(" x"):
        marker, end = "multiple", pm.end()
    elif cur := _match_prefix(text, end, _CURRENCY_SUFFIX):
        currency, end = _CURRENCY_SUFFIX[cur[0]], cur[1]
    else:
        unit = next((u for u in _CN_UNITS_ORDERED if text.startswith(u, end)), None)
        end += len(unit or "")
    nxt = text[end : end + 1]
    if not is_cjk and not marker and unit is None and nxt.isascii() and nxt.isalpha():
        return None  # 800G, 1.6T, 224g: a spec or a name
    if is_cjk and not (has_scale or more or marker or currency or unit or allow_bare_cjk):
        return None  # a lone Chinese numeral ("统一", "二阶段", "十分") is a word
    return _Atom(
        start, end, low, high, has_scale, scale, more, marker, currency, unit, is_cjk, has_comma
    )


def _noun_after(text: str, pos: int) -> str | None:
    """The counted noun right after a figure: a Latin token (AEC, GPU) or a known zh noun."""
    p = pos + 1 if text.startswith("的", pos) else pos
    m = _RE_LATIN_TOKEN.match(text, p)
    if m and m.group().lower() not in _EN_STOPWORDS:
        return m.group().rstrip(".-")
    window = text[p : p + 8]
    hits = [(window.find(n), -len(n), n) for n in _NOUN_EN if 0 <= window.find(n) <= 3]
    return min(hits)[2] if hits else None


def _en_noun_after(text: str, pos: int) -> str | None:
    m = _RE_EN_NOUN.match(text, pos)
    if not m:
        return None
    first = m.group(1)
    if first.lower() in _EN_STOPWORDS:
        return None
    second = m.group(2)
    if first.isupper() and second and second not in _EN_STOPWORDS:
        return f"{first} {second}"  # "AEC cables"
    return first


def _qualifier_before(text: str, pos: int) -> tuple[Qualifier | None, int]:
    """A qualifier ending right before pos, optionally followed by 为/需要/...: "至少需要两百多万"."""
    p = pos
    while p > 0 and text[p - 1] == " ":
        p -= 1
    ends = [p] + [
        p - len(f) for f in _QUALIFIER_FILLERS if p >= len(f) and text[p - len(f) : p] == f
    ]
    for q in ends:
        while q > 0 and text[q - 1] == " ":
            q -= 1
        for word in _WORD_QUALIFIERS:
            s = q - len(word)
            if s < 0 or text[s:q].lower() != word:
                continue
            if word[0].isascii() and word[0].isalpha() and s > 0 and text[s - 1].isalnum():
                continue  # "turnover 5" is not "over 5"
            if word == "约" and s > 0 and text[s - 1] in "节合契制条":
                continue  # 节约, 合约...
            return _PREFIX_QUALIFIERS[word], s
    return None, pos


def _qualifier_after(text: str, pos: int) -> tuple[Qualifier | None, int]:
    for word in sorted(_SUFFIX_QUALIFIERS, key=len, reverse=True):
        if text.startswith(word, pos):
            if word == "+" and re.match(r"\s*[\d(（]", text[pos + 1 : pos + 3]):
                return None, pos  # "100亿+30亿" is a sum, not "over 100亿"
            return _SUFFIX_QUALIFIERS[word], pos + len(word)
    return None, pos


def _currency_before(text: str, pos: int) -> tuple[Currency | None, int]:
    p = pos
    if p > 0 and text[p - 1] == " ":
        p -= 1
    for key in sorted(_CURRENCY_PREFIX, key=len, reverse=True):
        s = p - len(key)
        if s >= 0 and text[s:p] == key:
            if key.isalpha() and s > 0 and text[s - 1].isalnum():
                continue
            if key == "$" and s > 0 and text[s - 1] in "USK":
                continue
            return _CURRENCY_PREFIX[key], s
    return None, pos


def _overlaps(spans: Sequence[tuple[int, int]], start: int, end: int) -> bool:
    return any(s < end and start < e for s, e in spans)


def _kind_of(marker: str, currency: Currency | None, unit: str | None, noun: str | None) -> Kind:
    if marker == "percent":
        return "percent"
    if marker == "points":
        return "percentage_points"
    if marker == "multiple":
        return "multiple"
    if marker == "fraction":
        return "fraction"
    if currency is not None:
        return "money"
    if unit in _DURATION_UNITS:
        return "duration"
    if unit in _MEASURE_UNITS:
        return "measure"
    if unit is not None:
        return _UNIT_EN_TO_KIND.get(unit, "count")
    if noun is not None:
        return "count"
    return "number"


_RE_BARE_YEAR_RANGE = re.compile(r"((?:19|20)\d{2})\s*[-–—~]\s*((?:19|20)\d{2})")
_RE_YEAR_PREPOSITION = re.compile(
    r"\b(?:in|by|since|from|until|till|through|during|before|after|of|for|year)\s*$", re.I
)


def _plain_unit(q: Quantity) -> bool:
    """No measure word and no lowercase English unit: "2026 AEC" may be a year, "2000 units" not."""
    return q.unit not in _COUNT_UNITS and not (q.unit and q.unit.islower() and q.noun is None)


def _is_bare_year(text: str, atom: _Atom, q: Quantity) -> bool:
    """An English "in 2026" / "2026 AEC demand": an integer 1900-2100 with nothing attached."""
    plain = (
        not atom.is_cjk
        and not atom.has_scale
        and not atom.has_comma
        and not q.is_range
        and q.qualifier == "exact"
        and q.kind in ("number", "count")
        and q.unit not in _COUNT_UNITS
        and q.low == q.low.to_integral_value()
        and 1900 <= q.low <= 2100
    )
    head = text[max(0, atom.start - 10) : atom.start]
    after_preposition = _RE_YEAR_PREPOSITION.search(head)
    # "Acme's 2025 revenue", "the 2025 net profit": a possessive before it, or a metric word
    # after it, makes it the year the metric is for, not a count of revenues.
    possessive = re.search(r"(?:'s?|’s?)\s+$", head)
    return plain and (
        bool(after_preposition) or bool(possessive) or _plain_unit(q) or _metric_word(q.unit)
    )


def _metric_word(word: str | None) -> bool:
    if not word or not word.isascii():
        return False
    from rag.glossary import finance_terms  # the shipped vocabulary; imported when needed

    return word.lower() in _english_metric_heads(tuple(map(tuple, finance_terms())))


@cache
def _english_metric_heads(groups: tuple[tuple[str, ...], ...]) -> frozenset[str]:
    """First words of the finance vocabulary's English terms: revenue, net, gross, sales…"""
    # A plural is a count ("2000 customers", "2000 branches"); a metric after a year is a
    # mass noun or an adjective (revenue, net, gross), and "sales"/"earnings" are plural only
    # in form.
    heads = {a.split()[0].lower() for g in groups for a in g if a.isascii() and a[:1].isalpha()}
    return frozenset(
        h for h in heads if not h.endswith("s") or h in ("sales", "earnings", "revenues")
    ) - {*_UNIT_EN.values(), *_NOUN_EN.values(), "unit"}


def _bare_cjk_range_start(text: str, pos: int, masked: Sequence[tuple[int, int]]) -> _Atom | None:
    """A bare Chinese numeral that opens a range whose far end has the unit: "两到三天"."""
    atom = _scan_atom(text, pos, allow_bare_cjk=True)
    if atom is None or not atom.is_cjk:
        return None
    q, _ = _build(text, atom, masked)
    return atom if q.is_range and q.kind != "number" else None


def _scan(text: str, *, bare_years: bool = True) -> tuple[list[Quantity], list[YearMention]]:
    """All figures in text in order, and the bare English years met on the way."""
    masked = _masked_spans(text)
    out: list[Quantity] = []
    bare: list[YearMention] = []
    pos = 0
    while (sm := _RE_START.search(text, pos)) is not None:
        s = sm.start()
        prev = text[s - 1] if s else " "
        if (
            _overlaps(masked, s, s + 1)
            or prev.isdigit()
            or (prev == "." and s >= 2 and text[s - 2].isdigit())
        ):
            pos = s + 1
            continue
        word = sm.group().lower()
        if word.startswith(("翻", "doubl", "twice")):
            v = Decimal(4) if word == "翻两番" else Decimal(2)
            out.append(
                Quantity(low=v, high=v, kind="multiple", start=s, end=sm.end(), raw=sm.group())
            )
            pos = sm.end()
            continue
        rm = _RE_RATIO.match(text, s)
        if rm and Decimal(rm.group(1)) > 0 and not _overlaps(masked, s, rm.end()):
            a, b = Decimal(rm.group(1)), Decimal(rm.group(2))
            out.append(
                Quantity(
                    low=b / a,
                    high=b / a,
                    kind="ratio",
                    ratio=(a, b),
                    start=s,
                    end=rm.end(),
                    raw=rm.group(),
                )
            )
            pos = rm.end()
            continue
        atom = _scan_atom(text, s, allow_bare_cjk=False) or _bare_cjk_range_start(text, s, masked)
        if atom is None or _overlaps(masked, atom.start, atom.end):
            # Skip the whole digit run so "GB200" does not yield "00".
            run = re.match(r"[-−]?[\d.,]*", text[s:])
            pos = s + max(1, len(run.group()) if run else 1)
            continue
        q, end = _build(text, atom, masked)
        if bare_years and _is_bare_year(text, atom, q):
            bare.append(
                YearMention(atom.start, atom.end, text[atom.start : atom.end], int(q.low), "year")
            )
        elif bare_years and (span := _RE_BARE_YEAR_RANGE.fullmatch(q.raw)) and _plain_unit(q):
            # "2022-2027 CAGR": a span of years, not a range of counts
            assert q.start is not None
            for g in (1, 2):
                s0, e0 = q.start + span.start(g), q.start + span.end(g)
                bare.append(YearMention(s0, e0, text[s0:e0], int(span.group(g)), "year"))
        else:
            out.append(q)
        pos = end
    return out, bare


def _different_kinds(a: _Atom, b: _Atom) -> bool:
    """Two figures that cannot be the ends of one range: "rose 60.5% to RMB167.80bn" is a
    change and the level it reached, not a range from a percent to an amount."""
    if a.marker and b.marker and a.marker != b.marker:
        return True
    if (a.marker == "percent") != (b.marker == "percent"):
        return bool(a.currency or b.currency or a.unit or b.unit or a.marker or b.marker)
    return bool(a.currency and b.currency and a.currency != b.currency)


def _build(text: str, atom: _Atom, masked: Sequence[tuple[int, int]]) -> tuple[Quantity, int]:
    """Grow an atom into a Quantity: a range's second end, currency prefix, qualifiers, noun."""
    second: _Atom | None = None
    end = atom.end
    before = text[max(0, atom.start - 12) : atom.start]
    cm = _RE_CONNECTOR.match(text, end)
    if (
        cm
        and not atom.more
        and atom.marker != "fraction"
        and not re.search(r"(从|from\s*\S{0,4})$", before, re.I)
    ):
        p2 = cm.end()
        if cur := _match_prefix(text, p2, _CURRENCY_PREFIX):
            p2 = cur[1] + (1 if text[cur[1] : cur[1] + 1] == " " else 0)
        is_and = cm.group().strip() == "and"
        if (
            p2 < len(text)
            and not _overlaps(masked, p2, p2 + 1)
            and (not is_and or re.search(r"between\s*$", before, re.I))
        ):
            second = _scan_atom(text, p2, allow_bare_cjk=True)
            if (
                second is not None
                and not _overlaps(masked, second.start, second.end)
                and not _different_kinds(atom, second)
            ):
                end = second.end
            else:
                second = None

    low, high = atom.low, atom.high
    marker, currency, unit, more = atom.marker, atom.currency, atom.unit, atom.more
    if second is not None:
        # The shared scale/unit sits on the last figure: "5-10万台", "US$13-15 billion", "40%-50%".
        # ...unless that would not be below the far end: "1至1万" is 1 to 10,000.
        if not atom.has_scale and second.has_scale and high * second.scale < second.low:
            low, high = low * second.scale, high * second.scale
        marker = marker or second.marker
        currency = currency or second.currency
        unit = unit or second.unit
        more = more or second.more
        low, high = min(low, second.low), max(high, second.high)

    start = atom.start
    cur_before, cstart = _currency_before(text, start)
    if cur_before is not None:
        currency, start = cur_before, cstart
    qualifier, qstart = _qualifier_before(text, start)
    start = qstart if qualifier is not None else start
    suffix_q, send = _qualifier_after(text, end)
    if suffix_q is not None:
        end = send
    qualifier = qualifier or suffix_q
    if more and qualifier not in ("at_least", "under", "at_most"):
        qualifier = "over"

    noun: str | None = None
    if unit is None and not marker and currency is None:
        en = _en_noun_after(text, end)
        if en is not None and " " in en:
            unit, noun = en.split()[-1].lower(), en  # "AEC cables"
        elif en is not None and (en.isupper() or en[0].isupper()):
            noun = en  # "2 million AEC"
        elif en is not None:
            unit = en.lower()  # "1.7 million cables"
        elif atom.has_scale:
            noun = _noun_after(text, end)
    elif unit is not None:
        noun = _noun_after(text, end)
    kind = _kind_of(marker, currency, unit, noun)
    raw = text[start:end]
    if kind == "fraction":
        num, den = atom.low, atom.high
        q = Quantity(
            low=num / den,
            high=num / den,
            kind=kind,
            ratio=(num, den),
            start=start,
            end=end,
            raw=raw,
        )
        return q, end
    q = Quantity(
        low=low,
        high=high,
        kind=kind,
        qualifier=qualifier or "exact",
        unit=unit,
        noun=noun,
        currency=currency,
        start=start,
        end=end,
        raw=raw,
    )
    return q, end


# ---------------------------------------------------------------------------------------------
# Public extraction API

_SUBJECT_TAIL = re.compile(
    r"(?:的|预计|将|会|约为|约|为|是|达到|达|增长至|增长到|增至|需要|共|合计|总计|可达|将超过|超过|,|，|、|\s)+$"
)


def _attach_context(
    text: str, qs: list[Quantity], years: list[tuple[int, int, int]]
) -> list[Quantity]:
    """Give each figure its sentence's nearest preceding year and the words before it."""
    ends = [m.end() for m in _RE_SENTENCE_END.finditer(text)]
    out: list[Quantity] = []
    for q in qs:
        assert q.start is not None
        sent = max((e for e in ends if e <= q.start), default=0)
        year = None
        cut: list[tuple[int, int]] = []
        for ys, ye, y in years:
            if sent <= ys and ye <= q.start:
                year = y
                cut.append((ys, ye + (1 if text[ye : ye + 1] == "年" else 0)))
        cut += [
            (o.start, o.end)
            for o in qs
            if o.start is not None and o.end is not None and sent <= o.start and o.end <= q.start
        ]
        words = "".join(
            c
            for i, c in enumerate(text[sent : q.start], sent)
            if not any(a <= i < b for a, b in cut)
        )
        subject = _SUBJECT_TAIL.sub("", words).strip(" ,，、:：()（）")[-40:]
        out.append(q.model_copy(update={"year": year, "subject": subject or None}))
    return _respective_years(text, out, years, ends)


_RESPECTIVELY = re.compile(r"分别|respectively", re.IGNORECASE)


def _respective_years(
    text: str, qs: list[Quantity], years: list[tuple[int, int, int]], ends: list[int]
) -> list[Quantity]:
    """ "今年、明年归母净利润分别为110.93亿元、126.16亿元" / "RMB 10bn and 12bn in 2025 and 2026,
    respectively": as many figures of one kind as the sentence lists years pair up in order."""
    bounds = [0, *ends, len(text) + 1]
    out = list(qs)
    for a, b in zip(bounds, bounds[1:], strict=False):
        if not _RESPECTIVELY.search(text[a:b]):
            continue
        listed = [y for ys, _, y in years if a <= ys < b]
        listed = [y for i, y in enumerate(listed) if y not in listed[:i]]
        inside = [i for i, q in enumerate(out) if q.start is not None and a <= q.start < b]
        kinds = {out[i].kind for i in inside}
        if len(listed) < 2 or len(kinds) != 1 or len(inside) != len(listed):
            continue
        for i, year in zip(inside, listed, strict=True):
            out[i] = out[i].model_copy(update={"year": year})
    return out


def extract_quantities(text: str, doc_year: int | None = None) -> list[Quantity]:
    """Every figure in `text` with text[q.start:q.end] == q.raw, in order of appearance.

    Years/dates/times/quarters, identifiers (GB200, 800G), ordinals (第一) and citation marks
    ([1]) are skipped. Each figure gets the nearest preceding year of its sentence (relative
    years like 明年 count when `doc_year` is given) and a `subject` (the sentence's words before
    the figure, figures and years removed).
    """
    qs, _ = _scan(text)
    years = [(y.start, y.end, y.year) for y in extract_years(text) if y.kind == "year"]
    if doc_year is not None:
        years += [(s, e, y) for (s, e), y in resolve_relative_years(text, doc_year)]
    years.sort()
    return _attach_context(text, qs, years)


def parse_numbers_in_answer(text: str) -> list[Quantity]:
    """Figures stated in a generated answer (zh or en): "1.7 million", "US$13-15 billion", "142.9%".

    Same rules as `extract_quantities`, minus bare integers below 10 without a unit (in answers
    those are list markers and counts of reasons) and bare years.
    """
    return [
        q
        for q in extract_quantities(text)
        if not (
            q.kind == "number"
            and not q.is_range
            and abs(q.low) < 10
            and q.low == q.low.to_integral_value()
        )
        # "Meta's 2026 demand": a bare 19xx/20xx with nothing attached is a year, not a count.
        and not _BARE_YEAR_FIGURE.fullmatch(q.raw.strip())
    ]


_BARE_YEAR_FIGURE = re.compile(r"(?:19|20)\d{2}")


def parse_quantity(text: str) -> Quantity:
    """The single figure in a short string such as "170万根", "US$13-15 billion", "1:1.25", "0.8".

    Unlike extraction, a bare "2026" or "两百" here is a number. Raises QuantityParseError unless
    exactly one figure is found.
    """
    stripped = text.strip()
    qs, _ = _scan(stripped, bare_years=False)
    if not qs and stripped and stripped[0] in _CN_DIGITS + "十":
        atom = _scan_atom(stripped, 0, allow_bare_cjk=True)
        if atom is not None:
            qs = [_build(stripped, atom, [])[0]]
    if len(qs) != 1:
        found = [q.raw for q in qs]
        raise QuantityParseError(f"expected one figure in {text!r}, found {len(qs)}: {found}")
    return qs[0]


# ---------------------------------------------------------------------------------------------
# Comparison

_COMPATIBLE: dict[str, frozenset[str]] = {
    "count": frozenset({"count", "number"}),
    "money": frozenset({"money", "number"}),
    "number": frozenset({"count", "money", "number", "measure", "duration"}),
    "percent": frozenset({"percent"}),
    "percentage_points": frozenset({"percentage_points"}),
    "ratio": frozenset({"ratio"}),
    "fraction": frozenset({"fraction", "ratio"}),
    "multiple": frozenset({"multiple"}),
    "duration": frozenset({"duration", "number"}),
    "measure": frozenset({"measure", "number"}),
}


def _close(a: Decimal, b: Decimal, tolerance: Decimal) -> bool:
    if a == b:
        return True
    scale = max(abs(a), abs(b))
    return abs(a - b) <= tolerance * scale


def same_value(
    a: Quantity, b: Quantity, tolerance: Decimal | float | str = Decimal("0.005")
) -> bool:
    """Whether two figures state the same value: "1.7 million" == "170万"; "170,000" != "170万".

    `tolerance` is relative (0.005 = 0.5%, enough for "142.9%" vs 142.857...%). Kinds must be
    compatible (a bare number matches a count or an amount; a percent only a percent) and
    currencies must agree when both are given. Ranges match ranges end by end; a point never
    equals a range. Qualifiers are not compared: "about 1.7 million" states the value 170万左右.
    """
    tol = Decimal(str(tolerance))
    if b.kind not in _COMPATIBLE.get(a.kind, frozenset({a.kind})):
        return False
    if a.currency and b.currency and a.currency != b.currency:
        return False
    if a.is_range != b.is_range:
        return False
    return _close(a.low, b.low, tol) and _close(a.high, b.high, tol)


# ---------------------------------------------------------------------------------------------
# Rendering

_EN_QUALIFIER = {
    "approx": "about ",
    "over": "over ",
    "at_least": "at least ",
    "under": "less than ",
    "at_most": "up to ",
    "exact": "",
}
_ZH_QUALIFIER = {
    "approx": "约",
    "over": "超过",
    "at_least": "至少",
    "under": "不到",
    "at_most": "不超过",
    "exact": "",
}
_EN_SCALES = (
    (Decimal(10**12), "trillion"),
    (Decimal(10**9), "billion"),
    (Decimal(10**6), "million"),
)
_ZH_SCALES = ((Decimal(10**12), "万亿"), (Decimal(10**8), "亿"), (Decimal(10**4), "万"))
_EN_CURRENCY = {"USD": "US$", "CNY": "RMB ", "HKD": "HK$", "EUR": "€", "JPY": "JPY "}
_ZH_CURRENCY = {"USD": "美元", "CNY": "元", "HKD": "港元", "EUR": "欧元", "JPY": "日元"}


def format_decimal(value: Decimal, max_decimals: int = 2, *, thousands: bool = False) -> str:
    """Round half-up to at most `max_decimals` places and drop trailing zeros: no float noise."""
    if value != 0 and abs(value) < 1:
        # keep three significant digits of small values: 0.000001 must not print as "0",
        # nor a price of 0.303元/W as 0.3
        max_decimals = max(max_decimals, -value.adjusted() + 2)
    with localcontext() as ctx:
        ctx.prec = 80
        q = value.quantize(Decimal(1).scaleb(-max_decimals), rounding=ROUND_HALF_UP)
        s = format(q, ",f" if thousands else "f")
    if "." in s:
        s = s.rstrip("0").rstrip(".")
    return "0" if s in ("-0", "") else s


def _scaled(
    value: Decimal, scales: Sequence[tuple[Decimal, str]], max_decimals: int
) -> tuple[Decimal, str]:
    for size, word in scales:
        if abs(value) >= size:
            return size, word
    return Decimal(1), ""


def _en_number(lo: Decimal, hi: Decimal, max_decimals: int) -> str:
    size, word = _scaled(hi if abs(hi) >= abs(lo) else lo, _EN_SCALES, max_decimals)
    shared_ok = abs(lo) >= size / 10 and format_decimal(lo / size, max_decimals) == format_decimal(
        lo / size, 12
    )
    if size > 1 and lo != hi and not shared_ok:
        # "0.05–1.2 billion" reads badly and "0.101–1 million" would round the low end: render
        # each end on its own scale. A low end with no
        # scale word would borrow the high end's ("2–10 million"), so then both go plain.
        if abs(lo) < _EN_SCALES[-1][0]:
            return f"{format_decimal(lo, max_decimals, thousands=True)}–{format_decimal(hi, max_decimals, thousands=True)}"
        return f"{_en_number(lo, lo, max_decimals)}–{_en_number(hi, hi, max_decimals)}"
    tail = f" {word}" if word else ""
    # A scaled figure keeps the digits the note wrote (25.01亿元 is RMB 2.501 billion); a
    # computed one, with endless digits, is rounded.
    exact = [_decimals(v / size) for v in (lo, hi)]
    if all(n <= 4 for n in exact):
        max_decimals = max(max_decimals, *exact)
    a = format_decimal(lo / size, max_decimals, thousands=True)
    if lo == hi:
        return a + tail
    b = format_decimal(hi / size, max_decimals, thousands=True)
    return f"{a}–{b}{tail}"


def _decimals(value: Decimal) -> int:
    """How many decimal places a value needs to be written exactly."""
    exponent = value.normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def _zh_number(value: Decimal, max_decimals: int) -> str:
    size, word = _scaled(value, _ZH_SCALES, max_decimals)
    exact = _decimals(value / size)  # the digits a note wrote (or an exact result) stay
    if exact > max_decimals and value == value.to_integral_value() and abs(value) < 10**8:
        return format_decimal(value, 0)  # 10001美元, not 1.0001万美元
    places = exact if max_decimals < exact <= 4 else max_decimals
    return format_decimal(value / size, places) + word


def _singular(word: str) -> str:
    if word.endswith("ies"):
        return word[:-3] + "y"
    return word[:-1] if word.endswith("s") and not word.endswith("ss") else word


def _en_unit(q: Quantity) -> str:
    unit = _en_unit_plural(q)
    if not q.is_range and abs(q.low) == 1 and unit:
        return " ".join([*unit.split()[:-1], _singular(unit.split()[-1])])
    return unit


def _en_unit_plural(q: Quantity) -> str:
    if q.noun and q.noun in _NOUN_EN:
        return _NOUN_EN[q.noun]
    if q.noun and " " in q.noun and q.noun.isascii():
        return q.noun
    unit_en = _UNIT_EN.get(q.unit or "", q.unit if q.unit and q.unit.isascii() else "")
    if q.noun and q.noun.isascii():
        if unit_en:
            return f"{q.noun} {unit_en}"
        return q.noun if q.noun.endswith("s") else f"{q.noun}s"
    return unit_en


def render(
    q: Quantity, language: Language, *, with_unit: bool = True, max_decimals: int = 2
) -> str:
    """A figure in the answer's language: 170万根 → "1.7 million cables" / "170万根";
    130亿至150亿美元 → "US$13–15 billion" / "130亿至150亿美元"; qualifiers as words."""
    if language == "en":
        return _render_en(q, with_unit, max_decimals)
    return _render_zh(q, with_unit, max_decimals)


def _render_en(q: Quantity, with_unit: bool, d: int) -> str:
    qual = _EN_QUALIFIER[q.qualifier]
    if q.kind == "ratio" and q.ratio:
        return f"{qual}{format_decimal(q.ratio[0], 4)}:{format_decimal(q.ratio[1], 4)}"
    if q.kind == "fraction" and q.ratio:
        return f"{qual}{format_decimal(q.ratio[0], 4)}/{format_decimal(q.ratio[1], 4)}"
    if q.kind == "percent":
        body = _pair(q, lambda v: format_decimal(v, d, thousands=True) + "%", "–")
        return qual + body
    if q.kind == "percentage_points":
        return qual + _pair(q, lambda v: format_decimal(v, d), "–") + " percentage points"
    if q.kind == "multiple":
        return qual + _pair(q, lambda v: format_decimal(v, d), "–") + "x"
    number = _en_number(q.low, q.high, d)
    if q.kind == "money" and q.currency:
        return f"{qual}{_EN_CURRENCY[q.currency]}{number}"
    unit = _en_unit(q) if with_unit else ""
    return f"{qual}{number} {unit}".rstrip()


def _pair(q: Quantity, fmt: Callable[[Decimal], str], sep: str) -> str:
    return fmt(q.low) if not q.is_range else f"{fmt(q.low)}{sep}{fmt(q.high)}"


def _render_zh(q: Quantity, with_unit: bool, d: int) -> str:
    qual = _ZH_QUALIFIER[q.qualifier]
    if q.kind == "ratio" and q.ratio:
        return f"{qual}{format_decimal(q.ratio[0], 4)}:{format_decimal(q.ratio[1], 4)}"
    if q.kind == "fraction" and q.ratio:
        num, den = q.ratio
        if num == num.to_integral_value() and den == den.to_integral_value():
            return f"{qual}{cn2an.an2cn(str(int(den)))}分之{cn2an.an2cn(str(int(num)))}"
        return f"{qual}{format_decimal(num, 4)}/{format_decimal(den, 4)}"
    if q.kind == "percent":
        return qual + _pair(q, lambda v: format_decimal(v, d) + "%", "至")
    if q.kind == "percentage_points":
        return qual + _pair(q, lambda v: format_decimal(v, d), "至") + "个百分点"
    if q.kind == "multiple":
        return qual + _pair(q, lambda v: format_decimal(v, d), "至") + "倍"
    tail = ""
    if q.kind == "money" and q.currency:
        tail = _ZH_CURRENCY[q.currency]
    elif with_unit and q.unit:
        tail = q.unit  # 根, 台, and the Latin units Chinese notes write too: GW, GWh, nm
    if q.is_range and abs(q.low) < _ZH_SCALES[-1][0] <= abs(q.high):
        # "1至10万" reads as 1万至10万: with a bare low end, write both ends in plain digits.
        return qual + _pair(q, lambda v: format_decimal(v, d), "至") + tail
    return qual + _pair(q, lambda v: _zh_number(v, d), "至") + tail
