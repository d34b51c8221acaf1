"""Tables pasted one cell per line are put back into rows (ingest/pasted_tables.py)."""

from __future__ import annotations

import pytest

from ingest.pasted_tables import rows_from_pasted_cells
from rag.config import REPO_ROOT

pytestmark = pytest.mark.unit


def test_header_cells_then_rows_of_cells_become_markdown_rows() -> None:
    text = "本周价格：\n品类\n规格\n本周均价\n涨跌幅\n硅片\nG10L\n1.315\n-0.75%\n电池片\n183N\n0.295\n-2.64%\n注：众数均价"
    assert rows_from_pasted_cells(text).splitlines() == [
        "本周价格：",
        "| 品类 | 规格 | 本周均价 | 涨跌幅 |",
        "|---|---|---|---|",
        "| 硅片 | G10L | 1.315 | -0.75% |",
        "| 电池片 | 183N | 0.295 | -2.64% |",
        "注：众数均价",
    ]


def test_prose_lists_and_the_seed_notes_are_left_alone() -> None:
    prose = "要点：\n需求旺盛\n价格稳定\n产能扩张\n库存下降\n出口增长\n利润改善"
    assert rows_from_pasted_cells(prose) == prose
    for note in (REPO_ROOT / "corpus").glob("*.txt"):
        text = note.read_text(encoding="utf-8")
        assert rows_from_pasted_cells(text) == text, note.name


def test_the_ood_price_table_keeps_its_labels() -> None:
    text = (REPO_ROOT / "eval" / "ood" / "notes" / "solar_module_prices_table.txt").read_text(
        encoding="utf-8"
    )
    rows = rows_from_pasted_cells(text)
    assert "| 品类 | 规格 | 高点 | 低点 | 本周均价 | 上周均价 | 涨跌幅 |" in rows
    assert (
        "| 电池片（元/W） | TOPCon电池片-183N（M10L） | 0.300 | 0.290 | 0.295 | 0.303 | -2.64% |"
        in rows
    )


@pytest.mark.unit
def test_rows_of_tab_separated_cells_become_markdown_rows() -> None:
    from ingest.pasted_tables import rows_from_tab_separated

    text = (
        "表1：经营数据\n公司\t收入\t毛利率\n远航\t23.82\t22.0%\n青鸟\t6.35\t13.5%\n资料来源：公告"
    )
    assert rows_from_tab_separated(text).splitlines() == [
        "表1：经营数据",
        "| 公司 | 收入 | 毛利率 |",
        "|---|---|---|",
        "| 远航 | 23.82 | 22.0% |",
        "| 青鸟 | 6.35 | 13.5% |",
        "资料来源：公告",
    ]
    two_lines = "a\tb\nc\td"  # a header and one row: too little to call a table
    assert rows_from_tab_separated(two_lines) == two_lines
