"""The answering service: retrieve, select evidence, compute, answer, verify."""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Generator, Iterable, Iterator
from contextlib import closing
from functools import cached_property, partial

from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import HumanMessage
from langchain_core.vectorstores import VectorStore

from rag.compute.planner import (
    derived_margin,
    derived_period,
    only_computed,
    plan_and_compute,
    plan_from_stated_period,
    sequential_change,
    year_on_year,
)
from rag.config import Settings
from rag.facts.lexicon import STOCK_CODE
from rag.facts.rows import states_metric
from rag.glossary import Glossary, mentions
from rag.language import detect_language
from rag.pick.choose import about_entity, best_quantity, coverage_gap
from rag.pick.evidence import Evidence, by_named_source, row_evidence, select_evidence
from rag.plan.follow_up import rewrite_follow_up
from rag.plan.question import (
    Question,
    level_and_change,
    per_entity_questions,
    spelled_entities,
    text_about,
    without_names,
    without_periods,
)
from rag.render.answer import (
    abstention,
    deterministic_answer,
    level_and_change_answer,
    llm_prompt,
    per_entity_answer,
)
from rag.retrieve.hybrid import HybridRetriever
from rag.retrieve.keyword import KeywordIndex, tokenize
from rag.status import plain_status
from rag.types import Answer, AskRequest, Citation, FactRow, Filters, StreamEvent, ToolCall
from rag.verify.grounding import Verdict, cited_numbers, judge, last_sentence_end, verdict_text

