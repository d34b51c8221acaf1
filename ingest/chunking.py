"""Split cleaned text into chunks that follow the notes' structure.

A heading or a Q&A pair starts a new chunk (the question stays with the start of its answer);
otherwise sentences (rag/sentences.py) are packed into windows of at most `max_chars`. Each
chunk records the headings it sits under (its place in the note), which retrieval reads with
its text: "Total premiums grew 10.1%" is found for a question about the company of its heading. A sentence longer
than that is cut at commas, then hard. Offsets are cleaned-text offsets; the caller maps them
back to the original text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rag.facts import tables
from rag.sentences import (
    ANSWER_TURN,
    HEADING,
    HEADING_JOIN,
    QUESTION_TURN,
    is_question,
    sentence_spans,
)

_SOFT_BREAK = re.compile(r"[，,、:：]")
_TIMESTAMP = re.compile(r"\d{4}[/-]\d{1,2}[/-]\d{1,2} \d{1,2}:\d{2}(?::\d{2})?")
_CJK = re.compile(r"[\u3400-\u9fff]")


@dataclass(frozen=True)
class Span:
    start: int
    end: int
    section: str | None = None
    heading: str | None = None  # the headings above the chunk, outermost first


def _split_exported(text: str, span: Span) -> list[Span]:
    """Exports separate a note's parts by one space: break after a timestamp, and before a
    Chinese question that follows other text ("…份额也是15% Meta2025年…需求量?")."""
    piece = text[span.start : span.end]
    cut = None
    if (stamp := _TIMESTAMP.search(piece)) and stamp.end() < len(piece):
        cut = stamp.end()
    elif piece.endswith(("?", "？")) and " " in piece and not QUESTION_TURN.match(piece):
        head, _, tail = piece.rpartition(" ")
        inside_brackets = head.count("（") + head.count("(") > head.count("）") + head.count(")")
        if len(tail) >= 6 and _CJK.search(tail) and _CJK.search(head) and not inside_brackets:
            cut = len(head) + 1
    if cut is None:
        return [span]
    left, right = Span(span.start, span.start + cut), Span(span.start + cut, span.end)
    rest = [part for t in _trim(text, right) for part in _split_exported(text, t)]
    return [*_trim(text, left), *rest]


def _trim(text: str, span: Span) -> list[Span]:
    piece = text[span.start : span.end]
    lead = len(piece) - len(piece.lstrip())
    trail = len(piece.rstrip())
    return [Span(span.start + lead, span.start + trail)] if trail > lead else []


def split_sentences(text: str) -> list[Span]:
    """Sentence spans covering every non-blank character of `text`, in order (the project's
    one splitter, rag/sentences.py, plus the export quirks below)."""
    spans: list[Span] = []
    for start, end in sentence_spans(text):
        for trimmed in _trim(text, Span(start, end)):
            spans.extend(_split_exported(text, trimmed))
    return spans


def _cut_long(text: str, span: Span, max_chars: int) -> list[Span]:
    pieces: list[Span] = []
    start = span.start
    while span.end - start > max_chars:
        window = text[start : start + max_chars]
        soft = [m.end() for m in _SOFT_BREAK.finditer(window) if m.end() > max_chars // 2]
        cut = start + (soft[-1] if soft else max_chars)
        pieces.append(Span(start, cut))
        start = cut
    pieces.append(Span(start, span.end))
    return pieces


def chunk_spans(text: str, max_chars: int = 300) -> list[Span]:
    """Chunk spans (cleaned offsets) with the question each belongs to as its section."""
    sentences: list[Span] = []
    for span in split_sentences(text):
        sentences.extend(_cut_long(text, span, max_chars))

    chunks: list[Span] = []
    start = end = None
    section: str | None = None
    chunk_section: str | None = None
    chunk_heading: str | None = None
    open_headings: list[tuple[int, str]] = []  # (level, title), outermost first
    only_headings = False  # the chunk so far is headings alone: the next one joins it
    previous_was_question = False
    header: str | None = None  # the header row of the markdown table being read
    for sentence in sentences:
        raw = text[sentence.start : sentence.end]
        heading = HEADING.match(raw.strip())
        if tables.is_row(raw):
            if header is None or tables.is_rule(text[sentence.end : sentence.end + 80]):
                header = raw.strip()
        elif not tables.is_rule(raw):
            header = None
        question = is_question(raw.strip()) and not ANSWER_TURN.match(raw)
        new_block = (question and not previous_was_question) or (
            heading is not None and not only_headings
        )
        paragraph_break = (
            start is not None
            and "\n\n" in text[end : sentence.start]
            and end - start >= max_chars // 2  # type: ignore[operator]
        )
        too_long = start is not None and sentence.end - start > max_chars
        if start is not None and (new_block or too_long or paragraph_break):
            chunks.append(Span(start, end, chunk_section, chunk_heading))  # type: ignore[arg-type]
            start = None
        if heading is not None:
            level = len(heading.group(1))
            open_headings = [h for h in open_headings if h[0] < level]
            open_headings.append((level, heading.group(2).strip()))
            section = None  # a new part of the note: the Q&A question before it is closed
        if question:
            section = (
                raw.strip()
                if not previous_was_question or section is None
                else f"{section} {raw.strip()}"
            )
        if start is None:
            # A chunk that starts inside a table carries the table's header row as its section.
            in_table = header is not None and tables.is_row(raw) and raw.strip() != header
            start, chunk_section = sentence.start, header if in_table else section
            chunk_heading = HEADING_JOIN.join(t for _, t in open_headings) or None
            only_headings = heading is not None
        elif heading is None:
            only_headings = False
        end = sentence.end
        previous_was_question = question
    if start is not None:
        chunks.append(Span(start, end, chunk_section, chunk_heading))  # type: ignore[arg-type]
    return chunks
