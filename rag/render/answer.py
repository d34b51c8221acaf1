"""The answer's text in code: the picked figure with its marker, an abstention with the nearest
facts, one figure per company, and the evidence pack and prompt the model drafts from."""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

from rag.compute.ranking import declined_before
from rag.numbers import (
    Quantity,
    render,
)
from rag.pick.choose import about_entity, best_quantity, covers_topics
from rag.pick.estimates import disagree
from rag.pick.evidence import Evidence, row_evidence
from rag.plan.question import Question, counted_in_english, display_name
from rag.types import FactRow, Language

ABSTAIN = {
    "zh": "文档中没有提到{what}。",
    "en": "The documents do not say {what}.",
}


NEAREST = {"zh": "最接近的信息：", "en": "The closest facts in the notes:"}


def deterministic_answer(
    question: Question,
    evidence: list[Evidence],
    name_in: Callable[[str], str] | None = None,
) -> str:
    """A cited answer built from evidence alone: exact figures, no model involved. `name_in`
    writes a company's name in the answer's language (its English alias in an English
    answer), where the answer says one the quote leaves unwritten."""
    language = question.language
    top = [i for i, e in enumerate(evidence) if about_entity(e, question)] or [0]
    picked = best_quantity(question, evidence) if question.asks_figure else None
    if picked is not None:
        i, q = picked
        ev = evidence[i]
        # "2025年和2026年的需求量" asks one figure per year: give each the sentence holds.
        per_year = [f for f in ev.quantities if f.kind == q.kind and f.year in question.years]
        lead = per_year if len(question.years) > 1 and len(per_year) > 1 else [q]
        # A change asked is shown with the decline its words state ("dropped 26.5%").
        down = {"en": "down ", "zh": "下降"}[language] if _declined(question, ev, q) else ""
        if language == "en":
            figures = "; ".join(
                (f"{f.year}: " if len(lead) > 1 else "")
                + down
                + f"{render(f, 'en', counted=counted_in_english(question.text))} ({f.raw.strip()})"
                for f in lead
            )
            return f"{figures[0].upper()}{figures[1:]} [{i + 1}]. Source: “{ev.display('en')}”"
        figures = "，".join(
            (f"{f.year}年" if len(lead) > 1 else "") + down + _zh_figure(f) for f in lead
        )
        return f"{figures}[{i + 1}]。原文：“{ev.display('zh')}”"
    # No single figure asked: the best sentence, plus the next when it scores nearly as well.
    shown = [top[0]] + [j for j in top[1:2] if evidence[j].score >= 0.75 * evidence[top[0]].score]
    # A name asked, which the sentence leaves to the one before ("…第三季度营收89.60亿元，单季
    # 营收首次超过五粮液" under 山西汾酒): the company it is about is said first.
    about = _unwritten_subject(question, evidence[shown[0]]) if question.asks_who else None
    if about and name_in is not None:
        written = name_in(about)
        about = written if about in written else f"{written} ({about})"
    if language == "en":
        quotes = " ".join(f"“{evidence[j].display('en')}” [{j + 1}]" for j in shown)
        return f"{about}. The notes say: {quotes}" if about else f"The notes say: {quotes}"
    quoted = "".join(f"{evidence[j].display('zh')}[{j + 1}]" for j in shown)
    return f"{about}：{quoted}" if about else quoted


