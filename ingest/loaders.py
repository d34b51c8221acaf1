"""Turn a file into text plus whatever metadata the file itself declares.

Each loader returns the document's *original text*: citations' character offsets index it.
For .txt/.md/.html that is the file's decoded text (HTML: its visible text); for .pdf/.docx it
is the extracted text, the closest thing to an original a reader can be shown.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from ingest.pasted_tables import rows_from_pasted_cells, rows_from_tab_separated

SUPPORTED_SUFFIXES = (".txt", ".md", ".markdown", ".html", ".htm", ".pdf", ".docx")


class LoadError(ValueError):
    """The file cannot be read as a document (binary, malformed, empty, unsupported)."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class LoadedDocument:
    text: str
    metadata: dict[str, Any] = field(default_factory=dict)
    # Characters before this offset are not body text (front matter); cleaning drops them.
    body_start: int = 0


def load_bytes(name: str, data: bytes) -> LoadedDocument:
    """Load a document from its file name (for the type) and bytes."""
    suffix = Path(name).suffix.lower()
    loader = _LOADERS.get(suffix)
    if loader is None:
        raise LoadError("unsupported_type", f"{name}: unsupported file type {suffix or '(none)'}")
    if not data.strip():
        raise LoadError("empty", f"{name}: file is empty")
    doc = loader(data)
    if not doc.text[doc.body_start :].strip():
        raise LoadError("no_text", f"{name}: no text could be extracted")
    return doc


def load_path(path: Path) -> LoadedDocument:
    return load_bytes(path.name, path.read_bytes())


def _decode_text(data: bytes) -> str:
    if b"\x00" in data[:8192]:
        raise LoadError("binary", "file looks binary (NUL bytes), not text")
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding).replace("\r\n", "\n").replace("\r", "\n")
        except UnicodeDecodeError:
            continue
    raise LoadError("encoding", "text is neither UTF-8 nor GB18030")


def _load_txt(data: bytes) -> LoadedDocument:
    # Exported notes often keep a YAML front matter even as .txt (seed 001 does).
    return _load_markdown(data)


_FRONT_MATTER = re.compile(r"\A---\n(.*?)\n---\n", re.DOTALL)
_SCALARS = (str, int, float, date)  # date covers datetime; bool is an int


# The outline headings of Chinese reports written as plain lines: "一、行业回顾", "（二）盈利预测",
# "第三部分 风险提示". A short line of its own, no sentence: read as a markdown heading, so the
# section it opens is framed by it (its company, its period) as a "## …" heading would be.
_OUTLINE_HEADING = re.compile(
    r"^[ \t]*(?:(?P<top>[一二三四五六七八九十]{1,3}、|第[一二三四五六七八九十\d]{1,3}[章节部分])"
    r"|(?P<sub>[（(][一二三四五六七八九十]{1,3}[)）]))[ \t]*(?P<title>[^\n。；;！!？?]{1,40})$",
    re.MULTILINE,
)


def outline_headings(text: str) -> str:
    """`text` with plain-line outline headings marked as markdown headings."""

    def marked(match: re.Match[str]) -> str:
        return ("## " if match.group("top") else "### ") + match.group(0).strip()

    return _OUTLINE_HEADING.sub(marked, text)


def _load_markdown(data: bytes) -> LoadedDocument:
    # A table copied from a web page one cell per line, or a row per line with cells apart by
    # tabs, is put back into rows; outline headings ("一、…") become headings.
    text = rows_from_pasted_cells(_decode_text(data))
    text = outline_headings(rows_from_tab_separated(text))
    match = _FRONT_MATTER.match(text)
    if not match:
        return LoadedDocument(text)
    try:
        meta = yaml.safe_load(match.group(1)) or {}
    except (yaml.YAMLError, RecursionError):  # RecursionError: "[[[[..." nested thousands deep
        meta = {}
    if not isinstance(meta, dict):
        meta = {}
    # Only scalars are metadata: lists and mappings are never used, and an alias bomb
    # ("&a [*b, *b, ...]") is cheap as objects but exponentially long once turned into text.
    declared = {k: v for k, v in meta.items() if isinstance(v, _SCALARS) and v not in ("", None)}
    return LoadedDocument(text, declared, match.end())


