"""The Gradio chat: streamed, cited answers plus a documents panel and a documents ×
questions grid.

With a grid runner (api/grid_jobs.py), the Grid tab asks chosen questions of chosen notes as a
background job: a progress bar that a timer polls, a notes × questions table of answers with
their citations (or "not in this note"), Cancel, and CSV/XLSX downloads.

With a feedback store, every answer has 👍/👎 buttons (Gradio's `.like()`); a 👎 asks for an
optional reason, and each rating is stored with that turn's question, answer and citations.

`build_ui(service, library)` returns a `gradio.Blocks`; `mount_ui(app, service, library)` mounts
it on a FastAPI app with the stylesheet it needs (Gradio 6 takes css at mount/launch time, not
in the Blocks constructor). `python -m ui` serves it alone with the real service.
"""

from __future__ import annotations

import argparse
import hmac
import logging
import re
import tempfile
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import gradio as gr
from pydantic import SecretStr
from starlette.concurrency import iterate_in_threadpool

from api.errors import ApiError
from api.grid_export import to_csv as grid_csv
from api.grid_export import to_xlsx as grid_xlsx
from ingest.library import DocumentLibrary, RejectedFile
from rag.facts.rows import to_csv, to_xlsx
from rag.service import AnsweringService, FactTables
from rag.types import (
    DOC_TYPES,
    FEEDBACK_REASON_MAX_CHARS,
    Answer,
    AskRequest,
    FeedbackEntry,
    Filters,
    GridCell,
    GridJob,
    GridRequest,
)
from ui.render import (
    DOCUMENT_HEADERS,
    FACT_HEADERS,
    Turn,
    chat_messages,
    describe_error,
    describe_facts,
    describe_report,
    document_rows,
    esc,
    fact_rows,
    history_from_turns,
    render_busy,
    render_citation,
    render_draft,
    render_error,
)

if TYPE_CHECKING:
    from fastapi import FastAPI

    from api.feedback_store import FeedbackStore
    from api.grid_jobs import GridRunner

log = logging.getLogger(__name__)

EXAMPLES = [
    "英伟达2026年AEC需求量是多少？",
    "What is Nvidia's 2026 AEC demand?",
    "How much does Nvidia's AEC demand grow from 2025 to 2026?",
    "英伟达2027年的AEC需求是多少？",
]
LANGUAGES = [("auto", "auto"), ("中文", "zh"), ("English", "en")]
MAX_HISTORY_MESSAGES = 20

CSS = """
.rna-ref { color: var(--color-accent); font-weight: 600; }
.rna-section-title { font-size: 0.85em; font-weight: 600; opacity: 0.75; margin: 0.6em 0 0.2em; }
.rna-sources, .rna-tools { border-top: 1px solid var(--border-color-primary); margin-top: 0.4em; }
.rna-cite { margin: 0.15em 0; font-size: 0.92em; }
.rna-cite summary { cursor: pointer; }
.rna-cite-n { color: var(--color-accent); font-weight: 600; }
#rna-chat .rna-quote { margin: 0.2em 0 0.2em 0.6em !important; padding: 0.3em 0.6em;
  border-left: 3px solid var(--color-accent); background: var(--background-fill-secondary); }
.rna-cite-meta { font-size: 0.8em; opacity: 0.65; }
.rna-cite-context { font-size: 0.82em; opacity: 0.75; margin: 0.2em 0 0 0.6em; }
.rna-tool { font-size: 0.92em; margin: 0.2em 0; }
.rna-tool-name { font-size: 0.8em; padding: 0 0.4em; border-radius: 4px;
  background: var(--background-fill-secondary); }
.rna-badge { display: inline-block; font-size: 0.78em; font-weight: 600; padding: 0.05em 0.55em;
  border-radius: 999px; vertical-align: middle; }
.rna-badge-ok { background: #dcfce7; color: #166534; }
.rna-badge-warn { background: #fef9c3; color: #854d0e; }
.rna-status-line { margin-top: 0.4em; font-size: 0.9em; }
.rna-details { display: inline-block; margin-left: 0.6em; font-size: 0.8em; opacity: 0.75; }
.rna-details summary { cursor: pointer; }
.rna-details-body { font-family: var(--font-mono); margin-top: 0.2em; }
.rna-badge-abstain { background: #fde68a; color: #78350f; }
.rna-badge-error { background: #fee2e2; color: #991b1b; }
.rna-abstain { border-left: 4px solid #f59e0b; padding: 0.2em 0.7em; background: #fffbeb;
  color: #451a03; border-radius: 4px; }
.rna-abstain-text { margin-top: 0.3em; }
.rna-error { border-left: 4px solid #dc2626; padding: 0.2em 0.7em; }
.rna-drafting { font-size: 0.78em; opacity: 0.6; font-style: italic; }
.rna-ok { color: #15803d; }
.rna-err { color: #b91c1c; font-weight: 600; }
.rna-warn { color: #a16207; }
.rna-grid-wrap { overflow-x: auto; }
table.rna-grid { border-collapse: collapse; width: 100%; font-size: 0.9em; }
table.rna-grid th, table.rna-grid td { border: 1px solid var(--border-color-primary);
  padding: 0.45em 0.6em; vertical-align: top; text-align: left; }
table.rna-grid thead th { background: var(--background-fill-secondary); }
.rna-grid-note { min-width: 11em; max-width: 18em; }
.rna-grid-cell { min-width: 15em; max-width: 30em; }
.rna-grid-not_in_note .rna-grid-answer { opacity: 0.6; font-style: italic; }
.rna-grid-error .rna-grid-answer { color: #b91c1c; }
.rna-grid-pending { opacity: 0.45; }
.rna-grid .rna-quote { margin: 0.2em 0 0.2em 0.6em; padding: 0.3em 0.6em;
  border-left: 3px solid var(--color-accent); background: var(--background-fill-secondary); }
.rna-grid-progress progress { width: 100%; height: 0.8em; }
.rna-grid-progress-text { font-size: 0.9em; }
"""


