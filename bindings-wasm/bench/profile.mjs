// Where a client's time goes on the benchmark page: the V8 CPU profile (CDP Profiler) of
// one burst (or round trips), self time aggregated by function, top 25. Run after the
// pages are built (bindings-wasm/test.sh, or build.sh + node test/build-pages.mjs bench):
//   node bindings-wasm/bench/profile.mjs [steadysock|websocket|partysocket] [burst|seq] [N]
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { startServer } from "../../bindings-node/test/server.mjs";
import { openPage } from "../test/chromium.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const [name = "steadysock", kind = "burst", n = "20000"] = process.argv.slice(2);
const server = await startServer();
const opened = await openPage(join(here, "..", "test", "dist"), "/bench.html", () => globalThis.benchReady === true);
const { browser, page } = opened;
const url = server.url("/echo");
await page.evaluate(([name, url]) => globalThis.runOne(name, url, "burst", 2000), [name, url]); // warm-up
const cdp = await browser.context.newCDPSession(page);
await cdp.send("Profiler.enable");
await cdp.send("Profiler.setSamplingInterval", { interval: 50 });
await cdp.send("Profiler.start");
const r = await page.evaluate(([name, url, kind, n]) => globalThis.runOne(name, url, kind, n), [name, url, kind, Number(n)]);
const { profile } = await cdp.send("Profiler.stop");
await opened.close();
await server.close();

const self = new Map();
const byId = new Map(profile.nodes.map((node) => [node.id, node]));
const dt = new Map();
for (let i = 0; i < profile.samples.length; i++) dt.set(profile.samples[i], (dt.get(profile.samples[i]) || 0) + profile.timeDeltas[i]);
let total = 0;
for (const [id, us] of dt) {
  const f = byId.get(id).callFrame;
  const key = `${f.functionName || "(anonymous)"} ${f.url.split("/").pop()}:${f.lineNumber + 1}:${f.columnNumber + 1}`;
  self.set(key, (self.get(key) || 0) + us);
  total += us;
}
const busy = [...self].filter(([k]) => !k.startsWith("(idle)") && !k.startsWith("(program)")).reduce((s, [, v]) => s + v, 0);
console.log(`${name} ${kind} ${n}: ${r.ms.toFixed(0)} ms, ${((Number(n) / r.ms) * 1000).toFixed(0)} msg/s; profiled ${(total / 1000).toFixed(0)} ms, JS+wasm busy ${(busy / 1000).toFixed(0)} ms = ${(busy / Number(n)).toFixed(2)} µs/message`);
for (const [k, us] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 25)) console.log(`${(us / 1000).toFixed(1).padStart(8)} ms  ${((us / total) * 100).toFixed(1).padStart(5)} %  ${k}`);
