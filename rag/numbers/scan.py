"""Reading figures out of text: the scanner and the extraction API built on it.

`extract_quantities` finds every figure in a text with its span, sentence year and subject;
`parse_numbers_in_answer` is the same for a generated answer; `parse_quantity` reads the one
figure of a short string; `extract_years` / `resolve_relative_years` find the years that are
not figures. The scanner (`_scan`, `_scan_atom`, `_build`) walks the text with the patterns of
`lexicon` and builds `Quantity` values.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from typing import Literal

import cn2an

from rag.numbers.lexicon import (
    BARE_YEAR_FIGURE,
    CN_DIGIT_VALUE,
    CN_DIGITS,
    CN_UNITS_ORDERED,
    COUNT_UNITS,
    CURRENCY_PREFIX,
    CURRENCY_SUFFIX,
    DURATION_UNITS,
    EN_SCALE,
    EN_STOPWORDS,
    LIST_JOINER,
    MEASURE_UNITS,
    MULT_CHAR,
    NOUN_EN,
    PREFIX_QUALIFIERS,
    QUALIFIER_FILLERS,
    RE_ARABIC,
    RE_BARE_YEAR_RANGE,
    RE_BASE_BEFORE,
    RE_CITATION_MARK,
    RE_CJK,
    RE_CN_MULT,
    RE_COMPACT_DATE,
    RE_CONNECTOR,
    RE_DATE,
    RE_EN_NOUN,
    RE_EN_SCALE,
    RE_LATIN_TOKEN,
    RE_MONTH_DAY,
    RE_MULTIPLE,
    RE_NEW_CLAUSE,
    RE_ORDINAL,
    RE_PCT,
    RE_PER_UNIT,
    RE_PERCENT,
    RE_PERIOD_CODE_YEAR,
    RE_POINTS,
    RE_QUARTER,
    RE_RATIO,
    RE_RELATIVE_YEAR,
    RE_SENTENCE_END,
    RE_SHORT_YEAR,
    RE_START,
    RE_STOCK_CODE,
    RE_TIME,
    RE_URL,
    RE_YEAR,
    RE_YEAR_AFTER_FIGURE,
    RE_YEAR_EARLIER,
    RE_YEAR_PREPOSITION,
    RE_YEAR_RANGE,
    RELATIVE_YEARS,
    RESPECTIVELY,
    SUBJECT_TAIL,
    SUFFIX_QUALIFIERS,
    UNIT_EN,
    UNIT_EN_TO_KIND,
    WORD_QUALIFIERS,
)
from rag.numbers.quantity import (
    Currency,
    Kind,
    Qualifier,
    Quantity,
    QuantityParseError,
    YearMention,
)

# ---------------------------------------------------------------------------------------------
# Years, dates and other number-like things that are not figures


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

    for m in RE_DATE.finditer(text):
        add(m.start(), m.end(), int(m.group(1)), "date")
    for m in RE_COMPACT_DATE.finditer(text):
        add(m.start(), m.end(), int(m.group(1)), "date")
    for m in RE_YEAR_RANGE.finditer(text):
        add(m.start(1), m.end(1), int(m.group(1)), "year")
        add(m.start(2), m.end(2), int(m.group(2)), "year")
    for m in RE_YEAR.finditer(text):
        g = 1 if m.group(1) else 2
        add(m.start(g), m.end(g), int(m.group(g)), "year")
    for m in RE_SHORT_YEAR.finditer(text):
        add(m.start(1), m.end(1), 2000 + int(m.group(1)), "year")
    for y in _scan(text)[1]:
        add(y.start, y.end, y.year, "year")
    return sorted(found, key=lambda y: y.start)


def resolve_relative_years(text: str, doc_year: int) -> list[tuple[tuple[int, int], int]]:
    """(span, year) for 今年/明年/后年/去年/前年 and "this/next/last year", given the note's year."""
    return [
        ((m.start(), m.end()), doc_year + RELATIVE_YEARS[m.group(0).lower()])
        for m in RE_RELATIVE_YEAR.finditer(text)
    ]


def _masked_spans(text: str) -> list[tuple[int, int]]:
    """Spans holding years, dates, times, quarters, months, ordinals and citation marks."""
    spans: list[tuple[int, int]] = []
    for rx in (
        RE_DATE,
        RE_COMPACT_DATE,
        RE_YEAR_RANGE,
        RE_YEAR,
        RE_TIME,
        RE_QUARTER,
        RE_MONTH_DAY,
        RE_CITATION_MARK,
        RE_ORDINAL,
        RE_URL,
        RE_STOCK_CODE,
    ):
        spans.extend((m.start(), m.end()) for m in rx.finditer(text))
    spans.extend((m.start(1), m.end()) for m in RE_SHORT_YEAR.finditer(text))
    return spans


