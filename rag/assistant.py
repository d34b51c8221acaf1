"""The answering service: retrieve, select evidence, compute, answer, verify."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from functools import cached_property
from pathlib import Path

from langchain_core.embeddings import Embeddings
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import HumanMessage
from langchain_core.vectorstores import VectorStore

from rag.answering import (
    about_entity,
    abstention,
    check_grounding,
    cited_numbers,
    coverage_gap,
    deterministic_answer,
    evidence_pack,
    rewrite_follow_up,
)
from rag.config import Settings
from rag.evidence import Evidence, Question, select_evidence
from rag.glossary import Glossary
from rag.keyword import KeywordIndex
from rag.language import detect_language
from rag.planner import plan_and_compute
from rag.retriever import HybridRetriever
from rag.types import Answer, AskRequest, Citation, StreamEvent, ToolCall

log = logging.getLogger(__name__)
PROMPTS = Path(__file__).parent / "prompts"
_UNSET = object()


class Assistant:
    """Implements rag.service.AnsweringService. Construction is cheap; models load on first use
    or in `warm_up()`."""

    def __init__(
        self,
        settings: Settings,
        *,
        embeddings: Embeddings | None = None,
        vector_store: VectorStore | None = None,
        llm: BaseChatModel | None | object = _UNSET,
    ) -> None:
        self.settings = settings
        self._embeddings = embeddings
        self._vector_store = vector_store
        self._llm = llm
        self._lock = threading.Lock()

    # -- components (lazy) ----------------------------------------------------------------------

    @cached_property
    def embeddings(self) -> Embeddings:
        if self._embeddings is not None:
            return self._embeddings
        from rag.embeddings import make_embeddings

        return make_embeddings(self.settings)

    @cached_property
    def vector_store(self) -> VectorStore:
        if self._vector_store is not None:
            return self._vector_store
        from rag.store import make_vector_store

        return make_vector_store(self.settings, self.embeddings)

    @cached_property
    def glossary(self) -> Glossary:
        return Glossary.load(self.settings.corpus_dir / "glossary.yaml")

    @cached_property
    def retriever(self) -> HybridRetriever:
        keyword = KeywordIndex(self.settings.keyword_dir, self.glossary.words())
        keyword.load()
        return HybridRetriever(
            vector_store=self.vector_store,
            keyword_index=keyword,
            glossary=self.glossary,
            k=self.settings.top_k,
        )

    @cached_property
    def llm(self) -> BaseChatModel | None:
        if self._llm is not _UNSET:
            return self._llm  # type: ignore[return-value]
        from rag.llm import make_chat_model

        return make_chat_model(self.settings)

    def warm_up(self) -> None:
        self.embeddings.embed_query("warm up")
        _ = self.retriever
        if self.llm is not None:
            from rag.llm import warm_up

            warm_up(self.llm)

    def readiness(self) -> dict[str, bool]:
        status = {"index": False, "embedder": False, "llm": True}
        try:
            status["index"] = self.vector_store._collection.count() > 0  # type: ignore[attr-defined]
        except Exception:  # Chroma server down, etc.
            log.exception("index not ready")
        try:
            status["embedder"] = bool(self.embeddings.embed_query("ready"))
        except Exception:
            log.exception("embedder not ready")
        if self.settings.llm != "none":
            loaded = getattr(self.llm, "loaded", None)
            status["llm"] = bool(loaded) if loaded is not None else self.llm is not None
        return status

    # -- answering --------------------------------------------------------------------------------

    def ask(self, request: AskRequest) -> Answer:
        final = None
        for event in self.stream(request):
            if event.type == "final":
                final = event.answer
        assert final is not None
        return final

    def stream(self, request: AskRequest) -> Iterator[StreamEvent]:
        started = time.perf_counter()
        timings: dict[str, float] = {}
        language = request.language or detect_language(request.question)
        standalone = rewrite_follow_up(request.question, request.history, self.glossary)

        t = time.perf_counter()
        docs = self.retriever.invoke(
            standalone,
            k=request.top_k or self.settings.top_k,
            filters=request.filters,
            language=language,
        )
        timings["retrieve"] = _ms(t)

        t = time.perf_counter()
        question = Question.parse(standalone, language, self.glossary)
        evidence = select_evidence(question, docs, self.glossary)
        timings["evidence"] = _ms(t)
        verification: dict[str, object] = {
            "standalone_question": standalone,
            # Ranked sources of the retrieved chunks: the eval's recall@k and MRR read these.
            "retrieval": [str(d.metadata.get("source", "")) for d in docs],
        }

        retrieved_text = " ".join(f"{d.metadata.get('section', '')} {d.page_content}" for d in docs)
        gap = coverage_gap(question, evidence, retrieved_text)
        if gap is not None:
            text = abstention(question, evidence, gap)
            verification.update(status="abstained", reason=gap)
            yield self._final(text, language, True, evidence, [], verification, timings, started)
            return

        t = time.perf_counter()
        k = request.top_k or self.settings.top_k
        calculation = plan_and_compute(
            question,
            docs,
            self.glossary,
            retrieve=lambda text: self.retriever.invoke(
                text, k=k, filters=request.filters, language=language
            ),
        )
        timings["calculate"] = _ms(t)
        if calculation is not None:
            # Computed answers are composed in code: the model never restates a computation.
            verification.update(
                status="abstained" if calculation.missing else "computed",
                llm="skipped",
                **(
                    {"reason": "missing operand", "missing": calculation.missing}
                    if calculation.missing
                    else {}
                ),
            )
            yield self._final(
                calculation.answer,
                language,
                bool(calculation.missing),
                calculation.evidence or evidence,
                calculation.tool_calls,
                verification,
                timings,
                started,
            )
            return

        fallback = deterministic_answer(question, evidence)
        if self.llm is None:
            verification.update(status="deterministic", llm="off")
            yield self._final(
                fallback, language, False, evidence, [], verification, timings, started
            )
            return

        t = time.perf_counter()
        # The small model reads best with little: the top sentences only (measured ~10 s at
        # ~330 prompt tokens vs 33-45 s at ~1,160 on 2 cores).
        on_topic = [e for e in evidence if about_entity(e, question)] or evidence
        shown = on_topic[: self.settings.llm_evidence_sentences]
        prompt = (
            (PROMPTS / f"answer_{language}.md")
            .read_text(encoding="utf-8")
            .format(evidence=evidence_pack(shown, language), calculations="", question=standalone)
        )
        draft, llm_state = "", "used"
        deadline = time.monotonic() + self.settings.llm_timeout_s
        try:
            with self._lock:  # one generation at a time on the embedded model
                for chunk in self.llm.stream([HumanMessage(prompt)]):
                    piece = chunk.content if isinstance(chunk.content, str) else ""
                    draft += piece
                    if piece:
                        yield StreamEvent(type="token", text=piece)
                    if time.monotonic() > deadline:
                        llm_state = "timeout"
                        break
        except Exception as exc:  # the LLM server died or refused: serve the evidence answer
            log.warning("LLM failed: %s", exc)
            llm_state = "error"
        timings["llm"] = _ms(t)
        verification.update(
            llm=llm_state, prompt_tokens=_count_tokens(self.llm, prompt), draft=draft.strip()
        )

        if llm_state != "used":
            verification.update(status="fallback", reason=f"llm {llm_state}")
            yield self._final(
                fallback, language, False, evidence, [], verification, timings, started
            )
            return
        text = draft.strip()
        if _says_not_in_documents(text):
            verification.update(status="fallback", reason="model abstained but evidence covers it")
            yield self._final(
                fallback, language, False, evidence, [], verification, timings, started
            )
            return
        grounding = check_grounding(text, shown, question=question)
        verification.update(numbers_checked=grounding.checked, unsupported=grounding.unsupported)
        wrong_language = detect_language(text) != language
        if not grounding.ok or wrong_language:
            verification.update(
                status="fallback",
                reason="wrong language" if wrong_language else "unverified figure",
            )
            yield self._final(
                fallback, language, False, evidence, [], verification, timings, started
            )
            return
        verification["status"] = "repaired" if grounding.repaired else "verified"
        yield self._final(
            grounding.text, language, False, shown, [], verification, timings, started
        )

    def _final(
        self,
        text: str,
        language: str,
        abstained: bool,
        evidence: list[Evidence],
        tool_calls: list[ToolCall],
        verification: dict[str, object],
        timings: dict[str, float],
        started: float,
    ) -> StreamEvent:
        citations = [
            Citation(
                n=n,
                source=evidence[n - 1].doc_id,
                title=evidence[n - 1].title,
                date=evidence[n - 1].date,
                quote=evidence[n - 1].text,
                start=evidence[n - 1].start,
                end=evidence[n - 1].end,
                score=round(evidence[n - 1].retrieval_score, 6),
            )
            for n in cited_numbers(text)
            if 1 <= n <= len(evidence)
        ]
        timings["total"] = _ms(started)
        answer = Answer(
            answer=text,
            language=language,  # type: ignore[arg-type]
            abstained=abstained,
            citations=citations,
            tool_calls=tool_calls,
            verification=verification,
            timings_ms=timings,
        )
        return StreamEvent(type="final", answer=answer)


def _ms(since: float) -> float:
    return round((time.perf_counter() - since) * 1000, 1)


def _count_tokens(llm: object, prompt: str) -> int:
    """Prompt tokens by the model's own tokenizer when it has one, else a rough estimate."""
    client = getattr(llm, "client", None)
    if client is not None and hasattr(client, "tokenize"):
        try:
            return len(client.tokenize(prompt.encode("utf-8")))
        except Exception:  # a lazily loaded model may not be ready
            pass
    return len(prompt) // 2


def _says_not_in_documents(text: str) -> bool:
    return "没有提到" in text or "do not say" in text.lower()


def build_assistant(settings: Settings) -> Assistant:
    return Assistant(settings)
