"""The chat in a real headless Chromium against a real uvicorn server (fakes by default;
override `ui_service` / `ui_library` to run it over the real service)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from rag.types import Answer, AskRequest, Citation, StreamEvent, ToolCall
from tests.fakes import FakeAssistant

pytestmark = [pytest.mark.integration, pytest.mark.slow]


QUOTE = "英伟达(NV)2026年AEC需求量预计为170万根"
# The fakes answer at once; the real service (same tests, fixtures overridden) may need a
# model load and a CPU-bound generation.
ANSWER_TIMEOUT_MS = 180_000
EVIL_TITLE = '<img src=x onerror="window.__xss=1">纪要'


class ScriptedAssistant(FakeAssistant):
    """Streams slowly (so the draft is seen) and answers with a calculator trace and a
    citation whose title and quote are hostile HTML."""

    def ask(self, request: AskRequest) -> Answer:
        self.requests.append(request)
        quote = "2025年100万根，2026年170万根<script>window.__xss=2</script>"
        return Answer(
            answer="Demand grows 70% from 2025 to 2026 [1].",
            language="en",
            citations=[
                Citation(
                    n=1,
                    source="corpus/x.txt",
                    title=EVIL_TITLE,
                    date="2025-11-12",
                    quote=quote,
                    start=0,
                    end=len(quote),
                    score=0.8,
                )
            ],
            tool_calls=[
                ToolCall(
                    name="growth",
                    inputs={"old": 100, "new": 170},
                    formula="(170 - 100) / 100",
                    output="70%",
                )
            ],
            verification={"status": "verified"},
        )

    def stream(self, request: AskRequest) -> Iterator[StreamEvent]:
        for word in ["Draft:", "demand", "rises", "a", "lot"]:
            time.sleep(0.4)
            yield StreamEvent(type="token", text=word + " ")
        yield StreamEvent(type="final", answer=self.ask(request))


def ask(page: Any, question: str) -> Any:
    """Type a question, send it, and return the locator of the newest assistant message
    once it holds the final (non-draft) answer."""
    bots = page.locator("#rna-chat [data-testid='bot']")
    before = bots.count()
    box = page.locator("#rna-question textarea")
    box.fill(question)
    page.locator("#rna-ask").click()
    page.wait_for_function(
        """([n]) => {
            const bots = document.querySelectorAll("#rna-chat [data-testid='bot']");
            if (bots.length <= n) return false;
            const last = bots[bots.length - 1];
            return !last.querySelector('.rna-drafting') && last.innerText.trim().length > 0;
        }""",
        arg=[before],
        timeout=ANSWER_TIMEOUT_MS,
    )
    return bots.nth(bots.count() - 1)


def test_chat_answers_with_a_citation_that_opens_to_the_quote(
    live_server: str, page: Any, artifacts: Path, ui_service: Any
) -> None:
    fake = isinstance(ui_service, FakeAssistant)
    page.goto(f"{live_server}/ui/")
    answer = ask(page, "英伟达2026年AEC需求量是多少？")
    assert "170" in answer.inner_text()
    citation = answer.locator("details.rna-cite").first
    summary = citation.locator("summary").inner_text()
    assert summary.startswith("[1]")
    if fake:
        assert "AEC及电源线专家交流" in summary and "2025-11-12" in summary
    quote = citation.locator(".rna-quote")
    assert not quote.is_visible()  # closed until the reader opens it
    citation.locator("summary").click()
    quote.wait_for(state="visible")
    assert "170" in quote.inner_text()
    if fake:
        assert quote.inner_text().strip() == QUOTE
    page.screenshot(path=str(artifacts / "ui-answer-citation.png"), full_page=True)

    # The abstention, started from the example question.
    page.get_by_text("英伟达2027年的AEC需求是多少？", exact=True).first.click()
    expect(page.locator("#rna-question textarea")).to_have_value("英伟达2027年的AEC需求是多少？")
    page.locator("#rna-ask").click()
    abstain = page.locator("#rna-chat .rna-abstain")
    abstain.wait_for(timeout=ANSWER_TIMEOUT_MS)
    assert "Not in the documents" in abstain.inner_text()
    assert page.locator("#rna-chat .rna-abstain details.rna-cite").count() == 0
    page.screenshot(path=str(artifacts / "ui-abstention.png"), full_page=True)
    assert page.errors == []


def test_english_follow_up_keeps_history(live_server: str, page: Any, ui_service: Any) -> None:
    page.goto(f"{live_server}/ui/")
    ask(page, "英伟达2026年AEC需求量是多少？")
    page.locator("#rna-lang").get_by_text("English", exact=True).click()
    answer = ask(page, "And in English?")
    assert "1.7" in answer.inner_text() or "170" in answer.inner_text()
    if isinstance(ui_service, FakeAssistant):  # the fake records what it was asked
        last = ui_service.requests[-1]
        assert last.language == "en"
        assert [m.content for m in last.history][:1] == ["英伟达2026年AEC需求量是多少？"]


def test_documents_panel_uploads_lists_rejects_and_deletes(
    live_server: str, page: Any, artifacts: Path, tmp_path: Path
) -> None:
    note = tmp_path / "aec-note.txt"
    note.write_text("英伟达(NV)2026年AEC需求量预计为170万根。", encoding="utf-8")
    empty = tmp_path / "empty.txt"
    empty.write_text("   ", encoding="utf-8")

    page.goto(f"{live_server}/ui/")
    page.get_by_role("tab", name="Documents · 文档").click()
    status = page.locator("#rna-docs-status")
    table = page.locator("#rna-docs-table")
    upload = page.locator("#rna-upload input[type=file]")

    upload.set_input_files(str(note))
    page.get_by_text("✔ added").wait_for()
    assert "aec-note.txt" in status.inner_text()
    cell = table.get_by_text("uploads/aec-note.txt").filter(visible=True).first
    cell.wait_for()
    page.screenshot(path=str(artifacts / "ui-documents.png"), full_page=True)

    upload.set_input_files(str(empty))
    page.get_by_text("✘ upload").wait_for()
    assert "empty.txt" in status.inner_text() and "empty]" in status.inner_text()  # [reason]

    delete_box = page.locator("#rna-delete-id textarea, #rna-delete-id input").first
    delete_box.fill("uploads/nope.txt")
    page.locator("#rna-delete").click()
    page.get_by_text("no document with this doc_id").wait_for()

    cell.click()  # picking a row fills the doc_id to delete
    expect(delete_box).to_have_value("uploads/aec-note.txt")
    page.locator("#rna-delete").click()
    page.get_by_text("✔ deleted").wait_for()
    page.wait_for_function(
        "() => !document.querySelector('#rna-docs-table').innerText.includes('aec-note.txt')"
    )
    assert page.errors == []


class TestStreamingTraceAndEscaping:
    @pytest.fixture
    def ui_service(self) -> Any:
        return ScriptedAssistant()

    def test_draft_streams_then_is_replaced_by_the_verified_answer_with_its_trace(
        self, live_server: str, page: Any, artifacts: Path
    ) -> None:
        page.goto(f"{live_server}/ui/")
        page.locator("#rna-question textarea").fill(
            "How much does Nvidia's AEC demand grow from 2025 to 2026?"
        )
        page.locator("#rna-question textarea").press("Enter")
        drafting = page.locator("#rna-chat .rna-drafting")
        drafting.wait_for()
        page.wait_for_function(
            "() => document.querySelector('#rna-chat').innerText.includes('demand rises')"
        )
        page.screenshot(path=str(artifacts / "ui-draft.png"), full_page=True)
        tool = page.locator("#rna-chat .rna-tool")
        tool.wait_for()
        assert drafting.count() == 0
        chat = page.locator("#rna-chat").inner_text()
        assert "Draft:" not in chat  # the draft is replaced, not appended to
        assert "Demand grows 70% from 2025 to 2026" in chat
        assert "(170 - 100) / 100" in tool.inner_text() and "70%" in tool.inner_text()
        assert "growth" in tool.inner_text()

        summary = page.locator("#rna-chat details.rna-cite summary")
        assert EVIL_TITLE in summary.inner_text()  # shown as text, not as an element
        summary.click()
        quote = page.locator("#rna-chat .rna-quote")
        quote.wait_for(state="visible")
        assert "<script>window.__xss=2</script>" in quote.inner_text()
        assert page.evaluate("() => window.__xss") is None
        assert page.locator("#rna-chat img").count() == 0
        page.screenshot(path=str(artifacts / "ui-calculation.png"), full_page=True)


FALLBACK_REASON = "the model stated another figure than the one asked"


class FallbackAssistant(FakeAssistant):
    """The model's draft failed the check: the answer is the deterministic one, with the
    technical reason in `verification`, as rag.assistant gives it."""

    def ask(self, request: AskRequest, *, use_llm: bool = True) -> Answer:
        answer = super().ask(request, use_llm=False)
        verification = {"status": "fallback", "reason": FALLBACK_REASON, "llm": "used"}
        return answer.model_copy(update={"verification": verification})


class TestPlainStatuses:
    """What users read is a plain status; the technical reason waits behind "details"."""

    @pytest.fixture
    def ui_service(self) -> Any:
        return FallbackAssistant()

    def test_the_reason_is_hidden_behind_details_and_the_status_is_plain(
        self, live_server: str, page: Any, artifacts: Path
    ) -> None:
        page.goto(f"{live_server}/ui/")
        answer = ask(page, "What is Nvidia's 2026 AEC demand?")
        status = answer.locator(".rna-status")
        expect(status).to_have_text("✓ figures quoted from the sources")
        reason = answer.get_by_text(FALLBACK_REASON, exact=False)
        assert not reason.is_visible()  # closed: users see the plain status only
        assert "fallback" not in answer.inner_text()
        answer.locator("details.rna-details summary").click()
        reason.wait_for(state="visible")
        assert "status: fallback" in answer.locator(".rna-details-body").inner_text()
        page.screenshot(path=str(artifacts / "ui-plain-status.png"), full_page=True)
        assert page.errors == []


class TestBusyModelInTheBrowser:
    """Mounted with the API's gate, a chat question asked while the model is busy gets the
    deterministic answer at once, with "checked"-style plain status, not a wait or an error."""

    @pytest.fixture
    def gate(self) -> Any:
        from api.limits import AnswerGate

        return AnswerGate(1, 0, overflow=AnswerGate(2, 4, first_guess_s=1.0))

    @pytest.fixture
    def ui_app(self, ui_service: Any, ui_library: Any, gate: Any) -> Any:
        from fastapi import FastAPI

        from ui.app import mount_ui

        return mount_ui(FastAPI(), ui_service, ui_library, path="/ui", admission=gate)

    def test_a_question_while_the_model_is_busy_is_answered_without_it(
        self, live_server: str, page: Any, ui_service: Any, gate: Any, artifacts: Path
    ) -> None:
        held = gate.admit()  # an API question holds the model's only place
        try:
            page.goto(f"{live_server}/ui/")
            answer = ask(page, "英伟达2026年AEC需求量是多少？")
            expect(answer.locator(".rna-status")).to_have_text("✓ 数字直接引自来源")
            assert "170万根" in answer.inner_text()
            answer.locator("details.rna-details summary").click()
            body = answer.locator(".rna-details-body")
            body.wait_for(state="visible")
            assert "degraded: llm_busy" in body.inner_text()
            page.screenshot(path=str(artifacts / "ui-degraded.png"), full_page=True)
        finally:
            held.leave()
        answer = ask(page, "英伟达2026年AEC需求量是多少？")  # the model is free again
        expect(answer.locator(".rna-status")).to_have_text("✓ 数字已与来源核对")
        assert ui_service.llm_flags == [False, True]
        assert page.errors == []
