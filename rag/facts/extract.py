"""Figures as facts: each figure of a chunk with whom, what and when it measures, and whether
it is a level or a change. Computed once per chunk at ingest and stored with it; answering
picks among facts instead of re-reading sentences per question.

Attribution is structural and language-neutral:
- entity: in a table, the column (or row) label that names an entity; in a sentence, the first
  entity its clause names before the figure ("宁德时代毛利率24.5%，比亚迪毛利率19.4%" gives 19.4%
  to 比亚迪), else the subject of the clause before, of the sentence before, or of the chunk;
- metric: the metric word nearest before the figure (or in its cell's labels);
- period: the period word nearest before it (or in its labels), else its sentence's one period;
- change: "同比+13%", "up 9.3% YoY", a signed percent in a table — with its basis (YoY, QoQ).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from typing import Literal, TypeVar

from pydantic import BaseModel, ConfigDict

from rag.facts import tables
from rag.facts.lexicon import AGGREGATE, FINANCIAL_METRIC, ORG_ENDINGS
from rag.facts.periods import Span, carried_spans_in, heading_spans, period_before, spans_in
from rag.glossary import Glossary, finance_terms, mentions, read_by_note
from rag.numbers import RELATIVE_KINDS, Quantity, extract_quantities
from rag.numbers.lexicon import LIST_JOINER
from rag.sentences import is_heading, is_question, sentence_spans

Change = Literal["yoy", "qoq", "change"]

# Bump when attribution changes: stored facts of another version are recomputed on read.
FACTS_VERSION = "99"


class Fact(BaseModel):
    """One figure of a chunk. `quantity` offsets index its sentence's text."""

    model_config = ConfigDict(frozen=True)

    sentence: int  # offset of its sentence in the chunk text
    quantity: Quantity
    entity: str | None = None  # first alias of the entity it is about
    # Whether its own clause names that entity (or a parenthesis right after it does),
    # rather than it being carried from the clause or sentence before.
    own_clause: bool = False
    metric: str | None = None  # the metric word it is stated for (lower case)
    period: Span | None = None
    change: Change | None = None  # None: a level
    # A whole market's or sector's figure ("全国新增装机", "the sector's aggregate NPL ratio"):
    # no company's, whoever the sentences around it are about.
    market: bool | None = None
    # The term a metric word of two senses stands for in its note ("operating income" as
    # 营业收入 in a bank's report): set by `read_senses` at ingest, None when the word is read
    # as the vocabulary reads it.
    sense: str | None = None

    def metric_names(self, question_text: str = "") -> frozenset[str]:
        """The metric names it answers to (lower case): its word, or the sense its note reads
        it as (and the word itself only for a question that writes it)."""
        if self.metric is None:
            return frozenset()
        if self.sense is None:
            return frozenset({self.metric})
        literal = mentions(question_text, self.metric)
        return frozenset({self.sense.lower()} | ({self.metric} if literal else set()))


def read_senses(facts: dict[str, list[Fact]], source_of: dict[str, str]) -> dict[str, list[Fact]]:
    """Each note's reading of metric words of two senses (rag/data/finance_terms.yaml
    `read_by_note`): the second term, when the note gives no figure under any of its names.
    `facts` by chunk id, `source_of` the note of each chunk id."""
    ambiguous = read_by_note()
    if not ambiguous:
        return facts
    groups = {term: {a.lower() for a in group} for group in finance_terms() for term in group}
    stated: dict[str, set[str]] = {}
    for chunk_id, chunk in facts.items():
        note = stated.setdefault(source_of[chunk_id], set())
        note.update(f.metric for f in chunk if f.metric)
    senses = {
        note: {
            word: other
            for word, (_, other) in ambiguous.items()
            if word in metrics and not (metrics & groups.get(other, {other.lower()}))
        }
        for note, metrics in stated.items()
    }
    return {
        chunk_id: [
            f.model_copy(update={"sense": read})
            if f.metric and (read := senses[source_of[chunk_id]].get(f.metric))
            else f
            for f in chunk
        ]
        for chunk_id, chunk in facts.items()
    }


def chunk_sentences(text: str) -> list[tuple[int, str]]:
    """(offset in `text`, stripped sentence) for each sentence worth reading (4+ characters)."""
    out = []
    for s, e in sentence_spans(text):
        stripped = text[s:e].strip()
        if len(stripped) < 4:
            continue
        out.append((s + len(text[s:e]) - len(text[s:e].lstrip()), stripped))
    return out


_CLAUSE_END = re.compile(r"[，,；;：:]")
_CHANGE_BEFORE = re.compile(
    r"(?:同比|环比|较上年|较去年|增长|增加|提升|上升|上涨|下降|下滑|减少|回落|增|降|涨|跌|"
    r"\bup|\bdown|\bgrew|\brose|\bfell|\bincreased|\bdecreased|\bgrowth of|\bchange of|"
    # the other verbs English reports a change with ("bancassurance NBV jumped 170.9%")
    r"\bjump(?:ed|s)?|\bsurg(?:ed|es)|\bsoar(?:ed|s)|\bclimb(?:ed|s)|\bgain(?:ed|s)|"
    r"\bslipp?(?:ed|s)|\bdropp?(?:ed|s)|\bdeclin(?:ed|es)|\bplung(?:ed|es)|\bslump(?:ed|s)|"
    r"\blift(?:ed|s)|\bexpand(?:ed|s)|\bshr[au]nk|\bedged (?:up|down)|\bdecline of|\brise of)"
    r"[^，,。；;\d]{0,6}$",
    re.IGNORECASE,
)
_CHANGE_AFTER = re.compile(r"^\s*(?:yoy|qoq|y/y|q/q|year[- ]on[- ]year|同比|环比)", re.IGNORECASE)
_CHANGE_COLUMN = re.compile(
    r"(?:同比|环比|yoy|qoq|y/y|q/q|change|增速|增幅)[^，,]*$", re.IGNORECASE
)
SEQUENTIAL = re.compile(r"环比|\bqoq\b|q/q|quarter[- ]on[- ]quarter|sequential", re.IGNORECASE)
_ANNUAL = re.compile(r"同比|\byoy\b|y/y|year[- ]on[- ]year|较上年|较去年", re.IGNORECASE)


