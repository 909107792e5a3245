// One benchmark client: `node client.mjs CONTENDER URL ROUNDS MIBS` prints one JSON line
// with the client process's CPU (user + system) per 16-byte round trip and per MiB echoed.
// Contenders: steadysock | ws | partysocket | global (Node's WebSocket; run with
// --experimental-websocket on Node 20).
const [contender, url, roundsArg, mibsArg] = process.argv.slice(2);
const ROUNDS = Number(roundsArg);
const MIBS = Number(mibsArg);
const WARMUP = Math.min(2000, ROUNDS);

/** Opens a client; returns { send(data), onMessage(fn), close() } once open. */
async function open() {
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
