"""The out-of-domain eval (eval/ood/): notes from other sectors and shapes, cases split into a
dev part and a held-out test part. Checks the set is broad, and that every quoted figure is
really stated in its note (read from the note's source text, by the scorer's own parser)."""

from __future__ import annotations

from collections import Counter
from functools import cache
from pathlib import Path

import pytest
import yaml
from bs4 import BeautifulSoup

from eval.figures import Figure, read_figures
from eval.scorer import Case, find_value, load_cases
from rag.config import REPO_ROOT

pytestmark = pytest.mark.unit

OOD = REPO_ROOT / "eval" / "ood"
NOTES = OOD / "notes"
# Notes only the dev suite indexes: new sectors read while building; the held-out split keeps
# its own, unchanged corpus.
DEV_NOTES = OOD / "notes_dev"
DEV = load_cases(OOD / "dev")
TEST = load_cases(OOD / "test")
ALL = DEV + TEST
ABSTAIN_TAGS = {"unknown_entity", "other_entity_metric", "absent_period"}


def note_text(name: str) -> str:
    """The text a note states: the file itself, or the source a binary note was built from."""
    path = NOTES / name if (NOTES / name).exists() else DEV_NOTES / name
    if path.suffix == ".pdf":
        html = (OOD / "notes_src" / f"{path.stem}.html").read_text(encoding="utf-8")
        return BeautifulSoup(html, "lxml").get_text("\n")
    if path.suffix == ".docx":
        import docx

        document = docx.Document(str(path))
        cells = [c.text for t in document.tables for row in t.rows for c in row.cells]
        return "\n".join([p.text for p in document.paragraphs] + cells)
    if path.suffix in (".html", ".htm"):
        soup = BeautifulSoup(path.read_text(encoding="utf-8"), "lxml")
        for tag in soup(["script", "style", "noscript", "head"]):
            tag.decompose()  # visible text only: not the <title> or <meta> content
        return soup.get_text("\n")
    return path.read_text(encoding="utf-8")


@cache
def note_figures(name: str) -> list[Figure]:
    return read_figures(note_text(name))


def test_size_languages_and_kinds() -> None:
    assert len(ALL) >= 150
    assert len({c.id for c in ALL}) == len(ALL)
    assert sum(c.language == "en" for c in ALL) >= 0.4 * len(ALL)
    for split in (DEV, TEST):
        kinds = {(c.kind, c.language) for c in split}
        for kind in ("numeric", "calculator", "abstain", "non_numeric", "relative_date"):
            assert {(kind, "zh"), (kind, "en")} <= kinds, kind


def test_sectors_shapes_and_dates() -> None:
    notes = sorted(p.name for p in NOTES.iterdir())
    assert len(notes) >= 6
    assert {p.rsplit(".", 1)[1] for p in notes} >= {"md", "txt", "pdf", "docx"}
    for path in [*NOTES.iterdir(), *DEV_NOTES.iterdir()]:
        name = path.name
        if name.endswith((".md", ".txt")):
            text = path.read_text(encoding="utf-8")
            front = yaml.safe_load(text.split("---")[1])
            assert front.get("date"), name
    seed = {p.name for p in (REPO_ROOT / "corpus").iterdir()}
    assert not seed & set(notes)


def test_every_source_exists_and_every_note_is_asked_about() -> None:
    sources = Counter(c.source for c in ALL if c.source)
    notes = {p.name for p in NOTES.iterdir()} | {p.name for p in DEV_NOTES.iterdir()}
    assert set(sources) <= notes, set(sources)
    for note in NOTES.iterdir():
        assert sources[note.name] >= 10, note.name


def test_dev_only_notes_are_asked_about_by_dev_cases_only() -> None:
    dev_notes = {p.name for p in DEV_NOTES.iterdir()}
    assert not dev_notes & {p.name for p in NOTES.iterdir()}
    assert not dev_notes & {c.source for c in TEST}
    dev_sources = Counter(c.source for c in DEV if c.source)
    for name in dev_notes:
        assert dev_sources[name] >= 10, name


def test_abstentions_cover_unknown_entities_other_entities_and_absent_periods() -> None:
    tags = Counter(t for c in ALL if c.kind == "abstain" for t in c.tags)
    assert all(tags[t] >= 3 for t in ABSTAIN_TAGS), tags


def test_language_matches_the_question() -> None:
    for c in ALL:
        assert (c.language == "en") == all(ch.isascii() for ch in c.question), c.id


@pytest.mark.parametrize(
    "case",
    [c for c in ALL if c.kind != "calculator" and c.expected.values],
    ids=lambda c: c.id,
)
def test_expected_figures_occur_in_the_source_note(case: Case) -> None:
    assert case.source is not None
    for value in case.expected.values:
        found = find_value(value, note_figures(case.source), check_qualifier=True)
        assert found is not None, f"{value.label()} is not stated in {case.source}"


def test_dev_and_test_do_not_share_questions() -> None:
    # Names only the dev cases: a failure message must not print held-out questions.
    held_out = {c.question for c in TEST}
    colliding = sorted(c.id for c in DEV if c.question in held_out)
    assert colliding == [], f"reword these dev cases: {colliding}"
    assert all(Path(p).suffix == ".yaml" for p in (OOD / "dev").iterdir())
