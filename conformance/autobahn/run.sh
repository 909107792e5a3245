#!/usr/bin/env bash
# run.sh - run Autobahn|Testsuite (wstest) against the project's client and/or server.
#
# Usage:   conformance/autobahn/run.sh ROLE SET      ROLE: client | server | both   SET: quick | full
#
# client role: `wstest -m fuzzingserver` on 127.0.0.1:9001 tests the client command, which must
#              take `--server ws://127.0.0.1:9001 --agent AGENT --case-timeout SECS`, run every
#              case (echoing each message), call /updateReports and exit.
# server role: the server command, started with `--port PORT --lifetime SECS` (an echo server
#              on 127.0.0.1), is tested by `wstest -m fuzzingclient`.
# Each role ends with one line `autobahn ROLE HOST: N passed, M failed` (summarize.py), writes
# target/autobahn/results/HOST-ROLE-SET.json, and target/autobahn/RESULTS.md is regenerated at
# the end. A run never writes outside target/: the committed results/ and RESULTS.md change
# only through record.sh (`make autobahn-summary`).  Exit status: 0 when every case of every
# role passed, 1 when some failed, 2 when a run could not be judged.
#
# Env:  AGENT        agent name in the reports (default steadysock-rust)
#       HOST_NAME    name in the summary line and results file (default rust)
#       CLIENT_CMD   client command line, run as `exec $CLIENT_CMD ARGS...` by bash (default: the
#                    release build of autobahn-client); prefix variables with `env VAR=...`
#       SERVER_CMD   server command line, likewise (default: the release build of echo-server)
#       SKIP_BUILD=1 do not run cargo (the default commands are only built when used)
#       SERVER_PORT  server role port (default 9002); the client role always uses 9001
#       CASE_TIMEOUT per-case limit passed to the client (default quick 30, other sets 120 s)
#       ROLE_TIMEOUT limit for each role's test run (default quick 300, other sets 2400 s)
#       WSTEST       use this wstest instead of running install.sh
#       AUTOBAHN_WORK  work dir root (default <repo>/target/autobahn); reports land in
#                    AUTOBAHN_WORK/ROLE-SET/reports/ (HTML, never committed)
#       RESULTS_DIR  where HOST-ROLE-SET.json go (default AUTOBAHN_WORK/results)
#       RESULTS_MD   the rendered table (default AUTOBAHN_WORK/RESULTS.md)
#       AUTOBAHN_LOCK  lock file serialising runs on this machine (default
#                    /tmp/steadysock-autobahn.lock); LOCK_WAIT: seconds to wait for it (3600)
set -euo pipefail

if [ $# -ne 2 ] || ! [[ $1 =~ ^(client|server|both)$ ]]; then
  echo "usage: $0 client|server|both SET   (SET: a spec in specs/, e.g. quick or full)" >&2
  exit 2
fi
ROLE=$1 SET=$2

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
SPEC_SRC=$HERE/specs/$SET.json
[ -f "$SPEC_SRC" ] || { echo "[autobahn] no spec $SPEC_SRC" >&2; exit 2; }

AGENT=${AGENT:-steadysock-rust}
export HOST_NAME=${HOST_NAME:-rust}
CLIENT_PORT=9001   # wstest's fuzzingserver; it listens on 0.0.0.0, we only ever use 127.0.0.1
SERVER_PORT=${SERVER_PORT:-9002}
case $SET in
  quick) CASE_TIMEOUT=${CASE_TIMEOUT:-30}  ROLE_TIMEOUT=${ROLE_TIMEOUT:-300} ;;
  *)     CASE_TIMEOUT=${CASE_TIMEOUT:-120} ROLE_TIMEOUT=${ROLE_TIMEOUT:-2400} ;;
esac
WORK_ROOT=${AUTOBAHN_WORK:-$REPO/target/autobahn}
RESULTS_DIR=${RESULTS_DIR:-$WORK_ROOT/results}
RESULTS_MD=${RESULTS_MD:-$WORK_ROOT/RESULTS.md}
BIN_DIR=${CARGO_TARGET_DIR:-$REPO/target}/release
LOCK_FILE=${AUTOBAHN_LOCK:-/tmp/steadysock-autobahn.lock}
LOCK_WAIT=${LOCK_WAIT:-3600}
PY3=${PYTHON3:-python3}

log() { echo "[autobahn] $*" >&2; }
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
port_busy() { [ -n "$(ss -ltnH "( sport = :$1 )" 2>/dev/null)" ]; }

