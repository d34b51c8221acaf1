import pytest
from hypothesis import given
from hypothesis import strategies as st

from ingest.clean import CleanText, clean, has_doubling
from ingest.loaders import load_path
from tests.conftest import CORPUS

pytestmark = pytest.mark.unit


def _cleaned(name: str):
    doc = load_path(CORPUS / name)
    return doc, clean(doc.text, doc.body_start)


@pytest.mark.parametrize("name", [p.name for p in sorted(CORPUS.glob("*.txt"))])
def test_cleaned_text_maps_back_to_the_original(name):
    doc, cleaned = _cleaned(name)
    assert len(cleaned.origin) == len(cleaned.text)
    assert all(doc.text[o] == ch for o, ch in zip(cleaned.origin, cleaned.text, strict=True))
    assert list(cleaned.origin) == sorted(set(cleaned.origin))


def test_web_boilerplate_and_repeated_opening_are_removed_from_seed_000():
    doc, cleaned = _cleaned("000_b074af76218b3ff2.txt")
    assert "您的浏览器禁用了JavaScript" in doc.text
    assert "您的浏览器禁用了JavaScript" not in cleaned.text
    assert "查看更多" not in cleaned.text and "AI智能总结" not in cleaned.text
    opening = "光模块行业为何在当前时点具备较高的投资价值"
    assert doc.text.count(opening) == 2 and cleaned.text.count(opening) == 1
    # A PDF line wrap inside a word is joined: "强 者愈强" -> "强者愈强".
    assert "强 者愈强" in doc.text and "强者愈强" in cleaned.text


def test_pdf_doubling_in_seed_003_is_undone_without_touching_real_words():
    doc, cleaned = _cleaned("003_558daa5f5094b1d2.txt")
    assert "当前行业内当前行业内AEC铜缆产品在铜缆产品在800G和和1.6T" in doc.text
    assert "当前行业内AEC铜缆产品在800G和1.6T规格上的成熟度如何?" in cleaned.text
    assert "NV2025年、2026年AEC需求量及规格?" in cleaned.text
    assert "尚未形成成熟产品" in cleaned.text  # 形成+成熟 is Chinese, not an artifact
    # Every figure of the original survives cleaning.
    for figure in ("70万根", "170万根", "1:1.25", "两百多万根", "22,000至23,000美元", "5-10万台"):
        assert figure in cleaned.text


def test_front_matter_is_not_body_text():
    doc, cleaned = _cleaned("001_96e81724b7ef4fbb.txt")
    assert "thumbnail" not in cleaned.text
    assert cleaned.text.startswith("作者：周源/华尔街见闻")


def test_doubling_is_only_undone_in_texts_that_show_it():
    assert not has_doubling("公司公司的的产品。常常看看。")
    text = "这是正常的句子,其中谈谈问题。"
    assert clean(text).text == text


@given(st.text(alphabet="英伟达需求量 \n。?,和AEC1:25万根-", max_size=200))
def test_cleaning_only_deletes_characters(text):
    cleaned = clean(text)
    assert all(text[o] == ch for o, ch in zip(cleaned.origin, cleaned.text, strict=True))
    assert list(cleaned.origin) == sorted(set(cleaned.origin))


def test_look_alike_code_points_from_pdf_text_layers_are_folded_one_for_one() -> None:
    from ingest.clean import fold_lookalikes

    # What Chromium's PDF of a Chinese note gives pypdf: radicals in place of ideographs.
    raw = "归⺟净利润同⽐增⻓13%，⻛险⽔平，营收１２３亿元；全角标点保留：，。"
    folded = fold_lookalikes(CleanText(raw, tuple(range(len(raw)))))
    assert folded.text == "归母净利润同比增长13%，风险水平，营收123亿元；全角标点保留：，。"
    assert folded.origin == tuple(range(len(raw)))  # offsets still point at the original
    assert clean(raw).text.startswith("归母净利润同比增长")


def test_the_ood_pdf_note_reads_as_plain_chinese() -> None:
    from ingest.loaders import load_path
    from rag.config import REPO_ROOT

    loaded = load_path(REPO_ROOT / "eval" / "ood" / "notes" / "moutai_broker_note.pdf")
    text = clean(loaded.text, loaded.body_start).text
    assert "归母净利润" in text and "增长" in text
    assert not any("\u2e80" <= ch <= "\u2fdf" for ch in text)