def level_and_change_answer(
    level: Question, change: Question, evidence: list[Evidence]
) -> str | None:
    """A figure and its change asked together: each cited to its sentence ("23.82亿美元[1]，同比
    增长9.7%[1]"). None unless both are found, and are two figures."""
    found_level = best_quantity(level, evidence)
    found_change = best_quantity(change, evidence)
    if found_level is None or found_change is None:
        return None
    (i, q), (j, c) = found_level, found_change
    if (i, q.start) == (j, c.start) or c.kind not in ("percent", "percentage_points"):
        return None
    # The same figure stated more precisely elsewhere ("fell 5.4% to RMB 735m" beside a
    # table's "RMB 0.74bn") is the one quoted, and its change from the same sentence.
    for k, ev in enumerate(evidence):
        other = best_quantity(level, [ev])
        if (
            k != i
            and other is not None
            and _same_figure(other[1], q)
            and _significant_digits(other[1].raw) > _significant_digits(q.raw)
        ):
            i, q = k, other[1]
    beside = best_quantity(change, [evidence[i]]) if i != j else None
    if beside is not None and _same_figure(beside[1], c):
        j, c = i, beside[1]
    language = level.language
    down = _declined(change, evidence[j], c) or c.low < 0
    if c.low < 0:  # "-5.4%" in a table: a decline of 5.4%
        c = c.model_copy(update={"low": -c.low, "high": -c.high})
    shown = [i] if i == j else [i, j]
    if language == "en":
        counted = counted_in_english(level.text)
        change_text = f"{'down' if down else 'up'} {render(c, 'en')} ({c.raw.strip()})"
        quotes = " ".join(f"“{evidence[k].display('en')}” [{k + 1}]" for k in shown)
        return (
            f"{render(q, 'en', counted=counted)} ({q.raw.strip()}) [{i + 1}]; "
            f"{change_text} [{j + 1}]. Source: {quotes}"
        )
    quotes = "".join(f"“{evidence[k].display('zh')}”[{k + 1}]" for k in shown)
    change_text = ("下降" if down else "增长") + _zh_figure(c).lstrip("+-−")
    return f"{_zh_figure(q)}[{i + 1}]，{change_text}[{j + 1}]。原文：{quotes}"


def _same_figure(a: Quantity, b: Quantity) -> bool:
    """Two statements of one figure: one kind, values within 2% (one rounds the other)."""
    if a.kind != b.kind or not b.low:
        return False
    return abs(abs(a.low) - abs(b.low)) <= abs(b.low) * Decimal("0.02")


def _significant_digits(raw: str) -> int:
    return len("".join(re.findall(r"\d", raw)).lstrip("0"))


def _unwritten_subject(question: Question, ev: Evidence) -> str | None:
    """The one company a sentence is about (carried from the sentence or heading before it)
    that it does not write itself and the question does not name."""
    if ev.header is not None or not ev.facts:
        return None  # a table row's owners are its labels; a sentence with no figure, unknown
    asked = {a.lower() for group in question.entities for a in group}
    owners = [f.entity for f in ev.facts if f.entity]
    others = [
        name for name in dict.fromkeys(owners) if name.lower() not in asked and name not in ev.text
    ]
    return others[0] if len(others) == 1 else None


def _declined(question: Question, ev: Evidence, q: Quantity) -> bool:
    """A change figure, asked as a change, that its sentence states as a decline."""
    if (
        not question.asks_change
        or q.kind not in ("percent", "percentage_points")
        or q.start is None
        or q.low < 0
    ):
        return False
    return declined_before(ev.text, q.start)


_ZH_COUNT = {2: "两", 3: "三", 4: "四", 5: "五", 6: "六", 7: "七", 8: "八", 9: "九"}


def estimates_answer(rows: list[FactRow], language: Language) -> tuple[str, list[Evidence]]:
    """Each note's figure for the same thing, latest note first, each cited with its note's
    title and date, and whether they agree."""
    evidence = [row_evidence(r) for r in rows]
    differ = disagree(rows)

    def source(r: FactRow) -> str:
        sep = ", " if language == "en" else "，"
        return sep.join(part for part in (r.title[:50], r.date or "") if part)

    if language == "en":
        items = "; ".join(
            f"{r.value_en} ({r.value.strip()}) [{i}] — {source(r)}" for i, r in enumerate(rows, 1)
        )
        verdict = "disagree" if differ else "agree"
        return f"{len(rows)} notes {verdict} (latest first): {items}.", evidence
    count = _ZH_COUNT.get(len(rows), str(len(rows)))
    items = "；".join(f"{r.value.strip()}[{i}]（{source(r)}）" for i, r in enumerate(rows, 1))
    verdict = "不一致" if differ else "一致"
    return f"{count}份纪要{verdict}（按日期从新到旧）：{items}。", evidence