def states_change(text: str, q: Quantity) -> bool:
    """Whether a figure states a change ("同比增长13%", "up 9.3% YoY") rather than a level."""
    if q.kind == "percentage_points":
        return True  # a difference of two percentages by definition: "raised by 45pp"
    if q.start is None or q.end is None or q.kind != "percent":
        return False
    head = text[max(0, q.start - 12) : q.start]
    if re.search(r"(?:至|到|\bto)\s*$", head, re.IGNORECASE):
        return False  # "提升至53%", "rose to 9.1%": the level reached, not the change
    return bool(
        _CHANGE_BEFORE.search(head)
        or _CHANGE_AFTER.match(text[q.end : q.end + 16])
        or _CHANGE_COLUMN.search(head.strip())
        # "+41.21%" in a table, "25.01（-18.69%）": a signed or bracketed percent after a level
        or re.match(r"[+＋\-−]", q.raw.strip())
        or re.search(r"[+＋]\s*$", head)  # "(+10.9%)": a plus sign only ever signs a change
        or re.search(r"(?:\d|\b(?:million|billion|bn|mn|tn)|[亿万元])\s*[（(]\s*$", head, re.I)
        # "profit attributable 19.6% to US$264.3m": a percent that takes an amount somewhere
        # is the change that got it there, its verb shared with the clause before.
        or _TO_AMOUNT.match(text[q.end : q.end + 24])
    )


_TO_AMOUNT = re.compile(
    r"\s+to\s+(?:US\$|HK\$|RMB|CNY|USD|HKD|EUR|[$€£¥])\s?\d[\d,.]*(?!\s*%)", re.IGNORECASE
)


def change_of(text: str, q: Quantity) -> Change | None:
    """The change a figure states and its basis, or None for a level."""
    if not states_change(text, q):
        return None
    # The basis is written in the figure's own clause: "同比下降32.60%，环比增长12.1%".
    head = re.split(r"[，,；;。]", text[max(0, (q.start or 0) - 14) : q.start or 0])[-1]
    tail = re.split(r"[，,；;。]", text[q.end or 0 : (q.end or 0) + 16])[0]
    for near in (head, tail):
        if SEQUENTIAL.search(near):
            return "qoq"
        if _ANNUAL.search(near):
            return "yoy"
    return "change"


# Metric words of a proportion (a share, margin, rate or ratio): what a percentage measures, never
# an amount or a count.
_RELATIVE_METRIC = re.compile(
    r"(?:率|占比|份额|比重|比例)$|(?<![a-z])(?:margin|ratio|share|rate|yield|proportion)s?$"
)


def is_relative_metric(word: str) -> bool:
    return bool(_RELATIVE_METRIC.search(word.lower()))


_APPOSITIVE = re.compile(r",\s+(?:a|an|the)\s+[^,;:.()]{1,60},", re.IGNORECASE)


def metric_before(
    text: str, position: int, vocab: frozenset[str], *, relative: bool = True
) -> str | None:
    """The metric word nearest before `position` ("营业收入2830.72亿元，同比增长9.28%" -> 营业收入
    for 9.28%); of two ending at the same place the longer ("扣非净利润" over "净利润"). With
    `relative=False` (an amount or a count) a proportion's word is passed over: "出货5168台、
    份额约39%，宇树以4200台、约32%的份额" — 4200台 is a shipment, not a share."""
    # An English appositive between subject and verb describes the subject, it measures
    # nothing: "Contract liabilities, a lead indicator for revenue, grew 25% to …".
    head = _APPOSITIVE.sub(lambda m: " " * len(m.group()), text[:position].lower())
    best: tuple[int, int, str] | None = None
    for word in vocab:
        if not relative and is_relative_metric(word):
            continue
        at = head.rfind(word)
        if at < 0:
            continue
        if word.isascii() and (
            _latin_letter(head[at - 1 : at])
            or _latin_letter(head[at + len(word) : at + len(word) + 1])
        ):
            continue  # inside another word ("今年EPS" is not: a Chinese character is no letter of it)
        key = (at + len(word), len(word), word)
        if best is None or key[:2] > best[:2]:
            best = key
    return best[2] if best else None


def _latin_letter(char: str) -> bool:
    return char.isascii() and char.isalpha()


# English names what an amount measures after it: "RMB 49.00bn of net profit attributable".
_OF_METRIC = re.compile(r"\s*of\s+(?:(?:its|the|their|annual|total)\s+)?", re.I)


