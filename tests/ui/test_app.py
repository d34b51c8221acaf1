"""ui/app.py: the event handlers over the fakes, without a browser."""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import gradio as gr
import pytest
from openpyxl import load_workbook
from pydantic import SecretStr

from api.feedback_store import FeedbackStore
from rag.facts.rows import COLUMNS
from rag.types import Answer, AskRequest, StreamEvent
from tests.fakes import FACT_DOC_ID, FACT_DOC_TITLE, NV_QUOTE, FakeAssistant, FakeLibrary
from ui.app import (
    EXAMPLES,
    FEEDBACK_DOWN,
    FEEDBACK_NOT_AN_ANSWER,
    FEEDBACK_REASON_SAVED,
    FEEDBACK_UP,
    FEEDBACK_WITHDRAWN,
    UiActions,
    build_ui,
    password_check,
)
from ui.render import DRAFT_LABEL, FACT_HEADERS, fact_rows, render_answer

pytestmark = pytest.mark.unit


@pytest.fixture
def service() -> FakeAssistant:
    return FakeAssistant()


@pytest.fixture
def library() -> FakeLibrary:
    return FakeLibrary()


@pytest.fixture
def actions(service: FakeAssistant, library: FakeLibrary) -> UiActions:
    return UiActions(service, library)


def test_build_ui_returns_blocks(service: FakeAssistant, library: FakeLibrary) -> None:
    assert isinstance(build_ui(service, library), gr.Blocks)


def test_examples_cover_both_languages_and_an_abstention() -> None:
    assert any(q.isascii() for q in EXAMPLES)
    assert any(not q.isascii() for q in EXAMPLES)
    assert any("2027" in q for q in EXAMPLES)


def test_respond_streams_drafts_then_replaces_them_with_the_final_answer(
    actions: UiActions, service: FakeAssistant
) -> None:
    updates = list(actions.respond("What is Nvidia's 2026 AEC demand?", [], "auto"))
    drafts = [chat for chat, _, _ in updates[:-1]]
    assert all(DRAFT_LABEL in chat[-1]["content"] for chat in drafts)
    assert any("About" in chat[-1]["content"] for chat in drafts)  # tokens shown as they came
    chat, turns, textbox = updates[-1]
    final = service.ask(AskRequest(question="What is Nvidia's 2026 AEC demand?"))
    assert chat[-1]["content"] == render_answer(final)
    assert DRAFT_LABEL not in chat[-1]["content"]
    assert turns == [("What is Nvidia's 2026 AEC demand?", final)]
    assert textbox == ""


def test_respond_passes_history_and_language(actions: UiActions, service: FakeAssistant) -> None:
    *_, (_, turns, _) = actions.respond("英伟达2026年AEC需求量是多少？", [], "auto")
    list(actions.respond("And in English?", turns, "en"))
    request = service.requests[-1]
    assert request.language == "en"
    assert [m.role for m in request.history] == ["user", "assistant"]
    assert request.history[0].content == "英伟达2026年AEC需求量是多少？"
    assert service.requests[0].language is None  # auto: the service detects it


def test_respond_shows_abstention(actions: UiActions) -> None:
    *_, (chat, turns, _) = actions.respond("英伟达2027年的AEC需求是多少？", [], "auto")
    assert "rna-abstain" in chat[-1]["content"]
    assert turns[-1][1].abstained


def test_blank_question_does_not_call_the_service(
    actions: UiActions, service: FakeAssistant
) -> None:
    assert list(actions.respond("   ", [], "auto")) == [([], [], "")]
    assert service.requests == []


class FailingAssistant(FakeAssistant):
    def stream(self, request: AskRequest) -> Iterator[StreamEvent]:
        yield StreamEvent(type="token", text="half ")
        raise RuntimeError("index <gone>")


class NoFinalAssistant(FakeAssistant):
    def stream(self, request: AskRequest) -> Iterator[StreamEvent]:
        yield StreamEvent(type="token", text="half ")


