"""eval/baseline.py with LangChain's fakes: no model, no network."""

from __future__ import annotations

from itertools import cycle

import pytest
from langchain_core.embeddings import DeterministicFakeEmbedding
from langchain_core.language_models import GenericFakeChatModel
from langchain_core.messages import AIMessage

from eval.baseline import NaiveRag, load_corpus, stratified_subset
from eval.scorer import KINDS, load_cases, score_case
from rag.config import REPO_ROOT
from rag.types import AskRequest, Message

pytestmark = pytest.mark.unit


def make(replies: list[str]) -> NaiveRag:
    llm = GenericFakeChatModel(messages=iter([AIMessage(r) for r in replies]))
    return NaiveRag(load_corpus(REPO_ROOT / "corpus"), DeterministicFakeEmbedding(size=64), llm)


def test_splits_retrieves_four_and_answers_with_citations() -> None:
    rag = make(["英伟达2026年AEC需求量约170万根[1]。"])
    assert len(rag.chunks) > 10
    assert all(len(c.page_content) <= 1000 for c in rag.chunks)
    a = rag.ask(AskRequest(question="英伟达2026年AEC需求量是多少？", language="zh"))
    assert a.answer.startswith("英伟达2026年")
    assert not a.abstained
    assert [c.n for c in a.citations] == [1]
    assert len(a.verification["retrieval"]) == 4
    assert a.timings_ms["total"] >= a.timings_ms["llm"]


def test_uncited_answer_lists_every_retrieved_chunk_and_abstention_is_detected() -> None:
    rag = make(["I don't know."])
    a = rag.ask(
        AskRequest(
            question="And in 2027?",
            history=[Message(role="user", content="Nvidia AEC demand 2026?")],
            language="en",
        )
    )
    assert a.abstained
    assert len(a.citations) == 4


def test_scored_like_the_assistant() -> None:
    cases = {c.id: c for c in load_cases(REPO_ROOT / "eval" / "cases.yaml")}
    rag = make(["文档中没有提到。"])
    r = score_case(
        cases["abs-nv-2027-zh"], rag.ask(AskRequest(question="英伟达2027年的AEC需求是多少？"))
    )
    assert r.correct_and_cited


def test_stratified_subset_covers_every_kind_and_language() -> None:
    cases = load_cases(REPO_ROOT / "eval" / "cases.yaml")
    subset = stratified_subset(cases, 24)
    assert len(subset) == 24
    assert {c.kind for c in subset} == set(KINDS)
    assert {c.language for c in subset} == {"zh", "en"}
    assert len({c.id for c in subset}) == 24
    assert stratified_subset(cases, 3) and len(stratified_subset(cases, 3)) == len(KINDS)


def test_fake_model_can_serve_many_cases() -> None:
    llm = GenericFakeChatModel(messages=cycle([AIMessage("约170万根[1]")]))
    rag = NaiveRag(load_corpus(REPO_ROOT / "corpus"), DeterministicFakeEmbedding(size=32), llm)
    for q in ("a", "b", "c"):
        assert rag.ask(AskRequest(question=q)).answer == "约170万根[1]"
