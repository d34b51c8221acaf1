"""Replicas sharing one `chroma run` server see each other's ingests without a restart.

Chroma is the source of truth; each replica's keyword index is derived from it and stamped with
the collection's ingest version. Replica A (another process, its own data dir as on another
host) uploads or deletes a document; replica B's next keyword search reflects it. B checks the
stamp at most every `VERSION_CHECK_SECONDS`, so that is the staleness bound the tests allow.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

import rag.retrieve.store
from ingest.pipeline import Indexer
from rag.assistant import Assistant
from rag.config import REPO_ROOT, Settings
from rag.retrieve.hybrid import REBUILD_WAIT_SECONDS, VERSION_CHECK_SECONDS
from rag.retrieve.store import bump_collection_version, collection_version, make_vector_store
from tests.fakes import HashEmbeddings

pytestmark = [pytest.mark.integration, pytest.mark.slow]

NEW_NAME = "zetuo-call.md"
NEW_DOC_ID = f"uploads/{NEW_NAME}"
NEW_NOTE = (
    "# 泽拓科技专家交流\n\n"
    "日期：2026-01-15\n\n"
    "泽拓科技2026年ZX9光模块出货量预计为88万只，主要供应给北美云厂商。\n"
)
QUESTION = "泽拓科技ZX9光模块出货量"

# Replica A's writes run in a process of their own, through the same library the API uses.
REPLICA_A = textwrap.dedent(
    """
    import json, sys
    from ingest.library import CorpusLibrary
    from rag.config import Settings

    action, *args = sys.argv[1:]
    library = CorpusLibrary(Settings())
    if action == "ingest_all":
        report = library.indexer.ingest_all()
    elif action == "add":
        report = library.add(args[0], args[1].encode("utf-8"))
    else:
        report = library.delete(args[0])
    print(report.model_dump_json())
    """
)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_for_port(port: int, proc: subprocess.Popen[bytes], timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"process exited with {proc.returncode} before listening on {port}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.3)
    pytest.fail(f"nothing listened on {port} within {timeout} s")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@pytest.fixture
def chroma_port(tmp_path: Path) -> Iterator[int]:
    """A real `chroma run` server in a subprocess, on a free port, storing under tmp_path."""
    port = _free_port()
    chroma = Path(sys.executable).parent / "chroma"
    proc = subprocess.Popen(
        [str(chroma), "run", "--path", str(tmp_path / "chroma-server"), "--host", "127.0.0.1"]
        + ["--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "ANONYMIZED_TELEMETRY": "False"},
    )
    _wait_for_port(port, proc)
    yield port
    _stop(proc)


def _replica_env(corpus: Path, data_dir: Path, chroma_port: int, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONPATH": str(REPO_ROOT),
        "RNA_ENVIRONMENT": "test",
        "RNA_CORPUS_DIR": str(corpus),
        "RNA_DATA_DIR": str(data_dir),
        "RNA_CHROMA_MODE": "http",
        "RNA_CHROMA_HOST": "127.0.0.1",
        "RNA_CHROMA_PORT": str(chroma_port),
        "RNA_EMBEDDER": "fake",
        "RNA_LLM": "none",
        **extra,
    }


def _run_replica_a(env: dict[str, str], *args: str) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-c", REPLICA_A, *args],
        env=env,
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def _keyword_hits(assistant: Assistant, question: str) -> list[str]:
    """Sources of the chunks B's keyword leg ranked (the hash embedder makes dense noise)."""
    docs = assistant.retriever.invoke(question, k=5)
    return [str(d.metadata["source"]) for d in docs if d.metadata["keyword_rank"] >= 0]


def _after_check_window(last_query: float) -> None:
    """B re-reads the stamp at most every VERSION_CHECK_SECONDS: wait out what is left of it."""
    time.sleep(max(0.0, VERSION_CHECK_SECONDS - (time.monotonic() - last_query)) + 0.1)


def test_keyword_index_follows_another_replicas_ingest_and_delete(
    tmp_path: Path, corpus_copy: Path, chroma_port: int
) -> None:
    env_a = _replica_env(corpus_copy, tmp_path / "replica-a", chroma_port)
    seeded = _run_replica_a(env_a, "ingest_all")
    assert seeded["added"] > 40

    settings_b = Settings(
        _env_file=None,  # type: ignore[call-arg]
        environment="test",
        corpus_dir=corpus_copy,
        data_dir=tmp_path / "replica-b",  # nothing shared with A but the Chroma server
        chroma_mode="http",
        chroma_port=chroma_port,
        embedder="fake",
        llm="none",
    )
    replica_b = Assistant(settings_b)
    assert "003_558daa5f5094b1d2.txt" in _keyword_hits(replica_b, "英伟达2026年AEC需求量")
    assert NEW_DOC_ID not in _keyword_hits(replica_b, QUESTION)
    version_before = replica_b.retriever.keyword_index.version
    last_query = time.monotonic()

    added = _run_replica_a(env_a, "add", NEW_NAME, NEW_NOTE)
    assert added["added"] >= 1
    _after_check_window(last_query)
    hits = _keyword_hits(replica_b, QUESTION)  # the first query since A's upload
    last_query = time.monotonic()
    assert hits and hits[0] == NEW_DOC_ID
    fresh = make_vector_store(settings_b, HashEmbeddings())  # a new client: the server's stamp
    assert replica_b.retriever.keyword_index.version == collection_version(fresh)
    assert replica_b.retriever.keyword_index.version != version_before
    # B's own index was rebuilt from Chroma, in B's own data dir (nothing copied from A).
    assert (settings_b.keyword_dir / str(collection_version(fresh))).is_dir()

    deleted = _run_replica_a(env_a, "delete", NEW_DOC_ID)
    assert deleted["deleted"] >= 1
    _after_check_window(last_query)
    assert NEW_DOC_ID not in _keyword_hits(replica_b, QUESTION)
    assert "003_558daa5f5094b1d2.txt" in _keyword_hits(replica_b, "英伟达2026年AEC需求量")


