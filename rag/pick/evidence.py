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
from functools import cache

from langchain_core.documents import Document

from rag.dictionary import english_in, translations_in
from rag.facts import tables
from rag.facts.extract import LISTS_SEVERAL, Fact, change_of, chunk_sentences, extract_facts
from rag.facts.periods import (
    carried_spans_in,
    heading_spans,
    heading_years,
    implied_year,
    period_years,
    spans_in,
)
from rag.glossary import Glossary, mention_spans, mentions
from rag.numbers import (
    Quantity,
    extract_quantities,
    extract_years,
    render,
    resolve_relative_years,
)
from rag.plan.question import (
    BARE_YEAR,
    GIVES_REASON,
    LATIN_NAME,
    Question,
    broader_metric_in,
    general_metric_vocab,
    metric_vocab,
    specs_in,
)
from rag.retrieve.keyword import tokenize
from rag.sentences import HEADING_JOIN, is_heading, is_question
from rag.types import FactRow, Language


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
    # of those, the ones the sentence names or carries from the one before (not its section's)
    subjects: tuple[str, ...] = field(default_factory=tuple)
    # whether the sentence writes a year; else its years are its headings' or its note's
    dated: bool = False
    spans: frozenset[str] = frozenset()  # periods it states, or inherits from the clause before
    header: str | None = None  # a table row's header row
    facts: tuple[Fact, ...] = ()  # its figures with entity, metric, period (rag/facts/extract.py)
    # The clauses of its full sentence before it ("按TSV月产能口径：A今年16万片/月；" before
    # "B今年约6万片/月"): what they name frames it too.
    lead: str = ""
    # The heading it sits under ("## 订单账本：…中国移动1.24亿元集采"): what its section is about.
    heading: str = ""
    caption: str = ""  # a table row's caption ("表1：…（单位：亿元）"), when its chunk holds it
    # The paragraph before it ("10月快递业务量176.0亿件…" before "三季度行业合计494.4亿件"):
    # what it names may be what the sentence goes on counting.
    paragraph: str = ""

    @property
    def table_context(self) -> str:
        """What a reader of a quoted table row needs above it: caption and header row."""
        if self.header is None:
            return ""
        return "\n".join(part for part in (self.caption, self.header) if part)

    def names(self, name: Sequence[str]) -> bool:
        """Whether its note, heading, section or sentence names `name` (any alias)."""
        haystack = f"{self.title} {self.heading} {self.section or ''} {self.lead} {self.text}"
        return any(mentions(haystack, a) for a in name)

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


# A which-question asking who leads or trails, and a sentence saying who does.
_ASKS_RANK = re.compile(
    r"最|第一|第二|排名|居首|领先|\b(?:most|least|top|first|largest|biggest|highest|lowest|"
    r"fastest|slowest|lead(?:s|ing)?|rank\w*)\b",
    re.IGNORECASE,
)
_ASKS_PLACE = re.compile(
    r"哪(?:一)?个(?:省|市|城市|地区|国家)|\bwhich (?:province|city|region|country)\b", re.I
)


@cache
def _regions() -> tuple[str, ...]:
    from rag.facts.lexicon import place_names

    return tuple(p for p in place_names() if p not in ("中国", "中華", "中华"))


_STATES_RANK = re.compile(
    r"居首|居第|位居|位列|排名第|排第|第一|榜首|首位|领跑|最高|最大|最多|最快|最低|次之|"
    r"\b(?:led|leads|leading|largest|biggest|highest|lowest|fastest|top|first|ranked)\b",
    re.IGNORECASE,
)


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