log = logging.getLogger(__name__)
_UNSET = object()
# Chunks added to the retrieved ones because their facts state the asked figure.
STATING_CHUNKS = 2


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
        self._lock = threading.Lock()  # held by the running LLM call (one at a time)
        self._abandoned: _LlmCall | None = None  # the last call given up on, maybe running
        self._rows_lock = threading.Lock()
        self._rows: tuple[tuple[str | None, str | None], list[FactRow]] | None = None

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
        from rag.retrieve.store import make_vector_store

        return make_vector_store(self.settings, self.embeddings)

    @cached_property
    def user_glossary(self) -> Glossary:
        return Glossary.load(self.settings.corpus_dir / "glossary.yaml")

    @property
    def glossary(self) -> Glossary:
        """Users' glossary + the names and terms the indexed notes write (rag/facts/lexicon.py)."""
        return self.retriever.current_glossary()

    @cached_property
    def retriever(self) -> HybridRetriever:
        keyword = KeywordIndex(
            self.settings.keyword_dir, self.user_glossary.words(), self.user_glossary
        )
        keyword.load()
        return HybridRetriever(
            vector_store=self.vector_store,
            keyword_index=keyword,
            glossary=self.user_glossary,
            k=self.settings.top_k,
        )

    @cached_property
    def llm(self) -> BaseChatModel | None:
        if self._llm is not _UNSET:
            return self._llm  # type: ignore[return-value]
        from rag.llm import make_chat_model

        return make_chat_model(self.settings)

    def warm_up(self) -> None:
        from rag.dictionary import candidates

        self.embeddings.embed_query("warm up")
        _ = self.retriever
        candidates("warm up")  # reads CC-CEDICT once (~1 s) before the first English question
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

    # -- the notes' figures as tables (rag.service.FactTables) -------------------------------------

    def document_facts(self, doc_id: str) -> list[FactRow] | None:
        """The figures of one note as rows; None when the index holds no such note."""
        from rag.facts.rows import document_rows
        from rag.retrieve.store import chunk_documents

        self.retriever.refresh()  # facts of a note another process just added
        chunks = chunk_documents(self.vector_store, source=doc_id)  # type: ignore[arg-type]
        if not chunks:
            return None
        return document_rows(chunks, self.retriever.keyword_index.facts_of, self.glossary)

    def find_facts(
        self, *, entity: str | None = None, metric: str | None = None, period: str | None = None
    ) -> list[FactRow]:
        """Every note's rows matching the filters (see rag.facts.rows.filter_rows)."""
        from rag.facts.rows import filter_rows

        return filter_rows(
            self._all_fact_rows(), self.glossary, entity=entity, metric=metric, period=period
        )

    def _all_fact_rows(self) -> list[FactRow]:
        """Every note's rows, built once per version of the collection."""
        from rag.facts.rows import document_rows
        from rag.retrieve.store import chunk_documents, collection_version

        self.retriever.refresh()
        version = collection_version(self.vector_store)  # type: ignore[arg-type]
        key = (version, self.retriever.keyword_index.version)
        with self._rows_lock:
            if self._rows is not None and self._rows[0] == key:
                return self._rows[1]
        by_source: dict[str, list] = {}
        for chunk in chunk_documents(self.vector_store):  # type: ignore[arg-type]
            by_source.setdefault(str(chunk.metadata.get("source", "")), []).append(chunk)
        facts_of, glossary = self.retriever.keyword_index.facts_of, self.glossary
        rows = [
            row
            for source in sorted(by_source)
            for row in document_rows(by_source[source], facts_of, glossary)
        ]
        with self._rows_lock:
            self._rows = (key, rows)
        return rows

    def _ranked(
        self, question: Question, docs: list[Document], glossary: Glossary
    ) -> tuple[str, list[Evidence], ToolCall] | None:
        """A which-question over several entities ranked from one note's figure table: the
        best-retrieved note that has the asked figure for two or more entities."""
        from rag.compute.ranking import rank, ranking_answer, ranking_order

        order = ranking_order(question)
        if order is None:
            return None
        by_note: dict[str, list[FactRow]] = {}
        for row in self._all_fact_rows():
            by_note.setdefault(row.doc_id, []).append(row)
        retrieved = dict.fromkeys(str(d.metadata.get("source", "")) for d in docs)
        words = _framing_words(question, glossary)
        found = []
        for source in [*retrieved, *sorted(set(by_note) - set(retrieved))]:
            of_note = by_note.get(source, [])
            overlap = _framing_overlap(words, of_note)
            if source not in retrieved and not overlap:
                continue  # a note retrieval missed counts only when it is framed as asked
            ranking = rank(question, of_note, order)
            if ranking is not None:
                found.append((overlap, ranking))
        if not found:
            return None
        # Of the notes that can rank it, the one whose title and headings frame what the
        # question names ("which of the internet companies…"), else the best-retrieved.
        ranking = max(found, key=lambda item: item[0])[1]
        return ranking_answer(
            ranking, question.language, partial(_name_in, glossary, question.language)
        )

    def _stating_chunks(
        self, question: Question, docs: list[Document], filters: Filters | None
    ) -> list[Document]:
        """The chunks whose facts (read at ingest) state the asked metric for the asked period
        and company, when retrieval did not bring them: ranked after the retrieved ones, and
        scored like them. A question in one language over a note in the other is where the
        words alone find the note but not the sentence."""
        period = question.period
        companies = {a.lower() for group in question.entities for a in group}
        # A figure of a metric and period; or why a company's metric moved, where its figures
        # of that metric are stated (the reason is written beside them: "mainly because…").
        figure = question.asks_figure and period is not None
        reason = question.asks_why and bool(companies)
        if not (question.metrics and (figure or reason)):
            return []
        metric = {a.lower() for a in question.metrics[0]}
        allowed = set(filters.doc_ids) if filters is not None and filters.doc_ids else None
        have = {str(d.metadata.get("id", d.id)) for d in docs}

        def states(row: FactRow) -> bool:
            about = (row.entity or "").lower() in companies if companies else not row.entity
            return (
                about
                and states_metric(row, metric)
                and (period is None or row.span == period.span)
                and (period is None or period.year is None or row.year == period.year)
                and (allowed is None or row.doc_id in allowed)
            )

        wanted = [r.chunk_id for r in self._all_fact_rows() if r.chunk_id not in have and states(r)]
        return self.retriever.chunks(list(dict.fromkeys(wanted))[:STATING_CHUNKS], filters)

    def _notes_about(self, question: Question, filters: Filters | None) -> Filters | None:
        """Filters narrowed to the notes that name every industry the question does (any
        alias, either language, whole words); None when no note does."""
        sources: set[str] | None = None
        for group in question.topics:
            aliases = [a for a in group if len(a) >= 2]
            # Chroma's $contains is case-sensitive: "Bank" in a table header, "bank" in prose.
            spellings = dict.fromkeys(v for a in aliases for v in (a, a.capitalize(), a.upper()))
            # whole words: "port" is not in "report"
            named = self._sources_containing(spellings, partial(_mentions_any, aliases))
            sources = named if sources is None else sources & named
        if filters is not None and filters.doc_ids and sources:
            sources &= set(filters.doc_ids)
        if not sources:
            return None
        return (filters or Filters()).model_copy(update={"doc_ids": sorted(sources)})

    def _notes_naming(self, filters: Filters) -> Filters | None:
        """The filters with `doc_ids` narrowed to the notes that name the company (any alias
        its group has: 比亚迪 / BYD / 002594.SZ); None when no note does."""
        company = (filters.company or "").strip()
        group = self.glossary.group_of(company) or next(
            iter(self.glossary.entities_in(company)), [company]
        )
        aliases = [a for a in dict.fromkeys([company, *group]) if len(a) >= 2]
        sources = self._sources_containing(aliases)
        if filters.doc_ids:
            sources &= set(filters.doc_ids)
        return filters.model_copy(update={"doc_ids": sorted(sources)}) if sources else None

    def _sources_containing(
        self, spellings: Iterable[str], keep: Callable[[str], bool] | None = None
    ) -> set[str]:
        """The notes with a chunk holding any of `spellings` (Chroma's where_document), and,
        given `keep`, whose chunk text passes it."""
        collection = self.vector_store._collection  # type: ignore[attr-defined]
        contains: list[dict[str, str]] = [{"$contains": a} for a in spellings]
        where = contains[0] if len(contains) == 1 else {"$or": contains}
        include = ["metadatas", "documents"] if keep is not None else ["metadatas"]
        got = collection.get(where_document=where, include=include)
        metas = got["metadatas"] or []
        texts = got["documents"] if keep is not None else None
        return {
            str(meta.get("source"))
            for i, meta in enumerate(metas)
            if keep is None or (texts is not None and keep(texts[i]))
        }

    def _estimates(
        self, question: Question, evidence: list[Evidence], filters: Filters | None
    ) -> tuple[str, list[Evidence]] | None:
        """The asked figure as each note that states it gives it (rag/pick/estimates.py), when
        two or more notes do."""
        from rag.pick.estimates import estimates_for, row_of
        from rag.render.answer import estimates_answer

        picked = best_quantity(question, evidence) if question.asks_figure else None
        if picked is None:
            return None
        rows = self._all_fact_rows()
        row = row_of(evidence[picked[0]], picked[1].raw, rows)
        if row is None:
            return None

        typed: set[str] | None = None
        if filters is not None and filters.doc_types:  # the notes of the kinds it admits
            from rag.retrieve.hybrid import chroma_where

            where = chroma_where(Filters(doc_types=filters.doc_types))
            got = self.vector_store._collection.get(where=where, include=["metadatas"])  # type: ignore[attr-defined]
            typed = {str(m.get("source")) for m in got["metadatas"] or []}

        def answers(other: FactRow) -> bool:
            if typed is not None and other.doc_id not in typed:
                return False
            found = best_quantity(question, [row_evidence(other)])
            return found is not None and found[1].raw.strip() == other.value.strip()

        found = estimates_for(row, rows, filters, answers)
        return estimates_answer(found, question.language) if found else None

    # -- answering --------------------------------------------------------------------------------

    def ask(self, request: AskRequest, *, use_llm: bool = True) -> Answer:
        final = None
        for event in self.stream(request, use_llm=use_llm):
            if event.type == "final":
                final = event.answer
        assert final is not None
        return final

    def stream(self, request: AskRequest, *, use_llm: bool = True) -> Iterator[StreamEvent]:
        try:
            yield from self._answer(request, use_llm)
        except Exception as exc:
            from rag.retrieve.store import IndexUnavailable, is_unreachable

            if is_unreachable(exc) and not isinstance(exc, IndexUnavailable):
                # A Chroma server that is down or frozen: one typed error the API turns into
                # 503, instead of whatever the HTTP client raised.
                raise IndexUnavailable(f"the vector store is unreachable: {exc}") from exc
            raise

    def _answer(self, request: AskRequest, use_llm: bool) -> Iterator[StreamEvent]:
        started = time.perf_counter()
        timings: dict[str, float] = {}
        language = request.language or detect_language(request.question)
        if request.filters is not None and (request.filters.company or "").strip():
            narrowed = self._notes_naming(request.filters)
            if narrowed is None:  # no note names that company: nothing may answer
                company = request.filters.company
                text = (
                    f"No note in the index names “{company}”."
                    if language == "en"
                    else f"索引中没有提到“{company}”的文档。"
                )
                record: dict[str, object] = {"status": "abstained", "reason": "company"}
                yield self._final(text, language, True, [], [], record, {}, started)
                return
            request = request.model_copy(update={"filters": narrowed})
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
        glossary = self.glossary  # after retrieval: its refresh may have brought new notes
        question, sources = by_named_source(Question.parse(standalone, language, glossary), docs)
        if sources:  # "启明资本预测…": read that institution's notes for the rest of the question
            narrowed = (request.filters or Filters()).model_copy(update={"doc_ids": sources})
            docs = self.retriever.invoke(
                question.text,
                k=request.top_k or self.settings.top_k,
                filters=narrowed,
                language=language,
            )
        if question.topics and not any(_names_topics(d, question) for d in docs):
            # "哪家银行…" over notes written in English: no retrieved chunk is about banks, but
            # a note is. Its chunks are searched instead of answering from another industry's.
            about = self._notes_about(question, request.filters)
            if about is not None:
                docs = self.retriever.invoke(
                    question.text,
                    k=request.top_k or self.settings.top_k,
                    filters=about,
                    language=language,
                )
        docs = docs + self._stating_chunks(question, docs, request.filters)
        evidence = select_evidence(question, docs, glossary)
        timings["evidence"] = _ms(t)
        ranked = self._ranked(question, docs, glossary)
        verification: dict[str, object] = {
            "standalone_question": standalone,
            # Ranked sources of the retrieved chunks: the eval's recall@k and MRR read these.
            "retrieval": [str(d.metadata.get("source", "")) for d in docs],
        }
        if language == "en" and (spelled := spelled_entities(question.text, glossary)):
            # A name in another romanisation ("Ming Yang" for 明阳): shown, as it was not the notes' spelling.
            verification["read_as"] = [group[0] for group in spelled]

        if ranked is not None:  # "Which bank grew fastest?": compared in code, every figure cited
            text, ranked_evidence, call = ranked
            verification.update(status="computed", llm="skipped", reason="ranked")
            yield self._final(
                text, language, False, ranked_evidence, [call], verification, timings, started
            )
            return

        # What the retrieved chunks say, with the headings and question they sit under.
        retrieved_text = chunks_text(docs)
        gap = coverage_gap(question, evidence, retrieved_text)
        calculation = None
        # A calculation finds (and cites) its own operands, so a question whose figure is not
        # written anywhere ("…减少40%后需要多少根") may still be computed from those that are.
        # Working back or annualising asks for a year or period the notes do not state, and
        # a missing period may be the difference of two stated ones (H1 = 9M − Q3).
        if gap is None or gap in ("figure", "period", "year"):
            t = time.perf_counter()
            k = request.top_k or self.settings.top_k
            if gap == "year":
                calculation = plan_from_stated_period(question, docs, glossary)
            else:

                def retrieve(text: str) -> list[Document]:
                    return self.retriever.invoke(
                        text, k=k, filters=request.filters, language=language
                    )

                calculation = (
                    # a period the notes do not state, unless the question names its own
                    # calculation ("全年增长9%的目标，四季度需要多少": the target's, not FY − 9M)
                    (
                        derived_period(question, docs, glossary)
                        if gap == "period" and not only_computed(question)
                        else None
                    )
                    # a year-on-year change not stated: of the two years' levels stated
                    or (year_on_year(question, docs, glossary) if gap is not None else None)
                    # likewise a quarter-on-quarter one: of this quarter's and the last one's
                    or (sequential_change(question, docs, glossary) if gap is not None else None)
                    # a margin not stated: its profit over its revenue, where those are
                    or (
                        derived_margin(question, docs, glossary, retrieve)
                        if gap in ("figure", "period")
                        else None
                    )
                    or plan_and_compute(question, docs, glossary, retrieve=retrieve)
                )
            timings["calculate"] = _ms(t)
        per_entity = (
            None
            if calculation is not None
            else self._per_entity(question, docs, glossary, retrieved_text, request.filters)
        )
        if per_entity is not None:  # "A's and B's revenues": each company's own figure
            text, cited = per_entity
            verification.update(status="deterministic", llm="skipped", reason="per company")
            yield self._final(text, language, False, cited, [], verification, timings, started)
            return
        pair = None if calculation is not None else level_and_change(question, glossary)
        both = (
            level_and_change_answer(*pair, evidence)
            if pair is not None
            and all(coverage_gap(part, evidence, retrieved_text) is None for part in pair)
            else None
        )
        if both is not None:  # "收入多少，同比增长多少？": the figure and its change, each cited
            verification.update(status="deterministic", llm="skipped", reason="level and change")
            yield self._final(both, language, False, evidence, [], verification, timings, started)
            return
        if calculation is None and gap is None and only_computed(question):
            # The calculation asked could not be made: any figure found is one of its operands
            # (or, for a gap asked in percent, a change of something else), not the answer.
            text = abstention(question, evidence, "figure")
            verification.update(status="abstained", reason="not computed")
            yield self._final(text, language, True, evidence, [], verification, timings, started)
            return
        if gap is not None and calculation is None:
            text = abstention(question, evidence, gap)
            verification.update(status="abstained", reason=gap)
            yield self._final(text, language, True, evidence, [], verification, timings, started)
            return
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

        estimates = self._estimates(question, evidence, request.filters)
        if estimates is not None:  # several notes give this figure: each, latest first
            text, cited = estimates
            verification.update(status="deterministic", llm="skipped", reason="several notes")
            yield self._final(text, language, False, cited, [], verification, timings, started)
            return

        fallback = deterministic_answer(
            question, evidence, partial(_name_in, glossary, question.language)
        )
        if self.llm is not None and use_llm and question.asks_who and not question.asks_amount:
            # The grounding check verifies figures, not names: asked which company, the model
            # misread the quoted sentence on the seed and dev evals (a name, unchecked). The
            # answer is the sentence that names it, quoted.
            verification.update(status="deterministic", llm="not used", reason="name asked")
            yield self._final(
                fallback, language, False, evidence, [], verification, timings, started
            )
            return
        if self.llm is None or not use_llm:
            # No model configured, or the caller asked for an answer without it (e.g. the model
            # is busy): the answer built from the evidence, its figures the notes' own.
            verification.update(
                status="deterministic", llm="off" if self.llm is None else "not used"
            )
            yield self._final(
                fallback, language, False, evidence, [], verification, timings, started
            )
            return

        t = time.perf_counter()
        # The small model reads best with little: the top sentences only (measured ~10 s at
        # ~330 prompt tokens vs 33-45 s at ~1,160 on 2 cores).
        on_topic = [e for e in evidence if about_entity(e, question)] or evidence
        shown = on_topic[: self.settings.llm_evidence_sentences]
        prompt = llm_prompt(shown, language, standalone)
        draft, llm_state = "", "used"
        # Only verified text is streamed: the draft is judged at each sentence end, and what
        # passes every check (the final answer's checks) goes out; the rest waits. So the
        # tokens a client joins are always a prefix of the final answer.
        streamed: Verdict | None = None
        judged_to = streamed_to = 0  # draft offsets: judged up to, streamed up to
        # closing(): a client that leaves mid-draft stops the model now, not at GC.
        with closing(self._generate(prompt)) as pieces:
            for kind, piece in pieces:
                if kind != "token":
                    llm_state = kind
                    continue
                draft += piece
                end = last_sentence_end(draft, judged_to)
                if end is None:
                    continue
                judged_to = end
                verdict = judge(draft[:end], shown, question, evidence, language)
                if verdict.extends(streamed):
                    yield StreamEvent(
                        type="token", text=verdict.text[len(verdict_text(streamed)) :]
                    )
                    streamed, streamed_to = verdict, end
        timings["llm"] = _ms(t)
        verification.update(
            llm=llm_state,
            # The model's tokenizer only when no abandoned call may still be using the model.
            prompt_tokens=_count_tokens(self.llm if llm_state == "used" else None, prompt),
        )

        whole = judge(draft, shown, question, evidence, language) if llm_state == "used" else None
        if whole is not None and whole.extends(streamed, allow_equal=True):
            verification.update(numbers_checked=whole.checked, unsupported=whole.unsupported)
            verification["status"] = "repaired" if whole.repaired else "verified"
            if len(whole.text) > len(verdict_text(streamed)):
                yield StreamEvent(type="token", text=whole.text[len(verdict_text(streamed)) :])
            yield self._final(
                whole.text, language, False, shown, [], verification, timings, started
            )
            return
        reason = f"llm {llm_state}" if whole is None else whole.reason or "markers re-cited"
        if streamed is not None:
            # The verified sentences already streamed answer the question; the rest of the
            # draft did not pass (or never came), so it is dropped, not shown.
            verification.update(
                status="repaired" if streamed.repaired else "verified",
                numbers_checked=streamed.checked,
                # What failed is named by its figures only: the unverified text itself is
                # never sent, in the answer, the stream or this record.
                unsupported=whole.unsupported if whole is not None else [],
                reason=f"the rest of the draft was dropped: {reason}",
                dropped_chars=len(draft[streamed_to:].strip()),
            )
            yield self._final(
                streamed.text, language, False, shown, [], verification, timings, started
            )
            return
        if whole is not None:
            verification.update(numbers_checked=whole.checked, unsupported=whole.unsupported)
        verification.update(status="fallback", reason=reason)
        yield self._final(fallback, language, False, evidence, [], verification, timings, started)

    def _generate(self, prompt: str) -> Generator[tuple[str, str]]:
        """("token", text) pieces of the draft, then ("timeout" | "busy" | "error", "") if the
        LLM did not finish within `llm_timeout_s` of this call.

        The model runs in a worker thread and this generator waits on a queue with the time
        left, so neither a hung server nor an in-process llama.cpp call stuck in C can hold an
        answer past its budget. A call given up on is told to stop at its next token and keeps
        the model until it does; while it does, later questions skip the model at once
        ("busy") instead of queueing behind it.
        """
        deadline = time.monotonic() + self.settings.llm_timeout_s
        stuck = self._abandoned is not None and self._abandoned.is_alive()
        if not self._lock.acquire(timeout=0 if stuck else self.settings.llm_timeout_s):
            yield "busy", ""
            return
        call = _LlmCall(self.llm, prompt, self._lock)  # type: ignore[arg-type]
        finished = False
        try:
            while True:
                try:
                    kind, piece = call.events.get(timeout=max(0.0, deadline - time.monotonic()))
                except queue.Empty:
                    yield "timeout", ""
                    return
                if kind == "done":
                    finished = True
                    return
                if kind == "error":
                    finished = True
                    yield "error", ""
                    return
                if piece:
                    yield "token", piece
                if time.monotonic() > deadline:
                    yield "timeout", ""
                    return
        finally:
            if not finished:  # timed out, or the client went away mid-stream
                call.cancel()
                self._abandoned = call

    def _per_entity(
        self,
        question: Question,
        docs: list[Document],
        glossary: Glossary,
        retrieved_text: str,
        filters: Filters | None,
    ) -> tuple[str, list[Evidence]] | None:
        parts = []
        for sub in per_entity_questions(question):
            evidence = select_evidence(sub, docs, glossary)
            gap = coverage_gap(sub, evidence, retrieved_text)
            picked = best_quantity(sub, evidence) if gap is None else None
            if picked is None:
                # The chunks retrieved for all of them say too little of this one: it is
                # looked up on its own ("A, B and C's NPL ratios", B's in another section).
                own = self.retriever.invoke(
                    text_about(question, sub.entities[0]),
                    k=self.settings.top_k,
                    filters=filters,
                    language=question.language,
                )
                found = select_evidence(sub, own, glossary, limit=8)
                if coverage_gap(sub, found, chunks_text(own)) is None and (
                    better := best_quantity(sub, found)
                ):
                    evidence, picked = found, better
            parts.append((sub, evidence, picked))
        return per_entity_answer(parts, question.language) if parts else None

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
                context=evidence[n - 1].table_context,
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
            status=plain_status(verification.get("status"), abstained, language),  # type: ignore[arg-type]
            timings_ms=timings,
        )
        return StreamEvent(type="final", answer=answer)


