"""`python -m ui`: the entry point parses its arguments without loading the service."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration


def test_python_m_ui_help_does_not_load_the_service() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "ui", "--help"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert result.returncode == 0, result.stderr
    assert "--port" in result.stdout
