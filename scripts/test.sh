#!/usr/bin/env bash
# Command 2: set up (with test tools and browser) and run the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
t0=$(date +%s)
bash scripts/setup.sh --dev
t1=$(date +%s)
echo "==> tests"
set +e
.venv/bin/python -m pytest "$@"
rc=$?
set -e
t2=$(date +%s)
echo "==> timings: setup $((t1 - t0)) s, tests $((t2 - t1)) s, total $((t2 - t0)) s"
exit $rc
