// One benchmark client: `node client.mjs CONTENDER URL ROUNDS MIBS` prints one JSON line
// with the client process's CPU (user + system) per 16-byte round trip and per MiB echoed.
// Contenders: steadysock | ws | partysocket | global (Node's WebSocket; run with
// --experimental-websocket on Node 20) | net (the floor: a bare `net` socket writing
// pre-built masked frames and counting the echoed bytes, no WebSocket work at all).
const [contender, url, roundsArg, mibsArg] = process.argv.slice(2);
const ROUNDS = Number(roundsArg);
const MIBS = Number(mibsArg);
const WARMUP = Math.min(2000, ROUNDS);

/** Opens a client; returns { send(data), onMessage(fn), close() } once open. */
async function open() {
  if (contender === "net") return openNet();
  if (contender === "ws") {
    const { default: WebSocket } = await import("ws");
    const ws = new WebSocket(url, { perMessageDeflate: false });
    await new Promise((resolve, reject) => { ws.once("open", resolve); ws.once("error", reject); });
    return { send: (d) => ws.send(d), onMessage: (fn) => ws.on("message", fn), close: () => ws.close() };
  }
  let ws;
  if (contender === "steadysock") {
    const { WebSocket } = await import("../index.mjs");
    ws = new WebSocket(url);
  } else if (contender === "partysocket") {
    const { default: ReconnectingWebSocket } = await import("partysocket/ws");
    const { default: WS } = await import("ws");
    ws = new ReconnectingWebSocket(url, undefined, { WebSocket: WS, maxRetries: 0 });
  } else if (contender === "global") {
    if (typeof WebSocket !== "function") throw new Error("no global WebSocket (Node 20: --experimental-websocket)");
    ws = new WebSocket(url);
  } else {
    throw new Error(`unknown contender ${contender}`);
  }
  ws.binaryType = "arraybuffer";
  await new Promise((resolve, reject) => { ws.onopen = resolve; ws.onerror = (e) => reject(new Error(e.message)); });
  return { send: (d) => ws.send(d), onMessage: (fn) => (ws.onmessage = (e) => fn(e.data)), close: () => ws.close() };
}

/** The floor: the handshake by hand, then pre-masked frames out and byte counts in. */
async function openNet() {
  const net = await import("node:net");
  const { hostname, port } = new URL(url);
  const s = net.connect({ host: hostname, port: Number(port) });
  s.setNoDelay(true);
  await new Promise((resolve, reject) => { s.once("connect", resolve); s.once("error", reject); });
  s.write(
    "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
  );
  await new Promise((resolve) => s.once("data", resolve));
  const frames = new Map();
  const frameOf = (data) => {
    let f = frames.get(data.length);
    if (!f) {
      const n = data.length;
      const head = n < 126 ? [0x82, 0x80 | n] : [0x82, 0xff, 0, 0, 0, 0, (n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255];
      // Mask key 0: the payload goes out as it is (the server unmasks with zeros).
      f = Buffer.concat([Buffer.from([...head, 0, 0, 0, 0]), Buffer.from(data)]);
      frames.set(data.length, f);
    }
    return f;
  };
  let want = 0;
  let got = 0;
  let fn = null;
  s.on("data", (chunk) => {
    got += chunk.length;
    if (got >= want) {
      got -= want;
      fn();
    }
  });
  return {
    send: (d) => {
      want = d.length + (d.length < 126 ? 2 : 10);
      s.write(frameOf(d));
    },
    onMessage: (f) => (fn = f),
    close: () => s.destroy(),
  };
}

function cpuMs(start) {
  const d = process.cpuUsage(start);
  return (d.user + d.system) / 1000;
}

const client = await open();
let next = null;
client.onMessage(() => next());
const echo = (data) => new Promise((resolve) => { next = resolve; client.send(data); });

const small = new Uint8Array(16).fill(7);
for (let i = 0; i < WARMUP; i++) await echo(small);
let t = process.cpuUsage();
for (let i = 0; i < ROUNDS; i++) await echo(small);
const rtUs = (cpuMs(t) * 1000) / ROUNDS;

const mib = new Uint8Array(1 << 20).fill(3);
for (let i = 0; i < 5; i++) await echo(mib);
t = process.cpuUsage();
for (let i = 0; i < MIBS; i++) await echo(mib);
const mibMs = cpuMs(t) / MIBS;

client.close();
console.log(JSON.stringify({ contender, rounds: ROUNDS, mibs: MIBS, rt_us: rtUs, mib_ms: mibMs }));
setTimeout(() => process.exit(0), 200).unref();