# ---------------------------------------------------------------------------------------------
# Scanning


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
    m = re.fullmatch(f"([{CN_DIGITS}])([{CN_DIGITS}])([十百千万亿]*)", s)
    if m:
        a, b = CN_DIGIT_VALUE[m.group(1)], CN_DIGIT_VALUE[m.group(2)]
        if b == a + 1 and a > 0:
            mult = Decimal(1)
            for ch in m.group(3):
                mult *= MULT_CHAR[ch]
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
    m = RE_ARABIC.match(text, pos)
    if m is not None:
        prev = text[pos - 1] if pos else " "
        # Identifiers glued to letters are names, not figures: GB200, H100, GPT-4 (but a percent
        # glued to a name is a share: "TSMC60%").
        glued_currency = any(text.endswith(k, 0, pos) for k in CURRENCY_PREFIX if k.isalpha())
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
    m = RE_CJK.match(text, pos)
    if m is None or m.group()[0] not in CN_DIGITS + "十":
        return None
    run = m.group().rstrip("点")  # a trailing 点 is "一点" (a bit), not a decimal point
    if run.endswith("零") and text.startswith(("部件", "件"), pos + len(run)):
        run = run[:-1]  # 零部件 (components) is a word
    parsed = _cjk_number(run) if run else None
    if parsed is None:
        return None
    return parsed[0], parsed[1], pos + len(run), True, False


_MILLION_M = re.compile(r"m(?![A-Za-z0-9²³])")
_CURRENCY_BEFORE = re.compile(
    r"(?:US\$|HK\$|NT\$|S\$|A\$|RMB|CNY|USD|HKD|EUR|GBP|[$€£¥])\s?$", re.I
)
_UNIT_AFTER_M = re.compile(r"m\s+[A-Z]{2,}\b")
# "5.4m air conditioners", "76m consumers": in English prose, m before a counted noun is a
# million; before a length word it stays metres ("7m long", "2m cables").
_NOUN_AFTER_M = re.compile(
    r"m\s+(?!(?:long|wide|deep|high|tall|length|cables?|wires?|lines?)\b)[a-z]{3,}"
)
_CJK_NEAR = re.compile(r"[\u4e00-\u9fff]")


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
            scale *= MULT_CHAR[ch]
            has_scale = True
    else:
        if text.startswith(" ", end) and text[end + 1 : end + 2] in ("万", "亿"):
            end += 1  # "170 万根"
        mm = RE_CN_MULT.match(text, end)
        em = None if (mm or is_cjk) else RE_EN_SCALE.match(text, end)
        if mm:
            for ch in mm.group():
                scale *= MULT_CHAR[ch]
            has_scale, end = True, mm.end()
        elif em:
            scale = Decimal(EN_SCALE[(em.group(1) or em.group(2)).lower()])
            has_scale, end = True, em.end()
        elif _MILLION_M.match(text, end) and (
            _CURRENCY_BEFORE.search(text[max(0, start - 5) : start])
            or _UNIT_AFTER_M.match(text, end)
            or (
                _NOUN_AFTER_M.match(text, end)
                and not _CJK_NEAR.search(text[max(0, start - 20) : end + 30])
            )
        ):
            # "US$264.3m", "113.28m TEU": m is a million after money or before a unit's
            # acronym; elsewhere it may be metres ("7m cables").
            scale, has_scale, end = Decimal(10**6), True, end + 1
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
    if pm := RE_POINTS.match(text, end):
        marker, end = "points", pm.end()
        if re.fullmatch(r"\s?bps?", pm.group(), re.IGNORECASE):
            # basis points: 104bp is 1.04 percentage points
            low, high = low / 100, high / 100
    elif (pm := RE_PCT.match(text, end)) and re.search(
        r"[\u4e00-\u9fff]", text[max(0, pos - 12) : pos]
    ):
        # Chinese broker shorthand: "同比提升2.1pct" is 2.1 percentage points (English wire
        # copy's "5 pct" is a percent, and reads as one below)
        marker, end = "points", pm.end()
    elif pm := RE_PERCENT.match(text, end):
        marker, end = "percent", pm.end()
    elif (pm := RE_MULTIPLE.match(text, end)) and not pm.group().startswith(" x"):
        marker, end = "multiple", pm.end()
    elif cur := _match_prefix(text, end, CURRENCY_SUFFIX):
        currency, end = CURRENCY_SUFFIX[cur[0]], cur[1]
    else:
        unit = next((u for u in CN_UNITS_ORDERED if text.startswith(u, end)), None)
        end += len(unit or "")
    nxt = text[end : end + 1]
    # A Latin unit after a Chinese scale ("124亿Gb", "1.5亿TEU") is what is measured, known
    # or not: "800G" (no scale) is a spec, "124亿Gb" is 12.4 billion gigabits.
    scaled = not (marker or unit or currency) and re.search("[万亿]", text[start:end])
    if scaled and (latin := re.match(r"[A-Za-z]{1,5}(?![A-Za-z])", text[end:])):
        unit, end = latin.group(), end + len(latin.group())
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
    m = RE_LATIN_TOKEN.match(text, p)
    if m and m.group().lower() not in EN_STOPWORDS:
        return m.group().rstrip(".-")
    window = re.split(r"[，,。；;：:！!？?、]", text[p : p + 8])[0]  # never past its clause
    hits = [(window.find(n), -len(n), n) for n in NOUN_EN if 0 <= window.find(n) <= 3]
    return min(hits)[2] if hits else None


