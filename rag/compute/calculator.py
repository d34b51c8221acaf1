"""Arithmetic over figures from the evidence, with the formula spelled out for the reader.

The named operations analysts use (growth, CAGR, difference, percentage points, sum, ratio,
share, apply a ratio, range midpoint, multiply, per unit, percent change, working back,
annualising). Each takes `Quantity` operands, carries qualifiers and ranges through interval
arithmetic ("at least 200万 AEC at TPU:AEC = 1:1.25" → "at least 160万 TPU") and returns a
`CalcResult` with the formula in Chinese and English and the operands, so a caller can cite
where each came from. The planner (rag/compute/planner.py) calls them and records each call as
a `ToolCall`; `check_operands` refuses operands that are not figures of the evidence (or the
question). The model never calls them: computed answers are composed in code.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal, DivisionByZero, InvalidOperation, localcontext
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from rag.numbers import (
    LOWER_BOUNDS,
    UPPER_BOUNDS,
    Currency,
    Kind,
    Qualifier,
    Quantity,
    canonical,
    quantity,
    render,
    same_value,
)
from rag.types import Language, ToolCall

_PRECISION = 40
_INF = Decimal("Infinity")


class CalculatorError(ValueError):
    """An expression or operation the calculator refuses, with a reason a model can act on."""


class UngroundedOperandError(CalculatorError):
    """An operand is not one of the figures in the evidence or the question."""

    def __init__(self, missing: Sequence[Quantity]) -> None:
        self.missing = tuple(missing)
        names = ", ".join(q.raw or render(q, "zh") for q in self.missing)
        super().__init__(f"operand(s) not found in the evidence: {names}")


# ---------------------------------------------------------------------------------------------
# Safe arithmetic


# ---------------------------------------------------------------------------------------------
# Results


class CalcResult(BaseModel):
    """A computed figure with its formula (both languages) and the operands it came from."""

    model_config = ConfigDict(frozen=True)

    operation: str
    value: Quantity
    operands: tuple[Quantity, ...]
    formula_zh: str
    formula_en: str

    def formula(self, language: Language) -> str:
        return self.formula_en if language == "en" else self.formula_zh

    def text(self, language: Language) -> str:
        """The value as the answer should state it: "至少160万" / "at least 1.6 million"."""
        return render(self.value, language, max_decimals=_places(self.value))

    def to_tool_call(self, inputs: dict[str, Any], language: Language) -> ToolCall:
        return ToolCall(
            name=self.operation,
            inputs=inputs,
            output=self.text(language),
            formula=self.formula(language),
        )


def _decimals(kind: Kind) -> int:
    return 1 if kind in ("percent", "percentage_points") else 2


@dataclass(frozen=True)
class _Bound:
    """One end of an operand's possible values; `open` means "no bound this side"."""

    value: Decimal
    open: bool


def _ends(q: Quantity) -> tuple[_Bound, _Bound]:
    lo, hi = _Bound(q.low, False), _Bound(q.high, False)
    if q.qualifier in LOWER_BOUNDS:
        hi = _Bound(_INF, True)
    elif q.qualifier in UPPER_BOUNDS:
        # Counts, amounts and shares are not negative: "不到100万" is [0, 100万).
        lo = _Bound(Decimal(0) if q.low >= 0 else -_INF, True)
    return lo, hi


def _corner(f: Callable[..., Decimal], bounds: Sequence[_Bound], upward: bool) -> _Bound:
    is_open = any(b.open for b in bounds)
    with localcontext() as ctx:
        ctx.prec = _PRECISION
        try:
            return _Bound(f(*[b.value for b in bounds]), is_open)
        except (InvalidOperation, DivisionByZero, ZeroDivisionError):
            if is_open:
                return _Bound(_INF if upward else -_INF, True)
            raise CalculatorError("division by zero") from None


