"""Only verified text is streamed: the Assistant's `token` events, joined, are a prefix of the
final answer and hold no figure the grounding check has not passed; `use_llm=False` answers
without the model. A scripted chat model stands in for the LLM (fast, unit)."""

from __future__ import annotations

import json

import pytest

from ingest.pipeline import Indexer
from rag.assistant import Assistant
from rag.config import Settings
from rag.numbers import extract_quantities, parse_numbers_in_answer, same_value
from rag.types import Answer, AskRequest
from tests.fakes import GOOD_DRAFT, HashEmbeddings, ScriptedChatModel

pytestmark = pytest.mark.unit

QUESTION = AskRequest(question="英伟达NV 2026年AEC需求量是多少？", top_k=8)


@pytest.fixture
def indexed(fake_settings: Settings) -> Settings:
    Indexer(fake_settings, embeddings=HashEmbeddings()).ingest_all()
    return fake_settings.model_copy(update={"llm_timeout_s": 10.0})


def _stream(settings: Settings, reply: str, *, use_llm: bool = True) -> tuple[str, Answer, list]:
    llm = ScriptedChatModel(reply=reply)
    assistant = Assistant(settings, embeddings=HashEmbeddings(), llm=llm)
    events = list(assistant.stream(QUESTION, use_llm=use_llm))
    assert events[-1].type == "final" and all(e.type == "token" for e in events[:-1])
    final = events[-1].answer
    assert final is not None
    return "".join(e.text for e in events[:-1]), final, llm._calls


def _grounded(text: str, answer: Answer) -> bool:
    """Every figure of `text` is a figure of one of the answer's cited quotes."""
    quoted = [q for c in answer.citations for q in extract_quantities(c.quote, 2025)]
    return all(any(same_value(f, q) for q in quoted) for f in parse_numbers_in_answer(text))


def test_a_verified_draft_is_streamed_and_the_tokens_make_the_final_answer(
    indexed: Settings,
) -> None:
    streamed, final, _ = _stream(indexed, GOOD_DRAFT)
    assert final.verification["status"] in {"verified", "repaired"}, final.verification
    assert streamed == final.answer and "170万根" in streamed
    assert final.status == "✓ 数字已与来源核对"


def test_a_sentence_with_an_unverified_figure_is_never_streamed_nor_answered(
    indexed: Settings,
) -> None:
    reply = GOOD_DRAFT + "亚马逊2026年需求量为987万根[1]。"
    streamed, final, _ = _stream(indexed, reply)
    assert "987" not in streamed and "987" not in final.answer
    assert streamed == final.answer and "170万根" in final.answer  # the verified sentence stays
    assert (
        "987万根" in final.verification["unsupported"] and final.verification["dropped_chars"] > 0
    )
    assert "987" not in json.dumps(final.verification, ensure_ascii=False).replace(
        '"987万根"', ""
    )  # the dropped sentence itself is in no field
    assert final.verification["reason"].endswith("unverified figure")
    assert _grounded(streamed, final)


def test_a_wrong_first_sentence_streams_nothing_and_the_final_is_the_cited_fallback(
    indexed: Settings,
) -> None:
    streamed, final, _ = _stream(
        indexed, "英伟达2026年AEC需求量约为180万根[1]。另有说法为170万根[1]。"
    )
    assert streamed == ""  # nothing verified came before the wrong figure
    assert final.verification["status"] == "fallback"
    assert final.verification["reason"] == "unverified figure"
    assert "170万根" in final.answer and "180" not in final.answer
    assert final.status == "✓ 数字直接引自来源"  # plain; the reason stays in verification


def test_a_sentence_without_the_asked_figure_waits_for_one_that_states_it(
    indexed: Settings,
) -> None:
    reply = "根据纪要[1]。" + GOOD_DRAFT
    streamed, final, _ = _stream(indexed, reply)
    assert streamed == final.answer and "170万根" in streamed
    assert streamed.startswith("根据纪要")  # held back, then streamed with the figure


def test_without_the_model_the_answer_is_deterministic_and_the_model_is_not_called(
    indexed: Settings,
) -> None:
    streamed, final, calls = _stream(indexed, GOOD_DRAFT, use_llm=False)
    assert calls == [] and streamed == ""
    assert final.verification["status"] == "deterministic"
    assert final.verification["llm"] == "not used"
    assert "170万根" in final.answer and _grounded(final.answer, final)
    assert final.status == "✓ 数字直接引自来源"


@pytest.mark.parametrize(
    "reply",
    [
        GOOD_DRAFT,
        GOOD_DRAFT + "2027年为999万根[1]。",
        "英伟达2026年需求为170万根[2]。",  # a wrong marker, repaired
        "NV needs 1.7 million cables [1].",  # wrong language
        "英伟达2026年AEC需求量为170万根[1]；谷歌为250万根[1]。",
        "文档中没有提到这一点。",
    ],
)
def test_no_stream_carries_an_unverified_figure(indexed: Settings, reply: str) -> None:
    streamed, final, _ = _stream(indexed, reply)
    assert final.answer.startswith(streamed)
    assert _grounded(streamed, final), (streamed, final.answer)
    assert _grounded(final.answer, final), final.answer
