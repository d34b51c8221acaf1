"""Which entity ranks first on a metric, or which ones fell: a question over several companies
("上半年营业收入增速最快的是哪家银行？", "Which of the four banks reported a YoY decline in H1 net
profit attributable?") answered from the notes' figure table (rag/facts/rows.py), compared in
code. Each entity's figure of the asked metric, period and kind (level, or change with its
basis) is taken once, in reading order; the answer names the winner and shows every entity's
figure with its citation, so the comparison can be checked line by line.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

from rag.facts.rows import states_metric
from rag.glossary import mentions
from rag.pick.evidence import Evidence, row_evidence
from rag.plan.question import Question
from rag.types import FactRow, ToolCall

Order = Literal["highest", "lowest", "declined"]

_WHICH = re.compile(
    r"哪家|哪个|哪一|哪些|谁|\b(?:which|who|whose)\b",
    re.IGNORECASE,
)
_HIGHEST = re.compile(
    r"最高|最快|最大|最多|最强|最好|第一|"
    r"\b(?:highest|fastest|largest|biggest|most|strongest|best|greatest|top)\b",
    re.IGNORECASE,
)
_LOWEST = re.compile(
    r"最低|最慢|最小|最少|最弱|最差|\b(?:lowest|slowest|smallest|least|weakest|worst)\b",
    re.IGNORECASE,
)
_DECLINED = re.compile(
    r"下降|下滑|减少|负增长|\b(?:declin\w*|fell|fall(?:en|ing)?|drop\w*|decreas\w*|shr[au]nk)\b",
    re.IGNORECASE,
)
# A decline word right before a figure gives it its sign: "同比下降18.45%", "fell 1.39%".
_DECLINE_BEFORE = re.compile(
    r"(?:下降|下滑|减少|回落|降低|降|跌|declin\w*|fell|down|drop\w*|decreas\w*|lower)\s*(?:by\s*)?$",
    re.IGNORECASE,
)


# The largest decline is the lowest change: "降幅最大", "跌得最多", "fell the most".
_DEEPEST = re.compile(
    r"(?:降幅|跌幅|下降|下滑|减少|下跌)(?:幅度)?最(?:大|多|深)|"
    r"\b(?:biggest|largest|steepest|sharpest|deepest|greatest)\s+(?:\w+\s+)?"
    r"(?:declin\w*|drop|fall|decrease)\b|"
    r"\b(?:fell|declined|dropped|decreased)\s+(?:the\s+)?most\b",
    re.IGNORECASE,
)
# A place other than first: "排名第二", "第三大", "second-largest", "ranked third".
_PLACE = re.compile(
    r"(?:排名|排|位列|位居)?第([二三四五])(?=大|高|多|名|位|的|是)|"
    r"\b(second|third|fourth|fifth)[- ](?:largest|highest|biggest|most|lowest|smallest|place)\b|"
    r"\branked (second|third|fourth|fifth)\b",
    re.IGNORECASE,
)
_PLACES = {"二": 1, "三": 2, "四": 3, "五": 4, "second": 1, "third": 2, "fourth": 3, "fifth": 4}
# What a which-question counts or sums: "中标项目数量最多" is a count, "中标金额最高" an amount.
_COUNTED = re.compile(r"数量|个数|数目|次数|笔数|\bnumber of\b|\bhow many\b", re.IGNORECASE)
_AMOUNT = re.compile(r"金额|\bamount\b|\bvalue\b|\bhow much\b", re.IGNORECASE)


def ranking_place(question: Question) -> int:
    """Which place a which-question asks for, 0 for first ("排名第二的是哪家" is 1)."""
    match = _PLACE.search(question.text)
    return _PLACES[next(g for g in match.groups() if g).lower()] if match else 0


def ranking_order(question: Question) -> Order | None:
    """The comparison a which-question asks for, if it asks one over a named metric."""
    if not question.metrics or not _WHICH.search(question.text):
        return None
    if _DEEPEST.search(question.text):
        return "lowest"
    if _DECLINED.search(question.text) and not _HIGHEST.search(question.text):
        return "declined" if not _LOWEST.search(question.text) else "lowest"
    if _HIGHEST.search(question.text):
        return "highest"
    if _LOWEST.search(question.text):
        return "lowest"
    if _PLACE.search(question.text):
        return "highest"  # "排名第二的是哪家": counted from the top
    return None


def declined_before(text: str, start: int) -> bool:
    """Whether a decline word comes right before the figure at `start` ("fell 1.39%")."""
    return bool(_DECLINE_BEFORE.search(text[max(0, start - 12) : start]))


def signed(row: FactRow) -> float:
    """The figure with its sign: negative when written so or after a decline word."""
    at = row.quote.find(row.value)
    if row.low < 0 or row.value.strip().startswith(("-", "−")):
        return row.low if row.low <= 0 else -row.low
    return -row.low if at >= 0 and declined_before(row.quote, at) else row.low


@dataclass(frozen=True)
class Ranking:
    order: Order
    rows: list[FactRow]  # one per entity, ranked (highest first, lowest first, or as read)
    chosen: list[FactRow]  # the winner, or every entity that declined (may be none)
    place: int = 0  # 0 for first, 1 for second…


def rank(question: Question, rows: Sequence[FactRow], order: Order) -> Ranking | None:
    """Each entity's figure for the asked metric, period and kind, compared; None unless two
    or more entities have one (a comparison needs something to compare)."""
    metrics = {a.lower() for group in _ranked_metrics(question) for a in group}
    asked = {a.lower() for group in question.entities for a in group}
    wants_change = bool(question.asks_change) or order == "declined"
    counted = bool(_COUNTED.search(question.text))
    kind_asked = "count" if counted else "money" if _AMOUNT.search(question.text) else None
    # "航运港口…哪家": companies of a note about shipping, never of a battery note's table.
    # The note names its industry somewhere (a paragraph's lead, a heading), not in every row.
    written = " ".join(f"{row.title} {row.heading} {row.quote}" for row in rows)
    if not all(any(mentions(written, a) for a in t) for t in question.topics):
        return None
    per_entity: dict[str, FactRow] = {}
    for row in rows:
        if row.entity is None or not states_metric(row, metrics):
            continue
        if asked and row.entity.lower() not in asked:
            continue  # "Which of ICBC and CMB…": only those named
        if question.period is not None:
            if row.span != question.period.span:
                continue
            if question.period.year and row.year and row.year != question.period.year:
                continue
        elif question.years and row.year is not None and row.year not in question.years:
            continue
        if (row.change != "level") != wants_change:
            continue
        if kind_asked and row.kind != kind_asked:
            continue
        held = per_entity.get(row.entity)
        # A table row compares like with like: it outranks a figure a sentence states for
        # the entity the paragraph is about (the sector's ratio in a bank's paragraph).
        if held is None or (not _in_table(held) and _in_table(row)):
            per_entity[row.entity] = row
    found = list(per_entity.values())
    if len(found) < 2:
        return None
    if (count := _group_size(question.text)) is not None and len(found) != count:
        return None  # "of the five listed carriers": not a table of three liquor makers
    kinds = [r.kind for r in found]
    kind = max(set(kinds), key=kinds.count)  # compare like with like
    found = [r for r in found if r.kind == kind]
    if len(found) < 2:
        return None
    if order == "declined":
        return Ranking(order, found, [r for r in found if signed(r) < 0])
    ranked = sorted(found, key=signed, reverse=order == "highest")
    place = ranking_place(question)
    if place >= len(ranked):
        return None
    tied = [r for r in ranked if signed(r) == signed(ranked[place])]
    return Ranking(order, ranked, tied, place)


def _ranked_metrics(question: Question) -> list[tuple[str, ...]]:
    """The metric a which-question ranks by: with several named ("the highest net margin
    (attributable NP over revenue)"), the one written first after its superlative."""
    if len(question.metrics) < 2:
        return list(question.metrics)
    text = question.text.lower()
    order = [
        m for rx in (_HIGHEST, _LOWEST, _DEEPEST, _DECLINED) if (m := rx.search(question.text))
    ]
    start = min((m.end() for m in order), default=0)

    def first_at(group: tuple[str, ...]) -> int:
        found = [i for a in group if (i := text.find(a.lower(), start)) >= 0]
        return min(found, default=len(text) + 1)

    best = min(question.metrics, key=first_at)
    return [best] if first_at(best) <= len(text) else list(question.metrics)


_NUMBER_WORDS = {
    "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
    "ten": 10, "两": 2, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10,
}  # fmt: skip
_GROUP_SIZE = re.compile(
    r"\b(?:of|among|across)\s+(?:the|these|those)\s+(\d+|two|three|four|five|six|seven|eight|"
    r"nine|ten)\b|(\d+|[两二三四五六七八九十])(?:家|大)",
    re.IGNORECASE,
)


def _group_size(text: str) -> int | None:
    """How many companies a which-question ranks among, when it says ("of the five listed
    carriers", "四家银行中"), else None."""
    match = _GROUP_SIZE.search(text)
    if match is None:
        return None
    word = (match.group(1) or match.group(2)).lower()
    return int(word) if word.isdigit() else _NUMBER_WORDS.get(word)


def _in_table(row: FactRow) -> bool:
    return row.quote.lstrip().startswith("|")


def _shown(row: FactRow, language: str) -> str:
    """The figure as the note writes it, with the decline its words state ("down 18.45%")."""
    value = row.value.strip()
    if signed(row) < 0 and not value.startswith(("-", "−")):
        return f"下降{value}" if language == "zh" else f"down {value}"
    return value


def ranking_answer(
    ranking: Ranking, language: str, name: Callable[[str], str]
) -> tuple[str, list[Evidence], ToolCall]:
    """The answer, one evidence sentence per entity (its citation marker is its position),
    and the comparison as a tool call. `name` gives an entity's name in the answer's language."""
    evidence = [row_evidence(row) for row in ranking.rows]
    marker = {id(row): i + 1 for i, row in enumerate(ranking.rows)}
    each = [f"{name(r.entity or '')} {_shown(r, language)} [{marker[id(r)]}]" for r in ranking.rows]
    chosen = [
        f"{name(r.entity or '')} ({_shown(r, language)}) [{marker[id(r)]}]" for r in ranking.chosen
    ]
    n = len(ranking.rows)
    if language == "zh":
        each_zh = "；".join(e.replace(" [", "[") for e in each)
        lead = "、".join(c.replace(" [", "[") for c in chosen) or f"{n}家中没有一家下降"
        text = f"{lead}。{n}家对比：{each_zh}。"
    else:
        if ranking.order == "declined":
            lead = ", ".join(chosen) or f"None of the {n}"
            text = f"{lead} declined. All {n}: {'; '.join(each)}."
        else:
            word = "highest" if ranking.order == "highest" else "lowest"
            if ranking.place:
                word = f"{('second', 'third', 'fourth', 'fifth')[ranking.place - 1]}-{word}"
            text = f"{', '.join(chosen)}: the {word} of {n}. All {n}: {'; '.join(each)}."
    call = ToolCall(
        name="rank",
        inputs={name(r.entity or ""): r.value for r in ranking.rows},
        output=", ".join(name(r.entity or "") for r in ranking.chosen) or "none",
        formula=f"{ranking.order} of {n}",
    )
    return text, evidence, call
