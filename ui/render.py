"""Pure rendering: answers, drafts and documents to the Markdown/HTML the chat shows.

Everything that came from a document or a user (answer text, quotes, titles, file names,
error messages) goes through `html.escape` before it is put into HTML. HTML blocks are kept on
single lines with no blank lines inside, so Markdown never re-parses their contents.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence

from rag.types import Answer, Citation, DocumentInfo, FactRow, IngestReport, Message, ToolCall

ABSTAIN_LABEL = "Not in the documents · 文档中未提及"
DRAFT_LABEL = "checking figures… 核对数字中"
DETAILS_LABEL = "details · 详情"
SOURCES_LABEL = "Sources · 来源"
CALC_LABEL = "Calculation · 计算"
DOCUMENT_HEADERS = ["doc_id", "title", "date", "institution", "type"]
FACT_HEADERS = [
    "entity · 主体", "metric · 指标", "period · 期间", "value · 原文数值",
    "normalised · 标准化", "unit · 单位", "change · 变动", "quote · 原句",
]  # fmt: skip

_REF = re.compile(r"\[(\d{1,3}(?:\s*[,，、]\s*\d{1,3})*)\]")
# The technical record behind the "details" toggle, in this order.
_DETAIL_KEYS = ("status", "reason", "llm", "degraded", "numbers_checked", "unsupported")


def esc(text: object) -> str:
    """HTML-escape any value (quotes too), for text and attribute positions alike."""
    return html.escape(str(text), quote=True)


def _one_line(text: str) -> str:
    """Escaped text with line breaks as <br>, so an HTML block never gets a blank line."""
    lines = [esc(line.strip()) for line in text.strip().splitlines()]
    return "<br>".join(line for line in lines if line)


def _answer_body(text: str, cited: set[int]) -> str:
    """The answer text, escaped, with [n] markers of known citations as superscripts."""
    body = esc(text.strip())

    def sup(match: re.Match[str]) -> str:
        numbers = [int(n) for n in re.findall(r"\d+", match.group(1))]
        if not set(numbers) <= cited:
            return match.group(0)
        return f'<sup class="rna-ref">[{",".join(map(str, numbers))}]</sup>'

    return _REF.sub(sup, body)


def render_citation(citation: Citation) -> str:
    """One numbered footnote: closed, it shows the title and date; open, the quoted sentence."""
    date = f" · {esc(citation.date)}" if citation.date else ""
    return (
        f'<details class="rna-cite" data-n="{citation.n}">'
        f'<summary><span class="rna-cite-n">[{citation.n}]</span> '
        f'<span class="rna-cite-title">{esc(citation.title)}</span>{date}</summary>'
        + (
            f'<div class="rna-cite-context">{_one_line(citation.context)}</div>'
            if citation.context
            else ""
        )
        + f'<blockquote class="rna-quote">{_one_line(citation.quote)}</blockquote>'
        f'<div class="rna-cite-meta">{esc(citation.source)} · chars {citation.start}–'
        f"{citation.end} · score {citation.score:.2f}</div>"
        "</details>"
    )


def render_tool_call(call: ToolCall) -> str:
    """The calculator trace: tool name, formula and result."""
    return (
        f'<div class="rna-tool"><span class="rna-tool-name">{esc(call.name)}</span> '
        f'<code class="rna-formula">{esc(call.formula)}</code> → '
        f'<strong class="rna-tool-output">{esc(call.output)}</strong></div>'
    )


def render_status(answer: Answer) -> str:
    """The plain status for users ("✓ figures checked against the sources"), then the
    technical record (status, reason, LLM state) closed behind a "details" toggle."""
    facts = [
        f"{key}: {', '.join(map(str, value)) if isinstance(value, list) else value}"
        for key in _DETAIL_KEYS
        if (value := answer.verification.get(key)) not in (None, "", [])
    ]
    details = (
        f'<details class="rna-details"><summary>{DETAILS_LABEL}</summary>'
        f'<div class="rna-details-body">{esc(" · ".join(facts))}</div></details>'
        if facts
        else ""
    )
    badge = (
        f'<span class="rna-badge rna-badge-ok rna-status">{esc(answer.status)}</span>'
        if answer.status and not answer.abstained
        else ""
    )
    if not badge and not details:
        return ""
    return f'<div class="rna-status-line">{badge}{details}</div>'


def render_answer(answer: Answer) -> str:
    """The final, verified answer as Markdown with HTML blocks for badges and footnotes."""
    if answer.abstained:
        return (
            f'<div class="rna-abstain"><span class="rna-badge rna-badge-abstain">'
            f"{ABSTAIN_LABEL}</span>"
            f'<div class="rna-abstain-text">{_one_line(answer.answer)}</div>'
            f"{render_status(answer)}</div>"
        )
    cited = {c.n for c in answer.citations}
    parts = [_answer_body(answer.answer, cited)]
    status = render_status(answer)
    if status:
        parts.append(status)
    if answer.tool_calls:
        tools = "".join(render_tool_call(call) for call in answer.tool_calls)
        parts.append(
            f'<div class="rna-tools"><div class="rna-section-title">{CALC_LABEL}</div>{tools}</div>'
        )
    if answer.citations:
        cites = "".join(render_citation(c) for c in sorted(answer.citations, key=lambda c: c.n))
        parts.append(
            f'<div class="rna-sources"><div class="rna-section-title">{SOURCES_LABEL}</div>'
            f"{cites}</div>"
        )
    return "\n\n".join(parts)


def render_draft(text: str) -> str:
    """Verified text while the answer streams (the service streams nothing else); replaced by
    `render_answer` at the end."""
    return f'{esc(text.strip())} <span class="rna-drafting">{DRAFT_LABEL}</span>'


BUSY_MESSAGE = (
    "Too many questions at once right now; please ask again in {seconds} s. "
    "· 提问太多，请 {seconds} 秒后再问。"
)


def render_busy(seconds: object) -> str:
    """The one refusal users see: everything, even the answers without the model, is full."""
    return (
        '<div class="rna-error"><span class="rna-badge rna-badge-warn">Busy · 繁忙</span> '
        f"{esc(BUSY_MESSAGE.format(seconds=seconds))}</div>"
    )


def render_error(message: str) -> str:
    return f'<div class="rna-error"><span class="rna-badge rna-badge-error">Error · 出错</span> {esc(message)}</div>'


Turn = tuple[str, Answer]
"""A finished exchange: the user's question and the final answer."""


