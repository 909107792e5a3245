#!/usr/bin/env bash
# run.sh: the Python client benchmark. Client CPU (process CPU time) per sequential 16-byte
# echo round trip and per echoed MiB: steadysock (sync and asyncio) against websocket-client
# (with and without wsaccel), websockets (asyncio) and aiohttp, all from PyPI (pinned) in a
# venv under target/, against one local echo server (the conformance `echo-server`, its own
# process). A benchmark, not a test: it prints a table and judges nothing. Each contender
# runs REPEAT times in turn (default 3); the table shows the lowest figure of each.
#
# Env: ROUNDS (default 20000), MIBS (default 100), REPEAT (default 3)
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
ROUNDS=${ROUNDS:-20000} MIBS=${MIBS:-100} REPEAT=${REPEAT:-3}
VENV=$ROOT/target/python-bench-venv
PIP=("$VENV/bin/pip" install -q --disable-pip-version-check)
PEERS=(maturin==1.16.0 websocket-client==1.9.2 wsaccel==0.6.7 websockets==17.4 aiohttp==3.14.5)
if [ ! -f "$VENV/.peers" ] || [ "$(cat "$VENV/.peers")" != "${PEERS[*]}" ]; then
  python3 -m venv "$VENV"
  "${PIP[@]}" "${PEERS[@]}"
  echo "${PEERS[*]}" > "$VENV/.peers"
fi
PATH="$VENV/bin:$PATH" "${PIP[@]}" --no-build-isolation --no-deps --force-reinstall "$ROOT/bindings-python"
(cd "$ROOT" && cargo build --release -q -p steadysock-conformance --bin echo-server)
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$ROOT/target/release/echo-server" --port "$port" 2>/dev/null &
server=$!
results=$(mktemp)
trap 'kill "$server" 2>/dev/null || true; rm -f "$results"' EXIT
for _ in $(seq 1 50); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done
url="ws://127.0.0.1:$port/"
contenders=(steadysock steadysock-asyncio websocket-client websocket-client+wsaccel websockets aiohttp)
for _ in $(seq 1 "$REPEAT"); do
  for c in "${contenders[@]}"; do
    PYTHONDONTWRITEBYTECODE=1 "$VENV/bin/python" "$HERE/bench.py" "$c" "$url" "$ROUNDS" "$MIBS" >> "$results"
  done
done
"$VENV/bin/python" - "$results" "$("$VENV/bin/python" --version)" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
best: dict[str, dict[str, float]] = {}
for r in rows:
    b = best.setdefault(r["contender"], {"rt_us": float("inf"), "mib_ms": float("inf")})
    b["rt_us"] = min(b["rt_us"], r["rt_us"])
    b["mib_ms"] = min(b["mib_ms"], r["mib_ms"])
ref = best["websocket-client"]
runs = len(rows) // len(best)
print(f"python client CPU per operation ({sys.argv[2]}; lowest of {runs} runs; "
      f"{rows[0]['rounds']} round trips, {rows[0]['mibs']} MiB echoed; goal: <= 10 us, <= 0.3 ms)")
print("| client | µs per 16 B round trip | vs websocket-client | ms per MiB echoed | vs websocket-client |")
print("|---|---|---|---|---|")
for name, b in best.items():
    print(f"| {name} | {b['rt_us']:.2f} | {b['rt_us'] / ref['rt_us']:.2f}x | {b['mib_ms']:.3f} | "
          f"{b['mib_ms'] / ref['mib_ms']:.2f}x |")
PY
