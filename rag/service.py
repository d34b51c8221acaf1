"""The one answering entry point that api/, ui/ and eval/ talk to."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol

from rag.types import Answer, AskRequest, StreamEvent


class AnsweringService(Protocol):
    """Answers questions over the indexed corpus.

    `ask` never raises for an unanswerable question: it returns an abstained Answer.
    `stream` yields zero or more `token` events (draft text) then exactly one `final` event whose
    answer is the verified one (it may differ from the draft).
    `readiness` names each heavy component and whether it is loaded and reachable.
    """

    def ask(self, request: AskRequest) -> Answer: ...

    def stream(self, request: AskRequest) -> Iterator[StreamEvent]: ...

    def readiness(self) -> dict[str, bool]: ...