# Elements that end a paragraph: each becomes its own block, a blank line from the next, as
# in the .docx loader (cleaning joins single line breaks after CJK text, as a PDF wraps them).
_HTML_BLOCKS = (
    "p", "div", "li", "blockquote", "pre", "section", "article", "dd", "dt", "figcaption", "tr",
)  # fmt: skip
_HTML_META = {
    "date": ("date", "article:published_time", "pubdate", "publishdate", "dc.date"),
    "institution": ("source", "og:site_name", "dc.publisher", "publisher"),
}


def _load_html(data: bytes) -> LoadedDocument:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(_decode_text(data), "lxml")
    for tag in soup(["script", "style", "noscript", "nav", "header", "footer", "aside", "form"]):
        tag.decompose()
    meta: dict[str, Any] = {}
    if soup.title and soup.title.string:
        meta["title"] = soup.title.string.strip()
    for key, names in _HTML_META.items():
        for name in names:
            found = soup.find("meta", attrs={"name": name}) or soup.find("meta", property=name)
            if found and str(found.get("content") or "").strip():
                meta[key] = str(found["content"]).strip()
                break
    body = soup.body or soup
    for table in body.find_all("table"):
        rows = []
        for tr in table.find_all("tr"):
            row: list[str] = []
            for cell in tr.find_all(["th", "td"]):
                text = cell.get_text(" ", strip=True)
                colspan = str(cell.get("colspan") or "1")
                span = int(colspan) if colspan.isdigit() else 1
                row += [text] * max(1, min(span, 20))
            rows.append(row)
        # The caption is the line before the header row: what the table's rows are of.
        caption = table.find("caption")
        above = caption.get_text(" ", strip=True) + "\n" if caption else ""
        table.replace_with(soup.new_string(f"\n\n{above}{markdown_table(rows)}\n\n"))
    for level in range(1, 7):  # headings as markdown headings: the chunker reads sections
        for heading in body.find_all(f"h{level}"):
            title = heading.get_text(" ", strip=True)
            heading.replace_with(soup.new_string(f"\n\n{'#' * level} {title}\n\n" if title else ""))
    for br in body.find_all("br"):
        br.replace_with(soup.new_string("\n"))
    for block in body.find_all(_HTML_BLOCKS):
        block.insert_before(soup.new_string("\n\n"))
        block.insert_after(soup.new_string("\n\n"))
    blocks = re.split(r"\n\s*\n", body.get_text())
    paragraphs = ["\n".join(ln.strip() for ln in b.splitlines() if ln.strip()) for b in blocks]
    return LoadedDocument("\n\n".join(p for p in paragraphs if p), meta)


# Text extraction parses each page's content stream in Python (measured ~6 µs a byte), and
# pages may share one stream: a 31 KB file whose 200 pages share one 94 KB stream took 116 s.
# So the inflated content of all pages together is bounded, before any is parsed.
_MAX_PDF_PAGES = 2000
_MAX_PDF_CONTENT = 16 * 1024 * 1024
# Dictionaries nested deeper than this are no document: the parser recurses per level, and
# whether it hits Python's recursion limit depends on the stack left in the calling thread.
_MAX_PDF_NESTING = 256
_PDF_STREAM = re.compile(rb"stream\r?\n.*?endstream", re.DOTALL)
_PDF_DICT = re.compile(rb"<<|>>")


def _pdf_nesting(data: bytes) -> int:
    """How deep the file's dictionaries nest, outside its (binary) streams."""
    depth = deepest = 0
    for match in _PDF_DICT.finditer(_PDF_STREAM.sub(b" ", data)):
        depth = depth + 1 if match.group(0) == b"<<" else max(0, depth - 1)
        deepest = max(deepest, depth)
    return deepest


