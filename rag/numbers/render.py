"""Writing figures back as text: `format_decimal` and `render` in English or Chinese.

A `Quantity` is rendered in the answer's language with its qualifier as words, its scale
(million/billion, 万/亿), its currency and its unit or counted noun: 170万根 → "1.7 million
cables" / "170万根". Decimals are rounded half-up without float noise.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import ROUND_HALF_UP, Decimal, localcontext

import cn2an

from rag.numbers.lexicon import NOUN_EN, UNIT_EN
from rag.numbers.quantity import Quantity
from rag.types import Language

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
_EN_CURRENCY = {
    "USD": "US$", "CNY": "RMB ", "HKD": "HK$", "EUR": "€", "JPY": "JPY ", "KRW": "KRW ",
    "GBP": "£", "TWD": "NT$",
}  # fmt: skip
_ZH_CURRENCY = {
    "USD": "美元", "CNY": "元", "HKD": "港元", "EUR": "欧元", "JPY": "日元", "KRW": "韩元",
    "GBP": "英镑", "TWD": "新台币",
}  # fmt: skip


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


def _per_unit_en(unit: str | None) -> str:
    """A price's denominator in English: "/W" stays, "/吨" is "/tonne", "/台" "/unit"."""
    if not unit or not unit.startswith("/"):
        return ""
    word = unit[1:]
    return "/" + (_singular(UNIT_EN[word]) if word in UNIT_EN else word)


def _en_unit(q: Quantity) -> str:
    unit = _en_unit_plural(q)
    if not q.is_range and abs(q.low) == 1 and unit:
        return " ".join([*unit.split()[:-1], _singular(unit.split()[-1])])
    return unit


def _en_unit_plural(q: Quantity) -> str:
    if q.noun and q.noun in NOUN_EN:
        return NOUN_EN[q.noun]
    if q.noun and " " in q.noun and q.noun.isascii():
        return q.noun
    unit_en = UNIT_EN.get(q.unit or "", q.unit if q.unit and q.unit.isascii() else "")
    if q.noun and q.noun.isascii():
        if unit_en:
            return f"{q.noun} {unit_en}"
        return q.noun if q.noun.endswith("s") else f"{q.noun}s"
    return unit_en


def render(
    q: Quantity,
    language: Language,
    *,
    with_unit: bool = True,
    max_decimals: int = 2,
    counted: str | None = None,
) -> str:
    """A figure in the answer's language: 8万台 → "80,000 units" / "8万台"; 170万根 → "1.7
    million" (a measure word with no one noun), or "1.7 million cables" when the question
    counts cables (`counted`); 130亿至150亿美元 → "US$13–15 billion"; qualifiers as words."""
    if language == "en":
        return _render_en(q, with_unit, max_decimals, counted)
    return _render_zh(q, with_unit, max_decimals)


def _render_en(q: Quantity, with_unit: bool, d: int, counted: str | None = None) -> str:
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
        per = _per_unit_en(q.unit)  # RMB 0.295/W, RMB 10,000/tonne
        return f"{qual}{_EN_CURRENCY[q.currency]}{number}{per}"
    unit = (_en_unit(q) or (counted if q.kind == "count" else None) or "") if with_unit else ""
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
        tail = _ZH_CURRENCY[q.currency] + (q.unit if q.unit and q.unit.startswith("/") else "")
    elif with_unit and q.unit:
        tail = q.unit  # 根, 台, and the Latin units Chinese notes write too: GW, GWh, nm
    if q.is_range and abs(q.low) < _ZH_SCALES[-1][0] <= abs(q.high):
        # "1至10万" reads as 1万至10万: with a bare low end, write both ends in plain digits.
        return qual + _pair(q, lambda v: format_decimal(v, d), "至") + tail
    return qual + _pair(q, lambda v: _zh_number(v, d), "至") + tail
