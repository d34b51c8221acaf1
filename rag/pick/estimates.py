"""Estimates across notes: the same figure (entity, metric, year and part of the year, level or
change, kind) as every note in the index states it. An analyst asking "Nvidia's 2026 AEC demand"
of two expert calls wants both calls' numbers, attributed and dated, latest first — and told
when they disagree — rather than whichever sentence ranked first.

Contract: `estimates_for(picked_row, rows)` → the matching rows, one per note, latest note
first (the picked note's own row included); fewer than two notes → []."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from rag.pick.evidence import Evidence
from rag.types import FactRow, Filters

# Two figures within this share of each other are one estimate written two ways (rounding).
SAME_WITHIN = 0.005


def _key(row: FactRow) -> tuple[object, ...]:
    return (
        (row.entity or "").lower(),
        (row.metric or "").lower(),
        row.year,
        row.span,
        row.change,
        row.kind,
        row.unit,
    )


def row_of(evidence: Evidence, raw: str, rows: Iterable[FactRow]) -> FactRow | None:
    """The fact row of a figure picked from `evidence` (its note, its quote, its text)."""
    for row in rows:
        if (
            row.doc_id == evidence.doc_id
            and row.start < evidence.end
            and evidence.start < row.end
            and row.value.strip() == raw.strip()
        ):
            return row
    return None


def allowed(row: FactRow, filters: Filters | None) -> bool:
    """Whether the request's filters (notes, date range) admit the row's note."""
    if filters is None:
        return True
    if filters.doc_ids and row.doc_id not in filters.doc_ids:
        return False
    date = row.date or ""
    if filters.date_from and (not date or date < filters.date_from):
        return False
    return not (filters.date_to and (not date or date > filters.date_to))


def estimates_for(
    picked: FactRow,
    rows: Sequence[FactRow],
    filters: Filters | None = None,
    answers: Callable[[FactRow], bool] = lambda row: True,
) -> list[FactRow]:
    """One row per note stating the picked figure's entity, metric and period, latest first;
    `answers(row)`: whether the row's own sentence answers the question (its market, channel,
    grade), as the picked one does. A figure without an entity, a metric or a year is no
    estimate to compare."""
    if not (picked.entity and picked.metric and picked.year):
        return []
    key = _key(picked)
    by_note: dict[str, FactRow] = {picked.doc_id: picked}
    for row in rows:
        if (
            row.doc_id not in by_note
            and _key(row) == key
            and allowed(row, filters)
            and answers(row)
        ):
            by_note[row.doc_id] = row  # a note's first statement of it, in reading order
    if len(by_note) < 2:
        return []
    return sorted(by_note.values(), key=lambda r: r.date or "", reverse=True)


def disagree(rows: Sequence[FactRow]) -> bool:
    """Whether the notes' figures differ beyond rounding."""
    first = rows[0]
    scale = max(abs(first.low), abs(first.high), 1e-12)
    return any(
        abs(r.low - first.low) > SAME_WITHIN * scale
        or abs(r.high - first.high) > SAME_WITHIN * scale
        for r in rows[1:]
    )