def row_evidence(row: FactRow) -> Evidence:
    """A fact row (rag/facts/rows.py) as evidence to cite: its quote, note and offsets."""
    return Evidence(
        chunk_id="",
        doc_id=row.doc_id,
        title=row.title,
        date=row.date,
        text=row.quote,
        start=row.start,
        end=row.end,
        score=0.0,
        retrieval_score=0.0,
        years=frozenset({row.year}) if row.year else frozenset(),
        quantities=tuple(extract_quantities(row.quote)),
        entities=(row.entity,) if row.entity else (),
    )


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
    # A question asking no figure ("what is the brand of X's sodium-ion batteries") is
    # answered by the sentence sharing most of what it asks beyond the entity's name, which is
    # scored once below (named, carried or framed), not again as shared words. (A figure
    # question is scored on its metric and figures instead.)
    name_tokens = {t for group in question.entities for a in group for t in tokenize(a)}
    content_terms = question.terms if question.asks_figure else question.terms - name_tokens
    asks_who = bool(question.asks_who)
    asks_why = question.asks_why and not question.asks_figure
    ranks = bool(_ASKS_RANK.search(question.text))
    asks_place = bool(_ASKS_PLACE.search(question.text))
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
        under = headings.split(HEADING_JOIN)[-1] if headings else ""
        # The sentence before a header row is the table's caption; a chunk that starts inside
        # a table has its caption from the chunk before (derived with the keyword index).
        caption = str(doc.metadata.get("caption") or "") if header else ""
        before_table = ""
        for index, (offset, sentence, start, end) in enumerate(lines):
            if is_question(sentence):
                # A new question starts a new subject: the one company it asks about, if any.
                asked_here = glossary.entities_in(sentence)
                listed = LISTS_SEVERAL.search(sentence)
                carried = asked_here if len(asked_here) == 1 and not listed else []
                continue  # a note's own question frames its answer; it states no fact
            if is_heading(sentence):
                under = sentence.strip().lstrip("#").strip()
            if is_heading(sentence) and offset not in facts_by_sentence:
                # A heading naming several companies heads a comparison: none is its subject.
                named_here = glossary.entities_in(sentence)
                carried = named_here if len(named_here) == 1 else [] if named_here else carried
                continue  # a heading without figures frames its section; it is no evidence
            if tables.is_row(sentence):
                following = lines[index + 1][1] if index + 1 < len(lines) else ""
                if tables.is_rule(following):
                    header = sentence  # a header row frames the rows below it; no fact
                    caption = before_table
                    continue
            elif tables.is_rule(sentence):
                continue
            else:
                header = None
                before_table = sentence
            in_table = header is not None and tables.is_row(sentence)
            named_spans = frozenset(
                s for _, _, s in spans_in(f"{header} {sentence}" if in_table else sentence)
            )
            # A comparison's base ("accelerating from 20% in the June quarter") is not the
            # sentence's period, though it states a figure of that period too.
            own_spans = named_spans if in_table else carried_spans_in(sentence)
            bases = named_spans - own_spans
            # "前三季度营收…；归母净利润490.34亿元…" : the clause after the semicolon keeps
            # the period of the one before, as it keeps its subject.
            spans = own_spans or carried_spans
            # What the next sentences inherit leaves out comparison bases ("环比9月的…").
            if own_spans and not in_table:
                carried_spans = carried_spans_in(sentence) or carried_spans
            else:
                carried_spans = spans
            tokens = set(tokenize(sentence))
            # Shared words, damped for long sentences that share many by sheer length.
            overlap = len(tokens & content_terms) / (1 + max(0, len(tokens) - 30) / 60)
            section_overlap = len(set(tokenize(section)) & content_terms) if section else 0
            years = (
                {m.year for m in extract_years(sentence)}
                | period_years(sentence)
                | {int(v) for v in BARE_YEAR.findall(sentence)}
            )
            if doc_year:
                years |= {y for _, y in resolve_relative_years(sentence, doc_year)}
            facts = tuple(facts_by_sentence.get(offset, ()))
            quantities = tuple(f.quantity for f in facts)
            # the years its figures are of ("9月9.7GW，低于去年同期的20.9GW": this year's too)
            years |= {q.year for q in quantities if q.year}
            dated = bool(years)  # the sentence writes a year (its own or a comparison's)
            years = years or framed_years
            if not years and spans:  # a part of the year named with none: the note's own
                years = {y for s in spans if (y := implied_year(s, doc.metadata.get("date")))}
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
            # The metrics it names, or its figures measure (carried from the sentence before:
            # "市场规模约180亿美元。明年约580亿美元").
            measured = {f.metric for f in facts if f.metric}
            named_metrics = sum(
                1
                for g in question.metrics
                if any(a.lower() in low or any(a.lower() in m for m in measured) for a in g)
            )
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
                if question.period.span in spans | bases:
                    score += 2
                elif spans:
                    score -= 1  # about another part of the year
            if asks_who and (named or LATIN_NAME.search(sentence)):
                score += 2  # "以哪家公司为代表": the sentence that names a company
            if asks_who and ranks and _STATES_RANK.search(sentence):
                score += 2  # "哪个省…排第一": the sentence that says who leads ("江苏…居首")
            if asks_place and any(p in sentence for p in _regions()):
                score += 2  # "哪个省" is answered by a sentence naming provinces
            if asks_why and GIVES_REASON.search(sentence):
                score += 2  # "主要原因是什么": the sentence that gives one ("mainly because…")
            page = doc.page_content
            boundary = max(page.rfind(mark, 0, offset) for mark in "。！？!?\n") + 1
            paragraph_start = page.rfind("\n", 0, offset) + 1
            candidates.append(
                Evidence(
                    lead=page[boundary:offset].strip() if not in_table else "",
                    paragraph=page[paragraph_start:boundary] if not in_table else "",
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
                    subjects=tuple(g[0] for g in named + inherited),
                    dated=dated,
                    spans=spans,
                    header=header if in_table else None,
                    facts=facts,
                    heading=under,
                    caption=caption if in_table else "",
                )
            )
    # The markets and products the question names that some candidate's note, section or
    # sentence names too (HBM): a sentence of another note's market ranks below theirs.
    entity_aliases = {a.lower() for g in question.entities for a in g}
    wanted = [n for n in question.names if not {a.lower() for a in n} & entity_aliases]
    shared = [n for n in (*wanted, *question.subjects) if any(c.names(n) for c in candidates)]
    if shared:
        candidates = [
            c if all(c.names(n) for n in shared) else replace(c, score=round(c.score - 4, 3))
            for c in candidates
        ]
    candidates = _segment_first(question, candidates, texts)
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