def _propagate(
    f: Callable[..., Decimal],
    operands: Sequence[Quantity],
    monotone: Sequence[int],
) -> tuple[Decimal, Decimal, Qualifier]:
    """Evaluate f over operand ranges and qualifiers; f is increasing (+1) or decreasing (−1)
    in each operand. Returns (low, high, qualifier) of the result."""
    ends = [_ends(q) for q in operands]
    low = _corner(f, [e[0] if m > 0 else e[1] for e, m in zip(ends, monotone, strict=True)], False)
    high = _corner(f, [e[1] if m > 0 else e[0] for e, m in zip(ends, monotone, strict=True)], True)
    approx = any(q.qualifier == "approx" for q in operands)
    bounded = [q for q in operands if q.qualifier in LOWER_BOUNDS | UPPER_BOUNDS]
    # One bounded operand keeps its strictness ("over" stays "over"); several give "at least".
    strict = len(bounded) == 1 and bounded[0].qualifier in ("over", "under")
    if low.open and high.open:
        raise CalculatorError(
            "operands are bounded in opposite directions (e.g. 'over' and 'under'): "
            "the result has no bound"
        )
    if high.open:
        return low.value, low.value, "over" if strict else "at_least"
    if low.open:
        return high.value, high.value, "under" if strict else "at_most"
    return low.value, high.value, "approx" if approx else "exact"


def _round(value: Decimal, kind: Kind, places: int | None = None) -> Decimal:
    """Results keep a sensible precision: 142.857...% → 142.9%, amounts to 2 decimals."""
    if not value.is_finite():
        raise CalculatorError("the result is unbounded")
    places = _decimals(kind) if places is None else places
    if value != 0 and abs(value) < 1:
        places = max(places, -value.adjusted() + 1)
    return canonical(value.quantize(Decimal(1).scaleb(-places)))


def _of_its_kind(
    operation: str,
    q: Quantity,
    low: Decimal,
    high: Decimal,
    qualifier: Qualifier,
    formula: Callable[[Language, Quantity], str],
) -> CalcResult:
    """A result of one figure's kind, unit and currency: a run-rate, a share per month, a
    midpoint."""
    return _result(
        operation, [q], low, high, qualifier, kind=q.kind, formula=formula,
        unit=q.unit, noun=q.noun, currency=q.currency,
    )  # fmt: skip


def _result(
    operation: str,
    operands: Sequence[Quantity],
    low: Decimal,
    high: Decimal,
    qualifier: Qualifier,
    *,
    kind: Kind,
    formula: Callable[[Language, Quantity], str],
    unit: str | None = None,
    noun: str | None = None,
    currency: Currency | None = None,
    places: int | None = None,
) -> CalcResult:
    value = quantity(
        _round(low, kind, places),
        _round(high, kind, places),
        kind=kind,
        qualifier=qualifier,
        unit=unit,
        noun=noun,
        currency=currency,
    )
    return CalcResult(
        operation=operation,
        value=value,
        operands=tuple(operands),
        formula_zh=formula("zh", value),
        formula_en=formula("en", value),
    )


def _term(q: Quantity, language: Language) -> str:
    """An operand inside a formula: its value without qualifier or measure word."""
    plain = q.model_copy(update={"qualifier": "exact"})
    return render(plain, language, with_unit=False, max_decimals=4)


def _shown(value: Quantity, language: Language) -> str:
    return render(value, language, with_unit=False, max_decimals=_places(value))


def _places(value: Quantity) -> int:
    """The decimals a result is shown with: its kind's, or the more it was rounded to (an
    average keeps one more than its figures)."""
    return max(_decimals(value.kind), min(_written_decimals(value), 4))


def _written_decimals(q: Quantity) -> int:
    """How many decimals a figure's value has (1.32 → 2)."""
    exponent = q.low.as_tuple().exponent if isinstance(q.low, Decimal) else 0
    return -exponent if isinstance(exponent, int) and exponent < 0 else 0


_AMOUNT_KINDS = frozenset({"count", "money", "number", "measure", "duration"})


