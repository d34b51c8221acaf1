"""Figures in Chinese and English text: parse, locate, compare and render them.

Every figure a user asks about in these notes is a quantity with a multiplier (万/亿/million),
a unit or currency, and often a qualifier (约/超过/不到): "170万根", "130亿至150亿美元",
"两百多万根", "超过10万美元". This package turns such text into `Quantity` values with exact
`Decimal` numbers and offsets into the source, so an answer's "1.7 million" can be checked
against the evidence's "170万" and rendered back in either language without float noise.

Years and dates are recognised (so "2026年" is never read as a count of 2026) and exposed
through `extract_years` / `resolve_relative_years`; they are not quantities.

Three parts, in pipeline order, over shared types: `lexicon` (the words and patterns figures
are written with) → `scan` (reading figures and years out of text) → `render` (writing figures
back in English or Chinese); `quantity` holds the `Quantity` type and `same_value`.
"""

from rag.numbers.quantity import (
    LOWER_BOUNDS,
    RELATIVE_KINDS,
    UPPER_BOUNDS,
    Currency,
    Kind,
    Qualifier,
    Quantity,
    QuantityParseError,
    canonical,
    quantity,
    same_value,
)
from rag.numbers.render import format_decimal, render
from rag.numbers.scan import (
    extract_quantities,
    extract_years,
    parse_numbers_in_answer,
    parse_quantity,
    resolve_relative_years,
)

__all__ = [
    "LOWER_BOUNDS",
    "RELATIVE_KINDS",
    "UPPER_BOUNDS",
    "Currency",
    "Kind",
    "Qualifier",
    "Quantity",
    "QuantityParseError",
    "canonical",
    "extract_quantities",
    "extract_years",
    "format_decimal",
    "parse_numbers_in_answer",
    "parse_quantity",
    "quantity",
    "render",
    "resolve_relative_years",
    "same_value",
]
