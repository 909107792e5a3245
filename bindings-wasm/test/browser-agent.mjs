#!/usr/bin/env node
// The browser scenario agent: a bridge process that speaks the host protocol's JSON lines
// on stdin/stdout (conformance/scenarios/README.md) and relays them to a page in headless
// Chromium (agent-page.mjs, bundled to dist/agent.js by build-pages.mjs), where the
// package's ReconnectingWebSocket runs over the wasm core and the browser's WebSocket.
// Every line the page writes goes out in the order the page wrote it. Logs go to stderr.
import { createInterface } from "node:readline";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { launch, serveStatic } from "./chromium.mjs";

const dist = join(dirname(fileURLToPath(import.meta.url)), "dist");
const http = await serveStatic(dist);
const browser = await launch();
const page = await browser.context.newPage();
// The page's console (Chromium logs every failed WebSocket there) only on request.
if (process.env.AGENT_DEBUG) page.on("console", (m) => process.stderr.write(`[page ${m.type()}] ${m.text()}\n`));
page.on("pageerror", (e) => process.stderr.write(`[page error] ${e.message}\n`));
let quitting = false;
await page.exposeFunction("__agentOut", (line) => {
  process.stdout.write(line + "\n");
  if (quitting && line.includes('"reply":"quit"')) setTimeout(finish, 50);
});
await page.goto(http.url("/agent.html"));
await page.waitForFunction(() => globalThis.__agentReady === true);

let finished = false;
async function finish() {
  if (finished) return;
  finished = true;
  await browser.close();
  await http.close();
  process.exit(0);
}

let chain = Promise.resolve();
const rl = createInterface({ input: process.stdin });
rl.on("line", (line) => {
  if (!line.trim()) return;
  if (/"cmd"\s*:\s*"quit"/.test(line)) quitting = true;
  chain = chain.then(() => page.evaluate((l) => globalThis.__agentIn(l), line)).catch((e) => process.stderr.write(`[agent] ${e.message}\n`));
});
rl.on("close", () => chain.then(finish));
