"""Sentence-level evidence: the few sentences of the retrieved chunks that carry the answer.

Each piece keeps its document's title and date, its original character offsets, the absolute
years it speaks of (明年 in a 2025-11-12 note is 2026) and the figures it holds, pre-rendered in
the answer's language so a small model copies instead of converting.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from functools import cache, lru_cache

from langchain_core.documents import Document

from rag import tables
from rag.dictionary import chinese_forms, english_in, translations_in
from rag.facts import Fact, chunk_sentences, extract_facts
from rag.glossary import Glossary, finance_terms, mentions
from rag.keyword import tokenize
from rag.numbers import Quantity, extract_years, render, resolve_relative_years
from rag.periods import (
    Period,
    heading_spans,
    heading_years,
    period_years,
    question_period,
    spans_in,
)
from rag.sentences import is_heading
from rag.types import Language

_ASKS_FIGURE = re.compile(
    r"多少|几|多大|多高|规模|比例|占比|份额|价值|产能|需求|毛利|涨幅|增长|"
    r"how (?:many|much|big|large|high)|what (?:is|are|was|were)|number|share|ratio|margin|"
    r"value|demand|capacity|size|revenue|price|cost|reach",
    re.IGNORECASE,
)


# "in 2026" — but not "每台2000元" or "US$2,000": a figure with a unit is not a year.
_BARE_YEAR = re.compile(
    r"(?<![\d$.,])(20\d{2})(?![\d.,%％]|\s*(?:元|万|亿|千|百|美元|根|条|台|个|颗|家|套|"
    r"usd|rmb|cny|yuan|dollars?|units?|cables?)(?![a-z]))",
    re.I,
)


# "公司AEC产能分布在哪些地方" names 产能 but asks where, not how much.
_ASKS_WHICH = re.compile(
    r"哪些|哪家|哪个|哪里|哪儿|何处|在哪|谁|什么(?:地方|公司|产品|原因)|为什么|为何|如何|怎么|"
    r"\b(?:which|who|whom|where|why|how (?:does|do|did|is|are|will|can))\b",
    re.I,
)
# A question that wants a figure stated: "多少", "how many", "what share".
ASKS_AMOUNT = re.compile(
    r"多少|几[个台根条家颗]|多大|规模多|how (?:many|much|large|big|high)\b|"
    r"what (?:share|percentage|fraction|proportion)\b",
    re.I,
)


ASKS_CHANGE = re.compile(
    r"同比|环比|增长|增速|增幅|降幅|下降|变化|增加|减少|涨幅|跌幅|上涨|下跌|涨了|跌了|"
    r"\b(?:growth|grow|grew|increase|decrease|decline|change|yoy|qoq|rise|fall|up|down)\b",
    re.IGNORECASE,
)


_ASKS_WHO = re.compile(
    r"哪家|哪些(?:公司|厂商|企业|客户|供应商)|哪个(?:公司|厂商|企业|客户)|谁|"
    r"\b(?:which (?:compan|firm|vendor|supplier|customer|client|player)\w*|who)\b",
    re.I,
)
_LATIN_NAME = re.compile(r"(?<![A-Za-z])[A-Z][a-z]+[A-Za-z]*(?![A-Za-z])")  # SpaceX, not GPU


@dataclass(frozen=True)
class Question:
    """What evidence selection needs to know about a question."""

    text: str
    language: Language
    terms: frozenset[str]
    entities: tuple[tuple[str, ...], ...]  # glossary entity groups named in the question
    years: frozenset[int]
    asks_figure: bool
    topics: tuple[tuple[str, ...], ...] = ()  # glossary topics named (AEC, 液冷…)
    names: tuple[tuple[str, ...], ...] = ()  # Latin-script names the evidence must mention
    specs: frozenset[str] = frozenset()  # model and grade names: 400G, 1.6T, GB300 (lower case)
    period: Period | None = None  # the span asked about: 前三季度, Q3, H1, full year
    metrics: tuple[tuple[str, ...], ...] = ()  # term groups naming what is measured (营收, NIM…)
    metric_vocab: frozenset[str] = frozenset()  # every metric word the glossary knows
    qualifiers: tuple[tuple[str, ...], ...] = ()  # where or through whom: overseas, 直销, dealers
    # Entities an unresolved acronym may mean ("PICC": PICC Group, PICC P&C): ask which.
    ambiguous: tuple[str, ...] = ()
    # A change asked ("同比增长多少") or a level; None: either (a calculation's operand).
    asks_change: bool | None = False
    # Terms the notes themselves define ("HBM（高带宽内存）", "TSV") that the question names by
    # their Latin acronym, as it would any Latin name: what its figure is about.
    subjects: tuple[tuple[str, ...], ...] = ()

    @classmethod
    def parse(cls, text: str, language: Language, glossary: Glossary) -> Question:
        # The period asked is matched as a period, not as shared words: "前三季度" would
        # otherwise make any nine-month sentence of any note look like the answer.
        unperiodic = _without_periods(text)
        terms = set(tokenize(unperiodic))
        # Both languages' forms of the names and terms asked: the note may be in either.
        for alias in glossary.expand(unperiodic, every_language=True):
            terms.update(tokenize(alias))
        years = {m.year for m in extract_years(text)}
        years |= {int(v) for v in _BARE_YEAR.findall(text)}
        entities = [tuple(g) for g in glossary.entities_in(text)]
        names: list[tuple[str, ...]] = []
        ambiguous: tuple[str, ...] = ()
        for name in _latin_names(text, glossary):
            candidates = acronym_candidates(name[0], glossary)
            known = [g for form in name[1:] for g in glossary.entities_in(form)]
            if known and tuple(known[0]) not in entities:  # "China Mobile" -> 中国移动
                entities.append(tuple(known[0]))
                names.append(tuple(known[0]))
            elif len(candidates) == 1:  # "PICC" for the one entity named "PICC Group"
                entities.append(tuple(candidates[0]))
                names.append(tuple(candidates[0]))
            elif len(candidates) > 1 and not ambiguous:
                ambiguous = tuple(g[0] for g in candidates)  # ask, don't guess
                names.append(name)
            else:
                names.append(name)
        if n := _leading_chinese_name(text, glossary):
            names.append(n)
        return cls(
            text=text,
            language=language,
            terms=frozenset(terms),
            entities=tuple(entities),
            years=frozenset(years),
            asks_figure=bool(_ASKS_FIGURE.search(text))
            and not (_ASKS_WHICH.search(text) and not ASKS_AMOUNT.search(text)),
            topics=tuple(tuple(g) for g in glossary.topics_in(text)),
            names=tuple(names),
            ambiguous=ambiguous,
            specs=specs_in(text),
            period=question_period(text),
            metrics=asked_metrics(text, glossary),
            metric_vocab=metric_vocab(glossary),
            qualifiers=tuple(
                tuple(g)
                for g in glossary.matches(text, glossary.terms)
                if any(_QUALIFIER.search(a) for a in g)
            ),
            asks_change=bool(ASKS_CHANGE.search(text)),
            subjects=tuple(
                tuple(g)
                for g in glossary.matches(text, glossary.terms)
                if not _is_vocabulary(g) and any(_ACRONYM.fullmatch(a) and a in text for a in g)
            ),
        )


def _without_periods(text: str) -> str:
    for start, end, _span in reversed(spans_in(text)):
        text = text[:start] + " " + text[end:]
    return text


_NOT_METRIC = re.compile(
    r"同比|环比|增长|增速|下降|预计|预期|上调|下调|百分点|全年|半年|季度|单季|复合|海外|国内|出口|进口|"
    r"客户|供应商|经销商|渠道|直销|批发|\bgrowth\b|\byoy\b|\bqoq\b|\bforecast\b"
)


# Term groups that narrow a figure to a market or a channel: a question that names one needs
# evidence that does ("海外收入" is not "收入").
_QUALIFIER = re.compile(r"^(?:海外|境外|国外|出口|进口|直销|批发|经销商|渠道商|代理商)$")


_ACRONYM = re.compile(r"[A-Z][A-Z0-9]{1,9}")


@cache
def _vocabulary_aliases() -> frozenset[str]:
    return frozenset(a.lower() for g in finance_terms() for a in g)


def _is_vocabulary(group: Sequence[str]) -> bool:
    """A group of the shipped finance vocabulary (or sharing an alias with one)."""
    return any(a.lower() in _vocabulary_aliases() for a in group)


@cache
def _finance_metrics() -> frozenset[str]:
    return frozenset(
        a.lower()
        for g in finance_terms()
        if not any(_NOT_METRIC.search(x.lower()) for x in g)
        for a in g
    )


def is_metric_group(group: Sequence[str]) -> bool:
    """A term group that names a measured quantity (revenue, NIM, capex) of the general
    finance vocabulary: not a change, a period, an estimate or a party."""
    metrics = _finance_metrics()
    return any(a.lower() in metrics for a in group) and not any(
        _NOT_METRIC.search(a.lower()) for a in group
    )


def asked_metrics(text: str, glossary: Glossary) -> tuple[tuple[str, ...], ...]:
    """The metric groups a question names, longest names first: "net margin" asks 净利率, not
    also the 毛利率 that a bare "margin" would name."""
    groups = [g for g in glossary.matches(text, glossary.terms) if is_metric_group(g)]
    low = text.lower()
    found = [(g, [a.lower() for a in g if a.lower() in low or mentions(text, a)]) for g in groups]
    longest = [max((len(a) for a in hits), default=0) for _, hits in found]
    kept = []
    for (group, hits), size in zip(found, longest, strict=True):
        inside_longer = all(
            any(h != o and h in o for _, others in found for o in others if len(o) > len(h))
            for h in hits
        )
        if hits and not inside_longer:
            kept.append((size, tuple(group)))
    return tuple(g for _, g in sorted(kept, key=lambda item: -item[0]))


_VOCABS: dict[int, tuple[Glossary, frozenset[str]]] = {}
_GENERAL = Glossary().with_lexicon([], [])


def general_metric_vocab() -> frozenset[str]:
    """The metric words of the shipped finance vocabulary alone."""
    return metric_vocab(_GENERAL)


def broader_metrics(question: Question) -> frozenset[str]:
    """Metric words of the vocabulary inside the asked metric's names: 净利润 in 归母净利润,
    "net profit" in "net profit attributable to shareholders". A note that writes only the
    broader word may mean the asked one."""
    return _broader(tuple(a.lower() for g in question.metrics for a in g), question.metric_vocab)


@lru_cache(maxsize=256)
def _broader(asked: tuple[str, ...], vocab: frozenset[str]) -> frozenset[str]:
    def inside(word: str, name: str) -> bool:
        if word.isascii():  # whole words: "share" is not inside "shareholders"
            return re.search(rf"(?<![a-z]){re.escape(word)}(?![a-z])", name) is not None
        return word in name

    return frozenset(w for w in vocab if w not in asked and any(inside(w, a) for a in asked))


def broader_metric_in(text: str, question: Question) -> bool:
    return any(w in text for w in broader_metrics(question))


def metric_vocab(glossary: Glossary) -> frozenset[str]:
    """Lower-cased metric words of a glossary (computed once per glossary object)."""
    cached = _VOCABS.get(id(glossary))
    if cached is None or cached[0] is not glossary:
        words = frozenset(
            a.lower() for g in glossary.terms if is_metric_group(g) for a in g if len(a) >= 2
        )
        cached = (glossary, words)
        if len(_VOCABS) > 4:
            _VOCABS.clear()  # a few live glossaries at a time; never grows
        _VOCABS[id(glossary)] = cached
    return cached[1]


# A product grade or model: 400G, 1.6T, GB300, H100. The tokenizer splits "400G" into
# "400" + "g", so these are matched whole to tell "400G规格有多少" from the total beside it.
_SPEC = re.compile(
    r"(?<![A-Za-z0-9.])(?:[A-Za-z]{1,4}\d{2,4}[A-Za-z]?|\d+(?:\.\d+)?[A-Za-z])(?![A-Za-z0-9])"
)


def specs_in(text: str) -> frozenset[str]:
    return frozenset(m.group(0).lower() for m in _SPEC.finditer(text))


_NOT_NAMES = frozenset(
    (
        "what how which who whom whose when where why is are was were does do did will would can "
        "could should the a an in on of for by at to and or but with from as than vs versus per its "
        "it this that these those if q a i relative together compared according give list name tell "
        "show january february march april may june july august september october november december "
        "jan feb mar apr jun jul aug sep sept oct nov dec monday tuesday wednesday thursday friday "
        "us us$ usd rmb cny yuan dollar dollars million billion english please answer reply "
        # units of measure: "按165GWh计算", "元/Wh"
        "wh kwh mwh gwh twh w kw mw gw tw nm mm cm km kg mt bn mn tn pp bp bps"
    ).split()
)


# Where a Chinese question's subject ends: a digit, a particle, punctuation, a period or
# question word, or a verb that starts the predicate.
_SUBJECT_END = re.compile(
    r"[\d\s,，。？?！!、：:（(的和与及在对从]|今年|明年|去年|前年|上半年|下半年|全年|前三季度|"
    r"第?[一二三四]季度|单季|多少|几|哪|什么|如何|怎么|是否|是|为|有|需要|预计|实现|达到|占"
)
_ORG_SHAPE = re.compile(
    r"(?:股份|集团|控股|科技|证券|银行|保险|人寿|财险|资本|基金|药业|酒业|实业|矿业|医疗|医药|"
    r"汽车|电子|电气|能源|机器人|半导体|存储|智能|动力|新材)$"
)


def _leading_chinese_name(text: str, glossary: Glossary) -> tuple[str, ...] | None:
    """The organisation a Chinese question opens with ("洋河股份2025年营收…" -> 洋河股份) when
    it is shaped like one and the glossary does not know it: the evidence must then name it,
    or the notes do not cover that company."""
    head = re.match(r"[\u4e00-\u9fff]{2,10}", text.strip())
    if not head:
        return None
    run = head.group(0)
    cut = _SUBJECT_END.search(run)
    name = run[: cut.start()] if cut else run
    for group in glossary.matches(name):  # a known name or term ends the subject where it starts
        for alias in group:
            pos = name.find(alias) if not alias.isascii() else -1
            if pos == 0:
                return None  # the question opens with a known name or term
            if pos > 0:
                name = name[:pos]
    if 3 <= len(name) <= 8 and _ORG_SHAPE.search(name):
        return (name,)
    return None


def acronym_candidates(name: str, glossary: Glossary) -> list[list[str]]:
    """Entity groups an acronym the notes never write alone may mean: those with a name that
    starts with it as a word ("PICC" -> "PICC Group", "PICC P&C"). Only all-capital names:
    a word such as "China" starts many names without meaning any of them."""
    if not re.fullmatch(r"[A-Z]{2,6}", name) or glossary.group_of(name) is not None:
        return []
    pattern = re.compile(rf"^{re.escape(name)}[\s&/-]", re.IGNORECASE)
    return [g for g in glossary.entities if any(pattern.match(a) for a in g)]


def _latin_names(text: str, glossary: Glossary) -> list[tuple[str, ...]]:
    """Names the evidence must mention: every glossary entity the question names (with its
    aliases), and any other capitalised or all-caps Latin word (Oracle, AMD, HBM). Words
    written together are one name: the name the dictionary gives a Chinese form ("China
    Mobile": 中国移动通信, 中国移动), or words next to a known entity that qualify it ("Kweichow"
    Moutai), or else one name per word."""
    names = [tuple(g) for g in glossary.entities_in(text)]
    rest = text
    # Words the dictionary knows together as one name, before any of them reads as a term.
    for joint in re.finditer(r"(?<![A-Za-z])[A-Z][a-z]+(?:\s+[A-Z][a-z]+)+(?![A-Za-z])", text):
        if forms := chinese_forms(joint.group(0)):
            names.append((joint.group(0), *forms))
            rest = rest.replace(joint.group(0), " ")
    aliases = sorted({a for g in glossary.matches(rest) for a in g}, key=len, reverse=True)
    entity_aliases = {a for g in glossary.entities_in(text) for a in g}
    for alias in aliases:  # longest first: "Alibaba Cloud" before "Alibaba"
        mark = _KNOWN if alias in entity_aliases else " "
        if alias.isascii():
            pattern = rf"(?<![A-Za-z]){re.escape(alias)}(?:s|es)?(?![A-Za-z])"
            rest = re.sub(pattern, mark, rest, flags=re.IGNORECASE)
        else:
            rest = rest.replace(alias, mark)
    runs: list[list[re.Match[str]]] = []
    for match in re.finditer(r"[A-Za-z][A-Za-z0-9']*", rest):
        word = re.sub(r"'s?$", "", match.group(0))
        sentence_start = (
            not rest[: match.start()].strip() or rest[: match.start()].rstrip()[-1] in ".?!:;"
        )
        if (
            (sentence_start and not word.isupper())
            or len(word) < 2
            or any(ch.isdigit() for ch in word)  # H1, Q3, GB300: periods and models, not names
            or word.lower() in _NOT_NAMES
            or not (word[0].isupper() or word.isupper())
        ):
            continue
        joined = runs and not runs[-1][-1].group(0).endswith(("'s", "'"))  # "AIA Group's VONB"
        if joined and not rest[runs[-1][-1].end() : match.start()].strip():
            runs[-1].append(match)
        else:
            runs.append([match])
    for run in runs:
        words = [re.sub(r"'s?$", "", m.group(0)) for m in run]
        before = rest[max(0, run[0].start() - 2) : run[0].start()]
        after = rest[run[-1].end() : run[-1].end() + 2]
        if _KNOWN in before.lstrip(" ")[-1:] + after.strip(" ")[:1]:
            continue  # "Kweichow Moutai": the words beside a known name are part of it
        names += [(w, w[:-1]) if w.endswith("s") else (w,) for w in words]
    return names


_KNOWN = "\x00"  # where a known name stood in the question


@dataclass(frozen=True)
class Evidence:
    chunk_id: str
    doc_id: str
    title: str
    date: str | None
    text: str  # the sentence as cleaned
    start: int  # original offsets
    end: int
    score: float  # selection score
    retrieval_score: float
    years: frozenset[int]
    quantities: tuple[Quantity, ...]
    section: str | None = None
    entities: tuple[str, ...] = field(default_factory=tuple)  # first alias of each entity named
    spans: frozenset[str] = frozenset()  # periods it states, or inherits from the clause before
    header: str | None = None  # a table row's header row
    facts: tuple[Fact, ...] = ()  # its figures with entity, metric, period (rag/facts.py)
    # The clauses of its full sentence before it ("按TSV月产能口径：A今年16万片/月；" before
    # "B今年约6万片/月"): what they name frames it too.
    lead: str = ""

    def figure_context(self, q: Quantity) -> tuple[str, Quantity]:
        """The text a figure is read in, and the figure placed in it: its own sentence, or for
        a table cell "row label，column label figure" (the labels say what it measures)."""
        if self.header is None or q.start is None:
            return self.text, q
        label = tables.cell_label(self.text, self.header, q.start)
        if label is None:
            return self.text, q
        prefix = f"{label} "
        return prefix + q.raw, q.model_copy(
            update={"start": len(prefix), "end": len(prefix) + len(q.raw)}
        )

    def display(self, language: Language) -> str:
        """The sentence with relative years resolved and figures rendered for `language`."""
        text = self.text
        year = int(self.date[:4]) if self.date else None
        inserts: list[tuple[int, str]] = []
        if year:
            for (_, end), absolute in resolve_relative_years(text, year):
                if str(absolute) in text[end : end + 8]:
                    continue  # the note already says it: "今年(2025年)"
                inserts.append((end, f"({absolute}年)" if language == "zh" else f" ({absolute})"))
        if language == "en":
            for q in self.quantities:
                if q.end is not None and q.kind in ("count", "money") and q.high >= 10000:
                    inserts.append((q.end, f" (≈{render(q, 'en')})"))
        for pos, insert in sorted(inserts, reverse=True):
            text = text[:pos] + insert + text[pos:]
        return text


def sentence_offsets(doc: Document) -> list[tuple[int, str, int, int]]:
    """(offset in the chunk, sentence, original start, original end) for each sentence of a
    chunk (its metadata `offsets`/`start` map chunk offsets to the original text's)."""
    text = doc.page_content
    points = json.loads(doc.metadata.get("offsets", "[]")) or [
        [0, int(doc.metadata.get("start", 0))]
    ]
    rels = [p[0] for p in points]

    def origin(rel: int) -> int:
        i = max(j for j, r in enumerate(rels) if r <= rel) if rel >= rels[0] else 0
        return points[i][1] + (rel - points[i][0])

    return [
        (s, sentence, origin(s), origin(s + len(sentence) - 1) + 1)
        for s, sentence in chunk_sentences(text)
    ]


def chunk_facts(doc: Document, glossary: Glossary) -> dict[int, list[Fact]]:
    """A retrieved chunk's facts by sentence offset: as derived at indexing, or derived now
    for a chunk the index holds none for."""
    facts = doc.metadata.get("facts")
    if facts is None:
        facts = extract_facts(
            doc.page_content,
            glossary,
            metric_vocab(glossary),
            section=doc.metadata.get("section"),
            subject=doc.metadata.get("subject"),
            heading=doc.metadata.get("heading"),
            doc_year=_doc_year(doc),
        )
    by_sentence: dict[int, list[Fact]] = {}
    for fact in facts:
        by_sentence.setdefault(fact.sentence, []).append(fact)
    return by_sentence


_QUESTION = re.compile(r"^\s*Q\s*[:：]|[?？]\s*$")


def _is_question(sentence: str) -> bool:
    return bool(_QUESTION.search(sentence))


def _doc_year(doc: Document) -> int | None:
    date = doc.metadata.get("date")
    return int(str(date)[:4]) if date else None


def by_named_source(question: Question, docs: list[Document]) -> tuple[Question, list[str]]:
    """A name the question gives that is a retrieved note's institution ("启明资本预测…",
    "according to Meridian") says whose notes to read, not whom the figure is about: it leaves
    the question (entities, names, and the text retrieval reads), and the sources of that
    institution's notes are returned to retrieve from ([] when the question names none)."""
    institution = {d.metadata.get("source"): str(d.metadata.get("institution") or "") for d in docs}
    named = [
        g
        for g in question.entities
        if any(len(a) >= 2 and a.lower() in i.lower() for a in g for i in institution.values())
    ]
    if not named:
        return question, []
    sources = sorted(
        str(source)
        for source, inst in institution.items()
        if any(a.lower() in inst.lower() for g in named for a in g)
    )
    text = question.text
    for alias in sorted({a for g in named for a in g}, key=len, reverse=True):
        text = re.sub(re.escape(alias), " ", text, flags=re.IGNORECASE)
    question = replace(
        question,
        text=re.sub(r"\s+", " ", text).strip(),
        entities=tuple(g for g in question.entities if g not in named),
        names=tuple(n for n in question.names if n not in named),
    )
    return question, sources


def select_evidence(
    question: Question,
    docs: list[Document],
    glossary: Glossary,
    limit: int = 4,
) -> list[Evidence]:
    """Score every sentence of the retrieved chunks against the question; keep the best."""
    # The question's words in the other language, where the retrieved notes write them:
    # "last week" -> 上周 in a Chinese note, 保费 -> "premium" in an English one.
    texts = [d.page_content for d in docs]
    if question.language == "en":
        written = translations_in(question.text, texts)
    else:
        own = [t for t in tokenize(question.text) if len(t) >= 2 and not t.isascii()]
        written = english_in(own, texts)
    if written:
        extra = {t for word in written for t in tokenize(word) if len(t) >= 2}
        question = replace(question, terms=question.terms | extra)
    candidates: list[Evidence] = []
    asked = [set(group) for group in question.entities]
    asks_who = bool(_ASKS_WHO.search(question.text))
    for rank, doc in enumerate(docs):
        doc_year = _doc_year(doc)
        section = str(doc.metadata.get("section") or "")
        # The company named last before the chunk (ingest): its first sentences are about it.
        subject = str(doc.metadata.get("subject") or "")
        carried: list[list[str]] = glossary.entities_in(subject) if subject else []
        # The headings above the chunk frame it: their years for sentences that write none,
        # the nearest period they name ("## Key metrics, H1 2025") for sentences naming none.
        headings = str(doc.metadata.get("heading") or "")
        framed_years = heading_years(headings)
        carried_spans: frozenset[str] = heading_spans(headings)  # of the last that named any
        header = section if tables.is_row(section) else None
        lines = sentence_offsets(doc)
        facts_by_sentence = chunk_facts(doc, glossary)
        for index, (offset, sentence, start, end) in enumerate(lines):
            if _is_question(sentence):
                carried = []  # a new question starts a new subject
                continue  # a note's own question frames its answer; it states no fact
            if is_heading(sentence) and offset not in facts_by_sentence:
                carried = glossary.entities_in(sentence) or carried
                continue  # a heading without figures frames its section; it is no evidence
            if tables.is_row(sentence):
                following = lines[index + 1][1] if index + 1 < len(lines) else ""
                if tables.is_rule(following):
                    header = sentence  # a header row frames the rows below it; no fact
                    continue
            elif tables.is_rule(sentence):
                continue
            else:
                header = None
            in_table = header is not None and tables.is_row(sentence)
            own_spans = frozenset(
                s for _, _, s in spans_in(f"{header} {sentence}" if in_table else sentence)
            )
            # "前三季度营收…；归母净利润490.34亿元…" : the clause after the semicolon keeps
            # the period of the one before, as it keeps its subject.
            spans = own_spans or carried_spans
            carried_spans = spans
            tokens = set(tokenize(sentence))
            # Shared words, damped for long sentences that share many by sheer length.
            overlap = len(tokens & question.terms) / (1 + max(0, len(tokens) - 30) / 60)
            section_overlap = len(set(tokenize(section)) & question.terms) if section else 0
            years = (
                {m.year for m in extract_years(sentence)}
                | period_years(sentence)
                | {int(v) for v in _BARE_YEAR.findall(sentence)}
            )
            if doc_year:
                years |= {y for _, y in resolve_relative_years(sentence, doc_year)}
            years = years or framed_years
            facts = tuple(facts_by_sentence.get(offset, ()))
            quantities = tuple(f.quantity for f in facts)
            named = glossary.entities_in(sentence)
            # "其中,800G规格占比超过100万条" continues the sentence before it ("Meta2025年…"):
            # a sentence that names no one keeps the subject of the last one that did.
            inherited = [] if named else carried
            carried = named or carried
            # A table row is about the entities its header names (one per column).
            framing = f"{section} {header}" if in_table and header != section else section
            section_named = glossary.entities_in(framing) if framing else []
            score = overlap + 0.3 * section_overlap + 1.0 / (1 + rank)
            if asked:
                if any(set(g) in asked for g in named):
                    score += 3
                elif any(set(g) in asked for g in inherited):
                    score += 2
                elif any(set(g) in asked for g in section_named):
                    score += 1.5
                elif named or inherited:
                    score -= 2  # about another company
            if question.years:
                if years & question.years:
                    score += 2
                elif years:
                    score -= 1
            if question.asks_figure and quantities:
                score += 1
            if question.specs & specs_in(sentence):
                score += 2
            low = sentence.lower()
            named_metrics = sum(1 for g in question.metrics if any(a.lower() in low for a in g))
            score += 2.5 * named_metrics
            # "international revenues": the sentence that names the market or channel asked;
            # one that names none cannot give its figure (the domestic revenue beside it).
            framed = f"{section} {sentence}".lower()
            qualified = sum(1 for g in question.qualifiers if any(a.lower() in framed for a in g))
            if question.qualifiers:
                score += 2 * qualified if qualified else -3
            if question.metrics and not named_metrics and broader_metric_in(low, question):
                score += 1.5  # "third-quarter net profit" for net profit attributable
            if question.period is not None:
                if question.period.span in spans:
                    score += 2
                elif spans:
                    score -= 1  # about another part of the year
            if asks_who and (named or _LATIN_NAME.search(sentence)):
                score += 2  # "以哪家公司为代表": the sentence that names a company
            page = doc.page_content
            boundary = max(page.rfind(mark, 0, offset) for mark in "。！？!?\n") + 1
            candidates.append(
                Evidence(
                    lead=page[boundary:offset].strip() if not in_table else "",
                    chunk_id=str(doc.metadata.get("id", doc.id)),
                    doc_id=str(doc.metadata.get("source", "")),
                    title=str(doc.metadata.get("title", "")),
                    date=doc.metadata.get("date"),
                    text=sentence,
                    start=start,
                    end=end,
                    score=round(score, 3),
                    retrieval_score=float(doc.metadata.get("score", 0.0)),
                    years=frozenset(years),
                    quantities=quantities,
                    section=section or None,
                    entities=tuple(g[0] for g in named + inherited + section_named),
                    spans=spans,
                    header=header if in_table else None,
                    facts=facts,
                )
            )
    candidates.sort(key=lambda e: -e.score)
    picked: list[Evidence] = []
    for evidence in candidates:
        if evidence.score <= 1.0:
            break
        if all(evidence.text != p.text for p in picked):
            picked.append(evidence)
        if len(picked) == limit:
            break
    return picked
