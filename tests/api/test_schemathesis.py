"""Property-based fuzzing of the OpenAPI schema (schemathesis CLI) against a live server.

Checks everything but `positive_data_acceptance`: some schema-valid requests are refused on
purpose (a blank question, an empty upload, a chat whose last message isn't the user's). So
every response must be a non-5xx whose status, content type, headers and body match the
schema, and every public operation is exercised.

Three servers: the app with fakes (with and without API keys), and the app with the real
answering service and document library (hash embedder, no LLM, a tmp copy of the corpus) —
the fakes cannot find a crash in retrieval or ingest, the real ones can (a `filters.date_from`
that is not a date once reached `int()` in the retriever: a 500 this test found).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from api.main import create_app
from ingest.library import CorpusLibrary
from ingest.pipeline import Indexer
from rag.assistant import Assistant
from tests.api.conftest import api_settings, serve
from tests.conftest import CORPUS
from tests.fakes import FakeAssistant, FakeLibrary, HashEmbeddings

pytestmark = [pytest.mark.integration, pytest.mark.slow]

SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")
# Every public operation; Slack's are left out of the schema (Slack signs them, so a fuzzer
# only ever sees 401s: tests/api/test_hostile.py covers them).
OPERATIONS = {
    "GET /healthz",
    "GET /readyz",
    "POST /v1/ask",
    "POST /v1/ask/stream",
    "GET /v1/models",
    "POST /v1/chat/completions",
    "GET /v1/documents",
    "POST /v1/documents",
    "DELETE /v1/documents/{doc_id}",
    "GET /v1/documents/{doc_id}/facts",
    "GET /v1/facts",
    "POST /v1/feedback",
    "GET /v1/feedback",
    "POST /v1/grid",
    "GET /v1/grid/{job_id}",
    "POST /v1/grid/{job_id}/cancel",
    "POST /v1/grid/{job_id}/resume",
}


def real_app(tmp_path: Path) -> FastAPI:
    corpus = tmp_path / "corpus"
    shutil.copytree(CORPUS, corpus)
    settings = api_settings(
        corpus_dir=corpus,
        data_dir=tmp_path / "data",
        embedder="fake",
        llm="none",
        max_upload_bytes=2048,
    )
    embeddings = HashEmbeddings()
    indexer = Indexer(settings, embeddings=embeddings)
    indexer.ingest_all()
    service = Assistant(settings, embeddings=embeddings, vector_store=indexer.vector_store)
    library = CorpusLibrary(settings, indexer)
    return create_app(settings, service=service, library=library, mount_ui=False)


@pytest.mark.parametrize(
    ("backend", "api_keys"),
    [("fakes", []), ("fakes", ["fuzz-key"]), ("real", [])],
    ids=["fakes-no-auth", "fakes-auth", "real-no-auth"],
)
def test_schema_fuzzing_finds_no_server_error(
    backend: str, api_keys: list[str], tmp_path: Path
) -> None:
    if backend == "real":
        app = real_app(tmp_path)
    else:
        settings = api_settings(api_keys=api_keys, max_upload_bytes=2048)
        app = create_app(settings, service=FakeAssistant(), library=FakeLibrary(), mount_ui=False)
    auth = ["-H", "Authorization: Bearer fuzz-key"] if api_keys else []
    with serve(app) as server:
        schema = httpx.get(f"{server.url}/openapi.json", timeout=10).json()
        operations = {f"{m.upper()} {path}" for path, ops in schema["paths"].items() for m in ops}
        assert operations == OPERATIONS
        result = subprocess.run(
            [
                str(SCHEMATHESIS),
                "run",
                f"{server.url}/openapi.json",
                "--checks",
                "all",
                "--exclude-checks",
                "positive_data_acceptance",
                "--max-examples",
                "25",
                "--seed",
                "7",
                "--workers",
                "1",
                "--request-timeout",
                "20",
                "--report-dir",
                str(tmp_path / "report"),
                *auth,
            ],
            capture_output=True,
            text=True,
            timeout=600,
            cwd=tmp_path,  # its cache folder lands here, not in the work tree
        )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-6000:]
    # e.g. "Selected: 9/9" and "Tested: 9": every operation was exercised.
    selected = re.search(r"Selected: (\d+)/(\d+)", output)
    tested = re.search(r"Tested: (\d+)", output)
    assert selected and tested, output[-3000:]
    assert int(selected[1]) == int(selected[2]) == int(tested[1]) == len(OPERATIONS)
    # e.g. "675 generated, 675 passed": every case ran, none failed a check (incl. no 5xx).
    counts = re.search(r"(\d+) generated, (\d+) passed", output)
    assert counts and int(counts[1]) == int(counts[2]) >= 100, output[-3000:]