def _load_pdf(data: bytes) -> LoadedDocument:
    from pypdf import PdfReader
    from pypdf.errors import LimitReachedError

    if (nesting := _pdf_nesting(data)) > _MAX_PDF_NESTING:
        raise LoadError("malformed", f"not a readable PDF: dictionaries nested {nesting} deep")
    try:
        reader = PdfReader(io.BytesIO(data))
        if len(reader.pages) > _MAX_PDF_PAGES:
            raise LoadError("too_large", f"PDF has more than {_MAX_PDF_PAGES} pages")
        content = 0
        for page in reader.pages:
            stream = page.get_contents()
            content += len(stream.get_data()) if stream is not None else 0
            if content > _MAX_PDF_CONTENT:
                raise LoadError("too_large", "PDF page content inflates to more than 16 MB")
        pages = _pdf_pages_with_tables(data, len(reader.pages)) or [
            page.extract_text() or "" for page in reader.pages
        ]
        meta: dict[str, Any] = {}
        if reader.metadata and reader.metadata.title:
            meta["title"] = str(reader.metadata.title)
    except LoadError:
        raise
    except LimitReachedError as exc:  # pypdf's own bounds: one stream inflating past 75 MB…
        raise LoadError("too_large", f"PDF content expands past the limit: {exc}") from exc
    except Exception as exc:  # a broken file raises many types (IndexError, RecursionError…)
        raise LoadError("malformed", f"not a readable PDF: {exc}") from exc
    return LoadedDocument("\n".join(pages), meta)


# pdfplumber finds ruled tables by their lines; its parser (pdfminer) takes ~0.1-0.5 s a page,
# so longer PDFs (reports, not notes) are read as plain text by pypdf.
_MAX_TABLE_PDF_PAGES = 60


def _pdf_pages_with_tables(data: bytes, pages: int) -> list[str] | None:
    """Each page's text with its tables as markdown rows, in reading order (the text above a
    table, the table, the text below); None when the PDF is too long or pdfplumber fails.
    Lines set larger than the body text become markdown headings, so a printed note keeps
    the sections (and the title's year and period) that frame its sentences."""
    if pages > _MAX_TABLE_PDF_PAGES:
        return None
    import logging

    import pdfplumber

    logging.getLogger("pdfminer").setLevel(logging.ERROR)  # font warnings per glyph
    out = []
    try:
        with pdfplumber.open(io.BytesIO(data)) as pdf:
            levels = _heading_levels([c["size"] for page in pdf.pages for c in page.chars])
            for page in pdf.pages:
                parts, top = [], 0.0
                for table in sorted(page.find_tables(), key=lambda t: t.bbox[1]):
                    x0, table_top, x1, bottom = table.bbox
                    if table_top > top:
                        parts.append(_region_text(page, top, table_top, levels))
                    rows = [
                        [(c or "").replace("\n", " ").strip() for c in r] for r in table.extract()
                    ]
                    parts.append(markdown_table(rows))
                    top = max(top, bottom)
                parts.append(_region_text(page, top, page.height, levels))
                out.append("\n".join(p for p in parts if p.strip()))
    except Exception:  # pdfplumber meets what pypdf reads: fall back to its plain text
        return None
    return out


# A line set this much larger than the body text is a heading (a 13 pt section title over
# 11 pt text); its rank among the larger sizes is its level.
_HEADING_SIZE_RATIO = 1.15
_MAX_HEADING_CHARS = 80


def _heading_levels(sizes: list[float]) -> dict[float, int]:
    """Heading level by font size: the body's size is the one most characters are set in;
    each distinct larger size, largest first, is level 1, 2, … (at most 3)."""
    if not sizes:
        return {}
    counts = Counter(round(s, 1) for s in sizes)
    body = counts.most_common(1)[0][0]
    larger = sorted({s for s in counts if s >= body * _HEADING_SIZE_RATIO}, reverse=True)
    return {size: min(rank + 1, 3) for rank, size in enumerate(larger)}


def _region_text(page: Any, top: float, bottom: float, levels: dict[float, int]) -> str:
    if bottom - top < 1:
        return ""
    region = page.crop((0, top, page.width, bottom), strict=False)
    if not levels:
        return region.extract_text() or ""
    out: list[str] = []
    heading: tuple[int, list[str]] | None = None  # a heading wraps over lines of one size
    for line in region.extract_text_lines(return_chars=True):
        sizes = Counter(round(c["size"], 1) for c in line["chars"] if c["text"].strip())
        level = levels.get(sizes.most_common(1)[0][0]) if sizes else None
        if level and heading and heading[0] == level:
            heading[1].append(line["text"])
            continue
        if heading:
            out.append(_heading_line(*heading))
            heading = None
        if level and len(line["text"]) <= _MAX_HEADING_CHARS:
            heading = (level, [line["text"]])
        else:
            out.append(line["text"])
    if heading:
        out.append(_heading_line(*heading))
    return "\n".join(out)


