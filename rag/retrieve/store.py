"""The vector store seam: Chroma, embedded (persistent directory) or a `chroma run` server."""

from __future__ import annotations

import uuid
from typing import Any

import chromadb
import httpx
from chromadb.config import Settings as ChromaSettings
from langchain_chroma import Chroma
from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings

from rag.config import Settings
from rag.facts.lexicon import entity_sources, lexicon_of
from rag.retrieve.keyword import KeywordIndex

VERSION_KEY = "ingest_version"
# chromadb's HTTP client waits forever by default (httpx timeout=None): a frozen server would
# hang every question. Connecting is refused at once when the server is down; a read gets this.
CHROMA_HTTP_TIMEOUT = httpx.Timeout(10.0, connect=2.0)


class IndexUnavailable(RuntimeError):
    """The vector store can't be reached (a Chroma server stopped, frozen or restarting)."""


def is_unreachable(exc: BaseException) -> bool:
    """True when `exc` (or what caused it) is a transport failure, not a bad request."""
    seen: BaseException | None = exc
    for _ in range(10):
        if seen is None:
            return False
        if isinstance(seen, IndexUnavailable | httpx.TransportError | ConnectionError):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def make_chroma_client(settings: Settings) -> chromadb.ClientAPI:
    chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
    if settings.chroma_mode == "http":
        try:
            # A bounded probe first: the client's own first request has no timeout yet.
            url = f"http://{settings.chroma_host}:{settings.chroma_port}/api/v2/heartbeat"
            httpx.get(url, timeout=CHROMA_HTTP_TIMEOUT).raise_for_status()
            client = chromadb.HttpClient(
                host=settings.chroma_host, port=settings.chroma_port, settings=chroma_settings
            )
        except Exception as exc:
            if is_unreachable(exc):
                raise IndexUnavailable(
                    f"Chroma at {settings.chroma_host}:{settings.chroma_port} is unreachable"
                ) from exc
            raise
        session = getattr(getattr(client, "_server", None), "_session", None)
        if isinstance(session, httpx.Client):
            session.timeout = CHROMA_HTTP_TIMEOUT
        return client
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
    """A stamp that changes whenever an ingest changed the collection (any replica's).

    Read from Chroma on every call: a Collection object keeps the metadata it was fetched
    with, so another replica's bump would stay invisible until a restart (one request; the
    retriever asks at most every VERSION_CHECK_SECONDS)."""
    fresh = store._client.get_collection(name=store._collection.name, embedding_function=None)
    metadata = fresh.metadata or {}
    value = metadata.get(VERSION_KEY)
    return str(value) if value is not None else None


def bump_collection_version(store: Chroma) -> str:
    version = uuid.uuid4().hex
    collection = store._collection
    metadata = {k: v for k, v in (collection.metadata or {}).items() if not k.startswith("hnsw:")}
    metadata[VERSION_KEY] = version
    collection.modify(metadata=metadata)
    return version


def indexed_text(text: str, metadata: dict[str, Any]) -> str:
    """What retrieval matches a chunk by: the headings it sits under, then its own text. A
    chunk deep in one company's section is found for that company although its sentences
    never repeat the name. Citations quote the chunk's own text only."""
    heading = str(metadata.get("heading") or "")
    return f"{heading}\n{text}" if heading else text


def add_chunks(store: Any, documents: list[Document], ids: list[str]) -> list[str]:
    """Write chunks to Chroma embedded by their indexed text (`indexed_text`), storing their
    own text as the document. Another vector store gets `add_documents` as is."""
    collection = getattr(store, "_collection", None)
    embeddings = getattr(store, "embeddings", None)
    if collection is None or embeddings is None or not documents:
        return list(store.add_documents(documents, ids=ids))
    vectors = embeddings.embed_documents(
        [indexed_text(d.page_content, d.metadata) for d in documents]
    )
    collection.upsert(
        ids=ids,
        embeddings=vectors,
        documents=[d.page_content for d in documents],
        metadatas=[d.metadata for d in documents],
    )
    return ids


