// The WHATWG WebSocket of steadysock against a local server (test/server.mjs).
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { once } from "node:events";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { CloseEvent, ErrorEvent, WebSocket } from "../index.mjs";
import { closedPort, startServer } from "./server.mjs";

// Any uncaught exception or unhandled rejection anywhere in this file fails the run.
const unhandled = [];
process.on("uncaughtException", (e) => unhandled.push(e));
process.on("unhandledRejection", (e) => unhandled.push(e));

let server;
before(async () => {
  server = await startServer();
});
after(async () => {
  await server.close();
  assert.deepEqual(unhandled, [], "no uncaught exception or unhandled rejection");
});

/** Records every event of `ws` in order, as short strings, until `close`. */
function record(ws) {
  const log = [];
  const done = new Promise((resolve) => {
    ws.addEventListener("open", () => log.push("open"));
    ws.addEventListener("message", (e) => log.push(`message:${typeof e.data === "string" ? e.data : "binary"}`));
    ws.addEventListener("error", (e) => log.push(`error`));
    ws.addEventListener("close", (e) => {
      log.push(`close:${e.code}:${e.wasClean}`);
      resolve(e);
    });
  });
  return { log, done };
}

function lastConnection() {
  return server.connections[server.connections.length - 1];
}

describe("opening", () => {
  test("open, echo text and binary, close cleanly", async () => {
    const ws = new WebSocket(server.url("/echo"));
    const { log, done } = record(ws);
    assert.equal(ws.readyState, WebSocket.CONNECTING);
    ws.binaryType = "arraybuffer";
    const got = [];
    ws.onopen = () => {
      assert.equal(ws.readyState, WebSocket.OPEN);
      ws.send("héllo");
      ws.send(new Uint8Array([1, 2, 3]));
      ws.send(new Uint8Array([9, 8, 7, 6]).subarray(1, 3));
      ws.send(new Uint8Array([4, 5]).buffer);
    };
    ws.onmessage = (e) => {
      got.push(typeof e.data === "string" ? e.data : [...new Uint8Array(e.data)]);
      assert.equal(e.origin, new URL(server.url()).origin);
      if (got.length === 4) {
        ws.close(1000, "done");
        assert.equal(ws.readyState, WebSocket.CLOSING);
      }
    };
    const close = await done;
    assert.deepEqual(got, ["héllo", [1, 2, 3], [8, 7], [4, 5]]);
    assert.ok(close instanceof CloseEvent);
    assert.equal(close.code, 1000);
    assert.equal(close.reason, "done");
    assert.equal(close.wasClean, true);
    assert.equal(ws.readyState, WebSocket.CLOSED);
    assert.deepEqual(log, ["open", "message:héllo", "message:binary", "message:binary", "message:binary", "close:1000:true"]);
    assert.deepEqual(lastConnection().closeFrame, { code: 1000, reason: "done" });
  });

  test("the request: path, query, custom headers, subprotocols; the chosen protocol and no extensions", async () => {
    const ws = new WebSocket(server.url("/proto?room=1"), ["chat.v2", "chat.v1"], { headers: { "X-Token": "abc" } });
    await once(ws, "open");
    const conn = lastConnection();
    assert.equal(conn.path, "/proto?room=1");
    assert.equal(conn.headers["x-token"], "abc");
    assert.equal(conn.headers["sec-websocket-protocol"], "chat.v2, chat.v1");
    assert.match(conn.headers["sec-websocket-extensions"], /permessage-deflate/);
    assert.equal(ws.protocol, "chat.v2");
    assert.equal(ws.extensions, "", "the server accepted no extension");
    ws.close();
    await once(ws, "close");
  });

  test("http and https URLs become ws and wss; url is the parsed URL", () => {
    const ws = new WebSocket(`http://127.0.0.1:${server.port}/silent`);
    assert.equal(ws.url, `ws://127.0.0.1:${server.port}/silent`);
    ws.close();
  });

  test("constructor errors are SyntaxError DOMExceptions", () => {
    const cases = [
      () => new WebSocket("ftp://example.com/"),
      () => new WebSocket("not a url"),
      () => new WebSocket("ws://example.com/#frag"),
      () => new WebSocket("ws://example.com/", ["a", "a"]),
      () => new WebSocket("ws://example.com/", "has space"),
      () => new WebSocket("ws://example.com/", [""]),
    ];
    for (const make of cases) {
      assert.throws(make, (e) => e instanceof DOMException && e.name === "SyntaxError", String(make));
    }
  });

  test("constants on the class and on instances", () => {
    assert.deepEqual([WebSocket.CONNECTING, WebSocket.OPEN, WebSocket.CLOSING, WebSocket.CLOSED], [0, 1, 2, 3]);
    const ws = new WebSocket(server.url("/silent"));
    assert.deepEqual([ws.CONNECTING, ws.OPEN, ws.CLOSING, ws.CLOSED], [0, 1, 2, 3]);
    assert.equal(ws.binaryType, "blob");
    ws.binaryType = "nodebuffer";
    assert.equal(ws.binaryType, "blob", "an invalid binaryType is ignored");
    assert.equal(ws.protocol, "");
    assert.equal(ws.extensions, "");
    ws.close();
  });
});