def _serve_api(env: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "api"],
        env={**env, "RNA_PORT": str(port)},
        cwd=REPO_ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    _wait_for_port(port, proc, timeout=180)
    deadline = time.monotonic() + 180
    while httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=10).status_code != 200:
        if time.monotonic() > deadline:
            _stop(proc)
            pytest.fail(f"replica on {port} not ready within 180 s")
        time.sleep(0.5)
    return proc


def test_two_api_processes_behind_one_chroma_server(
    tmp_path: Path, corpus_copy: Path, chroma_port: int
) -> None:
    """The deployment shape: two `python -m api` replicas; upload to one, ask the other."""
    env_a = _replica_env(corpus_copy, tmp_path / "api-a", chroma_port)
    env_b = _replica_env(corpus_copy, tmp_path / "api-b", chroma_port)
    _run_replica_a(env_a, "ingest_all")
    port_a, port_b = _free_port(), _free_port()
    api_a = _serve_api(env_a, port_a)
    try:
        api_b = _serve_api(env_b, port_b)
        try:
            with (
                httpx.Client(base_url=f"http://127.0.0.1:{port_a}", timeout=60) as a,
                httpx.Client(base_url=f"http://127.0.0.1:{port_b}", timeout=60) as b,
            ):
                question = {"question": "泽拓科技2026年ZX9光模块出货量是多少？"}
                before = b.post("/v1/ask", json=question)
                assert before.status_code == 200, before.text
                assert NEW_DOC_ID not in {c["source"] for c in before.json()["citations"]}
                asked = time.monotonic()

                upload = a.post("/v1/documents", files={"file": (NEW_NAME, NEW_NOTE.encode())})
                assert upload.status_code in (200, 201), upload.text
                _after_check_window(asked)
                after = b.post("/v1/ask", json=question)
                assert after.status_code == 200, after.text
                answer = after.json()
                assert NEW_DOC_ID in {c["source"] for c in answer["citations"]}, answer
                assert "88" in answer["answer"]
                listed = {d["doc_id"] for d in b.get("/v1/documents").json()["documents"]}
                assert NEW_DOC_ID in listed  # B lists what A uploaded: it reads Chroma
        finally:
            _stop(api_b)
    finally:
        _stop(api_a)


def test_a_slow_rebuild_runs_once_while_queries_use_the_previous_index(
    tmp_path: Path, fake_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """At 100k chunks a rebuild takes minutes: queries must neither wait for it nor start
    one rebuild each. (Embedded Chroma; another client plays the other replica.)"""
    Indexer(fake_settings, embeddings=HashEmbeddings()).ingest_all()
    replica = Assistant(fake_settings, embeddings=HashEmbeddings())
    assert _keyword_hits(replica, "英伟达2026年AEC需求量")
    old_version = replica.retriever.keyword_index.version

    started, release = [], threading.Event()
    real_rebuild = rag.retrieve.store.rebuild_keyword_index

    def slow_rebuild(*args: object) -> None:
        started.append(time.monotonic())
        release.wait(60)
        real_rebuild(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(rag.retrieve.store, "rebuild_keyword_index", slow_rebuild)
    other = make_vector_store(fake_settings, HashEmbeddings())  # another replica's client
    new_version = bump_collection_version(other)
    time.sleep(VERSION_CHECK_SECONDS + 0.1)

    def timed_query(_: int) -> float:
        t = time.monotonic()
        assert _keyword_hits(replica, "英伟达2026年AEC需求量")  # the previous index answers
        return time.monotonic() - t

    first = timed_query(0)  # notices the new stamp, starts the rebuild, waits a bounded time
    assert REBUILD_WAIT_SECONDS - 0.5 < first < REBUILD_WAIT_SECONDS + 5
    time.sleep(VERSION_CHECK_SECONDS + 0.1)  # past the next check: nothing new may start
    with ThreadPoolExecutor(4) as pool:
        latencies = list(pool.map(timed_query, range(8)))
    assert max(latencies) < 3.0
    assert len(started) == 1
    assert replica.retriever.keyword_index.version == old_version

    release.set()
    deadline = time.monotonic() + 30
    while replica.retriever.keyword_index.version != new_version:
        assert time.monotonic() < deadline, "the background rebuild never swapped in"
        time.sleep(0.1)
    assert len(started) == 1
