// partysocket behaviours of the Node suite (bindings-node/test/reconnecting.test.mjs) that
// apply in a browser, in headless Chromium: the package as a bundler resolves it (browser
// export: wasm core, the browser's WebSocket as a message transport), against the Node
// suite's independent test server (bindings-node/test/server.mjs). Plus what only a
// browser has: binaryType blob/arraybuffer, a Web Worker, no Math.random at module load,
// and the application heartbeat.
import assert from "node:assert/strict";
import { dirname, join } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { closedPort, startServer } from "../../bindings-node/test/server.mjs";
import { openPage } from "./chromium.mjs";

const dist = join(dirname(fileURLToPath(import.meta.url)), "dist");
let server;
let opened;
let http;
let browser;
let page;

before(async () => {
  server = await startServer();
  opened = await openPage(dist, "/behaviours.html", () => globalThis.steadysock !== undefined);
  ({ http, browser, page } = opened);
});

after(async () => {
  await opened?.close();
  await server?.close();
  assert.deepEqual(opened?.pageErrors ?? [], [], "no uncaught error in the page");
});

// In the page: a recorder of a socket's events, and a wait for a condition.
const HELPERS = `
  globalThis.FAST = { minReconnectionDelay: 20, maxReconnectionDelay: 100 };
  globalThis.record = (ws) => {
    const log = [];
    ws.addEventListener("open", () => log.push("open"));
    ws.addEventListener("message", (e) => log.push("message:" + (typeof e.data === "string" ? e.data : Object.prototype.toString.call(e.data))));
    ws.addEventListener("error", (e) => log.push("error:" + e.message));
    ws.addEventListener("close", (e) => log.push("close:" + e.code + ":" + e.wasClean));
    return log;
  };
  globalThis.until = (f, ms = 5000) => new Promise((resolve, reject) => {
    const t0 = performance.now();
    const poll = () => { if (f()) resolve(); else if (performance.now() - t0 > ms) reject(new Error("timed out waiting for " + f)); else setTimeout(poll, 5); };
    poll();
  });
  globalThis.once = (ws, type) => new Promise((r) => ws.addEventListener(type, r, { once: true }));
`;

let helpersIn = null;
const inPage = async (fn, arg) => {
  if (helpersIn !== page) {
    await page.evaluate(`{${HELPERS}}`);
    helpersIn = page;
  }
  return page.evaluate(`(${fn})(${JSON.stringify(arg)})`);
};

