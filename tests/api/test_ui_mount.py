"""The Gradio UI mounted at /ui of the API app (the real ui.app, with the fakes)."""

from __future__ import annotations

import logging
import sys

import pytest
from fastapi.testclient import TestClient

from api.main import _LateLibrary, _LateService, create_app
from rag.types import AskRequest
from tests.api.conftest import api_settings, serve
from tests.fakes import FakeAssistant, FakeLibrary


@pytest.mark.integration
def test_ui_mounted_and_behind_the_api_keys() -> None:
    pytest.importorskip("ui.app")
    app = create_app(
        api_settings(api_keys=["ui-key"]), service=FakeAssistant(), library=FakeLibrary()
    )
    with serve(app) as server, server.client() as client:
        home = client.get("/", follow_redirects=False)
        assert home.status_code == 307 and home.headers["location"] == "/ui/"
        page = client.get("/ui/")
        assert page.status_code == 200 and "gradio" in page.text.lower()
        assert client.get("/ui/config").status_code == 401  # locked until login
        bad = client.post("/ui/login", data={"username": "me", "password": "wrong"})
        assert bad.status_code == 400
        good = client.post("/ui/login", data={"username": "me", "password": "ui-key"})
        assert good.status_code == 200 and good.json() == {"success": True}
        assert client.get("/ui/config").status_code == 200
        # The API itself still wants the bearer key, the probes don't.
        assert client.get("/v1/models").status_code == 401
        assert client.get("/readyz").status_code == 200


@pytest.mark.unit
def test_ui_import_failure_is_logged_and_skipped(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setitem(sys.modules, "ui.app", None)  # makes `from ui import app` fail
    with caplog.at_level(logging.WARNING, logger="api.main"):
        app = create_app(api_settings(), service=FakeAssistant(), library=FakeLibrary())
    assert "UI not mounted" in caplog.text
    with TestClient(app) as client:
        assert client.get("/", follow_redirects=False).headers["location"] == "/docs"
        assert client.get("/ui/").status_code == 404


@pytest.mark.unit
def test_ui_proxies_resolve_the_service_built_later() -> None:
    app = create_app(api_settings(), mount_ui=False)
    service, library = _LateService(app), _LateLibrary(app)
    with pytest.raises(RuntimeError, match="starting"):
        service.ask(AskRequest(question="q"))
    app.state.service, app.state.library = FakeAssistant(), FakeLibrary()
    assert service.ask(AskRequest(question="NV 2026?")).citations[0].n == 1
    assert [e.type for e in service.stream(AskRequest(question="q"))][-1] == "final"
    assert service.readiness()["llm"] is True
    library.add("a.txt", b"text")
    assert [d.doc_id for d in library.list()] == ["uploads/a.txt"]
    assert library.delete("uploads/a.txt").deleted == 1
