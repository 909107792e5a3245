// `steadysock/reconnecting-websocket`: reconnecting-websocket 4.4's observable API.
import assert from "node:assert/strict";
import { once } from "node:events";
import { createRequire } from "node:module";
import { after, before, test } from "node:test";
import RWS from "steadysock/reconnecting-websocket";
import { startServer } from "./server.mjs";

const require = createRequire(import.meta.url);
const unhandled = [];
process.on("uncaughtException", (e) => unhandled.push(e));
process.on("unhandledRejection", (e) => unhandled.push(e));

let server;
before(async () => {
  server = await startServer();
});
after(async () => {
  await server.close();
  assert.deepEqual(unhandled, []);
});

test("CommonJS: module.exports is the class; ESM: the default export", () => {
  const cjs = require("steadysock/reconnecting-websocket");
  assert.equal(typeof cjs, "function");
  assert.equal(cjs, RWS);
  assert.equal(cjs.OPEN, 1);
});

test("close(): CLOSING at once, then one close event with the real code from a later task", async () => {
  const ws = new RWS(server.url("/echo"), [], { minReconnectionDelay: 20, maxReconnectionDelay: 50 });
  await once(ws, "open");
  assert.equal(ws.send("x"), undefined, "send returns nothing");
  const log = [];
  ws.addEventListener("close", (e) => log.push([e.code, e.reason, e.wasClean]));
  ws.close(4000, "bye");
  assert.equal(ws.readyState, ws.CLOSING);
  assert.deepEqual(log, []);
  await once(ws, "close");
  assert.deepEqual(log, [[4000, "bye", true]]);
  assert.equal(ws.readyState, ws.CLOSED);
});

test("close() while CONNECTING: one close event later, no error, nothing unhandled (rws #197)", async () => {
  const ws = new RWS(server.url("/silent"));
  const log = [];
  ws.addEventListener("close", (e) => log.push(e.code));
  ws.addEventListener("error", () => log.push("error"));
  ws.close();
  assert.equal(ws.readyState, ws.CLOSING);
  await once(ws, "close");
  await new Promise((r) => setTimeout(r, 30));
  assert.equal(log.length, 1);
  assert.equal(ws.readyState, ws.CLOSED);
});

test("events are reconnecting-websocket 4.4's own classes (type, target and fields as own properties)", async () => {
  const { Event: RwsEvent, CloseEvent, ErrorEvent } = await import("steadysock/reconnecting-websocket");
  assert.equal(CloseEvent, RWS.CloseEvent);
  assert.equal(ErrorEvent, RWS.ErrorEvent);
  // rws 4.4's constructors and defaults.
  const made = new CloseEvent();
  assert.deepEqual(
    Object.fromEntries(Object.keys(made).map((k) => [k, made[k]])),
    { type: "close", target: undefined, code: 1000, reason: "", wasClean: true },
  );
  const err = new ErrorEvent(new Error("boom"), "t");
  assert.deepEqual([err.type, err.target, err.message, err.error.message], ["error", "t", "boom", "boom"]);
  assert.ok(made instanceof RwsEvent && err instanceof RwsEvent);

  const ws = new RWS(server.url("/close?code=4001&reason=gone"), [], { minReconnectionDelay: 20, maxReconnectionDelay: 50 });
  const seen = [];
  ws.onopen = (e) => seen.push(e);
  ws.addEventListener("close", (e) => seen.push(e));
  await once(ws, "close");
  ws.close();
  const [open, close] = seen;
  assert.ok(open instanceof RWS.Event);
  assert.equal(open.target, ws);
  assert.ok(close instanceof RWS.CloseEvent);
  assert.deepEqual(
    [close.type, close.target, close.code, close.reason, close.wasClean],
    ["close", ws, 4001, "gone", true],
  );
  assert.deepEqual(Object.keys(close).sort(), ["code", "reason", "target", "type", "wasClean"]);

  // A refused attempt: rws's ErrorEvent with the attempt's message.
  const port = await (await import("./server.mjs")).closedPort();
  const ws2 = new RWS(`ws://127.0.0.1:${port}/`, [], { minReconnectionDelay: 20, maxRetries: 0 });
  const [error] = await once(ws2, "error");
  ws2.close();
  assert.ok(error instanceof RWS.ErrorEvent);
  assert.equal(error.target, ws2);
  assert.equal(typeof error.message, "string");
  assert.ok(error.error instanceof Error);
});
