"""Plain statuses for users: what a reader needs to know about an answer, in its language.

`verification` keeps the technical record (status, reason, LLM state) for the API and for a
"details" toggle; `plain_status` is what a chat or Slack shows in one short line.
"""

from __future__ import annotations

from rag.types import Language

CHECKED, QUOTED, COMPUTED, NOT_IN_NOTES = "checked", "quoted", "computed", "not_in_notes"

LABELS: dict[str, dict[str, str]] = {
    CHECKED: {"en": "✓ figures checked against the sources", "zh": "✓ 数字已与来源核对"},
    QUOTED: {"en": "✓ figures quoted from the sources", "zh": "✓ 数字直接引自来源"},
    COMPUTED: {"en": "✓ computed by the calculator", "zh": "✓ 由计算器算出"},
    NOT_IN_NOTES: {"en": "not in the notes", "zh": "纪要中没有"},
}

# verification["status"] -> the plain kind. "fallback" and "deterministic" both serve the
# answer built from the evidence alone: its figures are the notes' own.
_KINDS = {
    "verified": CHECKED,
    "repaired": CHECKED,
    "deterministic": QUOTED,
    "fallback": QUOTED,
    "computed": COMPUTED,
    "abstained": NOT_IN_NOTES,
}


def status_kind(verification_status: object, abstained: bool) -> str:
    """One of CHECKED, QUOTED, COMPUTED, NOT_IN_NOTES ("" for an unknown status)."""
    if abstained:
        return NOT_IN_NOTES
    return _KINDS.get(str(verification_status), "")


def plain_status(verification_status: object, abstained: bool, language: Language) -> str:
    """The user-facing line, e.g. "✓ figures checked against the sources"."""
    kind = status_kind(verification_status, abstained)
    return LABELS[kind][language] if kind else ""
