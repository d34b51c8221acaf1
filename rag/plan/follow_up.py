"""A follow-up made standalone from the chat before it: "那Meta呢?" after "英伟达2026年AEC需求量
是多少?" asks Meta's 2026 AEC demand."""

from __future__ import annotations

import re

from rag.glossary import Glossary, mentions
from rag.types import Message

_FOLLOW_UP = re.compile(r"^\s*(那|那么|还有|and|what about|how about|same for)\b", re.IGNORECASE)


_YEAR = re.compile(r"(?<!\d)(20\d{2})(?!\d)")


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
    if new_entities and old_entities:
        replacement = next(a for a in new_entities[0] if mentions(question, a))
        # The company asked about is named last ("Omdia统计智元…", "In China Mobile's
        # procurement, what was AgiBot's price?"); the ones before are sources and settings.
        for alias in sorted(old_entities[-1], key=len, reverse=True):
            rewritten = re.sub(re.escape(alias), replacement, rewritten, flags=re.IGNORECASE)
    new_years = _YEAR.findall(question)
    if new_years:
        old_years = _YEAR.findall(rewritten)
        if old_years:
            rewritten = rewritten.replace(old_years[0], new_years[0])
    if rewritten == previous:
        return f"{previous} {question}"
    return rewritten
