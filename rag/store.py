"""The vector store seam: Chroma, embedded (persistent directory) or a `chroma run` server."""

from __future__ import annotations

import uuid

import chromadb
from chromadb.config import Settings as ChromaSettings
from langchain_chroma import Chroma
from langchain_core.embeddings import Embeddings

from rag.config import Settings
from rag.keyword import KeywordIndex

VERSION_KEY = "ingest_version"


def make_chroma_client(settings: Settings) -> chromadb.ClientAPI:
    chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
    if settings.chroma_mode == "http":
        return chromadb.HttpClient(
            host=settings.chroma_host, port=settings.chroma_port, settings=chroma_settings
        )
    settings.chroma_dir.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(settings.chroma_dir), settings=chroma_settings)


def make_vector_store(
    settings: Settings, embeddings: Embeddings, client: chromadb.ClientAPI | None = None
) -> Chroma:
    return Chroma(
        collection_name=settings.collection,
        embedding_function=embeddings,
        client=client or make_chroma_client(settings),
        # e5 vectors are normalised: cosine distance, so 1 - distance is the similarity.
        collection_configuration={"hnsw": {"space": "cosine"}},
    )


def collection_version(store: Chroma) -> str | None:
    """A stamp that changes whenever an ingest changed the collection (any replica's)."""
    metadata = store._collection.metadata or {}
    value = metadata.get(VERSION_KEY)
    return str(value) if value is not None else None


def bump_collection_version(store: Chroma) -> str:
    version = uuid.uuid4().hex
    collection = store._collection
    metadata = {k: v for k, v in (collection.metadata or {}).items() if not k.startswith("hnsw:")}
    metadata[VERSION_KEY] = version
    collection.modify(metadata=metadata)
    return version


def all_chunk_texts(store: Chroma, page: int = 5000) -> tuple[list[str], list[str]]:
    """Every (id, text) in the collection, paged so a large collection never loads at once."""
    collection = store._collection
    ids: list[str] = []
    texts: list[str] = []
    offset = 0
    while True:
        batch = collection.get(include=["documents"], limit=page, offset=offset)
        ids.extend(batch["ids"])
        texts.extend(batch["documents"] or [])
        if len(batch["ids"]) < page:
            return ids, texts
        offset += page


def rebuild_keyword_index(
    store: Chroma, keyword_index: KeywordIndex, version: str | None = None
) -> None:
    """Derive the keyword index from what Chroma holds (Chroma is the source of truth)."""
    version = version or collection_version(store) or bump_collection_version(store)
    ids, texts = all_chunk_texts(store)
    keyword_index.build(ids, texts, version)
