"""The query plan: what a question asks, read once from its text.

Names come from the glossary (users' overrides + the notes' own names and the finance
vocabulary), from Latin capitalised words, and from Chinese organisation-shaped subjects; an
acronym of several known companies is marked ambiguous (ask, don't guess). Metrics are the
vocabulary's measured quantities the question names, longest names first.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import cache, cached_property, lru_cache

from rag.dictionary import chinese_forms, company_forms, headwords, is_english_form, tailed_forms
from rag.facts.lexicon import (
    AGGREGATE,
    FINANCIAL_METRIC,
    GROUP,
    ORG_ENDINGS,
    STOCK_CODE,
    place_names,
    short_forms,
)
from rag.facts.periods import (
    Period,
    RelativeTime,
    period_years,
    question_period,
    relative_times,
    spans_in,
)
from rag.glossary import (
    Glossary,
    any_of,
    counted_or_not,
    finance_terms,
    industry_topics,
    mentions,
)
from rag.numbers import Quantity, extract_years
from rag.numbers.lexicon import COUNT_UNITS, MEASURE_UNITS
from rag.retrieve.keyword import tokenize
from rag.types import Language

_ASKS_FIGURE = re.compile(
    r"多少|几|多大|多高|规模|比例|占比|份额|价值|产能|需求|毛利|涨幅|增长|"
    r"how (?:many|much|big|large|high)|number|share|ratio|margin|"
    r"value|demand|capacity|size|revenue|price|cost|reach",
    re.IGNORECASE,
)


ASKS_WHY = re.compile(
    r"原因|为什么|为何|驱动因素|主要因素|\b(?:why|reasons?|what (?:drove|caused|explains?)|driven by)\b",
    re.IGNORECASE,
)
# What a sentence giving a reason writes: "mainly because of …", "主要由于…", "受…影响".
GIVES_REASON = re.compile(
    r"由于|因为|主要因|原因|受.{1,20}影响|得益于|拖累|导致|驱动|带动|"
    r"\b(?:because|due to|owing to|as a result of|driven by|thanks to|on the back of|weighed "
    r"(?:on|down)|reflect(?:s|ed|ing)?|blamed)\b",
    re.IGNORECASE,
)
# Words that make a question ask something other than a figure of the metric it names.
_ASKS_ANYTHING_ELSE = re.compile(
    r"什么|哪|谁|为什么|为何|如何|怎么|怎样|是否|吗|呢|"
    r"\b(?:what|which|who|whom|whose|why|how|when|where|is|are|was|were|does|do|did|can|"
    r"could|will|would|should|has|have|had|explain|describe|list|compare|summari[sz]e)\b",
    re.IGNORECASE,
)


_WHAT_IS = re.compile(
    r"\bwhat (?:is|are|was|were|did|does|do|will|would|has|have|had)\b", re.IGNORECASE
)


# "in 2026" — but not "每台2000元" or "US$2,000": a figure with a unit is not a year.
BARE_YEAR = re.compile(
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
    r"\b(?:growth|grow|grew|increase|decrease|decline|change|yoy|qoq|rise|fall)\b|"
    # "how did that compare with a year earlier", "how many points did it lose"
    r"\bcompar\w*\s+(?:with|to|against)\s+a\s+year\s+(?:earlier|ago|before)\b|"
    r"\b(?:lose|lost|gain|gained)\b|"
    # "up 5%", "down from", but not "add up", "sum up", "up to", "break down"
    r"(?<!\badd )(?<!\badding )(?<!\bsum )(?<!\bsumming )\bup\b(?! to\b)|"
    r"(?<!\bbreak )(?<!\bbroken )\bdown\b",
    re.IGNORECASE,
)


# A name asked: "哪家", "哪个品牌", "which liquor maker", "who" (not "which quarter" or "哪一年").
_NOT_A_NAME = r"(?:年|季度?|月|周|天|时候|时间|阶段)"
ASKS_WHO = re.compile(
    rf"哪家|哪一家|哪些(?!{_NOT_A_NAME})|哪(?:一)?个(?!{_NOT_A_NAME})|谁|"
    r"\bwho\b|\bwhich\b(?!\s+(?:years?|quarters?|months?|periods?|days?|weeks?|halves|half|"
    r"metrics?|figures?|of the (?:years|quarters|months))\b)",
    re.I,
)


LATIN_NAME = re.compile(r"(?<![A-Za-z])[A-Z][a-z]+[A-Za-z]*(?![A-Za-z])")  # SpaceX, not GPU


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
    when: RelativeTime | None = None  # the week or month asked: 本周, last month
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
    # Names the dictionary knows as companies ("Xiaomi": 小米) that no note's lexicon holds:
    # a figure is theirs only from a sentence that names them itself.
    companies: tuple[tuple[str, ...], ...] = ()
    # The part of the company asked about, written before the metric ("Alibaba's cloud unit
    # revenue", "交易服务收入"): a sentence naming it answers over one about the whole.
    segments: tuple[str, ...] = ()
    # The words of what a Chinese question opens with, when that is no name the notes know
    # ("青峰塔2025年…", "风电板块前三季度…"): the retrieved notes must write each of them, or
    # they are about something else (another company's figure would answer it).
    subject_words: tuple[str, ...] = ()
    # Latin names as the question writes them, each with the forms it was read as ("China
    # Southern", 南方航空…): where the question names an entity it knows by another name.
    written: tuple[tuple[str, ...], ...] = ()

    # What kind of answer the text asks for, read once per question (a copy with other text,
    # e.g. a calculation's sub-question, reads its own).
    @cached_property
    def asks_amount(self) -> bool:
        """A figure stated: "多少", "how many", "what share"."""
        return bool(ASKS_AMOUNT.search(self.text))

    @cached_property
    def asks_who(self) -> bool:
        """Which company or party: "哪家", "which supplier", "who"."""
        return bool(ASKS_WHO.search(self.text))

    @cached_property
    def asks_why(self) -> bool:
        """A reason: "主要原因是什么", "为什么", "why did …", "what drove …"."""
        return bool(ASKS_WHY.search(self.text))

    @cached_property
    def asks_aggregate(self) -> bool:
        """A whole sector's or market's figure ("the banking sector's NPL ratio", "行业平均"), or
        a group's ("the four platforms' average growth", "三大航合计"), not which one of it."""
        return bool(AGGREGATE.search(self.text) or (GROUP.search(self.text) and not self.asks_who))

    @cached_property
    def asked_kind(self) -> str | None:
        return asked_kind(self.text)

    @cached_property
    def asked_noun(self) -> str | None:
        return asked_noun(self.text)

    @cached_property
    def asks_per_unit(self) -> bool:
        """An amount per unit ("revenue per TEU", "单车利润"): no total answers it."""
        return asks_per_unit(self.text)

    @cached_property
    def asks_relative(self) -> bool:
        return asks_relative(self.text)

    @classmethod
    def parse(cls, text: str, language: Language, glossary: Glossary) -> Question:
        # The period asked is matched as a period, not as shared words: "前三季度" would
        # otherwise make any nine-month sentence of any note look like the answer.
        unperiodic = without_periods(text)
        terms = set(tokenize(unperiodic))
        # Both languages' forms of the names and terms asked: the note may be in either.
        for alias in glossary.expand(unperiodic, every_language=True):
            terms.update(tokenize(alias))
        years = {m.year for m in extract_years(text)}
        years |= {int(v) for v in BARE_YEAR.findall(text)}
        entities = [tuple(g) for g in glossary.entities_in(text)]
        names: list[tuple[str, ...]] = []
        ambiguous: tuple[str, ...] = ()
        latin = _latin_names(text, glossary)
        for name in latin:
            candidates = acronym_candidates(name[0], glossary) or initials_of(name[0], glossary)
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
            elif not _other_name_of(text, name[0], entities):
                names.append(name)
        if n := _leading_chinese_name(text, glossary):
            names.append(n)
        subject_words = () if n else _leading_subject_words(text, glossary)
        # In the order the question names them: "A higher than B" is A − B.
        entities.sort(key=lambda group: _named_at(text, group, latin))
        # A metric word inside a name is no metric asked: "COSCO Shipping Ports" asks no shipments.
        metrics = asked_metrics(without_names(text, entities), glossary)
        companies = tuple(
            n for n in names if n[1:] and list(n[1:]) == company_forms(n[0]) and n not in entities
        )
        return cls(
            text=text,
            language=language,
            terms=frozenset(terms),
            entities=tuple(entities),
            years=frozenset(years),
            # "What is X's revenue" asks a figure through the metric it names; "what is the
            # brand name" names none and asks a name.
            asks_figure=bool(
                _ASKS_FIGURE.search(text)
                or (_WHAT_IS.search(text) and (metrics or ASKS_CHANGE.search(text)))
                # a terse "Moutai FY26E EPS?" / "茅台明年EPS？" names its metric and nothing else
                or (metrics and not _ASKS_ANYTHING_ELSE.search(text))
            )
            # "How did its revenue change year on year?" asks the change of a metric it names
            and not (
                _ASKS_WHICH.search(text)
                and not ASKS_AMOUNT.search(text)
                and not (metrics and ASKS_CHANGE.search(text))
            )
            # "…大幅下滑，主要原因是什么？" asks why, not how much
            and not (ASKS_WHY.search(text) and not ASKS_AMOUNT.search(text)),
            # An industry word inside a name is no topic: "COSCO Shipping Ports" asks of the company.
            topics=tuple(
                tuple(g)
                for g in glossary.topics_in(without_names(text, entities))
                if not _gives_a_view(text, g)
            ),
            names=tuple(names),
            written=tuple(latin),
            ambiguous=ambiguous,
            specs=specs_in(text),
            period=question_period(text),
            when=asked[-1][1] if (asked := relative_times(text)) else None,
            metrics=metrics,
            metric_vocab=metric_vocab(glossary),
            # a market word inside a name asks no market: 中芯国际 is no 国际 (overseas) figure
            qualifiers=tuple(
                tuple(g)
                for g in glossary.matches(without_names(text, entities), glossary.terms)
                if any(_QUALIFIER.search(a) for a in g)
            ),
            asks_change=bool(ASKS_CHANGE.search(text)),
            subjects=tuple(
                tuple(g)
                for g in glossary.matches(text, glossary.terms)
                if not _is_vocabulary(g) and any(_ACRONYM.fullmatch(a) and a in text for a in g)
            ),
            companies=companies,
            subject_words=subject_words,
            segments=segment_words(text, entities, metrics, glossary),
        )