def metric_after(text: str, end: int, vocab: frozenset[str]) -> str | None:
    """The metric word an amount ending at `end` is "of" ("RMB 8.6bn of interest income" ->
    interest income); of several starting there the longest. None when no "of" follows."""
    joined = _OF_METRIC.match(text, end)
    if joined is None:
        return None
    tail = text[joined.end() : joined.end() + 60].lower()
    found = [
        word
        for word in vocab
        if tail.startswith(word)
        and not re.match(
            # a plural too ("of buybacks"), but "of shares" is stock, not a proportion
            r"[a-z]" if is_relative_metric(word) else r"[a-rt-z]|s[a-z]",
            tail[len(word) : len(word) + 2],
        )
    ]
    return max(found, key=len, default=None)


# English opens a new subject's clause with a conjunction and no comma: "A grew revenue 15%
# and B lifted profit 32%".
_NEW_SUBJECT_AFTER = re.compile(r"\b(?:and|while|whereas|but)\s+$", re.IGNORECASE)


def _clause_starts(
    sentence: str, mentions: Sequence[tuple[int, int, str]], quantities: Sequence[Quantity]
) -> list[int]:
    """Where a sentence's clauses start: after a comma, semicolon or colon outside brackets
    (a name's "(中文名, 0700.HK)" is no clause), and, in English, at a conjunction that opens a
    new name once the clause before has stated a figure (names listed before any figure share
    the figures after them)."""
    starts, depth = [0], 0
    for i, ch in enumerate(sentence):
        if ch in "(（[":
            depth += 1
        elif ch in ")）]":
            depth = max(0, depth - 1)
        elif depth == 0 and _CLAUSE_END.match(ch):
            starts.append(i + 1)
    if re.search(r"[\u4e00-\u9fff]", _outside_brackets(sentence)):
        return starts
    for start, _, _ in mentions:
        conjunction = _NEW_SUBJECT_AFTER.search(sentence[:start])
        if conjunction is None:
            continue
        clause = max(s for s in starts if s <= conjunction.start())
        if any(clause <= (q.end or 0) <= conjunction.start() for q in quantities):
            starts.append(start)
    return sorted(set(starts))


def _outside_brackets(text: str) -> str:
    return re.sub(r"[(（][^()（）]*[)）]", " ", text)


def _own_clause_of(text: str, clause_starts: Sequence[int], q: Quantity) -> str:
    """The words of a figure's clause before it."""
    at = q.start or 0
    return text[max(s for s in clause_starts if s <= at) : at]


def without_names(text: str, mentions: Sequence[tuple[int, int, str]]) -> str:
    """`text` with the entity names it mentions blanked, offsets kept: a metric word inside a
    name ("COSCO Shipping Ports", "Bank of Communications") measures nothing."""
    for start, end, _ in mentions:
        text = text[:start] + " " * (end - start) + text[end:]
    return text


_JOINER = re.compile(r"^\s*(?:[、,，/&和与及]|以及|\band\b)\s*$", re.IGNORECASE)
_SHARED = "*"  # the subject is several entities at once ("A、B和C合计…"): no single owner


def _first_entity(
    mentions: list[tuple[int, int, str]], start: int, end: int, text: str = ""
) -> str | None:
    """The first entity named in [start, end), or `_SHARED` when it opens a list of them."""
    inside = [m for m in mentions if start <= m[0] < end]
    if not inside:
        return None
    first = inside[0]
    if len(inside) > 1 and _JOINER.match(text[first[1] : inside[1][0]]):
        return _SHARED
    return first[2]


_LIST_SEPARATOR = re.compile(r"^\s*(?:[、,，/;；]|和|与|及|以及|\band\b)\s*", re.IGNORECASE)


def _listed_after(
    mentions: list[tuple[int, int, str]],
    text: str,
    quantities: list[Quantity],
    q: Quantity,
    clause: int,
) -> str | None:
    """The entity that opens this figure's item of a list of (entity, figure) pairs: "其中智元约
    5200台、宇树约4700台" gives 4700台 to 宇树, not to the clause's first name."""
    at = q.start or 0
    previous = [o for o in quantities if o.end is not None and clause <= o.end <= at and o is not q]
    if not previous:
        return None
    after = max(o.end for o in previous if o.end is not None)
    separator = _LIST_SEPARATOR.match(text[after:at])
    if separator is None:
        return None
    named = [m for m in mentions if after + separator.end() <= m[0] < at]
    return named[0][2] if named and named[0][0] == after + separator.end() else None


def _owner_after(mentions: list[tuple[int, int, str]], text: str, end: int) -> str | None:
    """An entity written in parentheses right after a figure: "涨幅最低为3.2%（某公司）"."""
    match = re.match(r"\s*[（(]", text[end:])
    if not match:
        return None
    close = re.search(r"[）)]", text[end:])
    stop = end + (close.start() if close else len(text) - end)
    return next((name for s, _, name in mentions if end + match.end() <= s < stop), None)


