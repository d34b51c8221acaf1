"""Shared fixtures. Every test process runs offline (no hub downloads, no telemetry)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import rag  # noqa: F401  (offline switches before any model library)
from rag.config import REPO_ROOT, Settings

CORPUS = REPO_ROOT / "corpus"


@pytest.fixture
def corpus_copy(tmp_path: Path) -> Path:
    """A private copy of the real corpus that a test may edit."""
    target = tmp_path / "corpus"
    shutil.copytree(CORPUS, target)
    return target


@pytest.fixture
def fake_settings(tmp_path: Path, corpus_copy: Path) -> Settings:
    """Settings for fast tests: hash embedder, no LLM, everything under tmp_path."""
    return Settings(
        corpus_dir=corpus_copy,
        data_dir=tmp_path / "data",
        embedder="fake",
        llm="none",
        environment="test",
    )
