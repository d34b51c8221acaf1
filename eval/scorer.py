"""Score one answer against one eval case, and roll case results up into groups and a gate.

Pure functions over `rag.types.Answer` and the case models below: no service, no I/O except
`load_cases` / `load_gate`. Figures are read by `eval.figures`, the scorer's own small parser
(never `rag.numbers`, which it judges): exact Decimals, relative tolerance, so "1.7 million"
passes for 170万 and "170,000" fails.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

from eval.figures import Figure, read_figures, same_figure
from rag.types import Answer, Language, Message

CaseKind = Literal[
    "fact", "numeric", "calculator", "relative_date", "follow_up", "abstain", "non_numeric"
]
KINDS: tuple[str, ...] = CaseKind.__args__  # type: ignore[attr-defined]
DEFAULT_TOLERANCE = Decimal("0.005")
MONEY = ("USD", "CNY", "HKD", "EUR", "JPY")

# ---------------------------------------------------------------------------------------------
# Cases


class ExpectedValue(BaseModel):
    """One expected figure: a point (`value`) or a range (`low`, `high`) in base units.

    unit: "%" percent, "pp" percentage points (a percent with the same value also passes),
    "x" a multiple, "ratio", "fraction", "USD"/"CNY"/... money; anything else (根, 台, 米...)
    is a count or measure and matches any plain number of the same value.
    qualifier: over/at_least (a lower bound) or under/at_most (an upper bound) — the answer must
    state a bound of the same direction. approx/exact are not checked.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    value: Decimal | None = None
    low: Decimal | None = None
    high: Decimal | None = None
    unit: str | None = None
    tolerance: Decimal = DEFAULT_TOLERANCE
    qualifier: Literal["over", "at_least", "under", "at_most"] | None = None

    @model_validator(mode="after")
    def _point_or_range(self) -> ExpectedValue:
        point = self.value is not None
        rng = self.low is not None and self.high is not None
        if point == rng or (not rng and (self.low is not None or self.high is not None)):
            raise ValueError("give either `value` or both `low` and `high`")
        return self

    @property
    def bounds(self) -> tuple[Decimal, Decimal]:
        if self.value is not None:
            return self.value, self.value
        assert self.low is not None and self.high is not None
        return self.low, self.high

    def as_figure(self) -> Figure:
        low, high = self.bounds
        unit = self.unit or ""
        kinds = {
            "%": "percent",
            "pp": "pp",
            "x": "multiple",
            "倍": "multiple",
            "ratio": "ratio",
            "fraction": "ratio",
        }
        if unit in MONEY:
            return Figure(low, high, "money", unit, None, self.label())
        return Figure(low, high, kinds.get(unit, "number"), None, None, self.label())  # type: ignore[arg-type]

    def label(self) -> str:
        low, high = self.bounds
        body = f"{low}" if low == high else f"{low}-{high}"
        qual = f"{self.qualifier} " if self.qualifier else ""
        return f"{qual}{body}{' ' + self.unit if self.unit else ''}"


