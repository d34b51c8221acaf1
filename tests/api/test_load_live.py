"""benchmarks/load_bench.py against the real server: `python -m api` started by the script on
a freshly ingested index, deterministic mode, 20 clients for 10 s.

The hash embedder keeps it near a minute: with e5 the ingest alone took 123 s on the shared
2-core box. Admission, the event loop, uvicorn and the answering path are the real ones."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from rag.config import REPO_ROOT

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_twenty_clients_get_answers_or_a_polite_503(tmp_path: Path) -> None:
    out = tmp_path / "load.json"
    run = subprocess.run(
        [
            sys.executable,
            str(REPO_ROOT / "benchmarks" / "load_bench.py"),
            "--mode=deterministic",
            "--clients=20",
            "--seconds=10",
            f"--data-dir={tmp_path / 'data'}",
            f"--out={out}",
        ],
        cwd=REPO_ROOT,
        env={**os.environ, "RNA_EMBEDDER": "fake"},
        capture_output=True,
        text=True,
        timeout=240,
    )
    report = json.loads(out.read_text(encoding="utf-8"))
    figures = report["modes"]["deterministic"]
    assert run.returncode == 0, (run.stdout, run.stderr, figures["errors"])
    assert figures["server_errors"] == 0  # no 5xx besides 503 + Retry-After
    assert figures["overflow_without_retry_after"] == 0
    assert figures["dropped"] == 0 and figures["timeouts"] == 0
    assert figures["statuses"].get("200", 0) >= 20, figures["statuses"]
    assert figures["bad_bodies"] == 0
    # Overflow is refused at once, never parked until the client gives up.
    assert figures["overflow_latency_ms_max"] < 2000
