"""The one sentence splitter: ingest's chunker and answering's evidence cut text the same way.

A sentence ends at 。！？!?；; (with the closing quotes after it), at a line break, and at an
English full stop before a capital. It never ends inside parentheses, where notes put a
company's other names: "Industrial and Commercial Bank of China (工商银行, 601398.SH / 1398.HK;
ICBC) reported…" is one sentence.
"""

from __future__ import annotations

import re

_ENDS = frozenset("。！？!?；;")
_CLOSERS = frozenset("”’」』\"'")
_ENGLISH_STOP = re.compile(r"\.(?=\s+[A-Z(])")
# Before a full stop: a word, a figure or a bracket; or an acronym of two capitals or more
# ("38.98m TEU. Revenue", "its ADS. The"), but not an initial ("U.S. Steel").
_STOP_AFTER = re.compile(r"(?:[a-z0-9%)\]]|(?:^|[^A-Za-z.])[A-Z]{2,})$")


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """[start, end) of each sentence of `text`, covering it in order (blank ones left out)."""
    spans: list[tuple[int, int]] = []
    stops = {
        m.end()
        for m in _ENGLISH_STOP.finditer(text)
        if _STOP_AFTER.search(text[max(0, m.start() - 12) : m.start()])
    }
    start = depth = 0
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch in "(（":
            depth += 1
        elif ch in ")）":
            depth = max(0, depth - 1)
        if ch == "\n":
            while i + 1 < n and text[i + 1] == "\n":
                i += 1
            spans.append((start, i + 1))
            start, depth = i + 1, 0
        elif depth == 0 and (ch in _ENDS or i + 1 in stops):
            while i + 1 < n and (text[i + 1] in _ENDS or text[i + 1] in _CLOSERS):
                i += 1
            spans.append((start, i + 1))
            start = i + 1
        i += 1
    if start < n:
        spans.append((start, n))
    return [(s, e) for s, e in spans if text[s:e].strip()]


# -- headings --------------------------------------------------------------------------------

HEADING = re.compile(r"^\s{0,3}(#{1,6})[ \t]+(.+?)[ \t#]*$")  # a markdown heading line
HEADING_JOIN = " › "  # between the headings a chunk sits under, outermost first


def is_heading(sentence: str) -> bool:
    return bool(HEADING.match(sentence.strip()))


# Speaker turns of a call transcript or an interview, optionally in bold ("**主持人：**"): who
# asks, and who answers.
QUESTION_TURN = re.compile(
    r"^\s*(?:\*\*)?\s*(?:Q|问|提问|Question|主持人|Host|Moderator|Interviewer|Analyst|投资者)"
    r"\s*(?:\*\*)?\s*[:：]",
    re.IGNORECASE,
)
ANSWER_TURN = re.compile(
    r"^\s*(?:\*\*)?\s*(?:A|答|回答|Answer|专家|Expert|嘉宾|Guest|管理层|Management)"
    r"\s*(?:\*\*)?\s*[:：]",
    re.IGNORECASE,
)
_ASKED = re.compile(r"[?？]\s*$")


def is_question(sentence: str) -> bool:
    """An interviewer's question ("Q：…", "问：…", "主持人：…", or a sentence ending in ?): it
    asks, it states no fact."""
    return bool(QUESTION_TURN.match(sentence) or _ASKED.search(sentence))