def _check_comparable(a: Quantity, b: Quantity, what: str) -> None:
    if a.currency and b.currency and a.currency != b.currency:
        raise CalculatorError(
            f"{what}: {a.raw or render(a, 'zh')} is in {a.currency} but "
            f"{b.raw or render(b, 'zh')} is in {b.currency}; convert one first"
        )
    pct = {"percent", "percentage_points"}
    if (a.kind in pct) != (b.kind in pct):
        raise CalculatorError(f"{what}: cannot mix a percentage with an amount")


def _dimensionless(q: Quantity) -> bool:
    return q.kind in ("number", "multiple", "fraction", "ratio", "percent")


def _factor(q: Quantity) -> tuple[Decimal, Decimal]:
    """A dimensionless operand as a plain factor: 40% → 0.4."""
    if q.kind == "percent":
        return q.low / 100, q.high / 100
    return q.low, q.high


# ---------------------------------------------------------------------------------------------
# Named operations


def growth_rate(start: Quantity, end: Quantity) -> CalcResult:
    """(end − start) ÷ start as a percent: 70万 → 170万 = 142.9%."""
    _check_comparable(start, end, "growth rate")
    if start.low <= 0:
        raise CalculatorError("growth from zero or a negative base is undefined")
    low, high, qual = _propagate(lambda s, e: (e - s) / s * 100, [start, end], [-1, 1])

    def formula(lang: Language, v: Quantity) -> str:
        s, e = _term(start, lang), _term(end, lang)
        return f"({e} − {s}) ÷ {s} = {_shown(v, lang)}"

    return _result("growth_rate", [start, end], low, high, qual, kind="percent", formula=formula)


def cagr(start: Quantity, end: Quantity, years: int) -> CalcResult:
    """Compound annual growth: (end ÷ start)^(1/years) − 1, as a percent."""
    _check_comparable(start, end, "CAGR")
    if years <= 0 or years > 100:
        raise CalculatorError("years must be between 1 and 100")
    if start.low <= 0 or end.low <= 0:
        raise CalculatorError("CAGR needs positive start and end values")
    n = Decimal(years)
    low, high, qual = _propagate(lambda s, e: ((e / s) ** (1 / n) - 1) * 100, [start, end], [-1, 1])

    def formula(lang: Language, v: Quantity) -> str:
        s, e = _term(start, lang), _term(end, lang)
        return f"({e} ÷ {s})^(1/{years}) − 1 = {_shown(v, lang)}"

    return _result("cagr", [start, end], low, high, qual, kind="percent", formula=formula)


def difference(a: Quantity, b: Quantity) -> CalcResult:
    """a − b in a's unit; two percentages give percentage points."""
    if a.kind == "percent" and b.kind == "percent":
        return percentage_point_difference(a, b)
    _check_comparable(a, b, "difference")
    low, high, qual = _propagate(lambda x, y: x - y, [a, b], [1, -1])

    def formula(lang: Language, v: Quantity) -> str:
        return f"{_term(a, lang)} − {_term(b, lang)} = {_shown(v, lang)}"

    kind: Kind = a.kind if a.kind in _AMOUNT_KINDS else "number"
    return _result(
        "difference",
        [a, b],
        low,
        high,
        qual,
        kind=kind,
        formula=formula,
        unit=a.unit,
        noun=a.noun,
        currency=a.currency or b.currency,
        places=_exact_places(a, b),
    )


def _exact_places(a: Quantity, b: Quantity) -> int | None:
    """A difference is exact: it keeps the decimals its figures are written with (42.75% −
    22.57% = 20.18 points, not 20.2), and at least its kind's."""
    written = max(_written_decimals(a), _written_decimals(b))
    return max(written, _decimals(a.kind)) if written <= 4 else None


