"""Deterministic stand-ins for the answering service and document library (unit tests only).

They keep the contracts of rag.service.AnsweringService and ingest.library.DocumentLibrary so
api/ and ui/ logic can be tested fast; integration tests use the real ones.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Iterator
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from pydantic import PrivateAttr

from ingest.library import RejectedFile
from rag.facts.rows import document_rows, filter_rows
from rag.glossary import Glossary
from rag.numbers import extract_quantities
from rag.pick.evidence import Evidence
from rag.status import plain_status
from rag.types import (
    Answer,
    AskRequest,
    Citation,
    DocumentInfo,
    FactRow,
    IngestReport,
    StreamEvent,
)

NV_QUOTE = "英伟达(NV)2026年AEC需求量预计为170万根"
# The one note the fake keeps fact tables for (written for the tests, not from corpus/).
FACT_DOC_ID = "notes/fake-facts.md"
FACT_DOC_TITLE = "星海科技调研纪要"
FACT_NOTE = (
    "星海科技2025年前三季度营业收入为120亿元，同比增长15%。明年营业收入预计达到180亿元。"
    "蓝鲸电子毛利率为22.5%。"
)
FACT_GLOSSARY = Glossary(
    entities=[["星海科技", "Xinghai Tech"], ["蓝鲸电子", "Bluewhale"]]
).with_lexicon([], [])
GOOD_DRAFT = "英伟达2026年AEC需求量预计为170万根左右[1]。"


class FakeAssistant:
    """Answers every question with one cited sentence; abstains when the question says 2027.
    `use_llm=False` gives the same figure as a deterministic (quoted) answer."""

    def __init__(self) -> None:
        self.requests: list[AskRequest] = []
        self.llm_flags: list[bool] = []  # use_llm of each question, in order

    def ask(self, request: AskRequest, *, use_llm: bool = True) -> Answer:
        self.requests.append(request)
        self.llm_flags.append(use_llm)
        lang = request.language or ("en" if request.question.isascii() else "zh")
        if "2027" in request.question:
            text = "The documents do not say." if lang == "en" else "文档中没有提到这一点。"
            verification = {"status": "abstained", "reason": "year"}
            return Answer(
                answer=text,
                language=lang,
                abstained=True,
                verification=verification,
                status=plain_status("abstained", True, lang),
            )
        text = (
            "About 1.7 million cables (170万根) [1]."
            if lang == "en"
            else "英伟达2026年AEC需求量约为170万根[1]。"
        )
        citation = Citation(
            n=1,
            source="corpus/003_558daa5f5094b1d2.txt",
            title="AEC及电源线专家交流",
            date="2025-11-12",
            quote=NV_QUOTE,
            start=10,
            end=10 + len(NV_QUOTE),
            score=0.9,
        )
        verification = (
            {"status": "verified", "numbers_checked": 1, "llm": "used"}
            if use_llm
            else {"status": "deterministic", "llm": "not used"}
        )
        return Answer(
            answer=text,
            language=lang,
            citations=[citation],
            verification=verification,
            status=plain_status(verification["status"], False, lang),
            timings_ms={"total": 1.0},
        )

    def stream(self, request: AskRequest, *, use_llm: bool = True) -> Iterator[StreamEvent]:
        final = self.ask(request, use_llm=use_llm)
        if use_llm:  # verified text: the final answer's, word by word
            words = final.answer.split(" ")
            for i, word in enumerate(words):
                yield StreamEvent(type="token", text=word + (" " if i < len(words) - 1 else ""))
        yield StreamEvent(type="final", answer=final)

    def readiness(self) -> dict[str, bool]:
        return {"index": True, "embedder": True, "llm": True}

    def document_facts(self, doc_id: str) -> list[FactRow] | None:
        """The rows of FACT_NOTE (derived by the real rag.facts.rows); None for other ids."""
        if doc_id != FACT_DOC_ID:
            return None
        chunk = Document(
            id="fake-facts-0",
            page_content=FACT_NOTE,
            metadata={"source": FACT_DOC_ID, "title": FACT_DOC_TITLE, "date": "2025-10-30"},
        )
        return document_rows([chunk], lambda _chunk_id: None, FACT_GLOSSARY)

    def find_facts(
        self, *, entity: str | None = None, metric: str | None = None, period: str | None = None
    ) -> list[FactRow]:
        rows = self.document_facts(FACT_DOC_ID) or []
        return filter_rows(rows, FACT_GLOSSARY, entity=entity, metric=metric, period=period)


class FakeLibrary:
    """Keeps uploaded documents in memory; rejects empty files and non-text types."""

    allowed_suffixes = (".txt", ".md", ".html", ".pdf", ".docx")

    def __init__(self) -> None:
        self.docs: dict[str, DocumentInfo] = {}

    def list(self) -> list[DocumentInfo]:
        return sorted(self.docs.values(), key=lambda d: d.doc_id)

    def add(self, filename: str, data: bytes) -> IngestReport:
        if not data.strip():
            raise RejectedFile("empty", f"{filename} is empty")
        if not filename.lower().endswith(self.allowed_suffixes):
            raise RejectedFile("unsupported_type", f"{filename}: unsupported file type")
        doc_id = "uploads/" + filename
        existed = doc_id in self.docs
        self.docs[doc_id] = DocumentInfo(
            doc_id=doc_id,
            source=doc_id,
            title=filename,
            content_hash=hashlib.sha256(data).hexdigest(),
        )
        return IngestReport(documents=1, added=0 if existed else 1, updated=1 if existed else 0)

    def delete(self, doc_id: str) -> IngestReport:
        if doc_id not in self.docs:
            raise KeyError(doc_id)
        del self.docs[doc_id]
        return IngestReport(documents=1, deleted=1)


class HashEmbeddings(Embeddings):
    """A deterministic bag-of-words embedder: token hashes into `size` buckets, L2-normalised.

    Unlike random per-text vectors, texts that share words are close, so dense retrieval in
    fast tests behaves like a (weak) lexical retriever.
    """

    def __init__(self, size: int = 384) -> None:
        self.size = size

    def _embed(self, text: str) -> list[float]:
        from rag.retrieve.keyword import tokenize

        vector = [0.0] * self.size
        for token in tokenize(text):
            digest = hashlib.blake2b(token.encode(), digest_size=8).digest()
            vector[int.from_bytes(digest[:4], "little") % self.size] += 1.0
        norm = sum(v * v for v in vector) ** 0.5 or 1.0
        return [v / norm for v in vector]

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [self._embed(t) for t in texts]

    def embed_query(self, text: str) -> list[float]:
        return self._embed(text)


def evidence_sentence(
    text: str,
    section: str | None = None,
    entities: tuple[str, ...] = (),
    doc_id: str = "003_558daa5f5094b1d2.txt",
) -> Evidence:
    """One evidence sentence of the 2025-11-12 AEC note (or `doc_id`), figures extracted."""
    return Evidence(
        chunk_id="c",
        doc_id=doc_id,
        title="AEC及电源线专家交流",
        date="2025-11-12",
        text=text,
        start=0,
        end=len(text),
        score=5.0,
        retrieval_score=0.03,
        years=frozenset({2025, 2026}),
        quantities=tuple(extract_quantities(text, 2025)),
        section=section,
        entities=entities,
    )


class ScriptedChatModel(BaseChatModel):
    """Streams `reply` in pieces. `mode`: "ok"; "hang" (blocks before the first token until
    `release()`, deaf to everything else); "error" (a dead server); "trickle" (a piece every
    `trickle_s`)."""

    reply: str = GOOD_DRAFT
    mode: str = "ok"
    trickle_s: float = 0.3
    _released: threading.Event = PrivateAttr(default_factory=threading.Event)
    _calls: list[str] = PrivateAttr(default_factory=list)
    _closed: list[int] = PrivateAttr(default_factory=list)

    @property
    def _llm_type(self) -> str:
        return "scripted"

    def release(self) -> None:
        self._released.set()

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        return ChatResult(generations=[ChatGeneration(message=AIMessage(self.reply))])

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        mode = self.mode
        self._calls.append(mode)
        if mode == "error":
            raise ConnectionError("Connection refused: the LLM server is gone")
        if mode == "hang":
            self._released.wait()
        pieces = [self.reply[i : i + 4] for i in range(0, len(self.reply), 4)]
        try:
            for piece in pieces:
                if mode == "trickle":
                    time.sleep(self.trickle_s)
                yield ChatGenerationChunk(message=AIMessageChunk(content=piece))
        finally:
            self._closed.append(len(self._calls))


def assistant_over_notes(settings: Any, notes: dict[str, str]) -> Any:
    """An assistant over the settings' corpus plus `notes` (file name -> text), indexed for
    real (Chroma, the keyword index, facts) with hash embeddings."""
    from ingest.pipeline import Indexer
    from rag.assistant import Assistant

    for name, text in notes.items():
        (settings.corpus_dir / name).write_text(text, encoding="utf-8")
    embeddings = HashEmbeddings()
    indexer = Indexer(settings, embeddings=embeddings)
    indexer.ingest_all()
    return Assistant(settings, embeddings=embeddings, vector_store=indexer.vector_store)
