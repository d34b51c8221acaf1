#!/usr/bin/env bash
# Install Debian's Chromium and its driver for the headless browser tests (tests/ui).
# Idempotent: does nothing when /usr/bin/chromium is already there. Downloads only from the
# Debian archive (never `playwright install`). Prints what it did.
set -euo pipefail

if [[ -x /usr/bin/chromium ]]; then
    echo "install_browser: /usr/bin/chromium already present: $(/usr/bin/chromium --version 2>/dev/null || echo 'version unknown')"
    exit 0
fi

SUDO=""
if [[ $(id -u) -ne 0 ]]; then
    if command -v sudo >/dev/null 2>&1; then
        SUDO="sudo"
    else
        echo "install_browser: not root and no sudo: cannot install chromium" >&2
        exit 1
    fi
fi

echo "install_browser: apt-get update"
$SUDO apt-get update -q
echo "install_browser: apt-get install chromium chromium-driver"
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends \
    chromium chromium-driver fonts-noto-cjk

if [[ ! -x /usr/bin/chromium ]]; then
    echo "install_browser: install finished but /usr/bin/chromium is missing" >&2
    exit 1
fi
echo "install_browser: installed $(/usr/bin/chromium --version 2>/dev/null || echo chromium)"