def all_chunks(
    store: Chroma, page: int = 5000
) -> tuple[list[str], list[str], list[dict[str, Any]]]:
    """Every chunk's id, text and the metadata derivations need (source, section, subject,
    date, names), paged so a large collection never loads at once."""
    collection = store._collection
    ids: list[str] = []
    texts: list[str] = []
    metas: list[dict[str, Any]] = []
    seen: set[str] = set()
    offset = 0
    while True:
        batch = collection.get(include=["documents", "metadatas"], limit=page, offset=offset)
        ids.extend(batch["ids"])
        texts.extend(batch["documents"] or [])
        for meta in batch["metadatas"] or [{}] * len(batch["ids"]):
            meta = meta or {}
            source = str(meta.get("source", ""))
            kept = {
                k: meta[k]
                for k in ("section", "heading", "subject", "date", "position")
                if meta.get(k)
            }
            if meta.get("names") and source not in seen:  # a note's names, once
                seen.add(source)
                kept["names"] = str(meta["names"])
            metas.append({"source": source, **kept})
        if len(batch["ids"]) < page:
            return ids, texts, metas
        offset += page


def chunk_documents(store: Chroma, source: str | None = None, page: int = 5000) -> list[Document]:
    """The chunks (text and full metadata) of one document, or of every document, paged."""
    where: Any = {"source": source} if source is not None else None
    out: list[Document] = []
    offset = 0
    while True:
        batch = store._collection.get(
            where=where, include=["documents", "metadatas"], limit=page, offset=offset
        )
        for chunk_id, text, meta in zip(
            batch["ids"], batch["documents"] or [], batch["metadatas"] or [], strict=True
        ):
            out.append(Document(id=chunk_id, page_content=text, metadata=dict(meta or {})))
        if len(batch["ids"]) < page:
            return out
        offset += page


def all_chunk_texts(store: Chroma, page: int = 5000) -> tuple[list[str], list[str]]:
    """Every chunk's (id, text)."""
    ids, texts, _ = all_chunks(store, page)
    return ids, texts


def rebuild_keyword_index(
    store: Chroma, keyword_index: KeywordIndex, version: str | None = None
) -> None:
    """Derive the keyword index from what Chroma holds (Chroma is the source of truth): BM25,
    the corpus's lexicon, and every chunk's figures as facts (rag/facts/extract.py), attributed with
    that lexicon and users' glossary."""
    from rag.facts import tables
    from rag.facts.extract import extract_facts, read_senses, table_caption
    from rag.plan.question import metric_vocab

    version = version or collection_version(store) or bump_collection_version(store)
    ids, texts, metas = all_chunks(store)
    names = {m["source"]: m["names"] for m in metas if m.get("names")}
    sources = [m["source"] for m in metas]
    entities, terms = lexicon_of(names.values())
    glossary = keyword_index.glossary.with_lexicon(entities, terms)
    vocab = metric_vocab(glossary)
    # A chunk that starts inside a table reads its caption from the chunks before it.
    order = sorted(range(len(ids)), key=lambda i: (metas[i]["source"], metas[i].get("position", 0)))
    captions: dict[int, str] = {}
    for prev, i in zip(order, order[1:], strict=False):
        header = str(metas[i].get("section") or "")
        if metas[prev]["source"] == metas[i]["source"] and tables.is_row(header):
            captions[i] = table_caption(texts[prev], header) or captions.get(prev, "")
    facts = {
        chunk_id: extract_facts(
            text,
            glossary,
            vocab,
            section=meta.get("section"),
            subject=meta.get("subject"),
            heading=meta.get("heading"),
            doc_year=int(str(meta["date"])[:4]) if meta.get("date") else None,
            caption=captions.get(i, ""),
        )
        for i, (chunk_id, text, meta) in enumerate(zip(ids, texts, metas, strict=True))
    }
    facts = read_senses(facts, dict(zip(ids, sources, strict=True)))
    keyword_index.build(
        ids,
        [indexed_text(text, meta) for text, meta in zip(texts, metas, strict=True)],
        version,
        lexicon=(entities, terms),
        entity_sources=entity_sources(entities, texts, sources),
        chunk_sources=sources,
        facts=facts,
        captions={ids[i]: caption for i, caption in captions.items() if caption},
    )
