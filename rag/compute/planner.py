"""Deterministic calculation planner: the common analyst questions, computed by the calculator.

Growth between two years, sums over named entities, differences, applying a stated ratio and
range midpoints are recognised from the question's words; each operand is looked up as a
figure of a cited evidence sentence (never typed by a model) and the answer is composed in code
with the formula and the citations of every operand.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from langchain_core.documents import Document

from rag.compute.calculator import (
    CalcResult,
    CalculatorError,
    annualise,
    apply_ratio,
    average,
    cagr,
    check_operands,
    difference,
    growth_rate,
    midpoint,
    multiply,
    per_unit,
    percent_change,
    ratio,
    share,
    spread,
    total,
    work_back,
)
from rag.compute.ranking import declined_before
from rag.dictionary import english_in
from rag.facts.extract import SEQUENTIAL, Fact, states_change
from rag.facts.periods import (
    Period,
    RelativeTime,
    Span,
    question_period,
    relative_times,
    spans_in,
    years_in,
)
from rag.glossary import Glossary
from rag.numbers import Quantity, extract_quantities, render, same_value
from rag.pick.choose import (
    about_entity,
    best_quantity,
    named_beside,
    named_specs,
    named_topics,
    names_any,
    names_the_companies,
    specs_of,
)
from rag.pick.evidence import Evidence, facts_of, metric_of, select_evidence
from rag.pick.series import listed_part_asked, of_series_asked, series_words, share_a_word
from rag.plan.question import (
    ASKS_CHANGE,
    Question,
    display_name,
    read_as_in,
    text_about,
)
from rag.types import ToolCall

# English intent words match whole words only ("assumed" is no sum, "Singapore" no gap).
GROWTH = re.compile(
    r"增长|增速|增幅|增加|增量|涨幅|\b(?:grow\w*|growth|increas\w*|ris(?:e|es|ing))\b", re.I
)
SUM = re.compile(
    r"合计|总共|一共|加起来|总和|总计|相加|"
    r"\b(?:combined|in total|total|sum|altogether|together|adding|add(?:s|ed)? up)\b",
    re.I,
)
DIFFERENCE = re.compile(
    r"相差|之差|差值|差多少|差距|多多少|少多少|多出|高多少|低多少|比.{1,24}(?:多|少|高|低|大|小|快|慢)|"
    r"\b(?:difference|differ\w*|how much more|how many more|gap|separat(?:e|es|ed|ing))\b|"
    # "by how many units did A out-ship B", "outsold", "out-earned"
    r"\bout-?(?:ship|sold|sell|earn|grew|grow|pac|perform|deliver|produc)\w*|"
    r"\b(?:larger|bigger|higher|greater|more|lower|smaller|less|fewer)\b.{0,40}\bthan\b",
    re.I,
)
# "四家银行的平均净息差", "the simple average NIM across A, B and C": the mean of each one's.
AVERAGE = re.compile(r"平均|均值|月均|\b(?:average|mean)\b", re.I)
_VERSUS = re.compile(r"对比|相比|较|\b(?:versus|vs\.?|compared?)\b", re.I)
SUM_LEADS, AVERAGE_LEADS = ("Together", "合计"), ("An average of", "平均")
MIDPOINT = re.compile(r"中值|中间值|中性值|中位|中点|midpoint|mid-point|middle of the range", re.I)
APPLY_RATIO = re.compile(
    r"(?:按|根据|以).{0,30}比例|对应多少|换算|ratio.{0,40}(?:how many|correspond|imply|translate)|(?:how many|correspond).{0,40}ratio",
    re.I,
)
RATIO_NAMES = re.compile(
    r"([A-Za-z]{2,10})\s*(?:与|和|:|：|/|to)\s*([A-Za-z]{2,10})\s*(?:的)?\s*(?:比例|比率|ratio)",
    re.I,
)

# "Rubin减少40%后", "cut by 40%": a stated change applied to a figure.
CHANGE = re.compile(
    r"(减少|降低|下降|下调|缩减|减|增加|提高|提升|增长|上调|上升)(?:了|约|大约)?\s*"
    r"(\d+(?:\.\d+)?\s*[%％])|"
    r"\b(cut|reduc\w*|lower\w*|decreas\w*|drop\w*|fall\w*|increas\w*|rais\w*|grow\w*|ris\w*)"
    r"\s+(?:(?:[\w'-]+\s+){0,4}?by\s+)?(?:about\s+|around\s+)?(\d+(?:\.\d+)?\s*%)",
    re.I,
)
_DECREASE = re.compile(r"减|降|下|缩|cut|reduc|lower|decreas|drop|fall", re.I)
# "按每台2000元、出货5-10万台计算", "at the 20% share, what value": figures to multiply.
PRODUCT = re.compile(
    r"按.{0,40}(?:计算|算)|乘以|×|对应(?:的)?(?:价值|金额|收入|营收|市场)|"
    r"\bat (?:the |a |an )?(?:\S+ )?\d+(?:\.\d+)?\s*%|\btimes\b|\bmultipl",
    re.I,
)
# "美墨工厂和泰国工厂的AEC产能合计": the parts of a sum that are not glossary names.
SUM_PARTS = re.compile(
    r"([\u4e00-\u9fffA-Za-z0-9]{2,12}?)(?:和|与|及|以及|加上)([\u4e00-\u9fffA-Za-z0-9]{2,12}?)的"
    # "domestic and international games revenue", "its Youdao and Cloud Music revenues"
    r"|\b([A-Za-z][\w-]{2,20}) and ([A-Za-z][\w-]{2,20})\b"
)

# A change over one week or month ("week on week", "较上周", "环比上月"): this one's figure
# against the previous one's.
OVER_TIME = re.compile(
    r"\b(?:week|month)[- ]on[- ](?:week|month)\b|\b(?:w/w|m/m|wow|mom)\b|"
    r"(?:较|比|环比)(?:上周|上一周|上月|上个月)|周环比|月环比",
    re.I,
)
_WEEK = re.compile(r"周|week|w/w|wow", re.I)
HOW_MUCH = re.compile(r"\bhow much\b", re.I)  # an amount; "how many" counts

CAGR = re.compile(
    r"复合增速|复合增长率|年均复合|年复合|年均增速|年均增长率|\bCAGR\b|\bcompound(?:ed)? annual",
    re.I,
)
ANNUALISE = re.compile(
    r"年化|全年化|\brun[- ]?rate\b|\bannuali[sz]"
    # "at its 9M pace for the whole year", "按此节奏全年": a part year's pace kept all year
    r"|\bpace\b.{0,60}\b(?:whole|full|entire)[- ]year\b|\b(?:whole|full|entire)[- ]year\b.{0,60}\bpace\b"
    r"|(?:按|照)(?:此|这个|目前|当前|现在)的?(?:速度|节奏|进度|增速)",
    re.I,
)
WORK_BACK = re.compile(
    r"倒推|反推|倒算|推算|\bwork(?:ing)? back\b|\bback out\b|"
    r"\bgiven the (?:year[- ]on[- ]year|yoy|reported|stated) (?:change|growth|increase|decline)",
    re.I,
)
# The period before a change: "去年同期", "去年三季度", "the year before", "a year earlier".
PRIOR_PERIOD = re.compile(
    r"去年|上年|上一年|前一年|\b(?:the )?(?:year|quarter) before\b|\bprior[- ](?:year|period)\b|"
    r"\bprevious (?:year|period)\b|\ba (?:year|quarter) (?:earlier|ago|before)\b|"
    r"\bsame (?:period|quarter) (?:a|last) year\b",
    re.I,
)
# The clauses of a question: its last is what it asks ("…同比增长14.85%，去年同期营收约多少？").
_CLAUSE_END = re.compile(r"[，,；;。?？!！]|\.(?=\s|$)")
SHARE_ZH = re.compile(
    r"([\u4e00-\u9fffA-Za-z0-9（）()]{2,30}?)占(.{2,30}?)的?(?:比重|比例|占比|份额|百分比)"
)
SHARE_EN = re.compile(
    r"(.{3,80}?)\s+as an? (?:share|percentage|proportion|%) of\s+(.{3,80}?)[?？.]*$|"
    # "…margin, using recurring net profit over revenue": a ratio stated as its terms
    r"(?:\busing|\bi\.e\.|\bie\b|\bthat is|\b(?:computed|calculated|defined) as),?\s+(.{3,80}?)\s+"
    r"(?:over|divided by|relative to)\s+(.{3,80}?)[?？.]*$",
    re.I,
)
# "What share of BYD's October sales was sold overseas?": the whole, then what narrows it.
SHARE_OF_WHOLE_EN = re.compile(
    r"\bwhat (?:share|percentage|proportion|fraction|portion|part) of\s+(.{3,80}?)\s+"
    r"(?:was|were|is|are|came|comes|come|went|goes|go)\s+((?:(?:sold|made|generated|earned|"
    r"booked|delivered)\s+|(?:from|to|in)\s+).{2,40}?)[?？.]*$",
    re.I,
)
# "三季度电池销量中，储能电池占比多少": the whole, then the part within it.
SHARE_OF_WHOLE_ZH = re.compile(
    r"([^，,。；;？?]{2,40}?)(?:之|当)?中[，,]?\s*([^，,。；;？?]{2,30}?)的?"
    r"(?:占比|比重|所占比例|所占比重|占的比例)"
)
# "合同负债是年初的多少倍", "how many times its 2024 level": one figure as a multiple of another.
MULTIPLE_ZH = re.compile(r"([\u4e00-\u9fffA-Za-z0-9（）()]{2,30}?)是(.{2,30}?)的(?:多少|几)倍")
MULTIPLE_EN = re.compile(
    r"(.{3,80}?)\s+(?:is|was|were|are)\s+how many times\s+(?:as \w+ as\s+)?(.{3,80}?)[?？.]*$|"
    r"how many times (?:larger|bigger|higher|greater|more|as \w+)\s+(?:is|was|were|are)\s+"
    r"(.{3,80}?)\s+(?:than|as)\s+(.{3,80}?)[?？.]*$",
    re.I,
)
# Two companies' figures, one as a multiple of the other: "A made what multiple of B",
# "A's profit as a multiple of B's", "how many x B's", "A是B的几倍".
MULTIPLE_OF_ENTITY = re.compile(
    r"倍数?|\b(?:(?:what|a|as a) multiple of|how many (?:times|x)|x (?:that|those) of)\b", re.I
)
# "分红总额相当于归母净利润的百分之几": one phrase as a percent of the other.
SHARE_AS_PERCENT_ZH = re.compile(
    r"([\u4e00-\u9fffA-Za-z0-9（）()]{2,30}?)(?:相当于|是|为)(.{2,30}?)的(?:百分之几|百分之多少|多少[%％])"
)
# "单Wh净利", "每台价格", "per Wh": an amount per unit of something the question counts.
PER_UNIT = re.compile(
    r"[单每]\s*([A-Za-z]{1,5}|[根条台颗片个家块套张只件辆车吨股])(?![A-Za-z])|"
    r"\bper\s+([A-Za-z]{1,10})\b",
    re.I,
)
# A full-year goal and the part of the year still to come: what that part must deliver.
TARGET = re.compile(r"目标|全年|\b(?:target|goal|guidance|full[- ]year)\b", re.I)
REMAINDER = {"q4": "9m", "h2": "h1"}
# What part of the year a figure covers, in months (annualising).
MONTHS = {"h1": 6, "h2": 6, "9m": 9, "q1": 3, "q2": 3, "q3": 3, "q4": 3} | {
    f"ytd{n:02d}": n for n in (2, 4, 5, 7, 8, 10, 11)
}
# A period the notes do not state, as the difference of two they do.
DERIVED = {
    "h1": ("9m", "q3"),
    "q3": ("9m", "h1"),
    "q4": ("fy", "9m"),
    "h2": ("fy", "h1"),
    "q2": ("h1", "q1"),
    "q1": ("h1", "q2"),
}
DERIVED_SUM = {"9m": ("h1", "q3"), "fy": ("9m", "q4"), "h1": ("q1", "q2")}

# A change, or a fall, asked (in percent: see PERCENT_ASKED) between two periods.
CHANGED = re.compile(
    r"变化|变动|下降|下滑|减少|回落|"
    r"\b(?:chang(?:e|ed|es)|f[ae]ll|falls|dropped|drops?|declin(?:e|ed|es)|decreas(?:e|ed|es))\b",
    re.I,
)
PERCENT_ASKED = re.compile(r"百分点|百分比|百分之|percentage points?|\bpp\b|percent|%|％", re.I)

Retrieve = Callable[[str], list[Document]]


@dataclass(frozen=True)
class Calculation:
    answer: str
    evidence: list[Evidence]
    tool_calls: list[ToolCall] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _Operand:
    quantity: Quantity
    evidence: Evidence
    label: str  # what it is: "2025", "Meta", ...


def plan_and_compute(
    question: Question, docs: list[Document], glossary: Glossary, retrieve: Retrieve
) -> Calculation | None:
    """A computed, cited answer when the question is a calculation we recognise, else None."""
    text = intent_text(question)
    if whole_less_part := _whole_less_part(question):
        # "前三季度营收减去上半年营收", "9M revenue minus H1": the period between them (Q3),
        # of the two figures the question names
        target, between = whole_less_part
        year = question.period.year if question.period else None
        asked = replace(question, period=Period(target, year))  # type: ignore[arg-type]
        computed = _derived(asked, docs, glossary, between, difference)
        if computed is not None:
            return computed
    if question.period is not None:
        # "Adding H1 and Q3, what was … for the first nine months", "Q1, given its H1 and Q2
        # figures": the two periods it names are the parts, or the whole and the other part.
        named = {span for _, _, span in spans_in(question.text)}
        for table, combine, asks in (
            (DERIVED_SUM, None, SUM.search(text)),
            (DERIVED, difference, True),
        ):
            parts = table.get(question.period.span)
            if asks and parts and set(parts) <= named:
                computed = _derived(question, docs, glossary, parts, combine)
                if computed is not None:
                    return computed
    if WORK_BACK.search(text) or asks_before_change(question):
        computed = _work_back(question, docs, glossary)
        if computed is not None:
            return computed
    if CAGR.search(text) and len(question.years) >= 2:
        return _cagr(question, docs, glossary)
    if ANNUALISE.search(text):
        computed = _annualise(question, docs, glossary)
        if computed is not None:
            return computed
    if whole := SHARE_OF_WHOLE_EN.search(question.text):
        computed = _of_two_phrases(
            question, docs, glossary, retrieve, (), share, ("part", "whole"),
            ("A share of", "占比约"),
            pieces=(f"{whole.group(1)} {whole.group(2)}", whole.group(1)),
        )  # fmt: skip
        if computed is not None:
            return computed
    if pieces := _part_within_whole(question, glossary):
        computed = _of_two_phrases(
            question, docs, glossary, retrieve, (), share, ("part", "whole"),
            ("A share of", "占比约"), pieces=pieces,
        )  # fmt: skip
        if computed is not None:
            return computed
    if SHARE_ZH.search(question.text) or SHARE_EN.search(question.text):
        computed = _share(question, docs, glossary, retrieve)
        if computed is not None:
            return computed
    if SHARE_AS_PERCENT_ZH.search(question.text):
        computed = _of_two_phrases(
            question, docs, glossary, retrieve, (SHARE_AS_PERCENT_ZH,), share, ("part", "whole"),
            ("A share of", "占比约"),
        )  # fmt: skip
        if computed is not None:
            return computed
    if len(question.entities) >= 2 and MULTIPLE_OF_ENTITY.search(question.text):
        computed = _ratio_between_entities(question, docs, glossary, retrieve)
        if computed is not None:
            return computed
    if MULTIPLE_ZH.search(question.text) or MULTIPLE_EN.search(question.text):
        computed = _multiple(question, docs, glossary, retrieve)
        if computed is not None:
            return computed
    if MIDPOINT.search(text):
        return _midpoint(question, docs, glossary)
    if APPLY_RATIO.search(text):
        return _apply_ratio(question, docs, glossary)
    if (OVER_TIME.search(text) or _both_times(question)) and not PERCENT_ASKED.search(text):
        computed = _between_times(question, docs, glossary)
        if computed is not None:
            return computed
    if TARGET.search(text) and _STILL_NEEDED.search(text) and _MEAN_PER_PERIOD.search(text):
        computed = _needed_per_month(question, docs, glossary)
        if computed is not None:
            return computed
    # "增长9%的目标", or "to hit its ~9% growth target, how much would it need in Q4"
    if TARGET.search(text) and (CHANGE.search(text) or _STILL_NEEDED.search(text)):
        computed = _needed_for_target(question, docs, glossary)
        if computed is not None:
            return computed
    if CHANGE.search(text):
        computed = _percent_change(question, docs, glossary)
        if computed is not None:
            return computed
    if PER_UNIT.search(question.text):
        computed = _per_unit(question, docs, glossary)
        if computed is not None:
            return computed
    if PRODUCT.search(text):
        computed = _product(question, docs, glossary)
        if computed is not None:
            return computed
    compares = DIFFERENCE.search(text) or GROWTH.search(text) or _VERSUS.search(text)
    if (AVERAGE.search(text) or SUM.search(text)) and len(question.entities) < 2 and not compares:
        # "7月、8月、9月合计", "6-8月月均": each month's figure, added up or averaged
        over, leads = (average, AVERAGE_LEADS) if AVERAGE.search(text) else (total, SUM_LEADS)
        computed = _over_periods(question, docs, glossary, over, leads)
        if computed is not None:
            return computed
    if AVERAGE.search(text) and len(question.entities) >= 2:
        return _average(question, docs, glossary, retrieve)
    if SUM.search(text) and len(question.entities) >= 2:
        return _sum(question, docs, glossary, retrieve)
    if SUM.search(text) and SUM_PARTS.search(text):
        return _sum_parts(question, docs, glossary)
    # "How much did it change versus September 2024, in percent?": a change asked in percent.
    changed = bool(CHANGED.search(text) and PERCENT_ASKED.search(text))
    if (GROWTH.search(text) or DIFFERENCE.search(text) or changed) and len(question.years) >= 2:
        growth = changed or not DIFFERENCE.search(text)
        return _between_years(question, docs, glossary, growth=growth)
    if (GROWTH.search(text) or DIFFERENCE.search(text) or changed) and _two_spans(question):
        growth = changed or bool(GROWTH.search(text)) or not DIFFERENCE.search(text)
        computed = _between_spans(question, docs, glossary, growth=growth)
        if computed is not None:
            return computed
    if DIFFERENCE.search(text) and len(question.entities) >= 2:
        return _between_entities(question, docs, glossary, retrieve)
    return _compared(question, docs, glossary, retrieve)


# What opens the parts of a total just stated: "…239.53GW，其中集中式…", "…, of which …".
_OF_WHICH = re.compile(r"其中|\bof which\b|\bincluding\b", re.I)


def _whole_of(whole: _Operand, part: _Operand) -> bool:
    """Whether `whole` is the total whose parts the same sentence lists, `part` among them."""
    if whole.evidence.text != part.evidence.text:
        return False
    start, end = whole.quantity.end, part.quantity.start
    return (
        start is not None
        and end is not None
        and start < end
        and _OF_WHICH.search(whole.evidence.text[start:end]) is not None
    )


def _compared(
    question: Question, docs: list[Document], glossary: Glossary, retrieve: Retrieve
) -> Calculation | None:
    """ "A比B多多少", "how much more A than B": A − B (B − A when it asks how much less), or,
    asked in percent of amounts ("高百分之多少"), A's change over B."""
    match = COMPARED_ZH.search(question.text)
    if match is not None:
        first, second, word = match.group(1), match.group(2), match.group(3)
    elif (match := COMPARED_EN.search(question.text)) is not None:
        word, first, second = match.group(1), match.group(2), match.group(3)
    elif (match := COMPARED_BY_EN.search(question.text)) is not None:
        first, word, second = match.group(1), match.group(2), match.group(3)
    elif (match := MINUS_PHRASES.search(question.text)) is not None:
        first, second = match.group(1) or match.group(3), match.group(2) or match.group(4)
        word = "多"
    else:
        return None
    second = _IN_PERCENT.sub("", second)
    # a gap asked in percentage points is one of two percentages, never of two amounts
    points = POINTS_ASKED.search(question.text)
    wanted = frozenset({"percent"} if points else {"money", "count", "measure", "percent"})
    ops = _two_pieces(question, docs, glossary, retrieve, first, second, wanted)
    if ops is None:
        return None
    a, b = ops
    if _whole_of(a, b) or _whole_of(b, a):
        return None  # "…239.53GW，其中集中式111.59GW、分布式127.93GW": siblings, not the total
    own = [p.span for text in (first, second) if (p := question_period(text)) is not None]
    if len(own) == 2:  # "9M 2025 … than the full-year 2024 total"
        if not all(_of_span(op, span) for op, span in zip(ops, own, strict=True)):
            return None  # each figure of the period its own phrase names
    elif question.period is not None and not all(_of_span(op, question.period.span) for op in ops):
        return None  # a comparison over the period asked: "1-8月" is not January-September
    metrics = [metric_of(op.evidence, op.quantity) for op in ops]
    if (
        all(metrics)
        and not _same_metric(metrics[0] or "", metrics[1] or "", glossary)
        and not _two_metrics_asked(question, first, second, ops, glossary)
    ):
        return None  # like with like: a NIM is not compared with a deal value
    less = bool(_LESS.search(word))
    relative = {"percent", "percentage_points", "ratio", "fraction", "multiple"}
    in_percent = PERCENT_ASKED.search(question.text) and not points
    evidence, marker = _cite([a, b])
    try:
        _checked([a, b], [q for e in evidence for q in e.quantities])
        a, b = _signed(a), _signed(b)  # a decline compared with a rise
        if in_percent and a.quantity.kind not in relative:
            result, lead = growth_rate(b.quantity, a.quantity), ("A gap of", "相差")
        else:
            x, y = (b, a) if less else (a, b)
            result, lead = difference(x.quantity, y.quantity), ("A difference of", "相差")
    except CalculatorError:
        return None
    call = _call(result, {"a": a.quantity.raw, "b": b.quantity.raw}, question)
    terms = [_term(a, marker[0], question), _term(b, marker[1], question)]
    return Calculation(_explain(result, terms, question, *lead), evidence, [call])


