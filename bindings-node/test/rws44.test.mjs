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
