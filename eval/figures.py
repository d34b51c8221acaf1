"""The scorer's own figure reader: small, independent of `rag.numbers`, so the eval does not
judge the product's number parser with that same parser.

It reads the figures an answer (or a citation quote) states, in Chinese or English:
"1,041.86亿元", "CNY 104.19 billion", "约170万根", "三四十万条", "24.5%", "1.2个百分点",
"2.5倍", "1:1.25", "US$3.5–4 billion", "超过150万" … into `Figure`s with a value in base units
(scale words multiplied out), a kind, an optional currency and a bound direction. Years,
quarters, months, citation markers, stock codes and model names ("HBM4", "2025Q3", "[1]",
"300750.SZ") are not figures.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import partial
from typing import Literal

Kind = Literal["number", "percent", "pp", "multiple", "ratio", "money"]
Bound = Literal["lower", "upper"] | None

_CN_DIGITS = {
    "零": 0,
    "〇": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
_CN_SMALL = {"十": 10, "百": 100, "千": 1000}
_SCALE_ZH = {
    "万亿": Decimal(10) ** 12,
    "亿": Decimal(10) ** 8,
    "千万": Decimal(10) ** 7,
    "百万": Decimal(10) ** 6,
    "万": Decimal(10) ** 4,
    "千": Decimal(1000),
}
_SCALE_EN = {
    "trillion": Decimal(10) ** 12,
    "tn": Decimal(10) ** 12,
    "billion": Decimal(10) ** 9,
    "bn": Decimal(10) ** 9,
    "b": Decimal(10) ** 9,
    "million": Decimal(10) ** 6,
    "mn": Decimal(10) ** 6,
    "m": Decimal(10) ** 6,
    "thousand": Decimal(1000),
    "k": Decimal(1000),
}
_CURRENCY_BEFORE = {
    "us$": "USD",
    "usd": "USD",
    "$": "USD",
    "rmb": "CNY",
    "cny": "CNY",
    "¥": "CNY",
    "￥": "CNY",
    "hk$": "HKD",
    "hkd": "HKD",
    "eur": "EUR",
    "€": "EUR",
    "jpy": "JPY",
}
_CURRENCY_AFTER = {
    "美元": "USD",
    "usd": "USD",
    "dollars": "USD",
    "元": "CNY",
    "人民币": "CNY",
    "yuan": "CNY",
    "rmb": "CNY",
    "cny": "CNY",
    "港元": "HKD",
    "港币": "HKD",
    "hkd": "HKD",
    "欧元": "EUR",
    "eur": "EUR",
    "日元": "JPY",
    "jpy": "JPY",
}
_LOWER = (
    "超过",
    "超",
    "逾",
    "至少",
    "不低于",
    "不少于",
    "大于",
    "高于",
    "more than",
    "over",
    "above",
    "at least",
    "exceeding",
    "exceeds",
    "exceed",
    "in excess of",
    "upwards of",
    ">",
)
_UPPER = (
    "不到",
    "不足",
    "低于",
    "少于",
    "至多",
    "最多",
    "不超过",
    "小于",
    "less than",
    "under",
    "below",
    "at most",
    "up to",
    "fewer than",
    "<",
)
_LOWER_AFTER = ("以上", "多", "余", "+", "甚至更高", "甚至更多", " or more", " plus")
_UPPER_AFTER = ("以下", "以内", " or less", " or fewer")

_NUM = r"\d+(?:,\d{3})*(?:\.\d+)?|\d*\.\d+"
_CN_NUM = r"[零〇一二两三四五六七八九十百千]+"
_RANGE_SEP = r"[ \t]*(?:-|–|—|~|～|至|到|to|and)[ \t]*"  # never across a line: tables pasted one cell per line
_SCALE_PAT = r"万亿|亿|千万|百万|万|千|trillion|billion|million|thousand|tn|bn|mn|[bmk](?![a-z])"
_FIGURE = re.compile(
    rf"(?P<cur>us\$|hk\$|usd|rmb|cny|hkd|eur|jpy|[$¥￥€])?[ \t]*"
    rf"(?P<a>{_NUM}|{_CN_NUM})[ \t]*(?P<more>多|余)?(?P<sa>{_SCALE_PAT})?(?P<ua>%|％)?"
    rf"(?:{_RANGE_SEP}(?P<cur2>us\$|hk\$|[$¥￥€])?[ \t]*(?P<b>{_NUM}|{_CN_NUM})[ \t]*(?P<sb>{_SCALE_PAT})?)?"
    rf"(?P<unit>[ \t]*(?:%|％|个百分点|百分点|percentage points?|pp\b|ppt\b|pct\b|bps?\b|倍|x(?![a-z])|times\b|"
    r"percent\b|美元|港元|港币|欧元|日元|人民币|元|yuan\b|dollars?\b|usd\b|rmb\b|cny\b|hkd\b)"
    r"|[ \t]*(?::|：)[ \t]*(?P<ratio>\d+(?:\.\d+)?))?",
    re.IGNORECASE,
)
# A run of Chinese numerals that mixes digits and the place 十/百/千 ("三四十", "七八十", "一百二十").
_CN_RANGE = re.compile(r"^([一二两三四五六七八九])([一二两三四五六七八九])([十百千]?)$")


@dataclass(frozen=True)
class Figure:
    low: Decimal
    high: Decimal
    kind: Kind
    currency: str | None
    bound: Bound
    raw: str

    @property
    def value(self) -> Decimal:
        return self.low if self.low == self.high else (self.low + self.high) / 2


def _cn_int(text: str) -> Decimal | None:
    """Chinese numerals below 10,000: 三, 十二, 一百二十, 两千五百."""
    if all(ch in _CN_DIGITS for ch in text):
        if len(text) == 1:
            return Decimal(_CN_DIGITS[text])
        return None
    total, digit = 0, None
    for ch in text:
        if ch in _CN_DIGITS:
            digit = _CN_DIGITS[ch]
        elif ch in _CN_SMALL:
            total += (digit if digit is not None else 1) * _CN_SMALL[ch]
            digit = None
        else:
            return None
    return Decimal(total + (digit or 0))


def _number(text: str) -> tuple[Decimal, Decimal] | None:
    """(low, high) of one number: "1,041.86", "十二", or a numeral range like "三四十"."""
    if re.fullmatch(_NUM, text):
        try:
            value = Decimal(text.replace(",", ""))
        except InvalidOperation:
            return None
        return value, value
    match = _CN_RANGE.match(text)
    if match:
        place = _CN_SMALL.get(match.group(3), 1)
        a, b = _CN_DIGITS[match.group(1)], _CN_DIGITS[match.group(2)]
        if b == a + 1:
            return Decimal(a * place), Decimal(b * place)
    whole = _cn_int(text)
    return (whole, whole) if whole is not None else None


def _scale(word: str | None) -> Decimal:
    if not word:
        return Decimal(1)
    return _SCALE_ZH.get(word) or _SCALE_EN.get(word.lower(), Decimal(1))


def _not_a_figure(text: str, start: int, end: int, number: str, marked: bool) -> bool:
    """`marked`: the match carries a scale word, unit or currency, so it is a figure wherever
    it stands ("credo60%+")."""
    before, after = text[max(0, start - 12) : start], text[end : end + 6]
    if re.fullmatch(r"\d{1,2}", number) and re.match(
        r"[MHQ]\d{2}(?!\d)", text[start + len(number) :]
    ):
        return True  # a period code: 9M25, 1H25, 3Q25
    if marked:
        return bool(re.search(r"\[$", before) and re.match(r"\s*\]", after))
    if re.search(r"[A-Za-z]$", before) and not re.search(
        r"(?:us|hk|usd|rmb|cny|hkd|eur|jpy|\$|about|approx|over|under|to|and|of|at|is|was|by|"
        r"than|from|least|most|up|around|nearly|some)$",
        before.lower(),
    ):
        return True  # HBM4, FY2025, Q3, H1, 9M, 5nm is caught below
    if re.search(r"\[$", before) and re.match(r"\s*\]", after):
        return True  # a citation marker
    if re.search(r"\d/$", before) or re.match(r"/\d", after):
        return True  # part of a date (2025/11/19) or of a fraction (1/3, read on its own)
    if re.match(r"[GT](?![A-Za-z])", after):
        return True  # a speed grade: 800G, 1.6T
    if re.match(r"\.(?:SZ|SH|SS|HK|BJ)\b", after, re.IGNORECASE):
        return True  # a stock code
    if (
        re.match(r"\s*(?:年(?!化)|月|日|号|季度|季|月份|H\d|Q\d|nm\b|G\b|T\b)", after)
        and "." not in number
    ):
        return True  # dates, quarters, process nodes, speed grades
    if re.fullmatch(r"(?:19|20)\d{2}", number) and not re.match(r"\s*(?:万|亿|%|元|美元)", after):
        return True  # a bare year
    return bool(
        re.match(r"[A-Za-z]", after)
        and not re.match(
            r"(?:bn|mn|m|k|b|x|pp|ppt|bps?|percent|billion|million|thousand|trillion|tn|times|"
            r"yuan|dollars?|usd|rmb|cny|hkd|gwh|mwh|kwh|gw|mw|kw|wh|w|t|tons?|tonnes?|units?|"
            r"vehicles?|cars?|cables?|wafers?|robots?|stores?|dealers?|branches?|people|shares?)\b",
            after,
            re.IGNORECASE,
        )
    )


def _qualifier(text: str, start: int, end: int) -> Bound:
    before = text[max(0, start - 16) : start].lower().rstrip(" 约大概")
    after = re.sub(r"^[\u4e00-\u9fff](?=甚至|以上|以下|多|余)", "", text[end : end + 10].lower())
    if any(before.endswith(w) for w in _LOWER) or any(after.startswith(w) for w in _LOWER_AFTER):
        return "lower"
    if any(before.endswith(w) for w in _UPPER) or any(after.startswith(w) for w in _UPPER_AFTER):
        return "upper"
    return None


# A table row whose label cell names the unit: "| 营业收入（亿元） | 1041.86 | +12.90% |".
_ROW_LABEL_UNIT = re.compile(r"^\s*\|([^|\n]*?)[（(]([^（）()|\n]{1,12})[）)]\s*(?=\|)")
_BARE_CELL = re.compile(r"(?<=\|)(\s*)([+-]?\d[\d,]*(?:\.\d+)?)(\s*)(?=\|)")


def _unit_after(unit: str, cell: re.Match[str]) -> str:
    return f"{cell.group(1)}{cell.group(2)}{unit}{cell.group(3)}"


# The unit a table's caption gives its cells: "（单位：亿元，另注明者除外）", "(RMB bn)".
_CAPTION_UNIT = re.compile(
    r"单位\s*[:：]\s*([^，,;；）)\s]{1,8})|[（(]((?:RMB|US\$|USD)\s*[a-z]{2,8})[）)]", re.I
)
_ROW_LABEL = re.compile(r"^\s*\|[^|\n]*?(?=\|)")


def _with_row_units(text: str, context: str = "") -> str:
    """Table rows with the unit of their label written after each bare figure cell, so a
    quoted row states what its cells mean ("1041.86" in a "（亿元）" row is 1041.86亿元).
    `context`: the caption and header row a citation shows above a quoted row; a row whose
    label names no unit takes the caption's."""
    caption = _CAPTION_UNIT.search(context) if context else None
    caption_unit = (caption.group(1) or caption.group(2)).strip() if caption else None
    lines = []
    for line in text.split("\n"):
        label = _ROW_LABEL_UNIT.match(line)
        if not label and caption_unit and (plain := _ROW_LABEL.match(line)):
            cells = line[plain.end() :]
            line = line[: plain.end()] + _BARE_CELL.sub(partial(_unit_after, caption_unit), cells)
        if label and not re.search(r"\d", label.group(2)):
            unit = label.group(2).strip()
            # "RMB bn" reads after a figure as "bn RMB"
            if currency_first := re.fullmatch(r"([A-Za-z$]+)\s+([A-Za-z]+)", unit):
                unit = f" {currency_first.group(2)} {currency_first.group(1)}"
            cells = line[label.end() :]
            line = line[: label.end()] + _BARE_CELL.sub(partial(_unit_after, unit), cells)
        lines.append(line)
    return "\n".join(lines)


