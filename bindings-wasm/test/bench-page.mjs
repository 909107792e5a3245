// Benchmark page (bench/run.mjs, bench/profile.mjs): four clients on one page — steadysock
// (wasm core), the browser's WebSocket, partysocket, and the floor of any wrapper
// (`redispatch`: a new MessageEvent per message, nothing else) — against one echo server. bench/run.mjs
// drives it step by step (so that it can read the renderer's CPU time around each measure):
// `bench.open(name, url)` connects and warms up, `bench.burst(n)` sends n small messages
// and waits for n echoes, `bench.seq(n)` makes n sequential round trips (each returns its
// milliseconds), `bench.close()`.
import SteadySocket from "steadysock";
import PartySocket from "partysocket/ws";

/**
 * The floor of any client that wraps a WebSocket and dispatches its own events (what
 * partysocket and steadysock both do): forward `send`, and for each message make a new
 * `MessageEvent` and dispatch it from an `EventTarget`. No reconnect, no decision: what a
 * wrapper costs before it does anything.
 */
class Redispatch extends EventTarget {
  onmessage = null;
  constructor(url) {
    super();
    this.ws = new WebSocket(url);
    this.ws.onopen = () => this.dispatchEvent(new Event("open"));
    this.ws.onerror = () => this.dispatchEvent(new Event("error"));
    this.ws.onmessage = (e) => {
      const event = new MessageEvent("message", { data: e.data });
      if (this.onmessage) this.onmessage(event);
      this.dispatchEvent(event);
    };
  }
  send(data) {
    this.ws.send(data);
  }
  close() {
    this.ws.close();
  }
}

const CLIENTS = {
  steadysock: (url) => new SteadySocket(url, undefined, { maxRetries: 0 }),
  websocket: (url) => new WebSocket(url),
  partysocket: (url) => new PartySocket(url, undefined, { maxRetries: 0 }),
  redispatch: (url) => new Redispatch(url),
};
const PAYLOAD = "0123456789abcdef";

function opened(ws) {
  return new Promise((resolve, reject) => {
    ws.addEventListener("open", resolve, { once: true });
    ws.addEventListener("error", () => reject(new Error("could not connect")), { once: true });
  });
}

async function burst(ws, n) {
  let got = 0;
  const done = new Promise((resolve) => {
    ws.onmessage = () => {
      if (++got === n) resolve();
    };
  });
  const t0 = performance.now();
  for (let i = 0; i < n; i++) ws.send(PAYLOAD);
  await done;
  return performance.now() - t0;
}

async function sequential(ws, n) {
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    await new Promise((resolve) => {
      ws.onmessage = resolve;
      ws.send(PAYLOAD);
    });
  }
  return performance.now() - t0;
}

let current = null;
globalThis.bench = {
  async open(name, url) {
    current = CLIENTS[name](url);
    await opened(current);
    await burst(current, 1000); // warm-up
  },
  burst: (n) => burst(current, n),
  seq: (n) => sequential(current, n),
  close() {
    current.close();
    current = null;
  },
};

/** One client, one measure (bench/profile.mjs): `{ ms }` of a burst or of round trips. */
globalThis.runOne = async (name, url, kind = "burst", n = 20000) => {
  await globalThis.bench.open(name, url);
  const ms = kind === "burst" ? await globalThis.bench.burst(n) : await globalThis.bench.seq(n);
  globalThis.bench.close();
  return { ms };
};
globalThis.benchReady = true;

/**
 * A WebSocket stand-in that opens at once and whose messages the page delivers itself:
 * the client's own cost per message, without the network, the server or the browser's
 * WebSocket (bench.synthetic).
 */
class FakeWebSocket extends EventTarget {
  static CONNECTING = 0;
  static OPEN = 1;
  static CLOSING = 2;
  static CLOSED = 3;
  CONNECTING = 0;
  OPEN = 1;
  CLOSING = 2;
  CLOSED = 3;
  readyState = 0;
  protocol = "";
  extensions = "";
  binaryType = "blob";
  bufferedAmount = 0;
  onopen = null;
  onmessage = null;
  onclose = null;
  onerror = null;
  constructor(url) {
    super();
    this.url = url;
    FakeWebSocket.last = this;
    setTimeout(() => {
      this.readyState = 1;
      const e = new Event("open");
      if (this.onopen) this.onopen(e);
      this.dispatchEvent(e);
    }, 0);
  }
  send() {}
  close() {
    this.readyState = 3;
  }
  /** One incoming message, as a browser's WebSocket dispatches it. */
  deliver(data) {
    const e = new MessageEvent("message", { data });
    if (this.onmessage) this.onmessage(e);
    this.dispatchEvent(e);
  }
}

/**
 * Client `name` over FakeWebSocket: µs per received message (delivered and dispatched to
 * one listener) and per send, `n` of each; the median of `runs`. "websocket" is the
 * stand-in alone (the floor: making and dispatching the MessageEvent).
 */
globalThis.bench.synthetic = async (name, n = 50000, runs = 5) => {
  const make = {
    steadysock: () => new SteadySocket("ws://fake/", undefined, { maxRetries: 0, WebSocket: FakeWebSocket }),
    websocket: () => new FakeWebSocket("ws://fake/"),
    partysocket: () => new PartySocket("ws://fake/", undefined, { maxRetries: 0, WebSocket: FakeWebSocket }),
  }[name];
  const ws = make();
  await opened(ws);
  const inner = FakeWebSocket.last;
  let got = 0;
  ws.onmessage = () => got++;
  const recv = [];
  const send = [];
  for (let r = 0; r < runs; r++) {
    let t0 = performance.now();
    for (let i = 0; i < n; i++) inner.deliver(PAYLOAD);
    recv.push(((performance.now() - t0) * 1000) / n);
    t0 = performance.now();
    for (let i = 0; i < n; i++) ws.send(PAYLOAD);
    send.push(((performance.now() - t0) * 1000) / n);
  }
  ws.close();
  if (got !== n * runs) throw new Error(`${name}: ${got} of ${n * runs} messages delivered`);
  const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
  return { recv: median(recv), send: median(send) };
};
