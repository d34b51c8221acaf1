"""LangChain standard embeddings tests (langchain-tests) for the e5 embedder.

The unit suite builds the embedder without loading anything (and checks it reads its settings
from RNA_* variables); the integration suite embeds for real with the converted model, cached
in the default cache dir (RNA_CACHE_DIR moves it).
"""

from __future__ import annotations

from typing import Any

import pytest
from langchain_core.embeddings import Embeddings
from langchain_tests.integration_tests import EmbeddingsIntegrationTests
from langchain_tests.unit_tests import EmbeddingsUnitTests

from rag.config import Settings
from rag.embeddings import E5Embeddings


class TestE5EmbeddingsUnit(EmbeddingsUnitTests):
    pytestmark = pytest.mark.unit

    @property
    def embeddings_class(self) -> type[E5Embeddings]:
        return E5Embeddings

    @property
    def embedding_model_params(self) -> dict[str, Any]:
        return {"settings": Settings(embedder="e5")}

    @property
    def init_from_env_params(self) -> tuple[dict[str, str], dict[str, Any], dict[str, Any]]:
        return (
            {
                "RNA_EMBEDDING_DTYPE": "bfloat16",
                "RNA_EMBEDDING_BATCH_SIZE": "4",
                "RNA_EMBEDDING_QUERY_PREFIX": "q: ",
            },
            {},
            {
                "dtype": "bfloat16",
                "batch_size": 4,
                "query_prefix": "q: ",
                "passage_prefix": "passage: ",
            },
        )


class TestE5EmbeddingsIntegration(EmbeddingsIntegrationTests):
    pytestmark = pytest.mark.integration

    @pytest.fixture(scope="class")
    def model(self) -> Embeddings:
        """One embedder for the suite: the model loads once, not once per test."""
        return self.embeddings_class(**self.embedding_model_params)

    @property
    def embeddings_class(self) -> type[E5Embeddings]:
        return E5Embeddings

    @property
    def embedding_model_params(self) -> dict[str, Any]:
        return {"settings": Settings(embedder="e5")}
