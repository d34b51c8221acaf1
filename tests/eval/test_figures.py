"""The scorer's own figure reader (eval/figures.py) on the shapes answers and notes take."""

from __future__ import annotations

from decimal import Decimal

import pytest

from eval.figures import read_figures, same_figure

pytestmark = pytest.mark.unit


def one(text: str) -> tuple[Decimal, Decimal, str, str | None, str | None]:
    figures = read_figures(text)
    assert len(figures) == 1, (text, figures)
    f = figures[0]
    return f.low, f.high, f.kind, f.currency, f.bound


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("约170万根", (Decimal(1_700_000), Decimal(1_700_000), "number", None, None)),
        (
            "about 1.7 million cables [1]",
            (Decimal(1_700_000), Decimal(1_700_000), "number", None, None),
        ),
        ("三四十万条", (Decimal(300_000), Decimal(400_000), "number", None, None)),
        ("七八十根", (Decimal(70), Decimal(80), "number", None, None)),
        ("两百多万根", (Decimal(2_000_000), Decimal(2_000_000), "number", None, "lower")),
        ("1,041.86亿元", (Decimal("104186000000"), Decimal("104186000000"), "money", "CNY", None)),
        (
            "CNY 104.19 billion",
            (Decimal("104190000000"), Decimal("104190000000"), "money", "CNY", None),
        ),
        ("US$13–15 billion", (Decimal(13 * 10**9), Decimal(15 * 10**9), "money", "USD", None)),
        ("130亿至150亿美元", (Decimal(13 * 10**9), Decimal(15 * 10**9), "money", "USD", None)),
        ("40%-50%", (Decimal(40), Decimal(50), "percent", None, None)),
        ("下降5.37pct", (Decimal("5.37"), Decimal("5.37"), "pp", None, None)),
        ("up 104bp", (Decimal("1.04"), Decimal("1.04"), "pp", None, None)),
        ("比例为1:1.25", (Decimal("1.25"), Decimal("1.25"), "ratio", None, None)),
        ("约三分之一", (Decimal(1) / Decimal(3), Decimal(1) / Decimal(3), "ratio", None, None)),
        ("2.5倍", (Decimal("2.5"), Decimal("2.5"), "multiple", None, None)),
        ("超过150万根", (Decimal(1_500_000), Decimal(1_500_000), "number", None, "lower")),
        ("300万条甚至更高", (Decimal(3_000_000), Decimal(3_000_000), "number", None, "lower")),
        ("credo60%+", (Decimal(60), Decimal(60), "percent", None, "lower")),
        (
            "stood at 354,000 at end-September",
            (Decimal(354_000), Decimal(354_000), "number", None, None),
        ),
        ("0.68元/W", (Decimal("0.68"), Decimal("0.68"), "money", "CNY", None)),
    ],
)
def test_reads_one_figure(text: str, expected: tuple) -> None:
    assert one(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "HBM4 in 2026",
        "300750.SZ",
        "Q3 2025 [2]",
        "2025年1-9月",
        "前三季度",
        "三家公司",
        "5nm",
        "800G",
    ],
)
def test_years_codes_markers_and_names_are_not_figures(text: str) -> None:
    assert read_figures(text) == []


def test_cells_pasted_one_per_line_stay_apart() -> None:
    figures = read_figures("0.300\n0.295\n0.303\n-2.64%")
    assert [(f.low, f.kind) for f in figures] == [
        (Decimal("0.300"), "number"),
        (Decimal("0.295"), "number"),
        (Decimal("0.303"), "number"),
        (Decimal("2.64"), "percent"),
    ]


def test_same_figure_needs_the_same_kind_and_currency() -> None:
    [yuan] = read_figures("185.49亿元")
    [dollars] = read_figures("US$18.549 billion")
    [plain] = read_figures("18,549,000,000")
    assert not same_figure(yuan, dollars)
    assert same_figure(yuan, plain)
    [pct] = read_figures("1.2%")
    [pp] = read_figures("1.2个百分点")
    assert same_figure(pct, pp)


def test_a_quoted_table_row_states_its_cells_in_the_unit_of_its_label() -> None:
    figures = read_figures("| 营业收入（亿元） | 1041.86 | +12.90% |")
    assert [(f.low, f.kind, f.currency) for f in figures] == [
        (Decimal("104186000000.00"), "money", "CNY"),
        (Decimal("12.90"), "percent", None),
    ]
    (bn,) = read_figures("| Net profit attributable (RMB bn) | 132.86 |")
    assert (bn.low, bn.currency) == (Decimal("132860000000.00"), "CNY")


@pytest.mark.parametrize("code", ["9M25", "1H25", "3Q24"])
def test_period_codes_are_no_millions(code: str) -> None:
    assert read_figures(f"What was the combined ratio in {code}?") == []
