"""A naive LangChain RAG to compare the assistant against.

Textbook setup: the raw note files, RecursiveCharacterTextSplitter(1000, 200), dense-only
Chroma top-4 with the assistant's embedder, one "stuff" prompt, the assistant's LLM. No keyword
search, glossary, number checking or calculator. It works with any `Embeddings` and
`BaseChatModel`, so it is unit-tested with LangChain's fakes and run for real by
`python -m eval --baseline`.
"""

from __future__ import annotations

import re
import time
import uuid
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings
from langchain_core.language_models import BaseChatModel
from langchain_core.prompts import ChatPromptTemplate, PromptTemplate

from rag.types import Answer, AskRequest, Citation

if TYPE_CHECKING:
    from eval.scorer import Case

STUFF_PROMPT = ChatPromptTemplate.from_template(
    "Answer the question using only the numbered context below. Cite the passages you use as "
    '[1], [2]... If the context does not contain the answer, say "I don\'t know". Answer in '
    "the language of the question.\n\nContext:\n{context}\n\n{history}Question: {question}\nAnswer:"
)
DOCUMENT_PROMPT = PromptTemplate.from_template("[{n}] {page_content}")
TEXT_SUFFIXES = (".txt", ".md")
_ABSTAIN = re.compile(
    r"i don'?t know|do(?:es)? not (?:say|mention|contain)|不知道|没有提到|未提及|无法回答", re.I
)
_CITE = re.compile(r"\[(\d+)\]")


def load_corpus(corpus_dir: Path) -> list[Document]:
    """Every text note as one Document, raw (no cleaning: that is the point of a baseline)."""
    return [
        Document(page_content=p.read_text(encoding="utf-8"), metadata={"source": p.name})
        for p in sorted(corpus_dir.iterdir())
        if p.suffix in TEXT_SUFFIXES
    ]


class NaiveRag:
    """Implements `ask(AskRequest) -> Answer` like rag.service.AnsweringService."""

    def __init__(
        self,
        documents: Sequence[Document],
        embeddings: Embeddings,
        llm: BaseChatModel,
        *,
        k: int = 4,
        chunk_size: int = 1000,
        chunk_overlap: int = 200,
    ) -> None:
        import chromadb
        from langchain_chroma import Chroma
        from langchain_classic.chains.combine_documents import create_stuff_documents_chain
        from langchain_text_splitters import RecursiveCharacterTextSplitter

        splitter = RecursiveCharacterTextSplitter(
            chunk_size=chunk_size, chunk_overlap=chunk_overlap, add_start_index=True
        )
        self.chunks = splitter.split_documents(list(documents))
        self.store = Chroma(
            collection_name=f"baseline-{uuid.uuid4().hex[:8]}",
            embedding_function=embeddings,
            client=chromadb.EphemeralClient(),
        )
        if self.chunks:
            self.store.add_documents(self.chunks)
        self.k = k
        self.chain = create_stuff_documents_chain(
            llm, STUFF_PROMPT, document_prompt=DOCUMENT_PROMPT
        )

    def ask(self, request: AskRequest) -> Answer:
        started = time.perf_counter()
        history = "".join(f"{m.role}: {m.content}\n" for m in request.history)
        query = f"{history}{request.question}" if history else request.question
        t = time.perf_counter()
        docs = self.store.similarity_search(query, k=self.k)
        retrieve_ms = (time.perf_counter() - t) * 1000
        numbered = [
            Document(page_content=d.page_content, metadata={**d.metadata, "n": i})
            for i, d in enumerate(docs, 1)
        ]
        t = time.perf_counter()
        text = self.chain.invoke(
            {
                "context": numbered,
                "question": request.question,
                "history": f"Conversation so far:\n{history}\n" if history else "",
            }
        )
        llm_ms = (time.perf_counter() - t) * 1000
        text = str(text).strip()
        cited = sorted({int(n) for n in _CITE.findall(text) if 1 <= int(n) <= len(docs)})
        used = cited or list(range(1, len(docs) + 1))  # uncited: show every retrieved source
        citations = [
            Citation(
                n=n,
                source=docs[n - 1].metadata.get("source", ""),
                title=docs[n - 1].metadata.get("source", ""),
                date=None,
                quote=docs[n - 1].page_content,
                start=int(docs[n - 1].metadata.get("start_index", 0)),
                end=int(docs[n - 1].metadata.get("start_index", 0)) + len(docs[n - 1].page_content),
                score=0.0,
            )
            for n in used
        ]
        return Answer(
            answer=text,
            language=request.language or ("en" if text.isascii() else "zh"),
            abstained=bool(_ABSTAIN.search(text)),
            citations=citations,
            verification={
                "status": "baseline",
                "retrieval": [d.metadata.get("source", "") for d in docs],
            },
            timings_ms={
                "retrieve": round(retrieve_ms, 1),
                "llm": round(llm_ms, 1),
                "total": round((time.perf_counter() - started) * 1000, 1),
            },
        )


def build_default_baseline() -> NaiveRag:
    """The baseline with the assistant's own embedder and LLM from settings."""
    import rag  # noqa: F401  (offline switches)
    from rag.config import get_settings
    from rag.embeddings import make_embeddings
    from rag.llm import make_chat_model

    # Four 1000-character chunks stuffed into one prompt need ~2,700 tokens: a 4k context.
    settings = get_settings()
    settings = settings.model_copy(
        update={"llm_context_tokens": max(4096, settings.llm_context_tokens)}
    )
    llm = make_chat_model(settings)
    if llm is None:
        raise SystemExit("--baseline needs an LLM: set RNA_LLM to llamacpp or openai")
    return NaiveRag(load_corpus(settings.corpus_dir), make_embeddings(settings), llm)


def stratified_subset(cases: Sequence[Case], n: int) -> list[Case]:
    """About n cases, round-robin over kinds (alternating languages), every kind present."""
    by_kind: dict[str, list[Case]] = defaultdict(list)
    for case in cases:
        by_kind[case.kind].append(case)
    for kind, items in by_kind.items():  # interleave zh/en within each kind
        zh = [c for c in items if c.language == "zh"]
        en = [c for c in items if c.language == "en"]
        mixed = [c for pair in zip(zh, en, strict=False) for c in pair]
        rest = zh[len(mixed) // 2 :] + en[len(mixed) // 2 :]
        by_kind[kind] = mixed + rest
    out: list[Case] = []
    depth = 0
    target = max(n, len(by_kind))
    while len(out) < target and any(depth < len(v) for v in by_kind.values()):
        for kind in sorted(by_kind):
            if depth < len(by_kind[kind]) and len(out) < target:
                out.append(by_kind[kind][depth])
        depth += 1
    return out
