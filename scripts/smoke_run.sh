#!/usr/bin/env bash
# The README's run command as a newcomer meets it: `make run` (runtime packages only), wait for
# /readyz, ask one question, check the answer and its citation, stop. Prints each stage's time.
# CI runs it after `make test`, so an import that only the dev tools satisfy fails here.
set -euo pipefail
cd "$(dirname "$0")/.."
port=${RNA_SMOKE_PORT:-8000}
log=$(mktemp -t smoke-run.XXXXXX.log)
t0=$(date +%s)
RNA_PORT=$port setsid bash scripts/run.sh >"$log" 2>&1 &
pid=$!
stop() { kill -TERM -- "-$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; }
trap stop EXIT

echo "==> smoke: make run (log: $log)"
ready=""
for _ in $(seq 1 1200); do
  if ! kill -0 "$pid" 2>/dev/null; then echo "make run exited early:"; tail -50 "$log"; exit 1; fi
  if curl -fs "http://127.0.0.1:$port/readyz" >/dev/null 2>&1; then ready=1; break; fi
  sleep 1
done
t1=$(date +%s)
[ -n "$ready" ] || { echo "no /readyz after $((t1 - t0)) s"; tail -50 "$log"; exit 1; }
grep -E "^==>|^    \(|documents " "$log" | sed 's/^/    run: /'
echo "    /readyz after $((t1 - t0)) s"

echo "==> smoke: one question"
answer=$(curl -fs "http://127.0.0.1:$port/v1/ask" -H 'content-type: application/json' \
  -d '{"question": "What is Nvidia'"'"'s 2026 AEC demand?"}')
t2=$(date +%s)
python3 - "$answer" <<'PY'
import json, sys
a = json.loads(sys.argv[1])
print("    answer:", a["answer"])
print("    status:", a["verification"].get("status"), "| cited:", [c["source"] for c in a["citations"]])
assert not a["abstained"], "abstained"
assert "1.7 million" in a["answer"] or "170万" in a["answer"], "no 1.7 million in the answer"
assert any(c["source"].endswith("003_558daa5f5094b1d2.txt") and "170万" in c["quote"] for c in a["citations"]), "the 2025-11-12 note is not cited"
PY
echo "    answered in $((t2 - t1)) s"
echo "==> smoke: passed (start to /readyz $((t1 - t0)) s, answer $((t2 - t1)) s)"