describe("messages", () => {
  test("binaryType blob (the default) gives Blobs; a Blob sent keeps its place in order", async () => {
    const ws = new WebSocket(server.url("/echo"));
    const got = [];
    ws.onopen = () => {
      ws.send(new Blob([new Uint8Array([1, 2]), "xy"]));
      ws.send("after the blob");
      assert.equal(ws.bufferedAmount >= 4, true, "the Blob counts until it is sent");
    };
    ws.onmessage = async (e) => {
      got.push(e.data);
      if (got.length === 2) ws.close();
    };
    await once(ws, "close");
    assert.ok(got[0] instanceof Blob);
    assert.deepEqual([...new Uint8Array(await got[0].arrayBuffer())], [1, 2, 0x78, 0x79]);
    assert.equal(got[1], "after the blob");
    assert.deepEqual(
      lastConnection().messages.map((m) => m.binary),
      [true, false],
    );
  });

  test("a 1 MiB binary message round trip", async () => {
    const ws = new WebSocket(server.url("/echo"));
    ws.binaryType = "arraybuffer";
    const big = new Uint8Array(1 << 20);
    for (let i = 0; i < big.length; i++) big[i] = (i * 7) & 0xff;
    ws.onopen = () => ws.send(big);
    const [e] = await once(ws, "message");
    assert.deepEqual(new Uint8Array(e.data), big);
    ws.close();
    await once(ws, "close");
  });

  test("send while CONNECTING throws InvalidStateError; after close it is counted, not sent", async () => {
    const ws = new WebSocket(server.url("/echo"));
    assert.throws(() => ws.send("early"), (e) => e instanceof DOMException && e.name === "InvalidStateError");
    await once(ws, "open");
    ws.close();
    const before = ws.bufferedAmount;
    ws.send("late");
    assert.equal(ws.bufferedAmount, before + 4);
    await once(ws, "close");
    assert.deepEqual(lastConnection().messages, []);
  });

  test("invalid UTF-8 from the server: error event, then close 1007", async () => {
    const ws = new WebSocket(server.url("/badutf8"));
    const { log, done } = record(ws);
    const close = await done;
    assert.deepEqual(log, ["open", "error", "close:1007:true"]);
    assert.equal(close.code, 1007);
    assert.equal(lastConnection().closeFrame.code, 1007);
  });

  test("a message just before a protocol error can still be answered; then close 1002", async () => {
    const ws = new WebSocket(server.url("/msgthenbad"));
    ws.onmessage = (e) => ws.send(`echo of ${e.data}`);
    const { log, done } = record(ws);
    const close = await done;
    assert.deepEqual(log, ["open", "message:first", "error", "close:1002:true"]);
    assert.equal(close.code, 1002);
    const conn = lastConnection();
    assert.deepEqual(conn.messages, [{ binary: false, data: "echo of first" }], "the answer went out");
    const closeIndex = conn.frames.findIndex((f) => f.opcode === 8);
    const answerIndex = conn.frames.findIndex((f) => f.opcode === 1);
    assert.ok(answerIndex >= 0 && answerIndex < closeIndex, "the answer before the close frame");
    assert.equal(conn.closeFrame.code, 1002);
  });

  test("onX handlers and listeners both run, handlers in their registration place", async () => {
    const ws = new WebSocket(server.url("/echo"));
    const order = [];
    ws.addEventListener("open", () => order.push("listener 1"));
    ws.onopen = () => order.push("handler");
    ws.addEventListener("open", () => order.push("listener 2"));
    ws.onopen = function () {
      assert.equal(this, ws);
      order.push("handler replaced");
    };
    await once(ws, "open");
    assert.deepEqual(order, ["listener 1", "handler replaced", "listener 2"]);
    ws.onopen = null;
    assert.equal(ws.onopen, null);
    ws.close();
    await once(ws, "close");
  });
});