def extract_facts(
    text: str,
    glossary: Glossary,
    vocab: frozenset[str],
    *,
    section: str | None = None,
    subject: str | None = None,
    doc_year: int | None = None,
    caption: str = "",
    heading: str | None = None,
) -> list[Fact]:
    """Every figure of a chunk as a fact. `glossary` knows the entities (the note's own names
    and users' overrides), `vocab` the metric words, `subject` whom the chunk's first
    sentences are about (the company named last before it), `heading` the headings above it
    (the nearest period they name frames sentences that name none: "## Key metrics, H1 2025")."""
    facts: list[Fact] = []
    carried = _group_name(glossary, subject) if subject else None
    header = section if section and tables.is_row(section) else None
    framed = heading_spans(heading)
    carried_spans: frozenset[Span] = framed
    # What the last sentence's figures measured, by kind and currency: a sentence that names
    # no metric continues it ("HBM市场规模约180亿美元。今年约380亿美元。明年约580亿美元。").
    carried_metrics: dict[tuple[str, str | None], str] = {}
    previous = ""  # `caption`: of the table a chunk starts inside (see `table_caption`)
    lines = chunk_sentences(text)
    for index, (offset, sentence) in enumerate(lines):
        if is_question(sentence):
            # A note's own question starts a new subject: the one company it asks about
            # ("问：乙公司的产品结构有什么变化？"), else none: not one of a list ("甲、乙、丙分别
            # 怎么看？", whose other names may be no known entity). It states no fact.
            asked = {name for _, _, name in glossary.entity_mentions(sentence)}
            listed = bool(LISTS_SEVERAL.search(sentence))
            carried = asked.pop() if len(asked) == 1 and not listed else None
            carried_metrics = {}
            continue
        if tables.is_row(sentence):
            following = lines[index + 1][1] if index + 1 < len(lines) else ""
            if tables.is_rule(following):
                header = sentence
                caption = previous  # "表2：…（单位：亿元）", "## Summary (9M25, RMB bn)"
                continue
        elif tables.is_rule(sentence):
            continue
        else:
            header = None
            previous = sentence
        in_table = header is not None and tables.is_row(sentence)
        own_spans = frozenset(
            s for _, _, s in spans_in(f"{header} {sentence}" if in_table else sentence)
        )
        before_spans = carried_spans
        spans = own_spans or carried_spans
        # What the next sentences inherit leaves out comparison bases ("环比9月的…").
        carried_spans = carried_spans_in(sentence) if own_spans and not in_table else spans
        carried_spans = carried_spans or before_spans
        if len(own_spans) > 1 and not in_table and re.search(r"[\u4e00-\u9fff]", sentence):
            # "第三季度A收入…，前三季度该产线占比…；" then "B收入…": the period the sentence
            # opens with frames the clauses after it, not the aside written later.
            opening = [span for _, _, span in spans_in(sentence) if span in carried_spans]
            carried_spans = frozenset(opening[:1]) or carried_spans
        mentions = glossary.entity_mentions(sentence)
        if _opens_with_another_organisation(sentence, mentions):
            carried = None  # "理想汽车10月交付…" after a paragraph on 小米: not 小米's
        unnamed = without_names(sentence, mentions)  # where metric words are looked for
        found = extract_quantities(sentence, doc_year)
        quantities = [q for q in found if q.kind != "duration"]
        if in_table:
            assert header is not None
            for q in quantities:
                if sentence[: q.start or 0].count("|") <= 1:
                    continue  # a figure in the row label ("9M25") names the row, it is no value
                facts.append(
                    _table_fact(offset, sentence, header, caption, q, glossary, vocab, carried)
                )
            continue
        clause_starts = _clause_starts(sentence, mentions, found)
        market_clause: int | None = None  # where a clause about a whole market starts
        # A duration is a figure only where a metric of its own clause measures it ("经销商
        # 库存约1.6个月", "payback of 4.5 years"); "未来3个月" is a span of time, not a figure.
        measured = [
            q
            for q in found
            if q.kind == "duration"
            and metric_before(_own_clause_of(unnamed, clause_starts, q), 10**6, vocab) is not None
        ]
        respective = _respective_periods(sentence, quantities)
        owners = _respective_entities(sentence, mentions, quantities)
        for q in sorted([*quantities, *measured], key=lambda q: q.start or 0):
            at = q.start or 0
            clause = max(s for s in clause_starts if s <= at)
            owner, listed_first = owners.get(at, (None, None))
            entity = (
                owner
                or _owner_after(mentions, sentence, q.end or at)
                or _listed_after(mentions, sentence, quantities, q, clause)
                or _first_entity(mentions, clause, at, sentence)
            )
            own_clause = entity is not None and entity != _SHARED
            market: bool | None = None
            if entity is None:  # the subject of the clauses before, in this sentence
                before = [name for s, _, name in mentions if s < clause]
                entity = (
                    _clause_subject(mentions, clause_starts, clause, sentence)
                    if before
                    else carried
                )
            if entity == _SHARED:
                entity = None
            if not own_clause and (
                _names_a_market(sentence[clause:at], glossary)
                or (
                    market_clause is not None
                    and market_clause < clause
                    and not _THE_COMPANY.search(sentence[clause:at])
                )
            ):
                # "1-9月国内动力电池累计装车量493.9GWh": the market's, no company's; and so are
                # the later clauses that name no one ("…NPL ratio was 1.49%, with provision
                # coverage of 211.97%").
                entity, market = None, True
                market_clause = clause if market_clause is None else market_clause
            # A clause that writes a year and no span states a full year ("公司2024年营收
            # 1741.44亿元，…四季度需要提速"): the sentence's other period is not its own.
            dated = bool(_YEAR_WRITTEN.search(sentence[clause:at]))
            # The sentence's one period, unless it dates another figure: then what the
            # headings frame ("NBV was RMB35,724 million, after RMB22,335 million in the first
            # half", under "9M25 wrap").
            framing = framed if _span_is_anothers(sentence, q, quantities) else spans
            if _span_opens_a_later_clause(sentence, q, quantities):
                # "A收入36.34亿元，…，前三季度国际收入占比37%": not A's. Nor the period carried
                # in, when it is the aside's own ("profit rose 20% to US$X, although 3Q25
                # profit grew only 1%": the contrast says the first clause is not about 3Q25).
                framing = before_spans - own_spans
            # English writes a period after its figure ("RMB12.4bn for the nine months, after
            # RMB8.1bn in the first half"), Chinese before it ("前三季度营收…，其中第三季度…").
            ahead, after = period_before(sentence, at), _period_after(sentence, q.end or at)
            english = not re.search(r"[\u4e00-\u9fff]", sentence)
            own = sentence[clause:at]
            if _WHOLE_YEAR_BEFORE.search(own) and not spans_in(own):
                ahead = "fy"  # the clause's own year, not a span of a clause before
            period = ((after or ahead) if english else (ahead or after)) or (
                next(iter(framing)) if len(framing) == 1 and not dated else None
            )
            period = respective.get(at, period)
            facts.append(
                Fact(
                    sentence=offset,
                    quantity=q,
                    entity=entity,
                    own_clause=own_clause,
                    market=market,
                    metric=(
                        None
                        if q.kind in RELATIVE_KINDS
                        else metric_after(unnamed, q.end or at, vocab)
                    )
                    or metric_before(unnamed, at, vocab, relative=q.kind in RELATIVE_KINDS),
                    period=period,
                    # "分别增长34.37%和20.26%": the list's change is each figure's
                    change=change_of(sentence, q)
                    or (change_of(sentence, listed_first) if listed_first else None),
                )
            )
        stated = [f for f in facts if f.sentence == offset]
        # "9月回升至9.66GW，但仍远低于去年同期的20.89GW": beside last year's figure for the same
        # part of the year, an undated figure of the same kind is this year's.
        last_year = {
            (f.period, f.quantity.kind)
            for f in stated
            if doc_year is not None and f.period and f.quantity.year == doc_year - 1
        }
        for i, fact in enumerate(facts):
            if (
                fact.sentence == offset
                and fact.quantity.year is None
                and (fact.period, fact.quantity.kind) in last_year
            ):
                this_year = fact.quantity.model_copy(update={"year": doc_year})
                facts[i] = fact.model_copy(update={"quantity": this_year})
        stated = [f for f in facts if f.sentence == offset]
        if is_heading(sentence):
            carried_metrics = {}  # a new section measures its own things
        elif metric_before(unnamed, len(sentence), vocab) is None:
            for i, fact in enumerate(facts):
                key = (fact.quantity.kind, fact.quantity.currency)
                if fact.sentence == offset and fact.metric is None and key in carried_metrics:
                    facts[i] = fact.model_copy(update={"metric": carried_metrics[key]})
        else:
            carried_metrics = {
                (f.quantity.kind, f.quantity.currency): f.metric
                for f in stated
                if f.metric is not None and f.change is None
            }
        if mentions:  # the next sentence that names no one is about this one's subject
            starts = [0] + [m.end() for m in _CLAUSE_END.finditer(sentence)] + [len(sentence)]
            subject_now = next(
                (
                    name
                    for a, b in zip(starts, starts[1:], strict=False)
                    if (name := _subject_of(mentions, a, b, sentence)) is not None
                ),
                None,
            )
            carried = None if subject_now == _SHARED else subject_now or carried
            if is_heading(sentence) and len({name for _, _, name in mentions}) > 1:
                carried = None  # a heading naming several heads a comparison of them
    return facts


