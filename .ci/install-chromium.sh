#!/usr/bin/env bash
# Installs Debian's Chromium for the browser tests (tests/sandbox/test_browser.py) when it is
# missing. Never fails CI: without apt (or root) it prints a warning and the tests skip.
set -u
if [ -x /usr/bin/chromium ]; then
    exit 0
fi
warn() { echo "install-chromium: warning: $*; the browser tests will skip" >&2; exit 0; }
command -v apt-get >/dev/null 2>&1 || warn "apt-get is not available"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null || warn "not root and no sudo"
    SUDO="sudo -n"
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq || warn "apt-get update failed"
$SUDO apt-get install -y -qq --no-install-recommends chromium || warn "apt-get install chromium failed"
# Emoji in screenshots; nice to have, never required.
$SUDO apt-get install -y -qq --no-install-recommends fonts-noto-color-emoji >/dev/null 2>&1 || true
[ -x /usr/bin/chromium ] || warn "chromium is still missing after apt-get install"
echo "install-chromium: $(/usr/bin/chromium --version 2>/dev/null || echo chromium installed)"