describe("closing", () => {
  test("close() without arguments sends a close frame with no code; the event says 1005", async () => {
    const ws = new WebSocket(server.url("/echo"));
    await once(ws, "open");
    ws.close();
    const [e] = await once(ws, "close");
    assert.equal(e.code, 1005);
    assert.equal(e.wasClean, true);
    assert.deepEqual(lastConnection().closeFrame, { code: undefined, reason: "" });
  });

  test("a reason without a code is sent with 1000", async () => {
    const ws = new WebSocket(server.url("/echo"));
    await once(ws, "open");
    ws.close(undefined, "why");
    await once(ws, "close");
    assert.deepEqual(lastConnection().closeFrame, { code: 1000, reason: "why" });
  });

  test("the server's close code and reason reach the close event", async () => {
    const ws = new WebSocket(server.url("/close?code=4001&reason=going%20away"));
    const { log, done } = record(ws);
    const e = await done;
    assert.deepEqual([e.code, e.reason, e.wasClean], [4001, "going away", true]);
    assert.deepEqual(log, ["open", "close:4001:true"]);
  });

  test("a dropped TCP connection is 1006 with wasClean false", async () => {
    const ws = new WebSocket(server.url("/drop"));
    const { log, done } = record(ws);
    const e = await done;
    assert.equal(e.code, 1006);
    assert.equal(e.wasClean, false);
    assert.equal(log[0], "open");
    assert.equal(log.at(-1), "close:1006:false");
  });

  test("close() validation: InvalidAccessError for codes, SyntaxError for long reasons", async () => {
    const ws = new WebSocket(server.url("/echo"));
    await once(ws, "open");
    for (const code of [0, 999, 1001, 1005, 1006, 2999, 5000]) {
      assert.throws(() => ws.close(code), (e) => e instanceof DOMException && e.name === "InvalidAccessError", `code ${code}`);
    }
    assert.throws(() => ws.close(1000, "x".repeat(124)), (e) => e instanceof DOMException && e.name === "SyntaxError");
    assert.throws(() => ws.close(1000, "é".repeat(62)), (e) => e.name === "SyntaxError", "124 UTF-8 bytes");
    assert.equal(ws.readyState, WebSocket.OPEN, "a refused close() changes nothing");
    ws.close(3000, "é".repeat(61));
    const [e] = await once(ws, "close");
    assert.equal(e.code, 3000);
    assert.equal(e.reason, "é".repeat(61));
  });

  test("close() twice: one close frame, one close event", async () => {
    const ws = new WebSocket(server.url("/echo"));
    const { log, done } = record(ws);
    await once(ws, "open");
    ws.close(4000);
    ws.close(4001);
    await done;
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(log, ["open", "close:4000:true"]);
    assert.equal(lastConnection().frames.filter((f) => f.opcode === 8).length, 1);
  });

  test("frames from the client are masked", async () => {
    const ws = new WebSocket(server.url("/echo"));
    ws.onopen = () => ws.send("m");
    await once(ws, "message");
    ws.close();
    await once(ws, "close");
    assert.ok(lastConnection().frames.every((f) => f.masked));
  });
});