def _en_noun_after(text: str, pos: int) -> str | None:
    m = RE_EN_NOUN.match(text, pos)
    if not m:
        return None
    first = m.group(1)
    if first.lower() in EN_STOPWORDS:
        return None
    second = m.group(2)
    if first.isupper() and second and second not in EN_STOPWORDS:
        return f"{first} {second}"  # "AEC cables"
    return first


def _qualifier_before(text: str, pos: int) -> tuple[Qualifier | None, int]:
    """A qualifier ending right before pos, optionally followed by 为/需要/...: "至少需要两百多万"."""
    p = pos
    while p > 0 and text[p - 1] == " ":
        p -= 1
    ends = [p] + [
        p - len(f) for f in QUALIFIER_FILLERS if p >= len(f) and text[p - len(f) : p] == f
    ]
    for q in ends:
        while q > 0 and text[q - 1] == " ":
            q -= 1
        for word in WORD_QUALIFIERS:
            s = q - len(word)
            if s < 0 or text[s:q].lower() != word:
                continue
            if word[0].isascii() and word[0].isalpha() and s > 0 and text[s - 1].isalnum():
                continue  # "turnover 5" is not "over 5"
            if word == "约" and s > 0 and text[s - 1] in "节合契制条":
                continue  # 节约, 合约...
            return PREFIX_QUALIFIERS[word], s
    return None, pos


def _qualifier_after(text: str, pos: int) -> tuple[Qualifier | None, int]:
    for word in sorted(SUFFIX_QUALIFIERS, key=len, reverse=True):
        if text.startswith(word, pos):
            if word == "+" and re.match(r"\s*[\d(（]", text[pos + 1 : pos + 3]):
                return None, pos  # "100亿+30亿" is a sum, not "over 100亿"
            return SUFFIX_QUALIFIERS[word], pos + len(word)
    return None, pos


def _currency_before(text: str, pos: int) -> tuple[Currency | None, int]:
    p = pos
    if p > 0 and text[p - 1] == " ":
        p -= 1
    for key in sorted(CURRENCY_PREFIX, key=len, reverse=True):
        s = p - len(key)
        if s >= 0 and text[s:p] == key:
            if key.isalpha() and s > 0 and text[s - 1].isalnum():
                continue
            if key == "$" and s > 0 and text[s - 1] in "USK":
                continue
            return CURRENCY_PREFIX[key], s
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
    if unit in DURATION_UNITS:
        return "duration"
    if unit in MEASURE_UNITS or (unit and unit.isascii() and not unit.islower()):
        return "measure"  # a unit symbol (GWh, TEU, Gb) measures; "units", "cables" count
    if unit is not None:
        return UNIT_EN_TO_KIND.get(unit, "count")
    if noun is not None:
        return "count"
    return "number"


def _plain_unit(q: Quantity) -> bool:
    """No measure word and no lowercase English unit: "2026 AEC" may be a year, "2000 units" not."""
    return q.unit not in COUNT_UNITS and not (q.unit and q.unit.islower() and q.noun is None)