def _two_metrics_asked(
    question: Question, first: str, second: str, ops: list[_Operand], glossary: Glossary
) -> bool:
    """Whether the question compares two metrics it names, one per phrase, in one unit: "售价
    比完全成本高多少" (a spread per kg), not a NIM against a deal value."""
    named = [Question.parse(p, question.language, glossary).metrics for p in (first, second)]
    if not all(named) or set(named[0][0]) & set(named[1][0]):
        return False
    a, b = ops[0].quantity, ops[1].quantity
    return a.kind == b.kind and a.unit == b.unit and a.currency == b.currency


# What a full-year target still needs ("to hit its 9% target, how much would it need in Q4",
# "全年目标…还需要卖多少"): the target less what is done.
_STILL_NEEDED = re.compile(
    r"需要|还要|还需|要卖|要完成|\b(?:need\w*|requir\w*|to (?:hit|reach|meet|achieve))\b", re.I
)
# Two figures compared: "比集中式多多少GW", "相差", "by what percentage is A above B". Not 同比,
# 环比, 占比 or 配比, which name one figure's own change or share.
COMPARED = re.compile(
    r"相差|差多少|差距|多出|减去|\bminus\b|(?<![同环占配])比(?![例重率])[^，,。；;？?]{1,24}?(?:多|少|高|低|快|慢)"
    r"(?:多少|了多少|几|百分之)|"
    r"\b(?:difference|differ\w*|how much more|how many more|gap|above|exceed\w*|below)\b|"
    r"\b(?:larger|bigger|higher|greater|more|lower|smaller|less|fewer)\b.{0,40}\bthan\b",
    re.I,
)
# Two figures compared as phrases: "分布式光伏新增装机比集中式多多少GW", "how many GW less
# centralised PV than distributed PV", "A价格比B高百分之多少".
_PHRASE = r"[\u4e00-\u9fffA-Za-z0-9（）()\-]"
COMPARED_ZH = re.compile(
    rf"({_PHRASE}{{2,30}}?)(?<![同环占配])比(?![例重率])({_PHRASE}{{1,30}}?)"
    r"(多|高|大|快|少|低|小|慢)了?(?:多少|几|百分之多少)"
)
COMPARED_EN = re.compile(
    r"\bhow (?:much|many(?: \w+)?) (more|higher|larger|bigger|greater|less|fewer|lower|smaller)"
    r" (.{3,80}?) than (.{3,80}?)[?？.]*$",
    re.I,
)
# "By how much did A exceed B, in percent", "by what percentage is A above B".
COMPARED_BY_EN = re.compile(
    r"\bby (?:how much|how many \w+(?: points?)?|what (?:percentage|percent|share))"
    r" (?:is|was|are|were|did|does|do|has|have|had) (.{3,80}?)"
    r" (exceed\w*|top\w*|surpass\w*|outpac\w*|above|below|higher than|lower than|more than|less than"
    r"|larger than|smaller than) (.{3,80}?)[?？.]*$",
    re.I,
)
POINTS_ASKED = re.compile(r"百分点|percentage points?|\bpp\b|\bpct\b", re.I)
# One figure less another, as phrases: "(selling price minus full cost)", "售价减去完全成本".
MINUS_PHRASES = re.compile(
    r"([A-Za-z][A-Za-z0-9' -]{2,60}?)\s+minus\s+([A-Za-z][A-Za-z0-9' -]{2,60}?)\s*(?:[)?？.,;]|$)|"
    rf"({_PHRASE}{{2,30}}?)减去({_PHRASE}{{2,30}}?)(?:[)）？?，,。]|的差|之差|$)",
    re.I,
)
_LESS = re.compile(r"少|低|小|慢|less|fewer|lower|smaller|slower|below", re.I)
_IN_PERCENT = re.compile(r",?\s*(?:in|as a) (?:percent(?:age)?(?: points?)?|%)\s*$", re.I)
# A mean over a stretch of time: "平均每月", "per month on average".
_MEAN_PER_PERIOD = re.compile(
    r"平均每(?:个)?(?:月|季度?|年|周|天)|月均|季均|\b(?:per|a|each) (?:month|quarter|year)\b.{0,30}"
    r"\baverage\b|\baverage\b.{0,30}\b(?:per|a|each) (?:month|quarter|year)\b|\bmonthly average\b",
    re.I,
)


