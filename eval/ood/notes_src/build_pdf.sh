#!/usr/bin/env bash
# Rebuild eval/ood/notes/moutai_broker_note.pdf from its HTML source with headless Chromium.
# Usage (from anywhere):  bash eval/ood/notes_src/build_pdf.sh
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
SRC="$HERE/moutai_broker_note.html"
OUT="$HERE/../notes/moutai_broker_note.pdf"
PROFILE="$(mktemp -d)"
trap 'rm -rf "$PROFILE"' EXIT
chromium --headless --no-sandbox --disable-gpu --disable-background-networking \
  --disable-component-update --disable-sync --no-first-run --user-data-dir="$PROFILE" \
  --print-to-pdf="$OUT" --no-pdf-header-footer "file://$SRC"
echo "wrote $OUT"