# What follows the one who gives a view ("券商对南方航空2026年…的预测", "brokers expect …"), or
# comes before it ("according to the broker", "per brokers", "据券商"): an industry word there
# names who forecasts, not the industry asked about.
_VIEW_BEFORE = re.compile(
    r"(?:\b(?:according to|per|by|from|in)(?:\s+the)?(?:\s+\w+)?|据|根据|按)\s*$", re.IGNORECASE
)
_VIEW_AFTER = (
    r"(?:们|普遍|一致)?(?:对.{0,30}?(?:预测|预期|看法|判断|评级|目标价|估值)|预计|预测|预期|认为|估计|看好)"
    r"|s?\s+(?:expect|forecast|estimate|project|see|think|believe|rate)s?\b"
)


def _gives_a_view(text: str, group: Sequence[str]) -> bool:
    """Whether the text names this industry only as whoever gives a view or forecast."""
    spans = [
        m
        for a in group
        for m in re.finditer(rf"(?<![A-Za-z]){re.escape(a)}(?![A-Za-z])", text, re.IGNORECASE)
    ]
    return bool(spans) and all(
        re.match(_VIEW_AFTER, text[m.end() :], re.I) or _VIEW_BEFORE.search(text[: m.start()])
        for m in spans
    )


_ZH_FUNCTION = frozenset(
    "单季 季度 全年 公司 集团 旗下 业务 板块 整体 合计 总体 累计 实现 录得".split()
)
_NO_SEGMENT = frozenset(
    """unit units segment segments business businesses division divisions arm group total
    overall quarterly annual yearly monthly net gross attributable adjusted reported recurring
    operations continuing consolidated headline statutory half-year half-yearly first-half
    second-half nine-month full-year year-to-date interim
    core underlying operating company company's firm's own its their grow grew growth rise rose
    fall fell increase decrease change changed average mean median blended implied""".split()
)


# The part a metric comes from, written after it: "revenue (came) from transaction services".
_PART_END = re.compile(
    r"[?,.;]|\s(?:in|during|for|over|at|by|between|from|since)\s"
    r"|\s(?:generat|contribut|brought|bring|post|report|earn|make|made|deliver)\w*"
)
_PART_AFTER = re.compile(
    r"[a-z -]*?\s+(?:came\s+|comes\s+|come\s+)?from\s+(?:the\s+|its\s+)?"
    r"([a-z][a-z &-]*?)\s*(?=[?.,;]|$|\s(?:in|during|for|of|at|by)\s)"
)


def _metric_at(alias: str, lowered: str) -> re.Match[str] | None:
    if not alias.isascii():
        return None
    return re.search(rf"(?<![a-z-]){re.escape(alias.lower())}\b", lowered)


# "Acme's", "Acme Holdings'" (a name ending in s takes the apostrophe alone)
_POSSESSIVE = r"(?:'s|’s|(?<=s)'|(?<=s)’)"


