"""The app factory: `create_app(settings)` wires routes, errors and limits; its lifespan
builds the answering service and the document library once (cheap constructors), then warms
the models up in a worker thread so /healthz answers at once and /readyz tells when done."""

from __future__ import annotations

import asyncio
import importlib
import logging
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import Depends, FastAPI
from fastapi.responses import RedirectResponse
from starlette.concurrency import run_in_threadpool

from api import ask, documents, facts, feedback, grid, health, openai_compat, slack
from api.deps import key_matches, require_api_key
from api.errors import install_error_handlers
from api.feedback_store import FeedbackStore
from api.grid_jobs import GridRunner, direct_answerer, gated_answerer
from api.grid_store import GridStore
from api.limits import AnswerGate
from api.slack_bot import SlackBot
from ingest.library import DocumentLibrary
from rag.config import Settings, get_settings
from rag.service import AnsweringService, FactTables
from rag.types import Answer, AskRequest, DocumentInfo, FactRow, IngestReport, StreamEvent

log = logging.getLogger(__name__)

# JSON bodies: a 2000-character question and 20 history messages fit many times over.
JSON_BODY_LIMIT = 1024 * 1024
MULTIPART_OVERHEAD = 64 * 1024


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    state = app.state
    if state.service is None:
        from rag.assistant import build_assistant  # heavy imports only when serving

        state.service = await run_in_threadpool(build_assistant, state.settings)
    if state.library is None:
        from ingest.library import build_library

        state.library = await run_in_threadpool(build_library, state.settings)
    if state.settings.chroma_mode == "embedded":
        # Open the index once before anything else does: chromadb registers a path's client
        # before it has started it, so two first opens at once (the warm-up, and the chat and
        # Grid tabs listing notes at page load) failed with "Could not connect to tenant".
        await run_in_threadpool(_open_library, state.library)
    # Grid cells: through the API's gate with the LLM, or straight in the grid's worker.
    if state.settings.grid_use_llm:
        answer = gated_answerer(state.service, state.gate, asyncio.get_running_loop())
    else:
        answer = direct_answerer(state.service, state.gate)
    await run_in_threadpool(state.grid.start, answer)
    warm_up = getattr(state.service, "warm_up", None)
    task = None
    if callable(warm_up):
        state.gate.warming = True  # before the first request can slip in
        task = asyncio.create_task(_warm_up(state.gate, warm_up))
    try:
        yield
    finally:
        if task is not None and not task.done():
            task.cancel()  # the thread finishes on its own; the process is exiting
        state.feedback.close()  # reopened on next use (tests serve one app more than once)
        await run_in_threadpool(state.grid.stop)  # running grids: interrupted, cells kept


def _open_library(library: DocumentLibrary) -> None:
    try:
        library.list()
    except Exception:  # not fatal: /readyz and the routes report an unreachable index
        log.warning("the document library could not be read at start", exc_info=True)


async def _warm_up(gate: AnswerGate, warm_up: Any) -> None:
    try:
        await run_in_threadpool(warm_up)
        log.info("models warmed up")
    except Exception:
        # Not fatal: /readyz shows what is missing and the service can still degrade.
        log.exception("warm-up failed")
    finally:
        gate.warming = False


def answer_gate(settings: Settings) -> AnswerGate:
    """Bounds on answering work. With the LLM, its concurrency and queue, and (unless
    `degrade_when_busy` is off) a lane for what it would refuse, answered without the model;
    without the LLM, answers take tens of milliseconds, so one per core runs and a deeper queue
    waits (the wait budget still refuses what would wait too long)."""
    if settings.llm == "none":
        return AnswerGate(
            max(2, settings.llm_concurrency),
            max(64, settings.llm_queue_limit),
            max_wait_s=settings.answer_max_wait_s,
        )
    overflow = (
        AnswerGate(
            settings.deterministic_concurrency,
            settings.deterministic_queue_limit,
            max_wait_s=settings.deterministic_max_wait_s,
            first_guess_s=1.0,  # measured ~0.2 s; a pessimistic start
        )
        if settings.degrade_when_busy
        else None
    )
    return AnswerGate(
        settings.llm_concurrency,
        settings.llm_queue_limit,
        max_wait_s=settings.answer_max_wait_s,
        overflow=overflow,
    )


