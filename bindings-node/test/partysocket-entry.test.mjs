// `steadysock/partysocket`: partysocket's exports, so that code written for partysocket
// runs with only the import path changed (there `WebSocket` is the reconnecting class).
import assert from "node:assert/strict";
import { once } from "node:events";
import { createRequire } from "node:module";
import { after, before, test } from "node:test";
import PartyDefault, { CloseEvent, ErrorEvent, ReconnectingWebSocket, WebSocket } from "steadysock/partysocket";
import * as main from "steadysock";
import { startServer } from "./server.mjs";

const require = createRequire(import.meta.url);

let server;
before(async () => {
  server = await startServer();
});
after(() => server.close());

test("ESM: default, ReconnectingWebSocket and WebSocket are the reconnecting class; the event classes", () => {
  assert.equal(PartyDefault, main.ReconnectingWebSocket);
  assert.equal(ReconnectingWebSocket, main.ReconnectingWebSocket);
  assert.equal(WebSocket, main.ReconnectingWebSocket);
  assert.notEqual(WebSocket, main.WebSocket, "the main entry's WebSocket stays the plain WHATWG socket");
  assert.equal(CloseEvent, main.CloseEvent);
  assert.equal(ErrorEvent, main.ErrorEvent);
  const close = new CloseEvent(4000, "why", "target");
  assert.deepEqual([close.type, close.code, close.reason, close.target], ["close", 4000, "why", "target"]);
});

test("CommonJS: the same exports, and `.default` as a bundler-built module has it", () => {
  const cjs = require("steadysock/partysocket");
  assert.equal(cjs.__esModule, true);
  assert.deepEqual(Object.keys(cjs).sort(), ["CloseEvent", "ErrorEvent", "ReconnectingWebSocket", "WebSocket", "default"]);
  assert.equal(cjs.default, main.ReconnectingWebSocket);
  assert.equal(cjs.WebSocket, main.ReconnectingWebSocket);
});

test("partysocket code: `new WebSocket(url)` reconnects", async () => {
  const ws = new WebSocket(server.url("/echo"), [], { minReconnectionDelay: 20, maxReconnectionDelay: 50 });
  assert.ok(ws instanceof ReconnectingWebSocket);
  await once(ws, "open");
  server.dropAll();
  const [close] = await once(ws, "close");
  assert.equal(close.code, 1006);
  await once(ws, "open");
  ws.send("again");
  const [message] = await once(ws, "message");
  assert.equal(message.data, "again");
  ws.close();
});
