import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ingest.chunking import chunk_spans, split_sentences
from ingest.pipeline import corpus_chunks
from rag.config import Settings
from tests.conftest import CORPUS

pytestmark = pytest.mark.unit


def test_qa_pairs_start_chunks_and_keep_their_question():
    chunks = corpus_chunks(Settings(corpus_dir=CORPUS))
    nv = [c for c in chunks if "170万根" in c.text]
    assert len(nv) == 1
    assert nv[0].text.startswith("NV2025年、2026年AEC需求量及规格?")
    assert nv[0].section == "NV2025年、2026年AEC需求量及规格?"
    meta = [c for c in chunks if c.text.startswith("Meta2025年")]
    assert meta and "110万根" in meta[0].text


def test_interview_turns_in_either_language_start_chunks_under_their_question():
    text = (
        "问：先从比亚迪（002594.SZ / 1211.HK）10月的数据讲起，怎么看？\n\n"
        "答：比亚迪10月销量44.2万辆，同比下降12%。\n\n"
        "问：最后请专家谈谈明年的行业展望。\n\n"
        "答：明年购置税减半，一季度会有需求前移。\n\n"
        "**Analyst:** And margins?\n\n**Management:** Gross margin was 17.6% in Q3."
    )
    spans = chunk_spans(text, max_chars=300)
    sections = [s.section for s in spans]
    # A turn is one question even with a space inside its brackets; a 问 turn ending in 。
    # is still a question; "Analyst:" asks as "Q:" does.
    assert sections == [
        "问：先从比亚迪（002594.SZ / 1211.HK）10月的数据讲起，怎么看？",
        "问：最后请专家谈谈明年的行业展望。",
        "**Analyst:** And margins?",
    ]
    assert "44.2万辆" in text[spans[0].start : spans[0].end]
    assert "购置税" in text[spans[1].start : spans[1].end]


def test_corpus_chunks_quote_the_original_text():
    chunks = corpus_chunks(Settings(corpus_dir=CORPUS))
    assert 40 <= len(chunks) <= 80
    for chunk in chunks:
        original = (CORPUS / chunk.doc_id).read_text(encoding="utf-8")
        assert 0 <= chunk.start < chunk.end <= len(original)
        assert original[chunk.start] == chunk.text[0]
        assert original[chunk.end - 1] == chunk.text[-1]
        assert len(chunk.text) <= 300


_TEXT = st.lists(
    st.sampled_from(
        ["英伟达需求170万根", "。", "?", "Q:问题", " A:答案", "\n\n", "，", "AEC", " ", "谷歌"]
    ),
    max_size=120,
).map("".join)


@settings(max_examples=200)
@given(_TEXT, st.integers(min_value=80, max_value=400))
def test_chunks_are_ordered_disjoint_bounded_and_cover_all_content(text, max_chars):
    spans = chunk_spans(text, max_chars)
    covered = set()
    previous_end = 0
    for span in spans:
        assert previous_end <= span.start < span.end <= len(text)
        assert span.end - span.start <= max_chars
        assert text[span.start] != " " and text[span.end - 1] != " "
        covered.update(range(span.start, span.end))
        previous_end = span.end
    content = {i for i, ch in enumerate(text) if not ch.isspace()}
    assert content <= covered


def test_sentences_split_on_chinese_punctuation_and_exported_questions():
    text = "份额也是15% Meta2025年的AEC需求量及规格? Meta需求约110万根。"
    pieces = [text[s.start : s.end] for s in split_sentences(text)]
    assert pieces == ["份额也是15%", "Meta2025年的AEC需求量及规格?", "Meta需求约110万根。"]


def test_a_heading_starts_a_chunk_and_frames_the_chunks_under_it():
    text = (
        "# Steel mills Q3 wrap\n\n"
        "## Baosteel\n\nBaosteel shipped 12.1mt in Q3. "
        + "Its margin widened on cheaper ore. "
        * 8
        + "\n\nCrude output was 13.0mt.\n\n"
        "## Ansteel\n\nAnsteel shipped 7.2mt."
    )
    spans = chunk_spans(text, max_chars=300)
    pieces = [(text[s.start : s.end], s.heading) for s in spans]
    # the title alone is no chunk: it joins the first section's heading and text
    assert pieces[0][0].startswith("# Steel mills Q3 wrap\n\n## Baosteel")
    under_baosteel = [p for p, h in pieces if h == "Steel mills Q3 wrap › Baosteel"]
    assert any("13.0mt" in p for p in under_baosteel)  # framed though it names no company
    assert pieces[-1] == ("## Ansteel\n\nAnsteel shipped 7.2mt.", "Steel mills Q3 wrap › Ansteel")
    assert not any("Ansteel" in p and "Baosteel" in p for p, _ in pieces)  # no chunk spans both