describe("failures never throw", () => {
  test("connection refused: error then close 1006, nothing unhandled", async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${await closedPort()}/`);
    const { log, done } = record(ws);
    let err;
    ws.onerror = (e) => (err = e);
    const e = await done;
    assert.deepEqual(log, ["error", "close:1006:false"]);
    assert.equal(e.wasClean, false);
    assert.ok(err instanceof ErrorEvent);
    assert.equal(err.error.code, "ECONNREFUSED");
  });

  test("unresolvable host: error then close 1006", async () => {
    const ws = new WebSocket("ws://steadysock-test.invalid/");
    const { log, done } = record(ws);
    await done;
    assert.deepEqual(log, ["error", "close:1006:false"]);
  });

  test("HTTP rejection of the upgrade: error then close 1006", async () => {
    const ws = new WebSocket(server.url("/reject"));
    const { log, done } = record(ws);
    let message;
    ws.onerror = (e) => (message = e.message);
    await done;
    assert.deepEqual(log, ["error", "close:1006:false"]);
    assert.match(message, /404/);
  });

  test("close() while CONNECTING: error and close 1006 come later, exactly once each", async () => {
    const urls = [server.url("/silent"), `ws://127.0.0.1:${await closedPort()}/`, server.url("/echo"), "ws://steadysock-test.invalid/"];
    for (const url of urls) {
      const ws = new WebSocket(url);
      const { log, done } = record(ws);
      ws.close();
      assert.equal(ws.readyState, WebSocket.CLOSING);
      assert.deepEqual(log, [], "no event from inside close()");
      const e = await done;
      await new Promise((r) => setTimeout(r, 20));
      assert.deepEqual(log, ["error", "close:1006:false"], url);
      assert.equal(e.wasClean, false);
      assert.equal(ws.readyState, WebSocket.CLOSED);
    }
  });

  test("the handshake timeout: error then close 1006", async () => {
    const ws = new WebSocket(server.url("/silent"), [], { handshakeTimeoutMs: 100 });
    const { log, done } = record(ws);
    let message;
    ws.onerror = (e) => (message = e.message);
    await done;
    assert.deepEqual(log, ["error", "close:1006:false"]);
    assert.match(message, /timed out/);
  });

  test("keepalive: a peer that stops answering pings is dead (error, 1006)", async () => {
    const ws = new WebSocket(server.url("/nopong"), [], { keepalive: { intervalMs: 30, pongTimeoutMs: 60 } });
    const { log, done } = record(ws);
    const e = await done;
    assert.deepEqual(log, ["open", "error", "close:1006:false"]);
    assert.equal(e.wasClean, false);
    assert.ok(lastConnection().frames.some((f) => f.opcode === 9), "the server saw a ping");
  });

  test("keepalive: a peer that answers stays open", async () => {
    const ws = new WebSocket(server.url("/echo"), [], { keepalive: { intervalMs: 20, pongTimeoutMs: 200 } });
    await once(ws, "open");
    const conn = lastConnection();
    while (conn.frames.filter((f) => f.opcode === 9).length < 3) await new Promise((r) => setTimeout(r, 10));
    assert.equal(ws.readyState, WebSocket.OPEN);
    ws.close();
    const [e] = await once(ws, "close");
    assert.equal(e.code, 1005);
  });
});