def chunks_text(docs: list[Document]) -> str:
    """What retrieved chunks say, with the headings and sections they sit under: where a name
    asked must be written for the chunks to be about it."""
    return " ".join(
        f"{d.metadata.get('heading', '')} {d.metadata.get('section', '')} {d.page_content}"
        for d in docs
    )


class _LlmCall:
    """One streamed LLM call in a daemon thread, feeding `events`: ("token", text)...,
    then ("done", "") or ("error", message). It owns `lock` (taken by the caller) and releases
    it when the call ends; `cancel()` makes it stop at the next token."""

    def __init__(self, llm: BaseChatModel, prompt: str, lock: threading.Lock) -> None:
        self.events: queue.Queue[tuple[str, str]] = queue.Queue()
        self._cancelled = threading.Event()
        self._llm, self._prompt, self._lock = llm, prompt, lock
        self._thread = threading.Thread(target=self._run, name="llm-call", daemon=True)
        self._thread.start()

    def cancel(self) -> None:
        self._cancelled.set()

    def is_alive(self) -> bool:
        return self._thread.is_alive()

    def _run(self) -> None:
        try:
            stream = self._llm.stream([HumanMessage(self._prompt)])
            try:
                for chunk in stream:
                    if self._cancelled.is_set():
                        break
                    piece = chunk.content if isinstance(chunk.content, str) else ""
                    self.events.put(("token", piece))
            finally:
                # Stops llama.cpp's generation / closes the HTTP response.
                close = getattr(stream, "close", None)
                if close is not None:
                    close()
            self.events.put(("done", ""))
        except Exception as exc:  # the LLM server died or refused: the caller falls back
            log.warning("LLM failed: %s", exc)
            self.events.put(("error", str(exc)))
        finally:
            self._lock.release()