def percentage_point_difference(a: Quantity, b: Quantity) -> CalcResult:
    """a% − b% in percentage points: 50% − 40% = 10个百分点 / 10 percentage points."""
    if a.kind != "percent" or b.kind != "percent":
        raise CalculatorError("percentage-point difference needs two percentages")
    low, high, qual = _propagate(lambda x, y: x - y, [a, b], [1, -1])

    def formula(lang: Language, v: Quantity) -> str:
        return f"{_term(a, lang)} − {_term(b, lang)} = {_shown(v, lang)}"

    return _result(
        "percentage_point_difference",
        [a, b],
        low,
        high,
        qual,
        kind="percentage_points",
        formula=formula,
        places=_exact_places(a, b),
    )


def total(operands: Sequence[Quantity]) -> CalcResult:
    """The sum: 约100亿美元 + 30亿至50亿美元 = 约130亿至150亿美元."""
    return _over_all("sum", operands, divide=False)


def average(operands: Sequence[Quantity]) -> CalcResult:
    """The simple mean: (1.30% + 1.32% + 1.88% + 1.76%) ÷ 4 = 1.565%. Percentages average as
    percentages (a mean of margins, not a margin of sums); the mean keeps one decimal more
    than its figures."""
    return _over_all("average", operands, divide=True)


def _over_all(operation: str, operands: Sequence[Quantity], *, divide: bool) -> CalcResult:
    """The sum of like figures, or their mean (`divide`)."""
    if len(operands) < 2:
        raise CalculatorError(f"a {operation} needs at least two figures")
    for q in operands[1:]:
        _check_comparable(operands[0], q, operation)
    n = Decimal(len(operands)) if divide else Decimal(1)
    low, high, qual = _propagate(lambda *xs: sum(xs, Decimal(0)) / n, operands, [1] * len(operands))
    first = operands[0]

    def formula(lang: Language, v: Quantity) -> str:
        terms = " + ".join(_term(q, lang) for q in operands)
        shown = f"({terms}) ÷ {len(operands)}" if divide else terms
        return f"{shown} = {_shown(v, lang)}"

    kind: Kind = first.kind if first.kind in _AMOUNT_KINDS | {"percent"} else "number"
    written = max(_written_decimals(q) for q in operands)
    return _result(
        operation,
        operands,
        low,
        high,
        qual,
        kind="money"
        if (currency := next((q.currency for q in operands if q.currency), None))
        else kind,
        formula=formula,
        unit=first.unit,
        noun=first.noun,
        currency=currency,
        places=max(_decimals(kind), min(written, 4) + 1) if divide else None,
    )


def ratio(numerator: Quantity, denominator: Quantity) -> CalcResult:
    """numerator ÷ denominator as a multiple: 170万 ÷ 70万 = 2.43倍 / 2.43x."""
    _check_comparable(numerator, denominator, "ratio")
    if denominator.high <= 0:
        raise CalculatorError("division by zero or by a negative figure")
    low, high, qual = _propagate(lambda x, y: x / y, [numerator, denominator], [1, -1])

    def formula(lang: Language, v: Quantity) -> str:
        return f"{_term(numerator, lang)} ÷ {_term(denominator, lang)} = {_shown(v, lang)}"

    return _result(
        "ratio", [numerator, denominator], low, high, qual, kind="multiple", formula=formula
    )


def share(part: Quantity, whole: Quantity) -> CalcResult:
    """part ÷ whole as a percent."""
    _check_comparable(part, whole, "share")
    if whole.high <= 0:
        raise CalculatorError("division by zero or by a negative figure")
    low, high, qual = _propagate(lambda x, y: x / y * 100, [part, whole], [1, -1])

    def formula(lang: Language, v: Quantity) -> str:
        return f"{_term(part, lang)} ÷ {_term(whole, lang)} = {_shown(v, lang)}"

    return _result("share", [part, whole], low, high, qual, kind="percent", formula=formula)


