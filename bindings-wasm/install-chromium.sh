#!/usr/bin/env bash
# install-chromium.sh -- idempotent: Debian's `chromium` package (never a browser download),
# for the headless browser tests (test/). Prints the browser's version.
set -euo pipefail
if ! command -v chromium >/dev/null 2>&1; then
  [ "$(id -u)" = 0 ] || { echo "install-chromium: run as root (apt-get install chromium)" >&2; exit 1; }
  if ! apt-cache policy chromium 2>/dev/null | grep -q 'Candidate: [0-9]'; then
    apt-get update -q || { sleep 10; apt-get update -q; }
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends chromium >&2
fi
chromium --version
