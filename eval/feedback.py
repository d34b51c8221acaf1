"""`python -m eval --from-feedback`: the 👎 ratings as candidate cases, for a person to review
into the eval set.

Reads the feedback store (`<data_dir>/feedback.sqlite3`, api/feedback_store.py) and writes
`eval/candidates/feedback.yaml` (or `--out PATH`, `-` for stdout), a file no suite loads
(eval/suites.yaml names eval/cases.yaml and eval/ood/). One candidate per distinct question
(with its earlier turns), however often it was disliked, in eval/cases.yaml's case format:
`kind` and `source` guessed, `expected` left empty, and `review: true` with a `feedback` block
holding the disliked answers, their citations, reasons, surfaces and commits.
`eval.scorer.load_cases` refuses a candidate until a person has written `expected` and deleted
`review` and `feedback`, so none slips into a gate unreviewed.
"""

from __future__ import annotations

import re
import sys
from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from eval.scorer import CaseKind
from rag.language import detect_language
from rag.types import Citation, Feedback

EVAL_DIR = Path(__file__).resolve().parent
DEFAULT_OUT = EVAL_DIR / "candidates" / "feedback.yaml"
MAX_QUOTE_CHARS = 300

_RELATIVE_YEAR = re.compile(
    r"明年|今年|去年|前年|后年|next year|last year|this year|a year (?:ago|later)", re.I
)
_ASKS_A_FIGURE = re.compile(
    r"多少|几[个家台根]|多大|多高|多快|规模|增速|增长|占比|比例|\d|how (?:much|many|big|fast)|"
    r"what (?:is|was|are|were|will)\b.*\b(?:demand|revenue|sales|share|price|growth|rate|"
    r"margin|volume|capacity|profit)",
    re.I,
)

HEADER = """\
# Candidate eval cases from 👎 feedback: NOT an eval suite (no entry of eval/suites.yaml loads
# this file). Written by `python -m eval --from-feedback` at {when} from
# {db}: {ratings} thumbs-down ratings of {questions} distinct questions.
# Re-running rewrites it.
#
# To review a candidate into the eval set:
#   1. read the cited note(s) and decide what the right answer is;
#   2. write `expected` (values and/or keywords; or `abstain: true` with `kind: abstain`) and
#      `source`, and check the guessed `kind` (`feedback.kind_guess` says why);
#   3. delete `review` and `feedback`, and move the case into eval/cases.yaml or eval/ood/
#      (the note it needs must be in that suite's corpus, eval/suites.yaml).
# Until then eval.scorer.load_cases refuses it: `review` and `feedback` are no case fields and
# an empty `expected` expects nothing.
"""


class _Dumper(yaml.SafeDumper):
    """Block style for multi-line text (answers, reasons), so it reads as written."""


def _text(dumper: yaml.SafeDumper, data: str) -> yaml.ScalarNode:
    return dumper.represent_scalar(
        "tag:yaml.org,2002:str", data, style="|" if "\n" in data else None
    )


_Dumper.add_representer(str, _text)


def guess_kind(
    question: str, has_history: bool, ratings: Sequence[Feedback]
) -> tuple[CaseKind, str]:
    """A case kind for a disliked question, and why it was guessed."""
    statuses = {r.verification_status for r in ratings}
    if has_history:
        return "follow_up", "asked after earlier turns"
    if "computed" in statuses:
        return "calculator", "the disliked answer was computed by the calculator"
    if _RELATIVE_YEAR.search(question):
        return "relative_date", "the question names a year relative to the note's date"
    if statuses == {"abstained"}:
        kind: CaseKind = "numeric" if _ASKS_A_FIGURE.search(question) else "fact"
        return kind, "the assistant abstained and a person disliked that: the notes may answer it"
    if any(re.search(r"\d", r.answer) for r in ratings):
        return (
            "numeric",
            "the disliked answer states figures (or `abstain`, if the notes don't say)",
        )
    return "non_numeric", "the disliked answer states no figure"


def _cited(citation: Citation) -> str:
    quote = " ".join(citation.quote.split())
    if len(quote) > MAX_QUOTE_CHARS:
        quote = quote[: MAX_QUOTE_CHARS - 1] + "…"
    date = f" · {citation.date}" if citation.date else ""
    return f"[{citation.n}] {citation.title}{date} ({citation.source}): {quote}"


def candidate(ratings: Sequence[Feedback]) -> dict[str, Any]:
    """One candidate case from every 👎 of one question (oldest first)."""
    first = ratings[0]
    kind, why = guess_kind(first.question, bool(first.history), ratings)
    cited_first = Counter(Path(r.citations[0].source).name for r in ratings if r.citations)
    answers: dict[str, dict[str, Any]] = {}
    for r in ratings:
        seen = answers.get(r.answer)
        if seen is not None:
            seen["feedback_ids"].append(r.id)
            continue
        answers[r.answer] = {
            "answer": r.answer,
            "verification_status": r.verification_status,
            "citations": [_cited(c) for c in r.citations],
            "feedback_ids": [r.id],
            "surface": r.surface,
            "rated_at": r.created_at,
            "commit": r.commit,
        }
    case: dict[str, Any] = {
        "id": f"feedback-{first.id}",
        "question": first.question,
        "language": first.language or detect_language(first.question),
        "kind": kind,
        "source": cited_first.most_common(1)[0][0] if cited_first else None,
    }
    if first.history:
        case["history"] = [m.model_dump() for m in first.history]
    case["expected"] = {}
    case["review"] = True
    case["feedback"] = {
        "kind_guess": why,
        "source_guess": "the note the disliked answers cited first; check it"
        if cited_first
        else "the disliked answers cited nothing",
        "ratings": len(ratings),
        "reasons": [r.reason for r in ratings if r.reason],
        "disliked_answers": list(answers.values()),
    }
    return case


def candidates(ratings: Iterable[Feedback]) -> list[dict[str, Any]]:
    """Candidate cases from 👎 ratings: one per question and history, in order of first 👎."""
    groups: dict[tuple[str, tuple[tuple[str, str], ...]], list[Feedback]] = {}
    for r in ratings:
        if r.rating != "down":
            continue
        key = (" ".join(r.question.split()), tuple((m.role, m.content) for m in r.history))
        groups.setdefault(key, []).append(r)
    return [candidate(group) for group in groups.values()]


def render(ratings: Sequence[Feedback], db: Path | str) -> str:
    cases = candidates(ratings)
    header = HEADER.format(
        when=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        db=db,
        ratings=sum(1 for r in ratings if r.rating == "down"),
        questions=len(cases),
    )
    body = yaml.dump(
        {"cases": cases}, Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=100
    )
    return header + "\n" + body


def export(db: Path, out: Path | None) -> int:
    """Write the candidates of `db`'s 👎 ratings to `out` (None: stdout); the exit code."""
    from api.feedback_store import FeedbackStore  # the store's own reader

    if not db.is_file():
        print(f"no feedback store at {db} (nothing rated yet?)", file=sys.stderr)
        return 1
    store = FeedbackStore(db, commit="unknown")
    try:
        ratings = list(store.all(rating="down"))
    finally:
        store.close()
    text = render(ratings, db)
    if out is None:
        sys.stdout.write(text)
        return 0
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    count = len(candidates(ratings))
    print(f"wrote {count} candidate cases from {len(ratings)} 👎 ratings to {out}", file=sys.stderr)
    return 0