describe("clean exits", () => {
  test("300 open/echo/close cycles leave no socket or timer behind", async () => {
    const kinds = () => process.getActiveResourcesInfo().filter((r) => r === "TCPSocketWrap" || r === "Timeout");
    await new Promise((r) => setImmediate(r));
    const baseline = kinds().length;
    for (let i = 0; i < 300; i++) {
      const ws = new WebSocket(server.url("/echo"), [], { keepalive: { intervalMs: 60_000, pongTimeoutMs: 1000 } });
      ws.onopen = () => ws.send("x");
      ws.onmessage = () => ws.close();
      await once(ws, "close");
    }
    // The client side is gone once the close event has fired and the socket's own close
    // callbacks have run.
    for (let i = 0; i < 100 && kinds().length > baseline; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(kinds().length, baseline, `left keeping the loop alive: ${kinds().length - baseline}`);
  });

  const child = fileURLToPath(new URL("./fixtures/close-and-exit.mjs", import.meta.url));

  // The child prints "closing" right before close(); from then on it must exit by itself.
  async function exitsAfterClose(mode) {
    const proc = spawn(process.execPath, [child, server.url(mode === "connecting" ? "/silent" : mode === "linger" ? "/linger" : "/echo"), mode], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    let out = "";
    proc.stdout.on("data", (d) => (out += d));
    await new Promise((resolve, reject) => {
      const poll = setInterval(() => {
        if (out.includes("closing")) {
          clearInterval(poll);
          resolve();
        }
      }, 5);
      proc.on("exit", () => {
        clearInterval(poll);
        resolve();
      });
      proc.on("error", reject);
    });
    const exited = proc.exitCode !== null ? Promise.resolve() : once(proc, "exit");
    let timer;
    const limit = new Promise((resolve) => {
      timer = setTimeout(() => resolve("still running"), 1000);
    });
    const result = await Promise.race([exited.then(() => "exited"), limit]);
    clearTimeout(timer);
    if (result !== "exited") proc.kill("SIGKILL");
    return { result, code: proc.exitCode, out };
  }

  for (const mode of ["open", "connecting", "linger"]) {
    test(`a process that calls close() (${mode}) exits within a second`, async () => {
      const { result, code, out } = await exitsAfterClose(mode);
      assert.equal(result, "exited", out);
      assert.equal(code, 0, out);
    });
  }
});

describe("wss://", () => {
  let tlsServer;
  let cert;
  before(async () => {
    // A throwaway self-signed certificate for 127.0.0.1, made with the openssl CLI.
    const dir = mkdtempSync(join(tmpdir(), "steadysock-tls-"));
    const made = spawnSync(
      "openssl",
      ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
        "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", join(dir, "key.pem"), "-out", join(dir, "cert.pem")],
      { stdio: "ignore" },
    );
    assert.equal(made.status, 0, "openssl made a certificate");
    cert = readFileSync(join(dir, "cert.pem"));
    tlsServer = await startServer({ tls: { key: readFileSync(join(dir, "key.pem")), cert } });
    rmSync(dir, { recursive: true });
  });
  after(() => tlsServer.close());

  test("echo over TLS with the server's certificate trusted", async () => {
    const ws = new WebSocket(tlsServer.url("/echo"), [], { tls: { ca: cert } });
    ws.onopen = () => ws.send("over tls");
    const [e] = await once(ws, "message");
    assert.equal(e.data, "over tls");
    ws.close(1000);
    const [c] = await once(ws, "close");
    assert.deepEqual([c.code, c.wasClean], [1000, true]);
  });

  test("an untrusted certificate: error (with the TLS error) then close 1006", async () => {
    const ws = new WebSocket(tlsServer.url("/echo"));
    const { log, done } = record(ws);
    let err;
    ws.addEventListener("error", (e) => (err = e.error));
    await done;
    assert.deepEqual(log, ["error", "close:1006:false"]);
    assert.equal(err.code, "DEPTH_ZERO_SELF_SIGNED_CERT");
  });
});