# ------------------------------------------------------------------ cleanup of our children
PIDS=()
stop_pid() {
  local pid=$1 i
  kill -TERM "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
  for i in $(seq 1 40); do
    kill -0 "$pid" 2>/dev/null || break
    [ "$i" -eq 40 ] && kill -KILL "$pid" 2>/dev/null
    sleep 0.25
  done
  wait "$pid" 2>/dev/null || true
}
cleanup() {
  local pid
  for pid in "${PIDS[@]+"${PIDS[@]}"}"; do stop_pid "$pid"; done
  PIDS=()
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# wait_port PORT PID LOG: until PORT listens (PID must stay alive), at most 60 s
wait_port() {
  local i
  for i in $(seq 1 240); do
    port_busy "$1" && return 0
    if ! kill -0 "$2" 2>/dev/null; then
      log "process $2 exited before listening on port $1; last lines of $3:"
      tail -n 20 "$3" >&2 || true
      return 1
    fi
    [ "$i" -eq 240 ] || sleep 0.25
  done
  log "nothing listens on port $1 after 60 s (see $3)"
  return 1
}

# bounded SECS CMD...: CMD under `timeout`, waited for in a way our INT/TERM traps can interrupt
bounded() {
  local secs=$1 pid rc=0 p keep=()
  shift
  timeout -k 10 "$secs" "$@" &
  pid=$!
  PIDS+=("$pid")
  wait "$pid" || rc=$?
  for p in "${PIDS[@]}"; do [ "$p" = "$pid" ] || keep+=("$p"); done
  PIDS=("${keep[@]+"${keep[@]}"}")
  return "$rc"
}

# wstest must not see the caller's python settings (it runs a private python 2.7)
WSTEST_ENV=(env -u PYTHONPATH -u PYTHONHOME -u LD_LIBRARY_PATH)

# write_spec ROLE OUT: the set's case selection plus the role's url/outdir/servers
write_spec() {
  "$PY3" - "$SPEC_SRC" "$1" "$2" "$AGENT" "$CLIENT_PORT" "$SERVER_PORT" <<'EOF'
import json, sys
src, role, out, agent, cport, sport = sys.argv[1:]
spec = {k: v for k, v in json.load(open(src)).items() if not k.startswith("_")}
if role == "client":
    spec.update(url=f"ws://127.0.0.1:{cport}", outdir="./reports/clients")
else:
    spec.update(outdir="./reports/servers", servers=[{"agent": agent, "url": f"ws://127.0.0.1:{sport}"}])
json.dump(spec, open(out, "w"), indent=2)
EOF
}

# ------------------------------------------------------------------ preparation
# One run at a time on this machine: the ports are machine-wide, whatever the work dir.
exec 8>"$LOCK_FILE"
if ! flock -n 8; then
  log "another Autobahn run holds $LOCK_FILE; waiting up to ${LOCK_WAIT}s"
  flock -w "$LOCK_WAIT" 8 || { log "gave up waiting for $LOCK_FILE"; exit 2; }
fi
mkdir -p "$WORK_ROOT"

need_client=0 need_server=0
[ "$ROLE" = server ] || need_client=1
[ "$ROLE" = client ] || need_server=1
if [ "${SKIP_BUILD:-0}" != 1 ] && { { [ $need_client = 1 ] && [ -z "${CLIENT_CMD:-}" ]; } ||
                                    { [ $need_server = 1 ] && [ -z "${SERVER_CMD:-}" ]; }; }; then
  log "building the conformance binaries (cargo build --release -p steadysock-conformance --bins)"
  bounded 1800 env -C "$REPO" cargo build --release -q -p steadysock-conformance --bins \
    || { log "build failed"; exit 2; }
fi
CLIENT_CMD=${CLIENT_CMD:-$(printf '%q' "$BIN_DIR/autobahn-client")}
SERVER_CMD=${SERVER_CMD:-$(printf '%q' "$BIN_DIR/echo-server")}

if [ -z "${WSTEST:-}" ]; then
  WSTEST=$(timeout 1200 bash "$HERE/install.sh" | tail -n 1) || { log "install.sh failed"; exit 2; }
fi
[ -x "$WSTEST" ] || { log "wstest not found at '$WSTEST'"; exit 2; }

# ------------------------------------------------------------------ roles
# Each role function sets up, runs and tears down; judging happens afterwards in any case, so a
# role that could not even start still ends with its summary line (every case failed).

run_client_role() {   # RUN dir
  local run=$1 ws_pid rc=0 t0
  if port_busy "$CLIENT_PORT"; then log "port $CLIENT_PORT is already in use; not starting wstest"; return; fi
  "${WSTEST_ENV[@]}" -C "$run" PYTHONWARNINGS=ignore "$WSTEST" -m fuzzingserver -s spec.json -u 0 > "$run/wstest.log" 2>&1 &
  ws_pid=$!
  PIDS+=("$ws_pid")
  wait_port "$CLIENT_PORT" "$ws_pid" "$run/wstest.log" || return 0
  log "client: running $CLIENT_CMD (limit ${ROLE_TIMEOUT}s, ${CASE_TIMEOUT}s per case)"
  t0=$SECONDS
  bounded "$ROLE_TIMEOUT" bash -c "exec $CLIENT_CMD \"\$@\"" autobahn-client \
    --server "ws://127.0.0.1:$CLIENT_PORT" --agent "$AGENT" --case-timeout "$CASE_TIMEOUT" \
    > "$run/client.log" 2>&1 < /dev/null || rc=$?
  if [ $((SECONDS - t0)) -ge "$ROLE_TIMEOUT" ]; then
    log "client: stopped after the ${ROLE_TIMEOUT}s limit (see $run/client.log)"
  elif [ "$rc" -ne 0 ]; then
    log "client: exited with status $rc (see $run/client.log)"
  fi
  if [ ! -f "$run/reports/clients/index.json" ] && kill -0 "$ws_pid" 2>/dev/null; then
    log "client: no report written; asking wstest for /updateReports itself"
    bounded 150 "$PY3" "$HERE/update_reports.py" --server "ws://127.0.0.1:$CLIENT_PORT" \
      --agent "$AGENT" --timeout 120 >&2 || log "client: /updateReports fallback failed"
  fi
  cleanup   # fuzzingserver never exits by itself
}

run_server_role() {   # RUN dir
  local run=$1 srv_pid rc=0 t0
  if port_busy "$SERVER_PORT"; then log "port $SERVER_PORT is already in use; not starting the server"; return; fi
  bash -c "exec $SERVER_CMD \"\$@\"" echo-server --port "$SERVER_PORT" --lifetime "$((ROLE_TIMEOUT + 60))" \
    > "$run/server.log" 2>&1 < /dev/null &
  srv_pid=$!
  PIDS+=("$srv_pid")
  wait_port "$SERVER_PORT" "$srv_pid" "$run/server.log" || { cleanup; return 0; }
  log "server: running wstest -m fuzzingclient against $SERVER_CMD (limit ${ROLE_TIMEOUT}s)"
  t0=$SECONDS
  bounded "$ROLE_TIMEOUT" "${WSTEST_ENV[@]}" -C "$run" PYTHONWARNINGS=ignore "$WSTEST" -m fuzzingclient -s spec.json \
    > "$run/wstest.log" 2>&1 < /dev/null || rc=$?
  if [ $((SECONDS - t0)) -ge "$ROLE_TIMEOUT" ]; then
    log "server: wstest stopped after the ${ROLE_TIMEOUT}s limit (see $run/wstest.log)"
  elif [ "$rc" -ne 0 ]; then
    log "server: wstest exited with status $rc (see $run/wstest.log)"
  fi
  if ! kill -0 "$srv_pid" 2>/dev/null; then log "server: the server died during the run (see $run/server.log)"; fi
  cleanup
}

overall=0
for role in client server; do
  [ "$ROLE" = both ] || [ "$ROLE" = "$role" ] || continue
  run=$WORK_ROOT/$role-$SET
  rm -rf "$run" && mkdir -p "$run"
  write_spec "$role" "$run/spec.json"
  log "$role role, $SET set, agent $AGENT, work dir $run"
  t0=$(now)
  if [ "$role" = client ]; then run_client_role "$run"; else run_server_role "$run"; fi
  took=$(elapsed "$t0")
  log "$role role took ${took}s"
  [ ! -f "$run/reports/${role}s/index.html" ] || log "HTML report: $run/reports/${role}s/index.html"
  rc=0
  "$PY3" "$HERE/summarize.py" --role "$role" --set "$SET" --spec "$run/spec.json" \
    --index "$run/reports/${role}s/index.json" --wstest "$WSTEST" --agent "$AGENT" \
    --host "$HOST_NAME" --results-dir "$RESULTS_DIR" --duration "$took" || rc=$?
  [ "$rc" -le "$overall" ] || overall=$rc
done

"$PY3" "$HERE/results_table.py" --results-dir "$RESULTS_DIR" --out "$RESULTS_MD" \
  || log "could not render $RESULTS_MD"
exit "$overall"