def segment_words(
    text: str,
    entities: Sequence[Sequence[str]],
    metrics: Sequence[Sequence[str]],
    glossary: Glossary,
) -> tuple[str, ...]:
    """The words naming a part of the company asked about, between its name and the metric:
    "Alibaba's cloud unit revenue" -> cloud; "拼多多三季度交易服务收入" -> 交易服务. Period,
    metric, name and function words are none."""
    import rjieba

    from rag.dictionary import _STOP

    # Of a company's accounts only: before an operating measure the words are what it counts
    # ("集装箱货运量", "人形机器人出货量"), not a part of the company.
    metrics = [g for g in metrics if any(FINANCIAL_METRIC.search(a) for a in g)]
    if not metrics:
        return ()
    aliases = sorted({a for g in metrics for a in g}, key=len, reverse=True)
    names = {a.lower() for g in entities for a in g}
    if not re.search(r"[\u4e00-\u9fff]", text):
        if not entities:
            return ()  # English names the part after the company's possessive
        lowered = text.lower()
        words: list[str] = []
        for alias in names:
            # a part named after the company, then the possessive: "Acme Cloud Music's
            # revenue growth" asks Cloud Music's, not Acme's
            for match in re.finditer(
                rf"(?<![A-Za-z])(?i:{re.escape(alias)})((?:\s+[A-Z][A-Za-z&-]*){{1,3}}){_POSSESSIVE}\s",
                text,
            ):
                if f"{alias} {' '.join(match.group(1).split())}".lower() in names:
                    continue  # a longer name of the same company ("COSCO Shipping Holdings'")
                words += re.findall(r"[a-z][a-z&-]*", match.group(1).lower())
            for match in re.finditer(rf"(?<![a-z]){re.escape(alias)}{_POSSESSIVE}\s+", lowered):
                tail = lowered[match.end() : match.end() + 60]
                ends = [
                    m.start()
                    for a in aliases
                    if a.isascii() and (m := re.search(rf"\b{re.escape(a.lower())}\b", tail))
                ]
                if not ends:
                    # the metric before the name: "the revenue growth of Acme's games and
                    # related services in 3Q25" asks that part's
                    if any(
                        a.isascii()
                        and re.search(rf"\b{re.escape(a.lower())}\b", lowered[: match.start()])
                        for a in aliases
                    ):
                        part = _PART_END.split(tail, maxsplit=1)[0]
                        words += re.findall(r"[a-z][a-z&-]*", part)
                    continue
                words += re.findall(r"[a-z][a-z&-]*", tail[: min(ends)])
                # or after it: "What share of A's revenue came from transaction services?"
                after = _PART_AFTER.match(lowered[match.end() + min(ends) :])
                words += re.findall(r"[a-z][a-z&-]*", after.group(1)) if after else []
        if not words:  # "How much revenue did A generate from net interest income?"
            at = min((m.start() for a in aliases if (m := _metric_at(a, lowered))), default=-1)
            after = _PART_AFTER.match(lowered[at:]) if at >= 0 else None
            words += re.findall(r"[a-z][a-z&-]*", after.group(1)) if after else []
        found = [
            w
            for w in words
            if len(w) >= 3
            and w not in _STOP
            and w not in _NO_SEGMENT
            and w not in names
            and not spans_in(w)
            and not glossary.matches(w, glossary.terms)
        ]
        return tuple(dict.fromkeys(found))
    # (an aside in brackets glosses the part: "广告（营销服务）收入" asks 广告's)
    cut = re.sub(r"[（(][^（）()]*[）)]", "", without_periods(without_names(text, entities)))
    at = min((i for a in aliases if not a.isascii() and (i := cut.find(a)) > 0), default=-1)
    run = re.search(r"[\u4e00-\u9fff]+$", cut[:at]) if at > 0 else None
    if not run:
        return ()
    words = [w for w in rjieba.cut(run.group(0)) if len(w) >= 2 and not spans_in(w)]
    return tuple(
        dict.fromkeys(
            w for w in words if w not in _ZH_FUNCTION and not glossary.matches(w, glossary.terms)
        )
    )


def without_names(text: str, entities: Sequence[Sequence[str]]) -> str:
    """`text` with the entities' names blanked out (longest first)."""
    for alias in sorted({a for g in entities for a in g if len(a) >= 2}, key=len, reverse=True):
        pattern = (
            rf"(?<![A-Za-z]){re.escape(alias)}(?![A-Za-z])" if alias.isascii() else re.escape(alias)
        )
        text = re.sub(pattern, " ", text, flags=re.IGNORECASE)
    return text


def without_periods(text: str) -> str:
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


# A question that counts things: "how many vehicles", "units sold", "sold overseas".
_COUNTS = re.compile(r"\bhow many\b|\b(?:sold|sell|sells|selling|units|volumes?)\b", re.I)


# A question that asks an amount of money: "revenue", "RMB", "US$", "how much money".
_IN_MONEY = re.compile(
    r"\b(?:revenues?|turnover|income|money|value|yuan|rmb|usd|dollars?|bn|billion|million)\b|[$¥]",
    re.I,
)


def asked_metrics(text: str, glossary: Glossary) -> tuple[tuple[str, ...], ...]:
    """The metric groups a question names, longest names first: "net margin" asks 净利率, not
    also the 毛利率 that a bare "margin" would name. A word naming either of two terms
    ("sales") names the counted one when the question counts things."""
    groups = [g for g in glossary.matches(text, glossary.terms) if is_metric_group(g)]
    counted = bool(_COUNTS.search(text))
    in_money = bool(_IN_MONEY.search(text))
    meant: dict[str, str] = {}  # the term a word naming either of two stands for here
    for word, (count_term, other_term) in counted_or_not().items():
        if mentions(text, word):
            meant[count_term if counted else other_term] = word
            if not counted and not in_money:
                meant[count_term] = word  # neither said: the figure's unit decides
                continue
            unchosen = other_term if counted else count_term
            groups = [
                g
                for g in groups
                if unchosen not in g or any(mentions(text, a) for a in g if a.lower() != word)
            ]
    # A word naming any of several terms ("capacity": 产能 or 装机量) asks each, unless a
    # longer name ("production capacity") says which.
    for word, terms in any_of().items():
        if mentions(text, word):
            meant.update({term: word for term in terms if term not in meant})
    groups += [g for g in glossary.terms if set(g) & set(meant) and g not in groups]
    low = text.lower()
    found = [
        (
            g,
            [a.lower() for a in g if a.lower() in low or mentions(text, a)]
            + [meant[a] for a in g if a in meant],
        )
        for g in groups
    ]
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


def read_as_in(phrase: Question, whole: Question) -> Question:
    """A phrase of a question (a calculation's operand) reads a word naming either of two
    terms ("sales") as the whole question does ("…sales was sold overseas": 销量)."""
    for word, terms in counted_or_not().items():
        if not mentions(phrase.text, word):
            continue
        either = [g for g in phrase.metrics if set(g) & set(terms)]
        wanted = [g for g in whole.metrics if set(g) & set(terms)]
        if wanted and either != wanted:
            kept = [g for g in phrase.metrics if g not in either]
            phrase = replace(phrase, metrics=tuple(kept + [g for g in wanted if g not in kept]))
    return phrase


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
    return frozenset(w for w in vocab if w not in asked and any(_holds(a, w) for a in asked))


def narrower_metrics(question: Question) -> frozenset[str]:
    """Metric words of the vocabulary whose names hold an asked one: 归母净利润 for 净利润,
    "net profit attributable" for "net profit". The note's own name for what it reports
    when it gives no figure under the asked name."""
    return _narrower(tuple(a.lower() for g in question.metrics for a in g), question.metric_vocab)


