#!/usr/bin/env bash
# run.sh: client CPU per 16-byte echo round trip and per echoed MiB, steadysock's Node
# WebSocket against ws (+bufferutil), partysocket over ws and Node's global WebSocket,
# against one local `ws` echo server (its own process). A benchmark, not a test: it prints
# a table and judges nothing. Each contender runs REPEAT times in turn (default 3); the
# table shows the lowest figure of each (the least disturbed run on a shared machine).
#
# Env: ROUNDS (default 20000), MIBS (default 100), REPEAT (default 3)
set -euo pipefail
cd "$(dirname "$0")"
ROUNDS=${ROUNDS:-20000} MIBS=${MIBS:-100} REPEAT=${REPEAT:-3}
[ -f ../native/steadysock.$(node -p 'process.platform + "-" + process.arch').node ] || (cd .. && node scripts/build.js)
npm ci --no-audit --no-fund --silent
node server.mjs > server.port &
server=$!
trap 'kill "$server" 2>/dev/null || true; rm -f server.port' EXIT
for _ in $(seq 1 50); do [ -s server.port ] && break; sleep 0.1; done
url="ws://127.0.0.1:$(cat server.port)/"
results=$(mktemp)
for _ in $(seq 1 "$REPEAT"); do
  for c in steadysock ws partysocket global; do
    node --experimental-websocket --no-warnings client.mjs "$c" "$url" "$ROUNDS" "$MIBS" >> "$results"
  done
done
node - "$results" <<'JS'
const lines = require("node:fs").readFileSync(process.argv[2], "utf8").trim().split("\n").map(JSON.parse);
const best = {};
for (const r of lines) {
  const b = (best[r.contender] ||= { rt_us: Infinity, mib_ms: Infinity });
  b.rt_us = Math.min(b.rt_us, r.rt_us);
  b.mib_ms = Math.min(b.mib_ms, r.mib_ms);
}
const ref = best.ws;
console.log(`node client CPU per operation (lowest of ${lines.length / 4} runs; ${lines[0].rounds} round trips, ${lines[0].mibs} MiB echoed)`);
console.log("| client | µs per 16 B round trip | vs ws | ms per MiB echoed | vs ws |");
console.log("|---|---|---|---|---|");
for (const [name, b] of Object.entries(best)) {
  console.log(`| ${name} | ${b.rt_us.toFixed(2)} | ${(b.rt_us / ref.rt_us).toFixed(2)}x | ${b.mib_ms.toFixed(3)} | ${(b.mib_ms / ref.mib_ms).toFixed(2)}x |`);
}
JS
rm -f "$results"
