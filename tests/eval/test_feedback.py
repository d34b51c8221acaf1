"""`python -m eval --from-feedback` (eval/feedback.py): thumbs-down ratings in a real feedback
store become candidate cases in the case format, which load_cases refuses until reviewed and
accepts once a person has written `expected`; no suite loads them."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError

import eval.__main__ as cli
from api.feedback_store import FeedbackStore
from eval.feedback import DEFAULT_OUT
from eval.scorer import Case, load_cases
from rag.types import AskRequest, Citation, FeedbackEntry, Message
from tests.fakes import NV_QUOTE, FakeAssistant

pytestmark = pytest.mark.unit

CITE = Citation(
    n=1,
    source="corpus/003_558daa5f5094b1d2.txt",
    title="AEC及电源线专家交流",
    date="2025-11-12",
    quote=NV_QUOTE,
    start=10,
    end=36,
    score=0.9,
)


@pytest.fixture
def db(tmp_path: Path) -> Path:
    """A store with 👎 and 👍 ratings from every surface, as the app writes them."""
    path = tmp_path / "data" / "feedback.sqlite3"
    store = FeedbackStore(path, commit="abc1234")
    request = AskRequest(question="英伟达2026年AEC需求量是多少？")
    kept = store.remember(request, FakeAssistant().ask(request), "slack")
    found = store.kept_answer(kept.answer_id or "")
    assert found is not None
    store.record(found.entry("down", "这是2025年的数字", "slack", "U1"))
    store.record(found.entry("down", None, "slack", "U2"))  # the same question: one candidate
    store.record(found.entry("up", None, "slack", "U3"))

    def rate(question: str, answer: str, **fields: object) -> None:
        store.record(
            FeedbackEntry.model_validate(
                {"rating": "down", "question": question, "answer": answer, **fields}
            )
        )

    rate("那Meta呢？", "Meta 2026年约150万根[1]。", surface="ui", citations=[CITE],
         history=[Message(role="user", content="英伟达2026年AEC需求量是多少？")])  # fmt: skip
    rate("How much does Nvidia's AEC demand grow from 2025 to 2026?", "About 143% [1].\nCheck it.",
         surface="api", verification_status="computed", citations=[CITE], language="en")  # fmt: skip
    rate("谷歌明年需要多少AEC？", "文档中没有提到这一点。", surface="ui",
         verification_status="abstained")  # fmt: skip
    rate("What is the liquid-cooling penetration?", "It is rising.", surface="api")
    store.record(
        FeedbackEntry(rating="up", question="q", answer="a", surface="api")
    )  # a 👍 is never a candidate
    store.close()
    return path


def export(db: Path, out: Path | str) -> int:
    return cli.main(["--from-feedback", "--feedback-db", str(db), "--out", str(out)])


def test_thumbs_down_become_candidate_cases_in_the_case_format(db: Path, tmp_path: Path) -> None:
    out = tmp_path / "candidates" / "feedback.yaml"
    assert export(db, out) == 0
    text = out.read_text(encoding="utf-8")
    assert text.startswith("# Candidate eval cases from 👎 feedback: NOT an eval suite")
    cases = yaml.safe_load(text)["cases"]
    by_question = {c["question"]: c for c in cases}
    assert list(by_question) == [
        "英伟达2026年AEC需求量是多少？",
        "那Meta呢？",
        "How much does Nvidia's AEC demand grow from 2025 to 2026?",
        "谷歌明年需要多少AEC？",
        "What is the liquid-cooling penetration?",
    ]
    nv = by_question["英伟达2026年AEC需求量是多少？"]
    assert (nv["id"], nv["language"], nv["kind"]) == ("feedback-1", "zh", "numeric")
    assert nv["source"] == "003_558daa5f5094b1d2.txt" and nv["expected"] == {}
    assert nv["review"] is True
    assert nv["feedback"]["ratings"] == 2 and nv["feedback"]["reasons"] == ["这是2025年的数字"]
    [disliked] = nv["feedback"]["disliked_answers"]  # both rated the same answer
    assert disliked["answer"] == "英伟达2026年AEC需求量约为170万根[1]。"
    assert disliked["feedback_ids"] == [1, 2] and disliked["commit"] == "abc1234"
    assert disliked["surface"] == "slack" and disliked["verification_status"] == "verified"
    assert disliked["citations"] == [
        f"[1] AEC及电源线专家交流 · 2025-11-12 (corpus/003_558daa5f5094b1d2.txt): {NV_QUOTE}"
    ]
    kinds = {q: c["kind"] for q, c in by_question.items()}
    assert kinds == {
        "英伟达2026年AEC需求量是多少？": "numeric",
        "那Meta呢？": "follow_up",
        "How much does Nvidia's AEC demand grow from 2025 to 2026?": "calculator",
        "谷歌明年需要多少AEC？": "relative_date",
        "What is the liquid-cooling penetration?": "non_numeric",
    }
    assert by_question["那Meta呢？"]["history"] == [
        {"role": "user", "content": "英伟达2026年AEC需求量是多少？"}
    ]
    assert by_question["What is the liquid-cooling penetration?"]["source"] is None
    growth = by_question["How much does Nvidia's AEC demand grow from 2025 to 2026?"]
    assert growth["feedback"]["disliked_answers"][0]["answer"] == "About 143% [1].\nCheck it."
    assert "answer: |" in text  # multi-line answers read as written


def test_an_unreviewed_candidate_is_refused_and_a_reviewed_one_is_a_case(
    db: Path, tmp_path: Path
) -> None:
    out = tmp_path / "feedback.yaml"
    assert export(db, out) == 0
    with pytest.raises(ValidationError):
        load_cases(out)  # `review`, `feedback` and an empty `expected` are no case
    for candidate in yaml.safe_load(out.read_text(encoding="utf-8"))["cases"]:
        # What a reviewer does: write `expected` and `source`, drop the review fields.
        reviewed = {k: v for k, v in candidate.items() if k not in ("review", "feedback")}
        reviewed["expected"] = {"keywords": [["AEC", "liquid", "液冷"]]}
        reviewed["source"] = reviewed["source"] or "000_b074af76218b3ff2.txt"
        case = Case.model_validate(reviewed)
        assert case.id.startswith("feedback-") and case.question == candidate["question"]


def test_no_suite_loads_the_candidates() -> None:
    suites = cli.load_suites()
    assert DEFAULT_OUT.parent.name == "candidates"
    for suite in suites.values():
        assert not DEFAULT_OUT.is_relative_to(suite.cases) and suite.cases != DEFAULT_OUT.parent


def test_stdout_and_a_missing_store(
    db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert export(db, "-") == 0
    cases = yaml.safe_load(capsys.readouterr().out)["cases"]
    assert len(cases) == 5
    assert export(tmp_path / "nowhere.sqlite3", tmp_path / "x.yaml") == 1
    assert "no feedback store" in capsys.readouterr().err
    assert not (tmp_path / "x.yaml").exists()