def apply_ratio(
    known: Quantity,
    ratio_q: Quantity,
    known_side: Literal["left", "right"],
    *,
    left_name: str = "",
    right_name: str = "",
) -> CalcResult:
    """The other term of a ratio "left:right" given one side.

    Note 003: "谷歌TPU与AEC比例为1:1.25" is TPU:AEC = 1:1.25 (left = TPU, right = AEC). Knowing
    "至少两百多万根AEC" (the right side) gives TPU = AEC × 1 ÷ 1.25 = at least 160万.
    """
    if ratio_q.kind != "ratio" or ratio_q.ratio is None:
        raise CalculatorError("apply_ratio needs a ratio such as '1:1.25'")
    left, right = ratio_q.ratio
    if left <= 0 or right <= 0:
        raise CalculatorError("ratio terms must be positive")
    mul, div = (left, right) if known_side == "right" else (right, left)
    low, high, qual = _propagate(lambda x: x * mul / div, [known], [1])
    other_name = left_name if known_side == "right" else right_name

    def formula(lang: Language, v: Quantity) -> str:
        names = (
            left_name or ("左项" if lang == "zh" else "left"),
            right_name or ("右项" if lang == "zh" else "right"),
        )
        other = names[0] if known_side == "right" else names[1]
        sep = "，" if lang == "zh" else "; "
        return (
            f"{names[0]}:{names[1]} = {_term(ratio_q, lang)}{sep}"
            f"{other} = {_term(known, lang)} × {_plain(mul)} ÷ {_plain(div)} = {_shown(v, lang)}"
        )

    return _result(
        "apply_ratio",
        [known, ratio_q],
        low,
        high,
        qual,
        kind=known.kind,
        formula=formula,
        # The other side counts something else (TPUs, not AEC cables): drop the measure word.
        unit=None if other_name else known.unit,
        noun=other_name or None,
        currency=known.currency,
    )


def _plain(d: Decimal) -> str:
    return format(canonical(d), "f")


def midpoint(value_range: Quantity) -> CalcResult:
    """The middle of a range: (8万 + 12万) ÷ 2 = 10万 (note 000's "取中性值10万台")."""
    if not value_range.is_range:
        raise CalculatorError("midpoint needs a range such as '8万至12万台'")
    lo = value_range.model_copy(update={"high": value_range.low, "qualifier": "exact"})
    hi = value_range.model_copy(update={"low": value_range.high, "qualifier": "exact"})
    mid = (value_range.low + value_range.high) / 2
    qual: Qualifier = "approx" if value_range.qualifier == "approx" else "exact"

    def formula(lang: Language, v: Quantity) -> str:
        return f"({_term(lo, lang)} + {_term(hi, lang)}) ÷ 2 = {_shown(v, lang)}"

    return _of_its_kind("midpoint", value_range, mid, mid, qual, formula)


def multiply(a: Quantity, b: Quantity) -> CalcResult:
    """a × b: a count times a per-unit amount (10万台 × 10万美元 = 100亿美元), or any figure
    times a factor (100亿美元 × 三分之一, 25亿元 × 40%)."""
    if not (_dimensionless(a) or _dimensionless(b) or {a.kind, b.kind} == {"count", "money"}):
        raise CalculatorError(f"cannot multiply a {a.kind} by a {b.kind}")
    measure, factor = (b, a) if _dimensionless(a) and not _dimensionless(b) else (a, b)
    f_lo, f_hi = _factor(factor)
    as_factor = factor.model_copy(update={"low": f_lo, "high": f_hi})
    if measure.low < 0 or f_lo < 0:
        raise CalculatorError("multiply expects non-negative figures")
    low, high, qual = _propagate(lambda x, y: x * y, [measure, as_factor], [1, 1])
    money = a if a.currency else b if b.currency else None
    kind: Kind = "money" if money else measure.kind
    if kind in ("ratio", "fraction", "multiple", "percent"):
        kind = "number"

    def formula(lang: Language, v: Quantity) -> str:
        return f"{_term(a, lang)} × {_term(b, lang)} = {_shown(v, lang)}"

    return _result(
        "multiply",
        [a, b],
        low,
        high,
        qual,
        kind=kind,
        formula=formula,
        unit=None if money else measure.unit,
        noun=None if money else measure.noun,
        currency=money.currency if money else None,
    )