@lru_cache(maxsize=256)
def _narrower(asked: tuple[str, ...], vocab: frozenset[str]) -> frozenset[str]:
    return frozenset(w for w in vocab if w not in asked and any(_holds(w, a) for a in asked))


def _holds(name: str, word: str) -> bool:
    """Whether a metric name holds another metric word ("net profit attributable" holds "net
    profit"; 归母净利润 holds 净利润). Latin words whole: "share" is not inside "shareholders".
    A rate holds no amount: 营业利润率 is no kind of 营业利润, "NPL ratio" no kind of NPL."""
    if _is_rate(name) != _is_rate(word):
        return False
    if word.isascii():
        return re.search(rf"(?<![a-z]){re.escape(word)}(?![a-z])", name) is not None
    return word in name and word != name


def _is_rate(name: str) -> bool:
    from rag.facts.extract import is_relative_metric  # facts import this module

    return is_relative_metric(name)


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
# "400" + "g", so these are matched whole (a generation too: HBM4, DDR5, HBM3E) to tell "400G规格有多少" from the total beside it.
SPEC = re.compile(
    r"(?<![A-Za-z0-9.])(?:[A-Za-z]{1,4}\d{2,4}[A-Za-z]?|[A-Za-z]{3,4}\d[A-Za-z]?|\d+(?:\.\d+)?[A-Za-z])"
    r"(?![A-Za-z0-9])"
)


def specs_in(text: str) -> frozenset[str]:
    return frozenset(m.group(0).lower() for m in SPEC.finditer(text))


_NOT_NAMES = frozenset(
    (
        "what how which who whom whose when where why is are was were does do did will would can "
        "could should the a an in on of for by at to and or but with from as than vs versus per its "
        "it this that these those if q a i relative together compared according give list name tell "
        "show january february march april may june july august september october november december "
        "jan feb mar apr jun jul aug sep sept oct nov dec monday tuesday wednesday thursday friday "
        "us us$ usd rmb cny yuan dollar dollars million billion english please answer reply "
        "u.s. u.k. e.u. u.s.a. p.r.c. "
        # units of measure: "按165GWh计算", "元/Wh"
        "wh kwh mwh gwh twh w kw mw gw tw nm mm cm km kg mt bn mn tn pp bp bps "
        # accounting standards: how a figure is reported, no one's name ("non-GAAP")
        "gaap ifrs non-gaap non-ifrs hkfrs cas"
    ).split()
)


# Where a Chinese question's subject ends: a digit, a particle, punctuation, a period or
# question word, or a verb that starts the predicate.
_SUBJECT_END = re.compile(
    r"[\d\s,，。？?！!、：:（(的和与及在对从]|今年|明年|去年|前年|上半年|下半年|全年|前三季度|"
    r"第?[一二三四]季度|单季|多少|几|哪|什么|如何|怎么|是否|是|为|有|需要|预计|实现|达到|占"
)


_ORG_SHAPE = re.compile(rf"(?:{ORG_ENDINGS})$")


# Words that end the name of one institution, not of an industry (汽车 and 能源 may be either).
_INSTITUTION = re.compile(r"(?:银行|证券|保险|人寿|财险|集团|股份|控股|基金|资本)$")
_COLLECTIVE = re.compile(r"国内|全国|全球|海外|境外|大型|中小|上市|商业|国有|股份制|各家|主要")


def _leading_chinese_name(text: str, glossary: Glossary) -> tuple[str, ...] | None:
    """The organisation a Chinese question opens with ("洋河股份2025年营收…" -> 洋河股份) when
    it is shaped like one and the glossary does not know it: the evidence must then name it,
    or the notes do not cover that company."""
    name = _leading_subject(text, glossary)
    if name is not None and 3 <= len(name) <= 8 and _ORG_SHAPE.search(name):
        # The notes may write the shorter name (零跑汽车 -> 零跑) — unless it is a place or
        # already another company's name (平安银行 is not 中国平安's 平安).
        places = set(place_names())
        shorter = [s for s in short_forms(name) if s not in places and glossary.group_of(s) is None]
        return (name, *shorter)
    return None


def _leading_subject(text: str, glossary: Glossary) -> str | None:
    """The Chinese run a question opens with, up to its period, a question word or the first
    name or term the glossary knows; None when it opens with a known name or term."""
    head = re.match(r"[\u4e00-\u9fff]{2,10}", text.strip())
    if not head:
        return None
    run = head.group(0)
    cut = _SUBJECT_END.search(run)
    name = run[: cut.start()] if cut else run
    entities = glossary.entities_in(name)
    # An institution's name holds place and industry words (中国银行): they end nothing,
    # unless the words before say "which ones" (国内银行, 大型银行 are many banks).
    shaped = not entities and _INSTITUTION.search(name) and not _COLLECTIVE.match(name)
    known = entities + ([] if shaped else glossary.matches(name, glossary.topics + glossary.terms))
    for group in known:  # a known name or term ends the subject where it starts
        for alias in group:
            pos = name.find(alias) if not alias.isascii() else -1
            if pos == 0:
                return None
            if pos > 0:
                name = name[:pos]
    return name if len(name) >= 2 else None


def _leading_subject_words(text: str, glossary: Glossary) -> tuple[str, ...]:
    """The nouns of the run a question opens with (jieba's part-of-speech tags): what it
    asks about, not how ("根据…", "如果…", "表中…" frame the question, they name nothing)."""
    import rjieba

    subject = _leading_subject(text, glossary)
    if subject is None:
        return ()
    tagged = rjieba.tag(subject)
    if tagged and (tagged[0][1][:1] in ("p", "c") or tagged[0][0] in _FRAMING):
        tagged = tagged[1:]  # "根据…", "如果…", "表中…" frame the question; they name nothing
    return tuple(
        word
        for word, tag in tagged
        # function words (adverbs, pronouns, numerals, measure and place words) name nothing
        if len(word) >= 2
        and tag[:1] not in ("p", "c", "u", "d", "r", "m", "q", "f")
        and not word.isascii()
        and word not in _DOCUMENT_PARTS
    )


# The note itself and its parts ("按表格里…算", "纪要里提到…"): where to look, not what about.
_DOCUMENT_PARTS = frozenset(
    "表格 表 图表 纪要 报告 研报 文章 原文 正文 本文 全文 新闻 数据".split()
)


# Verbs and nouns that open a question to frame it, not to name what it asks about.
_FRAMING = frozenset(
    "结合 参考 对比 相比 相较 比较 假设 假定 考虑 综合 基于 依据 按照 表中 文中 上表 下表 图中 截至 截止 "
    "截止到".split()
)


def acronym_candidates(name: str, glossary: Glossary) -> list[list[str]]:
    """Entity groups an acronym the notes never write alone may mean: those with a name that
    starts with it as a word ("PICC" -> "PICC Group", "PICC P&C"). Only all-capital names:
    a word such as "China" starts many names without meaning any of them."""
    if not re.fullmatch(r"[A-Z]{2,6}", name) or glossary.group_of(name) is not None:
        return []
    pattern = re.compile(rf"^{re.escape(name)}[\s&/-]", re.IGNORECASE)
    return [g for g in glossary.entities if any(pattern.match(a) for a in g)]


