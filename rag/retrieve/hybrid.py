"""Hybrid retrieval: dense (e5 via Chroma) + Chinese keyword BM25, fused by weighted RRF."""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from langchain_core.vectorstores import VectorStore
from pydantic import ConfigDict, Field, PrivateAttr

from rag.glossary import Glossary, mentions
from rag.language import detect_language
from rag.retrieve.keyword import KeywordIndex, add_words, tokenize
from rag.retrieve.store import collection_version
from rag.sentences import HEADING_JOIN
from rag.types import Filters

RRF_K = 60
# How many chunks after a retrieved one under a heading naming the company asked are read too.
SECTION_FOLLOW = 2
# Weights of the dense and keyword legs per question language. Measured on the 135 eval cases
# (2026-11-22): English keyword weight 1.0 or 0.7 scored the same (80.0%), 0.4 lost a point,
# Chinese 0.7 lost two; so equal weights, kept per language for corpora where it matters.
LEG_WEIGHTS = {"zh": (1.0, 1.0), "en": (1.0, 1.0)}
TRANSLATED_WEIGHT = (
    0.5  # the keyword leg over the dictionary translation; 0.3-1.0 measured on seed+dev
)
VERSION_CHECK_SECONDS = 2.0
# A query that finds the keyword index stale waits this long for the rebuild, then answers with
# the previous index while the rebuild finishes in the background: re-reading and re-indexing
# 100k chunks took 50-90 s on 2 shared cores (docs/scaling.md), the notes in corpus/ under 1 s.
REBUILD_WAIT_SECONDS = 5.0

log = logging.getLogger(__name__)


def chroma_where(filters: Filters | None) -> dict[str, Any] | None:
    """A Chroma `where` clause for document ids, an inclusive ISO date range and document types."""
    if filters is None:
        return None
    clauses: list[dict[str, Any]] = []
    if filters.doc_ids:
        clauses.append({"source": {"$in": list(filters.doc_ids)}})
    if filters.date_from:
        clauses.append({"date_int": {"$gte": int(filters.date_from.replace("-", ""))}})
    if filters.date_to:
        clauses.append({"date_int": {"$lte": int(filters.date_to.replace("-", ""))}})
    if filters.doc_types:
        clauses.append({"doc_type": {"$in": list(filters.doc_types)}})
    if not clauses:
        return None
    return clauses[0] if len(clauses) == 1 else {"$and": clauses}