_MINUS = re.compile(r"减去|之差|差值|\bminus\b", re.I)


def _whole_less_part(question: Question) -> tuple[str, tuple[str, str]] | None:
    """The period a difference of the two the question names is ("前三季度…减去上半年…" is
    Q3: 9M − H1), with those two, whole first; None unless it names two such and asks their
    difference."""
    order = list(dict.fromkeys(span for _, _, span in spans_in(question.text)))
    named = set(order)
    text = intent_text(question)
    if len(named) not in (2, 3) or len(question.years) > 1:
        return None  # (9M 2025 against full-year 2024 is a growth, not a quarter)
    if not (COMPARED.search(text) or _MINUS.search(text)):
        return None
    # the two it subtracts, and maybe the period that makes ("Q1 revenue, i.e. 1H minus 2Q")
    return next(
        (
            (target, parts)
            for target, parts in DERIVED.items()
            if set(parts) <= named <= {*parts, target}
            and (len(named) == 2 or order[0] == target)  # what it asks is named first
        ),
        None,
    )


def only_computed(question: Question) -> bool:
    """Whether only a calculation answers the question: it compares two figures ("比集中式多
    多少GW", "by what percentage is A above B"), asks what a target still needs, a mean per
    month or of several companies, a sum of several, a run-rate or a figure worked back. A
    figure a note states for it is one of the operands: answering with it states something
    else (US$560 for "by what percentage is HBM4 above HBM3E"). A which-question is none."""
    text = intent_text(question)
    if question.asks_who:
        return False
    several = len(question.entities) >= 2
    return bool(
        COMPARED.search(text)
        or WORK_BACK.search(text)
        or ANNUALISE.search(text)
        or (TARGET.search(text) and _STILL_NEEDED.search(text))
        or _MEAN_PER_PERIOD.search(text)
        or ((AVERAGE.search(text) or SUM.search(text)) and several)
        or _whole_less_part(question) is not None
    )


def asks_before_change(question: Question) -> bool:
    """Whether a question asks for the level before a change it names: its last clause asks a
    level of an earlier period ("…同比下降55.14%，去年三季度归母净利润是多少", "Given its 9M25
    profit and its YoY growth, what was its 9M24 profit?"), not a change itself."""
    clauses = [c for c in _CLAUSE_END.split(question.text) if c.strip()]
    if len(clauses) < 2 or ASKS_CHANGE.search(clauses[-1]):
        return False
    before = " ".join(clauses[:-1])
    if not ASKS_CHANGE.search(before):
        return False  # no change to work back from
    if PRIOR_PERIOD.search(clauses[-1]):
        return True
    asked = {year for _, year in years_in(clauses[-1])}
    stated = {year for _, year in years_in(before)}
    if asked and not stated:
        # "Q3营收1041.86亿元、同比增长12.90%，那么2024年Q3…": the year of the level stated is
        # the notes'; `_work_back` keeps only a level of a later year than the one asked.
        return bool(CHANGE.search(before))
    return bool(asked and stated) and max(asked) < min(stated)


def plan_from_stated_period(
    question: Question, docs: list[Document], glossary: Glossary
) -> Calculation | None:
    """The calculations that ask for a year the notes do not state: the figure before a
    reported change, or a part-year figure at its run-rate."""
    text = intent_text(question)
    if WORK_BACK.search(text) or asks_before_change(question):
        return _work_back(question, docs, glossary)
    if ANNUALISE.search(text):
        return _annualise(question, docs, glossary)
    return None


def intent_text(question: Question) -> str:
    """The question with the names of its metrics and companies blanked out, so that
    "combined ratio", "total assets" or "growth rate" in a metric's name reads as no
    operation."""
    text = question.text
    # Names too: "比亚迪…分别是多少" is no "比…少" comparison.
    aliases = sorted(
        {a for g in (*question.metrics, *question.entities) for a in g}, key=len, reverse=True
    )
    for alias in aliases:
        text = re.sub(re.escape(alias), " ", text, flags=re.IGNORECASE)
    return text


def _figure(
    question: Question,
    docs: list[Document],
    glossary: Glossary,
    *,
    entity: tuple[str, ...] | None,
    year: int | None,
    kinds: frozenset[str] | None = None,
    period: str | None = None,
    wording: str | None = None,
    when: RelativeTime | None = None,
    changes: bool | None = None,
) -> _Operand | None:
    """`wording`: the whole question an operand phrase comes from ("A占B的比重"): the measures
    it names are asked, whichever phrase names them. `changes`: True, only a change (a growth
    rate) is the operand; False, only a level; None, either."""
    sub = replace(
        question,
        entities=(entity,) if entity else question.entities,
        years=frozenset({year}) if year else frozenset(),
        period=Period(period, year) if period else question.period,  # type: ignore[arg-type]
        asks_change=None,  # an operand may be a level or a change; `kinds` narrows it
        when=when or question.when,
    )
    evidence = select_evidence(sub, docs, glossary, limit=8)
    candidates = [e for e in evidence if about_entity(e, sub)]
    # The market or product the question names (HBM) must frame an operand: judged over all
    # the candidates, as each is then read alone.
    topics = named_topics(question, candidates)  # the other companies asked are no topic
    candidates = [
        e
        for e in candidates
        if all(names_any(e, name) for name in topics) and names_the_companies(e, question)
    ]
    specs = named_specs(question, candidates)  # likewise the grade or model asked ("183N")
    candidates = [e for e in candidates if specs <= specs_of(e)]
    label = str(year) if year else (display_name(question, entity) if entity else "")
    if period is not None:
        # A period operand: the best figure over every sentence of that period, so that the
        # asked metric's figure wins over another metric's in a higher-ranked sentence.
        of_period = [
            replace(
                ev,
                quantities=tuple(
                    f.quantity
                    for f in facts_of(ev)
                    if (kinds is None or f.quantity.kind in kinds)
                    and _of_change(f, changes)
                    # a figure its sentence dates to another year ("去年同期为6.5GW")
                    and (year is None or f.quantity.year in (None, year))
                    # another company's figure in a sentence about the one asked is not its,
                    # nor is a whole market's ("国内动力电池累计装车量")
                    and (entity is None or f.entity is None or f.entity in entity)
                    and not (entity and f.market)
                    # a figure of a year with no span is a full year's ("2024年营收1741.44亿元")
                    and (
                        f.period == period or (period == "fy" and not f.period and f.quantity.year)
                    )
                ),
            )
            for ev in candidates
        ]
        of_period = [ev for ev in of_period if ev.quantities]
        # The asked metric's figures, when some sentence of the period states it: a figure
        # naming no metric (a volume beside it) is then no operand for it.
        asked = {a.lower() for group in question.metrics for a in group}
        named = [
            replace(ev, quantities=tuple(q for q in ev.quantities if metric_of(ev, q) in asked))
            for ev in of_period
        ]
        if asked and any(ev.quantities for ev in named):
            of_period = [ev for ev in named if ev.quantities]
        # A figure of a part of the whole asked ("远航风机收入" of a product, when the
        # company's revenue is asked; an online platform within a channel) is the operand only when nothing else is.
        whole = [
            replace(ev, quantities=tuple(q for q in ev.quantities if of_series_asked(q, ev, sub)))
            for ev in of_period
        ]
        if any(ev.quantities for ev in whole):
            of_period = [ev for ev in whole if ev.quantities]
        picked = best_quantity(sub, of_period)
        return _Operand(picked[1], of_period[picked[0]], label) if picked else None
    for ev in candidates:
        # Only figures the sentence attaches to the asked year can be that year's operand,
        # and, when the question names no metric, only figures of no other named measure.
        unasked = {
            f.quantity
            for f in facts_of(ev)
            if (
                not _measures_asked(f, question, glossary, wording)
                and not named_beside(ev, f.quantity, question)
            )
            or not _of_change(f, changes)
        }
        # A year asked with no span is a whole year: a nine-month or quarter figure is not
        # that year's ("2021年到2024年的复合增速" takes no "前三季度…920.3亿美元").
        part_year = (
            {f.quantity for f in facts_of(ev) if f.period and f.period != "fy"}
            if year is not None and sub.period is None
            else set()
        )
        # a company's operand is never a whole market's figure beside it
        markets = {f.quantity for f in facts_of(ev) if f.market} if entity else set()
        dated = replace(
            ev,
            quantities=tuple(
                q
                for q in ev.quantities
                # a figure that writes no year is of the one year its sentence's headings
                # (or title) frame it with
                if (year is None or q.year == year or (q.year is None and ev.years == {year}))
                and (kinds is None or q.kind in kinds)
                and q not in unasked
                and q not in part_year
                and q not in markets
            ),
        )
        # a part listed after its whole ("of which overseas ports 29.17m TEU") only if asked
        unlisted = tuple(q for q in dated.quantities if listed_part_asked(q, dated, sub))
        if unlisted:
            dated = replace(dated, quantities=unlisted)
        picked = best_quantity(sub, [dated])
        if picked is not None:
            return _Operand(picked[1], ev, label)
    return None


def _of_change(fact: Fact, changes: bool | None) -> bool:
    """Whether a fact may be an operand of the `changes` asked (see `_figure`): a level is
    never a change asked; an amount never one either, though a percent may ("涨幅60%")."""
    if changes is None:
        return True
    if changes:
        return fact.change is not None or fact.quantity.kind not in _AMOUNT_KINDS
    return fact.change is None


_AMOUNT_KINDS = frozenset({"money", "count", "measure", "duration"})


def _measures_asked(
    fact: Fact, question: Question, glossary: Glossary, wording: str | None = None
) -> bool:
    """Whether a fact measures what the question asks. A question naming a metric is
    matched by `fact_fit`; one naming none ("How much larger was A's contract than B's?")
    still asks no shipment count: a fact stated for a metric the question never words, in
    either language, is no operand for it."""
    if question.metrics or fact.metric is None:
        return True
    words = {fact.metric} | {
        a.lower() for g in glossary.terms for a in g if fact.metric in {x.lower() for x in g}
    }
    text = (wording or question.text).lower()
    # Or a content word of one of its English names: "contract" of "contract win" (中标).
    parts = {p for w in words if w.isascii() for p in w.split() if len(p) >= 4 and p.isalpha()}
    return (
        any(w in text for w in words)
        or any(re.search(rf"(?<![a-z]){re.escape(p)}(?![a-z])", text) for p in parts)
        or bool(english_in([fact.metric], [text]))
    )


def _alike(
    find: Callable[[frozenset[str] | None, Any], _Operand | None], keys: Sequence[Any]
) -> list[_Operand | None]:
    """Operands that can be compared: of one kind (money with money, a count with a count,
    a percent with a percent). A 2026 count of servers is no end point for the growth of a
    market measured in dollars in 2024: when the first picks disagree, each is looked up
    again restricted to the other's kind, and the pair found with the most agreement wins."""
    ops = [find(None, key) for key in keys]
    found = [op for op in ops if op is not None]
    if len(found) < 2 or len({_kind_key(op) for op in found}) == 1:
        return ops
    for anchor in found:
        kinds = frozenset({anchor.quantity.kind})
        again = [
            op if op is anchor else find(kinds, key) for op, key in zip(ops, keys, strict=True)
        ]
        if all(op is not None for op in again) and len({_kind_key(op) for op in again}) == 1:  # type: ignore[arg-type]
            return again
    return [None if op is not found[0] else op for op in ops]  # no comparable pair


def _kind_key(op: _Operand) -> tuple[str, str | None]:
    return op.quantity.kind, op.quantity.currency


def _cite(operands: list[_Operand]) -> tuple[list[Evidence], dict[int, int]]:
    evidence: list[Evidence] = []
    marker: dict[int, int] = {}
    for i, op in enumerate(operands):
        key = next((j for j, e in enumerate(evidence) if e.text == op.evidence.text), None)
        if key is None:
            evidence.append(op.evidence)
            key = len(evidence) - 1
        else:  # one sentence, cited once, with every operand it states ("A, after B in H1")
            held = evidence[key].quantities
            extra = tuple(q for q in op.evidence.quantities if q not in held)
            evidence[key] = replace(evidence[key], quantities=held + extra)
        marker[i] = key + 1
    return evidence, marker