def _is_bare_year(text: str, atom: _Atom, q: Quantity) -> bool:
    """An English "in 2026" / "2026 AEC demand": an integer 1900-2100 with nothing attached."""
    plain = (
        not atom.is_cjk
        and not atom.has_scale
        and not atom.has_comma
        and not q.is_range
        and q.qualifier == "exact"
        and q.kind in ("number", "count")
        and q.unit not in COUNT_UNITS
        and q.low == q.low.to_integral_value()
        and 1900 <= q.low <= 2100
    )
    head = text[max(0, atom.start - 10) : atom.start]
    after_preposition = RE_YEAR_PREPOSITION.search(head)
    # "Acme's 2025 revenue", "the 2025 net profit": a possessive before it, or a metric word
    # after it, makes it the year the metric is for, not a count of revenues.
    possessive = re.search(r"(?:'s?|’s?)\s+$", head)
    # "for 2025 and 2026 respectively": listed after a year, a year.
    listed = re.search(
        r"(?<!\d)(?:19|20)\d{2}\s*(?:,|and|&|to|-|–)\s*$",
        text[max(0, atom.start - 16) : atom.start],
    )
    return plain and (
        bool(after_preposition)
        or bool(possessive)
        or bool(listed)
        or _plain_unit(q)
        or _metric_word(q.unit)
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
    ) - {*UNIT_EN.values(), *NOUN_EN.values(), "unit"}


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
    while (sm := RE_START.search(text, pos)) is not None:
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
        rm = RE_RATIO.match(text, s)
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
        elif bare_years and (span := RE_BARE_YEAR_RANGE.fullmatch(q.raw)) and _plain_unit(q):
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
        if not (a.marker or a.currency or a.unit or b.currency or b.unit):
            return False  # "5-10%", "0-2%": the percent sign sits on the far end only
        return bool(a.currency or b.currency or a.unit or b.unit or a.marker or b.marker)
    return bool(a.currency and b.currency and a.currency != b.currency)


def _build(text: str, atom: _Atom, masked: Sequence[tuple[int, int]]) -> tuple[Quantity, int]:
    """Grow an atom into a Quantity: a range's second end, currency prefix, qualifiers, noun."""
    second: _Atom | None = None
    end = atom.end
    before = text[max(0, atom.start - 12) : atom.start]
    cm = RE_CONNECTOR.match(text, end)
    if (
        cm
        and not atom.more
        and atom.marker != "fraction"
        and not re.search(r"(从|from\s*\S{0,4})$", before, re.I)
    ):
        p2 = cm.end()
        if cur := _match_prefix(text, p2, CURRENCY_PREFIX):
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
        if not atom.marker and re.search(r"bps?$", text[second.start : second.end], re.I):
            low, high = low / 100, high / 100  # "5-10bp": both ends are basis points
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

    if currency is not None and unit is None and (per := RE_PER_UNIT.match(text, end)):
        unit, end = f"/{per.group(1)}", per.end()  # a price per unit: "0.295元/W", "US$2/share"
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


def _attach_context(
    text: str, qs: list[Quantity], years: list[tuple[int, int, int]], doc_year: int | None = None
) -> list[Quantity]:
    """Give each figure its year (the one written right after it, English-style, else its
    sentence's nearest preceding one) and the words before it."""
    ends = [m.end() for m in RE_SENTENCE_END.finditer(text)]
    out: list[Quantity] = []
    for q in qs:
        assert q.start is not None and q.end is not None
        sent = max((e for e in ends if e <= q.start), default=0)
        year = None
        cut: list[tuple[int, int]] = []
        for ys, ye, y in years:
            if sent <= ys and ye <= q.start:
                if RE_BASE_BEFORE.search(text[max(sent, ys - 24) : ys]) and RE_NEW_CLAUSE.search(
                    text[ye : q.start]
                ):
                    continue  # "down 10bp from full-year 2024 and 12bp YoY": a base's year
                year = y
                cut.append((ys, ye + (1 if text[ye : ye + 1] == "年" else 0)))
        sentence_end = min((e for e in ends if e > q.end), default=len(text))
        base = year if year is not None else doc_year
        year = _year_after(text, q.end, sentence_end, years, base) or year
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
        subject = SUBJECT_TAIL.sub("", words).strip(" ,，、:：()（）")[-40:]
        out.append(q.model_copy(update={"year": year, "subject": subject or None}))
    return _respective_years(text, out, years, ends)


