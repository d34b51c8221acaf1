"""Reporting periods in questions and notes: which part of which year a figure covers.

"前三季度营收2830.72亿元，其中第三季度单季1041.86亿元" states two figures of one year for two
periods; a question about the quarter must get the quarter's. A `Period` is a span of a year
(full year, a half, nine months, a quarter) and, when written, the year. Spans are read from
the words analysts use in both languages; a year alone names no span.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from rag.numbers.lexicon import RE_BASE_BEFORE, RE_NEW_CLAUSE
from rag.sentences import HEADING_JOIN

Span = Literal[
    "fy", "h1", "h2", "9m", "q1", "q2", "q3", "q4",
    "m01", "m02", "m03", "m04", "m05", "m06", "m07", "m08", "m09", "m10", "m11", "m12",
    # January to the month named, where no quarter or half ends: "1-8月", "Jan-Oct".
    "ytd02", "ytd04", "ytd05", "ytd07", "ytd08", "ytd10", "ytd11",
]  # fmt: skip

_QUARTER = {"一": "q1", "二": "q2", "三": "q3", "四": "q4", "1": "q1", "2": "q2", "3": "q3", "4": "q4",
            "first": "q1", "second": "q2", "third": "q3", "fourth": "q4",
            # "the September quarter", "quarter ended 30 June": the quarter ending that month
            "mar": "q1", "march": "q1", "jun": "q2", "june": "q2", "sep": "q3", "sept": "q3",
            "september": "q3", "dec": "q4", "december": "q4"}  # fmt: skip
# Order matters: "前三季度" (nine months) before "三季度" (a quarter).
# A word edge for Latin codes only: "Q3单季" and "1H25净利润" still read as periods.
_ASCII_EDGE = r"(?:(?<![A-Za-z])(?=[A-Za-z0-9])|(?<=[A-Za-z0-9])(?![A-Za-z0-9]))"  # 2025Q3 too
_TO = "[-‐‑–—－~～至到]"  # "1-9月", "1—9月", "1～6月", "1至6月": every dash and word for "to"
_MONTH_ZH = r"(?<!{TO})(?<!{TO}\s)(1[0-2]|0?[1-9])\s*月(?:份)?(?!\s*\d{1,2}\s*[日号])(?!末|底|初|中旬|上旬|下旬)"
_MONTH_EN = (
    r"(?P<en>January|February|March|April|May|June|July|August|September|October|November|"
    r"December|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept|Sep|Oct|Nov|Dec)\.?"
    r"(?!\s*(?:{TO}|to|through|and)\s*(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec))"
)
_MONTH_NUMBER = {
    name: i
    for i, names in enumerate(
        (("jan", "january"), ("feb", "february"), ("mar", "march"), ("apr", "april"), ("may",),
         ("jun", "june"), ("jul", "july"), ("aug", "august"), ("sep", "sept", "september"),
         ("oct", "october"), ("nov", "november"), ("dec", "december")),
        start=1,
    )
    for name in names
}  # fmt: skip
# How many months a range from January runs, by its last month or its count.
_MONTHS_COUNTED = {
    **{str(n): n for n in range(1, 13)},
    **{zh: n for n, zh in enumerate("一二三四五六七八九十", start=1)},
    "两": 2, "十一": 11, "十二": 12,
    **{en: n for n, en in enumerate(
        ("one", "two", "thr", "fou", "fiv", "six", "sev", "eig", "nin", "ten", "ele"), start=1
    )},
    **{name[:3]: n for name, n in _MONTH_NUMBER.items()},
}  # fmt: skip
_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (
        span,
        re.compile(
            pattern.replace("{MONTH_ZH}", _MONTH_ZH)
            .replace("{MONTH_EN}", _MONTH_EN)
            .replace("{B}", _ASCII_EDGE)
            .replace("{TO}", _TO),
            0 if span == "month" else re.IGNORECASE,  # "may" is no month; "May 2025" is
        ),
    )
    for span, pattern in (
        (
            # "1-10月累计", "前8个月", "January-October": January to a month; where a quarter or
            # the year ends there ("1-3月", "1-12月"), that quarter or the full year.
            "ytd",
            r"1\s*{TO}\s*(1[0-2]|[234578])\s*月|一至(十一|十二|十|二|三|四|五|七|八)月|"
            r"前(十一|十|两|二|三|四|五|七|八|1[01]|[234578])个?月|"
            r"first[\s-]+(two|three|four|five|seven|eight|ten|eleven)[\s-]+months|"
            r"Jan(?:uary)?\s*(?:{TO}|to|through)\s*(Feb|Mar|Apr|May|Jul|Aug|Oct|Nov|Dec)[a-z]*\.?",
        ),
        (
            "9m",
            r"前(?:三|3)(?:个)?季度|1\s*{TO}\s*9\s*月|一至九月|前(?:9|九)个?月|"
            r"first[\s-]+(?:three[\s-]+quarters|nine[\s-]+months?)|nine[\s-]+months?|{B}9M(?:\s?(?:20)?\d{2})?{B}|"
            r"{B}YTD{B}|year[- ]to[- ]date|Jan(?:uary)?\s*(?:{TO}|to|through)\s*Sep(?:tember)?",
        ),
        (
            "h1",
            r"上半年|半年度|1\s*{TO}\s*6\s*月|first[\s-]+half|{B}H1{B}|{B}1H(?:\s?(?:20)?\d{2})?{B}|"
            r"{B}interim{B}|Jan(?:uary)?\s*(?:{TO}|to|through)\s*Jun(?:e)?",
        ),
        ("h2", r"下半年|second[\s-]+half|{B}H2{B}|{B}2H(?:\s?(?:20)?\d{2})?{B}"),
        (
            "q",
            r"(?:第|单)?([一二三四1-4])季度|{B}Q([1-4]){B}|{B}([1-4])Q(?:\s?(?:20)?\d{2})?{B}|"
            r"{B}(first|second|third|fourth)[\s-]+quarter{B}|"
            r"{B}(March|June|Sept|Sep|September|December|Mar|Jun|Dec)\.?[\s-]+quarter{B}|"
            r"{B}(?:three months|quarter)\s+end(?:ed|ing)\s+(?:\d{1,2}\s+)?"
            r"(March|June|September|December)(?:\s+\d{1,2})?{B}",
        ),
        (
            "fy",
            r"全年|年度(?!报告)|full[- ]year|{B}FY(?:\s?(?:20)?\d{2}[EFA]?)?{B}|{B}annual{B}|whole\s+year",
        ),
        # A single month ("10月销量", "in October 2025", "Sep-25"), after the ranges above took
        # theirs ("1-9月", "Jan-Sep"): not a month inside a range ("1-10月", "January to
        # October"), a day ("12月26日", "October 26", "30 October"), or a balance date ("9月末",
        # "end-June").
        (
            "month",
            r"(?<![\d.]){MONTH_ZH}|"
            r"(?<![A-Za-z])(?<!end[- ])(?<!end of )(?<!end of the )(?<!to )(?<!through )(?<!{TO})"
            r"(?<!\d )(?<!\d)"  # "30 October" is a day
            r"(?:{MONTH_EN})(?![A-Za-z])(?!\s*\d{1,2}(?:st|nd|rd|th)?(?![\d]))",
        ),
    )
)
_YEAR = re.compile(
    r"(?<!\d)(20\d{2})(?!\d)|\b(?:FY|[1-4]Q|[12]H|9M)\s?(\d{2})[EFA]?\b", re.IGNORECASE
)


@dataclass(frozen=True)
class Period:
    span: Span
    year: int | None = None

    def label(self) -> str:
        return f"{self.year or ''}{self.span.upper()}"


def spans_in(text: str) -> list[tuple[int, int, Span]]:
    """(start, end, span) of each period word, left to right, without overlaps."""
    found: list[tuple[int, int, Span]] = []
    taken: list[tuple[int, int]] = []
    for kind, pattern in _PATTERNS:
        for match in pattern.finditer(text):
            start, end = match.span()
            if any(s < end and start < e for s, e in taken):
                continue
            if kind == "q":
                key = next(g for g in match.groups() if g)
                span: Span = _QUARTER[key.lower()]  # type: ignore[assignment]
            elif kind == "ytd":
                key = next(g for g in match.groups() if g)
                months = _MONTHS_COUNTED[key.lower()[:3]]
                span = {3: "q1", 12: "fy"}.get(months, f"ytd{months:02d}")  # type: ignore[assignment]
            elif kind == "month":
                name = match.group("en")
                number = _MONTH_NUMBER[name.lower()] if name else int(match.group(1))
                span = f"m{number:02d}"  # type: ignore[assignment]
            else:
                span = kind  # type: ignore[assignment]
            found.append((start, end, span))
            taken.append((start, end))
    return sorted(found)


# A period right after a comparison word is the base a figure is compared with ("环比9月的
# 396,270辆", "up 11.5% from September"), not the period the text goes on to speak of.
_COMPARED_WITH = re.compile(
    r"(?:环比|同比|较|相比|对比|比|than|vs\.?|versus|from|compared (?:with|to)|against)\s*(?:the\s+)?$"
    # the base's own figure between: "accelerating from 20% in the June quarter"
    r"|\b(?:than|vs\.?|versus|from|compared (?:with|to))\s+\S*\d\S*\s+(?:in|for|during)\s+(?:the\s+)?$",
    re.IGNORECASE,
)


def carried_spans_in(text: str) -> frozenset[Span]:
    """The periods a sentence frames what follows it with (and its own figures, where it
    names others too): those it names, less the bases of its comparisons."""
    return frozenset(
        span for start, _, span in spans_in(text) if not _COMPARED_WITH.search(text[:start])
    )


def _year_near(text: str, start: int, end: int) -> int | None:
    window = text[max(0, start - 12) : end + 8]
    for match in _YEAR.finditer(window):
        if match.group(1):
            return int(match.group(1))
        if match.group(2):
            return 2000 + int(match.group(2))
    return None


# Where a question gives what to compute from ("derived from its 9M and H1 figures", "given its
# H1 and Q2", "根据上半年和二季度数据"): the periods up to the clause's end are operands.
_BASIS = re.compile(
    r"(?:\b(?:from|given|using|based on|with)\b|根据|依据|基于|按照)[^,，;；。?？]*", re.IGNORECASE
)


def question_period(text: str) -> Period | None:
    """The period a question asks about, if it names a span ("2025年前三季度", "Q3 2025"); of
    several, the last one outside a clause giving the operands ("根据前三季度和Q3数据，上半年营收
    是多少", "What was Q3 profit, derived from its 9M and H1 figures?"): the one asked for."""
    spans = spans_in(text)
    if not spans:
        return None
    basis = [m.span() for m in _BASIS.finditer(text)]
    asked = [s for s in spans if not any(b <= s[0] < e for b, e in basis)] or spans
    start, end, span = asked[-1]
    if _POINT_AFTER.match(text[end:]) or _POINT_BEFORE.search(text[:start]):
        return None  # "三季度末", "end of Q3": a date a balance is stated at, not a span's flow
    return Period(span, _year_near(text, start, end))


_POINT_AFTER = re.compile(r"\s*(?:末|底|[- ]?end\b)", re.IGNORECASE)
_POINT_BEFORE = re.compile(r"\b(?:at\s+)?(?:the\s+)?end\s+of\s+(?:the\s+)?$", re.IGNORECASE)


def period_before(text: str, position: int) -> Span | None:
    """The span of the period word nearest before `position` in the same sentence: the one a
    figure at `position` is stated for ("前三季度营收…，其中第三季度单季营收1041.86亿元")."""
    best: Span | None = None
    for start, end, span in spans_in(text[:position]):
        if RE_BASE_BEFORE.search(text[max(0, start - 16) : start]) and RE_NEW_CLAUSE.search(
            text[end:position]
        ):
            continue  # "down 10bp from full-year 2024 and 12bp YoY": the base's period
        best = span
    return best


def period_years(text: str) -> set[int]:
    """Years written inside period codes ("1H25", "9M25", "FY24", "3Q25")."""
    return {2000 + int(m.group(2)) for m in _YEAR.finditer(text) if m.group(2) and not m.group(1)}


# A year as a period names it: "2025年", "2025Q3", "| 2026E |", and the two-digit years of
# period codes ("9M25营收", "FY24", "3Q25"); not a figure ("2000台", "2025.5亿元").
_PERIOD_YEAR = re.compile(
    r"(?<![\d.,$])(20\d{2})(?![\d.,%％])(?!\s*(?:万|亿|千|百|元|美元|台|根|个|家|人|条|套|颗))|"
    r"(?<![A-Za-z0-9])(?:FY|[1-4]Q|[12]H|9M)\s?(\d{2})(?![0-9])",
    re.IGNORECASE,
)


def years_in(text: str) -> list[tuple[int, int]]:
    """(position, year) of each year written in `text` as a period, left to right."""
    return [
        (m.start(), int(m.group(1)) if m.group(1) else 2000 + int(m.group(2)))
        for m in _PERIOD_YEAR.finditer(text)
    ]


_DATE = re.compile(r"(?<!\d)20\d{2}[-/.年]\d{1,2}[-/.月]\d{1,2}日?")


def heading_years(text: str) -> set[int]:
    """The years a heading frames its section with ("China Banks H1 2025 Wrap", "2025年三季报
    点评"); a date in it is when the note was written ("纪要（2025-11-06）"), no period."""
    return {year for _, year in years_in(_DATE.sub(" ", text))}


def heading_spans(path: str | None) -> frozenset[Span]:
    """The period the headings above a chunk frame it with: the nearest heading that names
    one ("## Key metrics, H1 2025", else the note's "# China insurers 9M25 wrap")."""
    for heading in reversed((path or "").split(HEADING_JOIN)):
        if found := spans_in(heading):
            return frozenset(span for _, _, span in found)
    return frozenset()


_FIRST_MONTH = {"q1": 1, "q2": 4, "q3": 7, "q4": 10, "h2": 7}


def implied_year(span: str, date: str | None) -> int | None:
    """The year a note dated `date` means by a part of the year it names with no year
    ("二季度交付…" in a 2025-11 note is 2025's): its own, unless that part starts more than
    four months after the note's month (a January note's fourth quarter is last year's)."""
    found = re.match(r"(20\d{2})-(\d{1,2})", str(date or ""))
    if not found:
        return None
    year, month = int(found.group(1)), int(found.group(2))
    first = int(span[1:]) if span.startswith("m") else _FIRST_MONTH.get(span, 1)
    return year - 1 if first > month + 4 else year


# Weeks and months named relative to the note (weekly price reports, monthly sales): "本周均价"
# and "上周均价" are two columns of one row, "last week's price" asks the second.
_RELATIVE_TIME = re.compile(
    r"(?P<current>本周|这周|本月|这个月|当月|this\s+week|this\s+month|current\s+(?:week|month))|"
    r"(?P<previous>上周|上一周|前一周|上月|上个月|上一月|last\s+week|last\s+month|"
    r"previous\s+(?:week|month)|prior\s+(?:week|month)|a\s+(?:week|month)\s+(?:earlier|ago))",
    re.IGNORECASE,
)
_UNIT_OF = re.compile(r"周|week", re.IGNORECASE)

RelativeTime = tuple[Literal["week", "month"], Literal["current", "previous"]]


def relative_times(text: str) -> list[tuple[int, RelativeTime]]:
    """(position, (unit, which)) of each week or month named relative to now, left to right."""
    found: list[tuple[int, RelativeTime]] = []
    for m in _RELATIVE_TIME.finditer(text):
        unit: Literal["week", "month"] = "week" if _UNIT_OF.search(m.group(0)) else "month"
        which: Literal["current", "previous"] = "current" if m.group("current") else "previous"
        found.append((m.start(), (unit, which)))
    return found


def relative_time_before(text: str, position: int) -> RelativeTime | None:
    """The relative week or month written nearest before `position` in its clause: the one a
    figure there is stated for ("本周均价0.295元/W，上周0.303元/W")."""
    clause_start = max((m.end() for m in re.finditer(r"[，,；;。]", text[:position])), default=0)
    found = relative_times(text[clause_start:position])
    return found[-1][1] if found else None


# Balance-sheet dates: a stock is stated at a point, the start of the year or the end of a
# period ("合同负债由年初的1.61亿元跃升至39.71亿元" — the first at the opening, the second at
# the closing date the sentence opens with, "季末").
_POINT = re.compile(
    r"(?P<opening>年初|期初|上年末|去年末|上年底|去年底|上年年末|"
    r"beginning of (?:the )?year|start of (?:the )?year|end of last year|(?:last|prior) year[- ]end)|"
    r"(?P<closing>季末|期末|季度末|月末|月底|年末|年底|半年末|报告期末|"
    r"\bend[- ]of[- ](?:the )?(?:quarter|period|june|september|december|march|q[1-4])|"
    r"\bat (?:the )?end[- ]\w+|\bas of (?:end[- ])?\w+)",
    re.IGNORECASE,
)
PointInTime = Literal["opening", "closing"]


def points_in(text: str) -> list[tuple[int, PointInTime]]:
    """(position, point) of each balance-sheet date named, left to right."""
    return [
        (m.start(), "opening" if m.group("opening") else "closing") for m in _POINT.finditer(text)
    ]


def point_of(text: str, position: int, figures_before: Sequence[int] = ()) -> PointInTime | None:
    """The date a figure at `position` is stated at: the one named nearest before it with no
    other figure between (that figure took it), else the one its sentence opens with."""
    found = points_in(text[:position])
    if found:
        at, point = found[-1]
        if not any(at < f < position for f in figures_before):
            return point
    first = points_in(text)
    return first[0][1] if first and first[0][0] < position and _opens(text, first[0][0]) else None


def _opens(text: str, at: int) -> bool:
    """Whether a date word opens its sentence or clause ("季末合同负债由…", "截至9月末，…")."""
    head = re.split(r"[，,；;。]", text[:at])[-1]
    return len(head) <= 6
