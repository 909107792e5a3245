#!/usr/bin/env node
// The Node agent of the scenario host protocol (conformance/scenarios/README.md): JSON
// lines, commands on stdin, replies and events on stdout. It drives the core's Session
// through the addon (RawSession) over net/tls sockets, as lib/reconnecting.js does, and
// renders every event with the core's canonical names. It decides nothing: the runner
// judges.
//
//   scripts/scenarios.sh --host "node bindings-node/conformance/scenario-agent.mjs" --host-name node
import net from "node:net";
import readline from "node:readline";
import tls from "node:tls";
import native from "../lib/native.js";

const { RawSession } = native;

// Output tags of RawSession batches (src/session.rs, `mod tag`).
const T = {
  OPEN_TRANSPORT: 10,
  TRANSMIT: 11,
  CLOSE_TRANSPORT: 12,
  STATE: 13,
  OPEN: 14,
  TEXT: 15,
  BINARY: 16,
  CLOSED: 17,
  RECONNECTING: 18,
  GAVE_UP: 19,
  ERROR: 20,
  MIGRATED: 21,
  NEED_REQUEST: 22,
  OPEN_WEBSOCKET: 23,
  SEND_MESSAGE: 24,
};
const ARITY = { 10: 4, 11: 2, 12: 3, 13: 2, 14: 3, 15: 1, 16: 1, 17: 6, 18: 5, 19: 4, 20: 2, 21: 1, 22: 2, 23: 3, 24: 2 };

const start = performance.now();
const now = () => performance.now();
const write = (obj) => process.stdout.write(`${JSON.stringify(obj)}\n`);
const event = (name, fields) => write({ event: name, t_ms: Math.round(now() - start), ...fields });
const cause = (name, kind, why) => (kind === null ? { cause: name, why } : { cause: name, kind, why });

let raw = null;
let target = null;
/** The Session's transports the host holds a socket for, by id. */
const sockets = new Map();
/** Every socket not yet fully closed (a released host has none). */
const live = new Set();
const transportLog = [];
const closedLogged = new Set();
let timer = null;
let deadline = null;
let pumping = false;
let pending = false;
/** Work that answers an output, run after the batch it came in (keeps the core's order). */
const after = [];

function errorKind(err) {
  const code = (err && err.code) || "";
  if (code === "ECONNREFUSED") return "refused";
  if (code === "ENOTFOUND" || code === "EAI_AGAIN") return "dns";
  if (code === "EHOSTUNREACH" || code === "ENETUNREACH") return "unreachable";
  if (code === "ECONNRESET" || code === "EPIPE") return "reset";
  if (code === "ETIMEDOUT") return "timeout";
  return "other";
}

function logClosed(id) {
  if (closedLogged.has(id)) return;
  closedLogged.add(id);
  transportLog.push({ note: "closed", transport: id });
}

function pump(batch) {
  if (pumping) {
    if (apply(batch)) pending = true;
    return;
  }
  pumping = true;
  try {
    let more = apply(batch);
    for (;;) {
      while (after.length > 0) after.shift()();
      if (!more && !pending) break;
      pending = false;
      more = apply(raw.drain());
    }
  } finally {
    pumping = false;
  }
}

function apply(out) {
  const end = out.length - 2;
  for (let i = 0; i < end; i += 1 + ARITY[out[i]]) {
    const [a, b, c, d, e, f] = out.slice(i + 1, i + 7);
    switch (out[i]) {
      case T.NEED_REQUEST:
        after.push(() => {
          if (target === null) pump(raw.provideRequestError(a, "no target", now()));
          else pump(raw.provideRequest(a, target, [], [], now()));
        });
        break;
      case T.OPEN_TRANSPORT:
        openSocket(a, b, c, d);
        break;
      case T.TRANSMIT: {
        const s = sockets.get(a);
        if (s && !s.destroyed) s.write(b);
        break;
      }
      case T.CLOSE_TRANSPORT: {
        const s = sockets.get(a);
        sockets.delete(a);
        logClosed(a);
        if (s) {
          if (s.connecting || s.destroyed) s.destroy();
          else s.destroySoon();
        }
        break;
      }
      case T.STATE:
        event("state_changed", { from: a, to: b });
        break;
      case T.OPEN:
        event("open", { attempt: a, recovered: b, subprotocol: c === "" ? null : c });
        break;
      case T.TEXT:
        event("message", { text: a });
        break;
      case T.BINARY:
        event("message", { binary: Buffer.from(a).toString("hex") });
        break;
      case T.CLOSED:
        event("closed", { code: a, reason: b, will_reconnect: c, ...cause(d, e, f) });
        break;
      case T.RECONNECTING:
        event("reconnecting", { attempt: a, delay_ms: b, ...cause(c, d, e) });
        break;
      case T.GAVE_UP:
        event("gave_up", { attempts: a, ...cause(b, c, d) });
        break;
      case T.ERROR:
        event("error", { error: a, detail: b });
        break;
      case T.MIGRATED:
        event("migrated", { recovered: a });
        break;
      default:
        throw new Error(`unknown output tag ${out[i]}`);
    }
  }
  arm(out[end]);
  return out[end + 1];
}

