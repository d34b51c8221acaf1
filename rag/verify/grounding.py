"""The grounding check: every figure of an answer against the cited evidence, with the
citation markers repaired; and the verdict on a (partial) model draft that decides what may be
streamed."""

from __future__ import annotations

import re
from dataclasses import dataclass

from rag.language import detect_language
from rag.numbers import (
    LOWER_BOUNDS,
    UPPER_BOUNDS,
    Quantity,
    parse_numbers_in_answer,
    render,
    same_value,
)
from rag.pick.choose import about_entity, addresses_the_model, best_quantity
from rag.pick.evidence import Evidence
from rag.plan.question import Question

_MARKER = re.compile(r"\[(\d{1,2})\]")


@dataclass(frozen=True)
class GroundingResult:
    ok: bool
    text: str  # the answer, with citation markers repaired when they could be
    checked: int
    unsupported: list[str]
    repaired: bool


def check_grounding(
    answer: str,
    evidence: list[Evidence],
    extra: list[Quantity] | None = None,
    question: Question | None = None,
) -> GroundingResult:
    """Every figure in the answer must equal a figure of the evidence (or a tool result), and
    its citation must point at evidence that holds it; wrong markers are repaired."""
    figures = parse_numbers_in_answer(answer)
    allowed_extra = extra or []
    unsupported: list[str] = []
    repaired = False
    inserts: list[tuple[int, str]] = []  # (offset in answer, text) applied right to left
    replacements: list[tuple[int, int, str]] = []
    for figure in figures:
        holders = [
            i
            for i, ev in enumerate(evidence)
            if any(_states(figure, q) for q in ev.quantities) and not addresses_the_model(ev.text)
        ]
        if question is not None and question.entities:
            # A figure about another company is not an answer about this one (NV's 170万 is
            # not Meta's), even though it stands in the evidence.
            holders = [i for i in holders if about_entity(evidence[i], question)]
        from_tools = any(_states(figure, q) for q in allowed_extra)
        if not holders and not from_tools:
            unsupported.append(figure.raw)
            continue
        if not holders or figure.end is None:
            continue
        # The citation right after the figure must be one of its holders; a missing one is added.
        after = answer[figure.end : figure.end + 40]
        marker = _MARKER.match(after.lstrip(" )）"))
        if marker is None:
            marker_anywhere = _MARKER.search(after)
            next_figure = any(
                f.start is not None and figure.end < f.start < figure.end + 40 for f in figures
            )
            if marker_anywhere and not next_figure:
                marker = marker_anywhere
                offset = figure.end + marker.start()
            else:
                inserts.append(
                    (_after_unit_word(answer, figure, evidence[holders[0]]), f"[{holders[0] + 1}]")
                )
                repaired = True
                continue
        else:
            offset = figure.end + (len(after) - len(after.lstrip(" )）"))) + marker.start()
        if int(marker.group(1)) - 1 not in holders:
            replacements.append((offset, offset + len(marker.group(0)), f"[{holders[0] + 1}]"))
            repaired = True
    text = answer
    edits = [(start, end, new) for start, end, new in replacements] + [
        (pos, pos, new) for pos, new in inserts
    ]
    for start, end, new in sorted(edits, reverse=True):
        text = text[:start] + new + text[end:]
    cited = {int(m) for m in _MARKER.findall(text)}
    if not cited and not figures:
        # A statement with no figure: cite the evidence that names what it names, if any does.
        source = _naming_source(text, evidence)
        if source is not None:
            text = (
                f"{text.rstrip()} [{source + 1}]"
                if text.isascii()
                else f"{text.rstrip()}[{source + 1}]"
            )
            cited, repaired = {source + 1}, True
    if not cited:
        unsupported.append("(no citation)")
    if any(n < 1 or n > len(evidence) for n in cited):
        unsupported.append("(citation out of range)")
    return GroundingResult(not unsupported, text, len(figures), unsupported, repaired)


def misses_the_asked_figure(answer: str, question: Question, evidence: list[Evidence]) -> bool:
    """True when the question asks for a figure, the evidence scoring picks one, and the answer
    does not state it: a model that answers "NV 2025年AEC需求量" with the grounded but unasked
    "70到80根" (per rack) is not trusted over the figure the evidence gives for the question."""
    if not question.asks_figure:
        return False
    picked = best_quantity(question, evidence)
    if picked is None:
        return False
    return not any(same_value(f, picked[1]) for f in parse_numbers_in_answer(answer))


