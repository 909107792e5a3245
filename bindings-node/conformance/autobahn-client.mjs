#!/usr/bin/env node
// Drives the Autobahn fuzzing server (client role) with steadysock's WebSocket for Node:
// every case in turn, echoing every message, then /updateReports. The Node counterpart of
// conformance/src/bin/autobahn-client.rs, run by conformance/autobahn/run.sh:
//
//   HOST_NAME=node AGENT=steadysock-node SKIP_BUILD=1 \
//     CLIENT_CMD="node bindings-node/conformance/autobahn-client.mjs" \
//     bash conformance/autobahn/run.sh client quick
//
// autobahn-client.mjs [--server ws://127.0.0.1:9001] [--agent NAME] [--case-timeout SECS]
import { WebSocket } from "../index.mjs";

let server = "ws://127.0.0.1:9001";
let agent = "steadysock-node";
let caseTimeout = 60;
const args = process.argv.slice(2);
while (args.length > 0) {
  const a = args.shift();
  if (a === "--server") server = args.shift();
  else if (a === "--agent") agent = args.shift();
  else if (a === "--case-timeout") caseTimeout = Number(args.shift());
  else throw new Error(`unknown argument ${a}`);
}

/**
 * One exchange until the connection closes or `limitSecs` pass; echoes messages when
 * `echo`. Resolves with the first text message (or null).
 */
function run(url, echo, limitSecs) {
  return new Promise((resolve) => {
    let first = null;
    let timer = null;
    const ws = new WebSocket(url);
    ws.binaryType = "arraybuffer";
    ws.onmessage = (e) => {
      if (first === null && typeof e.data === "string") first = e.data;
      if (echo) ws.send(e.data);
    };
    ws.onerror = (e) => console.error(`autobahn-client: ${url}: ${e.message}`);
    ws.onclose = () => {
      clearTimeout(timer);
      resolve(first);
    };
    timer = setTimeout(() => {
      console.error(`autobahn-client: ${url}: no close within ${limitSecs} s`);
      ws.close();
      // Should the close event never come, move on anyway.
      timer = setTimeout(() => resolve(first), 6000);
    }, limitSecs * 1000);
  });
}

const count = Number.parseInt((await run(`${server}/getCaseCount`, false, 30)) ?? "", 10);
if (!Number.isInteger(count)) {
  console.error("autobahn-client: no case count from the fuzzing server");
  process.exit(1);
}
console.error(`autobahn-client: ${count} cases`);
for (let c = 1; c <= count; c++) {
  await run(`${server}/runCase?case=${c}&agent=${encodeURIComponent(agent)}`, true, caseTimeout);
}
await run(`${server}/updateReports?agent=${encodeURIComponent(agent)}`, false, 300);
