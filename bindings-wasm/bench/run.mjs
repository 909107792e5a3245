// Browser benchmark (not a timed test): messages per second through steadysock (wasm
// core), the browser's WebSocket and partysocket on one page against one echo server
// (bindings-node/test/server.mjs), in headless Chromium; and the gzipped size of a minimal
// bundle of each reconnecting client. Run after bindings-wasm/test.sh built the pages:
//   node bindings-wasm/bench/run.mjs
import { build } from "esbuild";
import { gzipSync } from "node:zlib";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { startServer } from "../../bindings-node/test/server.mjs";
import { launch, serveStatic } from "../test/chromium.mjs";

const here = dirname(fileURLToPath(import.meta.url));
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
const ours = await bundleSize('import RWS from "steadysock"; globalThis.x = new RWS("ws://127.0.0.1:1/");');
const theirs = await bundleSize('import RWS from "partysocket/ws"; globalThis.x = new RWS("ws://127.0.0.1:1/");');
const kib = (n) => `${(n / 1024).toFixed(1)} KiB`;
console.log(`bundle steadysock (wasm inside): ${kib(ours.raw)} raw, ${kib(ours.gzip)} gzipped`);
console.log(`bundle partysocket/ws:           ${kib(theirs.raw)} raw, ${kib(theirs.gzip)} gzipped`);