def create_app(
    settings: Settings | None = None,
    *,
    service: AnsweringService | None = None,
    library: DocumentLibrary | None = None,
    feedback_store: FeedbackStore | None = None,
    mount_ui: bool = True,
) -> FastAPI:
    """The API app. Without `service`/`library` the lifespan builds the real ones; without
    `feedback_store`, ratings and kept answers go to `<data_dir>/feedback.sqlite3`."""
    settings = settings or get_settings()
    app = FastAPI(
        title="Research-notes assistant",
        version="0.1.0",
        summary="Cited answers over Chinese expert-call notes, in Chinese or English.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.service = service
    app.state.library = library
    app.state.gate = answer_gate(settings)
    app.state.library_lock = asyncio.Lock()
    # Opened on first use; the commit of the running code is read once, here.
    app.state.feedback = feedback_store or FeedbackStore.from_settings(settings)
    app.state.slack = SlackBot(settings, feedback=app.state.feedback)
    # Grid jobs in `<data_dir>/grid.sqlite3`; the lifespan starts and stops their worker.
    app.state.grid = GridRunner(GridStore.from_settings(settings), settings)
    install_error_handlers(app)

    # Without keys there is no auth at all, so the OpenAPI schema declares none either.
    auth = [Depends(require_api_key)] if settings.api_keys else []
    app.include_router(health.router)
    app.include_router(ask.router, dependencies=auth, max_body_size=JSON_BODY_LIMIT)
    app.include_router(openai_compat.router, dependencies=auth, max_body_size=JSON_BODY_LIMIT)
    app.include_router(
        documents.router,
        dependencies=auth,
        max_body_size=settings.max_upload_bytes + MULTIPART_OVERHEAD,
    )
    app.include_router(facts.router, dependencies=auth, max_body_size=JSON_BODY_LIMIT)
    app.include_router(feedback.router, dependencies=auth, max_body_size=JSON_BODY_LIMIT)
    app.include_router(grid.router, dependencies=auth, max_body_size=JSON_BODY_LIMIT)
    app.include_router(slack.router, max_body_size=JSON_BODY_LIMIT)

    home = "/ui/" if mount_ui and _mount_ui(app, settings) else "/docs"

    @app.get("/", include_in_schema=False)
    async def root() -> RedirectResponse:
        return RedirectResponse(home)

    return app


def _mount_ui(app: FastAPI, settings: Settings) -> bool:
    try:
        import gradio as gr

        ui_app = importlib.import_module("ui.app")
    except Exception:
        log.warning("UI not mounted: ui.app does not import", exc_info=True)
        return False
    # The chat is admitted by the API's own gate (one count for both), so a busy model
    # degrades its answers too; the gate bounds them, not Gradio's queue.
    blocks = ui_app.build_ui(
        _LateService(app),
        _LateLibrary(app),
        concurrency_limit=None,
        queue_size=None,
        admission=app.state.gate,
        feedback=app.state.feedback,
        grid=app.state.grid,
    )
    keys = settings.api_keys
    # Browsers can't send our bearer header: with keys set, the UI asks for one as password.
    auth = (lambda _user, password: key_matches(password, keys)) if keys else None
    gr.mount_gradio_app(
        app,
        blocks,
        path="/ui",
        auth=auth,
        auth_message="Password: one of the API keys." if keys else None,
        css=getattr(ui_app, "CSS", None),  # Gradio 6 takes css at mount time
        max_file_size=settings.max_upload_bytes,
        footer_links=[],
        ssr_mode=False,
    )
    return True


class _LateService:
    """The UI is built before the lifespan builds the service; this resolves it per call."""

    def __init__(self, app: FastAPI) -> None:
        self._app = app

    def _target(self) -> AnsweringService:
        service = self._app.state.service
        if service is None:
            raise RuntimeError("the service is still starting")
        return service

    def ask(self, request: AskRequest, *, use_llm: bool = True) -> Answer:
        if use_llm:
            return self._target().ask(request)
        return self._target().ask(request, use_llm=False)

    def stream(self, request: AskRequest, *, use_llm: bool = True) -> Iterator[StreamEvent]:
        if use_llm:
            return self._target().stream(request)
        return self._target().stream(request, use_llm=False)

    def readiness(self) -> dict[str, bool]:
        return self._target().readiness()

    def document_facts(self, doc_id: str) -> list[FactRow] | None:
        return self._facts().document_facts(doc_id)

    def find_facts(
        self, *, entity: str | None = None, metric: str | None = None, period: str | None = None
    ) -> list[FactRow]:
        return self._facts().find_facts(entity=entity, metric=metric, period=period)

    def _facts(self) -> FactTables:
        service = self._target()
        if not isinstance(service, FactTables):
            raise RuntimeError("this answering service keeps no fact tables")
        return service


class _LateLibrary:
    def __init__(self, app: FastAPI) -> None:
        self._app = app

    def _target(self) -> DocumentLibrary:
        library = self._app.state.library
        if library is None:
            raise RuntimeError("the library is still starting")
        return library

    def list(self) -> list[DocumentInfo]:
        return self._target().list()

    def add(self, filename: str, data: bytes) -> IngestReport:
        return self._target().add(filename, data)

    def delete(self, doc_id: str) -> IngestReport:
        return self._target().delete(doc_id)