def _heading_line(level: int, lines: list[str]) -> str:
    """One markdown heading from its wrapped lines: CJK lines join directly, Latin with a space."""
    text = lines[0].strip()
    for line in lines[1:]:
        line = line.strip()
        cjk_join = re.match(r"[\u3000-\u9fff\uff00-\uffef]", line) or re.search(
            r"[\u3000-\u9fff\uff00-\uffef]$", text
        )
        text += line if cjk_join else f" {line}"
    return f"\n{'#' * level} {text}\n"


# python-docx parses all of document.xml: 20 MB of it (a 97 KB upload) took 62 s and 405 MB
# (measured), so a 200 MB bound meant minutes and GBs. Real notes' XML is a few MB at most.
_MAX_DOCX_UNCOMPRESSED = 32 * 1024 * 1024


def _load_docx(data: bytes) -> LoadedDocument:
    import docx

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            # A zip bomb declares a huge uncompressed size: refuse before inflating anything.
            # One that understates it is read only up to the stated size (zipfile stops there
            # and then fails the CRC), so decompression is bounded either way.
            if sum(info.file_size for info in archive.infolist()) > _MAX_DOCX_UNCOMPRESSED:
                raise LoadError("too_large", "document expands to more than 32 MB")
        document = docx.Document(io.BytesIO(data))
    except LoadError:
        raise
    except Exception as exc:  # python-docx raises many types for a broken package
        raise LoadError("malformed", f"not a readable .docx: {exc}") from exc
    meta: dict[str, Any] = {}
    if document.core_properties.title:
        meta["title"] = document.core_properties.title
    if document.core_properties.created:
        meta["created"] = document.core_properties.created.date().isoformat()
    # Paragraphs and tables in document order; a table becomes markdown rows, so its cells
    # keep their row and column labels (rag/facts/tables.py reads them).
    # Each paragraph is its own block (a blank line between them: cleaning joins single line
    # breaks between ideographs as wraps), and a heading style becomes a markdown heading, so
    # the chunker sees the document's sections.
    blocks: list[str] = []
    for block in document.iter_inner_content():
        if isinstance(block, docx.table.Table):
            rows = [
                [cell.text.strip().replace("\n", " ") for cell in row.cells] for row in block.rows
            ]
            blocks.append(markdown_table(rows))
        elif block.text.strip():
            blocks.append(_heading_prefix(block.style.name if block.style else "") + block.text)
    return LoadedDocument("\n\n".join(blocks), meta)


def _heading_prefix(style: str) -> str:
    """'# ' for a Title or 'Heading 1' paragraph, '## ' for 'Heading 2', …; '' otherwise."""
    if style == "Title":
        return "# "
    level = re.fullmatch(r"Heading ([1-6])", style)
    return "#" * int(level.group(1)) + " " if level else ""


def markdown_table(rows: list[list[str]]) -> str:
    """Rows of cells as a markdown table, the first row its header. Merged cells repeat their
    text in each position they span (as python-docx and HTML colspan readers give them)."""
    rows = [r for r in rows if any(c.strip() for c in r)]
    if not rows:
        return ""
    width = max(len(r) for r in rows)
    lines = []
    for i, row in enumerate(rows):
        cells = [c.replace("|", "/") for c in row] + [""] * (width - len(row))
        lines.append("| " + " | ".join(cells) + " |")
        if i == 0:
            lines.append("|" + "---|" * width)
    return "\n".join(lines)


_LOADERS: dict[str, Callable[[bytes], LoadedDocument]] = {
    ".txt": _load_txt,
    ".md": _load_markdown,
    ".markdown": _load_markdown,
    ".html": _load_html,
    ".htm": _load_html,
    ".pdf": _load_pdf,
    ".docx": _load_docx,
}