function openSocket(id, host, port, secure) {
  transportLog.push({ note: "requested", transport: id });
  const socket = secure ? tls.connect({ host, port, ALPNProtocols: ["http/1.1"] }) : net.connect({ host, port });
  sockets.set(id, socket);
  live.add(socket);
  socket.setNoDelay(true);
  const mine = () => sockets.get(id) === socket;
  socket.on(secure ? "secureConnect" : "connect", () => {
    if (!mine()) return;
    transportLog.push({ note: "connected", transport: id });
    pump(raw.handleConnected(id, now()));
  });
  socket.on("data", (chunk) => {
    if (mine()) pump(raw.handleBytes(id, chunk, now()));
  });
  const ended = () => {
    if (!mine()) return;
    sockets.delete(id);
    logClosed(id);
    pump(raw.handleClosed(id, null, null, now()));
  };
  socket.on("end", ended);
  socket.on("close", () => {
    live.delete(socket);
    ended();
  });
  socket.on("error", (err) => {
    if (!mine()) return;
    sockets.delete(id);
    logClosed(id);
    socket.destroy();
    pump(raw.handleError(id, errorKind(err), err.message, now()));
  });
}

function arm(at) {
  if (at === deadline && timer !== null) return;
  if (timer !== null) clearTimeout(timer);
  timer = null;
  deadline = at;
  if (at === null) return;
  timer = setTimeout(
    () => {
      timer = null;
      deadline = null;
      pump(raw.handleTimeout(now()));
    },
    Math.max(0, Math.ceil(at - now())),
  );
}

function sendResult(err) {
  const m = err.message;
  if (m === "queue_full" || m === "closed") return m;
  if (m.startsWith("rejected")) return "rejected";
  throw err;
}

/** One command → the reply's fields (throws for `ok: false`). */
function run(cmd) {
  switch (cmd.cmd) {
    case "connect":
      target = cmd.url;
      if (raw === null) {
        const options = { ...(cmd.options || {}), request_source: "provided" };
        raw = new RawSession(cmd.url, JSON.stringify(options), now());
      }
      pump(raw.connect(now()));
      return {};
    case "target":
      target = cmd.url;
      return {};
    case "quit":
      return {};
  }
  if (raw === null) throw new Error("no session yet (connect first)");
  switch (cmd.cmd) {
    case "reconnect":
      pump(raw.reconnect(now()));
      return {};
    case "disconnect_warning":
      pump(raw.disconnectWarning(now()));
      return {};
    case "close":
      pump(raw.close(cmd.code ?? 1000, cmd.reason ?? "", now()));
      return {};
    case "send":
      try {
        if (cmd.binary !== undefined) pump(raw.sendBinary(Buffer.from(cmd.binary, "hex"), now()));
        else pump(raw.sendText(String(cmd.text), now()));
        return { result: "ok" };
      } catch (err) {
        return { result: sendResult(err) };
      }
    case "state?":
      return {
        state: raw.state,
        timer_armed: raw.timerArmed,
        transports: raw.transports,
        queued: raw.queuedMessages,
        sockets: live.size,
        threads: 0,
      };
    case "released?": {
      const released = live.size === 0 && !raw.timerArmed && raw.transports === 0 && timer === null;
      const detail = `sockets ${live.size}, session timer ${raw.timerArmed}, transports ${raw.transports}, host timer ${timer !== null}`;
      return { released, detail };
    }
    case "transport_log?":
      return { log: transportLog };
    default:
      throw new Error(`unknown command ${JSON.stringify(cmd.cmd)}`);
  }
}

function quit() {
  if (timer !== null) clearTimeout(timer);
  timer = null;
  for (const s of live) s.destroy();
  process.stdout.write("", () => process.exit(0));
}

const lines = readline.createInterface({ input: process.stdin });
lines.on("line", (line) => {
  if (line.trim() === "") return;
  let cmd;
  try {
    cmd = JSON.parse(line);
  } catch (err) {
    write({ reply: null, id: null, ok: false, error: `not JSON: ${err.message}` });
    return;
  }
  try {
    write({ reply: cmd.cmd, id: cmd.id, ok: true, ...run(cmd) });
  } catch (err) {
    write({ reply: cmd.cmd, id: cmd.id, ok: false, error: err.message });
  }
  if (cmd.cmd === "quit") quit();
});
lines.on("close", quit);