def _mentions_any(aliases: list[str], text: str) -> bool:
    return any(mentions(text, a) for a in aliases)


def _names_topics(doc: Document, question: Question) -> bool:
    """Whether a retrieved chunk (its text, headings or note title) names every industry the
    question names."""
    meta = doc.metadata
    text = f"{meta.get('title', '')} {meta.get('heading', '')} {meta.get('section', '')} {doc.page_content}"
    return all(any(mentions(text, a) for a in group) for group in question.topics)


def _ms(since: float) -> float:
    return round((time.perf_counter() - since) * 1000, 1)


def _count_tokens(llm: object, prompt: str) -> int:
    """Prompt tokens by the model's own tokenizer when it has one, else a rough estimate."""
    count = getattr(llm, "count_tokens", None)
    if count is not None:
        try:
            n = count(prompt)
            if isinstance(n, int):
                return n
        except Exception:  # a lazily started or stopped server
            pass
    return len(prompt) // 2


def build_assistant(settings: Settings) -> Assistant:
    return Assistant(settings)


def _framing_words(question: Question, glossary: Glossary) -> set[str]:
    """The words of a which-question beyond its metrics, periods and question words (the
    group it ranks: "internet companies", 航空公司), in either language's forms."""
    rest = without_names(without_periods(question.text), question.metrics)
    words = set(tokenize(rest))
    for alias in glossary.expand(rest, every_language=True):
        words.update(tokenize(alias))
    return words


def _framing_overlap(words: set[str], rows: list[FactRow]) -> int:
    """How many of those words a note's title and headings write."""
    framing = {row.title for row in rows} | {row.heading for row in rows}
    return len(words & set(tokenize(" ".join(framing))))


def _name_in(glossary: Glossary, language: str, entity: str) -> str:
    """An entity's name as an answer in `language` writes it: its first Chinese alias, or its
    first Latin one that is no stock code. A Latin name no note writes (only its pinyin, read
    at ingest) is shown beside the Chinese one: "春秋航空 (Chunqiuhangkong)"."""
    from rag.facts.lexicon import romanised, short_forms

    group = next((g for g in glossary.entities if g and g[0] == entity), [entity])
    chinese = [a for a in group if any("\u4e00" <= ch <= "\u9fff" for ch in a)]
    if language == "zh":
        return next(iter(chinese), entity)
    spelled = {r for a in chinese for form in (a, *short_forms(a)) for r in romanised(form)}
    latin = [a for a in group if a not in chinese and not STOCK_CODE.search(a)]
    written = [a for a in latin if a not in spelled]
    if written:
        return written[0]
    if chinese and latin:
        return f"{chinese[0]} ({latin[0]})"
    return next(iter(chinese), entity)