class Expected(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    values: list[ExpectedValue] = Field(default_factory=list)
    keywords: list[list[str]] = Field(
        default_factory=list, description="Every group must match; a group matches on any word."
    )
    abstain: bool = False

    @model_validator(mode="after")
    def _something(self) -> Expected:
        if self.abstain and (self.values or self.keywords):
            raise ValueError("an abstain case expects no values or keywords")
        if not (self.abstain or self.values or self.keywords):
            raise ValueError("expected needs values, keywords or abstain: true")
        if any(not group for group in self.keywords):
            raise ValueError("an empty keyword group never matches")
        return self


class Case(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    question: str
    language: Language
    kind: CaseKind
    expected: Expected
    source: str | None = Field(None, description="File name of the note the answer must cite.")
    history: list[Message] = Field(default_factory=list)
    tags: list[str] = Field(
        default_factory=list, description="What the case probes (period, unknown_entity, ...)."
    )

    @model_validator(mode="after")
    def _consistent(self) -> Case:
        if (self.kind == "abstain") != self.expected.abstain:
            raise ValueError(f"{self.id}: kind abstain <=> expected.abstain")
        if not self.expected.abstain and not self.source:
            raise ValueError(f"{self.id}: an answerable case names its source note")
        if self.kind == "follow_up" and not self.history:
            raise ValueError(f"{self.id}: a follow-up needs history")
        return self


def load_cases(path: Path | str) -> list[Case]:
    """Cases from a YAML file, or from every *.yaml file of a folder (in name order)."""
    path = Path(path)
    files = sorted(path.glob("*.yaml")) if path.is_dir() else [path]
    cases: list[Case] = []
    for file in files:
        data = yaml.safe_load(file.read_text(encoding="utf-8"))
        items = data["cases"] if isinstance(data, dict) else data
        cases += [Case.model_validate(item) for item in items]
    ids = [c.id for c in cases]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    if dupes:
        raise ValueError(f"duplicate case ids: {dupes}")
    return cases


# ---------------------------------------------------------------------------------------------
# Checks on one answer


def _qualifier_ok(expected: ExpectedValue, got: Figure) -> bool:
    if expected.qualifier in ("over", "at_least"):
        return got.bound == "lower"
    if expected.qualifier in ("under", "at_most"):
        return got.bound == "upper"
    return True


def _matches(expected: ExpectedValue, got: Figure) -> bool:
    want = expected.as_figure()
    if want.kind == "ratio" and got.kind == "percent" and expected.unit == "fraction":
        got = Figure(got.low / 100, got.high / 100, "ratio", None, got.bound, got.raw)
    if want.kind == "number" and got.kind == "money":  # a measure such as 元/W or 万元/台
        got = Figure(got.low, got.high, "number", None, got.bound, got.raw)
    return same_figure(want, got, expected.tolerance)


def find_value(
    expected: ExpectedValue, figures: Iterable[Figure], *, check_qualifier: bool = True
) -> Figure | None:
    """The first figure stating the expected value (and bound direction), or None."""
    for got in figures:
        if _matches(expected, got) and (not check_qualifier or _qualifier_ok(expected, got)):
            return got
    return None


def missing_values(case: Case, answer: Answer) -> list[ExpectedValue]:
    """Expected figures the answer's text does not state."""
    figures = read_figures(answer.answer)
    return [v for v in case.expected.values if find_value(v, figures) is None]


def keywords_match(groups: Sequence[Sequence[str]], text: str) -> bool:
    low = text.lower()
    return all(any(word.lower() in low for word in group) for group in groups)


def _quoted_figures(answer: Answer) -> list[Figure]:
    """What the quotes state, a table row's cells both in its label's unit (or its caption's,
    which the citation shows above it) and as written (an answer may repeat a bare "1041.86")."""
    return [
        f
        for c in answer.citations
        for units in (True, False)
        for f in read_figures(c.quote, units, c.context)
    ]


def invented_figures(answer: Answer) -> list[Figure]:
    """Figures in the answer that no citation quote states (any tolerance-0.5% match)."""
    quoted = _quoted_figures(answer)
    return [f for f in read_figures(answer.answer) if not any(same_figure(f, q) for q in quoted)]


def unexpected_figures(case: Case, answer: Answer) -> list[Figure]:
    """Figures the answer states that are none of the expected ones (all of them, for an
    abstain case), leaving out calculator inputs that its tool calls show."""
    stated = read_figures(answer.answer)
    return [f for f in stated if not any(_matches(v, f) for v in case.expected.values)]


def misattributed(case: Case, answer: Answer) -> bool:
    """A wrong answer that states a figure the notes hold for another entity, metric or period:
    it did not abstain, it is not correct, and a figure it states is one its citations quote
    but not one the case expects. Worse than abstaining, so counted on its own."""
    if answer.abstained and not case.expected.abstain:
        return False
    if case.expected.abstain and answer.abstained:
        return False
    if not case.expected.abstain and not missing_values(case, answer):
        return False
    quoted = _quoted_figures(answer)
    return any(any(same_figure(f, q) for q in quoted) for f in unexpected_figures(case, answer))


def abstention_correct(answer: Answer) -> bool:
    """Abstained, and stated no figure its citations do not hold."""
    return answer.abstained and not invented_figures(answer)


def source_name(source: str) -> str:
    return Path(source.replace("\\", "/")).name


def cites_source(case: Case, answer: Answer) -> bool:
    return case.source is not None and any(
        source_name(c.source) == case.source for c in answer.citations
    )


def citation_correct(case: Case, answer: Answer) -> bool:
    """The expected note is cited and, for quoted figures, a quote from it states each one.

    Calculator results are not in any quote (their operands are), so for them and for
    keyword cases citing the expected note is enough. Abstain cases need no citation.
    """
    if case.expected.abstain:
        return True
    if not cites_source(case, answer):
        return False
    if case.kind == "calculator" or answer.tool_calls:
        return True  # a computed figure is traced to its tool call, whose operands are cited
    quotes = [
        read_figures(c.quote, context=c.context)
        for c in answer.citations
        if source_name(c.source) == case.source
    ]
    return all(
        any(find_value(v, figs, check_qualifier=False) is not None for figs in quotes)
        for v in case.expected.values
    )


def retrieved_sources(answer: Answer) -> list[str]:
    """Ranked source names: `verification["retrieval"]` when the service reports it, else the
    citations in order."""
    ranked = answer.verification.get("retrieval")
    names: list[str] = []
    if isinstance(ranked, list):
        for item in ranked:
            src = item.get("source") or item.get("doc_id") if isinstance(item, dict) else item
            if isinstance(src, str):
                names.append(source_name(src))
    else:
        names = [source_name(c.source) for c in sorted(answer.citations, key=lambda c: c.n)]
    seen: list[str] = []
    for n in names:
        if n not in seen:
            seen.append(n)
    return seen


def source_rank(case: Case, answer: Answer) -> int | None:
    """1-based rank of the expected note among the retrieved/cited notes; None if absent."""
    if case.source is None:
        return None
    names = retrieved_sources(answer)
    return names.index(case.source) + 1 if case.source in names else None


def prompt_tokens(answer: Answer) -> int | None:
    v = answer.verification
    for key in ("prompt_tokens", "llm_prompt_tokens"):
        if isinstance(v.get(key), int):
            return int(v[key])
    usage = v.get("usage")
    if isinstance(usage, dict) and isinstance(usage.get("prompt_tokens"), int):
        return int(usage["prompt_tokens"])
    return None


class CaseResult(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    kind: str
    language: str
    source: str | None
    question: str
    answer: str
    abstained: bool
    correct: bool
    cited: bool
    correct_and_cited: bool
    reasons: list[str] = Field(default_factory=list)
    latency_ms: float | None = None
    prompt_tokens: int | None = None
    source_rank: int | None = None
    citations: list[str] = Field(default_factory=list)
    error: str | None = None
    misattributed: bool = False
    tags: list[str] = Field(default_factory=list)

    @property
    def document(self) -> str:
        return self.source or "(none)"


def score_case(case: Case, answer: Answer, *, wall_ms: float | None = None) -> CaseResult:
    reasons: list[str] = []
    if case.expected.abstain:
        correct = abstention_correct(answer)
        if not answer.abstained:
            reasons.append("did not abstain")
        elif not correct:
            reasons.append(
                "invented figures: " + ", ".join(q.raw for q in invented_figures(answer))
            )
        cited = True
    else:
        correct = not answer.abstained
        if answer.abstained:
            reasons.append("abstained")
        missing = missing_values(case, answer)
        if missing:
            correct = False
            reasons.append("missing values: " + "; ".join(v.label() for v in missing))
        if case.expected.keywords and not keywords_match(case.expected.keywords, answer.answer):
            correct = False
            reasons.append("missing keywords")
        cited = citation_correct(case, answer)
        if not cited:
            reasons.append(
                "expected source not cited"
                if not cites_source(case, answer)
                else "no quote from the source states the figure"
            )
    latency = answer.timings_ms.get("total", wall_ms) if answer.timings_ms else wall_ms
    return CaseResult(
        id=case.id,
        kind=case.kind,
        language=case.language,
        source=case.source,
        question=case.question,
        answer=answer.answer,
        abstained=answer.abstained,
        correct=correct,
        cited=cited,
        correct_and_cited=correct and cited,
        reasons=reasons,
        latency_ms=latency,
        prompt_tokens=prompt_tokens(answer),
        source_rank=source_rank(case, answer),
        citations=[source_name(c.source) for c in answer.citations],
        misattributed=misattributed(case, answer),
        tags=case.tags,
    )


def error_result(case: Case, error: str, wall_ms: float | None = None) -> CaseResult:
    return CaseResult(
        id=case.id,
        kind=case.kind,
        language=case.language,
        source=case.source,
        question=case.question,
        answer="",
        abstained=False,
        correct=False,
        cited=False,
        correct_and_cited=False,
        reasons=[f"error: {error}"],
        latency_ms=wall_ms,
        error=error,
    )


# ---------------------------------------------------------------------------------------------
# Aggregates


class GroupStats(BaseModel):
    n: int
    correct: float
    cited: float
    correct_and_cited: float
    latency_p50_ms: float | None
    latency_p95_ms: float | None
    recall_at_k: float | None  # over answerable cases: expected note among the first k
    mrr: float | None
    misattributed: int = 0  # answers stating another entity's, metric's or period's figure


def _percentile(values: Sequence[float], p: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    idx = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[idx]


def group_stats(results: Sequence[CaseResult], k: int = 5) -> GroupStats:
    n = len(results)
    lat = [r.latency_ms for r in results if r.latency_ms is not None]
    answerable = [r for r in results if r.kind != "abstain" and r.source]
    ranks = [r.source_rank for r in answerable]

    def rate(pred: Callable[[CaseResult], bool]) -> float:
        return sum(1 for r in results if pred(r)) / n if n else 0.0

    return GroupStats(
        n=n,
        correct=rate(lambda r: r.correct),
        cited=rate(lambda r: r.cited),
        correct_and_cited=rate(lambda r: r.correct_and_cited),
        latency_p50_ms=statistics.median(lat) if lat else None,
        latency_p95_ms=_percentile(lat, 95),
        recall_at_k=(
            sum(1 for x in ranks if x is not None and x <= k) / len(ranks) if ranks else None
        ),
        mrr=sum(1 / x for x in ranks if x) / len(ranks) if ranks else None,
        misattributed=sum(1 for r in results if r.misattributed),
    )


GROUPINGS: dict[str, Callable[[CaseResult], str]] = {
    "language": lambda r: r.language,
    "kind": lambda r: r.kind,
    "document": lambda r: r.document,
}


def summarize(results: Sequence[CaseResult], k: int = 5) -> dict[str, Any]:
    """{"overall": GroupStats, "language": {zh: ..., en: ...}, "kind": {...}, "document": {...}}."""
    out: dict[str, Any] = {"overall": group_stats(results, k)}
    for name, key in GROUPINGS.items():
        buckets: dict[str, list[CaseResult]] = defaultdict(list)
        for r in results:
            buckets[key(r)].append(r)
        out[name] = {g: group_stats(rs, k) for g, rs in sorted(buckets.items())}
    return out


# ---------------------------------------------------------------------------------------------
# Gate


class Gate(BaseModel):
    metric: Literal["correct_and_cited", "correct"] = "correct_and_cited"
    overall: float
    kind: dict[str, float] = Field(default_factory=dict)
    language: dict[str, float] = Field(default_factory=dict)
    max_misattributed: int | None = Field(
        None, description="At most this many answers may state another entity's figure."
    )
    targets: dict[str, float] = Field(
        default_factory=dict,
        description="Where the thresholds are heading (reported, not enforced).",
    )
    notes: str | None = None


def load_gate(path: Path | str) -> Gate:
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    return Gate.model_validate(data)


def load_gates(path: Path | str) -> dict[str, Gate]:
    """Per-suite gates from `suites: {name: {...}}`, or one gate for every run under ""."""
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    if "suites" in data:
        metric = data.get("metric", "correct_and_cited")
        return {
            name: Gate.model_validate({"metric": metric, **gate})
            for name, gate in data["suites"].items()
        }
    return {"": Gate.model_validate(data)}


def check_gate(results: Sequence[CaseResult], gate: Gate) -> list[str]:
    """Human-readable failures; empty when every threshold is met."""
    failures: list[str] = []
    metric = gate.metric

    def check(label: str, rs: Sequence[CaseResult], threshold: float) -> None:
        if not rs:
            return
        score = sum(1 for r in rs if getattr(r, metric)) / len(rs)
        if score < threshold:
            failures.append(f"{label}: {metric} {score:.3f} < {threshold:.2f} ({len(rs)} cases)")

    check("overall", results, gate.overall)
    for kind, threshold in gate.kind.items():
        check(f"kind={kind}", [r for r in results if r.kind == kind], threshold)
    for language, threshold in gate.language.items():
        check(f"language={language}", [r for r in results if r.language == language], threshold)
    wrong = sum(1 for r in results if r.misattributed)
    if gate.max_misattributed is not None and wrong > gate.max_misattributed:
        failures.append(f"misattributed: {wrong} > {gate.max_misattributed}")
    return failures
