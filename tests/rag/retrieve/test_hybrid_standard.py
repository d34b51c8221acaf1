"""LangChain's standard retriever tests, run on the hybrid retriever over the real notes."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from langchain_tests.integration_tests import RetrieversIntegrationTests

from ingest.pipeline import Indexer
from rag.config import Settings
from rag.glossary import Glossary
from rag.retrieve.hybrid import HybridRetriever
from rag.retrieve.keyword import KeywordIndex
from tests.conftest import CORPUS
from tests.fakes import HashEmbeddings

_DATA = Path(tempfile.mkdtemp(prefix="retriever-standard-"))


def _indexed_store():
    settings = Settings(corpus_dir=CORPUS, data_dir=_DATA, llm="none", environment="test")
    indexer = Indexer(settings, embeddings=HashEmbeddings())
    if indexer.chunk_count() == 0:
        indexer.ingest_all()
    return settings, indexer


@pytest.mark.integration
class TestHybridRetrieverStandard(RetrieversIntegrationTests):
    @property
    def retriever_constructor(self) -> type[HybridRetriever]:
        return HybridRetriever

    @property
    def retriever_constructor_params(self) -> dict:
        settings, indexer = _indexed_store()
        glossary = Glossary.load(CORPUS / "glossary.yaml")
        keyword = KeywordIndex(settings.keyword_dir, glossary.words(), glossary)
        keyword.load()
        return {
            "vector_store": indexer.vector_store,
            "keyword_index": keyword,
            "glossary": glossary,
        }

    @property
    def retriever_query_example(self) -> str:
        return "英伟达2026年AEC需求量"


def _two_notes(tmp_path, steel: str, autos: str) -> tuple[HybridRetriever, Indexer]:
    """A real Chroma and BM25 over two notes (hash embeddings), and their indexer."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "steel.md").write_text(steel, "utf-8")
    (corpus / "autos.md").write_text(autos, "utf-8")
    settings = Settings(corpus_dir=corpus, data_dir=tmp_path / "data", llm="none")
    indexer = Indexer(settings, embeddings=HashEmbeddings())
    indexer.ingest_all()
    keyword = KeywordIndex(settings.keyword_dir, [], Glossary())
    retriever = HybridRetriever(
        vector_store=indexer.vector_store, keyword_index=keyword, glossary=Glossary()
    )
    return retriever, indexer


@pytest.mark.integration
def test_a_question_naming_a_company_reads_only_the_notes_that_name_it(tmp_path):
    """Real Chroma and BM25: a note about another company never reaches the answer, however
    well its words match ("revenue grew" in both)."""
    retriever, _ = _two_notes(
        tmp_path,
        "# 宝钢股份中报\n\n宝钢股份(600019.SH)上半年营收增长3.1%，达1502亿元。",
        "# 汽车中报\n\n上半年营收增长23%，营收增长较快，营收增长。",
    )
    docs = retriever.invoke("宝钢股份上半年营收增长多少？", k=5)
    assert docs and {d.metadata["source"] for d in docs} == {"steel.md"}
    unnamed = retriever.invoke("上半年营收增长多少？", k=5)
    assert {d.metadata["source"] for d in unnamed} == {"steel.md", "autos.md"}


@pytest.mark.integration
@pytest.mark.parametrize("weight", [0.0, None])
def test_a_chinese_question_finds_an_english_note_through_the_dictionary(
    tmp_path, monkeypatch, weight
):
    """Real Chroma and BM25 with a hash embedder (so the dense leg cannot bridge languages):
    the keyword leg over the question's CC-CEDICT translation ranks the English note that
    writes "bank" and "revenue" first; without that leg (weight 0) it is not."""
    import rag.retrieve.hybrid as hybrid

    if weight is not None:
        monkeypatch.setattr(hybrid, "TRANSLATED_WEIGHT", weight)
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "banks.md").write_text(
        "# Regional lenders\n\nAmong the lenders, the bank with the fastest revenue "
        "growth was a city bank: revenue rose 8% year on year.",
        "utf-8",
    )
    for i, text in enumerate(
        ["钢材出货3万吨。", "汽车交付2万辆。", "电池装机5GWh。", "光伏组件排产持平。"]
    ):
        (corpus / f"zh{i}.md").write_text(f"# 纪要{i}\n\n{text}", "utf-8")
    settings = Settings(corpus_dir=corpus, data_dir=tmp_path / "data", llm="none")
    indexer = Indexer(settings, embeddings=HashEmbeddings())
    indexer.ingest_all()
    keyword = KeywordIndex(settings.keyword_dir, [], Glossary())
    retriever = HybridRetriever(
        vector_store=indexer.vector_store, keyword_index=keyword, glossary=Glossary()
    )
    docs = retriever.invoke("哪家银行营业收入增长最快？", k=5, language="zh")
    first = docs[0].metadata["source"]
    assert (first == "banks.md") is (weight is None), [d.metadata["source"] for d in docs]


@pytest.mark.integration
def test_a_chunk_deleted_from_the_store_before_the_keyword_index_catches_up_is_no_result(
    tmp_path,
):
    """A delete reaches Chroma at once and the keyword index on its rebuild: a question asked
    in between is answered from what the store holds, never from the deleted note."""
    retriever, indexer = _two_notes(
        tmp_path,
        "# 宝钢股份中报\n\n宝钢股份(600019.SH)上半年营收1502亿元。",
        "# 汽车中报\n\n长城汽车上半年营收923亿元。",
    )
    collection = indexer.vector_store._collection
    steel = collection.get(where={"source": "steel.md"})["ids"]
    collection.delete(ids=steel)  # the store forgets the note; the keyword index not yet
    docs = retriever.invoke("宝钢股份上半年营收是多少？", k=5)
    assert all(d.metadata["source"] != "steel.md" for d in docs)


@pytest.mark.integration
def test_the_chunks_after_one_under_the_asked_companys_heading_are_read_too(tmp_path):
    """Real Chroma and BM25: a company's section split across chunks; the figure sits in a
    later chunk that never repeats the name."""
    filler = " ".join(f"Branch network item {i} was reviewed in the period." for i in range(6))
    bank = (
        "# Banks wrap\n\nMargins kept compressing across the sector in the half, while fee "
        "income stabilised and credit costs fell; asset quality was broadly stable.\n\n"
        "## Harbour Bank\n\nHarbour Bank (港湾银行, 600999.SH) grew operating "
        f"income 7.9% to RMB 37.2bn. {filler}\n\nThe NIM was 1.76%, 10bp below full-year 2024.\n\n"
        "## Other Bank\n\nOther Bank (他行, 600998.SH) reported a NIM of 1.75%."
    )
    retriever, _ = _two_notes(tmp_path, bank, "# 汽车中报\n\n上半年营收增长23%。")
    docs = retriever.invoke("What was Harbour Bank's NIM?", k=1)
    assert any("1.76%" in d.page_content for d in docs), [d.page_content[:60] for d in docs]
