"""Idempotent indexing against a real (embedded or server) Chroma, with the hash embedder."""

from __future__ import annotations

import os
import random
import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from langchain_core.embeddings import DeterministicFakeEmbedding

from ingest.library import CorpusLibrary, RejectedFile
from ingest.pipeline import Indexer
from rag.config import REPO_ROOT, Settings
from rag.retrieve.store import all_chunk_texts

NV_FACT = "2026年预计增长至170万根左右"


def _indexer(settings: Settings) -> Indexer:
    return Indexer(settings, embeddings=DeterministicFakeEmbedding(size=384))


def _state(indexer: Indexer) -> tuple[list[str], list[str]]:
    ids, _ = all_chunk_texts(indexer.vector_store)
    return sorted(ids), sorted(indexer.records.list_keys())


@pytest.mark.integration
def test_reingest_changes_nothing_and_keyword_index_matches_chroma(fake_settings):
    indexer = _indexer(fake_settings)
    first = indexer.ingest_all()
    assert first.documents == 3 and first.added > 40 and first.deleted == 0
    before = _state(indexer)
    version = indexer.keyword_index.version

    second = _indexer(fake_settings).ingest_all()  # a new process would start like this
    assert (second.added, second.updated, second.deleted) == (0, 0, 0)
    assert second.unchanged == first.added
    assert _state(indexer) == before
    assert before[0] == before[1]  # Chroma ids == record-manager keys

    keyword = _indexer(fake_settings).keyword_index
    assert keyword.load() and keyword.version == version
    assert len(keyword) == len(before[0])
    hits = keyword.search("NV 2026 AEC 需求量", 5)
    texts = dict(zip(*all_chunk_texts(indexer.vector_store), strict=True))
    assert any(NV_FACT in texts[chunk_id] for chunk_id, _ in hits)


@pytest.mark.integration
def test_edited_document_replaces_its_chunks_and_removed_one_is_deleted(fake_settings):
    indexer = _indexer(fake_settings)
    indexer.ingest_all()
    note = fake_settings.corpus_dir / "003_558daa5f5094b1d2.txt"
    note.write_text(
        note.read_text(encoding="utf-8").replace("170万根", "180万根"), encoding="utf-8"
    )
    (fake_settings.corpus_dir / "000_b074af76218b3ff2.txt").unlink()

    report = indexer.ingest_all()
    assert report.added >= 1 and report.deleted >= report.added

    ids, texts = all_chunk_texts(indexer.vector_store)
    joined = "\n".join(texts)
    assert "180万根" in joined and "2026年预计增长至170万根" not in joined
    assert "光模块行业为何" not in joined
    assert {d.doc_id for d in indexer.documents()} == {
        "001_96e81724b7ef4fbb.txt",
        "003_558daa5f5094b1d2.txt",
    }
    assert sorted(ids) == sorted(indexer.records.list_keys())
    assert len(indexer.keyword_index) == len(ids)


@pytest.mark.integration
def test_upload_and_delete_through_the_library(fake_settings):
    indexer = _indexer(fake_settings)
    indexer.ingest_all()
    library = CorpusLibrary(fake_settings, indexer)
    count = indexer.chunk_count()

    report = library.add(
        "../../etc/新笔记.md",
        "---\ntitle: 新笔记\ndate: 2026-01-05\n---\n英伟达明年需求200万根。".encode(),
    )
    assert report.added == 1
    stored = fake_settings.data_dir / "uploads" / "新笔记.md"
    assert stored.is_file()
    assert not (fake_settings.data_dir.parent / "etc").exists()
    doc = next(d for d in library.list() if d.doc_id == "uploads/新笔记.md")
    assert (doc.title, doc.date) == ("新笔记", "2026-01-05")
    # A later full ingest keeps the upload.
    assert indexer.ingest_all().deleted == 0

    for name, data, reason in [
        ("x.exe", b"MZ", "unsupported_type"),
        ("x.pdf", b"MZ\x90 not a pdf", "malformed"),
        ("x.txt", b"", "empty"),
        ("x.txt", b"a" * (fake_settings.max_upload_bytes + 1), "too_large"),
    ]:
        with pytest.raises(RejectedFile) as err:
            library.add(name, data)
        assert err.value.reason == reason
    assert indexer.chunk_count() == count + 1
    assert not (fake_settings.data_dir / "uploads" / "x.pdf").exists()

    library.delete("uploads/新笔记.md")
    assert indexer.chunk_count() == count and not stored.exists()
    with pytest.raises(KeyError):
        library.delete("uploads/新笔记.md")