@pytest.mark.parametrize(
    ("service_cls", "expected"),
    [(FailingAssistant, "index &lt;gone&gt;"), (NoFinalAssistant, "without a final answer")],
)
def test_service_failures_show_an_error_and_keep_earlier_turns(
    service_cls: type[FakeAssistant], expected: str, library: FakeLibrary
) -> None:
    earlier = [("q", Answer(answer="a", language="en"))]
    *_, (chat, turns, _) = UiActions(service_cls(), library).respond("x", earlier, "auto")
    assert "rna-error" in chat[-1]["content"] and expected in chat[-1]["content"]
    assert turns == earlier


def test_upload_adds_and_lists(actions: UiActions, tmp_path: Path) -> None:
    path = tmp_path / "note.txt"
    path.write_text("英伟达2026年AEC需求量预计为170万根", encoding="utf-8")
    message, rows, cleared = actions.upload(str(path))
    assert "added" in message and "note.txt" in message
    assert rows == [["uploads/note.txt", "note.txt", "", "", "other"]]
    assert cleared is None


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [("empty.txt", b"  ", "empty"), ("a.exe", b"MZ", "unsupported_type")],
)
def test_rejected_upload_shows_the_reason(
    actions: UiActions, tmp_path: Path, name: str, data: bytes, reason: str
) -> None:
    path = tmp_path / name
    path.write_bytes(data)
    message, rows, _ = actions.upload(str(path))
    assert "failed" in message and reason in message and name in message
    assert rows == []


def test_upload_of_nothing_is_a_no_op(actions: UiActions) -> None:
    assert actions.upload(None) == ("", [], None)


def test_delete(actions: UiActions, tmp_path: Path) -> None:
    path = tmp_path / "note.txt"
    path.write_text("text", encoding="utf-8")
    actions.upload(str(path))
    message, rows, box = actions.delete(" uploads/note.txt ")
    assert "deleted" in message and rows == [] and box == ""


def test_delete_unknown_id_says_so_and_keeps_the_id(actions: UiActions) -> None:
    message, _, box = actions.delete("uploads/<nope>.txt")
    assert "no document with this doc_id" in message
    assert "&lt;nope&gt;" in message
    assert box == "uploads/<nope>.txt"


def test_delete_without_id(actions: UiActions) -> None:
    message, _, _ = actions.delete("")
    assert "enter a doc_id" in message


class BrokenLibrary(FakeLibrary):
    def list(self) -> list:
        raise RuntimeError("the library is still starting")


def test_load_docs_reports_a_failing_library(service: FakeAssistant) -> None:
    status, rows = UiActions(service, BrokenLibrary()).load_docs()
    assert "the library is still starting" in status and rows == []


def test_build_ui_queue_settings(service: FakeAssistant, library: FakeLibrary) -> None:
    demo = build_ui(service, library, concurrency_limit=2, queue_size=3)
    assert demo._queue.max_size == 3
    answering = [fn for fn in demo.fns.values() if fn.name == "respond"]
    assert len(answering) == 1  # Enter and the button share one event, hence one limit
    assert answering[0].concurrency_limit == 2


def test_password_check_accepts_only_an_api_key() -> None:
    check = password_check([SecretStr("k1"), SecretStr("k2")])
    assert check is not None
    assert check("anyone", "k2")
    assert not check("anyone", "k3")
    assert not check("k1", "")
    assert password_check([]) is None


def _admitted(actions: UiActions, question: str) -> list:
    async def collect() -> list:
        return [update async for update in actions.respond_admitted(question, [], "auto")]

    return asyncio.run(collect())


def test_a_busy_model_degrades_the_chat_answer_instead_of_refusing(
    service: FakeAssistant, library: FakeLibrary
) -> None:
    from api.limits import AnswerGate

    gate = AnswerGate(1, 0, overflow=AnswerGate(2, 0, first_guess_s=1.0))
    held = gate.admit()  # the model's only place is taken (an API question, say)
    *_, (chat, turns, _) = _admitted(
        UiActions(service, library, gate), "英伟达2026年AEC需求量是多少？"
    )
    assert service.llm_flags == [False]
    answer = turns[-1][1]
    assert answer.verification["degraded"] == "llm_busy"
    shown = chat[-1]["content"]
    assert "✓ 数字直接引自来源" in shown and "170万根" in shown
    assert "degraded: llm_busy" in shown.split("<details")[1]  # the reason: behind the toggle
    held.leave()
    *_, (_, turns, _) = _admitted(
        UiActions(service, library, gate), "英伟达2026年AEC需求量是多少？"
    )
    assert service.llm_flags == [False, True] and "degraded" not in turns[-1][1].verification


