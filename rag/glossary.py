"""The bilingual glossary (corpus/glossary.yaml): aliases that name the same entity or term."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
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
        return cls.from_mapping(yaml.safe_load(path.read_text(encoding="utf-8")) or {})

    @classmethod
    def from_mapping(cls, data: dict) -> Glossary:
        """The groups of a parsed glossary file (`entities`, `topics`, `terms`)."""
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
        """Named entity groups, in the order the text first mentions them. A name inside a
        longer name of another entity is not a mention: 平安银行 names the bank, not 平安."""
        found = self.matches(text, self.entities)
        spans = {id(g): _spans(text, g) for g in found}
        found = [g for g in found if spans[id(g)]]
        kept = [g for g in found if _outside_longer(spans[id(g)], g, found, spans)]
        return sorted(kept, key=lambda g: min(_position(text, a) for a in g))

    def entity_mentions(self, text: str) -> list[tuple[int, int, str]]:
        """(start, end, the entity's first alias) of each entity mention, in text order;
        a name inside a longer name of another entity is not one."""
        found = self.matches(text, self.entities)
        spans = {id(g): _spans(text, g) for g in found}
        found = [g for g in found if spans[id(g)]]
        out = [
            (a, b, g[0])
            for g in found
            for a, b in spans[id(g)]
            if _outside_longer([(a, b)], g, found, spans) and not _defined_otherwise(text, a, b, g)
        ]
        out.sort(key=lambda m: (m[0], -m[1]))
        kept: list[tuple[int, int, str]] = []
        for mention in out:  # one mention per place: "SK海力士" is not also "SK"
            if kept and mention[0] < kept[-1][1]:
                continue
            kept.append(mention)
        return kept

    def topics_in(self, text: str) -> list[list[str]]:
        """Topic groups the text names, but not by a word inside a longer topic's name: "EV
        start-ups" names the start-ups, not also every EV."""
        found = self.matches(text, self.topics)
        spans = {id(g): _spans(text, g) for g in found}
        return [g for g in found if spans[id(g)] and _outside_longer(spans[id(g)], g, found, spans)]

    def group_of(self, word: str) -> list[str] | None:
        return next((g for g in self.groups if any(a.lower() == word.lower() for a in g)), None)

    def with_lexicon(
        self, entities: list[list[str]], terms: list[list[str]], general_terms: bool = True
    ) -> Glossary:
        """This glossary (users' overrides) first, then the corpus's own names and bilingual
        terms (rag/facts/lexicon.py) and the general finance vocabulary; groups that share an alias
        become one."""
        from rag.facts.lexicon import merge_groups

        extra = finance_terms() if general_terms else []
        industry = industry_topics() if general_terms else []
        return Glossary(
            entities=merge_groups([*self.entities, *entities]),
            topics=merge_groups([*self.topics, *industry]),
            terms=merge_groups([*self.terms, *extra, *terms]),
        )

    def expand(self, text: str, every_language: bool = False) -> list[str]:
        """Extra keyword-leg terms: every alias of a named entity; for other terms only the
        Chinese names and acronyms (English glosses would only add noise over Chinese notes),
        or every form with `every_language` (to search the notes of one company, which may be
        written in either language)."""
        out = [alias for group in self.entities_in(text) for alias in group]
        for group in self.matches(text, self.topics + self.terms):
            out += [
                a
                for a in group
                if every_language or not a.isascii() or (a.isupper() and len(a) <= 5)
            ]
        return out


FINANCE_TERMS = Path(__file__).parent / "data" / "finance_terms.yaml"


@cache
def _vocabulary_file() -> dict:
    """rag/data/finance_terms.yaml, read once."""
    return yaml.safe_load(FINANCE_TERMS.read_text(encoding="utf-8")) or {}


@cache
def _finance_vocabulary() -> Glossary:
    return Glossary.from_mapping(_vocabulary_file())


@cache
def _finance_terms() -> tuple[tuple[str, ...], ...]:
    return tuple(tuple(g) for g in _finance_vocabulary().terms)


@cache
def counted_or_not() -> dict[str, tuple[str, str]]:
    """English words naming either of two terms (rag/data/finance_terms.yaml): "sales" is
    销量 when the question counts things, 营业收入 otherwise."""
    return {
        str(k).lower(): (str(v[0]), str(v[1]))
        for k, v in (_vocabulary_file().get("counted_or_not") or {}).items()
    }


@cache
def any_of() -> dict[str, tuple[str, ...]]:
    """English words naming any of several terms (rag/data/finance_terms.yaml): "capacity" is
    产能 or 装机量, as the notes write it."""
    return {
        str(k).lower(): tuple(map(str, v))
        for k, v in (_vocabulary_file().get("any_of") or {}).items()
    }


@cache
def read_by_note() -> dict[str, tuple[str, str]]:
    """Metric words of two senses (rag/data/finance_terms.yaml): "operating income" is 营业利润,
    or 营业收入 in a note that gives no figure under a name of 营业收入."""
    return {
        str(k).lower(): (str(v[0]), str(v[1]))
        for k, v in (_vocabulary_file().get("read_by_note") or {}).items()
    }


def finance_terms() -> list[list[str]]:
    """The general bilingual finance vocabulary shipped with the product (rag/data/)."""
    return [list(g) for g in _finance_terms()]


def industry_topics() -> list[list[str]]:
    """The shipped industry words (PV, 多晶硅, liner shipping …): what a figure is about, which
    a question naming one needs its answering sentence to name too."""
    return [list(g) for g in _finance_vocabulary().topics]


@cache
def _word_pattern(alias: str) -> re.Pattern[str]:
    """A Latin alias as a whole word, plurals allowed (compiled once: glossaries that the
    notes extend hold more aliases than `re`'s own cache)."""
    if alias.isupper() and alias.isalpha() and _spells_a_word(alias):
        # an acronym that spells a word ("CAR", "ADS", "ROE") is the acronym only in capitals:
        # "passenger cars" names no capital adequacy ratio
        return re.compile(rf"(?<![A-Za-z]){re.escape(alias)}(?![A-Za-z])")
    return re.compile(rf"(?<![A-Za-z]){_any_number(alias)}(?![A-Za-z])", re.IGNORECASE)


def _spells_a_word(acronym: str) -> bool:
    from rag.dictionary import is_english_word

    return is_english_word(acronym.lower())


def _any_number(alias: str) -> str:
    """`alias` as a pattern for its singular and plural: a glossary lists "installations",
    a question asks about "installation"; "delivery" is also "deliveries"."""
    stem = alias
    if re.search(r"[a-z]{2}ies$", alias):
        stem = alias[:-3] + "y"
    elif re.search(r"[a-z]{3}[^s']s$", alias):
        stem = alias[:-1]
    # words apart as the question writes them: "cost income ratio" is "cost/income ratio"
    spaced = re.escape(stem).replace(r"\ ", r"[\s/-]+")
    spaced = re.sub(r"(?<![A-Za-z])and(?![A-Za-z])", "(?:and|&)", spaced)  # "fee & commission"
    if re.search(r"[^aeiou]y$", stem):
        return spaced[:-1] + "(?:y|ies)"
    return spaced + "(?:s|es)?"


_GLOSS_AFTER = re.compile(r"\s*[（(]([^（）()]{1,20})[）)]")


def _defined_otherwise(text: str, start: int, end: int, group: list[str]) -> bool:
    """A short acronym glossed by a parenthesis that gives none of the entity's names means
    something else there: "DS（半导体）部门" is a division, not the DeepSeek a note calls DS."""
    alias = text[start:end]
    if not (alias.isascii() and len(alias) <= 3):
        return False
    gloss = _GLOSS_AFTER.match(text, end)
    if gloss is None:
        return False
    inside = gloss.group(1).lower()
    return not any(a.lower() in inside for a in group if a != alias)


# Endings that make a name of their own: 平安银行 is a bank, not 中国平安 (平安).
_ORG_ENDING = re.compile(
    r"(?:银行|证券|保险|人寿|财险|基金|资本|信托|期货|控股|集团|科技|股份|医药|药业|生物|汽车|电子|能源)"
)


def _spans(text: str, group: list[str]) -> list[tuple[int, int]]:
    """Where the aliases of a group occur in `text`. A short form followed by an ending that
    makes another name ("理想" in 理想科技, when the entity is 理想汽车) is not one of them."""
    out = []
    longer = [a for a in group if not a.isascii()]
    for alias in group:
        if alias.isascii():
            out += [m.span() for m in _word_pattern(alias).finditer(text)]
            continue
        short = any(len(o) > len(alias) and alias in o for o in longer)
        start = text.find(alias)
        while start >= 0:
            end = start + len(alias)
            ending = _ORG_ENDING.match(text, end) if short else None
            if ending is None or any(text.startswith(o, start) for o in longer if o != alias):
                out.append((start, end))
            start = text.find(alias, start + 1)
    return out


def _outside_longer(
    own: list[tuple[int, int]],
    group: list[str],
    found: list[list[str]],
    spans: dict[int, list[tuple[int, int]]],
) -> bool:
    """Whether some span of `own` lies outside every longer span of another group."""
    return any(
        not any(
            o is not group and any(s <= a and b <= e and (e - s) > (b - a) for s, e in spans[id(o)])
            for o in found
        )
        for a, b in own
    )


def _position(text: str, alias: str) -> int:
    if alias.isascii():
        m = _word_pattern(alias).search(text)
        return m.start() if m else len(text) + 1
    pos = text.find(alias)
    return pos if pos >= 0 else len(text) + 1


def mention_spans(text: str, alias: str) -> list[tuple[int, int]]:
    """Where `text` names `alias`, read as `mentions` reads it."""
    if alias.isascii():
        return [m.span() for m in _word_pattern(alias).finditer(text)]
    return [m.span() for m in re.finditer(re.escape(alias), text)]


def mentions(text: str, alias: str) -> bool:
    """True when `text` names `alias` (ASCII aliases as whole words, plurals allowed)."""
    if alias.isascii():
        return _word_pattern(alias).search(text) is not None
    return alias in text
