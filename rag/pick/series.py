"""What part of a company a figure measures, read from its own clause: "直销渠道收入" is a
channel's, "茅台酒收入" a product's, "营业收入" the whole company's. A calculation combines
figures of one series only; a question that names no part is answered by the whole."""

from __future__ import annotations

import re

from rag.facts.periods import spans_in
from rag.numbers import Quantity
from rag.pick.evidence import Evidence, metric_of
from rag.plan.question import Question

# Words that open a figure's clause without narrowing what it measures.
_NOT_A_PART = re.compile(
    r"其中|公司|实现|单看|单季|合计|累计|共计|同期|报告期|本期|分别|仅|约|达到|达|为|的|了|"
    r"是多少|多少|是|有|大约|如何|怎样|请问|[？?]|"
    # comparison words and connectives ("不过环比9月的…", "对比二季度，…")
    r"环比|同比|对比|相比|较|不过|但是|但|而且|而|此外|另外|同时|"
    # how it changed ("同比增长", "下降"): no part of the company
    r"增长|增速|增幅|降幅|下降|下滑|提升|上升|减少|增加|回落|"
    # a transcript's speaker labels and markup ("答：", "**专家：**")
    r"问|答|专家|主持人|分析师|\*+|#+|"
    r"[\s\d.,，、：:；;（）()%％年月日]"
)


def series_words(q: Quantity, ev: Evidence, question: Question) -> list[str] | None:
    """What a period figure's clause says it measures beyond the asked company and metric
    (see `series_in`). None for English, which states the measure after the figure as often."""
    subject = q.subject or ""
    if not subject or not re.search(r"[\u4e00-\u9fff]", subject):
        return None
    fact_metric = metric_of(ev, q)
    return series_in(own_clause(subject), question, frozenset({fact_metric} if fact_metric else ()))


_CLAUSE_MARK = re.compile(
    r"[，,；;（(、]"
)  # ("营收22.23万亿韩元、营业利润9.21万亿韩元": one item each)
_TOPIC_CLAUSE = re.compile(r"(?:方面|而言|来看|[：:])\s*$")


_CHANGE_ONLY = re.compile(
    r"\s*(?:同比|环比|较上年同期|较去年同期|较上年|较去年)?\s*"
    r"(?:增长|增加|提升|上升|下降|下滑|减少|增速|增幅|降幅)?\s*(?:约|了|为)?\s*"
)


def own_clause(subject: str) -> str:
    """The words before a figure in its own clause, with a topic clause that frames it
    ("直销渠道方面，单季收入…"): not what earlier clauses measured ("营业收入…，归母净利润")."""
    clauses = _CLAUSE_MARK.split(subject)
    framing = [c for c in clauses[:-1] if _TOPIC_CLAUSE.search(c)]
    if len(clauses) > 1 and _CHANGE_ONLY.fullmatch(clauses[-1]):
        # "茅台酒收入1105.14亿元，同比增长9.28%": the change is of what the clause before measured
        framing = [c for c in framing if c != clauses[-2]] + [clauses[-2]]
    return " ".join([*framing, clauses[-1]])


def series_in(
    text: str,
    question: Question,
    metrics: frozenset[str] = frozenset(),
    *,
    asked: bool = False,
) -> list[str]:
    """The words of `text` left without periods, metric words, the asked company's names
    (standing alone, not inside a product's name such as "远航风机"), connectives and
    question words: the part of the company measured ("直销渠道", "海上风机"), if any."""
    for start, end, _ in reversed(spans_in(text)):
        text = text[:start] + " " + text[end:]
    words = {a for g in question.metrics for a in g} | set(metrics)
    for word in sorted(words, key=len, reverse=True):
        if not word.isascii():
            text = text.replace(word, " ")
    full = {g[0] for g in question.entities}
    for alias in sorted({a for g in question.entities for a in g}, key=len, reverse=True):
        if alias.isascii():  # "000858.SZ", "CATL"
            text = re.sub(rf"(?<![A-Za-z0-9]){re.escape(alias)}(?![A-Za-z])", " ", text, flags=re.I)
        elif alias in full or asked:  # "远航风电直销渠道": the company, then what of it
            text = text.replace(alias, " ")
        else:  # a short name inside a longer word is a product's name ("远航风机")
            text = re.sub(rf"{re.escape(alias)}(?![\u4e00-\u9fff])", " ", text)
    return [part for part in _NOT_A_PART.sub(" ", text).split() if part]


def of_series_asked(q: Quantity, ev: Evidence, question: Question) -> bool:
    """Whether a period figure measures the part of the company the question asks: the
    whole when it names no part, else a part named alike."""
    words = series_words(q, ev, question)
    if words is None:
        return listed_part_asked(q, ev, question)
    if question.language != "zh":
        return True  # an English question's words are not the note's: nothing to compare
    asked = series_in(question.text, question, asked=True)
    if not asked:
        return all(part in question.text for part in words)
    return bool(words) and share_a_word("".join(words), "".join(asked))


def share_a_word(a: str, b: str) -> bool:
    """Whether two strings share two characters in a row (a word, in Chinese), or the
    shorter is one character the longer holds."""
    short, long = sorted((a, b), key=len)
    if len(short) < 2:
        return short in long
    return any(short[i : i + 2] in long for i in range(len(short) - 1))


# English lists the parts of a figure after it: "154.61m TEU, of which mainland ports
# 121.41m TEU and overseas ports 29.17m TEU".
_LISTED_PARTS = re.compile(r"\b(?:of which|including|among (?:them|which))\b", re.I)
_PART_NAME_END = re.compile(r"[,;:()]|\band\b|\d", re.I)
_NOT_PART_WORDS = frozenset("the and with from for was were its their".split())


def listed_part_asked(q: Quantity, ev: Evidence, question: Question) -> bool:
    """Whether an English figure listed as a part of one stated before it is asked by an
    English question: every word naming the part ("overseas ports") is in the question. A
    figure listed as no part is the whole's (True); so is any, for a Chinese question (its
    words are not the note's)."""
    if q.start is None or question.language != "en":
        return True
    head = ev.text[: q.start]
    marks = list(_LISTED_PARTS.finditer(head))
    if not marks or not any(
        x.end is not None and x.end <= marks[-1].start() and x.kind == q.kind for x in ev.quantities
    ):
        return True
    name = _PART_NAME_END.split(head[marks[-1].end() :])[-1]
    words = [w for w in re.findall(r"[a-z]{3,}", name.lower()) if w not in _NOT_PART_WORDS]
    asked = set(re.findall(r"[a-z]+", question.text.lower()))
    return all(w in asked for w in words)