_SLOW_INGEST = textwrap.dedent(
    """
    import sys, time
    from langchain_core.embeddings import DeterministicFakeEmbedding
    from ingest.pipeline import Indexer
    from rag.config import Settings

    class Slow(DeterministicFakeEmbedding):
        def embed_documents(self, texts):
            time.sleep(0.1 * len(texts))
            return super().embed_documents(texts)

    settings = Settings(corpus_dir=sys.argv[1], data_dir=sys.argv[2], llm="none")
    indexer = Indexer(settings, embeddings=Slow(size=384))
    indexer.batch_size = 8  # many small writes, so a kill lands between (and inside) them
    print(indexer.ingest_all())
    """
)


@pytest.mark.integration
@pytest.mark.slow
def test_kill_9_mid_ingest_then_rerun_equals_a_clean_ingest(tmp_path, corpus_copy):
    script = tmp_path / "slow_ingest.py"
    script.write_text(_SLOW_INGEST)
    clean_dir, crash_dir = tmp_path / "clean", tmp_path / "crash"
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}

    def run(data_dir: Path) -> None:
        subprocess.run(
            [sys.executable, str(script), str(corpus_copy), str(data_dir)],
            env=env,
            check=True,
            capture_output=True,
            timeout=300,
        )

    run(clean_dir)
    reference = _state(_indexer(Settings(corpus_dir=corpus_copy, data_dir=clean_dir)))

    rng = random.Random(7)
    kills = 0
    for _ in range(20):
        proc = subprocess.Popen(
            [sys.executable, str(script), str(corpus_copy), str(crash_dir)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(rng.uniform(1.0, 7.0))
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            kills += 1
        proc.wait()
    assert kills >= 10  # most runs really were cut off mid-way

    run(crash_dir)
    crashed = _indexer(Settings(corpus_dir=corpus_copy, data_dir=crash_dir))
    assert _state(crashed) == reference
    keyword = crashed.keyword_index
    assert keyword.load() and len(keyword) == len(reference[0])


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def chroma_server(tmp_path):
    port = _free_port()
    chroma = Path(sys.executable).parent / "chroma"
    proc = subprocess.Popen(
        [
            str(chroma),
            "run",
            "--path",
            str(tmp_path / "server"),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "ANONYMIZED_TELEMETRY": "False"},
    )
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.3)
    else:
        proc.kill()
        pytest.fail("chroma run did not start")
    yield port
    proc.terminate()
    proc.wait(timeout=30)


@pytest.mark.integration
def test_server_mode_indexes_the_same_chunks_as_embedded_mode(fake_settings, chroma_server):
    embedded = _indexer(fake_settings)
    embedded.ingest_all()
    http_settings = fake_settings.model_copy(
        update={
            "chroma_mode": "http",
            "chroma_port": chroma_server,
            "data_dir": fake_settings.data_dir / "http",
        }
    )
    served = _indexer(http_settings)
    report = served.ingest_all()
    assert report.added == embedded.chunk_count()
    assert _state(served)[0] == _state(embedded)[0]
    assert served.ingest_all().unchanged == report.added
    # The hash embedder maps equal texts to equal vectors: a chunk's own text finds it.
    _, texts = all_chunk_texts(embedded.vector_store)
    nv_chunk = next(t for t in texts if NV_FACT in t)
    found = served.vector_store.similarity_search(nv_chunk, k=1)
    assert found and found[0].page_content == nv_chunk
    assert found[0].metadata["source"] == "003_558daa5f5094b1d2.txt"


@pytest.mark.integration
def test_chunks_are_embedded_and_keyword_indexed_with_their_headings(tmp_path, fake_settings):
    """A chunk deep in one company's section is found for that company: its vector and its
    keyword entry read the headings above it, while Chroma stores (and citations quote) the
    chunk's own text."""
    from tests.fakes import HashEmbeddings

    seen: list[str] = []

    class Recording(HashEmbeddings):
        def embed_documents(self, texts: list[str]) -> list[list[float]]:
            seen.extend(texts)
            return super().embed_documents(texts)

    note = "# Steel wrap\n\n## Baosteel\n\n" + "Prices held. " * 30 + "\n\nCrude output was 13.0mt."
    indexer = Indexer(fake_settings, embeddings=Recording())
    indexer.ingest_document("uploads/steel.md", "steel.md", note.encode())
    ids, texts = all_chunk_texts(indexer.vector_store)
    crude = next(t for t in texts if "13.0mt" in t)
    assert "Baosteel" not in crude  # its own text, no heading
    assert any(s.startswith("Steel wrap › Baosteel\n") and "13.0mt" in s for s in seen)
    hits = indexer.keyword_index.search("Baosteel crude output", k=3)
    assert hits and any("13.0mt" in texts[ids.index(h[0])] for h in hits)
