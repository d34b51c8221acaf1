"""The document library seen by the API and UI: list, add (upload), delete."""

from __future__ import annotations

from typing import Protocol

from rag.types import DocumentInfo, IngestReport


class RejectedFile(ValueError):
    """An upload that is refused (empty, too big, wrong type, malformed, unsafe name).

    `reason` is a short machine-readable code, the message a sentence for users.
    """

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


class DocumentLibrary(Protocol):
    """`add` validates, stores and ingests one file with the same pipeline as the corpus, and
    raises RejectedFile for bad input without touching the index. `delete` raises KeyError for
    an unknown doc_id."""

    def list(self) -> list[DocumentInfo]: ...

    def add(self, filename: str, data: bytes) -> IngestReport: ...

    def delete(self, doc_id: str) -> IngestReport: ...