describe("ReconnectingWebSocket in Chromium (wasm core)", () => {
  test("exports and partysocket's defaults; nothing random at module load", async () => {
    const r = await inPage(async (url) => {
      const { ReconnectingWebSocket: RWS, CloseEvent, ErrorEvent, WebSocket } = steadysock;
      const ws = new RWS(url, undefined, { startClosed: true });
      let threw = null;
      try {
        RWS(url);
      } catch (e) {
        threw = e.constructor.name;
      }
      return {
        constants: [RWS.CONNECTING, RWS.OPEN, RWS.CLOSING, RWS.CLOSED, ws.OPEN],
        readyState: ws.readyState,
        url: ws.url,
        binaryType: ws.binaryType,
        retryCount: ws.retryCount,
        eventTarget: ws instanceof EventTarget,
        threw,
        closeEvent: new CloseEvent("close", { code: 4001, reason: "r" }).code,
        errorEvent: new ErrorEvent("error", { message: "m" }).message,
        nativeWebSocket: WebSocket === globalThis.WebSocket,
      };
    }, server.url("/echo"));
    assert.deepEqual(r, {
      constants: [0, 1, 2, 3, 1],
      readyState: 3,
      url: "",
      binaryType: "blob",
      retryCount: 0,
      eventTarget: true,
      threw: "TypeError",
      closeEvent: 4001,
      errorEvent: "m",
      nativeWebSocket: true,
    });
    const p2 = await browser.context.newPage();
    await p2.goto(http.url("/norandom.html"));
    await p2.waitForFunction(() => globalThis.steadysock !== undefined);
    assert.equal(await p2.evaluate(() => globalThis.randomCalls), 0, "Math.random at module load");
    await p2.close();
  });

  test("randomness (backoff jitter) comes from crypto.getRandomValues", async () => {
    const r = await inPage(async (url) => {
      const real = crypto.getRandomValues;
      let calls = 0;
      crypto.getRandomValues = function (a) {
        calls++;
        return real.call(crypto, a);
      };
      try {
        const ws = new steadysock.ReconnectingWebSocket(url, undefined, { minReconnectionDelay: 20, maxReconnectionDelay: 40, jitter: "full", maxRetries: 3 });
        const delays = [];
        ws.addEventListener("error", () => delays.push(performance.now()));
        await until(() => delays.length === 4);
        ws.close();
      } finally {
        crypto.getRandomValues = real;
      }
      return calls;
    }, `ws://127.0.0.1:${await closedPort()}/`);
    assert.ok(r >= 4, `crypto.getRandomValues called ${r} times (start-up probe + one per jittered delay)`);
  });

  test("open, echo, close: the close event is synchronous, readyState CLOSED at once, exactly one", async () => {
    const r = await inPage(async (url) => {
      const ws = new steadysock.ReconnectingWebSocket(url, undefined, FAST);
      const log = record(ws);
      const first = ws.readyState;
      await once(ws, "open");
      const open = ws.readyState;
      ws.send("hello");
      await until(() => log.includes("message:hello"));
      ws.close(4000, "done");
      const sync = [...log];
      const after = ws.readyState;
      await new Promise((r) => setTimeout(r, 200));
      return { first, open, sync, after, log };
    }, server.url("/echo"));
    assert.equal(r.first, 0);
    assert.equal(r.open, 1);
    assert.deepEqual(r.sync, ["open", "message:hello", "close:4000:true"]);
    assert.equal(r.after, 3);
    assert.deepEqual(r.log, r.sync, "nothing after the close event");
    const conn = server.connections.at(-1);
    assert.deepEqual(conn.closeFrame, { code: 4000, reason: "done" }, "the close code and reason reach the server");
  });

  test("binaryType: Blob by default, ArrayBuffer when set (before or after connecting)", async () => {
    const r = await inPage(async (url) => {
      const ws = new steadysock.ReconnectingWebSocket(url, undefined, FAST);
      const got = [];
      ws.addEventListener("message", (e) => got.push(e.data));
      await once(ws, "open");
      ws.send(new Uint8Array([1, 2, 3]));
      await until(() => got.length === 1);
      ws.binaryType = "arraybuffer";
      ws.send(new Uint8Array([4, 5]).buffer);
      await until(() => got.length === 2);
      ws.binaryType = "bogus";
      ws.send(new Blob([new Uint8Array([6])]));
      await until(() => got.length === 3);
      ws.close();
      return {
        first: [got[0] instanceof Blob, Array.from(new Uint8Array(await got[0].arrayBuffer()))],
        second: [got[1] instanceof ArrayBuffer, Array.from(new Uint8Array(got[1]))],
        third: [got[2] instanceof ArrayBuffer, Array.from(new Uint8Array(got[2]))],
        binaryType: ws.binaryType,
      };
    }, server.url("/echo"));
    assert.deepEqual(r, { first: [true, [1, 2, 3]], second: [true, [4, 5]], third: [true, [6]], binaryType: "arraybuffer" });
  });

  test("the server's close code and reason reach the listener exactly, then it reconnects", async () => {
    const r = await inPage(async (url) => {
      const ws = new steadysock.ReconnectingWebSocket(url, undefined, FAST);
      const closes = [];
      ws.addEventListener("close", (e) => closes.push([e.code, e.reason, e.wasClean]));
      await until(() => closes.length >= 2);
      ws.close();
      return closes.slice(0, 2);
    }, server.url("/close?code=4321&reason=gone%20away"));
    assert.deepEqual(r, [
      [4321, "gone away", true],
      [4321, "gone away", true],
    ]);
  });

  test("a dropped connection: close 1006 (wasClean false), then open again; onX and listeners stay", async () => {
    const r = await inPage(async (url) => {
      const ws = new steadysock.ReconnectingWebSocket(url, undefined, FAST);
      const log = record(ws);
      let onopen = 0;
      ws.onopen = () => onopen++;
      await until(() => log.filter((x) => x === "open").length >= 2);
      ws.close();
      return { log: log.slice(0, 3), onopen: onopen >= 2 };
    }, server.url("/drop"));
    assert.deepEqual(r, { log: ["open", "close:1006:false", "open"], onopen: true });
  });

  test("messages sent while connecting are queued (false), counted in bufferedAmount, delivered in order", async () => {
    const before = server.connections.length;
    const r = await inPage(async (url) => {
      const ws = new steadysock.ReconnectingWebSocket(url, undefined, FAST);
      const sent = [ws.send("a"), ws.send("bé"), ws.send(new Uint8Array([9, 9]))];
      const buffered = ws.bufferedAmount;
      const got = [];
      ws.addEventListener("message", (e) => got.push(e.data));
      await until(() => got.length === 3);
      const openSend = ws.send("d");
      ws.close();
      return { sent, buffered, openSend };
    }, server.url("/echo"));
    assert.deepEqual(r, { sent: [false, false, false], buffered: 1 + 3 + 2, openSend: true });
    const conn = server.connections[before];
    assert.deepEqual(
      conn.messages.slice(0, 3).map((m) => (m.binary ? [...m.data] : m.data)),
      ["a", "bé", [9, 9]],
    );
  });

  test("the wasm core's answers: providers with subprotocols, drainQueuedMessages, large and non-ASCII messages both ways", async () => {
    const r = await inPage(
      async ([protoUrl, silentUrl, echoUrl]) => {
        const RWS = steadysock.ReconnectingWebSocket;
        // URL and protocols providers (provideRequest with subprotocols): the server picks the first.
        const p = new RWS(async () => protoUrl, () => ["chat.v2", "chat.v1"], FAST);
        await once(p, "open");
        const protocol = p.protocol;
        p.close();
        // Queued in the core while connecting, then taken back (strings and ArrayBuffers, in order).
        const q = new RWS(silentUrl, undefined, { ...FAST, connectionTimeout: 60000 });
        q.send("a");
        q.send(new Uint8Array([1, 2]));
        q.send("é");
        const drained = q.drainQueuedMessages().map((d) => (typeof d === "string" ? d : [Object.prototype.toString.call(d), ...new Uint8Array(d)]));
        const after = q.bufferedAmount;
        q.close();
        // Echoes: a 1 MiB text (the module's memory grows), non-ASCII text, binary; in order.
        const e = new RWS(echoUrl, undefined, FAST);
        e.binaryType = "arraybuffer";
        const got = [];
        e.addEventListener("message", (m) => got.push(m.data));
        await once(e, "open");
        const big = "x".repeat(1 << 20) + "end";
        e.send(big);
        e.send("ünïcødé 🎉");
        e.send(new Uint8Array([0, 255, 7]));
        await until(() => got.length === 3);
        e.close();
        return {
          protocol,
          drained,
          after,
          echoes: [got[0] === big, got[1], [Object.prototype.toString.call(got[2]), ...new Uint8Array(got[2])]],
        };
      },
      [server.url("/proto"), server.url("/silent"), server.url("/echo")],
    );
    assert.deepEqual(r, {
      protocol: "chat.v2",
      drained: ["a", ["[object ArrayBuffer]", 1, 2], "é"],
      after: 0,
      echoes: [true, "ünïcødé 🎉", ["[object ArrayBuffer]", 0, 255, 7]],
    });
  });

  test("unreachable host: close 1006 then error per attempt, gives up after maxRetries, reconnect() works after", async () => {
    const dead = `ws://127.0.0.1:${await closedPort()}/`;
    const r = await inPage(
      async ([deadUrl, liveUrl]) => {
        let target = deadUrl;
        const ws = new steadysock.ReconnectingWebSocket(() => target, undefined, { ...FAST, maxRetries: 2 });
        const log = record(ws);
        await until(() => log.filter((x) => x.startsWith("error")).length === 3);
        await new Promise((r) => setTimeout(r, 300));
        const failed = [...log];
        const retryCount = ws.retryCount;
        target = liveUrl;
        ws.reconnect();
        await until(() => log.includes("open"));
        ws.close();
        return { failed, retryCount, readyStateAfter: ws.readyState };
      },
      [dead, server.url("/echo")],
    );
    assert.equal(r.failed.length, 6, `three attempts, close + error each: ${r.failed}`);
    for (let i = 0; i < 6; i += 2) {
      assert.equal(r.failed[i], "close:1006:false");
      assert.match(r.failed[i + 1], /^error:/);
    }
    assert.equal(r.retryCount, 2);
  });

  test("close() while CONNECTING: one close event, no error", async () => {
    const r = await inPage(async (url) => {
      const ws = new steadysock.ReconnectingWebSocket(url, undefined, FAST);
      const log = record(ws);
      await new Promise((r) => setTimeout(r, 20));
      const state = ws.readyState;
      ws.close();
      await new Promise((r) => setTimeout(r, 300));
      return { state, log };
    }, server.url("/silent"));
    assert.deepEqual(r, { state: 0, log: ["close:1000:true"] });
  });

  test("connectionTimeout: close, then the error says TIMEOUT", async () => {
    const r = await inPage(async (url) => {
      const ws = new steadysock.ReconnectingWebSocket(url, undefined, { ...FAST, connectionTimeout: 200, maxRetries: 0 });
      const log = record(ws);
      await until(() => log.some((x) => x.startsWith("error")));
      ws.close();
      return log;
    }, server.url("/silent"));
    assert.deepEqual(r, ["close:1006:false", "error:TIMEOUT"]);
  });

  test("reconnect() while open: one close event with its code, then open again", async () => {
    const r = await inPage(async (url) => {
      const ws = new steadysock.ReconnectingWebSocket(url, undefined, FAST);
      const log = record(ws);
      await once(ws, "open");
      ws.reconnect(4002, "again");
      const sync = [...log];
      await until(() => log.filter((x) => x === "open").length === 2);
      ws.close();
      return { sync, log };
    }, server.url("/echo"));
    assert.deepEqual(r.sync, ["open", "close:4002:true"]);
    assert.deepEqual(r.log, ["open", "close:4002:true", "open", "close:1000:true"]);
  });

  test("application heartbeat: the reply is consumed; no reply in time is a dead connection, then a reconnect", async () => {
    const r = await inPage(async (url) => {
      // The echo server answers the ping with the same text: with `pong` equal to the
      // ping, the echo is the reply.
      const alive = new steadysock.ReconnectingWebSocket(url, undefined, { ...FAST, heartbeat: { intervalMs: 50, timeoutMs: 150, ping: "hb", pong: "hb" } });
      const aliveLog = record(alive);
      await once(alive, "open");
      await new Promise((r) => setTimeout(r, 600));
      alive.close();
      // A reply pattern the server never sends: dead after interval + timeout.
      const dead = new steadysock.ReconnectingWebSocket(url, undefined, {
        ...FAST,
        heartbeat: { intervalMs: 50, timeoutMs: 150, ping: "hb", pong: "never", anyMessageCounts: false },
      });
      const deadLog = record(dead);
      await until(() => deadLog.filter((x) => x === "open").length === 2);
      dead.close();
      return { aliveLog, deadLog: deadLog.filter((x) => !x.startsWith("message")) };
    }, server.url("/echo"));
    assert.deepEqual(r.aliveLog, ["open", "close:1000:true"], "pongs are consumed, the connection stays");
    assert.deepEqual(r.deadLog.slice(0, 3), ["open", "close:1006:false", "open"]);
    const pings = server.connections.flatMap((c) => c.messages).filter((m) => m.data === "hb").length;
    assert.ok(pings >= 5, `the server saw the ping messages (${pings})`);
  });

  test("the steadysock/inline entry (no .wasm fetch): open, echo, close code and reason", async () => {
    const p2 = await browser.context.newPage();
    const wasmFetched = [];
    p2.on("request", (r) => r.url().endsWith(".wasm") && wasmFetched.push(r.url()));
    await p2.goto(http.url("/inline.html"));
    await p2.waitForFunction(() => globalThis.steadysockInline !== undefined);
    const r = await p2.evaluate(
      (url) =>
        new Promise((resolve) => {
          const seen = [];
          const ws = new globalThis.steadysockInline.ReconnectingWebSocket(url);
          ws.onopen = () => ws.send("inline");
          ws.onmessage = (e) => {
            seen.push(e.data);
            ws.close(4001, "inline done");
          };
          ws.onclose = (e) => resolve([...seen, `close:${e.code}:${e.reason}`]);
        }),
      server.url("/echo"),
    );
    await p2.close();
    assert.deepEqual(r, ["inline", "close:4001:inline done"]);
    assert.deepEqual(wasmFetched, [], "the inline entry fetches no .wasm");
  });

  test("the default entry loads a .wasm served with another content type (read whole), and names a missing one", async () => {
    const p2 = await browser.context.newPage();
    await p2.route("**/*.wasm", async (route) => {
      const response = await route.fetch();
      await route.fulfill({ response, headers: { ...response.headers(), "content-type": "application/octet-stream" } });
    });
    await p2.goto(http.url("/behaviours.html"));
    await p2.waitForFunction(() => globalThis.steadysock !== undefined);
    const r = await p2.evaluate(
      (url) =>
        new Promise((resolve) => {
          const ws = new globalThis.steadysock.ReconnectingWebSocket(url);
          ws.onopen = () => ws.send("octet-stream");
          ws.onmessage = (e) => {
            ws.close();
            resolve(e.data);
          };
        }),
      server.url("/echo"),
    );
    await p2.close();
    assert.equal(r, "octet-stream");

    const p3 = await browser.context.newPage();
    const errors = [];
    p3.on("pageerror", (e) => errors.push(e.message));
    await p3.route("**/*.wasm", (route) => route.fulfill({ status: 404, contentType: "text/plain", body: "not found" }));
    await p3.goto(http.url("/behaviours.html"));
    // (the module's import fails when the fetch does: an uncaught error of the page)
    const deadline = Date.now() + 5000;
    while (errors.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const loaded = await p3.evaluate(() => globalThis.steadysock !== undefined);
    await p3.close();
    assert.equal(loaded, false);
    assert.match(errors.join("\n"), /steadysock: could not fetch .*steadysock_wasm_bg\.wasm: HTTP 404/);
  });

  test("in a Web Worker: open, text and binary echo, close code and reason", async () => {
    const r = await page.evaluate(
      (url) =>
        new Promise((resolve, reject) => {
          const w = new Worker("behaviours.js", { type: "module" });
          w.onmessage = (e) => {
            if (e.data === "ready") return w.postMessage({ url });
            resolve(e.data);
            w.terminate();
          };
          w.onerror = (e) => reject(new Error(e.message));
        }),
      server.url("/echo"),
    );
    assert.deepEqual(r, ["open", "text:from a worker", "binary:1,2,3", "close:4000:worker done"]);
  });
});
