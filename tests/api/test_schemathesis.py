"""Property-based fuzzing of the OpenAPI schema (schemathesis CLI) against a live server.

Checks everything but `positive_data_acceptance`: some schema-valid requests are refused on
purpose (a blank question, an empty upload, a chat whose last message isn't the user's)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from api.main import create_app
from tests.api.conftest import api_settings, serve
from tests.fakes import FakeAssistant, FakeLibrary

pytestmark = [pytest.mark.integration, pytest.mark.slow]

SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")


@pytest.mark.parametrize("api_keys", [[], ["fuzz-key"]], ids=["no-auth", "auth"])
def test_schema_fuzzing_finds_no_server_error(api_keys: list[str], tmp_path: Path) -> None:
    settings = api_settings(api_keys=api_keys, max_upload_bytes=2048)
    app = create_app(settings, service=FakeAssistant(), library=FakeLibrary(), mount_ui=False)
    auth = ["-H", "Authorization: Bearer fuzz-key"] if api_keys else []
    with serve(app) as server:
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
                str(tmp_path),
                *auth,
            ],
            capture_output=True,
            text=True,
            timeout=600,
            cwd=tmp_path,  # its cache folder lands here, not in the work tree
        )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-6000:]
    # e.g. "675 generated, 675 passed": every case ran, none failed a check (incl. no 5xx).
    counts = re.search(r"(\d+) generated, (\d+) passed", output)
    assert counts and int(counts[1]) == int(counts[2]) >= 100, output[-3000:]