# A whole market rather than the company a note is about: a scope word right before an industry
# word ("国内动力电池累计装车量", "全国新增光伏并网容量", "global EV battery installations"), the
# company not referred to ("公司国内…" is the company's own domestic figure).
_MARKET_SCOPE = re.compile(
    r"全国|国内|全球|全行业|行业|\b(?:nationwide|industry[- ]wide|global|domestic|China's)\b", re.I
)
_THE_COMPANY = re.compile(r"公司|本司|\b(?:the company|the group|its)\b", re.I)


# Periods listed and then given one figure each: "6月、7月、8月分别回落至14.36GW、11.04GW、
# 7.36GW", "in June, July and August 14.4GW, 11.0GW and 7.4GW respectively".
_RESPECTIVELY = re.compile(r"分别|各为|\brespectively\b", re.I)


_Item = TypeVar("_Item")


def _listed_runs(
    sentence: str, items: Sequence[tuple[int, int, _Item]]
) -> list[list[tuple[int, int, _Item]]]:
    """Items (start, end, what) written one after another with list joiners between ("6月、7月、
    8月", "中国东航、南方航空"), grouped into runs, left to right."""
    runs: list[list[tuple[int, int, _Item]]] = []
    for found in sorted(items, key=lambda item: (item[0], item[1])):
        if runs and LIST_JOINER.fullmatch(sentence[runs[-1][-1][1] : found[0]]):
            runs[-1].append(found)
        else:
            runs.append([found])
    return runs


