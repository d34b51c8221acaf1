#!/usr/bin/env bash
# Command 1: set up, ingest corpus/ (only what changed), serve API + UI on 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
bash scripts/setup.sh
echo "==> ingest (idempotent: unchanged chunks are skipped)"
.venv/bin/python -m ingest
echo "==> serving on http://${RNA_HOST:-127.0.0.1}:${RNA_PORT:-8000} (UI at /ui, API docs at /docs)"
exec .venv/bin/python -m api
