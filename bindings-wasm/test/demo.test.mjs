// The demo page (demo.html, demo-page.mjs) against the fault server while it restarts: the
// page must show the state, the reconnect attempts with their delays and the messages,
// those sent while it was away included (replayed: recovery). A screenshot is saved to
// test/screenshots/demo.png.
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";
import { launch, serveStatic } from "./chromium.mjs";
import { startFaultServer } from "./fault-server.mjs";

const here = dirname(fileURLToPath(import.meta.url));
let server;
let http;
let browser;

before(async () => {
  server = await startFaultServer();
  http = await serveStatic(join(here, "dist"));
  browser = await launch();
});
after(async () => {
  await browser?.close();
  await http?.close();
  await server?.close();
});

test("demo: state, reconnect attempts with delays, messages recovered across a server restart", async () => {
  const page = await browser.context.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(e.message));
  await page.goto(http.url(`/demo.html?ws=${encodeURIComponent(`ws://${server.ws}/ws`)}`));
  await page.waitForFunction(() => globalThis.demo?.state === "open", null, { timeout: 10000 });
  assert.equal(await server.command("send 3"), "ok");
  await page.waitForFunction(() => globalThis.demo.messages.length === 3, null, { timeout: 10000 });
  assert.equal(await server.command("restart 1500 keep"), "ok");
  await page.waitForFunction(() => globalThis.demo.state !== "open", null, { timeout: 10000 });
  assert.equal(await server.command("send 3"), "ok", "m4..m6 go to the recovery log while the page is away");
  await page.waitForFunction(() => globalThis.demo.opens === 2 && globalThis.demo.messages.length === 6, null, { timeout: 15000 });
  const demo = await page.evaluate(() => globalThis.demo);
  assert.deepEqual(
    demo.messages.map((m) => m.text),
    ["m1", "m2", "m3", "m4", "m5", "m6"],
  );
  assert.deepEqual(
    demo.messages.map((m) => m.connection),
    [1, 1, 1, 2, 2, 2],
    "m4..m6 came on the second connection (replayed)",
  );
  assert.equal(demo.recovered, true, "the second open resumed the session");
  assert.ok(demo.attempts.length >= 1, "at least one reconnect attempt shown");
  for (const a of demo.attempts) assert.ok(a.delay >= 0 && a.delay <= 1500, `delay ${a.delay} within the backoff bounds`);
  // What the page shows.
  assert.equal(await page.textContent("#state"), "open");
  assert.equal(await page.textContent("#recovered"), "true");
  assert.equal(await page.textContent("#count"), "6");
  assert.equal(await page.locator("#attempts li").count(), demo.attempts.length);
  assert.match(await page.textContent("#attempts li"), /^attempt \d+ in \d+ ms \(/);
  mkdirSync(join(here, "screenshots"), { recursive: true });
  await page.screenshot({ path: join(here, "screenshots", "demo.png") });
  assert.deepEqual(errors, []);
});
