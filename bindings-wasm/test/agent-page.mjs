// The page half of the browser scenario agent (conformance/scenarios/README.md, "The host
// protocol"): commands arrive as JSON lines through window.__agentIn, replies and events
// leave through window.__agentOut (exposed by the bridge, browser-agent.mjs). The session
// is the package's ReconnectingWebSocket (resolved as `steadysock` through the package's
// `browser` export: wasm core, the browser's WebSocket as a message transport); the
// canonical events come from its `observe` option, the counts from its INSPECT accessor.
import ReconnectingWebSocket from "steadysock";

const INSPECT = Symbol.for("steadysock.inspect");
const t0 = performance.now();
let ws = null;
let inspect = null;
let target = "";
const log = [];

const out = (obj) => globalThis.__agentOut(JSON.stringify(obj));
const t_ms = () => Math.round(performance.now() - t0);
const hex = (buf) => Array.from(new Uint8Array(buf), (b) => b.toString(16).padStart(2, "0")).join("");
const withKind = (kind) => (kind ? { kind } : {});

/** One session output, rendered as the protocol's event (only events; transport actions are the host's). */
function observe(o) {
  if (o.note) {
    log.push({ note: o.note, transport: o.transport });
    return;
  }
  const v = o.values;
  switch (o.tag) {
    case 13:
      return out({ event: "state_changed", from: v[0], to: v[1], t_ms: t_ms() });
    case 14:
      return out({ event: "open", attempt: v[0], recovered: v[1], subprotocol: v[2] === "" ? null : v[2], t_ms: t_ms() });
    case 15:
      return out({ event: "message", text: v[0], t_ms: t_ms() });
    case 16:
      return out({ event: "message", binary: hex(v[0]), t_ms: t_ms() });
    case 17:
      return out({ event: "closed", code: v[0], reason: v[1], will_reconnect: v[2], cause: v[3], ...withKind(v[4]), why: v[5], t_ms: t_ms() });
    case 18:
      return out({ event: "reconnecting", attempt: v[0], delay_ms: v[1], cause: v[2], ...withKind(v[3]), why: v[4], t_ms: t_ms() });
    case 19:
      return out({ event: "gave_up", attempts: v[0], cause: v[1], ...withKind(v[2]), why: v[3], t_ms: t_ms() });
    case 20:
      return out({ event: "error", error: v[0], detail: v[1], t_ms: t_ms() });
    case 21:
      return out({ event: "migrated", recovered: v[0], t_ms: t_ms() });
    default:
  }
}

/** The scenario table's client settings → the core's SessionOptions, for a browser. */
function sessionOptions(options) {
  const o = { ...options };
  // A browser cannot send protocol pings: the keepalive of the table becomes the
  // application heartbeat (`ss1 ping` / `ss1 pong`, which the fault server answers).
  if (o.keepalive) o.heartbeat = { interval_ms: o.keepalive.interval_ms, timeout_ms: o.keepalive.pong_timeout_ms };
  o.keepalive = null;
  return o;
}

function unhex(text) {
  const bytes = new Uint8Array(text.length / 2);
  for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(text.slice(2 * i, 2 * i + 2), 16);
  return bytes;
}

function command(c) {
  const reply = (fields = {}) => out({ reply: c.cmd, id: c.id, ok: true, ...fields });
  const fail = (error) => out({ reply: c.cmd, id: c.id, ok: false, error });
  if (c.cmd === "target") {
    target = String(c.url);
    return reply();
  }
  if (c.cmd === "connect") {
    target = String(c.url);
    if (ws === null) {
      // The URL provider reads the target at every attempt.
      ws = new ReconnectingWebSocket(() => target, undefined, {
        startClosed: true,
        observe,
        sessionOptions: sessionOptions(c.options || {}),
      });
      ws.addEventListener("error", () => {}); // partysocket-style events are not the protocol's
      inspect = ws[INSPECT]();
    }
    inspect.connect();
    return reply();
  }
  if (c.cmd === "quit") {
    if (ws !== null) ws.close(1000, "quit");
    return reply();
  }
  if (ws === null) return fail(`no session yet for ${c.cmd}`);
  switch (c.cmd) {
    case "reconnect":
      ws.reconnect();
      return reply();
    case "disconnect_warning":
      inspect.disconnectWarning();
      return reply();
    case "close":
      ws.close(c.code === undefined ? 1000 : c.code, c.reason === undefined ? "" : c.reason);
      return reply();
    case "send":
      return reply({ result: inspect.send(c.binary !== undefined ? unhex(c.binary) : String(c.text)) });
    case "state?":
      return reply({
        state: inspect.state,
        timer_armed: inspect.timerArmed,
        transports: inspect.transports,
        queued: inspect.queued,
        sockets: inspect.sockets,
        threads: 0,
      });
    case "released?": {
      const held = { sockets: inspect.sockets, timer: inspect.timerArmed, transports: inspect.transports };
      const released = held.sockets === 0 && !held.timer && held.transports === 0;
      return reply({ released, detail: JSON.stringify(held) });
    }
    case "transport_log?":
      return reply({ log });
    default:
      return fail(`unknown command ${JSON.stringify(c.cmd)}`);
  }
}

globalThis.__agentIn = (line) => {
  let c;
  try {
    c = JSON.parse(line);
  } catch (e) {
    return out({ reply: "?", id: null, ok: false, error: `not JSON: ${e.message}` });
  }
  try {
    command(c);
  } catch (e) {
    out({ reply: c.cmd, id: c.id, ok: false, error: String(e && e.message) });
  }
};
globalThis.__agentReady = true;
