"""eval/cases.yaml is valid, broad enough, and every quoted figure is really in its note."""

from __future__ import annotations

from collections import Counter
from functools import cache

import pytest

from eval.figures import Figure, read_figures
from eval.scorer import KINDS, Case, find_value, load_cases
from rag.config import REPO_ROOT

pytestmark = pytest.mark.unit

CASES_FILE = REPO_ROOT / "eval" / "cases.yaml"
CORPUS = REPO_ROOT / "corpus"
CASES = load_cases(CASES_FILE)
NOTES = sorted(p.name for p in CORPUS.glob("*.txt"))


@cache
def note_figures(name: str) -> list[Figure]:
    return read_figures((CORPUS / name).read_text(encoding="utf-8"))


def test_enough_cases_with_unique_ids() -> None:
    assert len(CASES) >= 80
    assert len({c.id for c in CASES}) == len(CASES)


def test_every_kind_and_both_languages() -> None:
    kinds = Counter(c.kind for c in CASES)
    assert set(kinds) == set(KINDS), f"missing kinds: {set(KINDS) - set(kinds)}"
    langs = Counter(c.language for c in CASES)
    assert langs["zh"] >= 20 and langs["en"] >= 20
    for kind in KINDS:  # each kind asked in both languages
        assert {c.language for c in CASES if c.kind == kind} == {"zh", "en"}, kind


def test_every_note_is_covered_and_every_source_exists() -> None:
    sources = Counter(c.source for c in CASES if c.source)
    assert set(sources) <= set(NOTES), set(sources) - set(NOTES)
    for note in NOTES:
        assert sources[note] >= 10, f"{note} has only {sources[note]} cases"


def test_language_matches_the_question() -> None:
    for c in CASES:
        ascii_share = sum(ch.isascii() for ch in c.question) / len(c.question)
        assert (c.language == "en") == (ascii_share > 0.9), c.id


@pytest.mark.parametrize(
    "case",
    [c for c in CASES if c.kind != "calculator" and c.expected.values],
    ids=lambda c: c.id,
)
def test_expected_figures_occur_in_the_source_note(case: Case) -> None:
    assert case.source is not None
    for value in case.expected.values:
        found = find_value(value, note_figures(case.source), check_qualifier=True)
        assert found is not None, f"{value.label()} is not stated in {case.source}"


def test_calculator_cases_have_a_source_and_a_result() -> None:
    # Their results are computed (they may coincide with a quoted figure, e.g. 10万台 as the
    # midpoint of 8万至12万台), so only their operands' note is checked, by citation.
    for c in CASES:
        if c.kind == "calculator":
            assert c.source and c.expected.values, c.id


def test_follow_ups_are_not_standalone() -> None:
    for c in CASES:
        if c.kind == "follow_up":
            assert c.history and c.history[-1].role == "assistant", c.id
            assert len(c.question) < 40, c.id


def test_abstain_cases_include_the_issue_examples() -> None:
    questions = [c.question for c in CASES if c.kind == "abstain"]
    assert any("英伟达2027年" in q for q in questions)
    assert len(questions) >= 10
