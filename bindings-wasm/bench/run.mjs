// Browser benchmark (not a timed test): messages per second through steadysock (wasm
// core), the browser's WebSocket and partysocket on one page against one echo server
// (bindings-node/test/server.mjs), in headless Chromium; and the gzipped size of a minimal
// bundle of each reconnecting client (steadysock: the JS bundle plus the .wasm file it
// fetches; and the `steadysock/inline` bundle with the module inside). Run after
// bindings-wasm/test.sh built the pages:
//   node bindings-wasm/bench/run.mjs            (sizes, then the benchmark)
//   node bindings-wasm/bench/run.mjs --sizes    (sizes only)
import { build } from "esbuild";
import { gzipSync } from "node:zlib";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { startServer } from "../../bindings-node/test/server.mjs";
import { launch, serveStatic } from "../test/chromium.mjs";

import { readFileSync } from "node:fs";

const here = dirname(fileURLToPath(import.meta.url));
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
const http = await serveStatic(join(here, "..", "test", "dist"));
const browser = await launch();
const page = await browser.context.newPage();
await page.goto(http.url("/bench.html"));
await page.waitForFunction(() => globalThis.benchReady === true);
const r = await page.evaluate((url) => globalThis.runBench(url), server.url("/echo"));
await browser.close();
await http.close();
await server.close();

console.log("client         burst msg/s (min-max)        round trips/s (min-max)   16-byte text, median of 7 rounds");
for (const [name, v] of Object.entries(r)) {
  console.log(`${name.padEnd(14)} ${String(v.burst).padStart(6)} (${v.burstRange.join("-").padEnd(11)})   ${String(v.seq).padStart(6)} (${v.seqRange.join("-")})`);
}
const pct = (a, b) => `${(((b - a) / b) * 100).toFixed(1)} %`;
console.log(`steadysock overhead vs WebSocket: burst ${pct(r.steadysock.burst, r.websocket.burst)}, sequential ${pct(r.steadysock.seq, r.websocket.seq)}`);