def _missing(question: Question, what: list[str]) -> Calculation:
    if question.language == "en":
        text = f"The documents do not give {', '.join(what)}, so this cannot be computed."
    else:
        text = f"文档中没有{'、'.join(what)}的数据，无法计算。"
    return Calculation(answer=text, evidence=[], missing=what)


def _checked(operands: list[_Operand], docs_figures: list[Quantity]) -> None:
    check_operands([op.quantity for op in operands], docs_figures)


def _call(result: CalcResult, inputs: dict[str, str], question: Question) -> ToolCall:
    return result.to_tool_call(inputs, question.language)


def _signed(op: _Operand) -> _Operand:
    """A percentage change written after a decline word ("同比下降12.38%", "fell 5%") as the
    negative change it is, for comparing it with another."""
    q = op.quantity
    if q.kind != "percent" or q.low < 0 or q.start is None:
        return op
    if not declined_before(op.evidence.text, q.start):
        return op
    negative = q.model_copy(update={"low": -q.high, "high": -q.low, "raw": f"-{q.raw}"})
    return replace(op, quantity=negative)


def _term(op: _Operand, marker: int, question: Question) -> str:
    return (
        f"{render(op.quantity, question.language)} [{marker}]"
        if question.language == "en"
        else f"{render(op.quantity, 'zh')}[{marker}]"
    )


def _between_years(
    question: Question, docs: list[Document], glossary: Glossary, *, growth: bool
) -> Calculation | None:
    start_year, end_year = sorted(question.years)[:2]
    entity = question.entities[0] if question.entities else None
    ops = _alike(
        lambda kinds, y: _figure(question, docs, glossary, entity=entity, year=y, kinds=kinds),
        (start_year, end_year),
    )
    if any(op is None for op in ops):
        absent = [str(y) for y, op in zip((start_year, end_year), ops, strict=True) if op is None]
        return _missing(
            question,
            [
                f"{entity[0] if entity else ''}{y}年"
                if question.language == "zh"
                else f"the {y} figure"
                for y in absent
            ],
        )
    start, end = ops[0], ops[1]
    assert start is not None and end is not None  # both found (checked above)
    labels = (
        (f"{start_year}年", f"{end_year}年")
        if question.language == "zh"
        else (
            str(start_year),
            str(end_year),
        )
    )
    return _change_between(start, end, labels, question, growth=growth)


def _change_between(
    start: _Operand,
    end: _Operand,
    labels: tuple[str, str],
    question: Question,
    *,
    growth: bool,
) -> Calculation | None:
    """The change from one figure to a later one (and its growth rate, when asked), each
    cited and labelled with its year or period ("2024年", "Q3")."""
    evidence, marker = _cite([start, end])
    try:
        _checked([start, end], [q for e in evidence for q in e.quantities])
        change = difference(end.quantity, start.quantity)
        rate = growth_rate(start.quantity, end.quantity) if growth else None
    except CalculatorError:
        return None
    calls = [_call(change, {"a": end.quantity.raw, "b": start.quantity.raw}, question)]
    if rate:
        calls.append(_call(rate, {"start": start.quantity.raw, "end": end.quantity.raw}, question))
    a, b = labels
    s_term, e_term = _term(start, marker[0], question), _term(end, marker[1], question)
    if question.language == "en":
        text = f"From {s_term} in {a} to {e_term} in {b}: a change of {change.text('en')}"
        text += (
            f", growth of {rate.text('en')} ({rate.formula('en')})."
            if rate
            else f" ({change.formula('en')})."
        )
    else:
        text = f"从{a}的{s_term}到{b}的{e_term}，变化{change.text('zh')}"
        grew = "增速" if rate and rate.value.high < 0 else "增长"  # "增速-53.8%", not "增长-53.8%"
        text += (
            f"，{grew}{rate.text('zh')}（{rate.formula('zh')}）。"
            if rate
            else f"（{change.formula('zh')}）。"
        )
    return Calculation(text, evidence, calls)


def _two_spans(question: Question) -> tuple[str, str] | None:
    """Two quarters or two months the question compares ("三季度营收环比二季度增长了多少",
    "October deliveries versus September"), earlier first; None unless exactly two."""
    named = list(dict.fromkeys(span for _, _, span in spans_in(question.text)))
    if len(named) != 2 or named[0][0] != named[1][0] or named[0][0] not in "qm":
        return None
    earlier, later = sorted(named)
    return earlier, later


def _between_spans(
    question: Question,
    docs: list[Document],
    glossary: Glossary,
    *,
    growth: bool,
    spans: tuple[str, str] | None = None,
) -> Calculation | None:
    """A change between two quarters or months of one year and one company: the later
    figure against the earlier, as growth when asked in percent or as growth, else the
    difference. `spans`: the two, else the two the question names."""
    spans = spans or _two_spans(question)
    if spans is None:
        return None
    entity = question.entities[0] if question.entities else None
    year = min(question.years) if len(question.years) == 1 else None
    amounts = frozenset({"money", "count", "measure", "number"})
    ops = [
        _figure(question, docs, glossary, entity=entity, year=year, period=span, kinds=amounts)
        for span in spans
    ]
    start, end = ops
    if start is None or end is None or start.quantity == end.quantity:
        return None
    if _kind_key(start) != _kind_key(end) or not _one_company(start, end, entity):
        return None  # one company's September against another's October is no growth
    if start.evidence.text != end.evidence.text and not _one_series(start, end, entity, question):
        return None  # a product's quarter against the company's (one sentence compares like)
    labels = (_span_label(spans[0], question.language), _span_label(spans[1], question.language))
    return _change_between(start, end, labels, question, growth=growth)


_QUARTERS_ZH = {
    "q1": "一季度", "q2": "二季度", "q3": "三季度", "q4": "四季度",
    "h1": "上半年", "h2": "下半年", "9m": "前三季度", "fy": "全年",
}  # fmt: skip


def _span_label(span: str, language: str) -> str:
    """ "q3" as 三季度 / Q3, "m09" as 9月 / September."""
    if span.startswith("m"):
        month = int(span[1:])
        return f"{month}月" if language == "zh" else calendar.month_name[month]
    if span.startswith("ytd"):
        month = int(span[3:])
        return f"1-{month}月" if language == "zh" else f"Jan-{calendar.month_abbr[month]}"
    return _QUARTERS_ZH.get(span, span.upper()) if language == "zh" else span.upper()


def _both_times(question: Question) -> bool:
    """The question names this week (month) and the last one: "本周比上周低多少元"."""
    return {which for _, (_, which) in relative_times(question.text)} == {"current", "previous"}


def _between_times(
    question: Question, docs: list[Document], glossary: Glossary
) -> Calculation | None:
    """A change over one week or month in the asked unit ("by how much, in RMB per watt, did
    the price fall week on week", "本周比上周低多少元"): this week's figure minus last week's,
    of one table row or sentence. A percentage asked is a stated change, not this."""
    named = relative_times(question.text)
    unit: Literal["week", "month"] = (
        named[0][1][0] if named else ("week" if _WEEK.search(question.text) else "month")
    )
    entity = question.entities[0] if question.entities else None
    amounts = frozenset({"money", "count", "measure", "number"})
    ops = [
        _figure(question, docs, glossary, entity=entity, year=None, kinds=amounts, when=(unit, w))
        for w in ("current", "previous")
    ]
    current, previous = ops
    if current is None or previous is None or current.evidence.text != previous.evidence.text:
        return None  # a week-on-week change is read off one row or sentence
    if current.quantity == previous.quantity or _kind_key(current) != _kind_key(previous):
        return None
    evidence, marker = _cite([current, previous])
    try:
        _checked([current, previous], [q for e in evidence for q in e.quantities])
        change = difference(current.quantity, previous.quantity)
        fell = change.value.high < 0
        shown = difference(previous.quantity, current.quantity) if fell else change
    except CalculatorError:
        return None
    call = _call(shown, {"a": shown.operands[0].raw, "b": shown.operands[1].raw}, question)
    now, before = _term(current, marker[0], question), _term(previous, marker[1], question)
    if question.language == "en":
        way = "fell" if fell else "rose"
        text = (
            f"It {way} by {shown.text('en')} from last {unit} to this {unit}: {before} → {now}"
            f" ({shown.formula('en')})."
        )
    else:
        way, word = ("下降" if fell else "上升"), ("周" if unit == "week" else "月")
        text = f"较上{word}{way}{shown.text('zh')}：上{word}{before}，本{word}{now}（{shown.formula('zh')}）。"
    return Calculation(text, evidence, [call])


def _per_entity(
    question: Question,
    docs: list[Document],
    glossary: Glossary,
    retrieve: Retrieve,
    summed: bool = False,
) -> list[_Operand | None]:
    """Each entity's figure of the asked metric. `summed`: the figures are added up, so they
    are amounts or counts unless percentages are asked (growth rates add up to nothing)."""
    year = min(question.years) if question.years else None
    # "高多少个百分点" compares percentages: a count in the same sentence is not an operand;
    # "how much larger was A's contract" (not "how many more"), naming nothing that is
    # counted (no metric, no product: "AEC demand" is counted in cables), compares amounts.
    asked = (
        frozenset({"percent"})
        if PERCENT_ASKED.search(question.text)
        else frozenset({"money", "measure", "number"})
        if HOW_MUCH.search(question.text) and not (question.metrics or question.topics)
        else frozenset({"money", "count", "measure", "number"})
        if summed
        else None
    )

    def find(alike: frozenset[str] | None, group: tuple[str, ...]) -> _Operand | None:
        kinds = alike if asked is None else (asked & alike if alike else asked)
        # Each one's level of the metric, or each one's change when a change is asked ("the
        # average revenue" is no average of growth rates, nor the reverse).
        # A gap in percent compares rates of any kind ("how many points higher was A's gain").
        changes = True if question.asks_change else None if asked == {"percent"} else False
        op = _figure(
            question, docs, glossary, entity=group, year=year, kinds=kinds, changes=changes
        )
        if op is None:  # the shared retrieval missed this entity: look it up on its own
            sub_docs = retrieve(text_about(question, group))
            op = _figure(
                question, sub_docs, glossary, entity=group, year=year, kinds=kinds, changes=changes
            )
        return op

    return _alike(find, list(question.entities))


def _sum(
    question: Question, docs: list[Document], glossary: Glossary, retrieve: Retrieve
) -> Calculation | None:
    stated = _stated_total(question, docs, glossary)
    if stated is not None:  # the note adds them up itself: its figure, not a sum of others
        term = _term(stated, 1, question)
        text = (
            f"Together {term}, as the note totals them."
            if question.language == "en"
            else (f"合计{term}（原文给出的合计）。")
        )
        return Calculation(text, [stated.evidence], [])
    return _over_entities(question, docs, glossary, retrieve, total, SUM_LEADS)


# What a note writes before a figure it gives for several companies together.
_TOGETHER = re.compile(
    r"合计|共计|总计|两者|二者|两家|三者|加起来|\b(?:combined|together|in total|between them|both)\b",
    re.IGNORECASE,
)
# "A、B和C，总销量…", "A, B and C, a total of …": a total right after the companies listed.
_TOTAL_AFTER_LIST = re.compile(r"^[\s,，、;；:：]{0,2}(?:总|the\s+total\b|total\b)", re.IGNORECASE)


def _stated_total(question: Question, docs: list[Document], glossary: Glossary) -> _Operand | None:
    """The figure a sentence naming every company asked gives for them together ("A与B…两者
    合计约X亿元", "A and B combined …"): the one written after its "together" word."""
    if len(question.entities) < 2:
        return None
    for ev in select_evidence(question, docs, glossary, limit=8):
        text = ev.text
        ends: dict[str, int] = {}
        for _, end, name in glossary.entity_mentions(text):
            ends[name] = max(end, ends.get(name, -1))
        named = [ends.get(group[0], -1) for group in question.entities]
        if ev.header is not None or min(named) < 0:
            continue  # a table row, or a sentence not naming them all
        last = max(named)  # the total comes after all of them ("A与B…合计…")
        markers = [m.end() for m in _TOGETHER.finditer(text, last)]
        if listed := _TOTAL_AFTER_LIST.match(text[last:]):
            markers.append(last + listed.end())
        for end in sorted(markers):
            after = [
                q
                for q in ev.quantities
                if q.start is not None
                and q.start >= end
                and q.kind in ("money", "count", "measure")
            ]
            if after:
                return _Operand(min(after, key=lambda q: q.start or 0), ev, "合计")
    return None


def _average(
    question: Question, docs: list[Document], glossary: Glossary, retrieve: Retrieve
) -> Calculation | None:
    """The simple mean of each named company's figure of the asked metric and period."""
    return _over_entities(question, docs, glossary, retrieve, average, AVERAGE_LEADS)


