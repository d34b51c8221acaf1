"""The Gradio chat: streamed, cited answers plus a documents panel.

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
    fact_rows,
    history_from_turns,
    render_busy,
    render_draft,
    render_error,
)

if TYPE_CHECKING:
    from fastapi import FastAPI

    from api.feedback_store import FeedbackStore

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
    ) -> None:
        self.service = service
        self.library = library
        self.admission = admission
        self.feedback = feedback  # ratings and the answers they rate (None: no buttons)
        self._downloads: Path | None = None  # where the figures' CSV/XLSX files are written

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
        if self._downloads is None:
            self._downloads = Path(tempfile.mkdtemp(prefix="rna-facts-"))
        stem = re.sub(r"[^\w.-]+", "_", doc_id.rsplit("/", 1)[-1].rsplit(".", 1)[0]) or "facts"
        csv_path = self._downloads / f"{stem}-facts.csv"
        xlsx_path = self._downloads / f"{stem}-facts.xlsx"
        csv_path.write_text(to_csv(rows), encoding="utf-8-sig")
        xlsx_path.write_bytes(to_xlsx(rows))
        return (
            describe_facts(doc_id, rows),
            fact_rows(rows),
            gr.DownloadButton(value=str(csv_path), interactive=bool(rows)),
            gr.DownloadButton(value=str(xlsx_path), interactive=bool(rows)),
        )


def build_ui(
    service: AnsweringService,
    library: DocumentLibrary,
    *,
    concurrency_limit: int | None = 1,
    queue_size: int | None = None,
    admission: Admission | None = None,
    feedback: FeedbackStore | None = None,
) -> gr.Blocks:
    """The chat and documents panel over one answering service and one document library.

    `concurrency_limit` events of each kind run at once (None: no limit); `queue_size` bounds
    the waiting ones (None: no bound). With `admission` (the API's gate) answers are admitted
    like the API's: a busy model degrades them to answers without it. With `feedback`, every
    answer has 👍/👎 buttons stored there. Mount the result with `css=CSS` (see `mount_ui`)."""
    actions = UiActions(service, library, admission, feedback)
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
    from api.main import answer_gate  # the API's admission: a busy model degrades, not waits
    from ingest.library import build_library
    from rag.assistant import build_assistant
    from rag.config import get_settings

    settings = get_settings()  # refuses a non-loopback host without RNA_API_KEYS
    ui = build_ui(
        build_assistant(settings),
        build_library(settings),
        concurrency_limit=None,  # the gate bounds answering work
        queue_size=None,
        admission=answer_gate(settings),
        feedback=FeedbackStore.from_settings(settings),
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
