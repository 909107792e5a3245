// The time lib/reconnecting.js gives the core with each input, over a recording stand-in
// core: a message's time is its event's `timeStamp` (same clock as performance.now()),
// the clock when the event has none, never before the latest input's; a send passes the
// latest input's time (the core reads no clock for a send).
import assert from "node:assert/strict";
import { test } from "node:test";
import rws from "../lib/reconnecting.js";

const T_STATE = 13;
const T_OPEN = 14;
const T_TEXT = 15;
const T_OPEN_WEBSOCKET = 23;
const T_SEND_MESSAGE = 24;
const calls = [];
const batch = (...values) => [...values, null, false];

class RecordingCore {
  constructor(url, options, now) {
    calls.push(["new", now]);
  }
  connect(now) {
    calls.push(["connect", now]);
    return batch(T_STATE, "idle", "connecting", T_OPEN_WEBSOCKET, 1, "ws://stand-in/", []);
  }
  handleOpen(id, protocol, extensions, now) {
    calls.push(["open", now]);
    return batch(T_STATE, "connecting", "open", T_OPEN, 1, false, "", "");
  }
  handleText(id, data, now) {
    calls.push(["text", now]);
    return batch(T_TEXT, data);
  }
  sendText(data, now) {
    calls.push(["send", now]);
    return batch(T_SEND_MESSAGE, 1, data);
  }
  drain() {
    return batch();
  }
  close(code, reason, now) {
    calls.push(["close", now]);
    return batch();
  }
}

class StandIn {
  static last = null;
  readyState = 1;
  protocol = "";
  extensions = "";
  sent = [];
  constructor() {
    StandIn.last = this;
  }
  send(data) {
    this.sent.push(data);
  }
  close() {}
}

test("message times come from the events, sends reuse the latest input's time", () => {
  rws.configure({ RawSession: RecordingCore });
  const before = performance.now();
  const ws = new rws.ReconnectingWebSocket("ws://stand-in/", undefined, { WebSocket: StandIn });
  const inner = StandIn.last;
  inner.onopen({});
  const got = [];
  ws.onmessage = (e) => got.push(e.data);
  inner.onmessage({ data: "no stamp" }); // (the `ws` package's events carry none)
  const after = performance.now();
  const stamped = after + 100_000;
  inner.onmessage({ data: "stamped", timeStamp: stamped });
  inner.onmessage({ data: "older stamp", timeStamp: 1 });
  assert.equal(ws.send("out"), true);
  ws.close();

  assert.deepEqual(got, ["no stamp", "stamped", "older stamp"]);
  assert.deepEqual(inner.sent, ["out"]);
  const at = Object.fromEntries(calls.filter(([what]) => what !== "text").map(([what, now]) => [what, now]));
  const texts = calls.filter(([what]) => what === "text").map(([, now]) => now);
  assert.ok(at.new >= before && at.open <= after, "inputs without an event read the clock");
  assert.ok(texts[0] >= at.open && texts[0] <= after, "a message without a timeStamp reads the clock");
  assert.equal(texts[1], stamped, "a message's time is its event's timeStamp");
  assert.equal(texts[2], stamped, "never before the latest input's time");
  assert.equal(at.send, stamped, "a send passes the latest input's time");
  assert.ok(at.close >= stamped, "the clock again after that, never going back");
});
