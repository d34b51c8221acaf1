"""Pure formatting of an Answer as Slack mrkdwn: the answer, its plain status ("✓ figures
checked against the sources"), the calculator trace and numbered sources (title, date,
quote), with abstentions clearly marked. The technical record (`verification`) stays out.

As Block Kit: the same text in sections, then 👍/👎 buttons whose value is the answer's
`answer_id`, and the modal that asks a 👎 for its (optional) reason."""

from __future__ import annotations

import json
import re
from typing import Any

from rag.types import FEEDBACK_REASON_MAX_CHARS, Answer, Citation, Language, Rating, ToolCall

# Slack's recommended ceiling for a message's text.
MAX_MESSAGE_CHARS = 3900
MAX_QUOTE_CHARS = 280
SECTION_CHARS = 3000  # Block Kit's limit for one section's text

FEEDBACK_BLOCK = "rna_feedback"
FEEDBACK_ACTIONS: dict[str, Rating] = {"rna_feedback_up": "up", "rna_feedback_down": "down"}
REASON_VIEW = "rna_feedback_reason"
REASON_BLOCK = REASON_INPUT = "reason"

_LABELS = {
    "en": {
        "abstained": ":warning: *Not found in the research notes.*",
        "sources": "*Sources*",
        "related": "*Closest sources (not enough to answer)*",
        "calculations": "*Calculations*",
        "truncated": "… (truncated)",
        "up": "👍 Helpful",
        "down": "👎 Not right",
        "thanks_up": "Thanks: your 👍 is recorded.",
        "thanks_down": "Thanks: your 👎 is recorded.",
        "gone": "This answer is no longer kept, so it can't be rated; ask again to rate the "
        "new answer.",
        "modal_title": "What was wrong?",
        "modal_text": "Your 👎 is recorded. If you like, say what was wrong: a wrong figure, "
        "another company's or period's figure, a missing answer, the wrong source…",
        "modal_label": "Reason (optional)",
        "modal_submit": "Send",
        "modal_close": "Skip",
        "too_long": "At most {limit} characters, please (this has {n}).",
    },
    "zh": {
        "abstained": ":warning: *研究笔记中没有找到答案。*",
        "sources": "*来源*",
        "related": "*最接近的来源（不足以回答）*",
        "calculations": "*计算过程*",
        "truncated": "…（已截断）",
        "up": "👍 有帮助",
        "down": "👎 有问题",
        "thanks_up": "谢谢，已记录您的 👍。",
        "thanks_down": "谢谢，已记录您的 👎。",
        "gone": "这条回答已不再保存，无法评价；请重新提问后评价新的回答。",
        "modal_title": "哪里不对？",
        "modal_text": "已记录您的 👎。可选：说明哪里不对——数字错误、把别的公司或期间的数字当成答案、"
        "漏答、出处不对……",
        "modal_label": "原因（可选）",
        "modal_submit": "提交",
        "modal_close": "跳过",
        "too_long": "最多 {limit} 个字符（现在有 {n} 个）。",
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


def label(language: Language | None, key: str) -> str:
    return _LABELS[language or "en"][key]


def _sections(text: str, limit: int = SECTION_CHARS) -> list[str]:
    """The text cut into section-sized parts, at paragraph breaks where it can be."""
    parts: list[str] = []
    current = ""
    for paragraph in text.split("\n\n"):
        while len(paragraph) > limit:  # one paragraph over a section: cut it
            if current:
                parts.append(current)
                current = ""
            parts.append(paragraph[:limit])
            paragraph = paragraph[limit:]
        joined = f"{current}\n\n{paragraph}" if current else paragraph
        if len(joined) <= limit:
            current = joined
        else:
            parts.append(current)
            current = paragraph
    if current:
        parts.append(current)
    return [part for part in parts if part.strip()]


def _button(action_id: str, text: str, value: str) -> dict[str, Any]:
    return {
        "type": "button",
        "action_id": action_id,
        "text": {"type": "plain_text", "text": text, "emoji": True},
        "value": value,
    }


def answer_blocks(text: str, answer: Answer) -> list[dict[str, Any]]:
    """The formatted answer as sections, then 👍/👎 buttons when it was kept for feedback
    (its `answer_id` is their value)."""
    blocks: list[dict[str, Any]] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": part}} for part in _sections(text)
    ]
    if answer.answer_id:
        lang = answer.language
        buttons = [
            _button(a, label(lang, r), answer.answer_id) for a, r in FEEDBACK_ACTIONS.items()
        ]
        blocks.append({"type": "actions", "block_id": FEEDBACK_BLOCK, "elements": buttons})
    return blocks


def reason_modal(feedback_id: int, language: Language | None) -> dict[str, Any]:
    """The modal a 👎 opens: an optional reason for the rating `feedback_id`."""

    def plain(key: str) -> dict[str, Any]:
        return {"type": "plain_text", "text": label(language, key)}

    return {
        "type": "modal",
        "callback_id": REASON_VIEW,
        "private_metadata": json.dumps({"feedback_id": feedback_id, "language": language}),
        "title": plain("modal_title"),
        "submit": plain("modal_submit"),
        "close": plain("modal_close"),
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": label(language, "modal_text")}},
            {
                "type": "input",
                "block_id": REASON_BLOCK,
                "optional": True,
                "label": plain("modal_label"),
                "element": {
                    "type": "plain_text_input",
                    "action_id": REASON_INPUT,
                    "multiline": True,
                    "max_length": FEEDBACK_REASON_MAX_CHARS,
                },
            },
        ],
    }
