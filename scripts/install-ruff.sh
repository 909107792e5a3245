#!/usr/bin/env bash
# install-ruff.sh: ruff (the Python linter/formatter `make test` runs) in a private venv.
# Idempotent; the last stdout line is the path of `ruff`. Progress goes to stderr.
#
# Env: STEADYSOCK_TOOLS  tools dir (default $HOME/.cache/steadysock); the venv is
#                        $STEADYSOCK_TOOLS/ruff-venv
#      RUFF_VERSION      default 0.17.6
set -euo pipefail
RUFF_VERSION=${RUFF_VERSION:-0.17.6}
VENV=${STEADYSOCK_TOOLS:-$HOME/.cache/steadysock}/ruff-venv
if ! "$VENV/bin/ruff" --version 2>/dev/null | grep -qx "ruff $RUFF_VERSION"; then
  echo "[install-ruff] ruff $RUFF_VERSION into $VENV" >&2
  rm -rf "$VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check "ruff==$RUFF_VERSION" >&2
fi
echo "$VENV/bin/ruff"