def _one_figure_each(
    sentence: str, quantities: Sequence[Quantity], after: int, count: int
) -> list[Quantity] | None:
    """The `count` figures after position `after`, when they are one list of one kind: not
    "分别增长20%、收入8亿元" or "分别为10GW，全年100GW"."""
    figures = [q for q in quantities if (q.start or 0) >= after][:count]
    if len(figures) < count or len({q.kind for q in figures}) > 1:
        return None
    joined = all(
        LIST_JOINER.fullmatch(sentence[a.end or 0 : b.start or 0])
        for a, b in zip(figures, figures[1:], strict=False)
    )
    return figures if joined else None


def _respective_periods(sentence: str, quantities: Sequence[Quantity]) -> dict[int, Span]:
    """The period of each figure a list of periods gives one by one, by the figure's start."""
    if _RESPECTIVELY.search(sentence) is None:
        return {}
    # the longest run of periods written one after another ("6月、7月、8月")
    listed = max(_listed_runs(sentence, spans_in(sentence)), key=len, default=[])
    if len(listed) < 2 or len({span for _, _, span in listed}) < len(listed):
        return {}
    figures = _one_figure_each(sentence, quantities, listed[-1][1], len(listed))
    if figures is None:
        return {}
    return {q.start or 0: span for q, (_, _, span) in zip(figures, listed, strict=True)}


def _respective_entities(
    sentence: str, mentions: Sequence[tuple[int, int, str]], quantities: Sequence[Quantity]
) -> dict[int, tuple[str, Quantity]]:
    """The owner of each figure a list of names gives one by one ("中国东航、南方航空三季度归母
    净利润同比分别增长34.37%和20.26%", "A and B … respectively"), by the figure's start, with
    the list's first figure (whose words say what all of them are)."""
    if _RESPECTIVELY.search(sentence) is None:
        return {}
    for listed in _listed_runs(sentence, mentions):
        if len(listed) < 2 or len({name for _, _, name in listed}) < len(listed):
            continue
        figures = _one_figure_each(sentence, quantities, listed[-1][1], len(listed))
        if figures is not None:
            return {
                q.start or 0: (name, figures[0])
                for q, (_, _, name) in zip(figures, listed, strict=True)
            }
    return {}


_OPENING_ORGANISATION = re.compile(rf"[\u4e00-\u9fff]{{2,6}}?(?:{ORG_ENDINGS})")
_THE_COMPANY_ITSELF = re.compile(r"公司|本|该|其|旗下|国内|全国|全球|行业|新能源")


def _opens_with_another_organisation(
    sentence: str, mentions: Sequence[tuple[int, int, str]]
) -> bool:
    """Whether a sentence opens with a company's name the glossary does not know ("理想汽车
    10月交付…"): it is about that company, not the one the sentences before were about."""
    opening = _OPENING_ORGANISATION.match(sentence)
    if opening is None or _THE_COMPANY_ITSELF.match(opening.group(0)):
        return False
    return not any(start < opening.end() for start, _, _ in mentions)


def _names_a_market(clause: str, glossary: Glossary) -> bool:
    if _THE_COMPANY.search(clause):
        return False
    if AGGREGATE.search(clause):
        return True
    return any(
        glossary.topics_in(clause[m.end() : m.end() + 12])
        # "Domestic games revenue grew 15%": a company's own account of that part, unless
        # the clause names a market ("国内游戏市场收入")
        and not (FINANCIAL_METRIC.search(clause[m.end() :]) and not _A_MARKET.search(clause))
        for m in _MARKET_SCOPE.finditer(clause)
    )


_A_MARKET = re.compile(r"市场|行业|\b(?:market|industry|sector)\b", re.I)


# What may open a clause before its subject: a connective ("而", "其中", "比如"), the agent
# of a passive ("由A中标": A won it), a date
# or period, or a focus phrase ("增速最快的是X", "份额最低的X").
_SUBJECT_LEAD = re.compile(
    r"^[\s\d一二三四五六七八九十第单年月日季度上下半前后初末底今去明]*"
    r"(?:而|但|且|其中|其次|比如|例如|另外|此外|同时|其|由|while|whereas|and|but|by contrast)?"
    r"\s*$|^.{0,12}的是?\s*$",
    re.IGNORECASE,
)


def _subject_of(
    mentions: list[tuple[int, int, str]], start: int, end: int, text: str
) -> str | None:
    """The entity a clause is about: one it names first, at its start. A name further in is
    an object ("约为X的一半", "相当于X的两倍") and is not what the clauses after it are about."""
    name = _first_entity(mentions, start, end, text)
    if name is None:
        return None
    first = next(m for m in mentions if start <= m[0] < end)
    return name if _SUBJECT_LEAD.match(text[start : first[0]]) else None


_YEAR_WRITTEN = re.compile(r"(?<!\d)20\d{2}(?!\d)|[今去明前]年")


def _span_is_anothers(sentence: str, q: Quantity, quantities: list[Quantity]) -> bool:
    """Whether the sentence's one period is written after another figure of this figure's
    kind: "NBV was RMB35,724 million, up 46.2%, after RMB22,335 million in the first half"
    dates the second amount, not the first."""
    found = spans_in(sentence)
    if not found or q.end is None or found[0][0] < q.end:
        return False
    if _in_a_figures_bracket(sentence[q.end :], found[0][0] - q.end):
        return True  # "HK$21.1bn in the quarter (2Q25: HK$19.4bn)"
    # Or written after a comparison's base of any kind: "rose 30% to RMB Xbn, accelerating
    # from 20% in the June quarter" dates the 20%.
    return any(
        o is not q
        and o.start is not None
        and q.end <= o.start < found[0][0]
        and (o.kind == q.kind or _BASE_BEFORE.search(sentence[q.end : o.start]))
        for o in quantities
    )