class HybridRetriever(BaseRetriever):
    """Returns up to `k` chunks; each Document's metadata gains `id`, `score` (fused),
    `dense_rank`, `keyword_rank`. `invoke(query, k=..., filters=Filters(...))` overrides per call."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    vector_store: VectorStore
    keyword_index: KeywordIndex
    glossary: Glossary = Field(default_factory=Glossary)
    k: int = 5
    candidates: int = 20
    _checked_at: float = 0.0
    _refresh_lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)
    _rebuild: threading.Thread | None = PrivateAttr(default=None)

    _merged: tuple[str | None, Glossary] | None = PrivateAttr(default=None)

    def model_post_init(self, context: Any) -> None:
        add_words(self.glossary.words())

    def current_glossary(self) -> Glossary:
        """Users' glossary with the corpus's own names and terms (derived with the keyword
        index, so a replica sees another's new notes once it reloads that index)."""
        version = self.keyword_index.version
        if self._merged is None or self._merged[0] != version:
            entities, terms = self.keyword_index.lexicon
            self._merged = (version, self.glossary.with_lexicon(entities, terms))
        return self._merged[1]

    def refresh(self) -> None:
        """Bring the keyword index (and the facts derived with it) up to the collection."""
        self._refresh_keyword_index()

    def _refresh_keyword_index(self) -> None:
        """Reload or rebuild the keyword index when another process changed the collection.

        One rebuild at a time: while it runs, other queries use the index they have (without
        this, every query past the next check would start another full rebuild)."""
        now = time.monotonic()
        if now - self._checked_at < VERSION_CHECK_SECONDS and self.keyword_index.version:
            return
        if not self._refresh_lock.acquire(blocking=False):
            return  # another query is checking right now
        try:
            if self._rebuild is not None and self._rebuild.is_alive():
                return
            self._checked_at = now
            current = collection_version(self.vector_store)  # type: ignore[arg-type]
            if not current or current == self.keyword_index.version:
                return
            if self.keyword_index.stored_version() == current:
                self.keyword_index.load()
                return
            rebuild = threading.Thread(  # a daemon: never holds up a shutdown
                target=self._rebuild_keyword_index,
                args=(current,),
                name="keyword-rebuild",
                daemon=True,
            )
            self._rebuild = rebuild
            rebuild.start()
        finally:
            self._refresh_lock.release()
        rebuild.join(REBUILD_WAIT_SECONDS)

    def _rebuild_keyword_index(self, version: str) -> None:
        from rag.retrieve.store import rebuild_keyword_index

        started = time.perf_counter()
        try:
            rebuild_keyword_index(self.vector_store, self.keyword_index, version)  # type: ignore[arg-type]
        except Exception:  # the next check retries; meanwhile the previous index answers
            log.exception("keyword index rebuild failed")
            return
        log.info(
            "keyword index rebuilt for version %s: %d chunks in %.1f s",
            version,
            len(self.keyword_index),
            time.perf_counter() - started,
        )

    def _get_relevant_documents(
        self,
        query: str,
        *,
        run_manager: CallbackManagerForRetrieverRun,
        k: int | None = None,
        filters: Filters | None = None,
        language: str | None = None,
    ) -> list[Document]:
        k = k or self.k
        language = language or detect_language(query)
        where = chroma_where(filters)
        n = max(self.candidates, k)
        collection = self.vector_store._collection  # type: ignore[attr-defined]

        self._refresh_keyword_index()
        glossary = self.current_glossary()
        from rag.plan.question import spelled_entities  # the plan reads names; lazily

        spelled = spelled_entities(query, glossary) if language == "en" else []
        named = glossary.entities_in(query) + spelled
        # A question about companies the notes name reads only the notes that name them: a
        # chunk of a note that never mentions the company is about someone else, and its
        # figure would be a neighbour's.
        notes = sorted(self.keyword_index.sources_of_entities(named)) if named else []
        if notes:
            scope: dict[str, Any] = {"source": {"$in": notes}}
            where = {"$and": [where, scope]} if where else scope
        dense = self.vector_store.similarity_search_with_score(query, k=n, filter=where)
        allowed = set(collection.get(where=where, include=[])["ids"]) if where else None
        tokens = tokenize(query) + [t for alias in glossary.expand(query) for t in tokenize(alias)]
        tokens += [t for group in spelled for alias in group for t in tokenize(alias)]
        keyword = self.keyword_index.search(tokens, n, allowed_ids=allowed)
        # Those notes searched in every language they may be written in: a Chinese question
        # about a bank the notes cover in English, too.
        scoped: list[tuple[str, float]] = []
        if named:
            own = self.keyword_index.chunks_of_entities(named)
            if allowed is not None:
                own &= allowed
            if own:
                every = tokenize(query) + [
                    t
                    for alias in glossary.expand(query, every_language=True)
                    for t in tokenize(alias)
                ]
                scoped = self.keyword_index.search(every, n, allowed_ids=own)

        # The question's words in the other language, as the general dictionary gives them:
        # an English note answers "哪家银行…" (bank), a Chinese one "dealers" (经销商). Every
        # sense is searched; BM25 ranks the chunks that write several of them.
        translated = self.keyword_index.search(
            _translated_tokens(query, language), n, allowed_ids=allowed
        )

        w_dense, w_keyword = LEG_WEIGHTS.get(language, (1.0, 1.0))
        fused: dict[str, float] = {}
        for rank, (doc, _) in enumerate(dense):
            fused[str(doc.id)] = fused.get(str(doc.id), 0.0) + w_dense / (RRF_K + rank + 1)
        for rank, (chunk_id, _) in enumerate(keyword):
            fused[chunk_id] = fused.get(chunk_id, 0.0) + w_keyword / (RRF_K + rank + 1)
        for rank, (chunk_id, _) in enumerate(scoped):
            fused[chunk_id] = fused.get(chunk_id, 0.0) + w_keyword / (RRF_K + rank + 1)
        for rank, (chunk_id, _) in enumerate(translated):
            fused[chunk_id] = fused.get(chunk_id, 0.0) + TRANSLATED_WEIGHT / (RRF_K + rank + 1)
        top = sorted(fused, key=lambda i: -fused[i])[:k]

        by_id = {str(doc.id): doc for doc, _ in dense}
        by_id.update(self._stored([i for i in top if i not in by_id]))
        if len(named) > 1:
            # "A, B and C's NPL ratios": a company the top chunks never mention gets its own
            # best chunk, after them, so each is answered from its own note or abstained.
            for chunk_id in self._covering(
                named, [by_id[i] for i in top if i in by_id], tokens, allowed
            ):
                fused.setdefault(chunk_id, 0.0)
                top.append(chunk_id)
            by_id.update(self._stored([i for i in top if i not in by_id]))
        if named:
            # A company's section split across chunks: the chunk after one retrieved under
            # a heading naming the company asked goes on about it ("## Harbour Bank" then
            # "…The NIM was 1.7%"), so it is read too, after the others.
            for chunk_id in list(top[:k]):
                retrieved = by_id.get(chunk_id)
                for following in (
                    self._rest_of_section(retrieved, named, where) if retrieved else []
                ):
                    if str(following.id) not in top:
                        fused.setdefault(str(following.id), 0.0)
                        top.append(str(following.id))
                        by_id[str(following.id)] = following
        dense_rank = {str(doc.id): r for r, (doc, _) in enumerate(dense)}
        dense_sim = {str(doc.id): 1.0 - float(dist) for doc, dist in dense}
        keyword_rank = {chunk_id: r for r, (chunk_id, _) in enumerate(keyword)}
        results = []
        for chunk_id in top:
            if chunk_id not in by_id:
                # The keyword index still names a chunk a delete just removed from the store
                # (its rebuild follows): the store is the truth, so it is no result.
                continue
            doc = by_id[chunk_id]
            meta = {
                **doc.metadata,
                "id": chunk_id,
                "score": round(fused[chunk_id], 6),
                "dense_rank": dense_rank.get(chunk_id, -1),
                "dense_similarity": round(dense_sim.get(chunk_id, 0.0), 4),
                "keyword_rank": keyword_rank.get(chunk_id, -1),
                **self._derived(chunk_id),
            }
            results.append(Document(id=chunk_id, page_content=doc.page_content, metadata=meta))
        return results

    def _rest_of_section(
        self, doc: Document, named: list[list[str]], where: dict[str, Any] | None
    ) -> list[Document]:
        """Up to SECTION_FOLLOW chunks right after `doc` in its note, in order, while they sit
        under its heading, when that heading names one of the companies asked (one lookup)."""
        heading = str(doc.metadata.get("heading") or "")
        position = doc.metadata.get("position")
        if not isinstance(position, int) or not any(
            mentions(heading.split(HEADING_JOIN)[-1], alias) for group in named for alias in group
        ):
            return []
        wanted = [position + step for step in range(1, SECTION_FOLLOW + 1)]
        scope: dict[str, Any] = {
            "$and": [{"source": doc.metadata.get("source")}, {"position": {"$in": wanted}}]
        }
        collection = self.vector_store._collection  # type: ignore[attr-defined]
        got = collection.get(
            where={"$and": [where, scope]} if where else scope,
            include=["documents", "metadatas"],
        )
        by_position = {
            (meta or {}).get("position"): Document(
                id=chunk_id, page_content=text, metadata=dict(meta or {})
            )
            for chunk_id, text, meta in zip(
                got["ids"], got["documents"], got["metadatas"], strict=True
            )
        }
        out: list[Document] = []
        for at in wanted:  # stop at a gap (filtered out) or a new heading
            following = by_position.get(at)
            if following is None or str(following.metadata.get("heading") or "") != heading:
                break
            out.append(following)
        return out

    def _covering(
        self,
        named: list[list[str]],
        top: list[Document],
        tokens: list[str],
        allowed: set[str] | None,
    ) -> list[str]:
        """For each named company no chunk of `top` mentions, the id of the best chunk (by the
        question's words and its names) of the notes that name it."""
        text = " ".join(d.page_content for d in top)
        have = {str(d.id) for d in top}
        out: list[str] = []
        for group in named:
            if any(mentions(text, alias) for alias in group):
                continue
            own = self.keyword_index.chunks_of_entities([group]) - have
            if allowed is not None:
                own &= allowed
            names = [t for alias in group for t in tokenize(alias)]
            hits = self.keyword_index.search(tokens + names, 1, allowed_ids=own) if own else []
            if hits:
                out.append(hits[0][0])
                have.add(hits[0][0])
        return out

    def chunks(self, ids: list[str], filters: Filters | None = None) -> list[Document]:
        """Stored chunks by id, in that order, with what the index derived for them; ids the
        store no longer holds, or the filters exclude, are left out."""
        stored = self._stored(ids, chroma_where(filters))
        return [
            Document(
                id=i,
                page_content=stored[i].page_content,
                metadata={**stored[i].metadata, "id": i, "score": 0.0, **self._derived(i)},
            )
            for i in ids
            if i in stored
        ]

    def _stored(self, ids: list[str], where: dict[str, Any] | None = None) -> dict[str, Document]:
        if not ids:
            return {}
        collection = self.vector_store._collection  # type: ignore[attr-defined]
        got = collection.get(ids=ids, where=where, include=["documents", "metadatas"])
        return {
            chunk_id: Document(id=chunk_id, page_content=text, metadata=dict(meta or {}))
            for chunk_id, text, meta in zip(
                got["ids"], got["documents"], got["metadatas"], strict=True
            )
        }

    def _derived(self, chunk_id: str) -> dict[str, Any]:
        return {
            # Its figures as facts, derived with the index (rag/facts/extract.py).
            "facts": self.keyword_index.facts_of(chunk_id),
            "caption": self.keyword_index.caption_of(chunk_id),
        }


def _translated_tokens(query: str, language: str) -> list[str]:
    """Keyword tokens of the question's other-language words (CC-CEDICT): English glosses of a
    Chinese question's words, Chinese candidates of an English question's."""
    from rag.dictionary import candidates, english_glosses

    if language == "zh":
        words = english_glosses(t for t in tokenize(query) if not t.isascii())
    else:
        words = candidates(query)
    return [t for word in words for t in tokenize(word)]
