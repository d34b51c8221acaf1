"""Fixtures for the UI tests: the fakes, the FastAPI app with the chat at /ui, a live server
and a headless Chromium page.

To run the browser tests against the real service, override `ui_service` and `ui_library`
(e.g. in a conftest.py further down, or with `pytest_plugins`); nothing else changes.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI

from tests.fakes import FakeAssistant, FakeLibrary
from tests.ui.live import ARTIFACTS, chromium, ensure_chromium, serve
from ui.app import mount_ui


@pytest.fixture
def ui_service() -> Any:
    return FakeAssistant()


@pytest.fixture
def ui_library() -> Any:
    return FakeLibrary()


@pytest.fixture
def ui_app(ui_service: Any, ui_library: Any) -> FastAPI:
    app = FastAPI()

    @app.get("/healthz")
    def healthz() -> dict[str, bool]:
        return ui_service.readiness()

    return mount_ui(app, ui_service, ui_library, path="/ui")


@pytest.fixture
def live_server(ui_app: FastAPI) -> Iterator[str]:
    """Base URL of a real uvicorn server serving `ui_app` on a free loopback port."""
    with serve(ui_app) as url:
        yield url


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    path, why = ensure_chromium()
    if path is None:
        pytest.skip(why)
    with chromium() as launched:
        yield launched


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh page (1280x900) whose console errors are collected on `page.errors`."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
    new_page = context.new_page()
    new_page.errors = []
    new_page.on("pageerror", lambda error: new_page.errors.append(str(error)))
    new_page.set_default_timeout(30_000)
    try:
        yield new_page
    finally:
        context.close()


@pytest.fixture
def artifacts() -> Any:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
