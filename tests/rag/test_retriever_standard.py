"""LangChain's standard retriever tests, run on the hybrid retriever over the real notes."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from langchain_tests.integration_tests import RetrieversIntegrationTests

from ingest.pipeline import Indexer
from rag.config import Settings
from rag.glossary import Glossary
from rag.keyword import KeywordIndex
from rag.retriever import HybridRetriever
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
