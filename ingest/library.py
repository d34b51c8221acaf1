"""The document library seen by the API and UI: list, add (upload), delete."""

from __future__ import annotations

import os
import re
import threading
import unicodedata
from pathlib import Path, PurePosixPath
from typing import Protocol

from ingest.loaders import SUPPORTED_SUFFIXES, LoadError
from ingest.pipeline import NOT_DOCUMENTS, UPLOADS, Indexer, is_supported
from rag.config import Settings
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


_SAFE_NAME = re.compile(r"[^\w.\-\u3400-\u9fff ]+")
_MAX_NAME_CHARS = 120
# File systems allow 255 bytes a name (a CJK character is 3 in UTF-8), and the staging file
# ".{name}.part" needs room too.
_MAX_NAME_BYTES = 200


def safe_filename(filename: str) -> str:
    """The base name with path parts and odd characters removed ("../../x.txt" -> "x.txt"),
    fullwidth look-alikes folded first (NFKC: "．ｔｘｔ" -> ".txt"), shortened to 120 characters
    and 200 UTF-8 bytes with its extension kept."""
    name = unicodedata.normalize("NFKC", filename)
    name = PurePosixPath(name.replace("\\", "/")).name
    name = _SAFE_NAME.sub("_", name).strip(" .")
    if not name or name in {".", ".."}:
        raise RejectedFile("bad_name", f"{filename[:200]!r} is not a usable file name")
    stem, suffix = os.path.splitext(name)
    suffix = suffix[:16]
    stem = stem[: _MAX_NAME_CHARS - len(suffix)]
    while len((stem + suffix).encode()) > _MAX_NAME_BYTES:
        stem = stem[:-1]
    name = stem.rstrip(" .") + suffix
    if name in NOT_DOCUMENTS:  # a full ingest skips these names: the upload would vanish
        raise RejectedFile("reserved_name", f"{name} is a reserved file name")
    return name


class CorpusLibrary:
    """Documents on disk (corpus folder + uploads) kept in step with the index."""

    def __init__(self, settings: Settings, indexer: Indexer | None = None) -> None:
        self.settings = settings
        self.indexer = indexer or Indexer(settings)
        self._lock = threading.Lock()

    def list(self) -> list[DocumentInfo]:
        return self.indexer.documents()

    def add(self, filename: str, data: bytes) -> IngestReport:
        name = safe_filename(filename)
        if not is_supported(name):
            raise RejectedFile("unsupported_type", f"{name}: only {', '.join(SUPPORTED_SUFFIXES)}")
        if len(data) > self.settings.max_upload_bytes:
            raise RejectedFile(
                "too_large",
                f"{name} is {len(data)} bytes; the limit is {self.settings.max_upload_bytes}",
            )
        uploads = (self.settings.data_dir / UPLOADS).resolve()
        doc_id = f"{UPLOADS}/{name}"
        with self._lock:
            try:
                # Index first: a file that fails to load is never written to disk.
                report = self.indexer.ingest_document(doc_id, name, data)
            except LoadError as exc:
                raise RejectedFile(exc.reason, str(exc)) from exc
            uploads.mkdir(parents=True, exist_ok=True)
            target = uploads / name
            staging = uploads / f".{name}.part"
            staging.write_bytes(data)
            os.replace(staging, target)
        return report

    def delete(self, doc_id: str) -> IngestReport:
        with self._lock:
            report = self.indexer.delete_document(doc_id)
            path = self._path_of(doc_id)
            if path is not None:
                path.unlink(missing_ok=True)
        return report

    def _path_of(self, doc_id: str) -> Path | None:
        """The file behind a doc id, only if it lies inside our own folders."""
        if doc_id.startswith(f"{UPLOADS}/"):
            root, relative = self.settings.data_dir / UPLOADS, doc_id[len(UPLOADS) + 1 :]
        else:
            root, relative = self.settings.corpus_dir, doc_id
        root = root.resolve()
        path = (root / relative).resolve()
        return path if path.is_relative_to(root) and path.is_file() else None


def build_library(settings: Settings, indexer: Indexer | None = None) -> CorpusLibrary:
    return CorpusLibrary(settings, indexer)
