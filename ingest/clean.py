"""Cleaning that these notes need, keeping a map back to original character offsets.

Every step only *deletes* characters, so the cleaned text is a subsequence of the original and
`CleanText.origin[i]` is the original offset of cleaned character i. Citations quote the cleaned
sentence and report the original span it came from.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

# Site chrome and disclaimers met in the notes; each is removed wherever it stands.
BOILERPLATE_PATTERNS: tuple[str, ...] = (
    r"您的浏览器禁用了JavaScript[^。]*。",
    r"\[[^\]\n]{0,40}\][:：][^\n]*- 发现报告[ \t]*$",
    r"Q&A(?=Q[:：]|\s)",
    r"^AI智能总结[ \t]*$",
    r"^查看更多[ \t]*$",
    r"本文共\d+字[,，]?\s*预计阅读时间\d+分钟",
    r"以下内容为专家分享[,，]仅供参考[,，]不构成任何投资建议。",
    r"无参会人信息",
    r"[（(]更多精彩[^）)\n]*[）)]",
    r"^\[[^\]\n]*\]\(https?://[^)\s]+\)[ \t]*$",  # a bare link line (source footer)
    r"^[-=]{3,}[ \t]*$",  # setext heading underline
)
_BOILERPLATE = [re.compile(p, re.MULTILINE) for p in BOILERPLATE_PATTERNS]

_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_CJK_PUNCT = "\u3000-\u303f\uff00-\uffef"
# A space or line break between two ideographs is a PDF line wrap, not a word boundary.
_WRAP_SPACE = re.compile(
    rf"(?<=[{_CJK}])(?:[ \t]+|[ \t]*\n[ \t]*)(?=[{_CJK}])"
    # ...and so is a line break between an ideograph and a figure ("营业总收入\n1309.04亿元",
    # "398.10\n亿元"), unless the new line opens a numbered item ("1. ", "2、").
    rf"|(?<=[{_CJK}])[ \t]*\n[ \t]*(?=\d)(?!\d{{1,2}}(?:[.、)）]\s|[、)）]))"
    rf"|(?<=[\d%％])[ \t]*\n[ \t]*(?=[{_CJK}])"
)
# PDF extraction of bold runs writes a phrase twice ("当前行业内当前行业内"); digits alone never.
_DOUBLED = re.compile(r"([^\s\d]{2,60}?)\1")
_HAS_CJK = re.compile(rf"[{_CJK}{_CJK_PUNCT}]")
# A doubled single character is usually real Chinese ("形成成熟", "常常"); only these
# connectives and punctuation are collapsed, and 年 only right after a digit ("2026年年AEC").
_SINGLE_DOUBLED = re.compile(r"([和与及在的、，,])\1|(?<=\d)(年)\2")
_SENTENCE_END = re.compile(r"[。！？!?；;]|\n+|\s{2,}")


@dataclass(frozen=True)
class CleanText:
    text: str
    origin: tuple[int, ...]  # origin[i]: offset in the original text of text[i]

    def span(self, start: int, end: int) -> tuple[int, int]:
        """Original [start, end) covering cleaned [start, end)."""
        if end <= start:
            pos = self.origin[start] if start < len(self.origin) else self.origin_end
            return pos, pos
        return self.origin[start], self.origin[end - 1] + 1

    @property
    def origin_end(self) -> int:
        return self.origin[-1] + 1 if self.origin else 0

    def breakpoints(self, start: int, end: int) -> list[tuple[int, int]]:
        """Compact map of cleaned[start:end]: (relative offset, original offset) at each jump."""
        points: list[tuple[int, int]] = []
        for i in range(start, end):
            if i == start or self.origin[i] != self.origin[i - 1] + 1:
                points.append((i - start, self.origin[i]))
        return points


def origin_of(breakpoints: list[tuple[int, int]], rel: int) -> int:
    """Original offset of the character at `rel` inside a chunk, from its breakpoints."""
    idx = bisect_right([p[0] for p in breakpoints], rel) - 1
    base_rel, base_orig = breakpoints[max(idx, 0)]
    return base_orig + (rel - base_rel)


def _delete(current: CleanText, spans: Iterable[tuple[int, int]]) -> CleanText:
    keep = [True] * len(current.text)
    for start, end in spans:
        for i in range(start, end):
            keep[i] = False
    text = "".join(c for c, k in zip(current.text, keep, strict=True) if k)
    origin = tuple(o for o, k in zip(current.origin, keep, strict=True) if k)
    return CleanText(text, origin)


def _radical_table() -> dict[int, str]:
    table: dict[int, str] = {}
    path = Path(__file__).with_name("data") / "cjk_radicals.tsv"
    for line in path.read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            code, ideograph = line.split("\t")
            table[int(code, 16)] = ideograph
    return table


_RADICALS = _radical_table()
# Blocks whose characters stand in for ordinary ones: Kangxi radicals, the radicals
# supplement, CJK compatibility ideographs, and full-width digits and Latin letters.
_FOLDABLE = re.compile(r"[\u2e80-\u2fdf\uf900-\ufaff\uff10-\uff19\uff21-\uff3a\uff41-\uff5a]")


def fold_lookalikes(current: CleanText) -> CleanText:
    """Replace look-alike code points with the characters they stand for ("同⽐增⻓" ->
    "同比增长"), one for one, so offsets are unchanged. Full-width punctuation is kept."""

    def fold(match: re.Match[str]) -> str:
        ch = match.group(0)
        folded = unicodedata.normalize("NFKC", ch)
        if len(folded) == 1 and folded != ch:
            return folded
        return _RADICALS.get(ord(ch), ch)

    text = _FOLDABLE.sub(fold, current.text)
    return current if text == current.text else CleanText(text, current.origin)


def remove_boilerplate(current: CleanText) -> CleanText:
    spans = [m.span() for pattern in _BOILERPLATE for m in pattern.finditer(current.text)]
    return _delete(current, spans)


def join_wrapped_lines(current: CleanText) -> CleanText:
    return _delete(current, (m.span() for m in _WRAP_SPACE.finditer(current.text)))


def has_doubling(text: str, threshold: int = 3) -> bool:
    """True when a text shows the PDF bold-run doubling often enough to be an artifact."""
    hits = sum(
        1 for m in _DOUBLED.finditer(text) if len(m.group(1)) >= 3 and _HAS_CJK.search(m.group(1))
    )
    return hits >= threshold


def undouble(current: CleanText) -> CleanText:
    """Collapse XX to X for phrases with Chinese in them, until nothing changes."""
    while True:
        spans = []
        for m in _DOUBLED.finditer(current.text):
            phrase = m.group(1)
            if _HAS_CJK.search(phrase):
                spans.append((m.start() + len(phrase), m.end()))
        for m in _SINGLE_DOUBLED.finditer(current.text):
            spans.append((m.end() - 1, m.end()))
        if not spans:
            return current
        current = _delete(current, spans)


def drop_repeated_sentences(current: CleanText, min_chars: int = 8) -> CleanText:
    """Drop a sentence already seen earlier in the document (pages that repeat a block)."""
    seen: set[str] = set()
    spans = []
    start = 0
    for m in _SENTENCE_END.finditer(current.text + "\n"):
        end = min(m.end(), len(current.text))
        sentence = current.text[start:end].strip()
        key = re.sub(r"\s+", "", sentence)
        if len(key) >= min_chars:
            if key in seen:
                spans.append((start, end))
            seen.add(key)
        start = end
    return _delete(current, spans)


def squeeze_blank_lines(current: CleanText) -> CleanText:
    spans = [(m.start() + 2, m.end()) for m in re.finditer(r"\n{3,}", current.text)]
    spans += [(m.start() + 1, m.end()) for m in re.finditer(r"[ \t]{2,}", current.text)]
    return _delete(current, spans)


def clean(text: str, body_start: int = 0) -> CleanText:
    """All cleaning steps, in the order that lets each see the previous one's result."""
    current = CleanText(text[body_start:], tuple(range(body_start, len(text))))
    current = fold_lookalikes(current)
    current = remove_boilerplate(current)
    current = join_wrapped_lines(current)
    if has_doubling(current.text):
        current = undouble(current)
    current = drop_repeated_sentences(current)
    current = squeeze_blank_lines(current)
    # Trim leading/trailing whitespace.
    lead = len(current.text) - len(current.text.lstrip())
    trail = len(current.text.rstrip())
    return CleanText(current.text[lead:trail], current.origin[lead:trail])
