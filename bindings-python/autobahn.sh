#!/usr/bin/env bash
# autobahn.sh [quick|full]: Autobahn|Testsuite's client role against the Python binding,
# through conformance/autobahn/run.sh with autobahn_client.py as the client command. Uses
# the venv test.sh builds (run test.sh first). Ends with run.sh's line
# `autobahn client python: N passed, M failed`. Reports and results go under
# target/autobahn-python/.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
VENV=${STEADYSOCK_PY_VENV:-$ROOT/target/python-venv}
[ -x "$VENV/bin/python" ] || { echo "no venv at $VENV: run bindings-python/test.sh first" >&2; exit 2; }
CLIENT_CMD="$(printf '%q %q' "$VENV/bin/python" "$HERE/autobahn_client.py")" \
  HOST_NAME=python AGENT=steadysock-python SKIP_BUILD=1 PYTHONDONTWRITEBYTECODE=1 \
  AUTOBAHN_WORK="$ROOT/target/autobahn-python" \
  exec bash "$ROOT/conformance/autobahn/run.sh" client "${1:-quick}"
