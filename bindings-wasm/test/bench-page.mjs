// Benchmark page (bench/run.mjs): the same echo server, three clients on one page —
// steadysock (wasm core), the browser's WebSocket, partysocket — burst throughput (send N
// small messages, wait for N echoes) and sequential round trips; the clients take turns in
// each of 7 rounds, and each number is the median of the rounds.
import SteadySocket from "steadysock";
import PartySocket from "partysocket/ws";

const CLIENTS = {
  steadysock: (url) => new SteadySocket(url, undefined, { maxRetries: 0 }),
  websocket: (url) => new WebSocket(url),
  partysocket: (url) => new PartySocket(url, undefined, { maxRetries: 0 }),
};

function opened(ws) {
  return new Promise((resolve, reject) => {
    ws.addEventListener("open", resolve, { once: true });
    ws.addEventListener("error", () => reject(new Error("could not connect")), { once: true });
  });
}

async function burst(ws, n, payload) {
  let got = 0;
  const done = new Promise((resolve) => {
    ws.onmessage = () => {
      if (++got === n) resolve();
    };
  });
  const t0 = performance.now();
  for (let i = 0; i < n; i++) ws.send(payload);
  await done;
  return performance.now() - t0;
}

async function sequential(ws, n, payload) {
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    await new Promise((resolve) => {
      ws.onmessage = resolve;
      ws.send(payload);
    });
  }
  return performance.now() - t0;
}

globalThis.runBench = async (url, { burstN = 20000, seqN = 2000, rounds = 7 } = {}) => {
  const payload = "0123456789abcdef";
  const results = {};
  for (const name of Object.keys(CLIENTS)) results[name] = { burst: [], seq: [] };
  for (let r = 0; r < rounds; r++) {
    for (const [name, make] of Object.entries(CLIENTS)) {
      const ws = make(url);
      await opened(ws);
      await burst(ws, 1000, payload); // warm-up
      results[name].burst.push(burstN / ((await burst(ws, burstN, payload)) / 1000));
      results[name].seq.push(seqN / ((await sequential(ws, seqN, payload)) / 1000));
      ws.close();
    }
  }
  // The median of the rounds (the clients take turns within each round), and the range.
  const median = (xs) => Math.round([...xs].sort((a, b) => a - b)[xs.length >> 1]);
  const range = (xs) => [Math.round(Math.min(...xs)), Math.round(Math.max(...xs))];
  return Object.fromEntries(
    Object.entries(results).map(([k, v]) => [k, { burst: median(v.burst), seq: median(v.seq), burstRange: range(v.burst), seqRange: range(v.seq) }]),
  );
};
globalThis.benchReady = true;

/** One client, one measure (bench/profile.mjs): `{ ms }` of a burst or of round trips. */
globalThis.runOne = async (name, url, kind = "burst", n = 20000) => {
  const ws = CLIENTS[name](url);
  await opened(ws);
  await burst(ws, 1000, "0123456789abcdef");
  const ms = kind === "burst" ? await burst(ws, n, "0123456789abcdef") : await sequential(ws, n, "0123456789abcdef");
  ws.close();
  return { ms };
};