def read_figures(text: str, row_units: bool = True, context: str = "") -> list[Figure]:
    """Every figure `text` states, left to right (`row_units`: a table row's bare cells in the
    unit its label names, or the caption in `context` does)."""
    figures: list[Figure] = []
    text = _with_row_units(text, context) if row_units else text
    for match in _FIGURE.finditer(text):
        a = match.group("a")
        if not a or not (first := _number(a)):
            continue
        start = match.start()
        end = start + len(match.group(0).rstrip())
        marked = bool(
            match.group("sa") or match.group("unit") or match.group("ua") or match.group("cur")
        )
        if _not_a_figure(text, match.start("a"), end, a, marked):
            continue
        if (
            re.fullmatch(_CN_NUM, a)
            and not (match.group("sa") or match.group("unit"))
            and not (len(a) > 1 and re.search("[十百千]", a))
        ):
            continue  # a lone Chinese numeral ("三家", "一季度") is a word, not a figure
        low, high = first[0] * _scale(match.group("sa")), first[1] * _scale(match.group("sa"))
        if match.group("b") and (second := _number(match.group("b"))):
            scale_b = _scale(match.group("sb") or match.group("sa"))
            if not match.group("sa") and match.group("sb"):
                low, high = first[0] * scale_b, first[1] * scale_b
            high = second[1] * scale_b
            if high < low:
                continue  # "2025-11-12"-like or a difference, not a range
        unit = (match.group("unit") or match.group("ua") or "").strip().lower()
        currency = _CURRENCY_BEFORE.get((match.group("cur") or match.group("cur2") or "").lower())
        kind: Kind = "number"
        if match.group("ratio"):
            # "1:1.25" is the ratio 1.25; "4:1" is 4
            ratio = Decimal(match.group("ratio"))
            if low == 0 or ratio == 0:
                continue
            low = high = ratio / low if low == 1 else low / ratio
            kind = "ratio"
        elif unit in ("%", "％", "percent"):
            kind = "percent"
        elif unit in (
            "个百分点",
            "百分点",
            "percentage point",
            "percentage points",
            "pp",
            "ppt",
            "pct",
        ):
            kind = "pp"
        elif unit in ("bp", "bps"):
            kind, low, high = "pp", low / 100, high / 100
        elif unit in ("倍", "x", "times"):
            kind = "multiple"
        elif unit:
            currency = _CURRENCY_AFTER.get(unit, currency)
        if currency and kind == "number":
            kind = "money"
        if kind == "number" and not currency:
            tail = text[end : end + 8]
            cur_after = re.match(r"\s*(美元|港元|元|yuan|dollars?)", tail, re.IGNORECASE)
            if cur_after:
                currency, kind = _CURRENCY_AFTER[cur_after.group(1).lower()], "money"
        bound = "lower" if match.group("more") else _qualifier(text, start, end)
        figures.append(Figure(low, high, kind, currency, bound, match.group(0).strip()))
    return figures + _fractions(text)


