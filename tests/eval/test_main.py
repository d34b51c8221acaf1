"""`python -m eval` end to end with the fake service (no index, no model)."""

from __future__ import annotations

import json
from itertools import cycle
from pathlib import Path

import pytest
from langchain_core.embeddings import DeterministicFakeEmbedding
from langchain_core.language_models import GenericFakeChatModel
from langchain_core.messages import AIMessage

import eval.__main__ as cli
import eval.baseline as baseline
from rag.config import REPO_ROOT
from tests.fakes import FakeAssistant

pytestmark = pytest.mark.unit


@pytest.fixture
def fake_service(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli, "in_process_service", lambda: FakeAssistant().ask)


def run(tmp_path: Path, *args: str) -> int:
    return cli.main(
        ["--out", str(tmp_path / "out"), "--report", str(tmp_path / "REPORT.md"), *args]
    )


def test_writes_results_report_and_chart(
    fake_service: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(tmp_path, "--limit", "3") == 0
    out = capsys.readouterr().out
    assert "aec-nv-2026-zh" in out and "overall" in out and "document" in out
    data = json.loads((tmp_path / "out" / "results.json").read_text(encoding="utf-8"))
    assert len(data["results"]) == 3
    first = data["results"][0]
    assert first["id"] == "aec-nv-2026-zh" and first["correct_and_cited"] is True
    report = (tmp_path / "REPORT.md").read_text(encoding="utf-8")
    assert "| overall | all | 3 |" in report
    assert (tmp_path / "report_chart.png").stat().st_size > 1000


def test_gate_fails_with_the_failing_cases(
    fake_service: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(tmp_path, "--only-kind", "calculator", "--gate", "--quiet") == 1
    out = capsys.readouterr().out
    assert "GATE FAILED" in out and "calc-nv-growth-pct-zh" in out


def test_gate_passes_when_thresholds_are_met(fake_service: None, tmp_path: Path) -> None:
    # The fake abstains exactly when a question says 2027.
    gate = tmp_path / "gate.yaml"
    gate.write_text("overall: 1.0\nkind: {abstain: 1.0}\n", encoding="utf-8")
    assert (
        run(tmp_path, "--only-kind", "abstain", "--limit", "2", "--gate", "--gate-file", str(gate))
        == 0
    )


def test_baseline_side_by_side(
    fake_service: None,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    llm = GenericFakeChatModel(messages=cycle([AIMessage("约170万根[1]")]))
    monkeypatch.setattr(
        baseline,
        "build_default_baseline",
        lambda: baseline.NaiveRag(
            baseline.load_corpus(REPO_ROOT / "corpus"), DeterministicFakeEmbedding(size=32), llm
        ),
    )
    assert run(tmp_path, "--baseline", "--baseline-n", "7", "--quiet") == 0
    out = capsys.readouterr().out
    assert "side by side" in out
    data = json.loads((tmp_path / "out" / "baseline.json").read_text(encoding="utf-8"))
    assert len(data["ours"]) == len(data["baseline"]) == 7
    assert "## Baseline" in (tmp_path / "REPORT.md").read_text(encoding="utf-8")


def test_suites_run_each_with_its_gate_and_hide_the_held_out_failures(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(cli, "suite_service", lambda suite: FakeAssistant().ask)
    gate = tmp_path / "gate.yaml"
    gate.write_text(
        "suites:\n  ood-dev: {overall: 0.0}\n  ood-test: {overall: 1.0}\n", encoding="utf-8"
    )
    code = run(
        tmp_path,
        "--suite",
        "ood-dev",
        "--suite",
        "ood-test",
        "--gate",
        "--gate-file",
        str(gate),
        "--limit",
        "6",
    )
    out = capsys.readouterr().out
    assert code == 1 and "ood-test: overall" in out  # the fake fails the held-out cases
    assert "failing cases (ood-dev)" in out and "failing cases (ood-test)" not in out
    report = (tmp_path / "REPORT.md").read_text(encoding="utf-8")
    assert "## Suite `ood-dev`" in report and "### Failing cases" in report
    held_out = report[report.index("## Suite `ood-test`") :]
    assert "not listed" in held_out and "`" + "hbm" not in held_out
    for split in ("ood-dev", "ood-test"):
        data = json.loads((tmp_path / "out" / split / "results.json").read_text(encoding="utf-8"))
        assert len(data["results"]) == 6


def test_suite_settings_copy_every_folder_into_one_corpus(tmp_path: Path) -> None:
    from rag.config import Settings

    suites = cli.load_suites()
    settings = cli.suite_settings(suites["ood-dev"], Settings(data_dir=tmp_path))
    names = {p.name for p in settings.corpus_dir.iterdir()}
    assert {"003_558daa5f5094b1d2.txt", "catl_q3_2025_results.md", "glossary.yaml"} <= names
    # the held-out split's index holds the shared notes, not the dev-only ones
    held_out = cli.suite_settings(suites["ood-test"], Settings(data_dir=tmp_path))
    assert held_out != settings
    held_out_names = {p.name for p in held_out.corpus_dir.iterdir()}
    assert "catl_q3_2025_results.md" in held_out_names
    assert "foundry_3q25_note.txt" in names and "foundry_3q25_note.txt" not in held_out_names