def test_the_chat_says_ask_again_only_when_every_lane_is_full(
    service: FakeAssistant, library: FakeLibrary
) -> None:
    from api.limits import AnswerGate

    gate = AnswerGate(1, 0, overflow=AnswerGate(1, 0, first_guess_s=1.0))
    held = [gate.admit(), gate.admit()]
    *_, (chat, turns, _) = _admitted(UiActions(service, library, gate), "NV 2026?")
    assert service.requests == [] and turns == []
    assert "please ask again in" in chat[-1]["content"] and "Busy" in chat[-1]["content"]
    for ticket in held:
        ticket.leave()


def test_build_ui_with_admission_answers_through_it(
    service: FakeAssistant, library: FakeLibrary
) -> None:
    from api.limits import AnswerGate

    demo = build_ui(service, library, concurrency_limit=None, admission=AnswerGate(1, 0))
    answering = [fn for fn in demo.fns.values() if fn.name == "respond_admitted"]
    assert len(answering) == 1


def _button_value(button: Any) -> str | None:
    value = button.value  # a FileData dict once Gradio has taken the path
    return value.get("path") if isinstance(value, dict) else value


def test_choosing_a_document_shows_its_figures_and_writes_both_downloads(
    actions: UiActions, service: FakeAssistant
) -> None:
    status, rows, csv_button, xlsx_button = actions.show_facts(FACT_DOC_ID)
    expected = service.document_facts(FACT_DOC_ID)
    assert expected and rows == fact_rows(expected)
    assert f"**{len(expected)}** figures" in status and FACT_DOC_TITLE in status
    assert [r[FACT_HEADERS.index("period · 期间")] for r in rows] == [e.period for e in expected]
    assert csv_button.interactive and xlsx_button.interactive
    csv_path, xlsx_path = Path(_button_value(csv_button)), Path(_button_value(xlsx_button))
    table = list(csv.reader(io.StringIO(csv_path.read_text(encoding="utf-8-sig"))))
    assert tuple(table[0]) == COLUMNS
    assert [line[COLUMNS.index("quote")] for line in table[1:]] == [e.quote for e in expected]
    sheet = load_workbook(xlsx_path).active
    values = [line[COLUMNS.index("value")] for line in sheet.iter_rows(min_row=2, values_only=True)]
    assert values == [e.value for e in expected]


def test_an_unknown_or_blank_document_shows_no_figures(actions: UiActions) -> None:
    status, rows, csv_button, xlsx_button = actions.show_facts("uploads/nope.md")
    assert "no document with this doc_id" in status and rows == []
    assert not csv_button.interactive and not xlsx_button.interactive
    assert actions.show_facts("  ")[:2] == ("", [])


def test_a_deleted_document_takes_its_figures_with_it(actions: UiActions) -> None:
    assert actions.facts_after_delete("")[:2] == ("", [])  # deleted: the box was emptied
    kept = actions.facts_after_delete("uploads/nope.md")  # failed: the table stays
    assert all(isinstance(update, dict) and update.get("__type__") == "update" for update in kept)


def test_a_service_without_fact_tables_says_so(library: FakeLibrary) -> None:
    class AnswersOnly:
        ask = FakeAssistant.ask
        stream = FakeAssistant.stream
        readiness = FakeAssistant.readiness

    status, rows, _, _ = UiActions(AnswersOnly(), library).show_facts(FACT_DOC_ID)  # type: ignore[arg-type]
    assert "not available" in status and rows == []


@pytest.fixture
def feedback(tmp_path: Path) -> Iterator[FeedbackStore]:
    store = FeedbackStore(tmp_path / "feedback.sqlite3", commit="ui-commit")
    yield store
    store.close()


def liked(index: int, value: bool | str) -> gr.LikeData:
    return gr.LikeData(target=None, data={"index": index, "value": ["…"], "liked": value})


