"""From files to a Chroma collection plus keyword index, idempotently.

LangChain's indexing API with a SQL record manager does the bookkeeping: chunk ids are hashes
of content + metadata, unchanged chunks are skipped without embedding, an edited document's
old chunks are replaced and a removed document's are deleted. The keyword index is rebuilt
from Chroma afterwards and swapped in atomically.

A run killed at any point is repaired by the next one (`benchmarks/ingest_crash.py` kills them
and checks). Every write holds `data_dir/ingest.lock` (an flock: writers of one data dir take
turns, and a killed one's lock dies with it) and keeps `data_dir/ingest.journal` while it runs,
holding the ids of the Chroma write in flight (replaced atomically before each one). A run that
finds a journal knows the last writer died mid-way: it drops those ids' vectors that got no
record and records whose vector was already deleted, so the indexing API redoes them, and at the
end bumps the version and rebuilds the keyword index even if it changed nothing itself.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import os
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from langchain_classic.indexes import SQLRecordManager
from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings
from langchain_core.indexing import index
from langchain_core.vectorstores import VectorStore

from ingest.chunking import chunk_spans
from ingest.clean import clean
from ingest.loaders import SUPPORTED_SUFFIXES, LoadError, load_bytes
from ingest.metadata import document_type, extract_metadata
from rag.config import Settings
from rag.facts.lexicon import names_json, subjects_before
from rag.glossary import Glossary
from rag.retrieve.keyword import KeywordIndex
from rag.retrieve.store import (
    add_chunks,
    bump_collection_version,
    collection_version,
    make_vector_store,
    rebuild_keyword_index,
)
from rag.types import Chunk, DocumentInfo, IngestReport

log = logging.getLogger(__name__)

# Bump when cleaning or chunking changes: it is part of every chunk's hash, so a bump re-indexes.
# 14: the document type (expert call, broker note, news) in every chunk's metadata
# 15: single months ("10月", "October 2025") are periods of the facts read at ingest
# 26: a Latin name right after a figure starts after "and" ("15% YoY and NetEase (网易)")
# 27: companies a note names only in a list beside known ones ("吉利、零跑和小米")
# 28: a question naming no one goes on about the previous question's company (subjects)
# 30: tab-separated rows and outline headings ("一、…") of plain-text notes; 31: a paragraph
# under a heading naming one company is about it, whoever the paragraph before named last
PIPELINE_VERSION = "31"
UPLOADS = "uploads"
# Files in a corpus folder that are configuration, not documents.
NOT_DOCUMENTS = frozenset({"glossary.yaml", "README.md"})
WRITE_LOCK = "ingest.lock"
JOURNAL = "ingest.journal"


@dataclass(frozen=True)
class PreparedDocument:
    info: DocumentInfo
    chunks: list[Chunk]
    documents: list[Document]


def prepare(doc_id: str, name: str, data: bytes, max_chars: int) -> PreparedDocument:
    """Load, clean, describe and chunk one file. Raises LoadError for unusable input."""
    loaded = load_bytes(name, data)
    cleaned = clean(loaded.text, loaded.body_start)
    if not cleaned.text.strip():
        raise LoadError("no_text", f"{name}: nothing left after cleaning")
    meta = extract_metadata(loaded.text, cleaned.text, loaded.metadata, Path(name).stem)
    info = DocumentInfo(
        doc_id=doc_id,
        source=doc_id,
        title=meta["title"] or Path(name).stem,
        date=meta["date"],
        institution=meta["institution"],
        url=meta["url"],
        doc_type=document_type(loaded.metadata, cleaned.text, meta["title"] or ""),
        content_hash=hashlib.sha256(loaded.text.encode("utf-8")).hexdigest(),
    )
    chunks, documents = [], []
    names = names_json(cleaned.text)
    subjects = subjects_before(cleaned.text, json.loads(names)["entities"], info.title)
    for position, span in enumerate(chunk_spans(cleaned.text, max_chars)):
        start, end = cleaned.span(span.start, span.end)
        text = cleaned.text[span.start : span.end]
        chunk_id = hashlib.sha256(f"{doc_id}\x00{start}\x00{text}".encode()).hexdigest()[:32]
        chunk = Chunk(
            chunk_id=chunk_id,
            doc_id=doc_id,
            text=text,
            start=start,
            end=end,
            section=span.section,
            heading=span.heading,
        )
        chunks.append(chunk)
        metadata: dict[str, Any] = {
            "source": doc_id,
            "chunk_id": chunk_id,
            "position": position,
            "title": info.title,
            "date": info.date,
            "date_int": int(info.date.replace("-", "")) if info.date else None,
            "institution": info.institution,
            "doc_type": info.doc_type,
            "url": info.url,
            "start": start,
            "end": end,
            "section": span.section,
            "heading": span.heading,
            "offsets": json.dumps(cleaned.breakpoints(span.start, span.end)),
            "doc_hash": info.content_hash,
            "names": names,
            "subject": subjects(span.start),
            "pipeline": PIPELINE_VERSION,
        }
        documents.append(
            Document(
                page_content=text, metadata={k: v for k, v in metadata.items() if v is not None}
            )
        )
    return PreparedDocument(info, chunks, documents)


def document_files(settings: Settings) -> list[tuple[str, Path]]:
    """(doc_id, path) of every document: the corpus folder and uploaded files."""
    found = []
    roots = [(settings.corpus_dir, ""), (settings.data_dir / UPLOADS, f"{UPLOADS}/")]
    for root, prefix in roots:
        if not root.is_dir():
            continue
        for path in sorted(root.rglob("*")):
            if path.is_file() and not path.name.startswith(".") and path.name not in NOT_DOCUMENTS:
                found.append((prefix + path.relative_to(root).as_posix(), path))
    return found


def corpus_chunks(settings: Settings) -> list[Chunk]:
    """Every chunk of the documents on disk (no index involved): for tests and benchmarks."""
    chunks: list[Chunk] = []
    for doc_id, path in document_files(settings):
        try:
            chunks.extend(
                prepare(doc_id, path.name, path.read_bytes(), settings.chunk_max_chars).chunks
            )
        except LoadError:
            continue
    return chunks


class Indexer:
    """Owns the vector store, record manager and keyword index of one collection."""

    def __init__(
        self,
        settings: Settings,
        embeddings: Embeddings | None = None,
        vector_store: VectorStore | None = None,
    ) -> None:
        self.settings = settings
        self._embeddings = embeddings
        self._vector_store = vector_store
        self._records: SQLRecordManager | None = None
        glossary = Glossary.load(settings.corpus_dir / "glossary.yaml")
        self.keyword_index = KeywordIndex(settings.keyword_dir, glossary.words(), glossary)
        self.batch_size = 100  # chunks embedded and written per step of the indexing API

    @property
    def embeddings(self) -> Embeddings:
        if self._embeddings is None:
            from rag.embeddings import make_embeddings

            self._embeddings = make_embeddings(self.settings)
        return self._embeddings

    @property
    def vector_store(self) -> VectorStore:
        if self._vector_store is None:
            self._vector_store = make_vector_store(self.settings, self.embeddings)
        return self._vector_store

    @property
    def records(self) -> SQLRecordManager:
        if self._records is None:
            self.settings.data_dir.mkdir(parents=True, exist_ok=True)
            namespace = f"chroma/{self.settings.chroma_mode}/{self.settings.collection}"
            self._records = SQLRecordManager(namespace, db_url=self.settings.record_db_url)
            self._records.create_schema()
        return self._records

    # -- writing -----------------------------------------------------------------------------

    def ingest_all(self, progress: bool = False) -> IngestReport:
        """Make the index hold exactly the documents on disk (full cleanup)."""
        started = time.perf_counter()
        files = document_files(self.settings)
        skipped: list[str] = []

        def documents() -> Iterator[Document]:
            bar = _progress(len(files), progress)
            for doc_id, path in files:
                try:
                    prepared = prepare(
                        doc_id, path.name, path.read_bytes(), self.settings.chunk_max_chars
                    )
                    yield from prepared.documents
                except (LoadError, OSError) as exc:
                    log.warning("skipped %s: %s", doc_id, exc)
                    skipped.append(f"{doc_id}: {exc}")
                finally:
                    bar.update(1)
            bar.close()

        with self._writing() as (store, interrupted):
            result = index(
                documents(),
                self.records,
                store,
                cleanup="full",
                source_id_key="source",
                key_encoder="sha256",
                batch_size=self.batch_size,
            )
            return self._finish(result, len(files) - len(skipped), skipped, started, interrupted)

    def ingest_document(self, doc_id: str, name: str, data: bytes) -> IngestReport:
        """Index one document, replacing its previous chunks. Raises LoadError for bad input."""
        started = time.perf_counter()
        prepared = prepare(doc_id, name, data, self.settings.chunk_max_chars)
        with self._writing() as (store, interrupted):
            result = index(
                prepared.documents,
                self.records,
                store,
                cleanup="incremental",
                source_id_key="source",
                key_encoder="sha256",
            )
            return self._finish(result, 1, [], started, interrupted)

    def delete_document(self, doc_id: str) -> IngestReport:
        started = time.perf_counter()
        keys = self.records.list_keys(group_ids=[doc_id])
        if not keys:
            raise KeyError(doc_id)
        with self._writing() as (store, interrupted):
            store.delete(keys)
            self.records.delete_keys(keys)
            result = {
                "num_added": 0,
                "num_updated": 0,
                "num_skipped": 0,
                "num_deleted": len(keys),
            }
            return self._finish(result, 1, [], started, interrupted)

    @contextmanager
    def _writing(self) -> Iterator[tuple[VectorStore, bool]]:
        """Hold the data dir's write lock and keep a journal of the Chroma write in flight.

        Yields the vector store to write through (it journals each write's ids first) and
        whether the previous writer was interrupted (its journal is still there); in that case
        its last write is repaired before anything else. The journal goes only when the block
        ends without an exception."""
        data_dir = self.settings.data_dir
        data_dir.mkdir(parents=True, exist_ok=True)
        journal = data_dir / JOURNAL
        with (data_dir / WRITE_LOCK).open("a", encoding="utf-8") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # blocks while another writer works here
            try:
                left = _read_journal(journal)
                _write_journal(journal, [])
                if left is not None:
                    self._repair(left)
                yield _JournaledStore(self.vector_store, journal), left is not None
                journal.unlink()
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def _repair(self, ids: list[str]) -> None:
        """Undo the half of an interrupted write that happened: of the journaled ids, vectors
        without a record (added, killed before the record) and records without a vector
        (deleted, killed before the record went) are dropped, so the indexing API redoes
        whatever is still wanted."""
        in_chroma = {str(d.id) for d in self.vector_store.get_by_ids(ids)} if ids else set()
        recorded = {i for i, ok in zip(ids, self.records.exists(ids), strict=True) if ok}
        orphans, ghosts = sorted(in_chroma - recorded), sorted(recorded - in_chroma)
        if orphans:
            self.vector_store.delete(orphans)
        if ghosts:
            self.records.delete_keys(ghosts)
        log.warning(
            "the last ingest was interrupted: dropped %d vectors without a record and %d "
            "records without a vector",
            len(orphans),
            len(ghosts),
        )

    def _finish(
        self,
        result: Any,
        documents: int,
        skipped: list[str],
        started: float,
        interrupted: bool = False,
    ) -> IngestReport:
        # An interrupted writer may have changed Chroma without bumping the version: the
        # stamps would still agree, so treat that as a change too.
        changed = (
            result["num_added"] or result["num_updated"] or result["num_deleted"] or interrupted
        )
        stale = self.keyword_index.stored_version() != collection_version(self.vector_store)  # type: ignore[arg-type]
        if changed or stale or self.keyword_index.stored_version() is None:
            version = bump_collection_version(self.vector_store) if changed else None  # type: ignore[arg-type]
            self.rebuild_keyword_index(version)
        return IngestReport(
            documents=documents,
            added=result["num_added"],
            updated=result["num_updated"],
            deleted=result["num_deleted"],
            unchanged=result["num_skipped"],
            skipped=skipped,
            seconds=round(time.perf_counter() - started, 3),
        )

    def rebuild_keyword_index(self, version: str | None = None) -> None:
        """Derive the keyword index from what Chroma holds."""
        rebuild_keyword_index(self.vector_store, self.keyword_index, version)  # type: ignore[arg-type]

    # -- reading ------------------------------------------------------------------------------

    def documents(self) -> list[DocumentInfo]:
        """One entry per document in the index (from chunk metadata)."""
        seen: dict[str, DocumentInfo] = {}
        for meta in _all_metadatas(self.vector_store):
            doc_id = str(meta["source"])
            if doc_id not in seen:
                seen[doc_id] = DocumentInfo(
                    doc_id=doc_id,
                    source=doc_id,
                    title=str(meta.get("title", doc_id)),
                    date=meta.get("date"),  # type: ignore[arg-type]
                    institution=meta.get("institution"),  # type: ignore[arg-type]
                    doc_type=meta.get("doc_type", "other"),  # type: ignore[arg-type]
                    url=meta.get("url"),  # type: ignore[arg-type]
                    content_hash=str(meta.get("doc_hash", "")),
                )
        return sorted(seen.values(), key=lambda d: d.doc_id)

    def chunk_count(self) -> int:
        return self.vector_store._collection.count()  # type: ignore[attr-defined]


def _read_journal(path: Path) -> list[str] | None:
    """The ids an interrupted writer was writing, or None when the last writer finished."""
    try:
        return list(json.loads(path.read_text(encoding="utf-8"))["ids"])
    except FileNotFoundError:
        return None
    except (ValueError, KeyError, TypeError):  # unreadable: interrupted, ids unknown
        return []


def _write_journal(path: Path, ids: Iterable[str]) -> None:
    staging = path.with_name(path.name + ".tmp")
    staging.write_text(json.dumps({"ids": list(ids)}), encoding="utf-8")
    os.replace(staging, path)  # whole or not at all, even if we are killed right here


class _JournaledStore(VectorStore):
    """The indexing API's view of the vector store: each write's ids are journaled first.

    The indexing API writes the record manager right after each Chroma write, before the next
    one, so only the latest write's ids can be half done when a run is killed."""

    def __init__(self, inner: VectorStore, journal: Path) -> None:
        self.inner, self.journal = inner, journal

    @property
    def embeddings(self) -> Embeddings | None:
        return self.inner.embeddings

    def add_documents(self, documents: list[Document], **kwargs: Any) -> list[str]:
        ids = kwargs.get("ids") or [d.id for d in documents if d.id]
        _write_journal(self.journal, ids)
        return add_chunks(self.inner, documents, ids)

    def add_texts(self, texts: Iterable[str], metadatas: Any = None, **kwargs: Any) -> list[str]:
        raise NotImplementedError("the indexing API writes documents")

    def delete(self, ids: list[str] | None = None, **kwargs: Any) -> bool | None:
        _write_journal(self.journal, ids or [])
        return self.inner.delete(ids, **kwargs)

    def similarity_search(self, query: str, k: int = 4, **kwargs: Any) -> list[Document]:
        return self.inner.similarity_search(query, k=k, **kwargs)

    @classmethod
    def from_texts(cls, *args: Any, **kwargs: Any) -> _JournaledStore:
        raise NotImplementedError


def _all_metadatas(store: VectorStore, page: int = 5000) -> Iterator[dict[str, Any]]:
    collection = store._collection  # type: ignore[attr-defined]
    offset = 0
    while True:
        batch = collection.get(include=["metadatas"], limit=page, offset=offset)
        yield from (m for m in batch["metadatas"] or [] if m)
        if len(batch["ids"]) < page:
            return
        offset += page


class _NoBar:
    def update(self, n: int) -> None: ...

    def close(self) -> None: ...


def _progress(total: int, enabled: bool) -> Any:
    if not enabled:
        return _NoBar()
    from tqdm import tqdm

    return tqdm(total=total, unit="doc", desc="ingest")


def is_supported(name: str) -> bool:
    return Path(name).suffix.lower() in SUPPORTED_SUFFIXES
