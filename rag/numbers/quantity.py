"""The figure types and value comparison: what a parsed figure is and when two are equal.

`Quantity` holds one figure as exact `Decimal` bounds in base units with its kind, qualifier,
unit/noun, currency and span in the source text; `quantity(...)` builds a computed (span-less)
one, `YearMention` is a year found in text (not a figure), and `same_value` decides whether two
figures state the same value within a relative tolerance. Nothing here reads or writes text.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, field_validator

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
Currency = Literal["USD", "CNY", "HKD", "EUR", "JPY", "KRW", "GBP", "TWD"]

LOWER_BOUNDS: frozenset[str] = frozenset({"over", "at_least"})
UPPER_BOUNDS: frozenset[str] = frozenset({"under", "at_most"})
# Kinds that relate one amount to another (a share, a multiple), never an amount themselves.
RELATIVE_KINDS: frozenset[str] = frozenset(
    {"percent", "ratio", "fraction", "multiple", "percentage_points"}
)


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
