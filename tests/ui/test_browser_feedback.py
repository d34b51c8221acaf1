"""👍/👎 in the chat, in a real headless Chromium against a real uvicorn server: the click is
stored with that answer's question, answer and citations, a 👎 takes an optional reason, and
a follow-up's rating carries the earlier turn."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from playwright.sync_api import expect

from api.feedback_store import FeedbackStore
from tests.fakes import NV_QUOTE, FakeAssistant
from tests.ui.test_browser import ask
from ui.app import FEEDBACK_DOWN, FEEDBACK_REASON_SAVED, FEEDBACK_UP, mount_ui

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture
def feedback(tmp_path: Path) -> Iterator[FeedbackStore]:
    store = FeedbackStore(tmp_path / "feedback.sqlite3", commit="browser-commit")
    yield store
    store.close()


@pytest.fixture
def ui_app(ui_service: Any, ui_library: Any, feedback: FeedbackStore) -> FastAPI:
    return mount_ui(FastAPI(), ui_service, ui_library, path="/ui", feedback=feedback)


def test_thumbs_down_with_a_reason_then_thumbs_up_on_a_follow_up(
    live_server: str, page: Any, artifacts: Path, ui_service: Any, feedback: FeedbackStore
) -> None:
    page.goto(f"{live_server}/ui/")
    first = ask(page, "英伟达2026年AEC需求量是多少？")
    status = page.locator("#rna-feedback-status")
    reason_row = page.locator("#rna-feedback-reason-row")
    assert not reason_row.is_visible()

    assert "170" in first.inner_text()
    page.locator("#rna-chat").get_by_role("button", name="Dislike", exact=True).first.click()
    expect(status).to_have_text(FEEDBACK_DOWN)
    expect(reason_row).to_be_visible()
    [down] = feedback.list(rating="down")[0]
    assert down.question == "英伟达2026年AEC需求量是多少？" and down.history == []
    assert down.reason is None and down.surface == "ui" and down.commit == "browser-commit"
    if isinstance(ui_service, FakeAssistant):
        assert down.answer == "英伟达2026年AEC需求量约为170万根[1]。"
        assert [c.quote for c in down.citations] == [NV_QUOTE]
        assert down.verification_status == "verified" and down.language == "zh"
    assert down.answer_id and down.user and down.user.startswith("session:")

    page.locator("#rna-feedback-reason textarea").fill("数字对，但出处应是2025-11-12的纪要原文")
    page.locator("#rna-feedback-send").click()
    expect(status).to_have_text(FEEDBACK_REASON_SAVED)
    expect(reason_row).to_be_hidden()
    assert feedback.get(down.id).reason == "数字对，但出处应是2025-11-12的纪要原文"  # type: ignore[union-attr]
    page.screenshot(path=str(artifacts / "ui-feedback.png"), full_page=True)

    page.locator("#rna-lang").get_by_text("English", exact=True).click()
    ask(page, "And in English?")
    page.locator("#rna-chat").get_by_role("button", name="Like", exact=True).nth(1).click()
    expect(status).to_have_text(FEEDBACK_UP)
    [up] = feedback.list(rating="up")[0]
    assert up.question == "And in English?" and up.answer_id != down.answer_id
    assert [m.content for m in up.history][:1] == ["英伟达2026年AEC需求量是多少？"]
    assert feedback.list()[1] == 2  # the 👎 of the first answer is still there
    assert page.errors == []