def _respective_years(
    text: str, qs: list[Quantity], years: list[tuple[int, int, int]], ends: list[int]
) -> list[Quantity]:
    """ "今年、明年归母净利润分别为110.93亿元、126.16亿元" / "RMB 10bn and 12bn in 2025 and 2026,
    respectively": as many figures of one kind as the sentence lists years pair up in order."""
    bounds = [0, *ends, len(text) + 1]
    out = list(qs)
    for a, b in zip(bounds, bounds[1:], strict=False):
        if not RESPECTIVELY.search(text[a:b]):
            continue
        listed = [y for ys, _, y in years if a <= ys < b]
        listed = [y for i, y in enumerate(listed) if y not in listed[:i]]
        inside = [i for i, q in enumerate(out) if q.start is not None and a <= q.start < b]
        if len(listed) < 2:
            continue
        if len({out[i].kind for i in inside}) == 1 and len(inside) == len(listed):
            runs = [inside]
        else:
            # "EPS分别为72.88元和76.68元，对应PE约20倍和19倍": each list of one kind, as long as
            # the years', pairs up with them.
            runs = [r for r in _lists_of_one_kind(text, out, inside) if len(r) == len(listed)]
        for run in runs:
            for i, year in zip(run, listed, strict=True):
                out[i] = out[i].model_copy(update={"year": year})
    return out


def _lists_of_one_kind(text: str, qs: list[Quantity], indices: list[int]) -> list[list[int]]:
    """Runs of figures of one kind written as a list ("72.88元和76.68元"), as indices."""
    runs: list[list[int]] = []
    for i in indices:
        last = qs[runs[-1][-1]] if runs else None
        if (
            last is not None
            and last.kind == qs[i].kind
            and LIST_JOINER.fullmatch(text, last.end or 0, qs[i].start or 0)
        ):
            runs[-1].append(i)
        else:
            runs.append([i])
    return runs


def extract_quantities(text: str, doc_year: int | None = None) -> list[Quantity]:
    """Every figure in `text` with text[q.start:q.end] == q.raw, in order of appearance.

    Years/dates/times/quarters, identifiers (GB200, 800G), ordinals (第一) and citation marks
    ([1]) are skipped. Each figure gets the nearest preceding year of its sentence (relative
    years like 明年 count when `doc_year` is given) and a `subject` (the sentence's words before
    the figure, figures and years removed).
    """
    qs, _ = _scan(text)
    years = [(y.start, y.end, y.year) for y in extract_years(text) if y.kind == "year"]
    years += _period_code_years(text)
    if doc_year is not None:
        years += [(s, e, y) for (s, e), y in resolve_relative_years(text, doc_year)]
    years.sort()
    return _attach_context(text, qs, years, doc_year)


def _period_code_years(text: str) -> list[tuple[int, int, int]]:
    """(start, end, year) of the year inside each period code ("3Q25" -> 2025)."""
    found = []
    for m in RE_PERIOD_CODE_YEAR.finditer(text):
        digits = m.group(1) or m.group(2)
        found.append((m.start(), m.end(), int(digits) if len(digits) == 4 else 2000 + int(digits)))
    return found


def _year_after(
    text: str, end: int, sentence_end: int, years: list[tuple[int, int, int]], base: int | None
) -> int | None:
    """The year English writes right after a figure ("US$1,759 in 3Q24", "RMB 22.5bn for next
    year", "RMB 43.9bn a year earlier": the year before `base`), None if none follows it."""
    earlier = [
        (m.start(), m.end(), base - 1)
        for m in RE_YEAR_EARLIER.finditer(text, end, sentence_end)
        if base is not None
    ]
    for ys, _, year in sorted([*years, *earlier]):
        if end <= ys < sentence_end:
            return year if RE_YEAR_AFTER_FIGURE.fullmatch(text, end, ys) else None
    return None


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
        and not BARE_YEAR_FIGURE.fullmatch(q.raw.strip())
    ]


def parse_quantity(text: str) -> Quantity:
    """The single figure in a short string such as "170万根", "US$13-15 billion", "1:1.25", "0.8".

    Unlike extraction, a bare "2026" or "两百" here is a number. Raises QuantityParseError unless
    exactly one figure is found.
    """
    stripped = text.strip()
    qs, _ = _scan(stripped, bare_years=False)
    if not qs and stripped and stripped[0] in CN_DIGITS + "十":
        atom = _scan_atom(stripped, 0, allow_bare_cjk=True)
        if atom is not None:
            qs = [_build(stripped, atom, [])[0]]
    if len(qs) != 1:
        found = [q.raw for q in qs]
        raise QuantityParseError(f"expected one figure in {text!r}, found {len(qs)}: {found}")
    return qs[0]
