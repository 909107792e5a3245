#!/usr/bin/env bash
# test.sh [build]: builds the Python binding into a venv and checks it — ruff, mypy --strict
# over the package and the examples, then pytest. Ends with pytest's closing line.
# `test.sh build` only builds and installs it (what autobahn.sh and scenarios.sh need).
#
# The venv lives in $STEADYSOCK_PY_VENV (default <repo>/target/python-venv); its tools are
# pinned below and installed on first use. The binding is rebuilt by cargo incrementally
# (the crate is a member of the root workspace, so it shares target/).
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
VENV=${STEADYSOCK_PY_VENV:-$ROOT/target/python-venv}
PIP=("$VENV/bin/pip" install -q --disable-pip-version-check)
# python-socks: the optional SOCKS dependency (proxy_type socks4/4a/5/5h), for its tests.
TOOLS=(maturin==1.16.0 pytest==9.2.0 mypy==2.4.1 ruff==0.17.6 trustme==1.2.1 python-socks==3.2.1)

if [ ! -f "$VENV/.tools" ] || [ "$(cat "$VENV/.tools")" != "${TOOLS[*]}" ]; then
  python3 -m venv "$VENV"
  "${PIP[@]}" "${TOOLS[@]}"
  echo "${TOOLS[*]}" > "$VENV/.tools"
fi
export PATH="$VENV/bin:$PATH"   # maturin, for the no-isolation build
echo "[python] building and installing the binding into $VENV"
"${PIP[@]}" --no-build-isolation --no-deps --force-reinstall "$HERE"
[ "${1:-}" = build ] && exit 0

# The conformance fault server, for the tests that need real faults (recovery, 10,000
# reconnect cycles); release, like the scenario runner's build.
echo "[python] building the fault server"
(cd "$ROOT" && cargo build --release -q -p steadysock-conformance --bin fault-server)
export STEADYSOCK_FAULT_SERVER=$ROOT/target/release/fault-server

cd "$HERE"
# Tool caches go under target/, so a run leaves the work tree as it found it.
export RUFF_CACHE_DIR=$ROOT/target/python-cache/ruff PYTHONDONTWRITEBYTECODE=1
MYPY=("$VENV/bin/mypy" --strict --cache-dir "$ROOT/target/python-cache/mypy")
echo "[python] ruff"
"$VENV/bin/ruff" check python tests examples bench autobahn_client.py scenario_agent.py
"$VENV/bin/ruff" format --check python tests examples bench autobahn_client.py scenario_agent.py
echo "[python] mypy --strict"
# Type-check the installed package (stubs of the extension included) as a user sees it.
(cd "$ROOT/target" && "${MYPY[@]}" "$HERE/examples" "$HERE/autobahn_client.py" "$HERE/scenario_agent.py")
(cd "$ROOT/target" && "${MYPY[@]}" -p steadysock)
echo "[python] pytest"
LOG=$(mktemp)
trap 'rm -f "$LOG"' EXIT
rc=0
"$VENV/bin/python" -m pytest -q -p no:cacheprovider tests 2>&1 | tee "$LOG" || rc=$?
# One summary line in the form scripts/test.sh adds up (pytest's own line is above).
"$VENV/bin/python" - "$LOG" <<'PY'
import re, sys
text = open(sys.argv[1], errors="replace").read().splitlines()
last = next((l for l in reversed(text) if re.search(r"\d+ (passed|failed|error)", l)), "")
count = lambda w: sum(int(n) for n in re.findall(rf"(\d+) {w}", last))
print(f"pytest python: {count('passed')} passed, {count('failed') + count('error')} failed")
PY
exit "$rc"
