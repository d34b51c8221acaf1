"""A follow-up made standalone from the chat before it: "那Meta呢?" after "英伟达2026年AEC需求量
是多少?" asks Meta's 2026 AEC demand."""

from __future__ import annotations

import re

from rag.facts.periods import spans_in
from rag.glossary import Glossary, mentions
from rag.types import Message

_FOLLOW_UP = re.compile(r"^\s*(那|那么|还有|and|what about|how about|same for)\b", re.IGNORECASE)


_YEAR = re.compile(r"(?<!\d)(20\d{2})(?!\d)")
# Capitalised words written together ("Li Auto", "China Merchants Port"), a name's run.
_CAPITALISED_RUN = re.compile(r"(?<![A-Za-z0-9])[A-Z][A-Za-z0-9&-]*(?:\s+[A-Z][A-Za-z0-9&-]*)*")
_NOT_A_NAME = re.compile(
    r"^(?:what|how|which|who|when|where|why|is|are|was|were|did|does|do|and|in|for|the|"
    r"[QH][1-4]|[1-4]Q\d*|FY\d*|9M\d*|1H\d*|2H\d*|YoY|QoQ)$",
    re.IGNORECASE,
)


def _last_latin_name(text: str) -> list[str]:
    """The last run of capitalised words that is not a question word or a period code. An
    all-caps run is left alone: it is as often a product (HBM, AEC) as a company."""
    runs = []
    for match in _CAPITALISED_RUN.finditer(text):
        words = [w for w in match.group(0).split() if not _NOT_A_NAME.match(w)]
        titled = any(re.search(r"[a-z]", w) for w in words)
        if words and titled and not spans_in(" ".join(words)):
            runs.append(" ".join(words))
    return runs[-1:]


def rewrite_follow_up(question: str, history: list[Message], glossary: Glossary) -> str:
    """ "那Meta呢?" after "英伟达2026年AEC需求量是多少?" -> "Meta2026年AEC需求量是多少?"."""
    previous = next((m.content for m in reversed(history) if m.role == "user"), None)
    if not previous:
        return question
    short = (
        len(question) <= 12
        if re.search(r"[\u4e00-\u9fff]", question)
        else len(question.split()) <= 5
    )
    if not (short or _FOLLOW_UP.search(question)):
        return question
    new_entities = glossary.entities_in(question)
    old_entities = glossary.entities_in(previous)
    rewritten = previous
    new_names = [g for g in new_entities if any(mentions(question, a) for a in g)]
    if not new_names and (unknown := _last_latin_name(question)):
        new_names = [unknown]  # "And Xiaomi's?": a name no note spells in Latin letters
    if new_names:
        replacement = next(a for a in new_names[0] if mentions(question, a))
        # The company asked about is named last ("Omdia统计智元…", "In China Mobile's
        # procurement, what was AgiBot's price?"); the ones before are sources and settings.
        # A name no note spells ("Li Auto" where the notes write 理想汽车) is still the last
        # capitalised name of the question before.
        old = old_entities[-1] if old_entities else _last_latin_name(previous)
        for alias in sorted(old, key=len, reverse=True):
            rewritten = re.sub(re.escape(alias), replacement, rewritten, flags=re.IGNORECASE)
    new_years = _YEAR.findall(question)
    if new_years:
        old_years = _YEAR.findall(rewritten)
        if old_years:
            rewritten = rewritten.replace(old_years[0], new_years[0])
    if rewritten == previous:
        return f"{previous} {question}"
    return rewritten