def _over_entities(
    question: Question,
    docs: list[Document],
    glossary: Glossary,
    retrieve: Retrieve,
    combine: Callable[[Sequence[Quantity]], CalcResult],
    leads: tuple[str, str],
) -> Calculation | None:
    """One figure per named company, combined (summed, averaged) and each cited."""
    ops = _per_entity(question, docs, glossary, retrieve, summed=combine is total)
    if any(op is None for op in ops):
        return _missing(
            question,
            [
                display_name(question, g)
                for g, op in zip(question.entities, ops, strict=True)
                if op is None
            ],
        )
    operands: list[_Operand] = [op for op in ops if op is not None]
    if _one_figure_twice(operands):
        return None  # one figure of them together (a market's total), not each one's
    names = [display_name(question, g) for g in question.entities]
    return _combined(operands, names, combine, leads, question)


def _combined(
    operands: list[_Operand],
    labels: list[str],
    combine: Callable[[Sequence[Quantity]], CalcResult],
    leads: tuple[str, str],
    question: Question,
) -> Calculation | None:
    """Several labelled operands combined (summed, averaged), each cited: "Together X: A a,
    B b (a + b = X)"."""
    evidence, marker = _cite(operands)
    try:
        _checked(operands, [q for e in evidence for q in e.quantities])
        result = combine([op.quantity for op in operands])
    except CalculatorError:
        return None
    inputs = {label: op.quantity.raw for label, op in zip(labels, operands, strict=True)}
    parts = [
        f"{label} {_term(op, marker[i], question)}"
        for i, (label, op) in enumerate(zip(labels, operands, strict=True))
    ]
    if question.language == "en":
        text = f"{leads[0]} {result.text('en')}: {', '.join(parts)} ({result.formula('en')})."
    else:
        text = f"{leads[1]}{result.text('zh')}：{'，'.join(parts)}（{result.formula('zh')}）。"
    return Calculation(text, evidence, [_call(result, inputs, question)])


# A run of months from a month after January ("6-8月", "6月至8月", "June to August"): each
# month of it (a run from January is a year to date, read as one period).
_MONTH_RUN = re.compile(
    r"(?<!\d)([2-9]|1[0-2])\s*月?\s*(?:[-–—~～]|至|到)\s*([3-9]|1[0-2])\s*月|"
    r"\b("
    + "|".join(calendar.month_name[2:])
    + r")\s*(?:-|–|to|through)\s*("
    + "|".join(calendar.month_name[3:])
    + r")\b",
    re.I,
)
_MONTH_OF = {name.lower(): i for i, name in enumerate(calendar.month_name) if name}
_MONTH_NAME = re.compile(r"\b(?:" + "|".join(calendar.month_name[1:]) + r")\b", re.I)


def periods_listed(question: Question) -> list[str]:
    """The quarters or months a question lists to combine ("7月、8月、9月", "6-8月", "Q1 and
    Q2"), in order: two or more of one kind, else none."""
    named: list[tuple[int, str]] = [(start, span) for start, _, span in spans_in(question.text)]
    # months listed in English ("July, August and September"), which `spans_in` reads as one
    # stretch when "and" joins two
    named += [
        (m.start(), f"m{_MONTH_OF[m.group(0).lower()]:02d}")
        for m in _MONTH_NAME.finditer(question.text)
    ]
    for m in _MONTH_RUN.finditer(question.text):
        first, last = (
            (int(m.group(1)), int(m.group(2)))
            if m.group(1)
            else (_MONTH_OF[m.group(3).lower()], _MONTH_OF[m.group(4).lower()])
        )
        named = [(at, span) for at, span in named if not m.start() <= at < m.end()]
        named += [
            (m.start() + i, f"m{month:02d}") for i, month in enumerate(range(first, last + 1))
        ]
    spans = sorted(dict.fromkeys(span for _, span in named))
    if len(spans) < 2 or len({span[0] for span in spans}) > 1 or spans[0][0] not in "qm":
        return []
    return spans


def _over_periods(
    question: Question,
    docs: list[Document],
    glossary: Glossary,
    combine: Callable[[Sequence[Quantity]], CalcResult],
    leads: tuple[str, str],
) -> Calculation | None:
    """One figure per listed month or quarter of one company or market, combined (summed,
    averaged) and each cited: "7月、8月、9月新增装机合计多少"."""
    spans = periods_listed(question)
    if not spans:
        return None
    entity = question.entities[0] if question.entities else None
    year = min(question.years) if len(question.years) == 1 else None
    amounts = frozenset({"money", "count", "measure", "number"})
    ops = [
        _figure(
            question,
            docs,
            glossary,
            entity=entity,
            year=year,
            period=span,
            kinds=amounts,
            changes=False,
        )  # fmt: skip
        for span in spans
    ]
    labels = [_span_label(span, question.language) for span in spans]
    if any(op is None for op in ops):
        return _missing(question, [label for label, op in zip(labels, ops, strict=True) if not op])
    operands = [op for op in ops if op is not None]
    if _one_figure_twice(operands) or len({_kind_key(op) for op in operands}) > 1:
        return None
    first = _fact_of(operands[0])
    if not all(
        op.evidence.text == operands[0].evidence.text  # one sentence lists like with like
        or _one_series(operands[0], op, entity, question)
        or (first and first.metric and (fact := _fact_of(op)) and fact.metric == first.metric)
        for op in operands[1:]
    ):
        return None  # one series' months, not a product's beside the company's
    return _combined(operands, labels, combine, leads, question)


def _one_figure_twice(operands: Sequence[_Operand]) -> bool:
    """Whether one written figure was found as two operands (the same sentence, place)."""
    seen = {(op.evidence.text, op.quantity.start, op.quantity.raw) for op in operands}
    return len(seen) < len(operands)


def _between_entities(
    question: Question, docs: list[Document], glossary: Glossary, retrieve: Retrieve
) -> Calculation | None:
    ops = _per_entity(question, docs, glossary, retrieve)[:2]
    if any(op is None for op in ops):
        return _missing(
            question,
            [
                display_name(question, g)
                for g, op in zip(question.entities, ops, strict=True)
                if op is None
            ],
        )
    a, b = ops[0], ops[1]
    assert a is not None and b is not None  # both found (checked above)
    if POINTS_ASKED.search(question.text) and a.quantity.kind != "percent":
        return None  # percentage points asked: two amounts' difference is no answer
    evidence, marker = _cite([a, b])
    names = [display_name(question, g) for g in question.entities[:2]]
    try:
        _checked([a, b], [q for e in evidence for q in e.quantities])
        a, b = _signed(a), _signed(b)  # a decline compared with a rise
        # "A比B少多少", "how many fewer … A than B": by how much B exceeds A
        x, y = (b, a) if _asks_less(question.text) else (a, b)
        result = difference(x.quantity, y.quantity)
    except CalculatorError as exc:
        # E.g. two lower bounds ("超过150万", "300万甚至更高"): state both, compute nothing.
        if question.language == "en":
            text = f"{names[0]} {_term(a, marker[0], question)} vs {names[1]} {_term(b, marker[1], question)}; the difference cannot be computed exactly ({exc})."
        else:
            text = f"{names[0]}{_term(a, marker[0], question)}，{names[1]}{_term(b, marker[1], question)}；两个数字都不是确定值，无法算出准确差值。"
        return Calculation(text, evidence, [])
    call = _call(result, {"a": a.quantity.raw, "b": b.quantity.raw}, question)
    text = _two_companies(question, names, (a, b), marker, result, ("a difference of", "相差"))
    return Calculation(text, evidence, [call])


def _ratio_between_entities(
    question: Question, docs: list[Document], glossary: Glossary, retrieve: Retrieve
) -> Calculation | None:
    """The first company's figure as a multiple of the second's, each of the asked metric."""
    a, b = (_per_entity(question, docs, glossary, retrieve) + [None, None])[:2]
    if a is None or b is None:
        return None
    evidence, marker = _cite([a, b])
    try:
        _checked([a, b], [q for e in evidence for q in e.quantities])
        result = ratio(a.quantity, b.quantity)
    except CalculatorError:
        return None
    names = [display_name(question, g) for g in question.entities[:2]]
    call = _call(result, {"a": a.quantity.raw, "b": b.quantity.raw}, question)
    text = _two_companies(question, names, (a, b), marker, result, ("a multiple of", "约为"))
    return Calculation(text, evidence, [call])


def _two_companies(
    question: Question,
    names: list[str],
    ops: tuple[_Operand, _Operand],
    marker: dict[int, int],
    result: CalcResult,
    lead: tuple[str, str],
) -> str:
    """ "A x [1] vs B y [2]: a difference of z (formula)." in the question's language."""
    a, b = (_term(op, marker[i], question) for i, op in enumerate(ops))
    if question.language == "en":
        return f"{names[0]} {a} vs {names[1]} {b}: {lead[0]} {result.text('en')} ({result.formula('en')})."
    return f"{names[0]}{a}，{names[1]}{b}，{lead[1]}{result.text('zh')}（{result.formula('zh')}）。"


def _asks_less(text: str) -> bool:
    """Whether a comparison asks by how much the first is below the second."""
    zh = COMPARED_ZH.search(text)
    if zh is not None:
        return bool(_LESS.search(zh.group(3)))
    en = COMPARED_EN.search(text) or COMPARED_BY_EN.search(text)
    if en is not None:
        word = en.group(1) if en.re is COMPARED_EN else en.group(2)
        return bool(_LESS.search(word))
    return False


def _midpoint(question: Question, docs: list[Document], glossary: Glossary) -> Calculation | None:
    stated = _stated_total(question, docs, glossary) if SUM.search(question.text) else None
    if stated is not None and stated.quantity.is_range:  # "Google and Meta's combined estimate"
        return _midpoint_of(stated.quantity, stated.evidence, question)
    evidence = select_evidence(question, docs, glossary, limit=6)
    # The range the question is about, chosen like any asked figure: "市场规模区间的中值" is
    # the market's money range, not the server count beside it.
    ranges = [
        replace(
            ev,
            quantities=tuple(
                q for q in ev.quantities if q.is_range and q.kind in ("count", "money", "percent")
            ),
        )
        for ev in evidence
    ]
    picked = best_quantity(replace(question, asks_change=False), ranges)
    if picked is None:
        return None
    return _midpoint_of(picked[1], evidence[picked[0]], question)


def _midpoint_of(q: Quantity, ev: Evidence, question: Question) -> Calculation | None:
    try:
        result = midpoint(q)
    except CalculatorError:
        return None
    op = _Operand(q, ev, "range")
    term = _term(op, 1, question)
    call = _call(result, {"range": q.raw}, question)
    if question.language == "en":
        text = f"The midpoint of {term} is {result.text('en')} ({result.formula('en')})."
    else:
        text = f"{term}的中值为{result.text('zh')}（{result.formula('zh')}）。"
    return Calculation(text, [ev], [call])


def _apply_ratio(
    question: Question, docs: list[Document], glossary: Glossary
) -> Calculation | None:
    evidence = select_evidence(question, docs, glossary, limit=8)
    stated = [q for q in extract_quantities(question.text) if q.kind == "ratio"]
    for ev in evidence:
        ratios = [q for q in ev.quantities if q.kind == "ratio"] or stated
        names = RATIO_NAMES.search(ev.text)
        if not ratios or not names:
            continue
        left, right = names.group(1), names.group(2)
        ratio_q = ratios[0]
        # The known figure: one given in the question ("100万颗TPU"), else a count in the
        # evidence about the right- or left-hand thing.
        asked = [(None, q) for q in extract_quantities(question.text) if q.kind == "count"]
        counts = asked + [
            (e, q)
            for e in evidence
            for q in e.quantities
            if q.kind == "count" and about_entity(e, question)
        ]
        for known_ev, known in counts:
            source_text = question.text if known_ev is None else known_ev.text
            side = _ratio_side(source_text, known, left, right)
            if side is None:
                continue
            try:
                result = apply_ratio(known, ratio_q, side, left_name=left, right_name=right)
            except CalculatorError:
                continue
            if known_ev is None:  # given in the question: nothing to cite for it
                cited, marker = [ev], {1: 1}
                k = render(known, question.language)
            else:
                ops = [_Operand(known, known_ev, "known"), _Operand(ratio_q, ev, "ratio")]
                cited, marker = _cite(ops)
                k = _term(ops[0], marker[0], question)
            other = left if side == "right" else right
            call = _call(
                result, {"known": known.raw, "ratio": ratio_q.raw, "known_side": side}, question
            )
            r = (
                f"{ratio_q.raw} [{marker[1]}]"
                if question.language == "en"
                else f"{ratio_q.raw}[{marker[1]}]"
            )
            if question.language == "en":
                text = f"At {left}:{right} = {r}, {k} correspond to {result.text('en')} ({result.formula('en')})."
            else:
                text = f"按{left}:{right} = {r}，{k}{right if side == 'right' else left}对应{result.text('zh')}{other}（{result.formula('zh')}）。"
            return Calculation(text, cited, [call])
    return None


