#!/usr/bin/env bash
# Command 2: set up (with test tools and browser) and run the whole test suite, then the
# release gate (the known-answer eval) with the real embedding model.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
# The browser tests also run over the real service (indexes corpus/ with the real embedder).
export RNA_UI_REAL=${RNA_UI_REAL:-1}

t0=$(date +%s)
bash scripts/setup.sh --dev
t1=$(date +%s)

# Lint first (ruff, ruff format --check, mypy: `make lint`); a failure is reported after the
# tests, so one run shows both.
echo "==> lint (ruff, ruff format --check, mypy)"
set +e
.venv/bin/ruff check . && .venv/bin/ruff format --check . && .venv/bin/mypy
lint_rc=$?
set -e
tl=$(date +%s)

echo "==> tests"
set +e
.venv/bin/python -m pytest "$@"
tests_rc=$?
set -e
t2=$(date +%s)

echo "==> release gate: seed and out-of-domain suites against eval/gate.yaml (real e5 embedder, deterministic answers)"
gate_dir=data/ci-eval
rm -rf "$gate_dir"
set +e
RNA_DATA_DIR="$gate_dir" RNA_LLM=none .venv/bin/python -m eval --gate --quiet \
  --suite seed --suite ood-dev --suite ood-test \
  --out "$gate_dir/results" --report "$gate_dir/REPORT.md"
gate_rc=$?
set -e
t3=$(date +%s)

# The same gate with the embedded LLM writing the answers, on a stratified 24-case subset of the
# seed suite (every kind and language; ~5-10 s an answer on 2 cores), so a release also proves
# the model's drafts survive the grounding check. Reuses the seed suite's index.
echo "==> release gate with the embedded LLM (stratified 24-case subset, same index)"
set +e
RNA_DATA_DIR="$gate_dir" RNA_LLM=llamacpp .venv/bin/python -m eval --gate --quiet --stratified 24 \
  --suite seed --out "$gate_dir/results-llm" --report "$gate_dir/REPORT-llm.md"
llm_gate_rc=$?
set -e
t4=$(date +%s)

echo "==> timings: setup $((t1 - t0)) s, lint $((tl - t1)) s, tests $((t2 - tl)) s," \
  "gate $((t3 - t2)) s, LLM gate $((t4 - t3)) s, total $((t4 - t0)) s"
[ $lint_rc -eq 0 ] || { echo "lint failed (exit $lint_rc): run make lint"; exit $lint_rc; }
[ $tests_rc -eq 0 ] || { echo "tests failed (exit $tests_rc)"; exit $tests_rc; }
[ $gate_rc -eq 0 ] || { echo "release gate failed (exit $gate_rc)"; exit $gate_rc; }
[ $llm_gate_rc -eq 0 ] || { echo "release gate with the LLM failed (exit $llm_gate_rc)"; exit $llm_gate_rc; }
echo "tests and release gate passed"
