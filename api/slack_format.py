"""Pure formatting of an Answer as Slack mrkdwn: the answer, its plain status ("✓ figures
checked against the sources"), the calculator trace and numbered sources (title, date,
quote), with abstentions clearly marked. The technical record (`verification`) stays out."""

from __future__ import annotations

import re

from rag.types import Answer, Citation, ToolCall

# Slack's recommended ceiling for a message's text.
MAX_MESSAGE_CHARS = 3900
MAX_QUOTE_CHARS = 280

_LABELS = {
    "en": {
        "abstained": ":warning: *Not found in the research notes.*",
        "sources": "*Sources*",
        "related": "*Closest sources (not enough to answer)*",
        "calculations": "*Calculations*",
        "truncated": "… (truncated)",
    },
    "zh": {
        "abstained": ":warning: *研究笔记中没有找到答案。*",
        "sources": "*来源*",
        "related": "*最接近的来源（不足以回答）*",
        "calculations": "*计算过程*",
        "truncated": "…（已截断）",
    },
}

_BOLD = re.compile(r"\*\*(.+?)\*\*")


def escape(text: str) -> str:
    """Slack's three control characters; everything else is literal."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _mrkdwn(text: str) -> str:
    """Escape, then turn the Markdown bold an LLM may write into Slack's single-star bold."""
    return _BOLD.sub(r"*\1*", escape(text))


def _shorten(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def format_source(citation: Citation) -> str:
    head = f"*[{citation.n}]* {escape(citation.title)}"
    if citation.date:
        head += f" · {citation.date}"
    # A table row's caption and header say what its bare cells are.
    context = (
        f"\n>_{escape(_shorten(citation.context, MAX_QUOTE_CHARS))}_" if citation.context else ""
    )
    return f"{head}{context}\n>{escape(_shorten(citation.quote, MAX_QUOTE_CHARS))}"


def format_tool_call(call: ToolCall) -> str:
    formula = escape(call.formula.replace("`", "'"))
    return f"• {escape(call.name)}: `{formula}` = *{escape(call.output)}*"


def format_answer(answer: Answer, *, max_chars: int = MAX_MESSAGE_CHARS) -> str:
    labels = _LABELS[answer.language]
    parts: list[str] = []
    if answer.abstained:
        parts.append(labels["abstained"])
    parts.append(_mrkdwn(answer.answer.strip()))
    if answer.status and not answer.abstained:  # plain, for people: no technical reason
        parts.append(f"_{escape(answer.status)}_")
    if answer.tool_calls:
        parts.append("\n".join([labels["calculations"], *map(format_tool_call, answer.tool_calls)]))
    if answer.citations:
        heading = labels["related"] if answer.abstained else labels["sources"]
        parts.append("\n".join([heading, *map(format_source, answer.citations)]))
    text = "\n\n".join(parts)
    if len(text) > max_chars:
        marker = labels["truncated"]
        text = text[: max_chars - len(marker)].rstrip() + marker
    return text
