"""The bilingual glossary (corpus/glossary.yaml): aliases that name the same entity or term."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml


@dataclass(frozen=True)
class Glossary:
    entities: list[list[str]] = field(default_factory=list)
    topics: list[list[str]] = field(default_factory=list)
    terms: list[list[str]] = field(default_factory=list)

    @classmethod
    def load(cls, path: Path) -> Glossary:
        if not path.is_file():
            return cls()
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        clean = lambda groups: [[str(a) for a in g if str(a).strip()] for g in groups or [] if g]  # noqa: E731
        return cls(clean(data.get("entities")), clean(data.get("topics")), clean(data.get("terms")))

    @property
    def groups(self) -> list[list[str]]:
        return self.entities + self.topics + self.terms

    def words(self) -> list[str]:
        return [alias for group in self.groups for alias in group]

    def matches(self, text: str, groups: list[list[str]] | None = None) -> list[list[str]]:
        """Groups with at least one alias in `text` (ASCII aliases match whole words)."""
        return [
            g
            for g in (self.groups if groups is None else groups)
            if any(mentions(text, a) for a in g)
        ]

    def entities_in(self, text: str) -> list[list[str]]:
        """Named entity groups, in the order the text first mentions them."""
        found = self.matches(text, self.entities)
        return sorted(found, key=lambda g: min(_position(text, a) for a in g))

    def topics_in(self, text: str) -> list[list[str]]:
        return self.matches(text, self.topics)

    def group_of(self, word: str) -> list[str] | None:
        return next((g for g in self.groups if any(a.lower() == word.lower() for a in g)), None)

    def expand(self, text: str) -> list[str]:
        """Extra keyword-leg terms: every alias of a named entity; for other terms only the
        Chinese names and acronyms (English glosses would only add noise over Chinese notes)."""
        out = [alias for group in self.entities_in(text) for alias in group]
        for group in self.matches(text, self.topics + self.terms):
            out += [a for a in group if not a.isascii() or (a.isupper() and len(a) <= 5)]
        return out


def _position(text: str, alias: str) -> int:
    if alias.isascii():
        m = re.search(rf"(?<![A-Za-z]){re.escape(alias)}(?:s|es)?(?![A-Za-z])", text, re.IGNORECASE)
        return m.start() if m else len(text) + 1
    pos = text.find(alias)
    return pos if pos >= 0 else len(text) + 1


def mentions(text: str, alias: str) -> bool:
    """True when `text` names `alias` (ASCII aliases as whole words, plurals allowed)."""
    if alias.isascii():
        return (
            re.search(rf"(?<![A-Za-z]){re.escape(alias)}(?:s|es)?(?![A-Za-z])", text, re.IGNORECASE)
            is not None
        )
    return alias in text
