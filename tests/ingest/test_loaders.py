import io
import zipfile

import pytest

from ingest.loaders import LoadError, load_bytes, load_path
from tests.conftest import CORPUS

pytestmark = pytest.mark.unit


def test_front_matter_in_a_txt_note_is_metadata_not_body():
    doc = load_path(CORPUS / "001_96e81724b7ef4fbb.txt")
    assert doc.metadata["title"] == "赛道Hyper | 依米康：“液冷”含量几何"
    assert str(doc.metadata["date"]).startswith("2025-02-14")
    assert doc.text[doc.body_start :].lstrip().startswith("作者：周源/华尔街见闻")


def test_markdown_html_and_docx_give_their_text():
    md = load_bytes("a.md", "---\ntitle: T\n---\n正文".encode())
    assert md.metadata == {"title": "T"} and md.text[md.body_start :] == "正文"

    html = load_bytes(
        "a.html",
        b"<html><head><title>Note</title><script>evil()</script></head>"
        b"<body><nav>menu</nav><p>\xe8\x8b\xb1\xe4\xbc\x9f\xe8\xbe\xbe 170\xe4\xb8\x87</p></body></html>",
    )
    assert html.metadata["title"] == "Note"
    assert "英伟达 170万" in html.text and "evil" not in html.text and "menu" not in html.text

    import docx

    document = docx.Document()
    document.add_paragraph("谷歌TPU与AEC比例为1:1.25")
    buffer = io.BytesIO()
    document.save(buffer)
    assert "1:1.25" in load_bytes("n.docx", buffer.getvalue()).text


def test_pdf_text_is_extracted():
    pypdf = pytest.importorskip("pypdf")
    writer = pypdf.PdfWriter()
    writer.add_blank_page(width=200, height=200)
    buffer = io.BytesIO()
    writer.write(buffer)
    with pytest.raises(LoadError) as err:  # a blank page has no text
        load_bytes("blank.pdf", buffer.getvalue())
    assert err.value.reason == "no_text"


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        ("empty.txt", b"", "empty"),
        ("spaces.txt", b"   \n\t ", "empty"),
        ("prog.exe", b"MZ\x90\x00", "unsupported_type"),
        ("evil.pdf", b"MZ\x90\x00\x03\x00\x00\x00 this is an exe", "malformed"),
        ("bin.txt", b"\x00\x01\x02binary", "binary"),
        ("bad.docx", b"PK not really a zip", "malformed"),
        ("noext", b"text", "unsupported_type"),
    ],
)
def test_bad_files_are_refused_with_a_reason(name, data, reason):
    with pytest.raises(LoadError) as err:
        load_bytes(name, data)
    assert err.value.reason == reason


def test_zip_bomb_docx_is_refused_before_inflating():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("word/document.xml", b"0" * (210 * 1024 * 1024))
    with pytest.raises(LoadError) as err:
        load_bytes("bomb.docx", buffer.getvalue())
    assert err.value.reason == "too_large"
    assert len(buffer.getvalue()) < 1024 * 1024


def test_gb18030_text_is_decoded():
    assert load_bytes("gbk.txt", "英伟达需求".encode("gb18030")).text == "英伟达需求"


def test_docx_tables_become_markdown_rows_in_document_order() -> None:
    from rag.config import REPO_ROOT

    loaded = load_path(REPO_ROOT / "eval" / "ood" / "notes" / "medical_devices_note.docx")
    lines = loaded.text.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("| 产线 |"))
    assert lines[header + 1].startswith("|---|")
    assert any(line.startswith("| 体外诊断 | 64.24 |") for line in lines[header + 2 : header + 8])
    assert lines.index("表1：迈瑞医疗分产线收入及国际收入占比（单位：亿元）") < header


def test_html_tables_become_markdown_rows(tmp_path) -> None:
    page = tmp_path / "t.html"
    page.write_text(
        "<html><body><p>季度数据</p><table><tr><th>指标</th><th colspan='2'>2025Q3</th></tr>"
        "<tr><td>营收</td><td>1041.86</td><td>+12.9%</td></tr></table></body></html>",
        encoding="utf-8",
    )
    text = load_path(page).text
    assert "| 指标 | 2025Q3 | 2025Q3 |" in text and "| 营收 | 1041.86 | +12.9% |" in text


def test_a_docx_is_dated_by_its_text_before_its_creation_stamp() -> None:
    from ingest.clean import clean
    from ingest.metadata import extract_metadata
    from rag.config import REPO_ROOT

    loaded = load_path(REPO_ROOT / "eval" / "ood" / "notes" / "medical_devices_note.docx")
    assert "date" not in loaded.metadata  # python-docx's template says 2013
    cleaned = clean(loaded.text, loaded.body_start).text
    meta = extract_metadata(loaded.text, cleaned, loaded.metadata, "x")
    assert meta["date"] == "2025-11-07"
    assert meta["institution"] == "启明资本研究部医药生物组"  # its "机构：" header line
    assert meta["title"].startswith("迈瑞医疗(300760.SZ)")  # its heading, without the marks


def test_a_pdf_table_becomes_rows_with_its_header_in_reading_order():
    from pathlib import Path

    from ingest.clean import clean

    pdf = Path(__file__).parents[2] / "eval" / "ood" / "notes" / "moutai_broker_note.pdf"
    text = clean(load_bytes(pdf.name, pdf.read_bytes()).text).text
    header = text.index("| 指标 | 贵州茅台 | 五粮液 | 泸州老窖 | 山西汾酒 |")
    row = text.index("| 前三季度营业总收入 | 1309.04 | 609.45 | 231.27 | 329.24 |")
    caption = text.index("表1：")
    assert caption < header < row  # the caption, then the table, where the page has them
    # A figure wrapped onto the next line stays with its words.
    assert "营业总收入1309.04亿元" in text