_SI = {"k": Decimal(10) ** 3, "M": Decimal(10) ** 6, "G": Decimal(10) ** 9, "T": Decimal(10) ** 12}


def unit_factor(unit: str | None, per: str) -> Decimal | None:
    """How many `per` one `unit` holds: GWh per Wh is 10^9, 台 per 台 is 1; None when the
    two are not one unit with an SI prefix (GWh and 吨 are not comparable)."""
    if not unit:
        return None
    if unit.lower() == per.lower():
        return Decimal(1)
    if unit.endswith(per) and unit[: -len(per)] in _SI:
        return _SI[unit[: -len(per)]]
    return None


def per_unit(amount: Quantity, units: Quantity, per: str) -> CalcResult:
    """An amount spread over a number of units: 185.49亿元 ÷ 165GWh = 0.1124元/Wh. `per` is
    the unit the answer is per (Wh, 台, tonne); a count's unit is itself."""
    if amount.kind != "money" or units.kind not in ("measure", "count"):
        raise CalculatorError(f"per-unit needs an amount and a quantity, not {units.kind}")
    factor = unit_factor(units.unit, per) if units.kind == "measure" else Decimal(1)
    if factor is None:
        raise CalculatorError(f"{units.raw or units.unit} is not counted in {per}")
    if units.low <= 0:
        raise CalculatorError("division by zero or by a negative figure")
    low, high, qual = _propagate(lambda x, y: x / (y * factor), [amount, units], [1, -1])
    suffix = f"/{per}"

    def formula(lang: Language, v: Quantity) -> str:
        return f"{_term(amount, lang)} ÷ {_term(units, lang)}{units.unit or ''} = {_shown(v, lang)}{suffix}"

    def four_digits(v: Decimal) -> Decimal:  # a unit price is small: keep 4 significant digits
        if not v.is_finite():
            raise CalculatorError("the result is unbounded")
        places = max(2, -v.adjusted() + 3) if v != 0 else 2
        return canonical(v.quantize(Decimal(1).scaleb(-places)))

    value = quantity(
        four_digits(low), four_digits(high), kind="money", qualifier=qual, currency=amount.currency
    )
    return CalcResult(
        operation="per_unit",
        value=value,
        operands=(amount, units),
        formula_zh=formula("zh", value),
        formula_en=formula("en", value),
    )


def percent_change(base: Quantity, change: Quantity, *, decrease: bool) -> CalcResult:
    """A figure after a stated change: 5,000根 reduced by 40% = 3,000根."""
    if change.kind != "percent":
        raise CalculatorError("percent_change needs a percentage such as '40%'")
    if base.kind in ("percent", "percentage_points", "ratio", "fraction", "multiple"):
        raise CalculatorError(f"cannot apply a percentage change to a {base.kind}")
    if base.low < 0 or change.low < 0 or (decrease and change.high > 100):
        raise CalculatorError("the base must be non-negative and a decrease at most 100%")
    sign = -1 if decrease else 1
    low, high, qual = _propagate(lambda b, p: b * (1 + sign * p / 100), [base, change], [1, sign])

    def formula(lang: Language, v: Quantity) -> str:
        op = "−" if decrease else "+"
        return f"{_term(base, lang)} × (1 {op} {_term(change, lang)}) = {_shown(v, lang)}"

    return _result(
        "percent_change",
        [base, change],
        low,
        high,
        qual,
        kind=base.kind,
        formula=formula,
        unit=base.unit,
        noun=base.noun,
        currency=base.currency,
    )


