// The partysocket-compatible ReconnectingWebSocket (over the core Session) against the
// independent test server (test/server.mjs), including the known partysocket /
// reconnecting-websocket bugs it must not have.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import ReconnectingWebSocket, { CloseEvent, ErrorEvent, ReconnectingWebSocket as Named, WebSocket } from "../index.mjs";
import { closedPort, startServer } from "./server.mjs";

const unhandled = [];
process.on("uncaughtException", (e) => unhandled.push(e));
process.on("unhandledRejection", (e) => unhandled.push(e));

// Fast retries for the tests; every other option keeps partysocket's default.
const FAST = { minReconnectionDelay: 20, maxReconnectionDelay: 100 };

let server;
before(async () => {
  server = await startServer();
});
after(async () => {
  await server.close();
  assert.deepEqual(unhandled, [], "no uncaught exception or unhandled rejection");
});

function record(ws) {
  const log = [];
  ws.addEventListener("open", () => log.push("open"));
  ws.addEventListener("message", (e) => log.push(`message:${e.data}`));
  ws.addEventListener("error", (e) => log.push(`error:${e.message}`));
  ws.addEventListener("close", (e) => log.push(`close:${e.code}:${e.wasClean}`));
  return log;
}

const tick = () => new Promise((r) => setTimeout(r, 30));

