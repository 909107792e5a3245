// Browser benchmark (not a timed test): messages per second through steadysock (wasm
// core), the browser's WebSocket and partysocket on one page against one echo server
// (bindings-node/test/server.mjs), in headless Chromium; the renderer's CPU time per
// message; and the gzipped size of a minimal bundle of each reconnecting client
// (steadysock: the JS bundle plus the .wasm file it fetches; and the `steadysock/inline`
// bundle with the module inside). Run after bindings-wasm/test.sh built the pages (or
// build.sh + node bindings-wasm/test/build-pages.mjs bench):
//   node bindings-wasm/bench/run.mjs                 (sizes, then the benchmark)
//   node bindings-wasm/bench/run.mjs --sizes         (sizes only)
//   node bindings-wasm/bench/run.mjs --rounds 15 --burst 20000 --seq 2000
//
// Rounds: every client runs once per round (connect, warm-up of 1000, one burst, one run
// of round trips, close), the order rotated from round to round, so that a busy moment of
// a shared machine falls on all of them alike. Reported: the median of the rounds and the
// range; overhead = 1 - (steadysock's median / WebSocket's median). CPU: the renderer
// main thread's busy time (CDP Performance.getMetrics `TaskDuration`: script, event
// dispatch, the WebSocket's own work) and its script part (`ScriptDuration`) over each
// measure, per message — what the client costs, apart from the server and the network.
// Last, each client's own cost with no network at all: a stand-in WebSocket delivers
// messages in a loop (test/bench-page.mjs, bench.synthetic).
import { build } from "esbuild";
import { gzipSync } from "node:zlib";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { startServer } from "../../bindings-node/test/server.mjs";
import { openPage } from "../test/chromium.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const ROUNDS = arg("rounds", 15);
const BURST = arg("burst", 20000);
const SEQ = arg("seq", 2000);

async function bundleSize(source) {
  const out = await build({
    stdin: { contents: source, resolveDir: join(here, ".."), loader: "js" },
    bundle: true,
    minify: true,
    platform: "browser",
    format: "esm",
    write: false,
  });
  const bytes = out.outputFiles[0].contents;
  return { raw: bytes.length, gzip: gzipSync(bytes, { level: 9 }).length };
}
const app = (entry) => `import RWS from "${entry}"; globalThis.x = new RWS("ws://127.0.0.1:1/");`;
const ours = await bundleSize(app("steadysock"));
const wasmBytes = readFileSync(join(here, "../../bindings-node/wasm/steadysock_wasm_bg.wasm"));
const wasm = { raw: wasmBytes.length, gzip: gzipSync(wasmBytes, { level: 9 }).length };
const inline = await bundleSize(app("steadysock/inline"));
const theirs = await bundleSize(app("partysocket/ws"));
const kib = (n) => `${(n / 1024).toFixed(1)} KiB`;
const row = (name, v) => console.log(`${name.padEnd(40)} ${kib(v.raw).padStart(10)} raw ${kib(v.gzip).padStart(10)} gzipped`);
row("steadysock: JS bundle", ours);
row("steadysock: + steadysock_wasm_bg.wasm", wasm);
row("steadysock: total (JS + .wasm)", { raw: ours.raw + wasm.raw, gzip: ours.gzip + wasm.gzip });
row("steadysock/inline: one bundle", inline);
row("partysocket/ws", theirs);
if (process.argv.includes("--sizes")) process.exit(0);

const server = await startServer();
const opened = await openPage(join(here, "..", "test", "dist"), "/bench.html", () => globalThis.benchReady === true);
const { browser, page } = opened;
const cdp = await browser.context.newCDPSession(page);
await cdp.send("Performance.enable");
const cpu = async () => {
  const { metrics } = await cdp.send("Performance.getMetrics");
  const m = Object.fromEntries(metrics.map((x) => [x.name, x.value]));
  return { task: m.TaskDuration, script: m.ScriptDuration };
};
/** Runs `f` in the page: its result (ms) and the main thread's CPU µs per message. */
async function measure(f, arg, n) {
  const before = await cpu();
  const ms = await page.evaluate(f, arg);
  const after = await cpu();
  return { rate: n / (ms / 1000), task: ((after.task - before.task) * 1e6) / n, script: ((after.script - before.script) * 1e6) / n };
}