def chat_messages(turns: Sequence[Turn], pending: tuple[str, str] | None = None) -> list[dict]:
    """The Chatbot value (openai-style messages) for the finished turns plus an optional
    in-flight (question, rendered assistant text) pair."""
    messages: list[dict] = []
    for question, answer in turns:
        messages.append({"role": "user", "content": esc(question)})
        messages.append({"role": "assistant", "content": render_answer(answer)})
    if pending is not None:
        question, shown = pending
        messages.append({"role": "user", "content": esc(question)})
        messages.append({"role": "assistant", "content": shown})
    return messages


def history_from_turns(turns: Sequence[Turn], max_messages: int = 20) -> list[Message]:
    """The plain-text conversation for AskRequest.history: the latest `max_messages`."""
    history: list[Message] = []
    for question, answer in turns:
        history.append(Message(role="user", content=question))
        history.append(Message(role="assistant", content=answer.answer))
    return history[-max_messages:] if max_messages > 0 else []


def document_rows(docs: Sequence[DocumentInfo]) -> list[list[str]]:
    """Rows for the documents table (plain text: the table component escapes it)."""
    return [[d.doc_id, d.title, d.date or "", d.institution or "", d.doc_type] for d in docs]


def fact_rows(rows: Sequence[FactRow]) -> list[list[str]]:
    """Rows for a note's figures table (plain text: the table component escapes it)."""
    return [
        [
            r.entity or "",
            r.metric or "",
            r.period,
            r.value,
            r.value_en if r.value_en == r.value_zh else f"{r.value_zh} · {r.value_en}",
            r.unit or "",
            r.change,
            r.quote,
        ]
        for r in rows
    ]


def describe_facts(doc_id: str, rows: Sequence[FactRow]) -> str:
    """What the figures table shows (Markdown, escaped)."""
    if not rows:
        return f"No figures in **{esc(doc_id)}** · 该文档没有数字"
    title = esc(rows[0].title)
    return f"**{len(rows)}** figures in **{title}** ({esc(doc_id)}) · 关键数字"


def describe_report(action: str, name: str, report: IngestReport) -> str:
    """A one-line success message for an upload or delete (Markdown, escaped)."""
    counts = ", ".join(
        f"{label} {value}"
        for label, value in (
            ("added", report.added),
            ("updated", report.updated),
            ("deleted", report.deleted),
            ("unchanged", report.unchanged),
        )
        if value
    )
    line = f'<span class="rna-ok">✔ {esc(action)} <code>{esc(name)}</code>'
    if counts:
        line += f" ({esc(counts)})"
    line += "</span>"
    if report.skipped:
        line += '<br><span class="rna-warn">skipped: ' + esc("; ".join(report.skipped)) + "</span>"
    return line


def describe_error(action: str, name: str, error: str) -> str:
    """A one-line failure message for an upload or delete (Markdown, escaped)."""
    return (
        f'<span class="rna-err">✘ {esc(action)} <code>{esc(name)}</code> failed: '
        f"{esc(error)}</span>"
    )