def _segment_first(
    question: Question, candidates: list[Evidence], texts: list[str]
) -> list[Evidence]:
    """A part of the company asked ("Alibaba's cloud unit", "交易服务收入") that some figure's
    sentence names, in either language: figures of sentences that do not name it (the whole
    company's revenue) rank below."""
    named = segment_forms(question, candidates, texts)
    if not named:
        return candidates
    return [
        c
        if not c.quantities or all(names_segment(c, forms) for forms in named)
        else replace(c, score=round(c.score - 3, 3))
        for c in candidates
    ]


def segment_forms(
    question: Question, evidence: Sequence[Evidence], texts: Sequence[str] | None = None
) -> list[set[str]]:
    """Each part of the company the question names (`Question.segments`) in the forms the
    texts write it (cloud; 交易服务 as "transaction services"), for those that some figure's
    sentence names."""
    if not question.segments:
        return []
    texts = list(texts) if texts is not None else [e.text for e in evidence]
    # Only the company's own sentences tell whether it reports that part: another company's
    # "车辆毛利率" says nothing of how Xiaomi names its segments.
    asked = {g[0] for g in question.entities}
    own = [e for e in evidence if e.quantities and asked & set(e.subjects or e.entities)]
    named: list[set[str]] = []
    for word in question.segments:
        other = translations_in(word, texts) if word.isascii() else english_in([word], texts)
        forms = {word.lower(), *(f.lower() for f in other)}
        # a dictionary gloss is singular; a report writes its segments plural ("games")
        forms |= {f"{f}s" for f in forms if f.isascii() and f[-1:].isalpha() and f[-1] != "s"}
        # a business line the vocabulary knows ("广告", "advertising") is asked even where no
        # sentence names it: the company's total is not that part's figure
        topic = next((g for g in question.topics if word in g), None)
        if topic is not None:
            named.append(forms | {a.lower() for a in topic})
        elif any(names_segment(e, forms) for e in own):
            named.append(forms)
    return named


def names_segment(evidence: Evidence, forms: set[str]) -> bool:
    text = f"{evidence.header or ''} {evidence.text}"
    return any(mentions(text, f) for f in forms)


def segment_proximity(evidence: Evidence, q: Quantity, named: list[set[str]]) -> float:
    """Favour the figure a part's name is written just before, with no figure between
    ("… and transaction services RMB 54.93bn" is the transaction services' revenue)."""
    if not named or q.start is None or evidence.header is not None:
        return 0.0
    # figures of another kind may stand between: "international games 43% to RMB 20.8bn"
    starts = [x.start for x in evidence.quantities if x.start is not None and x.kind == q.kind]
    for forms in named:
        ends = [end for f in forms for _, end in mention_spans(evidence.text, f)]
        before = [e for e in ends if e <= q.start and not any(e <= s < q.start for s in starts)]
        if not before or q.start - max(before) > 40:
            return 0.0
    return 3.0


def facts_of(ev: Evidence) -> list[Fact]:
    """The evidence's figures as facts: those derived at indexing (for the figures it still
    holds: a calculation may narrow them), or, for evidence built without, derived here from
    its sentence and the names it is known to mention."""
    if ev.facts:
        held = set(ev.quantities)
        return [f for f in ev.facts if f.quantity in held]
    derived = {
        (f.quantity.start, f.quantity.raw): f
        for f in extract_facts(
            ev.text,
            Glossary(entities=[[name] for name in ev.entities]),
            general_metric_vocab(),
            section=ev.header,
        )
    }
    out = []
    for q in ev.quantities:
        fact = derived.get((q.start, q.raw))
        if fact is None:
            text, placed = ev.figure_context(q)
            fact = Fact(sentence=0, quantity=q, change=change_of(text, placed))
        out.append(fact.model_copy(update={"quantity": q}))
    return out


def metric_of(ev: Evidence, q: Quantity) -> str | None:
    """The metric word the evidence's fact for figure `q` is stated for, if any."""
    return next((f.metric for f in facts_of(ev) if f.quantity == q), None)