def _ratio_side(
    text: str, known: Quantity, left: str, right: str
) -> Literal["left", "right"] | None:
    """Which term of "left:right" a figure counts: the name written right after it
    ("100万颗TPU") wins over one written before it ("TPU与AEC 1:1.25的比例，100万颗")."""
    after = text[known.end or 0 : (known.end or 0) + 8].upper()
    before = text[max(0, (known.start or 0) - 15) : known.start or 0].upper()
    for context in (after, before):
        sides: tuple[tuple[str, Literal["left", "right"]], ...] = ((left, "left"), (right, "right"))
        hits = [(context.find(n.upper()), side) for n, side in sides]
        hits = [(pos, side) for pos, side in hits if pos >= 0]
        if hits:
            # After the figure the nearest name is the first; before it, the last.
            return min(hits)[1] if context is after else max(hits)[1]
    return None


def _question_figures(question: Question) -> list[Quantity]:
    return [q for q in extract_quantities(question.text) if q.kind not in ("duration",)]


def _holder(q: Quantity, evidence: list[Evidence]) -> Evidence | None:
    return next((e for e in evidence if any(same_value(q, f) for f in e.quantities)), None)


def _cited_term(q: Quantity, cited: list[Evidence], language: str) -> str:
    """An operand as the answer shows it, with the marker of the sentence that states it (a
    figure the user gave in the question has none)."""
    n = next(
        (k + 1 for k, e in enumerate(cited) if any(same_value(q, f) for f in e.quantities)), None
    )
    shown = render(q, language)  # type: ignore[arg-type]
    if n is None:
        return shown
    return f"{shown} [{n}]" if language == "en" else f"{shown}[{n}]"


def _percent_change(
    question: Question, docs: list[Document], glossary: Glossary
) -> Calculation | None:
    """ "GB200需要5,000根铜连接，Rubin减少40%后需要多少根" → 5,000 × (1 − 40%) = 3,000."""
    match = CHANGE.search(question.text)
    if match is None:
        return None
    verb = match.group(1) or match.group(3)
    pct = next((q for q in extract_quantities(question.text) if q.kind == "percent"), None)
    base_q = next((q for q in _question_figures(question) if q.kind in ("count", "money")), None)
    evidence = select_evidence(question, docs, glossary, limit=8)
    base_ev = None
    if base_q is None:
        picked = best_quantity(
            replace(question, text=question.text.replace(match.group(0), ""), asks_change=False),
            evidence,
        )
        if picked is None or picked[1].kind not in ("count", "money"):
            return None
        base_ev, base_q = evidence[picked[0]], picked[1]
    if pct is None:
        return None
    try:
        result = percent_change(base_q, pct, decrease=bool(_DECREASE.search(verb)))
    except CalculatorError:
        return None
    # Cite the sentences that state the operands, when the notes do.
    cited = [e for e in (base_ev or _holder(base_q, evidence), _holder(pct, evidence)) if e]
    cited = list({e.text: e for e in cited}.values())
    lang = question.language

    call = _call(
        result,
        {
            "base": base_q.raw,
            "change": pct.raw,
            "decrease": str(_DECREASE.search(verb) is not None),
        },
        question,
    )
    if lang == "en":
        text = f"{result.text('en')[0].upper()}{result.text('en')[1:]}: {_cited_term(base_q, cited, lang)} changed by {'−' if _DECREASE.search(verb) else '+'}{_cited_term(pct, cited, lang)} ({result.formula('en')})."
    else:
        text = f"{result.text('zh')}：{_cited_term(base_q, cited, lang)}{'减少' if _DECREASE.search(verb) else '增加'}{_cited_term(pct, cited, lang)}（{result.formula('zh')}）。"
    return Calculation(text, cited, [call])


def _needed_for_target(
    question: Question, docs: list[Document], glossary: Glossary
) -> Calculation | None:
    """ "要实现全年营收增长9%的目标，四季度需要多少营收": the full-year target (last year's
    full year × (1 + 9%)) minus what this year's first nine months (or half) already gave."""
    if question.period is None or question.period.span not in REMAINDER:
        return None
    pct = next((q for q in extract_quantities(question.text) if q.kind == "percent"), None)
    if pct is None:
        return None
    entity = question.entities[0] if question.entities else None
    done_span = REMAINDER[question.period.span]
    done = _figure(
        question, docs, glossary, entity=entity, year=None, period=done_span,
        kinds=frozenset({"money", "count"}),
    )  # fmt: skip
    if done is None:
        return None
    year = done.quantity.year or (int(done.evidence.date[:4]) if done.evidence.date else None)
    if year is None:
        return None
    base = _figure(
        question, docs, glossary, entity=entity, year=year - 1, period="fy",
        kinds=frozenset({done.quantity.kind}),
    )  # fmt: skip
    if base is None or base.quantity.year != year - 1:
        return None  # last year's full year is what a growth target is measured against
    evidence, marker = _cite([base, done])
    try:
        _checked([base, done], [q for e in evidence for q in e.quantities] + [pct])
        target = percent_change(base.quantity, pct, decrease=False)
        needed = difference(target.value, done.quantity)
    except CalculatorError:
        return None
    calls = [
        _call(
            target, {"base": base.quantity.raw, "change": pct.raw, "decrease": "False"}, question
        ),
        _call(needed, {"a": target.text(question.language), "b": done.quantity.raw}, question),
    ]
    b, d = _term(base, marker[0], question), _term(done, marker[1], question)
    span = _span_label(question.period.span, question.language)
    done_label = _span_label(done_span, question.language)
    if question.language == "en":
        text = (
            f"{span} would need {needed.text('en')}: a full-year target of "
            f"{target.text('en')} ({year - 1} full year {b} × (1 + {pct.raw.strip()})) minus "
            f"{done_label} {year} {d} ({needed.formula('en')})."
        )
    else:
        text = (
            f"{span}需{needed.text('zh')}：全年目标{target.text('zh')}（{year - 1}年全年{b}"
            f" ×（1 + {pct.raw.strip()}））减去{year}年{done_label}{d}"
            f"（{needed.formula('zh')}）。"
        )
    return Calculation(text, evidence, calls)


def _needed_per_month(
    question: Question, docs: list[Document], glossary: Glossary
) -> Calculation | None:
    """ "全年目标460万辆，按1-10月累计销量计算，11、12两个月平均每月需要卖多少": the target the
    question states less the part of the year done, spread over the months left."""
    targets = [q for q in extract_quantities(question.text) if q.kind in ("count", "money")]
    done_spans = [s for _, _, s in spans_in(question.text) if s in MONTHS]
    if len(targets) != 1 or not done_spans:
        return None
    target, span = targets[0], done_spans[0]
    left = 12 - MONTHS[span]
    entity = question.entities[0] if question.entities else None
    done = _figure(
        question, docs, glossary, entity=entity, year=None, period=span,
        kinds=frozenset({target.kind}),
    )  # fmt: skip
    if done is None or left < 1:
        return None
    evidence, marker = _cite([done])
    try:
        _checked([done], [q for e in evidence for q in e.quantities] + [target])
        remaining = difference(target, done.quantity)
        result = spread(remaining.value, left)
    except CalculatorError:
        return None
    calls = [
        _call(remaining, {"a": target.raw, "b": done.quantity.raw}, question),
        _call(
            result, {"figure": remaining.text(question.language), "periods": str(left)}, question
        ),
    ]
    d = _term(done, marker[0], question)
    label = _span_label(span, question.language)
    if question.language == "en":
        shown = result.text("en")
        text = (
            f"{shown[:1].upper()}{shown[1:]} a month: the target {target.raw.strip()} less {label} "
            f"{d} leaves {remaining.text('en')} for the {left} months left "
            f"({remaining.formula('en')}; {result.formula('en')})."
        )
    else:
        text = (
            f"每月{result.text('zh')}：目标{target.raw.strip()}减去{label}{d}，剩余"
            f"{remaining.text('zh')}，分摊到余下{left}个月（{remaining.formula('zh')}；"
            f"{result.formula('zh')}）。"
        )
    return Calculation(text, evidence, calls)


def _per_unit(question: Question, docs: list[Document], glossary: Glossary) -> Calculation | None:
    """ "按销量约165GWh计算，单Wh归母净利润约为多少元": the asked amount ÷ the quantity the
    question states, in the unit it asks per (GWh counted in Wh)."""
    match = PER_UNIT.search(question.text)
    if match is None:
        return None
    per = next(g for g in match.groups() if g)
    figures = _question_figures(question)
    if any(q.kind == "money" for q in figures):
        return None  # a rate per unit is given ("每台X元"): the total is asked, a product
    stated = [q for q in figures if q.kind in ("measure", "count")]
    if not stated:
        return _per_unit_of_notes(question, docs, glossary, per)
    if len(stated) != 1:
        return None
    units = stated[0]
    # The amount: the asked metric's figure, read from a question without the stated quantity.
    sub = replace(
        question,
        # neither the quantity nor "单Wh": the amount is a total, not one per unit
        text=question.text.replace(units.raw, " ").replace(match.group(0), " "),
        asks_change=False,
        years=question.years,
    )
    evidence = select_evidence(sub, docs, glossary, limit=8)
    amounts = [
        replace(ev, quantities=tuple(q for q in ev.quantities if q.kind == "money"))
        for ev in evidence
    ]
    picked = best_quantity(sub, amounts)
    if picked is None:
        return None
    holder, amount = amounts[picked[0]], picked[1]
    try:
        result = per_unit(amount, units, per)
    except CalculatorError:
        return None
    call = _call(result, {"amount": amount.raw, "units": units.raw, "per": per}, question)
    cited = [holder]
    value = f"{result.text(question.language)}/{per}"
    if question.language == "en":
        text = (
            f"{value[0].upper()}{value[1:]}: {_cited_term(amount, cited, 'en')} over "
            f"{units.raw.strip()} ({result.formula('en')})."
        )
    else:
        text = f"{value}：{_cited_term(amount, cited, 'zh')} ÷ {units.raw.strip()}（{result.formula('zh')}）。"
    return Calculation(text, cited, [call])


_MONEY = frozenset({"money"})


def _per_unit_of_notes(
    question: Question, docs: list[Document], glossary: Glossary, per: str
) -> Calculation | None:
    """ "按三季度归母净利润和风机销量计算，单台归母净利润", "net profit per vehicle sold": the
    asked amount ÷ the count the notes state for the same company and period."""
    entity = question.entities[0] if question.entities else None
    year = min(question.years) if len(question.years) == 1 else None
    period = question.period.span if question.period is not None else None
    amount = _figure(
        question, docs, glossary, entity=entity, year=year, period=period, kinds=_MONEY
    )
    if amount is None:
        return None
    # The count divided by is one the question names (风机销量), not any count nearby: it is
    # looked up by the metrics asked other than the amount's.
    spent = _fact_of(amount)
    counting = tuple(
        group
        for group in question.metrics
        if not (spent and spent.metric and spent.metric.lower() in {x.lower() for x in group})
    )
    named = {a.lower() for group in counting for a in group}
    units = _figure(
        replace(question, metrics=counting),
        docs,
        glossary,
        entity=entity,
        year=year,
        period=period,
        kinds=frozenset({"count"}),
    )
    if units is None or not _one_company(amount, units, entity):
        return None
    counted = _fact_of(units)
    if counted is None or counted.metric is None or counted.metric.lower() not in named:
        return None
    try:
        result = per_unit(amount.quantity, units.quantity, units.quantity.unit or per)
    except CalculatorError:
        return None
    evidence, marker = _cite([amount, units])
    inputs = {"amount": amount.quantity.raw, "units": units.quantity.raw, "per": per}
    call = _call(result, inputs, question)
    terms = [_term(amount, marker[0], question), _term(units, marker[1], question)]
    if question.language == "en":
        text = f"About {result.text('en')} per {per}: {', '.join(terms)} ({result.formula('en')})."
    else:
        unit = units.quantity.unit or per
        text = f"约{result.text('zh')}/{unit}：{'，'.join(terms)}（{result.formula('zh')}）。"
    return Calculation(text, evidence, [call])


