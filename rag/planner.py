"""Deterministic calculation planner: the common analyst questions, computed by the calculator.

Growth between two years, sums over named entities, differences, applying a stated ratio and
range midpoints are recognised from the question's words; each operand is looked up as a
figure of a cited evidence sentence (never typed by a model) and the answer is composed in code
with the formula and the citations of every operand.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from langchain_core.documents import Document

from rag.answering import about_entity, best_quantity
from rag.calculator import (
    CalcResult,
    CalculatorError,
    apply_ratio,
    check_operands,
    difference,
    growth_rate,
    midpoint,
    total,
)
from rag.evidence import Evidence, Question, select_evidence
from rag.glossary import Glossary
from rag.numbers import Quantity, extract_quantities, render
from rag.types import ToolCall

GROWTH = re.compile(r"增长|增速|增幅|增加|增量|涨幅|grow|growth|increase|rise", re.I)
SUM = re.compile(
    r"合计|总共|一共|加起来|总和|总计|相加|combined|in total|total|sum|altogether|together", re.I
)
DIFFERENCE = re.compile(
    r"相差|差多少|差距|多多少|少多少|多出|高多少|低多少|比.{1,24}(?:多|少|高|低|大|小)|"
    r"difference|differ|how much more|how many more|gap|"
    r"\b(?:larger|bigger|higher|greater|more|lower|smaller|less|fewer)\b.{0,40}\bthan\b",
    re.I,
)
MIDPOINT = re.compile(r"中值|中间值|中性值|中位|中点|midpoint|mid-point|middle of the range", re.I)
APPLY_RATIO = re.compile(
    r"(?:按|根据|以).{0,12}比例|对应多少|换算|ratio.{0,40}(?:how many|correspond|imply|translate)|(?:how many|correspond).{0,40}ratio",
    re.I,
)
RATIO_NAMES = re.compile(
    r"([A-Za-z]{2,10})\s*(?:与|和|:|：|/|to)\s*([A-Za-z]{2,10})\s*(?:的)?\s*(?:比例|比率|ratio)",
    re.I,
)

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
    text = question.text
    if MIDPOINT.search(text):
        return _midpoint(question, docs, glossary)
    if APPLY_RATIO.search(text):
        return _apply_ratio(question, docs, glossary)
    if SUM.search(text) and len(question.entities) >= 2:
        return _sum(question, docs, glossary, retrieve)
    if (GROWTH.search(text) or DIFFERENCE.search(text)) and len(question.years) >= 2:
        return _between_years(question, docs, glossary, growth=not DIFFERENCE.search(text))
    if DIFFERENCE.search(text) and len(question.entities) >= 2:
        return _between_entities(question, docs, glossary, retrieve)
    return None


def _figure(
    question: Question,
    docs: list[Document],
    glossary: Glossary,
    *,
    entity: tuple[str, ...] | None,
    year: int | None,
) -> _Operand | None:
    sub = replace(
        question,
        entities=(entity,) if entity else question.entities,
        years=frozenset({year}) if year else frozenset(),
    )
    evidence = select_evidence(sub, docs, glossary, limit=8)
    candidates = [e for e in evidence if about_entity(e, sub)]
    for ev in candidates:
        # Only figures the sentence attaches to the asked year can be that year's operand.
        dated = replace(
            ev, quantities=tuple(q for q in ev.quantities if year is None or q.year == year)
        )
        picked = best_quantity(sub, [dated])
        if picked is not None:
            label = str(year) if year else (entity[0] if entity else "")
            return _Operand(picked[1], ev, label)
    return None


def _cite(operands: list[_Operand]) -> tuple[list[Evidence], dict[int, int]]:
    evidence: list[Evidence] = []
    marker: dict[int, int] = {}
    for i, op in enumerate(operands):
        key = next((j for j, e in enumerate(evidence) if e.text == op.evidence.text), None)
        if key is None:
            evidence.append(op.evidence)
            key = len(evidence) - 1
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
    ops = [_figure(question, docs, glossary, entity=entity, year=y) for y in (start_year, end_year)]
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
    start, end = ops  # type: ignore[misc]
    evidence, marker = _cite([start, end])
    try:
        _checked([start, end], [q for e in evidence for q in e.quantities])
        change = difference(end.quantity, start.quantity)
        rate = growth_rate(start.quantity, end.quantity) if growth else None
    except CalculatorError:
        return None
    inputs = {"start": start.quantity.raw, "end": end.quantity.raw}
    calls = [_call(change, {"a": end.quantity.raw, "b": start.quantity.raw}, question)]
    if rate:
        calls.append(_call(rate, inputs, question))
    lang = question.language
    s, e = _term(start, marker[0], question), _term(end, marker[1], question)
    if lang == "en":
        text = f"From {s} in {start_year} to {e} in {end_year}: a change of {change.text('en')}"
        text += (
            f", growth of {rate.text('en')} ({rate.formula('en')})."
            if rate
            else f" ({change.formula('en')})."
        )
    else:
        text = f"从{start_year}年的{s}到{end_year}年的{e}，变化{change.text('zh')}"
        text += (
            f"，增长{rate.text('zh')}（{rate.formula('zh')}）。"
            if rate
            else f"（{change.formula('zh')}）。"
        )
    return Calculation(text, evidence, calls)


def _per_entity(
    question: Question, docs: list[Document], glossary: Glossary, retrieve: Retrieve
) -> list[_Operand | None]:
    year = min(question.years) if question.years else None
    ops = []
    for group in question.entities:
        op = _figure(question, docs, glossary, entity=group, year=year)
        if op is None:  # the shared retrieval missed this entity: look it up on its own
            sub_text = question.text
            for other in question.entities:
                if other != group:
                    for alias in sorted(other, key=len, reverse=True):
                        sub_text = re.sub(
                            rf"(?<![A-Za-z]){re.escape(alias)}(?![A-Za-z])",
                            "",
                            sub_text,
                            flags=re.I,
                        )
            sub_docs = retrieve(sub_text)
            op = _figure(question, sub_docs, glossary, entity=group, year=year)
        ops.append(op)
    return ops


def _sum(
    question: Question, docs: list[Document], glossary: Glossary, retrieve: Retrieve
) -> Calculation | None:
    ops = _per_entity(question, docs, glossary, retrieve)
    if any(op is None for op in ops):
        return _missing(
            question, [g[0] for g, op in zip(question.entities, ops, strict=True) if op is None]
        )
    operands: list[_Operand] = [op for op in ops if op is not None]
    evidence, marker = _cite(operands)
    try:
        _checked(operands, [q for e in evidence for q in e.quantities])
        result = total([op.quantity for op in operands])
    except CalculatorError:
        return None
    call = _call(
        result,
        {g[0]: op.quantity.raw for g, op in zip(question.entities, operands, strict=True)},
        question,
    )
    parts = [
        f"{g[0]} {_term(op, marker[i], question)}"
        for i, (g, op) in enumerate(zip(question.entities, operands, strict=True))
    ]
    if question.language == "en":
        text = f"Together {result.text('en')}: " + ", ".join(parts) + f" ({result.formula('en')})."
    else:
        text = f"合计{result.text('zh')}：" + "，".join(parts) + f"（{result.formula('zh')}）。"
    return Calculation(text, evidence, [call])


def _between_entities(
    question: Question, docs: list[Document], glossary: Glossary, retrieve: Retrieve
) -> Calculation | None:
    ops = _per_entity(question, docs, glossary, retrieve)[:2]
    if any(op is None for op in ops):
        return _missing(
            question, [g[0] for g, op in zip(question.entities, ops, strict=True) if op is None]
        )
    a, b = ops  # type: ignore[misc]
    evidence, marker = _cite([a, b])
    names = [g[0] for g in question.entities[:2]]
    try:
        _checked([a, b], [q for e in evidence for q in e.quantities])
        result = difference(a.quantity, b.quantity)
    except CalculatorError as exc:
        # E.g. two lower bounds ("超过150万", "300万甚至更高"): state both, compute nothing.
        if question.language == "en":
            text = f"{names[0]} {_term(a, marker[0], question)} vs {names[1]} {_term(b, marker[1], question)}; the difference cannot be computed exactly ({exc})."
        else:
            text = f"{names[0]}{_term(a, marker[0], question)}，{names[1]}{_term(b, marker[1], question)}；两个数字都不是确定值，无法算出准确差值。"
        return Calculation(text, evidence, [])
    call = _call(result, {"a": a.quantity.raw, "b": b.quantity.raw}, question)
    if question.language == "en":
        text = f"{names[0]} {_term(a, marker[0], question)} vs {names[1]} {_term(b, marker[1], question)}: a difference of {result.text('en')} ({result.formula('en')})."
    else:
        text = f"{names[0]}{_term(a, marker[0], question)}，{names[1]}{_term(b, marker[1], question)}，相差{result.text('zh')}（{result.formula('zh')}）。"
    return Calculation(text, evidence, [call])


def _midpoint(question: Question, docs: list[Document], glossary: Glossary) -> Calculation | None:
    evidence = select_evidence(question, docs, glossary, limit=6)
    for ev in evidence:
        for q in ev.quantities:
            if q.is_range and q.kind in ("count", "money", "percent"):
                try:
                    result = midpoint(q)
                except CalculatorError:
                    continue
                op = _Operand(q, ev, "range")
                term = _term(op, 1, question)
                call = _call(result, {"range": q.raw}, question)
                if question.language == "en":
                    text = (
                        f"The midpoint of {term} is {result.text('en')} ({result.formula('en')})."
                    )
                else:
                    text = f"{term}的中值为{result.text('zh')}（{result.formula('zh')}）。"
                return Calculation(text, [ev], [call])
    return None


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
            context = source_text[max(0, (known.start or 0) - 15) : (known.end or 0) + 8].upper()
            side = (
                "right" if right.upper() in context else "left" if left.upper() in context else None
            )
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
                text = f"At {left}:{right} = {r}, {k} of {right if side == 'right' else left} corresponds to {result.text('en')} {other} ({result.formula('en')})."
            else:
                text = f"按{left}:{right} = {r}，{k}{right if side == 'right' else left}对应{result.text('zh')}{other}（{result.formula('zh')}）。"
            return Calculation(text, cited, [call])
    return None