def test_without_a_feedback_store_there_are_no_thumbs(
    service: FakeAssistant, library: FakeLibrary, feedback: FeedbackStore
) -> None:
    def chatbot(blocks: gr.Blocks) -> Any:
        return next(b for b in blocks.blocks.values() if isinstance(b, gr.Chatbot))

    assert chatbot(build_ui(service, library)).feedback_options is None
    with_store = chatbot(build_ui(service, library, feedback=feedback))
    assert tuple(with_store.feedback_options) == ("Like", "Dislike") and with_store.likeable


def test_a_thumbs_down_is_stored_with_its_turn_and_takes_a_reason(
    service: FakeAssistant, library: FakeLibrary, feedback: FeedbackStore
) -> None:
    actions = UiActions(service, library, feedback=feedback)
    *_, (_, turns, _) = actions.respond("英伟达2026年AEC需求量是多少？", [], "auto")
    *_, (chat, turns, _) = actions.respond("And in English?", turns, "en")
    assert [a.answer_id is not None for _, a in turns] == [True, True]  # kept when answered
    session = gr.Request(session_hash="tab-1")

    status, row, text, pending = actions.rate(turns, liked(3, False), session)
    assert (status, row.visible, text) == (FEEDBACK_DOWN, True, "")
    stored = feedback.get(pending)  # type: ignore[arg-type]
    assert stored is not None and stored.rating == "down" and stored.surface == "ui"
    assert stored.question == "And in English?" and stored.answer == turns[1][1].answer
    assert [m.content for m in stored.history][:1] == ["英伟达2026年AEC需求量是多少？"]
    assert stored.citations[0].quote == NV_QUOTE and stored.user == "session:tab-1"
    assert (stored.answer_id, stored.commit) == (turns[1][1].answer_id, "ui-commit")

    too_long = "错" * 1001
    status, row, text, still = actions.save_reason(pending, too_long, session)
    assert "1001 characters" in status and row.visible and text == too_long
    assert still == pending and feedback.get(pending).reason is None  # type: ignore[arg-type, union-attr]
    status, row, text, done = actions.save_reason(pending, " 是Meta的数字 ", session)
    assert (status, row.visible, text, done) == (FEEDBACK_REASON_SAVED, False, "", None)
    assert feedback.get(pending).reason == "是Meta的数字"  # type: ignore[arg-type, union-attr]

    # A 👍 on the same answer replaces the 👎; clicking it off takes it back.
    assert actions.rate(turns, liked(3, True), session)[0] == FEEDBACK_UP
    assert feedback.list()[1] == 1 and feedback.list()[0][0].rating == "up"
    assert actions.rate(turns, liked(3, ""), session)[0] == FEEDBACK_WITHDRAWN
    assert feedback.list() == ([], 0)


def test_only_finished_answers_can_be_rated(
    service: FakeAssistant, library: FakeLibrary, feedback: FeedbackStore
) -> None:
    actions = UiActions(service, library, feedback=feedback)
    *_, (_, turns, _) = actions.respond("NV 2026?", [], "auto")
    for index in (0, 2, 3, [5]):  # a question, a pending or busy message past the turns
        status, row, _, pending = actions.rate(turns, liked(index, False))  # type: ignore[arg-type]
        assert (status, row.visible, pending) == (FEEDBACK_NOT_AN_ANSWER, False, None)
    assert feedback.list() == ([], 0)
    assert actions.rate(turns, liked(1, True))[0] == FEEDBACK_UP  # no session: still stored


def test_chat_filters_become_the_retrievals_and_bad_dates_are_refused() -> None:
    from rag.types import Filters
    from ui.app import chat_filters

    assert chat_filters(None, "", "") is None
    assert chat_filters(["a.md"], "2025-01-01", "") == Filters(
        doc_ids=["a.md"], date_from="2025-01-01"
    )
    assert chat_filters([], "", "", ["news", "expert_call"]) == Filters(
        doc_types=["expert_call", "news"]
    )
    assert chat_filters(None, "", "", None, " 比亚迪 ") == Filters(company="比亚迪")
    for bad in (("", "12/01/2025", ""), ("", "2025-12-01", "2025-11-01")):
        with pytest.raises(ValueError):
            chat_filters(*bad)