def _states(figure: Quantity, source: Quantity) -> bool:
    """The answer's figure says what the source's does: the same value, bounded the same way
    ("约150万根" does not restate "超过150万根": a lower bound is not an estimate)."""
    return (
        same_value(figure, source)
        and (figure.qualifier in LOWER_BOUNDS) == (source.qualifier in LOWER_BOUNDS)
        and (figure.qualifier in UPPER_BOUNDS) == (source.qualifier in UPPER_BOUNDS)
    )


def _after_unit_word(answer: str, figure: Quantity, holder: Evidence) -> int:
    """Where a missing marker goes: after "1.7 million cables", not inside it."""
    end = figure.end or 0
    word = re.match(r"\s+([A-Za-z-]+)", answer[end:])
    if word:
        rendered = " ".join(render(q, "en") for q in holder.quantities if same_value(figure, q))
        if re.search(rf"\b{re.escape(word.group(1))}\b", rendered, re.IGNORECASE):
            return end + word.end()
        counts = any(q.kind == "count" and same_value(figure, q) for q in holder.quantities)
        if counts and (figure.unit or "").lower() == word.group(1).lower():
            return end + word.end()  # the noun the answer gives a measure word ("…根": cables)
    return end


def _naming_source(text: str, evidence: list[Evidence]) -> int | None:
    """The evidence sentence that contains every name (Latin word of 2+ letters, e.g. Credo)
    the answer mentions, or None when no sentence does or there is no name to check."""
    names = {w.lower() for w in re.findall(r"[A-Za-z][A-Za-z0-9]+", text)}
    names -= _COMMON_WORDS
    if not names:
        return None
    for i, ev in enumerate(evidence):
        haystack = f"{ev.section or ''} {ev.text}".lower()
        if all(n in haystack for n in names):
            return i
    return None


_COMMON_WORDS = frozenset(
    (
        "the a an of to in on for and or is are was were be by with from as that this it its "
        "their they which who what how many much does do did will would can could has have had "
        "not no notes note documents document according project projects supplied supplies "
        "supplier suppliers main mainly company companies customer customers chip chips include "
        "includes including also both each per year years "
    ).split()
)


def cited_numbers(text: str) -> list[int]:
    return sorted({int(m) for m in _MARKER.findall(text)})


# A sentence ends at 。！？； (or . ! ? before a space), with any citation markers right after
# it: "…170万根。[1]" and "…cables. [1]" keep their marker.
_SENTENCE_END = re.compile(
    r"(?:[。！？；]|[.!?](?=\s))(?:\s*\[\d{1,3}(?:\s*[,，、]\s*\d{1,3})*\])*"
)


def last_sentence_end(text: str, after: int = 0) -> int | None:
    """The end of the last complete sentence of a growing `text` that ends past `after`, or
    None. A sentence is complete once something other than space or a marker follows it, so a
    marker still to come is not cut off; the last sentence is judged when the text ends."""
    end = None
    for match in _SENTENCE_END.finditer(text):
        rest = text[match.end() :]
        if match.end() > after and rest.strip() and not rest.lstrip().startswith("["):
            end = match.end()
    return end


@dataclass(frozen=True)
class Verdict:
    """The checks of a (partial) draft: `ok` when every figure is grounded, the answer is in
    the asked language, states the asked figure and does not wrongly abstain; `text` is the
    draft with its markers repaired."""

    ok: bool
    text: str
    reason: str
    checked: int
    unsupported: list[str]
    repaired: bool

    def extends(self, streamed: Verdict | None, *, allow_equal: bool = False) -> bool:
        """Passed, and continues what was streamed (so the stream needs no retraction)."""
        before = verdict_text(streamed)
        longer = len(self.text) > len(before) or (allow_equal and len(self.text) == len(before))
        return self.ok and longer and self.text.startswith(before)


def verdict_text(verdict: Verdict | None) -> str:
    return verdict.text if verdict is not None else ""


def judge(
    draft: str, shown: list[Evidence], question: Question, evidence: list[Evidence], language: str
) -> Verdict:
    text = draft.strip()
    if _says_not_in_documents(text):
        return Verdict(False, text, "model abstained but evidence covers it", 0, [], False)
    grounding = check_grounding(text, shown, question=question)
    reason = ""
    if detect_language(text) != language:
        reason = "wrong language"
    elif not grounding.ok:
        reason = "unverified figure"
    elif misses_the_asked_figure(text, question, evidence):
        reason = "the model stated another figure than the one asked"
    return Verdict(
        not reason,
        grounding.text,
        reason,
        grounding.checked,
        grounding.unsupported,
        grounding.repaired,
    )


def _says_not_in_documents(text: str) -> bool:
    return "没有提到" in text or "do not say" in text.lower()