class Admission(Protocol):
    """Admission to answering shared with the API (api.limits.AnswerGate): `admit()` returns
    at once a ticket, an async context manager that waits for a slot and has `use_llm` (False:
    answer without the model, it is busy) and `mark(answer)`; or raises when even the lane
    without the model is full, with a `Retry-After` in the exception's `headers`."""

    def admit(self) -> Any: ...


def _reason(error: Exception) -> str:
    return str(error) or type(error).__name__


def _fail_message(error: Exception) -> str:
    return f"No answer this time: {_reason(error)}. Please try again."


FEEDBACK_UP = "✔ Thanks: your 👍 is recorded · 已记录"
FEEDBACK_DOWN = "✔ Your 👎 is recorded. What was wrong? (optional) · 已记录，哪里不对？（可选）"
FEEDBACK_WITHDRAWN = "Your rating is withdrawn · 已撤回评价"
FEEDBACK_REASON_SAVED = "✔ Thanks: the reason is saved · 原因已保存"
FEEDBACK_NOT_AN_ANSWER = "Only a finished answer can be rated · 只能评价已完成的回答"
FeedbackUpdate = tuple[str, Any, str, int | None]
"""(status line, the reason row's update, the reason box's text, the 👎 awaiting a reason)"""


def _rater(request: gr.Request | None) -> str | None:
    """Who rates in the chat: the login name, else the browser session."""
    if request is None:
        return None
    if request.username:
        return str(request.username)
    return f"session:{request.session_hash}" if request.session_hash else None


