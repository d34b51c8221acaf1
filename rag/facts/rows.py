"""A note's key figures as a table: one row per fact (rag/facts/extract.py) with whom, what and when it
measures, the figure as written and normalised, and the sentence it is quoted from with its
original offsets (a citation a client can open).

Rows are read from the facts derived when the keyword index was built; nothing is re-parsed
except a figure's year when its own sentence does not write one (a table cell's column label,
"9M25 revenue"). Relative years were resolved at ingest against the note's own date.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterable, Sequence

from langchain_core.documents import Document
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from rag.facts import tables
from rag.facts.extract import Fact
from rag.facts.periods import Span, question_period, spans_in, years_in
from rag.glossary import Glossary
from rag.numbers import Quantity, render, resolve_relative_years
from rag.pick.evidence import chunk_facts, sentence_offsets
from rag.plan.question import asked_metrics
from rag.types import FactRow

# The exported columns, in order (CSV header, XLSX first row).
COLUMNS = (
    "doc_id", "title", "date", "entity", "metric", "period", "value", "value_en", "value_zh",
    "low", "high", "kind", "unit", "change", "quote", "start", "end",
)  # fmt: skip
_KIND_UNIT = {"percent": "%", "percentage_points": "pp", "multiple": "x"}


def document_rows(
    chunks: Sequence[Document],
    facts_of: Callable[[str], list[Fact] | None],
    glossary: Glossary,
) -> list[FactRow]:
    """Every figure of one note's chunks as rows, in reading order. `facts_of(chunk_id)` gives
    the facts stored with the index (None: derived now). A sentence two chunks share (sentence
    windows overlap) gives its figures once."""
    rows: list[FactRow] = []
    seen: set[tuple[int, int | None, str]] = set()
    for doc in sorted(chunks, key=lambda d: int(d.metadata.get("position", 0) or 0)):
        meta = doc.metadata
        with_facts = Document(
            id=doc.id,
            page_content=doc.page_content,
            metadata={**meta, "facts": facts_of(str(doc.id))},
        )
        by_sentence = chunk_facts(with_facts, glossary)
        doc_year = int(str(meta["date"])[:4]) if meta.get("date") else None
        section = str(meta.get("section") or "")
        header = section if tables.is_row(section) else None
        lines = sentence_offsets(doc)
        for index, (offset, sentence, start, end) in enumerate(lines):
            following = lines[index + 1][1] if index + 1 < len(lines) else ""
            if tables.is_row(sentence) and tables.is_rule(following):
                header = sentence
            elif not tables.is_row(sentence) and not tables.is_rule(sentence):
                header = None
            for fact in by_sentence.get(offset, []):
                q = fact.quantity
                key = (start, q.start, q.raw)
                if key in seen or _is_period_code(q):
                    continue
                seen.add(key)
                year = fact_year(q, sentence, header, doc_year)
                span = fact.period
                if span is not None and q.year is not None and not _names_span(sentence, header):
                    # Carried from an earlier sentence ("前三季度…。明年营收预计…"): a sentence
                    # that writes its own year and no period word is not about that span.
                    span = None
                rows.append(_row(doc, fact, year, span, sentence, start, end))
    return rows


def states_metric(row: FactRow, names: set[str] | frozenset[str]) -> bool:
    """Whether a row's figure is of one of the metric `names` (lower case): its word as
    written, or the sense its note reads that word as."""
    return (row.metric or "").lower() in names or (row.sense or "").lower() in names


def _is_period_code(q: Quantity) -> bool:
    """ "9M" read as nine million: a figure whose whole text is a period word is none."""
    raw = q.raw.strip()
    return any(s == 0 and e == len(raw) for s, e, _ in spans_in(raw))


def fact_year(q: Quantity, sentence: str, header: str | None, doc_year: int | None) -> int | None:
    """The year a figure is for: the one its sentence writes before it (resolved at ingest,
    明年 included), else the last one its cell's labels or the words before it write ("9M25",
    "2025Q3单季", "明年")."""
    if q.year is not None:
        return q.year
    at = q.start or 0
    context = (header and tables.cell_label(sentence, header, at)) or sentence[:at]
    found = years_in(context)
    if doc_year is not None:
        found += [(s, y) for (s, _), y in resolve_relative_years(context, doc_year)]
    return max(found)[1] if found else None


def period_label(year: int | None, span: Span | None) -> str:
    """ "2025 9M", "2026 FY", "2026", "Q3", or "" when neither is known."""
    return " ".join(part for part in (str(year) if year else "", (span or "").upper()) if part)


def _names_span(sentence: str, header: str | None) -> bool:
    in_table = header is not None and tables.is_row(sentence)
    return bool(spans_in(f"{header} {sentence}" if in_table else sentence))


def _row(
    doc: Document,
    fact: Fact,
    year: int | None,
    span: Span | None,
    quote: str,
    start: int,
    end: int,
) -> FactRow:
    q = fact.quantity
    meta = doc.metadata
    return FactRow(
        doc_id=str(meta.get("source", "")),
        title=str(meta.get("title", meta.get("source", ""))),
        date=str(meta["date"]) if meta.get("date") else None,
        entity=fact.entity,
        metric=fact.metric,
        sense=fact.sense,
        period=period_label(year, span),
        year=year,
        span=span,
        value=q.raw,
        value_en=render(q, "en"),
        value_zh=render(q, "zh"),
        low=float(q.low),
        high=float(q.high),
        kind=q.kind,
        unit=q.currency or q.unit or _KIND_UNIT.get(q.kind),
        change=fact.change or "level",
        quote=quote,
        heading=" ".join(
            str(meta.get(key) or "") for key in ("heading", "section") if meta.get(key)
        ),
        start=start,
        end=end,
        chunk_id=str(doc.id),
    )


# -- filtering ------------------------------------------------------------------------------


def entity_aliases(name: str, glossary: Glossary) -> set[str]:
    """Lower-cased aliases of the entity groups `name` is an alias of (or names)."""
    wanted = name.strip().lower()
    groups = [g for g in glossary.entities if any(a.lower() == wanted for a in g)]
    groups = groups or glossary.entities_in(name)
    return {wanted} | {a.lower() for g in groups for a in g}


def metric_aliases(name: str, glossary: Glossary) -> set[str]:
    """Lower-cased aliases of the finance-term groups `name` is an alias of (or names)."""
    wanted = name.strip().lower()
    groups: Iterable[Sequence[str]] = [
        g for g in glossary.terms if any(a.lower() == wanted for a in g)
    ] or asked_metrics(name, glossary)
    return {wanted} | {a.lower() for g in groups for a in g}


_BARE_SPAN = re.compile(r"^\s*(fy|h[12]|9m|q[1-4])\s*$", re.IGNORECASE)


def parse_period(text: str) -> tuple[int | None, Span | None]:
    """(year, span) a period filter names: "2025" -> (2025, None), "9m" -> (None, "9m"),
    "2025Q3" / "Q3 2025" / "3Q25" -> (2025, "q3"), "2026年全年" -> (2026, "fy")."""
    period = question_period(text)
    if period is not None:
        year = period.year
        if year is None:
            found = years_in(text)
            year = found[0][1] if found else None
        return year, period.span
    bare = _BARE_SPAN.match(text)
    if bare:
        return None, bare.group(1).lower()  # type: ignore[return-value]
    found = years_in(text)
    return (found[0][1] if found else None), None


def filter_rows(
    rows: Iterable[FactRow],
    glossary: Glossary,
    *,
    entity: str | None = None,
    metric: str | None = None,
    period: str | None = None,
) -> list[FactRow]:
    """The rows about `entity` (any alias of its group), for `metric` (any alias of its
    finance-term group) and in `period` (its year and/or span); None or blank: any."""
    entities = entity_aliases(entity, glossary) if entity and entity.strip() else None
    metrics = metric_aliases(metric, glossary) if metric and metric.strip() else None
    year, span = parse_period(period) if period and period.strip() else (None, None)
    if period and period.strip() and year is None and span is None:
        return []  # a period filter that names no period matches nothing, not everything
    return [
        row
        for row in rows
        if (entities is None or (row.entity or "").lower() in entities)
        and (metrics is None or states_metric(row, metrics))
        and (year is None or row.year == year)
        and (span is None or row.span == span)
    ]


# -- export ---------------------------------------------------------------------------------


def row_values(row: FactRow) -> list[object]:
    data = row.model_dump()
    return [data[c] for c in COLUMNS]


# A cell a spreadsheet would run as a formula ("=HYPERLINK(…)", "@SUM(…)", "+cmd|…"); a signed
# figure ("-18.69%", "+41.21%") is data and stays as written.
FORMULA = re.compile(r"^(?:[=@\t\r]|[+\-](?![\d.,\s]*\d[\d.,]*\s*%?\s*$))")


def safe_text(value: object) -> object:
    """A text a spreadsheet would run as a formula, quoted; anything else as it is."""
    if isinstance(value, str) and FORMULA.match(value):
        return "'" + value
    return value


def to_csv(rows: Iterable[FactRow]) -> str:
    """The rows as CSV (header first); cells a spreadsheet would run as formulas are quoted."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    for row in rows:
        writer.writerow(["" if v is None else safe_text(v) for v in row_values(row)])
    return out.getvalue()


def to_xlsx(rows: Iterable[FactRow], title: str = "facts") -> bytes:
    """The rows as an Excel workbook: one sheet, the header first; low/high as numbers, text
    always as text (never a formula)."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = re.sub(r"[\[\]:*?/\\]", " ", title)[:31] or "facts"
    sheet.append(list(COLUMNS))
    for r, row in enumerate(rows, start=2):
        for c, value in enumerate(row_values(row), start=1):
            cell = sheet.cell(row=r, column=c)
            if isinstance(value, str):
                cell.value = ILLEGAL_CHARACTERS_RE.sub("", value)
                cell.data_type = "s"  # "=…" in a quote is text, not a formula
            else:
                cell.value = value  # type: ignore[assignment]
    sheet.freeze_panes = "A2"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