def _zh_figure(q: Quantity) -> str:
    """The figure as the note writes it, without a leading verb: "约为110万根" -> "约110万根";
    a table's bare cell number ("25.01" under "（亿元）") with the unit its labels give."""
    raw = q.raw.strip()
    if q.kind != "number" and re.fullmatch(r"[+\-−]?[\d,.]+", raw):
        return render(q, "zh")
    return re.sub(r"^(?:约为|约是)", "约", re.sub(r"^[为是达]", "", raw))


def abstention(question: Question, evidence: list[Evidence], reason: str) -> str:
    language = question.language
    if reason == "ambiguous":
        names = list(question.ambiguous)
        if language == "en":
            return f"Which company do you mean: {', '.join(names[:-1])} or {names[-1]}?"
        return f"您指的是哪家公司：{'、'.join(names[:-1])}还是{names[-1]}？"
    what = question.text.rstrip("?？。. ")
    if language == "en":
        text = ABSTAIN["en"].format(what=f"this (“{what}”)")
    else:
        text = ABSTAIN["zh"].format(what=f"“{what}”")
    if reason == "year":
        near = [
            (i, e) for i, e in enumerate(evidence) if about_entity(e, question) and e.quantities
        ]
    elif reason == "figure":  # what the notes do say about it, figures or not
        near = [
            (i, e)
            for i, e in enumerate(evidence)
            if about_entity(e, question) and covers_topics(e, question)
        ]
    else:
        near = []
    if near:
        facts = " ".join(f"{e.display(language)}[{i + 1}]" for i, e in near[:2])
        text += f" {NEAREST[language]} {facts}"
    return text


def evidence_pack(evidence: list[Evidence], language: Language) -> str:
    lines = []
    for i, ev in enumerate(evidence, start=1):
        source = f"{ev.title[:40]}, {ev.date}" if ev.date else ev.title[:40]
        lines.append(f"[{i}] ({source}) {ev.display(language)}")
    return "\n".join(lines)


def per_entity_answer(
    parts: list[tuple[Question, list[Evidence], tuple[int, Quantity] | None]],
    language: Language,
) -> tuple[str, list[Evidence]] | None:
    """One line per company: its figure cited to its sentence, or that the notes do not give
    it. None when no company's figure was found (the question is abstained as a whole)."""
    if not any(picked for _, _, picked in parts):
        return None
    found = [(e[p[0]].text, p[1].start, p[1].raw) for _, e, p in parts if p is not None]
    if len(set(found)) < len(found):
        return None  # one written figure for two companies: theirs together, not each one's
    cited: list[Evidence] = []
    lines = []
    for sub, evidence, picked in parts:
        name = sub.entities[0][0]
        if language == "en":  # as the question names it: "ICBC", "China Southern"
            name = display_name(sub, sub.entities[0])
        if picked is None:
            lines.append(
                f"{name}: not in the notes" if language == "en" else f"{name}：文档中没有提到"
            )
            continue
        i, q = picked
        same = [
            k
            for k, e in enumerate(cited)
            if (e.chunk_id, e.start) == (evidence[i].chunk_id, evidence[i].start)
        ]
        if not same:
            cited.append(evidence[i])
        n = same[0] + 1 if same else len(cited)  # one sentence with both figures: one marker
        if language == "en":
            lines.append(f"{name}: {render(q, 'en')} ({_zh_figure(q)}) [{n}]")
        else:
            lines.append(f"{name}：{_zh_figure(q)}[{n}]")
    if language == "en":
        return "; ".join(lines) + ".", cited
    return "；".join(lines) + "。", cited


PROMPTS = Path(__file__).parent / "prompts"


def llm_prompt(shown: list[Evidence], language: Language, question: str) -> str:
    """The model's prompt: the fixed instructions of `prompts/answer_{language}.md`, then the
    evidence pack and the question."""
    template = (PROMPTS / f"answer_{language}.md").read_text(encoding="utf-8")
    return template.format(
        evidence=evidence_pack(shown, language), calculations="", question=question
    )
