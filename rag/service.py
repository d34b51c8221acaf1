"""The one answering entry point that api/, ui/ and eval/ talk to."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol, runtime_checkable

from rag.types import Answer, AskRequest, FactRow, StreamEvent


class AnsweringService(Protocol):
    """Answers questions over the indexed corpus.

    `ask` never raises for an unanswerable question: it returns an abstained Answer.
    `stream` yields zero or more `token` events then exactly one `final` event. Tokens carry
    only verified text: joined, they are a prefix of the final answer (often all of it).
    `use_llm=False` answers without the model (the deterministic or computed answer), e.g.
    when the model is busy; the answer says so in `verification["llm"]`.
    `readiness` names each heavy component and whether it is loaded and reachable.
    """

    def ask(self, request: AskRequest, *, use_llm: bool = True) -> Answer: ...

    def stream(self, request: AskRequest, *, use_llm: bool = True) -> Iterator[StreamEvent]: ...

    def readiness(self) -> dict[str, bool]: ...


@runtime_checkable
class FactTables(Protocol):
    """The notes' figures as rows (rag/facts/rows.py), from the facts derived at indexing.

    `document_facts` is None for a document the index does not hold (a document without
    figures has no rows). `find_facts` filters every note's rows: `entity` and `metric` match
    any alias of their glossary group, case-insensitively; `period` is a year, a span or both
    ("2025", "9m", "2025Q3"). Relative years are resolved per note (明年 in a 2025 note is 2026).
    """

    def document_facts(self, doc_id: str) -> list[FactRow] | None: ...

    def find_facts(
        self, *, entity: str | None = None, metric: str | None = None, period: str | None = None
    ) -> list[FactRow]: ...
