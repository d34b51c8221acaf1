"""Tables pasted from a web page or a spreadsheet, put back into rows.

Copying an HTML table out of a browser often gives each cell its own line: the header cells,
then every row's cells. Read that way, "0.303" on a line of its own says nothing. A block of
short lines is a table of k columns when its first k lines are labels and every following run
of k lines has the same columns of figures; it is rewritten as markdown rows, which the rest of
the pipeline reads with their labels (rag/facts/tables.py).

Copying from a spreadsheet, or from a browser that keeps the row structure, gives one row per
line with the cells apart by tabs: a run of such lines with one number of cells is a table too.
"""

from __future__ import annotations

import re

_NUMERIC = re.compile(r"^[-+−]?(?:\d[\d,]*(?:\.\d+)?|\.\d+)\s*[%％]?$|^[-—–]$|^(?:持平|n/?a|N/?A)$")
_MAX_CELL = 40
_MAX_COLUMNS = 12


def _numeric(cell: str) -> bool:
    return bool(_NUMERIC.match(cell.strip()))


def _as_table(cells: list[str]) -> tuple[int, int] | None:
    """(columns, cells used) when `cells` open with a header of k labels followed by two or
    more rows of k cells with one pattern of figure columns; else None."""
    best: tuple[int, int] | None = None
    for k in range(2, min(_MAX_COLUMNS, len(cells) // 3) + 1):
        header = cells[:k]
        if any(_numeric(c) for c in header):
            break  # a header is labels only
        pattern = None
        rows = 0
        for start in range(k, len(cells) - k + 1, k):
            row = cells[start : start + k]
            shape = tuple(_numeric(c) for c in row)
            if not any(shape) or _numeric(row[0]):
                break  # a row has a label and at least one figure
            if pattern is None:
                pattern = shape
            elif shape != pattern:
                break
            rows += 1
        if rows >= 2 and (best is None or k + rows * k > best[1]):
            best = (k, k + rows * k)
    return best


def rows_from_pasted_cells(text: str) -> str:
    """`text` with each one-cell-per-line table rewritten as markdown rows; other text as is."""
    lines = text.split("\n")
    out: list[str] = []
    i = 0
    while i < len(lines):
        j = i
        while j < len(lines) and lines[j].strip() and len(lines[j].strip()) <= _MAX_CELL:
            j += 1
        block = [line.strip() for line in lines[i:j]]
        found = _as_table(block) if len(block) >= 6 else None
        if found is None:
            out.append(lines[i])
            i += 1
            continue
        k, used = found
        out.append("| " + " | ".join(block[:k]) + " |")
        out.append("|" + "---|" * k)
        for start in range(k, used, k):
            out.append("| " + " | ".join(block[start : start + k]) + " |")
        i += used
    return "\n".join(out)


_MIN_TAB_ROWS = 2  # a header and at least two rows


def _tab_cells(line: str) -> list[str]:
    return [c.strip() for c in line.strip("\n").split("\t")]


def rows_from_tab_separated(text: str) -> str:
    """`text` with each run of tab-separated lines (a header and two or more rows of the same
    number of cells, two or more) rewritten as markdown rows; other text as is."""
    lines = text.split("\n")
    out: list[str] = []
    i = 0
    while i < len(lines):
        width = len(_tab_cells(lines[i])) if "\t" in lines[i].strip() else 0
        j = i
        while (
            width >= 2
            and j < len(lines)
            and "\t" in lines[j].strip()
            and len(_tab_cells(lines[j])) == width
        ):
            j += 1
        if j - i <= _MIN_TAB_ROWS or not all(_tab_cells(lines[i])):
            out.append(lines[i])
            i += 1
            continue
        rows = [_tab_cells(line) for line in lines[i:j]]
        out.append("| " + " | ".join(rows[0]) + " |")
        out.append("|" + "---|" * width)
        out += ["| " + " | ".join(c or "-" for c in row) + " |" for row in rows[1:]]
        i = j
    return "\n".join(out)
