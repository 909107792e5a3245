#!/usr/bin/env bash
# install-chromium.sh -- idempotent: Debian's `chromium` package (never a browser download),
# for the headless browser tests (test/). Prints the browser's version.
#
# apt's lists may be stale or empty (a fresh image): when apt does not know chromium, or
# cannot fetch the version its lists name (gone from the mirror), `apt-get update`, then
# again. CHROMIUM_DOWNLOAD_ONLY=1 (scripts/prove-fresh.sh): go through apt even when
# chromium is installed, fetching its package into apt's cache (`--download-only
# --reinstall`) without installing anything, which proves that apt can get it from here.
set -euo pipefail
download_only=${CHROMIUM_DOWNLOAD_ONLY:-0}
if [ "$download_only" = 1 ] || ! command -v chromium >/dev/null 2>&1; then
  [ "$(id -u)" = 0 ] || { echo "install-chromium: run as root (apt-get install chromium)" >&2; exit 1; }
  update() { echo "install-chromium: apt-get update ($1)" >&2; apt-get update -q >&2 || { sleep 10; apt-get update -q >&2; }; }
  args=(-y -q --no-install-recommends)
  [ "$download_only" = 1 ] && args+=(--download-only --reinstall)
  # (read whole first: `apt-cache … | grep -q` under pipefail fails when grep stops early)
  policy=$(apt-cache policy chromium 2>/dev/null || true)
  if ! grep -q 'Candidate: [0-9]' <<<"$policy"; then
    update "apt's lists do not know chromium"
  fi
  # got: whether apt got it (download only: its .deb is in apt's cache; apt-get exits 0
  # even when "Reinstallation of chromium is not possible, it cannot be downloaded").
  got() {
    [ "$download_only" = 1 ] || return 0
    eval "$(apt-config shell archives Dir::Cache::archives/d)"
    compgen -G "${archives}chromium_*.deb" >/dev/null
  }
  if ! DEBIAN_FRONTEND=noninteractive apt-get install "${args[@]}" chromium >&2 || ! got; then
    update "the lists name a chromium apt cannot fetch"
    DEBIAN_FRONTEND=noninteractive apt-get install "${args[@]}" chromium >&2
    got || { echo "install-chromium: apt did not fetch chromium" >&2; exit 1; }
  fi
fi
chromium --version