_BASE_BEFORE = re.compile(
    r"\b(?:from|than|vs\.?|versus|compared (?:with|to)|against)\s*(?:the\s+)?$", re.IGNORECASE
)


def _span_opens_a_later_clause(sentence: str, q: Quantity, quantities: list[Quantity]) -> bool:
    """Whether a Chinese sentence's periods are all written in clauses after this figure's:
    Chinese writes a period before what it dates, so "体外诊断收入36.34亿元，
    同比下降2.81%，…，前三季度国际收入占比37%" dates the 37%, and the 36.34亿元 keeps the period
    of the clause before. English writes a period after its figure ("…RMB10bn, up 5%, for the
    nine months"), so there it opens a later clause only when a figure of that clause follows
    it: "Revenue rose 11.4% to US$1.23bn, although 3Q25 profit grew only 0.8%" dates the 0.8%."""
    found = spans_in(sentence)
    if not found or q.end is None:
        return False
    clause_end = next((m.start() for m in _CLAUSE_END.finditer(sentence, q.end)), len(sentence))
    if found[0][0] < clause_end:
        return False
    if not re.search(r"[\u4e00-\u9fff]", sentence[: q.start or 0]):
        span_clause_end = next(
            (m.start() for m in _CLAUSE_END.finditer(sentence, found[0][1])), len(sentence)
        )
        return any(
            o.start is not None and found[0][1] <= o.start < span_clause_end for o in quantities
        )
    # Chinese: a period written in a later clause dates what follows it, or is a comparison's
    # base ("单季增速低于前三季度平均水平"), never this figure.
    return True


def _in_a_figures_bracket(tail: str, at: int) -> bool:
    """Whether position `at` of `tail` (the text after a figure) is inside a bracket opened
    after the figure that holds a figure of its own: "(2Q25: HK$19.4bn)", not "(1H25 only)"."""
    opened = max(tail.rfind("(", 0, at), tail.rfind("（", 0, at))
    if opened < 0 or max(tail.rfind(")", 0, at), tail.rfind("）", 0, at)) > opened:
        return False
    inside = re.split(r"[)）]", tail[opened + 1 :])[0]
    for start, stop, _ in reversed(spans_in(inside)):
        inside = inside[:start] + inside[stop:]
    return bool(re.search(r"\d", inside))


def _period_after(text: str, end: int) -> Span | None:
    """A period written right after a figure, in its clause: "RMB167.80bn in 9M25", "RMB
    262bn this year" (a whole year). Not one in a bracket that holds a figure of its own:
    "HK$21.1bn in the quarter (2Q25: HK$19.4bn)" dates the HK$19.4bn."""
    tail = re.split(r"[，,；;。]|\band\b", text[end : end + 30])[0]
    found = [f for f in spans_in(tail) if not _in_a_figures_bracket(text[end:], f[0])]
    if found:
        return found[0][2]
    return "fy" if _WHOLE_YEAR_AFTER.match(tail) else None


# "RMB 262bn this year and RMB 295bn next year": a year named after a figure, no part of it.
_WHOLE_YEAR_AFTER = re.compile(
    # "HK$8bn of buybacks this year": what the amount is of may come between
    r"\s*(?:of\s+[a-z][a-z -]{0,30}?\s+)?(?:for\s+|in\s+)?"
    r"(?:this|next|last|the\s+full|the\s+whole)\s+year\b",
    re.I,
)
# "今年归母净利润9.46亿元", "Last year the company earned RMB 49.00bn": a year named before a
# figure in its clause, no part of it.
_WHOLE_YEAR_BEFORE = re.compile(
    r"(?:今年|明年|去年|后年|本年度?|上年度?)(?!同期|同月|同季)"
    r"|(?<!period )\b(?:last|this|next)\s+year\b(?!'s)",
    re.I,
)


def _clause_subject(
    mentions: list[tuple[int, int, str]], clause_starts: list[int], clause: int, text: str
) -> str | None:
    """The subject of the nearest earlier clause that has one at its start."""
    for start in sorted((s for s in clause_starts if s < clause), reverse=True):
        end = min((s for s in clause_starts if s > start), default=clause)
        name = _subject_of(mentions, start, end, text)
        if name is not None:
            return name
    return None


_PAREN = re.compile(r"[（(]([^（）()]{1,30})[）)]")
_CURRENCY_SCALE = re.compile(
    r"(RMB|CNY|US\$|USD|HK\$|HKD)\s*(bn|mn|million|billion|tn|trillion)\b", re.IGNORECASE
)


def label_unit(*labels: str) -> str | None:
    """The unit a table's labels or caption give its bare numbers: "归母净利润（亿元）",
    "电池片（元/W）", "（单位：亿元）", "(9M25, RMB bn unless stated)". A unit is whatever
    makes a bare number a figure of some kind: nothing is listed."""
    for label in labels:
        for inside in _PAREN.findall(label or ""):
            for part in re.split(r"[,，;；]", inside):
                part = re.sub(r"^\s*单位\s*[:：]\s*", "", part).strip()
                money = _CURRENCY_SCALE.search(part)
                if money:
                    return f"{money.group(1)} 1{money.group(2)}"
                if part and len(part) <= 8 and _unit_kind(part) is not None:
                    return part
    return None