def _product(question: Question, docs: list[Document], glossary: Glossary) -> Calculation | None:
    """Two figures that multiply into what is asked: a per-unit value × a count
    ("每台2000元 × 5-10万台"), or a value × a share ("12,000美元 × 20%")."""
    evidence = select_evidence(question, docs, glossary, limit=8)
    asked = [
        q
        for q in _question_figures(question)
        if q.kind in ("count", "money", "percent", "fraction")
    ]
    pool: list[tuple[Quantity, Evidence | None]] = [(q, None) for q in asked]
    # The question names one figure ("at the 20% share"): the other comes from the evidence
    # sentence that states the first (the value beside the share).
    if len(asked) == 1:
        holder = _holder(asked[0], evidence)
        if holder is None or not about_entity(holder, question):
            return None
        pool += [
            (q, holder)
            for q in holder.quantities
            if q.kind in ("count", "money") and not same_value(q, asked[0])
        ]
    elif len(asked) < 1:
        return None
    for i, (a, a_ev) in enumerate(pool):
        for b, b_ev in pool[i + 1 :]:
            kinds = {a.kind, b.kind}
            if not (
                kinds == {"count", "money"}
                or (
                    len(kinds) == 2
                    and kinds & {"percent", "fraction"}
                    and kinds & {"count", "money"}
                )
            ):
                continue
            try:
                result = multiply(a, b)
            except CalculatorError:
                continue
            cited: list[Evidence] = []
            for q, ev in ((a, a_ev), (b, b_ev)):
                ev = ev or _holder(q, evidence)
                if ev is not None and all(ev.text != c.text for c in cited):
                    cited.append(ev)
            lang = question.language
            call = _call(result, {"a": a.raw, "b": b.raw}, question)
            if lang == "en":
                text = f"{result.text('en')[0].upper()}{result.text('en')[1:]}: {_cited_term(a, cited, lang)} × {_cited_term(b, cited, lang)} ({result.formula('en')})."
            else:
                text = f"{result.text('zh')}：{_cited_term(a, cited, lang)} × {_cited_term(b, cited, lang)}（{result.formula('zh')}）。"
            return Calculation(text, cited, [call])
    return None


def _sum_parts(question: Question, docs: list[Document], glossary: Glossary) -> Calculation | None:
    """ "美墨工厂和泰国工厂的AEC产能合计" → the figure stated for each part, summed."""
    match = SUM_PARTS.search(question.text)
    if match is None:
        return None
    parts = [g for g in match.groups() if g is not None]
    if any(glossary.entities_in(part) for part in parts):
        return None  # two companies' figures: see `_sum`
    evidence = select_evidence(question, docs, glossary, limit=10)
    operands: list[_Operand] = []
    for part in parts:
        kinds = {operands[0].quantity.kind} if operands else {"count", "money"}
        best: tuple[int, Quantity, Evidence] | None = None
        for ev in evidence:
            at = ev.text.lower().find(part.lower())
            if at < 0:
                continue
            for f in ev.quantities:
                if f.kind not in kinds or f.start is None:
                    continue
                # The figure written after the part's name, nearest first.
                gap = f.start - at if f.start >= at else 1000 + at - f.start
                if best is None or gap < best[0]:
                    best = (gap, f, ev)
        if best is None:
            # an English pair the notes write in other words ("power cables and busbars" of
            # a Chinese note) leaves the question to its other readings
            return None if match.group(3) else _missing(question, [part])
        operands.append(_Operand(best[1], best[2], part))
    evidence_cited, marker = _cite(operands)
    try:
        _checked(operands, [q for e in evidence_cited for q in e.quantities])
        result = total([op.quantity for op in operands])
    except CalculatorError:
        return None
    call = _call(result, {op.label: op.quantity.raw for op in operands}, question)
    space = " " if question.language == "en" else ""
    terms = [f"{op.label}{space}{_term(op, marker[i], question)}" for i, op in enumerate(operands)]
    if question.language == "en":
        text = f"Together {result.text('en')}: " + ", ".join(terms) + f" ({result.formula('en')})."
    else:
        text = f"合计{result.text('zh')}：" + "，".join(terms) + f"（{result.formula('zh')}）。"
    return Calculation(text, evidence_cited, [call])


def _explain(
    result: CalcResult, terms: list[str], question: Question, lead_en: str, lead_zh: str
) -> str:
    if question.language == "en":
        return f"{lead_en} {result.text('en')}: {', '.join(terms)} ({result.formula('en')})."
    value = result.text("zh")
    if lead_zh.endswith("约") and value.startswith("约"):
        value = value[1:]  # a lead that already says "about" ("占比约") with an approximate input
    return f"{lead_zh}{value}：{'，'.join(terms)}（{result.formula('zh')}）。"


def _single(
    op: _Operand,
    result: CalcResult,
    question: Question,
    inputs: dict[str, str],
    lead_en: str,
    lead_zh: str,
) -> Calculation:
    evidence, marker = _cite([op])
    text = _explain(result, [_term(op, marker[0], question)], question, lead_en, lead_zh)
    return Calculation(text, evidence, [_call(result, inputs, question)])


def _cagr(question: Question, docs: list[Document], glossary: Glossary) -> Calculation | None:
    """Compound annual growth between the first and last year asked."""
    first, last = min(question.years), max(question.years)
    entity = question.entities[0] if question.entities else None
    ops = _alike(
        lambda kinds, y: _figure(question, docs, glossary, entity=entity, year=y, kinds=kinds),
        (first, last),
    )
    if ops[0] is None or ops[1] is None:
        absent = [str(y) for y, op in zip((first, last), ops, strict=True) if op is None]
        return _missing(question, absent)
    evidence, marker = _cite([ops[0], ops[1]])
    try:
        _checked([ops[0], ops[1]], [q for e in evidence for q in e.quantities])
        result = cagr(ops[0].quantity, ops[1].quantity, last - first)
    except CalculatorError:
        return None
    call = _call(
        result,
        {"start": ops[0].quantity.raw, "end": ops[1].quantity.raw, "years": str(last - first)},
        question,
    )
    terms = [
        f"{first}: {_term(ops[0], marker[0], question)}",
        f"{last}: {_term(ops[1], marker[1], question)}",
    ]
    if question.language == "zh":
        terms = [
            f"{first}年{_term(ops[0], marker[0], question)}",
            f"{last}年{_term(ops[1], marker[1], question)}",
        ]
    text = _explain(
        result,
        terms,
        question,
        f"Compound annual growth {first}-{last} of",
        f"{first}-{last}年复合增速",
    )
    return Calculation(text, evidence, [call])


def _annualise(question: Question, docs: list[Document], glossary: Glossary) -> Calculation | None:
    """A part-year figure at its run-rate: H1 × 2, 9M × 4/3, a quarter × 4."""
    spans = [s for _, _, s in spans_in(question.text) if s in MONTHS]
    if not spans:
        return None
    span = spans[0]
    year = min(question.years) if question.years else None
    entity = question.entities[0] if question.entities else None
    asked = question.asked_kind  # "全年对外授权总额约为多少亿美元": the amount, not the deals
    op = _figure(
        question,
        docs,
        glossary,
        entity=entity,
        year=None,
        period=span,
        kinds=frozenset({asked}) if asked in ("money", "count") else frozenset({"money", "count"}),
    )
    if op is None:
        return _missing(question, [f"{span.upper()} {year or ''}".strip()])
    try:
        _checked([op], list(op.evidence.quantities))
        result = annualise(op.quantity, MONTHS[span])
    except CalculatorError:
        return None
    return _single(
        op,
        result,
        question,
        {"figure": op.quantity.raw, "months": str(MONTHS[span])},
        "At that run-rate, a full year of",
        "按此节奏全年",
    )


def _work_back(question: Question, docs: list[Document], glossary: Glossary) -> Calculation | None:
    """The figure before a reported change: the level ÷ (1 + growth), or a percentage minus
    its change in points. Level and change come from one sentence, the change right after."""
    # The year asked is the one not written; the figure worked back from is a level.
    period = replace(question.period, year=None) if question.period else None  # 9M24 from 9M25
    # Worked back over a quarter-on-quarter change, from the quarter after the one asked
    # ("用Q3归母净利润和环比增速反推二季度"): that quarter's level and its 环比 change.
    sequential = bool(SEQUENTIAL.search(question.text))
    following: dict[str, Span] = {"q1": "q2", "q2": "q3", "q3": "q4"}
    if sequential and period is not None and period.span in following:
        period = replace(period, span=following[period.span])
    sub = replace(question, years=frozenset(), period=period, asks_change=False)
    evidence = [e for e in select_evidence(sub, docs, glossary, limit=8) if about_entity(e, sub)]
    asked_year = min(question.years) if question.years else None
    for ev in evidence:
        if asked_year is not None and ev.years and max(ev.years) <= asked_year:
            continue  # a level of the year asked, or earlier, is no later level to work back from
        levels = replace(
            ev, quantities=tuple(q for q in ev.quantities if not states_change(ev.text, q))
        )
        picked = best_quantity(sub, [levels], any_year=True)
        if picked is None:
            continue
        level = picked[1]
        change = _change_of(level, ev, sequential=sequential)
        if change is None:
            continue
        before = ev.text[max(0, (change.start or 0) - 10) : change.start or 0]
        decrease = bool(
            re.search(
                r"下降|下滑|减少|回落|降|跌|\bdown\b|\bfell\b|\bdeclin|\blower\b|-$|−$",
                before,
                re.I,
            )
        )
        try:
            result = work_back(
                level,
                change.model_copy(update={"low": abs(change.low), "high": abs(change.high)}),
                decrease=decrease or change.low < 0,
            )
        except CalculatorError:
            continue
        level_op, change_op = _Operand(level, ev, "level"), _Operand(change, ev, "change")
        cited, marker = _cite([level_op, change_op])
        terms = [_term(level_op, marker[0], question), _term(change_op, marker[1], question)]
        call = _call(result, {"level": level.raw, "change": change.raw}, question)
        text = _explain(result, terms, question, "Before that change it was", "倒推前值约")
        return Calculation(text, cited, [call])
    return None


def _change_of(level: Quantity, ev: Evidence, *, sequential: bool = False) -> Quantity | None:
    """The change stated for a level: the nearest change figure with no other level between
    them, after it ("营收231.88亿元、同比增长14.85%") or before it ("rose 60.5% to RMB167.80bn
    in 9M25, and Q3 … up 91.5%"); a quarter-on-quarter one (环比) only when `sequential`."""
    at = level.start or 0
    levels = [q.start or 0 for q in ev.quantities if not states_change(ev.text, q) and q != level]
    changes = [
        q
        for q in ev.quantities
        if states_change(ev.text, q)
        and not any(min(at, q.start or 0) < p < max(at, q.start or 0) for p in levels)
        and bool(SEQUENTIAL.search(ev.text[max(0, (q.start or 0) - 8) : q.start or 0]))
        == sequential
    ]
    return min(changes, key=lambda q: abs((q.start or 0) - at), default=None)


def derived_period(
    question: Question, docs: list[Document], glossary: Glossary
) -> Calculation | None:
    """A period the notes do not state, from two they do, of one year: H1 = 9M − Q3,
    Q4 = FY − 9M; 9M = H1 + Q3, FY = 9M + Q4."""
    if question.period is None:
        return None
    span = question.period.span
    for table, combine in ((DERIVED, difference), (DERIVED_SUM, None)):
        if span in table:
            computed = _derived(question, docs, glossary, table[span], combine)
            if computed is not None:
                return computed
    return None


# A change against the same period a year before: "同比", "year on year", "from a year earlier".
_YEAR_ON_YEAR = re.compile(
    r"同比|较去年同期|比去年同期|\byoy\b|y/y|year[- ]on[- ]year|a year (?:earlier|ago|before)",
    re.I,
)


def year_on_year(
    question: Question, docs: list[Document], glossary: Glossary
) -> Calculation | None:
    """A year-on-year change the notes do not state, from the two levels they do: the asked
    period's ("9月…9.66GW") and the same period's a year before ("去年同期的20.89GW")."""
    if (
        question.period is None
        or len(question.years) > 1
        or not question.asks_change
        or not _YEAR_ON_YEAR.search(question.text)
        or SEQUENTIAL.search(question.text)
    ):
        return None
    span = question.period.span
    entity = question.entities[0] if question.entities else None
    amounts = frozenset({"money", "count", "measure", "number"})

    def level(year: int | None) -> _Operand | None:
        return _figure(
            question, docs, glossary, entity=entity, year=year, period=span, kinds=amounts,
            changes=False,
        )  # fmt: skip

    asked = next(iter(question.years), None)
    end = level(asked)
    if end is None:
        return None
    year = end.quantity.year or asked or (int(end.evidence.date[:4]) if end.evidence.date else None)
    if year is None:
        return None
    start = level(year - 1)
    if start is None or start.quantity.year != year - 1 or start.quantity == end.quantity:
        return None  # the year before must be stated as such ("去年同期")
    if _kind_key(start) != _kind_key(end) or not _one_company(start, end, entity):
        return None
    if start.evidence.text != end.evidence.text and not _one_series(start, end, entity, question):
        return None
    label = _span_label(span, question.language)
    labels = (
        (f"{year - 1}年{label}", f"{year}年{label}")
        if question.language == "zh"
        else (f"{label} {year - 1}", f"{label} {year}")
    )
    return _change_between(start, end, labels, question, growth=True)


def sequential_change(
    question: Question, docs: list[Document], glossary: Glossary
) -> Calculation | None:
    """A quarter-on-quarter (month-on-month) change the notes do not state, from the two
    levels they do: the asked quarter's and the one before it in the same year."""
    if (
        question.period is None
        or not question.asks_change
        or not SEQUENTIAL.search(question.text)
        or len(spans_in(question.text)) != 1
    ):
        return None
    span = question.period.span
    if re.fullmatch(r"q[2-4]", span):
        before = f"q{int(span[1]) - 1}"
    elif re.fullmatch(r"m(?:0[2-9]|1[0-2])", span):
        before = f"m{int(span[1:]) - 1:02d}"
    else:
        return None
    return _between_spans(question, docs, glossary, growth=True, spans=(before, span))