const names = ["steadysock", "websocket", "partysocket", "redispatch"];
const results = Object.fromEntries(names.map((n) => [n, []]));
const url = server.url("/echo");
for (let r = 0; r < ROUNDS; r++) {
  const order = names.map((_, i) => names[(i + r) % names.length]);
  for (const name of order) {
    await page.evaluate(([name, url]) => globalThis.bench.open(name, url), [name, url]);
    const burst = await measure((n) => globalThis.bench.burst(n), BURST, BURST);
    const seq = await measure((n) => globalThis.bench.seq(n), SEQ, SEQ);
    await page.evaluate(() => globalThis.bench.close());
    results[name].push({ burst, seq });
  }
  process.stderr.write(`round ${r + 1}/${ROUNDS}\r`);
}
// The clients' own cost, without network or server: messages delivered by a stand-in
// WebSocket in a loop (bench.synthetic), 3 times each, interleaved.
const synthetic = Object.fromEntries(names.map((n) => [n, []]));
for (let r = 0; r < 3; r++) for (const name of names.slice(0, 3)) synthetic[name].push(await page.evaluate((name) => globalThis.bench.synthetic(name), name));
await opened.close();
await server.close();

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const stat = (name, kind, key) => results[name].map((x) => x[kind][key]);
const med = (name, kind, key) => median(stat(name, kind, key));
const range = (xs) => `${Math.round(Math.min(...xs))}-${Math.round(Math.max(...xs))}`;
console.log(`\n16-byte text, ${ROUNDS} rounds (order rotated), burst ${BURST}, round trips ${SEQ}: median (min-max); CPU = renderer main thread µs per message (script part)`);
console.log(`${"client".padEnd(12)} ${"burst msg/s".padStart(22)} ${"round trips/s".padStart(20)}   ${"CPU burst".padStart(14)}  ${"CPU round trip".padStart(15)}`);
for (const name of names) {
  const b = stat(name, "burst", "rate");
  const s = stat(name, "seq", "rate");
  const c = (kind) => `${med(name, kind, "task").toFixed(1)} (${med(name, kind, "script").toFixed(1)})`;
  console.log(
    `${name.padEnd(12)} ${`${Math.round(median(b))} (${range(b)})`.padStart(22)} ${`${Math.round(median(s))} (${range(s)})`.padStart(20)}   ${c("burst").padStart(14)}  ${c("seq").padStart(15)}`,
  );
}
const over = (kind, key) => `${((1 - med("steadysock", kind, key) / med("websocket", kind, key)) * 100).toFixed(1)} %`;
const cpuOver = (kind) => `+${(med("steadysock", kind, "task") - med("websocket", kind, "task")).toFixed(1)} µs`;
console.log(`steadysock overhead vs WebSocket (ratio of medians): burst ${over("burst", "rate")}, round trips ${over("seq", "rate")}; CPU per message ${cpuOver("burst")} (burst), ${cpuOver("seq")} (round trip)`);
// Paired: the ratio of two clients' rates within each round (run minutes apart at most,
// so a slow phase of the machine weighs on both), then the median of those ratios.
const paired = (a, b, kind) => {
  const ratios = results[a].map((x, i) => x[kind].rate / results[b][i][kind].rate);
  const s = [...ratios].sort((x, y) => x - y);
  const pct = (r) => `${((1 - r) * 100).toFixed(1)} %`;
  return `${pct(median(ratios))} (middle half ${pct(s[Math.floor((s.length * 3) / 4)])} to ${pct(s[Math.floor(s.length / 4)])})`;
};
for (const other of ["steadysock", "partysocket", "redispatch"]) {
  console.log(`${other} below WebSocket, paired per round (median of ratios): burst ${paired(other, "websocket", "burst")}, round trips ${paired(other, "websocket", "seq")}`);
}
const syn = (name, key) => median(synthetic[name].map((x) => x[key]));
console.log(
  `client's own cost over a stand-in WebSocket (no network; µs per message, median): ${names
    .slice(0, 3)
    .map((n) => `${n} receive ${syn(n, "recv").toFixed(2)} send ${syn(n, "send").toFixed(2)}`)
    .join("; ")} (websocket: the stand-in alone, making and dispatching the MessageEvent)`,
);