_FRACTION = re.compile(r"(百|[一二三四五六七八九十\d]+)分之([一二三四五六七八九十\d.]+)")
_SLASH_FRACTION = re.compile(r"(?<![\d/.])([1-9])/([2-9]|10)(?![\d/])")  # 1/3, not 2025/11/19


def _fractions(text: str) -> list[Figure]:
    """ "三分之一" is the fraction 1/3, "百分之二十" 20%."""
    out: list[Figure] = []
    for match in _FRACTION.finditer(text):
        denominator, numerator = _number(match.group(1)), _number(match.group(2))
        if match.group(1) == "百" and numerator:
            out.append(Figure(numerator[0], numerator[0], "percent", None, None, match.group(0)))
        elif denominator and numerator and denominator[0]:
            value = numerator[0] / denominator[0]
            out.append(Figure(value, value, "ratio", None, None, match.group(0)))
    for match in _SLASH_FRACTION.finditer(text):
        top, bottom = int(match.group(1)), int(match.group(2))
        if top < bottom:
            value = Decimal(top) / Decimal(bottom)
            out.append(Figure(value, value, "ratio", None, None, match.group(0)))
    return out


def close(a: Decimal, b: Decimal, tolerance: Decimal) -> bool:
    if a == b:
        return True
    scale = max(abs(a), abs(b))
    return scale > 0 and abs(a - b) / scale <= tolerance


def same_figure(a: Figure, b: Figure, tolerance: Decimal = Decimal("0.005")) -> bool:
    """Two figures state the same amount: same value(s) within `tolerance`, compatible kinds."""
    compatible = (
        a.kind == b.kind
        or {a.kind, b.kind} <= {"percent", "pp"}
        or ({a.kind, b.kind} <= {"number", "money"} and not (a.currency and b.currency))
        or {a.kind, b.kind} <= {"multiple", "ratio"}
    )
    if not compatible or (a.currency and b.currency and a.currency != b.currency):
        return False
    return close(a.low, b.low, tolerance) and close(a.high, b.high, tolerance)
