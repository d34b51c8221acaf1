"""The browser tests of test_browser.py again, over the REAL service and library.

Opt-in (`RNA_UI_REAL=1`): it indexes a copy of corpus/ into a temporary data_dir with the
configured embedder and answers with `RNA_LLM` (default `none`: the deterministic answer path;
set `RNA_LLM=llamacpp` to stream from the local model). Only the fixtures change.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.ui.test_browser import (
    ask,
    test_chat_answers_with_a_citation_that_opens_to_the_quote,
    test_documents_panel_uploads_lists_rejects_and_deletes,
    test_english_follow_up_keeps_history,
)

__all__ = [
    "test_chat_answers_with_a_citation_that_opens_to_the_quote",
    "test_documents_panel_uploads_lists_rejects_and_deletes",
    "test_english_follow_up_keeps_history",
]

pytestmark = [
    pytest.mark.integration,
    pytest.mark.slow,
    pytest.mark.skipif(
        os.environ.get("RNA_UI_REAL") != "1",
        reason="opt-in: RNA_UI_REAL=1 runs the browser tests over the real service",
    ),
]


@pytest.fixture(scope="module")
def real_settings(tmp_path_factory: pytest.TempPathFactory) -> Any:
    from rag.config import Settings

    llm = os.environ.get("RNA_LLM", "none")
    return Settings(data_dir=tmp_path_factory.mktemp("data"), llm=llm)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def real_service(real_settings: Any) -> Iterator[Any]:
    from ingest.pipeline import Indexer
    from rag.assistant import build_assistant

    Indexer(real_settings).ingest_all(progress=False)
    service = build_assistant(real_settings)
    service.warm_up()
    yield service


@pytest.fixture
def ui_service(real_service: Any) -> Any:
    return real_service


@pytest.fixture
def ui_library(real_settings: Any, real_service: Any) -> Any:
    from ingest.library import build_library

    return build_library(real_settings)


def test_corpus_is_indexed(real_settings: Any, real_service: Any) -> None:
    assert Path(real_settings.data_dir).is_dir()
    assert real_service.readiness()["index"]


def test_growth_question_shows_the_calculator_trace(
    live_server: str, page: Any, artifacts: Path
) -> None:
    page.goto(f"{live_server}/ui/")
    answer = ask(page, "How much does Nvidia's AEC demand grow from 2025 to 2026?")
    tool = answer.locator(".rna-tool").first
    page.screenshot(path=str(artifacts / "ui-real-calculation.png"), full_page=True)
    assert tool.count() == 1, answer.inner_text()
    assert "=" in tool.inner_text()
    assert answer.locator("details.rna-cite").count() >= 1
    # The plain status; the technical one ("computed", llm "skipped") only behind details.
    assert answer.locator(".rna-status").inner_text() == "✓ computed by the calculator"
    details = answer.locator(".rna-details-body")
    assert not details.is_visible() and "status: computed" in (details.text_content() or "")


def test_chat_filters_restrict_the_notes_an_answer_may_cite(
    live_server: str, page: Any, artifacts: Path
) -> None:
    page.goto(f"{live_server}/ui/")
    question = "What is Nvidia's 2026 AEC demand?"
    unfiltered = ask(page, question)
    assert "2025-11-12" in unfiltered.inner_text()  # the AEC call answers it
    page.locator("#rna-filters").get_by_text("Filters · 筛选").click()
    page.locator("#rna-filter-from textarea, #rna-filter-from input").first.fill("2025-12-01")
    filtered = ask(page, question)
    page.screenshot(path=str(artifacts / "ui-real-filters.png"), full_page=True)
    # Only the December note may answer now: the November call is never cited.
    assert "2025-11-12" not in filtered.inner_text()
    page.locator("#rna-filter-from textarea, #rna-filter-from input").first.fill("12/01/2025")
    refused = ask(page, question)
    assert "YYYY-MM-DD" in refused.inner_text()