def test_docx_and_html_headings_become_markdown_headings_and_paragraphs_stay_apart():
    import docx

    document = docx.Document()
    document.add_heading("光伏周报", level=1)
    document.add_paragraph("机构：某某证券")
    document.add_heading("一、多晶硅", level=2)
    document.add_paragraph("致密料均价53元/kg")
    document.add_paragraph("复投料均价50元/kg")
    buffer = io.BytesIO()
    document.save(buffer)
    text = load_bytes("w.docx", buffer.getvalue()).text
    assert text.split("\n\n") == [
        "# 光伏周报",
        "机构：某某证券",
        "## 一、多晶硅",
        "致密料均价53元/kg",
        "复投料均价50元/kg",
    ]

    html = load_bytes(
        "a.html",
        "<body><h2>宁波银行</h2><p>净息差1.76%</p><p>不良率0.76%，<b>拨备覆盖率</b>374%</p>"
        "<div>2025年8月29日<br>来源：某某财经</div></body>".encode(),
    )
    # Each block its own paragraph (cleaning joins lines after CJK text, not paragraphs);
    # inline tags stay inside their sentence.
    assert html.text.split("\n\n") == [
        "## 宁波银行",
        "净息差1.76%",
        "不良率0.76%，拨备覆盖率374%",
        "2025年8月29日\n来源：某某财经",
    ]


def test_an_html_table_keeps_its_caption_as_the_line_above_its_header_row() -> None:
    page = load_bytes(
        "t.html",
        "<body><table><caption>表：2025年授权交易</caption><tr><th>授权方</th><th>首付款</th></tr>"
        "<tr><td>三生制药</td><td>12.5亿美元</td></tr></table></body>".encode(),
    )
    assert (
        "表：2025年授权交易\n| 授权方 | 首付款 |\n|---|---|\n| 三生制药 | 12.5亿美元 |" in page.text
    )


def test_a_news_byline_names_the_institution_and_a_meta_tag_the_date() -> None:
    from ingest.clean import clean
    from ingest.metadata import extract_metadata

    loaded = load_bytes(
        "n.html",
        "<html><head><title>创新药出海</title><meta name='date' content='2025-10-28'>"
        "<meta name='author' content='林溪'></head><body><p>2025年10月28日　来源：医药财经观察　"
        "记者 林溪</p><p>前三季度累计交易103笔。</p></body></html>".encode(),
    )
    meta = extract_metadata(loaded.text, clean(loaded.text).text, loaded.metadata, "x")
    assert (meta["date"], meta["institution"]) == ("2025-10-28", "医药财经观察")


def test_a_documents_type_is_what_it_declares_else_what_its_text_shows() -> None:
    from ingest.metadata import document_type

    assert document_type({"doc_type": "sector note"}, "", "") == "broker_note"
    assert document_type({"doc_type": "expert_call"}, "", "") == "expert_call"
    call = "问：明年销量怎么看？\n\n答：约150万辆。\n\n问：价格呢？\n\n答：稳定。"
    assert document_type({}, call, "新能源车交流") == "expert_call"
    broker = "维持“买入”评级，目标价168元。公司三季度营收1041亿元。"
    assert document_type({}, broker, "宁德时代三季报点评") == "broker_note"
    news = "2025年10月28日　来源：医药财经观察　记者 林溪\n\n前三季度交易103笔。"
    assert document_type({}, news, "创新药出海") == "news"
    assert document_type({}, "液冷服务器渗透率提升。", "液冷") == "other"


def _pdf_with_sizes(lines: list[tuple[int, str]]) -> bytes:
    """A one-page PDF setting each (size, text) line in Helvetica, top to bottom."""
    y, ops = 760, []
    for size, text in lines:
        ops.append(f"BT /F1 {size} Tf 72 {y} Td ({text}) Tj ET")
        y -= size + 10
    stream = "\n".join(ops).encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out, offsets = b"%PDF-1.4\n", []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return out


def test_pdf_lines_set_larger_than_the_body_become_headings():
    pdf = _pdf_with_sizes(
        [
            (18, "Harbor Wind Q3 2025 review"),
            (13, "Orders"),
            (11, "Turbine orders reached 4.2 GW in the quarter."),
            (11, "Offshore made up 1.1 GW of them."),
            (13, "Margins"),
            (11, "Gross margin was 18.5%, up 2.1 points."),
        ]
    )
    text = load_bytes("wind.pdf", pdf).text
    assert "# Harbor Wind Q3 2025 review" in text
    assert "## Orders" in text and "## Margins" in text
    assert "\nTurbine orders reached 4.2 GW in the quarter." in text
    assert not any(line.startswith("#") and "GW" in line for line in text.splitlines())


def test_outline_headings_of_a_plain_text_note_become_headings():
    text = "一、远航科技：收入创新高\n\n1. 业绩概览：收入23亿元。\n（二）盈利预测\n二、风险提示：需求不及预期，价格下行。"
    loaded = load_bytes("note.txt", text.encode("utf-8"))
    lines = loaded.text.splitlines()
    assert "## 一、远航科技：收入创新高" in lines
    assert "### （二）盈利预测" in lines
    assert "1. 业绩概览：收入23亿元。" in lines  # a numbered item is no heading
    assert "二、风险提示：需求不及预期，价格下行。" in lines  # a sentence is no heading
