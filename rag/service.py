"""The one answering entry point that api/, ui/ and eval/ talk to."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol

from rag.types import Answer, AskRequest, StreamEvent


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