describe("ReconnectingWebSocket", () => {
  test("exports: default and named, the constants, partysocket's defaults", () => {
    assert.equal(ReconnectingWebSocket, Named);
    assert.deepEqual(
      [ReconnectingWebSocket.CONNECTING, ReconnectingWebSocket.OPEN, ReconnectingWebSocket.CLOSING, ReconnectingWebSocket.CLOSED],
      [0, 1, 2, 3],
    );
    const ws = new ReconnectingWebSocket(server.url("/echo"), undefined, { startClosed: true });
    assert.equal(ws.readyState, ws.CLOSED, "startClosed");
    assert.equal(ws.url, "", "no socket yet");
    assert.equal(ws.binaryType, "blob");
    assert.equal(ws.retryCount, 0);
    assert.ok(ws instanceof EventTarget);
    assert.throws(() => ReconnectingWebSocket(server.url()), TypeError, "needs new");
  });

  test("20 listeners of one type: no MaxListenersExceededWarning (a partysocket annoyance)", async () => {
    const warnings = [];
    const onWarning = (w) => warnings.push(w.name);
    process.on("warning", onWarning);
    try {
      for (const Class of [ReconnectingWebSocket, WebSocket]) {
        const ws = new Class(server.url("/silent"));
        for (let i = 0; i < 20; i++) ws.addEventListener("message", () => {});
        ws.close();
      }
      await tick();
    } finally {
      process.off("warning", onWarning);
    }
    assert.deepEqual(warnings.filter((n) => n === "MaxListenersExceededWarning"), []);
  });

  test("CloseEvent and ErrorEvent also take partysocket's constructor forms", () => {
    const target = {};
    const c = new CloseEvent(4001, "bye", target);
    assert.deepEqual([c.type, c.code, c.reason, c.wasClean, c.target], ["close", 4001, "bye", true, target]);
    const d = new CloseEvent();
    assert.deepEqual([d.type, d.code, d.reason], ["close", 1000, ""]);
    const w = new CloseEvent("close", { code: 1006, reason: "", wasClean: false });
    assert.deepEqual([w.code, w.wasClean, w.target], [1006, false, null]);
    const err = new Error("boom");
    const e = new ErrorEvent(err, target);
    assert.deepEqual([e.type, e.message, e.error, e.target], ["error", "boom", err, target]);
    assert.ok(e instanceof Event && c instanceof Event);
    const we = new ErrorEvent("error", { message: "m", error: err });
    assert.deepEqual([we.message, we.error], ["m", err]);
  });

  test("open, echo, close: the close event is synchronous, readyState CLOSED at once, exactly one", async () => {
    const ws = new ReconnectingWebSocket(server.url("/echo"), undefined, FAST);
    const log = record(ws);
    assert.equal(ws.readyState, ws.CONNECTING);
    await once(ws, "open");
    assert.equal(ws.readyState, ws.OPEN);
    assert.equal(ws.send("hi"), true, "written to an open socket");
    await once(ws, "message");
    ws.close(4000, "bye");
    assert.equal(ws.readyState, ws.CLOSED);
    assert.deepEqual(log, ["open", "message:hi", "close:4000:true"]);
    await tick();
    await tick();
    assert.deepEqual(log, ["open", "message:hi", "close:4000:true"], "nothing after");
    assert.deepEqual(server.connections.at(-1).closeFrame, { code: 4000, reason: "bye" });
  });

  test("a dropped connection: close 1006 (wasClean false), then reconnected; the listeners and onX stay", async () => {
    const ws = new ReconnectingWebSocket(server.url("/echo"), undefined, FAST);
    let opens = 0;
    ws.onopen = () => opens++;
    const log = record(ws);
    await once(ws, "open");
    server.dropAll();
    const [e] = await once(ws, "close");
    assert.ok(e instanceof CloseEvent);
    assert.deepEqual([e.code, e.wasClean], [1006, false]);
    await once(ws, "open");
    assert.equal(opens, 2);
    ws.send("again");
    await once(ws, "message");
    ws.close();
    assert.deepEqual(log, ["open", "close:1006:false", "open", "message:again", "close:1000:true"]);
  });

  test("the server's close code and reason reach the listener", async () => {
    const ws = new ReconnectingWebSocket(server.url("/close?code=4001&reason=later"), undefined, FAST);
    const [e] = await once(ws, "close");
    assert.deepEqual([e.code, e.reason, e.wasClean], [4001, "later", true]);
    ws.close();
  });

  test("messages sent while connecting are queued (false) and delivered in order on open", async () => {
    const ws = new ReconnectingWebSocket(server.url("/echo"), undefined, FAST);
    assert.equal(ws.send("one"), false);
    assert.equal(ws.send(new Uint8Array([1, 2])), false);
    assert.equal(ws.send(new Blob(["three"])), false);
    assert.equal(ws.send("four"), false);
    assert.ok(ws.bufferedAmount >= 5);
    ws.binaryType = "arraybuffer";
    const got = [];
    ws.onmessage = (e) => got.push(typeof e.data === "string" ? e.data : [...new Uint8Array(e.data)]);
    while (got.length < 4) await once(ws, "message");
    assert.deepEqual(got, ["one", [1, 2], [0x74, 0x68, 0x72, 0x65, 0x65], "four"], "a Blob keeps its place");
    ws.close();
  });

  test("unreachable host: close 1006 then error per attempt, retryCount counts, no crash; gives up after maxRetries", async () => {
    const ws = new ReconnectingWebSocket(`ws://127.0.0.1:${await closedPort()}/`, undefined, { ...FAST, maxRetries: 2 });
    const log = record(ws);
    const counts = [];
    ws.addEventListener("error", (e) => {
      assert.ok(e instanceof ErrorEvent);
      counts.push(ws.retryCount);
    });
    while (log.length < 6) await once(ws, "error");
    await tick();
    assert.equal(log.length, 6, "3 attempts, then nothing");
    assert.deepEqual(
      log.map((l) => l.split(":")[0] + (l.startsWith("close") ? l.slice(5) : "")),
      ["close:1006:false", "error", "close:1006:false", "error", "close:1006:false", "error"],
    );
    assert.match(log[1], /ECONNREFUSED/);
    assert.deepEqual(counts, [0, 1, 2]);
    assert.equal(ws.readyState, ws.CLOSED);
  });

  test("reconnect() works after maxRetries ran out (partysocket #252, rws #125)", async () => {
    const port = await closedPort();
    const ws = new ReconnectingWebSocket(`ws://127.0.0.1:${port}/echo`, undefined, { ...FAST, maxRetries: 0 });
    await once(ws, "error");
    await tick();
    const late = await startServer({ port });
    try {
      ws.reconnect();
      await once(ws, "open");
      ws.send("back");
      const [m] = await once(ws, "message");
      assert.equal(m.data, "back");
      ws.close();
    } finally {
      await late.close();
    }
  });

  test("close() while CONNECTING: one close event, no error, nothing unhandled (partysocket #912, rws #197)", async () => {
    for (const url of [server.url("/silent"), `ws://127.0.0.1:${await closedPort()}/`, "ws://steadysock-test.invalid/"]) {
      const ws = new ReconnectingWebSocket(url, undefined, FAST);
      const log = record(ws);
      ws.close();
      assert.equal(ws.readyState, ws.CLOSED);
      assert.deepEqual(log, ["close:1000:true"], url);
      await tick();
      await tick();
      assert.deepEqual(log, ["close:1000:true"], `${url}: nothing after`);
    }
  });

  test("close() before the first connect, then reconnect() (rws #165)", async () => {
    const ws = new ReconnectingWebSocket(server.url("/echo"), undefined, { ...FAST, startClosed: true });
    ws.close();
    ws.reconnect();
    await once(ws, "open");
    ws.close();
  });

  test("reconnect() while open: one close event with its code, then open again", async () => {
    const ws = new ReconnectingWebSocket(server.url("/echo"), undefined, FAST);
    const log = record(ws);
    await once(ws, "open");
    ws.reconnect(4002, "fresh");
    assert.deepEqual(log, ["open", "close:4002:true"]);
    await once(ws, "open");
    await tick();
    ws.close();
    assert.deepEqual(log, ["open", "close:4002:true", "open", "close:1000:true"]);
  });

  test("send() after close(): warned once, delivered by reconnect()", async () => {
    const ws = new ReconnectingWebSocket(server.url("/echo"), undefined, FAST);
    await once(ws, "open");
    ws.close();
    const warn = console.warn;
    const warnings = [];
    console.warn = (...args) => warnings.push(args.join(" "));
    try {
      assert.equal(ws.send("kept 1"), false);
      assert.equal(ws.send("kept 2"), false);
    } finally {
      console.warn = warn;
    }
    assert.equal(warnings.length, 1);
    assert.match(warnings[0], /send\(\) was called after close\(\)/);
    ws.reconnect();
    const got = [];
    ws.onmessage = (e) => got.push(e.data);
    while (got.length < 2) await once(ws, "message");
    assert.deepEqual(got, ["kept 1", "kept 2"]);
    ws.close();
  });

  test("connectionTimeout: the error says TIMEOUT", async () => {
    const ws = new ReconnectingWebSocket(server.url("/silent"), undefined, { ...FAST, connectionTimeout: 50, maxRetries: 0 });
    const [e] = await once(ws, "error");
    assert.equal(e.message, "TIMEOUT");
    ws.close();
  });

  test("a URL provider is asked again for every attempt (sync, then async)", async () => {
    const dead = `ws://127.0.0.1:${await closedPort()}/`;
    const asked = [];
    const ws = new ReconnectingWebSocket(
      () => {
        asked.push(asked.length);
        return asked.length === 1 ? dead : Promise.resolve(server.url("/echo?attempt=2"));
      },
      () => ["chat"],
      FAST,
    );
    assert.equal(ws.url, "", "not known before the provider answered");
    await once(ws, "open");
    assert.deepEqual(asked, [0, 1]);
    assert.equal(ws.url, server.url("/echo?attempt=2"));
    assert.equal(server.connections.at(-1).path, "/echo?attempt=2");
    assert.equal(server.connections.at(-1).headers["sec-websocket-protocol"], "chat");
    ws.close();
  });

  test("a throwing or rejecting URL provider is an error event and a retry, never unhandled", async () => {
    let calls = 0;
    const ws = new ReconnectingWebSocket(
      () => {
        calls++;
        if (calls === 1) throw new Error("no token yet");
        if (calls === 2) return Promise.reject(new Error("token service down"));
        return server.url("/echo");
      },
      undefined,
      FAST,
    );
    const errors = [];
    ws.addEventListener("error", (e) => errors.push(e.message));
    await once(ws, "open");
    assert.equal(calls, 3);
    assert.equal(errors.length, 2);
    assert.match(errors[0], /no token yet/);
    assert.match(errors[1], /token service down/);
    ws.close();
  });

  test("a provider's unusable URL fails that attempt only", async () => {
    let calls = 0;
    const ws = new ReconnectingWebSocket(() => (++calls === 1 ? "http://not-a-ws-url/" : server.url("/echo")), undefined, FAST);
    const [e] = await once(ws, "error");
    assert.match(e.message, /URL/);
    await once(ws, "open");
    assert.equal(calls, 2);
    ws.close();
  });

  test("shouldReconnectOnClose returning false stops reconnecting before the close listeners run", async () => {
    const seen = [];
    const ws = new ReconnectingWebSocket(server.url("/close?code=4004&reason=gone"), undefined, {
      ...FAST,
      shouldReconnectOnClose: (e) => {
        seen.push(e.code);
        return e.code !== 4004;
      },
    });
    const [e] = await once(ws, "close");
    assert.equal(e.code, 4004);
    assert.equal(ws.shouldReconnect, false, "already decided when the listener runs");
    assert.equal(ws.readyState, ws.CLOSED);
    const before = server.connections.length;
    await tick();
    await tick();
    assert.equal(server.connections.length, before, "no new attempt");
    assert.deepEqual(seen, [4004]);
    ws.reconnect();
    await once(ws, "close");
    ws.close();
  });

  test("drainQueuedMessages() takes what is queued, in order", async () => {
    const ws = new ReconnectingWebSocket(server.url("/echo"), undefined, { ...FAST, startClosed: true });
    ws.reconnect();
    ws.send("a");
    ws.send(new Uint8Array([7]));
    const drained = ws.drainQueuedMessages();
    assert.equal(drained.length, 2);
    assert.equal(drained[0], "a");
    assert.deepEqual([...new Uint8Array(drained[1])], [7]);
    assert.deepEqual(ws.drainQueuedMessages(), []);
    ws.close();
  });

  test("debug: the debugLogger gets RWS> lines", async () => {
    const lines = [];
    const ws = new ReconnectingWebSocket(server.url("/echo"), undefined, { ...FAST, debug: true, debugLogger: (...a) => lines.push(a) });
    await once(ws, "open");
    ws.close();
    assert.deepEqual(lines[0], ["RWS>", "connect", 0]);
    assert.ok(lines.some((l) => l[1] === "open"));
    assert.ok(lines.some((l) => l[1] === "close"));
  });

  test("10,000 reconnect cycles: flat memory and no growing handle count", async () => {
    const cycles = Number(process.env.STEADYSOCK_CYCLES || 10000);
    const script = fileURLToPath(new URL("./fixtures/cycles.mjs", import.meta.url));
    const proc = spawn(process.execPath, ["--expose-gc", script, server.url("/drop"), String(cycles)], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    let out = "";
    proc.stdout.on("data", (d) => (out += d));
    const [code] = await once(proc, "exit");
    assert.equal(code, 0, out);
    const r = JSON.parse(out);
    assert.equal(r.opens, cycles);
    assert.ok(r.closes >= cycles - 1, `a close event per dropped connection: ${r.closes}`);
    assert.ok(r.end.resources <= r.early.resources, `resources ${r.early.resources} -> ${r.end.resources}`);
    // 90% of the cycles may leave at most 64 bytes each on the heap.
    const growth = r.end.heapUsed - r.early.heapUsed;
    assert.ok(growth < cycles * 0.9 * 64, `heap grew ${growth} bytes over ${cycles * 0.9} cycles`);
    console.log(`# cycles: ${cycles}, heap ${r.early.heapUsed} -> ${r.end.heapUsed} B, rss ${r.early.rss} -> ${r.end.rss} B`);
  });

  test("the WebSocket option: the Session over a host WebSocket class (message transport)", async () => {
    const made = [];
    class Host extends WebSocket {
      constructor(url, protocols) {
        super(url, protocols);
        made.push([url, protocols]);
      }
    }
    const ws = new ReconnectingWebSocket(server.url("/proto"), ["v1"], { ...FAST, WebSocket: Host });
    const log = record(ws);
    ws.binaryType = "arraybuffer";
    await once(ws, "open");
    assert.equal(ws.protocol, "v1");
    assert.deepEqual(made, [[server.url("/proto"), ["v1"]]]);
    ws.send("text");
    ws.send(new Uint8Array([5, 6]));
    const got = [];
    ws.onmessage = (e) => got.push(typeof e.data === "string" ? e.data : [...new Uint8Array(e.data)]);
    while (got.length < 2) await once(ws, "message");
    assert.deepEqual(got, ["text", [5, 6]]);
    server.dropAll();
    await once(ws, "open");
    assert.equal(made.length, 2, "a new host socket for the new attempt");
    ws.close(4000, "done");
    assert.deepEqual(log.filter((l) => l.startsWith("close")), ["close:1006:false", "close:4000:true"]);
    await tick();
    assert.deepEqual(server.connections.at(-1).closeFrame, { code: 4000, reason: "done" });
  });

  test("the WebSocket option: close while CONNECTING and a throwing constructor never crash", async () => {
    const a = new ReconnectingWebSocket(server.url("/silent"), undefined, { ...FAST, WebSocket });
    const logA = record(a);
    a.close();
    await tick();
    assert.deepEqual(logA, ["close:1000:true"]);
    let calls = 0;
    class Flaky extends WebSocket {
      constructor(url, protocols) {
        if (++calls === 1) throw new Error("no sockets today");
        super(url, protocols);
      }
    }
    const b = new ReconnectingWebSocket(server.url("/echo"), undefined, { ...FAST, WebSocket: Flaky });
    const [e] = await once(b, "error");
    assert.match(e.message, /no sockets today/);
    await once(b, "open");
    b.close();
  });

  const child = fileURLToPath(new URL("./fixtures/rws-child.mjs", import.meta.url));

  test("a process that calls close() exits within a second", async () => {
    const proc = spawn(process.execPath, [child, server.url("/echo"), "close"], { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    proc.stdout.on("data", (d) => (out += d));
    while (!out.includes("closing") && proc.exitCode === null) await tick();
    let timer;
    const result = await Promise.race([
      (proc.exitCode !== null ? Promise.resolve() : once(proc, "exit")).then(() => "exited"),
      new Promise((r) => (timer = setTimeout(() => r("still running"), 1000))),
    ]);
    clearTimeout(timer);
    if (result !== "exited") proc.kill("SIGKILL");
    assert.equal(result, "exited", out);
  });

  test("a process that never closes keeps running while reconnecting", async () => {
    const proc = spawn(process.execPath, [child, `ws://127.0.0.1:${await closedPort()}/`, "keep"], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    let out = "";
    proc.stdout.on("data", (d) => (out += d));
    while ((out.match(/error/g) || []).length < 4 && proc.exitCode === null) await tick();
    assert.equal(proc.exitCode, null, `still running after 4 failed attempts: ${out}`);
    proc.kill();
    await once(proc, "exit");
  });
});