def initials_of(name: str, glossary: Glossary) -> list[list[str]]:
    """Entity groups whose Latin name's initials an acronym spells ("BoN" -> Bank of Ningbo,
    "CMB" -> China Merchants Bank), with or without its small words."""
    # two letters spell too many names' initials ("SF": Shanxi Fenjiu as well as SF Holding)
    if not re.fullmatch(r"[A-Za-z]{3,6}", name) or sum(c.isupper() for c in name) < 2:
        return []
    wanted = name.lower()
    found = []
    for group in glossary.entities:
        for alias in group:
            words = re.findall(r"[A-Za-z]+", alias) if alias.isascii() else []
            if len(words) < 2:
                continue
            every = "".join(w[0] for w in words).lower()
            content = "".join(w[0] for w in words if w.lower() not in _SMALL_WORDS).lower()
            if wanted in (every, content):
                found.append(group)
                break
    return found


_SMALL_WORDS = frozenset({"of", "and", "the", "&"})


@cache
def _industry_acronyms() -> frozenset[str]:
    return frozenset(a for g in industry_topics() for a in g if _ACRONYM.fullmatch(a))


# Capitalised words written together, joined by "of", "and" or "&" ("Bank of China").
_JOINT_WORDS = re.compile(
    r"(?<![A-Za-z])[A-Z][a-z]+(?:\s+(?:(?:of|and|&)\s+)?[A-Z][a-z]+)+(?![A-Za-z])"
)


