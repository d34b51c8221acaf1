#!/usr/bin/env bash
# Idempotent set-up on a fresh machine: exactly the locked packages (uv.lock), then the models.
# Usage: scripts/setup.sh [--dev]
#   without --dev: the runtime packages only (what `make run` needs; dev tools are removed)
#   --dev:         also the dev group (tests, eval, benchmarks) and the headless browser
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh

dev=0; [ "${1:-}" = "--dev" ] && dev=1
stage() { echo "==> $1"; stage_start=$(date +%s); }
done_stage() { echo "    ($(( $(date +%s) - stage_start )) s)"; }

stage "uv $UV_VERSION (the installer)"
if [ ! -x "$UV" ]; then
  python3 -m pip install --quiet --disable-pip-version-check --target "$(dirname "$(dirname "$UV")")" \
    "uv==$UV_VERSION"
fi
"$UV" --version
done_stage

py=$(command -v python3.11 || command -v python3)
stage "Python packages from uv.lock ($([ $dev = 1 ] && echo 'runtime + dev' || echo 'runtime only'))"
# --locked: fail, instead of re-resolving, when pyproject.toml and uv.lock disagree.
if [ $dev = 1 ]; then
  "$UV" sync --locked --python "$py"
else
  "$UV" sync --locked --no-dev --python "$py"
fi
done_stage

if [ $dev = 1 ]; then
  stage "headless Chromium for the browser tests"
  bash scripts/install_browser.sh
  done_stage
fi

stage "models (embedding conversion, LLM join + SHA-256 check; cached in ~/.cache)"
.venv/bin/python -m rag.warmup
done_stage