class UiActions:
    """The UI's event handlers over one service and one library (testable without a browser)."""

    def __init__(
        self,
        service: AnsweringService,
        library: DocumentLibrary,
        admission: Admission | None = None,
        feedback: FeedbackStore | None = None,
        grid: GridRunner | None = None,
    ) -> None:
        self.service = service
        self.library = library
        self.admission = admission
        self.feedback = feedback  # ratings and the answers they rate (None: no buttons)
        self.grid = grid  # documents × questions jobs (None: no Grid tab)
        self._downloads: Path | None = None  # where the CSV/XLSX downloads are written

    def _download_dir(self) -> Path:
        if self._downloads is None:
            self._downloads = Path(tempfile.mkdtemp(prefix="rna-downloads-"))
        return self._downloads

    async def respond_admitted(
        self,
        question: str,
        turns: list[Turn] | None,
        language: str,
        *filters: Any,
    ) -> AsyncIterator[tuple[Any, list[Turn], str]]:
        """`respond` through the shared admission: a busy model means an answer without it
        (not a wait), and only a full house means "ask again in N s". `filters`: the chat's
        filter inputs, in `respond`'s order."""
        if self.admission is None or not (question or "").strip():
            updates = self.respond(question, turns, language, *filters)
            async for update in iterate_in_threadpool(updates):
                yield update
            return
        try:
            ticket = self.admission.admit()
        except Exception as refused:
            seconds = (getattr(refused, "headers", None) or {}).get("Retry-After", "10")
            turns = list(turns or [])
            yield chat_messages(turns, (question.strip(), render_busy(seconds))), turns, ""
            return
        async with ticket:
            updates = self.respond(
                question, turns, language, *filters, use_llm=ticket.use_llm, mark=ticket.mark
            )
            async for update in iterate_in_threadpool(updates):
                yield update

    def respond(
        self,
        question: str,
        turns: list[Turn] | None,
        language: str,
        notes: list[str] | None = None,
        date_from: str = "",
        date_to: str = "",
        doc_types: list[str] | None = None,
        company: str = "",
        *,
        use_llm: bool = True,
        mark: Callable[[Answer], Answer] | None = None,
    ) -> Iterator[tuple[Any, list[Turn], str]]:
        turns = list(turns or [])
        question = (question or "").strip()
        if not question:
            yield chat_messages(turns), turns, ""
            return
        try:
            filters = chat_filters(notes, date_from, date_to, doc_types, company)
        except ValueError as bad:
            yield chat_messages(turns, (question, render_error(str(bad)))), turns, question
            return
        request = AskRequest(
            question=question,
            history=history_from_turns(turns, MAX_HISTORY_MESSAGES),
            language=None if language == "auto" else language,  # type: ignore[arg-type]
            filters=filters,
        )
        yield chat_messages(turns, (question, render_draft(""))), turns, ""
        draft = ""
        final: Answer | None = None
        try:
            events = (
                self.service.stream(request)
                if use_llm
                else self.service.stream(request, use_llm=False)
            )
            for event in events:
                if event.type == "token":
                    draft += event.text
                    yield chat_messages(turns, (question, render_draft(draft))), turns, ""
                elif event.type == "final" and event.answer is not None:
                    final = event.answer
        except Exception as error:  # the service's own failure: show it, keep the chat alive
            log.exception("answering failed")
            yield chat_messages(turns, (question, render_error(_fail_message(error)))), turns, ""
            return
        if final is None:
            message = "The answer stream ended without a final answer."
            yield chat_messages(turns, (question, render_error(message))), turns, ""
            return
        final = mark(final) if mark is not None else final
        if self.feedback is not None:  # named by answer_id, so a rating can be replaced
            final = self.feedback.remember(request, final, "ui")
        turns = [*turns, (question, final)]
        yield chat_messages(turns), turns, ""

    def rate(
        self, turns: list[Turn] | None, event: gr.LikeData, request: gr.Request | None = None
    ) -> FeedbackUpdate:
        """A 👍/👎 on a chat message: stored with that turn's question (and earlier turns),
        answer and citations; a 👎 then offers the reason box; clicking the same thumb again
        takes the rating back."""
        hidden = gr.Row(visible=False)
        turns = list(turns or [])
        index = event.index[0] if isinstance(event.index, list | tuple) else event.index
        if self.feedback is None:
            return "", hidden, "", None
        # The chat shows each turn as a user then an assistant message; a pending, busy or
        # failed message has no turn behind it.
        if not isinstance(index, int) or index % 2 != 1 or index // 2 >= len(turns):
            return FEEDBACK_NOT_AN_ANSWER, hidden, "", None
        question, answer = turns[index // 2]
        user = _rater(request)
        try:
            if event.liked not in (True, False):  # "" : the thumb was clicked off again
                if answer.answer_id and user:
                    self.feedback.withdraw(answer.answer_id, "ui", user)
                return FEEDBACK_WITHDRAWN, hidden, "", None
            stored = self.feedback.record(
                FeedbackEntry(
                    rating="up" if event.liked else "down",
                    question=question,
                    history=history_from_turns(turns[: index // 2], MAX_HISTORY_MESSAGES),
                    answer=answer.answer,
                    citations=answer.citations,
                    language=answer.language,
                    verification_status=answer.verification.get("status"),
                    surface="ui",
                    user=user,
                    answer_id=answer.answer_id,
                )
            )
        except Exception as error:
            log.exception("storing feedback failed")
            return describe_error("record", "feedback", _reason(error)), hidden, "", None
        if stored.rating == "up":
            return FEEDBACK_UP, hidden, "", None
        return FEEDBACK_DOWN, gr.Row(visible=True), "", stored.id

    def save_reason(
        self, pending: int | None, reason: str | None, request: gr.Request | None = None
    ) -> FeedbackUpdate:
        """The optional reason of the 👎 just given; one over the limit is refused (the box
        keeps it to shorten), never cut."""
        hidden = gr.Row(visible=False)
        reason = (reason or "").strip() or None
        if self.feedback is None or pending is None:
            return "", hidden, "", None
        if reason is not None and len(reason) > FEEDBACK_REASON_MAX_CHARS:
            message = (
                f"the reason has {len(reason)} characters; the limit is "
                f"{FEEDBACK_REASON_MAX_CHARS} · 原因过长"
            )
            return describe_error("save", "reason", message), gr.Row(visible=True), reason, pending
        try:
            self.feedback.set_reason(pending, reason, user=_rater(request))
        except Exception as error:
            log.exception("storing the feedback reason failed")
            failed = describe_error("save", "reason", _reason(error))
            return failed, gr.Row(visible=True), reason or "", pending
        return FEEDBACK_REASON_SAVED, hidden, "", None

    def clear(self) -> tuple[list, list[Turn], str]:
        return [], [], ""

    def list_docs(self) -> list[list[str]]:
        return document_rows(self.library.list())

    def note_choices(self) -> Any:
        """The chat's note filter: every document in the index, by its id."""
        try:
            return gr.update(choices=[row[0] for row in self.list_docs()])
        except Exception:
            log.exception("listing documents failed")
            return gr.update()

    def load_docs(self) -> tuple[str, list[list[str]]]:
        """(status, rows) for the documents panel; a library that fails says so in the status."""
        try:
            return "", self.list_docs()
        except Exception as error:
            log.exception("listing documents failed")
            return describe_error("list", "documents", _reason(error)), []

    def upload(self, path: str | None) -> tuple[str, list[list[str]], None]:
        if not path:
            return "", self.list_docs(), None
        name = Path(path).name
        try:
            report = self.library.add(name, Path(path).read_bytes())
            message = describe_report("added", name, report)
        except RejectedFile as error:
            message = describe_error("upload", name, f"{error} [{error.reason}]")
        except Exception as error:  # ingest failure: tell the user, keep the panel usable
            log.exception("upload of %s failed", name)
            message = describe_error("upload", name, _reason(error))
        return message, self.list_docs(), None

    def delete(self, doc_id: str) -> tuple[str, list[list[str]], str]:
        doc_id = (doc_id or "").strip()
        if not doc_id:
            return describe_error("delete", "", "enter a doc_id"), self.list_docs(), ""
        try:
            report = self.library.delete(doc_id)
            message = describe_report("deleted", doc_id, report)
            doc_id = ""
        except KeyError:
            message = describe_error("delete", doc_id, "no document with this doc_id")
        except Exception as error:
            log.exception("delete of %s failed", doc_id)
            message = describe_error("delete", doc_id, _reason(error))
        return message, self.list_docs(), doc_id

    def pick_row(self, event: gr.SelectData) -> str:
        row = event.row_value if isinstance(event.row_value, list) else None
        return str(row[0]) if row else ""

    def facts_after_delete(self, doc_id: str) -> tuple[Any, ...]:
        """A deleted note's figures go with it (the doc_id box is emptied on success); a
        failed delete leaves the table as it was."""
        if (doc_id or "").strip():
            return (gr.skip(),) * 4
        return self.show_facts("")

    def show_facts(self, doc_id: str) -> tuple[str, list[list[str]], Any, Any]:
        """(status, rows, CSV button, XLSX button) of a note's figures; the buttons download
        the same rows as files, and are disabled while no note is chosen."""
        doc_id = (doc_id or "").strip()
        off = gr.DownloadButton(value=None, interactive=False)
        if not doc_id:
            return "", [], off, off
        if not isinstance(self.service, FactTables):
            return describe_error("list", "figures", "not available here"), [], off, off
        try:
            rows = self.service.document_facts(doc_id)
        except Exception as error:
            log.exception("figures of %s failed", doc_id)
            return describe_error("list", f"figures of {doc_id}", _reason(error)), [], off, off
        if rows is None:
            return describe_error("list", doc_id, "no document with this doc_id"), [], off, off
        stem = re.sub(r"[^\w.-]+", "_", doc_id.rsplit("/", 1)[-1].rsplit(".", 1)[0]) or "facts"
        csv_path = self._download_dir() / f"{stem}-facts.csv"
        xlsx_path = self._download_dir() / f"{stem}-facts.xlsx"
        csv_path.write_text(to_csv(rows), encoding="utf-8-sig")
        xlsx_path.write_bytes(to_xlsx(rows))
        return (
            describe_facts(doc_id, rows),
            fact_rows(rows),
            gr.DownloadButton(value=str(csv_path), interactive=bool(rows)),
            gr.DownloadButton(value=str(xlsx_path), interactive=bool(rows)),
        )

    # -- the grid --------------------------------------------------------------------------

    def grid_choices(self) -> Any:
        """The Grid tab's notes: every document of the library, shown by title and date."""
        try:
            docs = self.library.list()
        except Exception:
            log.exception("listing documents failed")
            return gr.update()
        return gr.update(choices=[(note_label(d.title, d.date), d.doc_id) for d in docs])

    def grid_all_notes(self) -> Any:
        """Every note of the library, chosen."""
        update = self.grid_choices()
        choices = update.get("choices") if isinstance(update, dict) else None
        if choices is None:
            return update
        return gr.update(choices=choices, value=[value for _, value in choices])

    def grid_run(
        self,
        notes: list[str] | None,
        questions: str,
        language: str,
        request: gr.Request | None = None,
    ) -> GridView:
        """Start a grid of the chosen notes and the typed questions (one a line)."""
        lines = [line.strip() for line in (questions or "").splitlines() if line.strip()]
        if self.grid is None:
            return _grid_refusal("Grids are not available here · 此处不支持表格")
        if not notes:
            return _grid_refusal("Choose at least one note · 请至少选择一篇文档")
        if not lines:
            return _grid_refusal("Type at least one question, one a line · 请输入问题，每行一个")
        grid_request = GridRequest(
            documents=list(notes),
            questions=lines,
            language=None if language == "auto" else language,  # type: ignore[arg-type]
        )
        try:
            job = self.grid.submit(
                grid_request, owner=_grid_owner(request), documents=self.library.list()
            )
        except ApiError as refused:
            running = (refused.headers or {}).get("Location", "").rsplit("/", 1)[-1]
            if refused.code == "grid_running" and running:
                # The user's earlier grid: show it again (its Cancel is right there).
                shown = self.grid_poll(running, "")
                message = "Your earlier grid is still running · 上一个表格仍在运行"
                return (shown[0], shown[1], _grid_message(message), *shown[3:])
            return _grid_refusal(str(refused.detail))
        except Exception as error:
            log.exception("starting a grid failed")
            return _grid_refusal(_reason(error))
        return self._grid_view(job, "")

    def grid_poll(self, job_id: str | None, seen: str | None) -> GridView:
        """The job's progress and table now (the table only when a cell or the state
        changed); the timer stops once the job is finished."""
        if self.grid is None or not job_id:
            return (gr.skip(),) * 8 + (gr.Timer(active=False),)  # type: ignore[return-value]
        job = self.grid.get(job_id)
        if job is None:  # kept jobs are pruned: stop polling it
            gone = _grid_refusal("That grid is gone · 该表格已不存在")
            return (*gone[:8], gr.Timer(active=False))
        return self._grid_view(job, seen or "", gr.skip())

    def grid_cancel(self, job_id: str | None, seen: str | None) -> GridView:
        """Stop the running grid; its finished cells stay."""
        if self.grid is None or not job_id:
            return self.grid_poll(job_id, seen)
        job = self.grid.cancel(job_id)
        if job is None:
            return _grid_refusal("That grid is gone · 该表格已不存在")
        return self._grid_view(job, "")

    def grid_reattach(self, request: gr.Request | None = None) -> GridView:
        """On page load: the user's grid that is still running, if any (a login keeps it)."""
        if self.grid is None:
            return self.grid_poll(None, None)
        try:
            running = self.grid.running_job(_grid_owner(request))
        except Exception:
            log.exception("looking up the running grid failed")
            running = None
        return self.grid_poll(running, "")

    def _grid_view(self, job: GridJob, seen: str, message: Any = "") -> GridView:
        """The outputs showing `job`; `message` replaces the message line (gr.skip(): keep
        it, as a poll does)."""
        now = f"{job.id}:{job.state}:{job.progress.done}"
        finished = job.state != "running"
        off = gr.DownloadButton(value=None, interactive=False)
        csv_button, xlsx_button = off, off
        if finished and now != seen:
            stem = f"grid-{job.id[:8]}"
            csv_path = self._download_dir() / f"{stem}.csv"
            xlsx_path = self._download_dir() / f"{stem}.xlsx"
            csv_path.write_text(grid_csv(job), encoding="utf-8-sig")
            xlsx_path.write_bytes(grid_xlsx(job))
            csv_button = gr.DownloadButton(value=str(csv_path), interactive=True)
            xlsx_button = gr.DownloadButton(value=str(xlsx_path), interactive=True)
        elif finished:
            csv_button = xlsx_button = gr.skip()
        return (
            job.id,
            now,
            message,
            render_grid_progress(job),
            render_grid_table(job) if now != seen else gr.skip(),
            csv_button,
            xlsx_button,
            gr.Button(interactive=not finished),
            gr.Timer(active=not finished),
        )


GridView = tuple[Any, Any, Any, Any, Any, Any, Any, Any, Any]
"""(job id, what was last shown, message, progress, table, CSV button, XLSX button, Cancel
button, timer): the Grid tab's outputs, in this order."""

GRID_NOT_IN_NOTE = "not in this note · 本纪要未提及"
GRID_STATES = {
    "running": "running · 进行中",
    "done": "done · 完成",
    "cancelled": "cancelled · 已取消",
    "interrupted": "interrupted · 已中断",
    "failed": "failed · 失败",
}


def _grid_owner(request: gr.Request | None) -> str:
    """Whose grid it is, for "one running grid each": the chat's login or browser session."""
    return f"ui:{_rater(request) or 'anonymous'}"


def _grid_message(message: str) -> str:
    return f'<span class="rna-err">✘ {esc(message)}</span>' if message else ""


def _grid_refusal(message: str) -> GridView:
    """Only the message changes: a grid shown (and its timer) stays."""
    return (gr.skip(), gr.skip(), _grid_message(message), *(gr.skip(),) * 6)  # type: ignore[return-value]


def note_label(title: str, date: str | None) -> str:
    return f"{title} · {date}" if date else title


def render_grid_progress(job: GridJob) -> str:
    """A progress bar and what it counts (HTML, escaped)."""
    p = job.progress
    counts = f"{p.answered} answered · {p.not_in_note} not in the note · {p.error} errors"
    reason = f" — {esc(job.error)}" if job.error and job.state != "cancelled" else ""
    return (
        f'<div class="rna-grid-progress" data-state="{esc(job.state)}" data-done="{p.done}" '
        f'data-total="{p.total}"><progress value="{p.done}" max="{p.total}"></progress>'
        f'<div class="rna-grid-progress-text"><strong>{p.done} / {p.total}</strong> cells · '
        f"{esc(GRID_STATES.get(job.state, job.state))} · {counts}{reason}</div></div>"
    )


def render_grid_cell(cell: GridCell | None) -> str:
    """One cell: the answer with its citations (closed: title and date; open: the quote),
    "not in this note", the error, or "…" while it waits."""
    if cell is None:
        return '<td class="rna-grid-cell rna-grid-pending">…</td>'
    if cell.status == "not_in_note":
        body = f'<div class="rna-grid-answer">{esc(GRID_NOT_IN_NOTE)}</div>'
    elif cell.status == "error":
        body = f'<div class="rna-grid-answer">error · 出错: {esc(cell.answer)}</div>'
    else:
        cites = "".join(render_citation(c) for c in sorted(cell.citations, key=lambda c: c.n))
        body = f'<div class="rna-grid-answer">{esc(cell.answer)}</div>{cites}'
    return (
        f'<td class="rna-grid-cell rna-grid-{cell.status}" data-status="{cell.status}">{body}</td>'
    )


def render_grid_table(job: GridJob) -> str:
    """Notes as rows, questions as columns (HTML; everything from a note or user escaped)."""
    by_place = {(c.row, c.col): c for c in job.cells}
    head = "".join(f"<th>{esc(q)}</th>" for q in job.questions)
    rows = []
    for r, doc in enumerate(job.documents):
        note = (
            f'<th class="rna-grid-note" data-doc-id="{esc(doc.doc_id)}">{esc(doc.title)}'
            f'<div class="rna-cite-meta">{esc(doc.date or "")} · {esc(doc.doc_id)}</div></th>'
        )
        cells = "".join(render_grid_cell(by_place.get((r, c))) for c in range(len(job.questions)))
        rows.append(f"<tr>{note}{cells}</tr>")
    return (
        f'<div class="rna-grid-wrap"><table class="rna-grid" data-job="{esc(job.id)}">'
        f"<thead><tr><th>Note · 文档</th>{head}</tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table></div>"
    )


def build_ui(
    service: AnsweringService,
    library: DocumentLibrary,
    *,
    concurrency_limit: int | None = 1,
    queue_size: int | None = None,
    admission: Admission | None = None,
    feedback: FeedbackStore | None = None,
    grid: GridRunner | None = None,
) -> gr.Blocks:
    """The chat and documents panel over one answering service and one document library.

    `concurrency_limit` events of each kind run at once (None: no limit); `queue_size` bounds
    the waiting ones (None: no bound). With `admission` (the API's gate) answers are admitted
    like the API's: a busy model degrades them to answers without it. With `feedback`, every
    answer has 👍/👎 buttons stored there. With `grid` (a started GridRunner), a Grid tab runs
    documents × questions grids on it. Mount the result with `css=CSS` (see `mount_ui`)."""
    actions = UiActions(service, library, admission, feedback, grid)
    with gr.Blocks(title="Research notes assistant", analytics_enabled=False) as demo:
        turns_state = gr.State([])
        gr.Markdown(
            "## Research notes assistant · 研报纪要助手\n"
            "Answers come only from the notes, with numbered sources; open a source to see "
            "the quoted sentence. 答案仅来自纪要，并附编号出处。"
        )
        with gr.Tab("Chat · 问答", elem_id="rna-chat-tab"):
            chatbot = gr.Chatbot(
                elem_id="rna-chat",
                label="Chat",
                height=520,
                latex_delimiters=[],
                feedback_options=("Like", "Dislike") if feedback is not None else None,
                buttons=[],  # a copy would be our HTML, not the answer text
                placeholder="Ask about the expert-call notes · 询问专家纪要",
            )
            feedback_status = gr.Markdown(elem_id="rna-feedback-status")
            with gr.Row(visible=False, elem_id="rna-feedback-reason-row") as reason_row:
                reason_box = gr.Textbox(
                    label="What was wrong? (optional) · 哪里不对？（可选）",
                    placeholder="e.g. that figure is Meta's, not Nvidia's · "
                    "例如：这是Meta的数字，不是英伟达的",
                    max_length=FEEDBACK_REASON_MAX_CHARS,
                    max_lines=4,
                    elem_id="rna-feedback-reason",
                    scale=6,
                )
                reason_send = gr.Button(
                    "Send reason · 提交原因", elem_id="rna-feedback-send", scale=1
                )
            pending_feedback = gr.State(None)  # the 👎 a reason would be added to
            with gr.Row():
                question = gr.Textbox(
                    elem_id="rna-question",
                    show_label=False,
                    placeholder="Ask a question in Chinese or English · 用中文或英文提问",
                    scale=6,
                    autofocus=True,
                )
                ask = gr.Button("Ask · 提问", variant="primary", elem_id="rna-ask", scale=1)
            with gr.Row():
                language = gr.Radio(
                    LANGUAGES, value="auto", label="Answer language · 回答语言", elem_id="rna-lang"
                )
                clear_btn = gr.Button("Clear · 清空", elem_id="rna-clear", scale=0)
            with (
                gr.Accordion("Filters · 筛选", open=False, elem_id="rna-filters"),
                gr.Row(),
            ):
                filter_notes = gr.Dropdown(
                    choices=[],
                    multiselect=True,
                    label="Only these notes · 仅这些文档",
                    elem_id="rna-filter-notes",
                    scale=2,
                )
                filter_from = gr.Textbox(
                    label="From · 起始日期", placeholder="YYYY-MM-DD", elem_id="rna-filter-from"
                )
                filter_to = gr.Textbox(
                    label="To · 截止日期", placeholder="YYYY-MM-DD", elem_id="rna-filter-to"
                )
                filter_company = gr.Textbox(
                    label="Company · 公司", placeholder="比亚迪 / BYD", elem_id="rna-filter-company"
                )
                filter_types = gr.Dropdown(
                    choices=list(DOC_TYPES),
                    multiselect=True,
                    label="Document type · 文档类型",
                    elem_id="rna-filter-types",
                )
            gr.Examples(EXAMPLES, inputs=[question], label="Examples · 示例")

        with gr.Tab("Documents · 文档", elem_id="rna-docs-tab"):
            docs_status = gr.Markdown(elem_id="rna-docs-status")
            docs_table = gr.Dataframe(
                headers=DOCUMENT_HEADERS,
                value=None,
                datatype="str",
                interactive=False,
                type="array",
                elem_id="rna-docs-table",
                label="Documents · 文档列表 (click a row to pick it for deletion)",
            )
            with gr.Row():
                upload_file = gr.File(
                    label="Upload a document (.txt .md .html .pdf .docx) · 上传文档",
                    file_count="single",
                    type="filepath",
                    elem_id="rna-upload",
                )
                with gr.Column():
                    delete_id = gr.Textbox(
                        label="doc_id to delete · 删除的文档", elem_id="rna-delete-id"
                    )
                    delete_btn = gr.Button("Delete · 删除", variant="stop", elem_id="rna-delete")
            refresh_btn = gr.Button("Refresh · 刷新", elem_id="rna-refresh", size="sm")
            gr.Markdown("### Key figures · 关键数字", elem_classes=["rna-section-title"])
            facts_status = gr.Markdown(elem_id="rna-facts-status")
            facts_table = gr.Dataframe(
                headers=FACT_HEADERS,
                value=None,
                datatype="str",
                interactive=False,
                type="array",
                wrap=True,
                elem_id="rna-facts-table",
                label="Figures of the chosen document · 所选文档的数字 (click a document above)",
            )
            with gr.Row():
                facts_csv = gr.DownloadButton(
                    "Download CSV · 下载", interactive=False, elem_id="rna-facts-csv", size="sm"
                )
                facts_xlsx = gr.DownloadButton(
                    "Download XLSX · 下载", interactive=False, elem_id="rna-facts-xlsx", size="sm"
                )

        if grid is not None:
            with gr.Tab("Grid · 表格", elem_id="rna-grid-tab"):
                gr.Markdown(
                    "Ask each question of each note on its own: a row per note, a column per "
                    "question, every answer cited from its row's note. "
                    "逐篇文档回答每个问题：每行一篇文档，每列一个问题。"
                )
                with gr.Row():
                    with gr.Column(scale=3):
                        grid_notes = gr.Dropdown(
                            choices=[],
                            multiselect=True,
                            label="Notes (rows) · 文档（行）",
                            elem_id="rna-grid-notes",
                        )
                        grid_all = gr.Button(
                            "All notes · 全部文档", size="sm", elem_id="rna-grid-all", scale=0
                        )
                    grid_language = gr.Radio(
                        LANGUAGES,
                        value="auto",
                        label="Answer language · 回答语言",
                        elem_id="rna-grid-lang",
                        scale=1,
                    )
                grid_questions = gr.Textbox(
                    label="Questions (columns), one a line · 问题（列），每行一个",
                    placeholder="What is Nvidia's 2026 AEC demand?\n光模块行业为何具备投资价值？",
                    lines=3,
                    max_lines=12,
                    elem_id="rna-grid-questions",
                )
                with gr.Row():
                    grid_run = gr.Button(
                        "Run · 运行", variant="primary", elem_id="rna-grid-run", scale=2
                    )
                    grid_cancel = gr.Button(
                        "Cancel · 取消",
                        variant="stop",
                        interactive=False,
                        elem_id="rna-grid-cancel",
                        scale=1,
                    )
                    grid_csv_button = gr.DownloadButton(
                        "Download CSV · 下载",
                        interactive=False,
                        elem_id="rna-grid-csv",
                        scale=1,
                    )
                    grid_xlsx_button = gr.DownloadButton(
                        "Download XLSX · 下载",
                        interactive=False,
                        elem_id="rna-grid-xlsx",
                        scale=1,
                    )
                grid_message = gr.HTML(elem_id="rna-grid-message", js_on_load=None)
                grid_progress = gr.HTML(elem_id="rna-grid-progress", js_on_load=None)
                grid_table = gr.HTML(elem_id="rna-grid-table", js_on_load=None)
                grid_job = gr.State(None)  # the id of the grid shown
                grid_seen = gr.State("")  # its state and cell count when last shown
                grid_timer = gr.Timer(1.0, active=False)

        # The REST API (api/) is the documented one: these endpoints serve this page only.
        private: dict[str, Any] = {"api_visibility": "private"}
        chat_io: dict[str, Any] = {
            "inputs": [
                question,
                turns_state,
                language,
                filter_notes,
                filter_from,
                filter_to,
                filter_types,
                filter_company,
            ],
            "outputs": [chatbot, turns_state, question],
            **private,
        }
        gr.on(
            [question.submit, ask.click],
            actions.respond if admission is None else actions.respond_admitted,
            concurrency_limit=concurrency_limit,
            concurrency_id="answer",
            **chat_io,
        )
        if feedback is not None:
            feedback_io: dict[str, Any] = {
                "outputs": [feedback_status, reason_row, reason_box, pending_feedback],
                **private,
            }
            chatbot.like(actions.rate, inputs=[turns_state], **feedback_io)
            gr.on(
                [reason_send.click, reason_box.submit],
                actions.save_reason,
                inputs=[pending_feedback, reason_box],
                **feedback_io,
            )
        cleared = {"outputs": [chatbot, turns_state, question], "queue": False, **private}
        clear_btn.click(actions.clear, **cleared)
        chatbot.clear(actions.clear, **cleared)
        docs_out = [docs_status, docs_table]
        upload_file.upload(
            actions.upload, inputs=[upload_file], outputs=[*docs_out, upload_file], **private
        )
        facts_out = [facts_status, facts_table, facts_csv, facts_xlsx]
        gr.on(
            [delete_btn.click, delete_id.submit],
            actions.delete,
            inputs=[delete_id],
            outputs=[*docs_out, delete_id],
            **private,
        ).then(actions.facts_after_delete, inputs=[delete_id], outputs=facts_out, **private)
        refresh_btn.click(actions.load_docs, outputs=docs_out, **private)
        # Choosing a document picks it for deletion and shows its figures.
        docs_table.select(actions.pick_row, outputs=[delete_id], **private).then(
            actions.show_facts, inputs=[delete_id], outputs=facts_out, **private
        )
        demo.load(actions.load_docs, outputs=docs_out, **private)
        # The note filter offers what the index holds, now and after each upload or delete.
        for changed in (demo.load, upload_file.upload, delete_btn.click, refresh_btn.click):
            changed(actions.note_choices, outputs=[filter_notes], **private)
        if grid is not None:
            grid_out = [
                grid_job,
                grid_seen,
                grid_message,
                grid_progress,
                grid_table,
                grid_csv_button,
                grid_xlsx_button,
                grid_cancel,
                grid_timer,
            ]
            grid_run.click(
                actions.grid_run,
                inputs=[grid_notes, grid_questions, grid_language],
                outputs=grid_out,
                **private,
            )
            grid_cancel.click(
                actions.grid_cancel, inputs=[grid_job, grid_seen], outputs=grid_out, **private
            )
            # A poll is a cheap read of the job store: no progress spinner. (Queued: an update
            # sent outside the queue links its downloads at the root, not under the mount.)
            grid_timer.tick(
                actions.grid_poll,
                inputs=[grid_job, grid_seen],
                outputs=grid_out,
                show_progress="hidden",
                concurrency_limit=None,
                **private,
            )
            demo.load(actions.grid_reattach, outputs=grid_out, **private)
            for changed in (demo.load, upload_file.upload, delete_btn.click, refresh_btn.click):
                changed(actions.grid_choices, outputs=[grid_notes], **private)
            grid_all.click(actions.grid_all_notes, outputs=[grid_notes], **private)
    # One answer at a time by default (a local LLM on 2 cores); Gradio shows waiting users
    # their place in the queue, and refuses new ones past `queue_size`.
    demo.queue(max_size=queue_size)
    return demo


_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def chat_filters(
    notes: list[str] | None,
    date_from: str,
    date_to: str,
    doc_types: list[str] | None = None,
    company: str = "",
) -> Filters | None:
    """The chat's filters as the retrieval's (None: none set). A date that is no ISO date is
    refused with a message rather than ignored."""
    dates = [(date_from or "").strip(), (date_to or "").strip()]
    for date in dates:
        if date and not _ISO_DATE.fullmatch(date):
            raise ValueError(f"Dates are written YYYY-MM-DD (got “{date}”) · 日期格式为 YYYY-MM-DD")
    if dates[0] and dates[1] and dates[0] > dates[1]:
        raise ValueError("The start date is after the end date · 起始日期晚于截止日期")
    company = (company or "").strip()[:100]
    if not notes and not any(dates) and not doc_types and not company:
        return None
    return Filters(
        doc_ids=list(notes) if notes else None,
        date_from=dates[0] or None,
        date_to=dates[1] or None,
        doc_types=[t for t in DOC_TYPES if t in (doc_types or [])] or None,
        company=company or None,
    )


def mount_ui(
    app: FastAPI,
    service: AnsweringService,
    library: DocumentLibrary,
    path: str = "/ui",
    max_upload_bytes: int | None = None,
    **build_options: Any,
) -> FastAPI:
    """Mount the chat on `app` at `path`, with its stylesheet (`build_options` go to build_ui)."""
    return gr.mount_gradio_app(
        app,
        build_ui(service, library, **build_options),
        path=path,
        css=CSS,
        footer_links=[],
        max_file_size=max_upload_bytes,
        ssr_mode=False,
    )


def password_check(keys: list[SecretStr]) -> Callable[[str, str], bool] | None:
    """Gradio auth for the standalone UI: any user name, one of the API keys as password.
    None (no login) when no keys are set, which Settings only allows on a loopback host."""
    if not keys:
        return None
    secrets = [key.get_secret_value().encode() for key in keys]

    def check(_user: str, password: str) -> bool:
        presented = password.encode()
        return any(hmac.compare_digest(presented, secret) for secret in secrets)

    return check


def main(argv: list[str] | None = None) -> None:
    """`python -m ui`: serve the chat alone over the real service, on RNA_HOST."""
    parser = argparse.ArgumentParser(prog="python -m ui", description=__doc__)
    parser.add_argument("--port", type=int, default=7860, help="port (default 7860)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO)

    # Heavy imports only now: building the UI for the API must not load models.
    from api.feedback_store import FeedbackStore
    from api.grid_jobs import GridRunner, direct_answerer
    from api.grid_store import GridStore
    from api.main import answer_gate  # the API's admission: a busy model degrades, not waits
    from ingest.library import build_library
    from rag.assistant import build_assistant
    from rag.config import get_settings

    settings = get_settings()  # refuses a non-loopback host without RNA_API_KEYS
    service = build_assistant(settings)
    library = build_library(settings)
    try:  # the index opened once, before the page's first reads race to open it (api/main.py)
        library.list()
    except Exception:
        log.warning("the document library could not be read at start", exc_info=True)
    # Alone, grid cells are answered without the LLM (the gate lives on Gradio's loop).
    grid = GridRunner(GridStore.from_settings(settings), settings)
    grid.start(direct_answerer(service))
    ui = build_ui(
        service,
        library,
        concurrency_limit=None,  # the gate bounds answering work
        queue_size=None,
        admission=answer_gate(settings),
        feedback=FeedbackStore.from_settings(settings),
        grid=grid,
    )
    ui.launch(
        server_name=settings.host,
        server_port=args.port,
        auth=password_check(settings.api_keys),
        auth_message="Password: one of the API keys (RNA_API_KEYS).",
        css=CSS,
        footer_links=[],
        max_file_size=settings.max_upload_bytes,
        ssr_mode=False,
    )