def _latin_names(text: str, glossary: Glossary) -> list[tuple[str, ...]]:
    """Names the evidence must mention: every glossary entity the question names (with its
    aliases), and any other capitalised or all-caps Latin word (Oracle, AMD, HBM). Words
    written together are one name: the name the dictionary gives a Chinese form ("China
    Mobile": 中国移动通信, 中国移动), or words next to a known entity that qualify it ("Kweichow"
    Moutai), or else one name per word."""
    names = [tuple(g) for g in glossary.entities_in(text)]
    rest = text
    # Words the dictionary knows together as one name, before any of them reads as a term
    # ("Bank of China" is one name, not "Bank" and "China").
    known = text
    for alias in sorted({a for g in names for a in g if a.isascii()}, key=len, reverse=True):
        known = re.sub(rf"(?<![A-Za-z]){re.escape(alias)}(?![A-Za-z])", _KNOWN, known)
    # (not inside a known name: "Agricultural Bank of China")
    for joint in _JOINT_WORDS.finditer(known):
        # The longest runs of the words the dictionary knows: "In China Mobile's" -> China
        # Mobile; "China Southern and Air China" -> both.
        words = joint.group(0).split()
        i = 0
        while i < len(words):
            found = next(
                (
                    (phrase, forms)
                    for size in range(len(words) - i, 1, -1)
                    if words[i][0].isupper() and words[i + size - 1][0].isupper()
                    if (
                        forms := abbreviated_like(phrase := " ".join(words[i : i + size]), glossary)
                        or chinese_forms(phrase)
                        or tailed_forms(phrase)
                    )
                ),
                None,
            )
            if found:
                names.append((found[0], *found[1]))
                rest = rest.replace(found[0], " ")
                i += len(found[0].split())
            else:
                i += 1
    # A shipped industry word's abbreviation ("PV", "LFP") stays a name the notes must write:
    # its words are matched as a topic, its letters not spelled out (PV is also present value).
    aliases = sorted(
        {a for g in glossary.matches(rest) for a in g if a not in _industry_acronyms()},
        key=len,
        reverse=True,
    )
    entity_aliases = {a for g in glossary.entities_in(text) for a in g}
    for alias in aliases:  # longest first: "Alibaba Cloud" before "Alibaba"
        mark = _KNOWN if alias in entity_aliases else " "
        if alias.isascii():
            pattern = rf"(?<![A-Za-z]){re.escape(alias)}(?:s|es)?(?![A-Za-z])"
            rest = re.sub(pattern, mark, rest, flags=re.IGNORECASE)
        else:
            rest = rest.replace(alias, mark)
    runs: list[list[re.Match[str]]] = []
    # dotted initials and ampersand names are names too: "S.F. Holding", "J&T Express"
    for match in re.finditer(r"(?:[A-Z]\.){2,}|[A-Z]&[A-Z]+|[A-Za-z][A-Za-z0-9']*", rest):
        word = re.sub(r"'s?$", "", match.group(0))
        sentence_start = (
            not rest[: match.start()].strip() or rest[: match.start()].rstrip()[-1] in ".?!:;"
        )
        if (
            (sentence_start and not word.isupper() and not _opens_a_name(text, match, glossary))
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
        # A company the dictionary names ("Xiaomi" -> 小米): the notes may write it in Chinese.
        whole = " ".join(words)
        if forms := company_forms(whole):
            names.append((whole, *forms))
            continue
        if group := spelled_like(words, glossary):  # "Kweichow Moutai" for "Guizhou Maotai"
            names.append((whole, *group))
            continue
        names += [
            (w, *company_forms(w)) if company_forms(w) else (w, w[:-1]) if w.endswith("s") else (w,)
            for w in words
        ]
    return names


_KNOWN = "\x00"  # where a known name stood in the question


def _opens_a_name(text: str, match: re.Match[str], glossary: Glossary) -> bool:
    """Whether a capitalised word opening a sentence is a name rather than the sentence's
    first word: terse questions start with the company ("Moutai 9M25 revenue?", "Juneyao
    Airlines net profit?"). It is when it spells a company the notes name, or when the next
    word is capitalised too."""
    word = re.sub(r"'s?$", "", match.group(0))
    if word.lower() in _NOT_NAMES:
        return False
    if spelled_like([word], glossary) or any(c.isupper() for c in word[1:]):
        return True  # a spelling of a known name, or capitals inside it ("BoN", "AgiBot")
    if company_forms(word) or not is_english_form(word):
        return True  # a brand the dictionary knows, or no English word ("Nexchip 3Q25 …?")
    # (read in the question as written: a term after it, "Airlines", is blanked in `rest`)
    following = re.search(rf"(?<![A-Za-z]){re.escape(word)}'?s?[ \t]+([A-Z][a-z]+)", text)
    return following is not None and following.group(1).lower() not in _NOT_NAMES


def _other_name_of(text: str, name: str, entities: Sequence[tuple[str, ...]]) -> bool:
    """Whether the question writes `name` in brackets beside a known company's, or that one
    beside it ("BeOne (BeiGene)", "BeiGene (now BeOne)"): its other name, not another company."""
    for alias in (a for group in entities for a in group):
        pair = (re.escape(alias), re.escape(name))
        for outer, inner in (pair, pair[::-1]):
            if re.search(rf"{outer}\s*[(（][^()（）]{{0,12}}?\b{inner}\s*[)）]", text, re.I):
                return True
    return False


# Romanisations of one Chinese name differ by a letter or two (postal "Moutai" and pinyin
# "Maotai", "Luzhou Laojiao" and "Lu Zhou Lao Jiao"); two different companies' names rarely
# come this close (Haitian / Haitai: 0.77).
_SPELLED_LIKE = 0.8


def spelled_entities(text: str, glossary: Glossary) -> list[list[str]]:
    """The entities a question names by another romanisation than the notes' ("Kweichow
    Moutai" for Guizhou Maotai): retrieval reads their notes as it would for a known name."""
    known = glossary.entities_in(text)
    out: list[list[str]] = []
    for name in _latin_names(text, glossary):
        group = glossary.group_of(name[1]) if len(name) > 1 else None
        # a spelling, not a name the glossary matched in the text itself
        if (
            group is not None
            and group in glossary.entities
            and group not in known + out
            and not mentions(text, name[1])
        ):
            out.append(group)
    return out


_CHINA_PREFIX = ("中国", "中华")
_CJK_NAME = re.compile(r"[\u4e00-\u9fff]{2,}")


def abbreviation_keys(name: str) -> set[str]:
    """The forms a Chinese company name is also written in: without a leading 中国 (中国国航 is
    国航) and, for four characters, the first character of each two-character word (南方航空
    is 南航, 建设银行 建行), the way Chinese shortens names."""
    if not _CJK_NAME.fullmatch(name):
        return set()
    keys = {name}
    for prefix in _CHINA_PREFIX:
        if name.startswith(prefix) and len(name) - len(prefix) >= 2:
            keys.add(name[len(prefix) :])
    keys |= {k[0] + k[2] for k in list(keys) if len(k) == 4 and not k.startswith(_CHINA_PREFIX)}
    return keys


def abbreviated_like(name: str, glossary: Glossary) -> list[str]:
    """The one entity of the notes that a dictionary's Chinese name for an English one is a
    full or short form of ("China Southern Airlines": 南航, written 南方航空; "China Eastern
    Airlines": 东方航空, written 中国东航); [] when none is, or several are."""
    asked = {k for head in headwords(name) for k in abbreviation_keys(head)}
    if not asked:
        return []
    matches = [
        group
        for group in glossary.entities
        if any(abbreviation_keys(alias) & asked for alias in group)
    ]
    return list(matches[0]) if len(matches) == 1 else []


def spelled_like(words: Sequence[str], glossary: Glossary) -> list[str] | None:
    """The one entity whose Latin name (its own, or a pinyin form read at ingest) is spelled
    like the question's name or one word of it ("Moutai" ~ "Maotai"); None when none is, or
    when two entities are equally close."""
    from difflib import SequenceMatcher

    def key(text: str) -> str:
        return re.sub(r"[^a-z]", "", text.lower())

    asked = {key(w) for w in [" ".join(words), *words]}
    asked = {a for a in asked if len(a) >= 5}
    # A word some entity's name writes is that entity's word, not a misspelling of another's
    # ("COSCO" of "COSCO Shipping" is not "Cisco"): its entity's when only one writes it. An
    # English word is no one's ("Smart" of "TCL Smart Home" is not Haier Smart Home's).
    own = asked & {key(" ".join(words))} if len(words) > 1 else set()
    own |= {key(w) for w in words if len(key(w)) >= 5 and not is_english_form(w)}
    writing = [
        group
        for group in glossary.entities
        if own & {key(w) for a in group if a.isascii() for w in [a, *a.split()]}
    ]
    if writing:
        return list(writing[0]) if len(writing) == 1 else None
    scores: dict[int, float] = {}
    for index, group in enumerate(glossary.entities):
        for alias in group:
            if not alias.isascii() or len(key(alias)) < 5 or not alias[:1].isalpha():
                continue
            for a in asked:
                ratio = SequenceMatcher(None, a, key(alias)).ratio()
                if ratio >= _SPELLED_LIKE:
                    scores[index] = max(scores.get(index, 0.0), ratio)
    if not scores:
        return None
    ranked = sorted(scores.items(), key=lambda item: -item[1])
    if len(ranked) > 1 and ranked[1][1] >= ranked[0][1] - 0.05:
        return None  # as close to two companies: not a spelling of either
    return list(glossary.entities[ranked[0][0]])


_EN_COUNTED = re.compile(r"how many\s+(?:of\s+\S+\s+)?([A-Za-z][A-Za-z0-9-]*)", re.I)


_ZH_COUNTED = re.compile(
    r"多少(?:根|条|台|颗|片|个|套|块|张|家)([A-Za-z][A-Za-z0-9-]*|[\u4e00-\u9fff]{2,4})"
)


_NOT_NOUNS = frozenset(
    "more less fewer units unit times of the are is were was will do does".split()
)


# "How many AEC cables will…": the plural noun a count question counts, in English words.
_EN_COUNTED_PHRASE = re.compile(
    r"\bhow many\s+((?:[A-Za-z0-9-]+\s+){0,2}?[a-z][a-z-]*s)\b(?=\s+(?:will|would|did|does|do|are|"
    r"is|was|were|has|have|had|can|could|should|in|of|for|at|from|to|does)\b|\s*[?？]|$)",
    re.I,
)


def counted_in_english(text: str) -> str | None:
    """The plural noun an English count question counts: "How many AEC cables will…" ->
    "cables"; None for a question that counts nothing by name."""
    match = _EN_COUNTED_PHRASE.search(text)
    return match.group(1).split()[-1] if match else None


def asked_noun(text: str) -> str | None:
    """The thing a count question counts: "How many TPUs…" -> "TPU", "多少颗TPU" -> "TPU"."""
    match = _EN_COUNTED.search(text) or _ZH_COUNTED.search(text)
    if not match:
        return None
    word = match.group(1)
    if word.startswith(("百分", "倍")):
        return None  # "多少个百分点" asks a measure, not a thing
    if word.isascii():
        # Only names (TPU, AEC, GPUs): a common English noun ("cables") has no Chinese spelling
        # in the notes to look for.
        if word.lower() in _NOT_NOUNS or not any(ch.isupper() for ch in word[1:]):
            return None
        if word.endswith("s") and len(word) > 3:
            word = word[:-1]
    return word


_ASKS_MONEY = re.compile(
    r"多少(?:[万亿千百]|百万|千万)?(?:美元|港元|欧元|元|钱|人民币)|单价|价格|售价|how much (?:money|does .{1,40} cost)|\bprice\b|\bcost\b"
    # an amount per unit ("revenue per TEU", "单车利润"): never a count of those units
    r"|\b(?:revenue|sales|profit|income|earnings|margin)s?\s+(?:per|a|each)\s+[A-Za-z]"
    r"|[单每][\u4e00-\u9fff]?(?:收入|营收|利润|净利|盈利|毛利)"
    # a sum of money by name ("对外授权总额", "销售额", "deal value"), never a count of deals
    r"|金额|总额|销售额|交易额|订单额|\b(?:deal|contract|transaction|order) values?\b"
    r"|\btotal value\b|\bvalue of (?:the |all |its |their )?(?:\w+ )?(?:deals?|contracts?|orders?|transactions?)\b",
    re.I,
)


# An amount per unit: "revenue per TEU", "单车利润", "每股收益", "均价".
# 单/每 before any measure word (量词) or measure ("单瓶", "每吨", "单GWh"): an amount per unit
# ("单位", a unit of account, is none).
_ASKS_PER_UNIT = re.compile(
    r"\bper\s+(?!cent\b|the\b)[A-Za-z]|单价|均价|(?:单(?!位)|每)(?:车|股|瓦时|"
    + "|".join(sorted((*COUNT_UNITS, *MEASURE_UNITS), key=len, reverse=True))
    + ")",
    re.I,
)
# ("per the broker" is according to it, no unit)
# (单 opens an amount per unit before a measure word, "单车", "单GWh", not inside 订单 or 保单)
_PER_UNIT_BEFORE = re.compile(
    r"\bper\b(?!\s+the\b)|\beach\b|每(?!季|月|年|日|周)|均价|单价|/|"
    r"(?<![订账清名保菜表买下接抢签])单(?=车|股|瓦时|[A-Za-z]|"
    + "|".join(sorted((*COUNT_UNITS, *MEASURE_UNITS), key=len, reverse=True))
    + ")",
    re.I,
)
_PER_UNIT_AFTER = re.compile(r"^\s*(?:per\b|each\b|/|／|每)", re.I)


def asks_per_unit(text: str) -> bool:
    return bool(_ASKS_PER_UNIT.search(text))


# What an amount is per: "per Wh", "每瓶", "单车", "元/Wh".
_PER_WHAT = re.compile(
    r"\bper\s+([A-Za-z]+)|(?:单(?!位)|每)\s*([A-Za-z]+|[\u4e00-\u9fff])|[/／]\s*([A-Za-z]+|[\u4e00-\u9fff])",
    re.I,
)


def per_what(text: str) -> str | None:
    """The unit an amount per unit is per, as written ("Wh", "瓶", "vehicle"), if any."""
    match = _PER_WHAT.search(text)
    return next((g for g in match.groups() if g), None) if match else None


def stated_per(text: str, q: Quantity) -> str | None:
    """The unit a stated amount per unit is per: its own ("0.45元/Wh"), or its clause's
    ("单车成本优势…3,000元", "US$1,280 per TEU")."""
    if q.unit and "/" in q.unit:
        return q.unit.split("/")[-1].strip() or None
    start, end = q.start or 0, q.end or 0
    clause = re.split(r"[，,；;。]", text[max(0, start - 40) : start])[-1]
    return (
        per_what(text[end : end + 12])
        if _PER_UNIT_AFTER.match(text[end : end + 8])
        else per_what(clause)
    )


def same_per(asked: str, stated: str) -> bool:
    """Whether two per-units can be one: a unit symbol (Wh, TEU) is only itself, never a
    measure word (车) or another symbol. Words are not compared: 单车 is 元/辆, "per vehicle"
    may be either."""
    if asked.lower() == stated.lower():
        return True
    return not any(u.isascii() and (u in MEASURE_UNITS or not u.islower()) for u in (asked, stated))


def states_per_unit(text: str, q: Quantity) -> bool:
    """Whether a figure is an amount per unit: "0.45元/Wh", "US$1,280 per TEU", "单车均价约26万元",
    "revenue per TEU was US$1,280" (in its clause)."""
    if q.unit and "/" in q.unit:
        return True
    start, end = q.start or 0, q.end or 0
    if _PER_UNIT_AFTER.match(text[end : end + 8]):
        return True
    clauses = re.split(r"[，；;。]|,(?!\d{3})", text[:start])  # not "1,280"
    # a figure set against the one before ("US$1,280 in 3Q25, against US$1,759 in 3Q24")
    # measures what that one does
    if len(clauses) > 1 and _ONLY_A_LINK.fullmatch(clauses[-1]):
        return bool(_PER_UNIT_BEFORE.search(clauses[-2]))
    return bool(_PER_UNIT_BEFORE.search(clauses[-1][-40:]))


_ONLY_A_LINK = re.compile(
    r"\s*(?:against|versus|vs\.?|compared (?:with|to)|(?:up |down )?from|and|or|对比|相比|较)?\s*",
    re.I,
)


_ASKS_COUNT = re.compile(r"多少(?:根|条|台|颗|片|个|套|家|万根|万台)|how many\b", re.I)


_ASKS_SHARE = re.compile(
    r"百分点|比例|占比|份额|percentage|percent|%|\bshare\b|\bfraction\b|\bratio\b", re.I
)


# A share, proportion or multiple asked: only a relative figure answers it, never one of the
# amounts it would be computed from ("占…比重" is not the 239.53GW of the whole).
_ASKS_RELATIVE = re.compile(
    r"比重|占比|份额|百分比|占.{1,30}比例|多少倍|几倍|"
    r"\b(?:share of|proportion of|percentage of|what percent(?:age)?|how many times)\b|"
    # "its international revenue share", "market share" (not a share's price or count)
    r"(?<!per )\bshare\b(?!\s*(?:price|buyback|count|capital|repurchase|issu))|"
    # a rate or margin (毛利率, 客座率, net margin, load factor): never an amount
    r"(?<!汇)率(?!先)|\b(?:margins?|ratios?|load factors?)\b",
    re.I,
)
# "How much did its price change …, in percent?": a percentage asked, whatever it is of.
# "百分之几" after a verb of change ("扩了百分之几") asks a percentage change; "…的百分之几" a
# share, which SHARE_AS_PERCENT_ZH computes from its two amounts.
_IN_PERCENT = re.compile(
    r"百分之多少|[增降涨跌扩缩升减长]了?百分之几|\bin (?:exact )?percent(?:age)?(?: terms)?\b", re.I
)


def asks_relative(text: str) -> bool:
    """Whether a question asks a share or a multiple, not an amount ("按1:1.25的比例需要多少根"
    asks the count)."""
    if _IN_PERCENT.search(text):
        return True
    return bool(_ASKS_RELATIVE.search(text)) and not (
        _ASKS_MONEY.search(text) or _ASKS_COUNT.search(text)
    )


# A year named relative to the note's own date ("明年", "next year"): the note's 明年(2026年).
_RELATIVE_YEARS = (
    (re.compile(r"前年|\bthe year before last\b", re.I), -2),
    (
        re.compile(
            r"去年|上一?年|\b(?:last|previous|prior) year\b|\ba year (?:earlier|ago|before)\b",
            re.I,
        ),
        -1,
    ),
    (re.compile(r"今年|本年|\bthis year\b|\bcurrent year\b", re.I), 0),
    (re.compile(r"明年|下一?年|\bnext year\b|\bcoming year\b", re.I), 1),
)


# A year a change is measured against, not the year asked: "versus a year earlier", "compared
# with last year", "较去年同期".
_BASE_YEAR = re.compile(
    r"\b(?:versus|vs\.?|compar\w*\s+(?:with|to)|than|from|against|over|relative\s+to)\s+"
    r"(?:the\s+)?(?:a\s+year\s+(?:earlier|ago|before)|(?:last|previous|prior)\s+year)\b|"
    r"[较比同]去年同期|较去年",
    re.I,
)


def relative_year(text: str) -> int | None:
    """The years from a note's own year a question names ("明年" +1, "last year" -1), None
    when it names none or several, or also a year by number. A year a change is measured
    against ("versus a year earlier") is no year asked."""
    text = _BASE_YEAR.sub(" ", text)
    if extract_years(text) or BARE_YEAR.search(text) or period_years(text):
        return None
    found = {offset for pattern, offset in _RELATIVE_YEARS if pattern.search(text)}
    return found.pop() if len(found) == 1 else None


_ASKS_POINTS = re.compile(
    r"多少个?百分点|几个百分点|\bhow many (?:percentage points?|pp|pct|bps?|basis points?)\b",
    re.I,
)


_ASKS_MULTIPLE = re.compile(
    r"(?:多少|几)倍|\bhow many times\b|\bwhat multiple\b|\bas a multiple\b", re.IGNORECASE
)


def asked_kind(text: str) -> str | None:
    """The kind of figure a question explicitly asks for ("多少美元" -> money), if any."""
    if _ASKS_POINTS.search(text):
        return "percentage_points"  # "by how many percentage points did it rise": no level
    if _ASKS_SHARE.search(text):
        return None  # a share may come as %, a ratio or a fraction: no single kind to require
    if _ASKS_MULTIPLE.search(text):
        return "multiple"  # "是2022年的多少倍": a multiple, never the share beside it
    if _ASKS_MONEY.search(text):
        return "money"
    if _ASKS_COUNT.search(text) and not re.search(r"百分点|percentage point|percent|%", text, re.I):
        return "count"
    return None


def display_name(question: Question, group: Sequence[str]) -> str:
    """How an answer names an entity: in English, as the question writes it ("ICBC", "China
    Southern"), else its first Latin alias that is no stock code; in Chinese, as the question
    writes it, else its first Chinese name (a note in English lists "China Merchants Bank"
    first), else its first name."""
    if question.language != "en":
        return next(
            (a for a in group if a in question.text),
            next((a for a in group if re.search(r"[\u4e00-\u9fff]", a)), group[0]),
        )
    written = _written_as(question.written, group)
    latin = [a for a in group if a.isascii() and not (STOCK_CODE.fullmatch(a) or a.isdigit())]
    return next(
        (a for a in latin if mentions(question.text, a)),
        next(iter(written), next(iter(latin), group[0])),
    )


def text_about(question: Question, group: Sequence[str]) -> str:
    """The question's text without the other companies it names: what to retrieve for this
    one alone when the shared retrieval brought too little of it."""
    text = question.text
    for other in question.entities:
        if other != tuple(group):
            for alias in sorted(
                [*other, *_written_as(question.written, other)], key=len, reverse=True
            ):
                text = re.sub(rf"(?<![A-Za-z]){re.escape(alias)}(?![A-Za-z])", "", text, flags=re.I)
    return text


# Where a question's clauses part: "…是多少？同比增长多少？", "…多少，增速多少", "revenue, YoY?",
# "volume and YoY growth?".
_CLAUSE_BREAK = re.compile(r"\s*[？?，,；;：:]\s*(?:and\s+)?|\s+and\s+|以及|及其")


def level_and_change(question: Question, glossary: Glossary) -> tuple[Question, Question] | None:
    """A figure and its change asked together ("中芯国际三季度收入多少，同比增长多少？", "SF Sept
    volume and YoY growth?"): (the level asked, the change asked), each read with the whole
    question's company, metric and period. None when the question asks one figure."""
    text = question.text.rstrip(" ？?。.!！")
    if not question.asks_change or not question.asks_figure:
        return None
    asked = {a for g in question.metrics for a in g}
    for brk in _CLAUSE_BREAK.finditer(text):
        head, tail = text[: brk.start()], text[brk.end() :]
        if not tail.strip() or ASKS_CHANGE.search(head) or not ASKS_CHANGE.search(tail):
            continue
        asks_level = ASKS_AMOUNT.search(head) or _WHAT_IS.search(head)
        if not (asks_level or len(tail) <= 24 or asked_metrics(head, _GENERAL)):
            continue  # the first clause asks no figure ("By how much…, and …")
        tail_metrics = {a for g in asked_metrics(tail, _GENERAL) for a in g}
        if tail_metrics and not tail_metrics & asked:
            continue  # the change of another metric ("营收多少，利润增长多少")
        # The first clause is read on its own, its market its own: "甲10月销量多少？海外销量
        # 同比增长多少？" asks all sales, then the overseas change. The company and period
        # the question gives once are the same for both.
        level = Question.parse(head, question.language, glossary)
        level = replace(
            level,
            asks_change=False,
            asks_figure=True,
            entities=level.entities or question.entities,
            names=level.names or question.names,
            period=level.period or question.period,
            years=level.years or question.years,
        )
        return level, question
    return None


def per_entity_questions(question: Question) -> list[Question]:
    """A figure question naming several companies ("What were A's and B's Q3 revenues?") as
    one question per company, each with only its own names: answered one by one, never
    merged into one figure."""
    if len(question.entities) < 2 or not question.asks_figure or not _coordinated(question):
        return []
    out = []
    for group in question.entities:
        aliases = {a.lower() for a in group}
        out.append(
            replace(
                question,
                entities=(group,),
                names=tuple(n for n in question.names if {a.lower() for a in n} & aliases),
            )
        )
    return out


_CONJUNCTION = re.compile(r"^\s*(?:'s|’s)?\s*(?:和|与|及|以及|、|,|，|&|and|as well as)\s*$", re.I)


def _coordinated(question: Question) -> bool:
    """Whether the companies are listed side by side ("山西汾酒和五粮液", "A's and B's"): one
    figure each is asked. "通过工业富联给英伟达出货" names two in one relation: one figure."""
    starts = []
    for group in question.entities:
        spelled = _written_as(question.written, group)
        found = [
            (m.start(), m.end()) for a in [*group, *spelled] for m in [_find(question.text, a)] if m
        ]
        if not found:
            return False
        starts.append(min(found, key=lambda span: (span[0], -span[1])))  # its longest name there
    starts.sort()
    return all(
        _CONJUNCTION.match(question.text[a_end:b_start])
        for (_, a_end), (b_start, _) in zip(starts, starts[1:], strict=False)
    )


def _named_at(text: str, group: Sequence[str], names: Sequence[Sequence[str]]) -> int:
    """Where the question first names an entity: by one of its aliases, or by the name it
    was read from ("Kweichow Moutai")."""
    found = [
        m.start() for alias in [*group, *_written_as(names, group)] if (m := _find(text, alias))
    ]
    return min(found, default=len(text))


def _written_as(names: Sequence[Sequence[str]], group: Sequence[str]) -> list[str]:
    """The question's own words for an entity it names by another name ("China Southern" for
    南方航空): the first of each Latin name read as that entity."""
    return [n[0] for n in names if len(n) > 1 and group[0] in n[1:]]


def _find(text: str, alias: str) -> re.Match[str] | None:
    if alias.isascii():
        return re.search(rf"(?<![A-Za-z]){re.escape(alias)}(?![A-Za-z])", text, re.I)
    return re.search(re.escape(alias), text)
