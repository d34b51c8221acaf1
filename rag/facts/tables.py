"""Markdown table rows as evidence: each cell's figure read with its row and column labels.

Loaders write tables (markdown, .docx, HTML) as "| 指标 | 2025Q3单季 | 同比 |" rows, and a
chunk that starts inside a table carries the header row as its section. A figure in "| 归母净利润
（亿元） | 185.49 | +41.21% |" is then the Q3 single-quarter level of 归母净利润, and +41.21% its
year-on-year change: the labels say what the bare number does not.
"""

from __future__ import annotations

import re

_RULE = re.compile(r"^\|?\s*:?-{3,}")


def is_row(line: str) -> bool:
    stripped = line.strip()
    return stripped.startswith("|") and stripped.count("|") >= 3 and not _RULE.match(stripped)


def is_rule(line: str) -> bool:
    return bool(_RULE.match(line.strip()))


def cells(row: str) -> list[str]:
    return [c.strip() for c in row.strip().strip("|").split("|")]


def cell_at(row: str, position: int, shift: int = 0) -> str:
    """The text of the cell holding `position`, or of the cell `shift` places from it ("" past
    either end of the row)."""
    column = row[:position].count("|") - 1 + shift
    here = cells(row)
    return here[column] if 0 <= column < len(here) else ""


def column_label_at(row: str, header: str, position: int, shift: int = 0) -> str:
    """The header's label of the column holding `position`, or of the column `shift` places
    from it ("" for the row labels' column or past either end)."""
    column = row[:position].count("|") - 1 + shift
    head = cells(header)
    return head[column] if 0 < column < len(head) else ""


def cell_labels(row: str, header: str | None, position: int) -> tuple[str, str] | None:
    """(row label, column label) of the cell holding `position`, or None outside a table."""
    if header is None or not is_row(row) or row.strip() == header.strip():
        return None
    column = row[:position].count("|") - 1  # cells before it; the first holds the row label
    head, here = cells(header), cells(row)
    if column <= 0 or column >= len(head) or not here:
        return None
    return here[0], head[column]


def cell_label(row: str, header: str | None, position: int) -> str | None:
    """ "row label，column label" of the cell holding `position`, or None outside a table."""
    labels = cell_labels(row, header, position)
    return f"{labels[0]}，{labels[1]}" if labels else None