def _derived(
    question: Question,
    docs: list[Document],
    glossary: Glossary,
    spans: tuple[str, str],
    combine: Callable[[Quantity, Quantity], CalcResult] | None,
) -> Calculation | None:
    assert question.period is not None
    entity = question.entities[0] if question.entities else None
    year = question.period.year or (min(question.years) if len(question.years) == 1 else None)
    # The kind asked ("多少亿美元"), else an amount or a count; both operands of one kind (a
    # half-year's count of deals is no operand for nine months' deal value).
    asked = question.asked_kind
    amounts = frozenset({asked} if asked in ("money", "count") else {"money", "count"})
    ops = _alike(
        lambda kinds, s: _figure(
            question, docs, glossary, entity=entity, year=year, period=s, kinds=kinds or amounts
        ),
        spans,
    )
    if ops[0] is None or ops[1] is None:
        return None
    a, b = ops[0].quantity, ops[1].quantity
    if (a.low, a.high) == (b.low, b.high) or a.kind != b.kind:
        return None  # one figure read twice, or two figures of different kinds
    if not _one_series(ops[0], ops[1], entity, question):
        return None  # one company's nine months minus another's quarter is no half-year
    if a.year and b.year and a.year != b.year:
        return None  # last year's full year minus this year's nine months is no quarter
    if _forecast(ops[0].evidence) != _forecast(ops[1].evidence):
        return None  # a forecast year less the reported nine months is no reported quarter
    evidence, marker = _cite([ops[0], ops[1]])
    try:
        _checked([ops[0], ops[1]], [q for e in evidence for q in e.quantities])
        result = combine(a, b) if combine is not None else total([a, b])
    except CalculatorError:
        return None
    call = _call(result, {"a": a.raw, "b": b.raw}, question)
    terms = [
        f"{spans[0].upper()} {_term(ops[0], marker[0], question)}",
        f"{spans[1].upper()} {_term(ops[1], marker[1], question)}",
    ]
    label = question.period.span.upper()
    how_en, how_zh = ("difference", "两期之差") if combine is not None else ("sum", "两期之和")
    text = _explain(
        result, terms, question, f"{label}, as the {how_en} of the two:", f"{label}（{how_zh}）约"
    )
    return Calculation(text, evidence, [call])


# A figure someone expects rather than one reported: "盈利预测：…今年9.5亿元", "we forecast".
_FORECAST = re.compile(
    r"预测|预计|预期|估计|指引|目标|\b(?:forecasts?|estimates?|expects?|expected|projects?|"
    r"projected|guidance|outlook)\b|\b20\d\dE\b",
    re.I,
)


def _forecast(evidence: Evidence) -> bool:
    return bool(_FORECAST.search(f"{evidence.lead} {evidence.text}"))


def _one_series(
    a: _Operand, b: _Operand, entity: tuple[str, ...] | None, question: Question
) -> bool:
    """Whether two period figures can be one series: not two companies' (nor another than the
    one asked), so that their sum or difference is a period of that company. (Requiring one
    metric word as well lost a correct case: notes vary the word, "营收" then "营业收入".)"""
    if not _one_company(a, b, entity):
        return False
    # One part of the whole ("线上平台单季收入") and the whole ("营业收入") are two series; one
    # series is named alike in both clauses ("直销渠道收入", "直销收入").
    wa = series_words(a.quantity, a.evidence, question)
    wb = series_words(b.quantity, b.evidence, question)
    if wa is not None and wb is not None:
        ja, jb = "".join(wa), "".join(wb)
        if bool(ja) != bool(jb) or (ja and not share_a_word(ja, jb)):
            return False
    return True


def _one_company(a: _Operand, b: _Operand, entity: tuple[str, ...] | None) -> bool:
    """Whether two operands are of one company (the one asked, if any): not two companies'."""
    fa, fb = _fact_of(a), _fact_of(b)
    if fa is None or fb is None:
        return False
    if fa.entity and fb.entity and fa.entity != fb.entity:
        return False
    return entity is None or all(not f.entity or f.entity in entity for f in (fa, fb))


def _same_metric(a: str, b: str, glossary: Glossary) -> bool:
    """Whether two metric words name one measure: one term group holds both, or they share
    a word ("营收", "营业收入" share none, but one group holds them)."""
    if share_a_word(a.lower(), b.lower()):
        return True
    return any({a.lower(), b.lower()} <= {x.lower() for x in group} for group in glossary.terms)


def _of_span(op: _Operand, span: str) -> bool:
    """Whether an operand is stated for `span`: its fact's own period, else its sentence's."""
    fact = _fact_of(op)
    own = fact.period if fact is not None else None
    return own == span or (own is None and span in op.evidence.spans)


def _fact_of(op: _Operand) -> Fact | None:
    return next((f for f in facts_of(op.evidence) if f.quantity == op.quantity), None)


def _share(
    question: Question, docs: list[Document], glossary: Glossary, retrieve: Retrieve
) -> Calculation | None:
    """ "A占B的比重", "A as a share of B": A ÷ B, each looked up as its own question."""
    return _of_two_phrases(
        question, docs, glossary, retrieve, (SHARE_ZH, SHARE_EN), share, ("part", "whole"),
        ("A share of", "占比约"),
    )  # fmt: skip


# A margin is its profit over revenue: 营业利润率 = 营业利润 ÷ 营业收入, "gross margin" = gross
# profit ÷ revenue. The profit is the margin's own name without its ratio word.
_MARGIN_ZH = re.compile(r"([\u4e00-\u9fff]{1,6}?)率")
_MARGIN_EN = re.compile(r"\b((?:[A-Za-z-]+ ){0,2}?)(?:profit )?margin\b", re.I)


def derived_margin(
    question: Question, docs: list[Document], glossary: Glossary, retrieve: Retrieve
) -> Calculation | None:
    """A margin the notes do not state, from the profit and the revenue they do, of one
    company and period ("三星DS部门营业利润率" from its 营业利润 and 营收)."""
    if len(question.metrics) != 1 or question.asks_who:
        return None  # (which company's margin is highest is a ranking, no one margin)
    text = question.text
    if question.language == "zh":
        asked = next(
            (a for a in sorted(question.metrics[0], key=len, reverse=True) if a in text), None
        )
        match = _MARGIN_ZH.fullmatch(asked) if asked else None
        if asked is None or match is None or not match.group(1).endswith(("利", "利润")):
            return None
        profit = match.group(1) + ("润" if match.group(1).endswith("利") else "")
        pieces = (text.replace(asked, profit, 1), text.replace(asked, "营业收入", 1))
    else:
        match = _MARGIN_EN.search(text)
        if match is None:
            return None
        kind = match.group(1).strip() or "net"
        pieces = (
            text[: match.start()] + f"{kind} profit" + text[match.end() :],
            text[: match.start()] + "revenue" + text[match.end() :],
        )
    question = replace(question, metrics=())  # each piece names its own metric
    return _of_two_phrases(
        question, docs, glossary, retrieve, (), share, ("profit", "revenue"),
        ("A margin of", "利润率约"), pieces=pieces, one_company=True,
    )  # fmt: skip


def _multiple(
    question: Question, docs: list[Document], glossary: Glossary, retrieve: Retrieve
) -> Calculation | None:
    """ "A是B的多少倍", "how many times B is A": A ÷ B as a multiple."""
    return _of_two_phrases(
        question, docs, glossary, retrieve, (MULTIPLE_ZH, MULTIPLE_EN), ratio, ("a", "b"),
        ("A multiple of", "约为"),
    )  # fmt: skip


def _part_within_whole(question: Question, glossary: Glossary) -> tuple[str, str] | None:
    """(part, whole) of "三季度电池销量中，储能电池占比多少": the part measured as the whole is
    ("储能电池销量"). None unless the whole names a metric: "在中国市场占比" names a place."""
    match = SHARE_OF_WHOLE_ZH.search(question.text)
    if match is None:
        return None
    part, whole = match.group(2), match.group(1)
    measured = Question.parse(whole, question.language, glossary).metrics
    if not measured:
        return None
    if not Question.parse(part, question.language, glossary).metrics:
        written = next((a for a in measured[0] if a in whole), None)
        part = f"{part}{written or ''}"
    return part, whole


def _of_two_phrases(
    question: Question,
    docs: list[Document],
    glossary: Glossary,
    retrieve: Retrieve,
    patterns: tuple[re.Pattern[str], ...],
    operation: Callable[[Quantity, Quantity], CalcResult],
    inputs: tuple[str, str],
    leads: tuple[str, str],
    pieces: tuple[str, str] | None = None,
    one_company: bool = False,
) -> Calculation | None:
    """One operation over the two figures a question names as phrases: `pieces`, else the
    first two groups of the first pattern that matches; `one_company`: both of one company
    (a margin is one company's profit over its own revenue)."""
    if pieces is None:
        match = next((m for p in patterns if (m := p.search(question.text))), None)
        if match is None:
            return None
        pieces = tuple([g for g in match.groups() if g is not None][:2])  # type: ignore[assignment]
        assert pieces is not None
    first, second = pieces
    ops = _two_pieces(
        question, docs, glossary, retrieve, first, second, same_period=operation is share
    )
    if ops is None:
        return None
    part, whole = ops[0].quantity, ops[1].quantity
    entity = question.entities[0] if question.entities else None
    if one_company and not _one_company(ops[0], ops[1], entity):
        return None  # one airline's profit over another's revenue is no margin
    if _one_figure_twice(list(ops)):
        return None  # one figure found for both phrases: the other is not stated
    amounts = part.kind == whole.kind and part.kind in ("money", "count", "measure")
    if operation is share and amounts and part.low >= whole.high:
        return None  # a part as large as its whole: one of the two is another figure
    evidence, marker = _cite(ops)
    try:
        _checked(ops, [q for e in evidence for q in e.quantities])
        result = operation(ops[0].quantity, ops[1].quantity)
    except CalculatorError:
        return None
    call = _call(result, {inputs[0]: ops[0].quantity.raw, inputs[1]: ops[1].quantity.raw}, question)
    terms = [_term(ops[0], marker[0], question), _term(ops[1], marker[1], question)]
    return Calculation(_explain(result, terms, question, *leads), evidence, [call])


def _two_pieces(
    question: Question,
    docs: list[Document],
    glossary: Glossary,
    retrieve: Retrieve,
    first: str,
    second: str,
    kinds: frozenset[str] = frozenset({"money", "count", "measure"}),
    same_period: bool = False,
) -> list[_Operand] | None:
    """The two operands a question names as phrases ("合同负债" and "年初"), each looked up as
    its own question. A phrase that names no company, metric or period takes the question's
    (and the first phrase's): "三季度末合同负债是年初的多少倍" compares 合同负债 at two dates.
    One that names neither a company nor a metric ("the full-year 2024 total", "集中式") is
    read in the first one's note: it is the same series, not another note's. `same_period`:
    the second takes the question's period too (a share's whole)."""
    pieces = [first.strip(), second.strip()]
    subs = [read_as_in(Question.parse(p, question.language, glossary), question) for p in pieces]
    elliptical = not subs[1].entities and not subs[1].metrics
    head = subs[0]
    for i, sub in enumerate(subs):
        if not sub.entities and question.entities:
            sub = replace(sub, entities=question.entities[:1])
        if not sub.metrics and (head.metrics or question.metrics):
            sub = replace(sub, metrics=head.metrics or question.metrics)
        # (a share's whole is of its part's period: "10月海外销量占总销量", not the year's)
        # (nor is a first phrase that dates itself of the period the second one writes:
        # "2025年中期分红总额相当于上半年归母净利润的百分之几")
        theirs = i == 0 and subs[1].period is not None and bool(sub.years)
        if sub.period is None and question.period is not None and (i == 0 or same_period):
            sub = sub if theirs else replace(sub, period=question.period)
        subs[i] = sub
    firsts: list[_Operand] = []

    def find(wanted: frozenset[str] | None, i: int) -> _Operand | None:
        pool = retrieve(pieces[i]) + docs
        if i == 1 and elliptical and firsts:
            # the same series in the first one's note, searched with the words of the sentence
            # that states the first, in the note's own language (an English phrase over a
            # Chinese note finds the other year's line through the Chinese words they share)
            pool += retrieve(firsts[-1].evidence.text)
            pool = [d for d in pool if d.metadata.get("source") == firsts[-1].evidence.doc_id]
        op = _figure(
            subs[i], pool, glossary, entity=None, year=None, kinds=wanted or kinds,
            wording=question.text,
        )  # fmt: skip
        if i == 0 and op is not None:
            firsts.append(op)
        return op

    ops = _alike(find, [0, 1])
    if ops[0] is None or ops[1] is None or ops[0].quantity == ops[1].quantity:
        return None  # one figure compared with itself is no answer
    return [ops[0], ops[1]]
