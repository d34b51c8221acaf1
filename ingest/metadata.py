"""Document metadata (title, date, institution) from front matter or from the text itself."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

from rag.types import DocType

_TIMESTAMP = re.compile(r"(\d{4})[/-](\d{1,2})[/-](\d{1,2})[ T]\d{1,2}:\d{2}(?::\d{2})?")
_DATES = (
    re.compile(r"(?<!\d)(\d{4})-(\d{1,2})-(\d{1,2})(?!\d)"),
    re.compile(r"(?<!\d)(\d{4})/(\d{1,2})/(\d{1,2})(?!\d)"),
    re.compile(r"(?<!\d)(\d{4})年(\d{1,2})月(\d{1,2})日"),
)
_COMPACT_DATE = re.compile(r"(?<!\d)(20\d{2})(\d{2})(\d{2})(?!\d)")
_CHROME_TITLE = re.compile(r"\[([^\]\n]{1,40})\][:：]([^\n]+?)\s*-\s*发现报告")
_AUTHOR = re.compile(r"作者[:：]\s*[^/\n]{1,20}/([^\s\n，,。]{2,20})")
_SOURCE_LINK = re.compile(r"^\[[^\]\n]*\]\((https?://[^)\s]+)\)[ \t]*$", re.MULTILINE)
# A header line naming who wrote the note: "机构：启明资本研究部", "Institution: Meridian".
_INSTITUTION_LINE = re.compile(
    r"^[ \t]*(?:研究机构|发布机构|机构|来源|出品|Institution|Broker|Source|Publisher)[ \t]*[:：][ \t]*"
    r"([^\n]{2,60}?)[ \t]*$",
    re.MULTILINE | re.IGNORECASE,
)
# The same inside a byline ("2025年10月28日　来源：医药财经观察　记者 林溪"): a name up to a space.
_INSTITUTION_IN_BYLINE = re.compile(
    r"(?:^|[ \t\u3000])(?:研究机构|发布机构|来源|出品)[ \t]*[:：][ \t]*"
    r"([\u4e00-\u9fffA-Za-z0-9（）()·&]{2,30})",
    re.MULTILINE,
)
_SENTENCE_BREAK = re.compile(r"[。！？!?]\s*|\s{2,}|\n")


def _valid(y: str, m: str, d: str) -> str | None:
    try:
        return date(int(y), int(m), int(d)).isoformat()
    except ValueError:
        return None


def parse_date(value: Any) -> str | None:
    """An ISO date from front matter values or free text ('2025-02-14 10:02:11', '20251222')."""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    text = str(value)
    for pattern in (*_DATES, _COMPACT_DATE):
        match = pattern.search(text)
        if match and (iso := _valid(*match.groups())):
            return iso
    return None


def _title_before_timestamp(text: str) -> tuple[str | None, str | None]:
    """Expert-call exports print 'TITLE 2025/11/12 22:40:10' after the summary."""
    match = _TIMESTAMP.search(text)
    if not match:
        return None, None
    head = text[: match.start()].rstrip()
    pieces = _SENTENCE_BREAK.split(head)
    title = pieces[-1].strip() if pieces else ""
    return (title if 4 <= len(title) <= 120 else None), _valid(*match.groups())


# Words a declared type may use for each kind ("doc_type: sector note" is a broker's).
_DECLARED = {
    "expert_call": re.compile(r"expert|call|transcript|interview|纪要|专家|调研|电话会", re.I),
    "broker_note": re.compile(r"broker|sector|research|report|note|研报|点评|报告", re.I),
    "news": re.compile(r"news|article|press|新闻|报道|资讯", re.I),
}
# A transcript's speaker turns; a broker's rating, target price or forecast; a news byline.
_BROKER = re.compile(
    r"评级|目标价|买入|增持|盈利预测|投资建议|维持.{0,4}推荐|风险提示|"
    r"\b(?:target price|price target|TP|Buy|Overweight|Outperform|rating|our estimates?)\b",
)
_NEWS = re.compile(r"记者|来源[:：]|新华社|财联社|\b(?:Reuters|Bloomberg|reporter|correspondent)\b")


def document_type(declared: dict[str, Any], cleaned: str, title: str) -> DocType:
    """What kind of document a note is: what its file declares (front matter `doc_type`), else
    read from its text — speaker turns make an expert call, a rating or target price a broker
    note, a byline news; "other" when nothing says."""
    from rag.sentences import ANSWER_TURN, QUESTION_TURN

    stated = str(declared.get("doc_type") or declared.get("type") or "").strip()
    if stated:
        for kind, words in _DECLARED.items():
            if words.search(stated):
                return kind  # type: ignore[return-value]
        return "other"
    lines = cleaned.splitlines()
    turns = sum(1 for ln in lines if QUESTION_TURN.match(ln) or ANSWER_TURN.match(ln))
    if turns >= 2 or _DECLARED["expert_call"].search(title):
        return "expert_call"
    head = cleaned[:3000]
    if _BROKER.search(head) or re.search(r"点评|深度|研报|首次覆盖|季报|年报|中报", title):
        return "broker_note"
    if _NEWS.search(head):
        return "news"
    return "other"


def extract_metadata(
    original: str, cleaned: str, declared: dict[str, Any], fallback_title: str
) -> dict[str, str | None]:
    """Title, date and institution, preferring what the file declares over what we infer."""
    title = str(declared["title"]).strip() if declared.get("title") else None
    doc_date = parse_date(declared["date"]) if declared.get("date") else None
    institution = str(declared.get("institution") or declared.get("source") or "") or None

    chrome = _CHROME_TITLE.search(original[:2000])
    if chrome:
        title = title or chrome.group(2).strip()
        if not institution and "未知" not in chrome.group(1):
            institution = chrome.group(1).strip()
    stamped_title, stamped_date = _title_before_timestamp(cleaned[:3000])
    title = title or stamped_title
    doc_date = doc_date or stamped_date
    if not title:
        first_line = next((ln.strip() for ln in cleaned.splitlines() if ln.strip()), "")
        first_line = re.sub(r"^#{1,6}\s+", "", first_line)  # a markdown heading's marks
        title = first_line if 0 < len(first_line) <= 80 else fallback_title
    doc_date = doc_date or parse_date(title) or parse_date(cleaned[:1000])
    # A file's own creation stamp only when the text dates nothing: office templates carry
    # theirs (python-docx's default document says 2013), and relative years follow this date.
    if not doc_date and declared.get("created"):
        doc_date = parse_date(declared["created"])
    if not institution and (author := _AUTHOR.search(cleaned[:500])):
        institution = author.group(1)
    if not institution and (line := _INSTITUTION_LINE.search(cleaned[:1500])):
        institution = line.group(1)
    if not institution and (byline := _INSTITUTION_IN_BYLINE.search(cleaned[:1500])):
        institution = byline.group(1)
    url = str(declared.get("url") or "") or None
    if not url and (link := _SOURCE_LINK.search(original)):
        url = link.group(1)
    return {"title": title, "date": doc_date, "institution": institution, "url": url}
