#!/usr/bin/env bash
# Idempotent set-up on a fresh machine: venv, Python packages, llama.cpp runtime, models.
# Usage: scripts/setup.sh [--dev]   (--dev adds test tools and the headless browser)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh

dev=0; [ "${1:-}" = "--dev" ] && dev=1
stage() { echo "==> $1"; stage_start=$(date +%s); }
done_stage() { echo "    ($(( $(date +%s) - stage_start )) s)"; }

stage "virtualenv (.venv, Python 3.11)"
if [ ! -x .venv/bin/python ]; then
  py=$(command -v python3.11 || command -v python3)
  "$py" -m venv .venv
  .venv/bin/pip install --quiet --upgrade pip
fi
done_stage

extras=""; [ $dev = 1 ] && extras="[dev]"
stamp=".venv/.installed-$(cat pyproject.toml | sha256sum | cut -c1-16)${extras}"
stage "Python packages${extras}"
if [ ! -f "$stamp" ]; then
  # torch first, pinned: the CPU wheel on this machine's disk (an unpinned torch pulls CUDA).
  .venv/bin/pip install --quiet torch==2.13.0
  .venv/bin/pip install --quiet -e ".${extras}"
  touch "$stamp"
else
  echo "    up to date"
fi
done_stage

stage "llama.cpp runtime (llama-cpp-python, built once for this CPU, cached)"
bash scripts/install_llama.sh .venv/bin/python
done_stage

if [ $dev = 1 ]; then
  stage "headless Chromium for the browser tests"
  bash scripts/install_browser.sh
  done_stage
fi

stage "models (embedding conversion, LLM join + SHA-256 check; cached in ~/.cache)"
.venv/bin/python -m rag.warmup
done_stage