def work_back(level: Quantity, change: Quantity, *, decrease: bool) -> CalcResult:
    """The figure before a stated change: 185.49亿元 after growing 41.21% was 185.49亿元 ÷
    (1 + 41.21%) = 131.36亿元; a percentage after a change in points is read back the same way."""
    if change.kind == "percentage_points":
        if level.kind != "percent":
            raise CalculatorError("a change in percentage points applies to a percentage")
        sign = 1 if decrease else -1
        low, high, qual = _propagate(lambda v, p: v + sign * p, [level, change], [1, sign])

        def pp_formula(lang: Language, v: Quantity) -> str:
            op = "+" if decrease else "−"
            return f"{_term(level, lang)} {op} {_term(change, lang)} = {_shown(v, lang)}"

        return _result(
            "work_back", [level, change], low, high, qual, kind="percent", formula=pp_formula
        )
    if change.kind != "percent":
        raise CalculatorError("work_back needs a growth rate such as '41.21%'")
    if level.kind in ("ratio", "fraction", "multiple", "percentage_points"):
        raise CalculatorError(f"cannot work back a {level.kind}")
    if decrease and change.high >= 100:
        raise CalculatorError("a decrease of 100% or more has no base")
    sign = -1 if decrease else 1
    low, high, qual = _propagate(lambda v, p: v / (1 + sign * p / 100), [level, change], [1, -sign])

    def formula(lang: Language, v: Quantity) -> str:
        op = "−" if decrease else "+"
        return f"{_term(level, lang)} ÷ (1 {op} {_term(change, lang)}) = {_shown(v, lang)}"

    return _result(
        "work_back",
        [level, change],
        low,
        high,
        qual,
        kind=level.kind,
        formula=formula,
        unit=level.unit,
        noun=level.noun,
        currency=level.currency,
    )


def annualise(q: Quantity, months: int) -> CalcResult:
    """A part-year figure at its run-rate for twelve months: H1 × 12 ÷ 6, 9M × 12 ÷ 9,
    January to October × 12 ÷ 10."""
    if months not in range(1, 12):
        raise CalculatorError("annualise takes a part of the year, 1 to 11 months")
    if q.kind in ("percent", "percentage_points", "ratio", "fraction", "multiple"):
        raise CalculatorError(f"a {q.kind} is not annualised by scaling")
    factor = Decimal(12) / Decimal(months)
    low, high, qual = _propagate(lambda v: v * factor, [q], [1])

    def formula(lang: Language, v: Quantity) -> str:
        return f"{_term(q, lang)} × 12 ÷ {months} = {_shown(v, lang)}"

    return _of_its_kind("annualise", q, low, high, qual, formula)


def spread(q: Quantity, periods: int) -> CalcResult:
    """An amount spread evenly over a number of periods: 89.8万辆 over 2 months = 44.9万辆 a
    month."""
    if periods < 1:
        raise CalculatorError("an amount is spread over one period or more")
    if q.kind in ("percent", "percentage_points", "ratio", "fraction", "multiple"):
        raise CalculatorError(f"a {q.kind} is not spread over periods")
    low, high, qual = _propagate(lambda v: v / Decimal(periods), [q], [1])

    def formula(lang: Language, v: Quantity) -> str:
        return f"{_term(q, lang)} ÷ {periods} = {_shown(v, lang)}"

    return _of_its_kind("spread", q, low, high, qual, formula)


# ---------------------------------------------------------------------------------------------
# Grounding


def _is_constant(q: Quantity) -> bool:
    """Plain small integers (2 for a midpoint, 100 for a percent) need no citation."""
    return (
        q.kind == "number"
        and not q.is_range
        and q.low == q.low.to_integral_value()
        and 0 <= q.low <= 100
    )


def check_operands(
    operands: Sequence[Quantity],
    allowed: Sequence[Quantity],
    tolerance: Decimal | str = Decimal("0.005"),
) -> None:
    """Raise UngroundedOperandError naming every operand that is not (by `same_value`) one of
    the allowed figures — those extracted from the retrieved evidence or the question."""
    missing = [
        q
        for q in operands
        if not _is_constant(q) and not any(same_value(q, a, tolerance) for a in allowed)
    ]
    if missing:
        raise UngroundedOperandError(missing)
