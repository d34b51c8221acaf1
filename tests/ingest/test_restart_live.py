"""A restart reuses the persisted index: nothing is re-embedded, the keyword index is not
rebuilt, and a freshly started API answers from what is on disk.

Real e5 embedder, embedded Chroma, separate processes (`python -m ingest`, `python -m api`)
as a user runs them; RNA_LLM=none keeps the API start cheap (the LLM is not what persists).
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from langchain_core.embeddings import Embeddings

from ingest.pipeline import Indexer
from rag.config import REPO_ROOT, Settings
from rag.embeddings import make_embeddings
from rag.retrieve.store import collection_version

pytestmark = [pytest.mark.integration, pytest.mark.slow]

REPORT = re.compile(r"chunks added (\d+), updated (\d+), deleted (\d+), unchanged (\d+)")


class CountingEmbeddings(Embeddings):
    """Counts every text handed to the real embedder (which loads only on its first call)."""

    def __init__(self, inner: Embeddings) -> None:
        self.inner = inner
        self.documents = 0
        self.queries = 0

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        self.documents += len(texts)
        return self.inner.embed_documents(texts)

    def embed_query(self, text: str) -> list[float]:
        self.queries += 1
        return self.inner.embed_query(text)


def _env(settings: Settings, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONPATH": str(REPO_ROOT),
        "RNA_CORPUS_DIR": str(settings.corpus_dir),
        "RNA_DATA_DIR": str(settings.data_dir),
        "RNA_EMBEDDER": "e5",
        "RNA_LLM": "none",
        **extra,
    }


def _ingest_process(settings: Settings, cwd: Path) -> tuple[dict[str, int], float]:
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "ingest", "--quiet"],
        env=_env(settings),
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
        check=True,
    )
    match = REPORT.search(done.stdout)
    assert match, done.stdout
    keys = ("added", "updated", "deleted", "unchanged")
    return dict(zip(keys, map(int, match.groups()), strict=True)), time.monotonic() - started


def _snapshot(settings: Settings) -> dict[str, Any]:
    """Chroma count + version stamp and the keyword index's stamp, read from disk."""
    indexer = Indexer(
        settings, embeddings=make_embeddings(settings.model_copy(update={"embedder": "fake"}))
    )
    return {
        "chunks": indexer.chunk_count(),
        "version": collection_version(indexer.vector_store),  # type: ignore[arg-type]
        "keyword": indexer.keyword_index.stored_version(),
    }


def test_a_restart_reuses_the_index_without_embedding_anything(
    tmp_path: Path, corpus_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        corpus_dir=corpus_copy,
        data_dir=tmp_path / "data",
        embedder="e5",
        llm="none",
        environment="test",
    )
    first, first_s = _ingest_process(settings, tmp_path)
    assert first["added"] > 0 and first["unchanged"] == 0
    before = _snapshot(settings)
    assert before["chunks"] == first["added"] and before["version"] == before["keyword"]

    second, second_s = _ingest_process(settings, tmp_path)  # a new process on the same disk
    assert second == {"added": 0, "updated": 0, "deleted": 0, "unchanged": first["added"]}

    # In this process, counting: the real e5 embedder is never even asked (nor loaded).
    counting = CountingEmbeddings(make_embeddings(settings))
    report = Indexer(settings, embeddings=counting).ingest_all()
    assert (report.added, report.updated, report.deleted) == (0, 0, 0)
    assert report.unchanged == first["added"]
    assert counting.documents == 0 and counting.queries == 0
    assert _snapshot(settings) == before  # same chunks, nothing re-stamped or rebuilt

    # A fresh API process answers from the index on disk.
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    log_path = tmp_path / "api.log"
    with log_path.open("wb") as log:
        api = subprocess.Popen(
            [sys.executable, "-m", "api"],
            env=_env(settings, RNA_HOST="127.0.0.1", RNA_PORT=str(port)),
            cwd=tmp_path,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        started = time.monotonic()
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=120) as client:
            while True:
                try:
                    if client.get("/readyz").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert api.poll() is None, log_path.read_text(errors="replace")[-2000:]
                assert time.monotonic() - started < 180, "the API did not get ready"
                time.sleep(0.3)
            ready_s = time.monotonic() - started
            documents = client.get("/v1/documents").json()
            body = client.post("/v1/ask", json={"question": "英伟达2026年AEC需求量是多少？"})
    finally:
        api.terminate()
        api.wait(timeout=30)
    assert body.status_code == 200, body.text
    answer = body.json()
    assert "170万根" in answer["answer"] and answer["citations"]
    assert answer["citations"][0]["source"] == "003_558daa5f5094b1d2.txt"
    assert documents["count"] == 3
    assert _snapshot(settings) == before  # serving changed nothing either

    with capsys.disabled():
        print(
            f"\nfirst ingest {first['added']} chunks in {first_s:.1f} s; restarted ingest "
            f"added 0 / unchanged {second['unchanged']} in {second_s:.1f} s; in-process rerun "
            f"{report.seconds:.2f} s with {counting.documents} texts embedded; API ready "
            f"{ready_s:.1f} s after start, answer {answer['timings_ms']['total']:.0f} ms"
        )
