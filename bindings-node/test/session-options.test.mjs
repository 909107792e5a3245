// steadysock's options beyond partysocket, passed to the core's SessionOptions: jittered
// backoff, protocol-ping keepalive with dead-peer detection, custom headers, a
// disconnect-warning pattern (make-before-break), recovery (`recovered` on open), and the
// negotiated `extensions`. Against the independent test server (test/server.mjs) and the
// project's fault server (conformance/src/fault_server.rs, bin `fault-server`, driven over
// its control port).
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { existsSync } from "node:fs";
import net from "node:net";
import { createInterface } from "node:readline";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import ReconnectingWebSocket, { WebSocket } from "../index.mjs";
import { closedPort, startServer } from "./server.mjs";

const unhandled = [];
process.on("uncaughtException", (e) => unhandled.push(e));
process.on("unhandledRejection", (e) => unhandled.push(e));

const FAST = { minReconnectionDelay: 20, maxReconnectionDelay: 100 };

/** Waits for `check()` to hold, looking every 10 ms; fails after `limitMs` (a hang guard, not a speed test). */
async function until(check, what, limitMs = 10_000) {
  const end = Date.now() + limitMs;
  while (!(await check())) {
    if (Date.now() > end) assert.fail(`never happened: ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** The project's fault server (built by test.sh: cargo build --release --bin fault-server). */
async function startFaultServer() {
  const bin =
    process.env.STEADYSOCK_FAULT_SERVER || fileURLToPath(new URL("../../target/release/fault-server", import.meta.url));
  assert.ok(existsSync(bin), `${bin} missing: cargo build --release -p steadysock-conformance --bin fault-server`);
  // It serves until its standard input closes (or 120 s, should this process die).
  const child = spawn(bin, ["--lifetime", "120"], { stdio: ["pipe", "pipe", "inherit"] });
  const [line] = await once(createInterface({ input: child.stdout }), "line");
  const { ws, control } = JSON.parse(line);
  const [host, port] = control.split(":");
  const sock = net.connect({ host, port: Number(port) });
  await once(sock, "connect");
  const replies = createInterface({ input: sock });
  const waiting = [];
  replies.on("line", (l) => waiting.shift()(l));
  const command = (cmd) =>
    new Promise((resolve, reject) => {
      waiting.push((reply) => (reply.startsWith("err") ? reject(new Error(`${cmd}: ${reply}`)) : resolve(reply)));
      sock.write(`${cmd}\n`);
    });
  return {
    url: `ws://${ws}/`,
    command,
    status: async () => JSON.parse(await command("status")),
    close() {
      sock.destroy();
      child.stdin.end();
    },
  };
}

let server;
let fault;
before(async () => {
  server = await startServer();
  fault = await startFaultServer();
});
after(async () => {
  await server.close();
  fault.close();
  assert.deepEqual(unhandled, [], "no uncaught exception or unhandled rejection");
});

function record(ws) {
  const log = [];
  ws.addEventListener("open", (e) => log.push(`open:${e.recovered}`));
  ws.addEventListener("message", (e) => log.push(`message:${e.data}`));
  ws.addEventListener("error", (e) => log.push(`error:${e.message}`));
  ws.addEventListener("close", (e) => log.push(`close:${e.code}:${e.wasClean}`));
  return log;
}

/** The delays the Session chose, from the debug log (`"next reconnect in", ms, "ms"`). */
function delays(options) {
  const seen = [];
  const debugLogger = (_tag, what, ms) => {
    if (what === "next reconnect in") seen.push(ms);
  };
  return { seen, options: { ...options, debug: true, debugLogger } };
}

describe("options beyond partysocket", () => {
  test("jitter: 'none' repeats partysocket's delays exactly; 'full' draws each within [min, max]", async () => {
    const port = await closedPort();
    const base = { minReconnectionDelay: 10, maxReconnectionDelay: 400, reconnectionDelayGrowFactor: 2, maxRetries: 6 };
    const seen = {};
    for (const jitter of ["none", "full"]) {
      const d = delays({ ...base, jitter });
      const ws = new ReconnectingWebSocket(`ws://127.0.0.1:${port}/`, [], d.options);
      ws.addEventListener("error", () => {});
      await until(() => d.seen.length >= 6, `six ${jitter} delays`);
      ws.close();
      seen[jitter] = d.seen.slice(0, 6);
    }
    assert.deepEqual(seen.none, [10, 20, 40, 80, 160, 320]);
    assert.ok(
      seen.full.every((ms) => ms >= 10 && ms <= 400),
      `full: ${seen.full}`,
    );
    assert.notDeepEqual(seen.full, seen.none, "full jitter varies the delays");
  });

  test("headers: sent with every upgrade request", async () => {
    const ws = new ReconnectingWebSocket(server.url("/headers"), [], { ...FAST, headers: { "X-Token": "abc", "User-Agent": "steady/1" } });
    const [event] = await once(ws, "message");
    const headers = JSON.parse(event.data);
    assert.equal(headers["x-token"], "abc");
    assert.equal(headers["user-agent"], "steady/1");
    ws.close();
  });

  test("keepalive: a peer that stops answering pings is detected, closed (1006) and replaced", async () => {
    const before = server.connections.length;
    const ws = new ReconnectingWebSocket(server.url("/nopong"), [], { ...FAST, keepalive: { intervalMs: 50, pongTimeoutMs: 50 } });
    const log = record(ws);
    await until(() => log.filter((l) => l.startsWith("open")).length >= 2, "a second connection");
    ws.close();
    const first = log.indexOf("close:1006:false");
    assert.ok(first > 0 && log[0] === "open:false", `dead peer closed with 1006: ${log}`);
    assert.ok(server.connections[before].frames.some((f) => f.opcode === 9), "pinged before giving up");
  });

  test("keepalive: null turns protocol pings off", async () => {
    const ws = new ReconnectingWebSocket(server.url("/nopong"), [], { ...FAST, keepalive: null, minUptime: 0 });
    await once(ws, "open");
    const conn = server.connections.at(-1);
    ws.send("x");
    await once(ws, "message");
    ws.close();
    assert.ok(!conn.frames.some((f) => f.opcode === 9), "no ping");
  });

  test("disconnectWarning: the warning is consumed and the next connection opens before the old one closes", async () => {
    const ws = new ReconnectingWebSocket(server.url("/warn"), [], { ...FAST, disconnectWarning: { json: { type: "disconnect" } } });
    const log = record(ws);
    const first = server.connections.length;
    await until(() => server.log.includes(`end:${first}`), "the warned connection closed");
    const order = server.log.filter((l) => l.endsWith(`:${first}`) || l.endsWith(`:${first + 1}`));
    assert.deepEqual(order, [`open:${first}`, `open:${first + 1}`, `end:${first}`], "make-before-break");
    assert.equal(ws.readyState, ws.OPEN);
    ws.send("after");
    await until(() => log.includes("message:after"), "echo over the new connection");
    assert.deepEqual(log, ["open:false", "message:after"], "no warning message, no close, one open");
    assert.deepEqual(server.connections[first + 1].messages.map((m) => m.data), ["after"]);
    ws.close();
  });

  test("recovery: after a server restart the open says recovered and the missed messages are replayed", async () => {
    const ws = new ReconnectingWebSocket(fault.url, [], { ...FAST, recovery: true });
    const log = record(ws);
    await until(() => log.includes("open:false"), "open");
    await fault.command("send 2");
    await until(() => log.includes("message:m2"), "m1, m2");
    // Everything dropped, connections refused for 300 ms; two messages while away.
    await fault.command("restart 300 keep");
    await fault.command("send 2");
    await until(() => log.includes("message:m4"), "m3, m4 replayed");
    ws.close();
    const opens = log.filter((l) => l.startsWith("open"));
    assert.deepEqual(opens, ["open:false", "open:true"], log.join(" "));
    assert.deepEqual(
      log.filter((l) => l.startsWith("message")),
      ["message:m1", "message:m2", "message:m3", "message:m4"],
    );
    assert.ok(log.indexOf("open:true") < log.indexOf("message:m3"));
    assert.ok((await fault.status()).resumed >= 1);
  });

  test("recovery: the server's drain warning moves the session before the old connection closes", async () => {
    await fault.command("reset");
    const ws = new ReconnectingWebSocket(fault.url, [], { ...FAST, recovery: true });
    const log = record(ws);
    await until(() => log.includes("open:false"), "open");
    await fault.command("drain 5000");
    await until(async () => (await fault.status()).make_before_break === 1, "make-before-break");
    await fault.command("send 1");
    await until(() => log.includes("message:m1"), "m1 over the new connection");
    assert.equal(ws.readyState, ws.OPEN);
    assert.deepEqual(log, ["open:false", "message:m1"], "no close event, no second open");
    ws.close();
  });

  test("heartbeat: a server that stops answering `ss2 ping` is detected and replaced (over a WebSocket class too)", async () => {
    for (const transport of [{}, { WebSocket }]) {
      await fault.command("reset");
      await fault.command("pings off");
      const ws = new ReconnectingWebSocket(fault.url, [], {
        ...FAST,
        ...transport,
        recovery: true,
        keepalive: null,
        heartbeat: { intervalMs: 50, timeoutMs: 50 },
      });
      const log = record(ws);
      await until(() => log.filter((l) => l.startsWith("open")).length >= 2, "a second connection");
      ws.close();
      assert.equal(log[0], "open:false");
      assert.ok(log.includes("close:1006:false"), `dead peer closed with 1006: ${log}`);
      const status = await fault.status();
      assert.ok(status.pings_received >= 1 && status.pings_answered === 0, JSON.stringify(status));
      await fault.command("pings on");
    }
  });

  test("fatalCloseCodes: a listed close code ends reconnecting", async () => {
    const ws = new ReconnectingWebSocket(server.url("/close?code=4004&reason=gone"), [], { ...FAST, fatalCloseCodes: [4004] });
    const log = record(ws);
    await until(() => log.includes("close:4004:true"), "the close");
    await new Promise((r) => setTimeout(r, 150));
    assert.deepEqual(log, ["open:false", "close:4004:true"], "no second attempt");
    assert.equal(ws.shouldReconnect, false);
    ws.close();
  });

  test("extensions: the negotiated ones, over the byte transport and over a WebSocket class", async () => {
    for (const options of [FAST, { ...FAST, WebSocket }]) {
      const ws = new ReconnectingWebSocket(server.url("/deflate"), [], options);
      assert.equal(ws.extensions, "");
      await once(ws, "open");
      assert.equal(ws.extensions, "permessage-deflate", options.WebSocket ? "message transport" : "byte transport");
      ws.close();
    }
  });
});