def _unit_kind(unit: str) -> Quantity | None:
    # "RMB 1bn" is a template with the number in place; "亿元" takes it in front.
    parsed = extract_quantities(unit if "1" in unit else f"1{unit}")
    if len(parsed) == 1 and parsed[0].kind not in ("number", "duration"):
        return parsed[0]
    return None


def with_unit(q: Quantity, unit: str | None) -> Quantity:
    """A bare cell number given the unit its labels state: "25.01" under "（亿元）" is
    2,501,000,000 CNY. Offsets and raw text stay the cell's."""
    if unit is None or q.kind != "number":
        return q
    template = _unit_kind(unit)
    if template is None:
        return q
    scale = template.low  # the value of "1" in that unit
    return q.model_copy(
        update={
            "low": q.low * scale,
            "high": q.high * scale,
            "kind": template.kind,
            "currency": template.currency,
            "unit": template.unit,
        }
    )


def _table_fact(
    offset: int,
    row: str,
    header: str,
    caption: str,
    q: Quantity,
    glossary: Glossary,
    vocab: frozenset[str],
    carried: str | None,
) -> Fact:
    """A cell's figure: its column or row label says whom, what and when, and in which unit
    (or the table's caption does)."""
    labels = tables.cell_labels(row, header, q.start or 0)
    # Kept apart: a label may hold commas of its own ("员工人数（人，年末）").
    row_label, column_label = labels or ("", "")
    label = f"{row_label}，{column_label}" if labels else None
    if labels is not None:
        q = with_unit(q, label_unit(row_label, column_label, caption, header.split("|")[1]))
    if label is None:
        context, placed = row, q
    else:
        context = f"{label} {q.raw}"
        placed = q.model_copy(update={"start": len(label) + 1, "end": len(label) + 1 + len(q.raw)})
    labelled = next(
        (m[2] for part in (column_label, row_label) for m in glossary.entity_mentions(part)),
        None,
    )
    caption_spans = spans_in(caption)
    cell_spans = spans_in(tables.cell_at(row, q.start or 0))
    if not cell_spans and _CHANGE_COLUMN.match(column_label.strip()):
        # A change column's figure is of the period its left neighbour states ("US$954m
        # (1H25 only) | +14.5%", or "| 前三季度营收 | 同比 |"): the change of that figure.
        cell_spans = spans_in(tables.cell_at(row, q.start or 0, shift=-1)) or spans_in(
            tables.column_label_at(row, header, q.start or 0, shift=-1)
        )
    metric = metric_before(
        without_names(context, glossary.entity_mentions(context)), placed.start or 0, vocab
    )
    if metric is None and _CHANGE_COLUMN.match(column_label.strip()):
        metric = _metric_to_the_left(row, header, q, vocab)
    return Fact(
        sentence=offset,
        quantity=q,
        entity=labelled or carried,
        own_clause=labelled is not None,
        metric=metric,
        # A period the cell itself states ("US$954m (1H25 only)") is its own, whatever
        # the column's label says; else the labels', else the caption's.
        period=(cell_spans[0][2] if len(cell_spans) == 1 else None)
        or period_before(context, placed.start or 0)
        or (caption_spans[0][2] if len(caption_spans) == 1 else None),
        # The sign is in the cell ("13.01（+9.53%）"), the basis in the labels ("同比").
        change=change_of(context, placed) or change_of(row, q),
    )


def _metric_to_the_left(row: str, header: str, q: Quantity, vocab: frozenset[str]) -> str | None:
    """A change column ("| YoY |", "| 同比 |") measures the metric of the nearest column to
    its left that names one: "| Net profit attributable (RMB bn) | YoY |"."""
    cells = header.split("|")
    column = row[: q.start or 0].count("|")
    for label in reversed(cells[2:column]):  # cells[1] labels the rows
        if (metric := metric_before(label + " ", len(label) + 1, vocab)) is not None:
            return metric
    return None


# A question listing several parties: "零跑、理想、小米分别怎么看", "A and B respectively".
LISTS_SEVERAL = re.compile(r"[、/]|分别|以及|各自|\brespectively\b|\beach\b", re.IGNORECASE)


def _group_name(glossary: Glossary, name: str) -> str | None:
    mentions = glossary.entity_mentions(name)
    return mentions[0][2] if mentions else None


def table_caption(text: str, header: str) -> str:
    """The sentence before a table's header row in a chunk's text ("表2：…（单位：亿元）"):
    what a later chunk that starts inside that table reads its units and period from."""
    before = ""
    for _, sentence in chunk_sentences(text):
        if sentence.strip() == header.strip():
            return before
        if not tables.is_row(sentence) and not tables.is_rule(sentence):
            before = sentence
    return ""


def facts_key(glossary: Glossary) -> str:
    """What stored facts were computed with: this code's version, the entity names and the
    terms, users' and the shipped finance vocabulary (a metric word added to either changes
    which metric a figure measures)."""
    known = [glossary.entities, glossary.terms, finance_terms()]
    digest = hashlib.sha256(json.dumps(known, ensure_ascii=False).encode()).hexdigest()
    return f"{FACTS_VERSION}:{digest[:16]}"


def facts_json(facts: Sequence[Fact]) -> str:
    return json.dumps([f.model_dump(mode="json", exclude_none=True) for f in facts])


def facts_from_json(raw: str) -> list[Fact]:
    return [Fact.model_validate(item) for item in json.loads(raw)]
