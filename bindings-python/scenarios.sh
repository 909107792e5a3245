#!/usr/bin/env bash
# scenarios.sh: the scenario table S1-S8 against the Python binding's agent
# (scenario_agent.py), through scripts/scenarios.sh. Uses the venv test.sh builds (run
# test.sh first). Ends with `scenarios python: N passed, M failed`.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
VENV=${STEADYSOCK_PY_VENV:-$ROOT/target/python-venv}
[ -x "$VENV/bin/python" ] || { echo "no venv at $VENV: run bindings-python/test.sh first" >&2; exit 2; }
export PYTHONDONTWRITEBYTECODE=1
exec bash "$ROOT/scripts/scenarios.sh" --host "$(printf '%q %q' "$VENV/bin/python" "$HERE/scenario_agent.py")" \
  --host-name python "$@"
