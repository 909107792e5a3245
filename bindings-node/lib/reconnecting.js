"use strict";
// A partysocket-compatible ReconnectingWebSocket over the core's Session: reconnect,
// backoff, keepalive and the outbound queue are the Session's decisions; this file opens
// the transports it asks for, moves their bytes or messages, arms its one timer and
// presents its events as partysocket does.
//
// The core and the byte transport are injected (`configure`), so the same class runs in
// Node and in browsers:
//   - the core: a `RawSession` class, the napi addon's (src/session.rs, via
//     lib/platform-node.js) or the wasm build's (bindings-wasm/src/lib.rs), same methods,
//     same flat tagged batches;
//   - the transport: a byte transport (`platform.openBytes`: `net`/`tls` sockets in Node,
//     lib/platform-node.js), or a `WebSocket` constructor as a message transport
//     (lib/message-transport.js): the `WebSocket` option, or the global `WebSocket` where
//     there is no byte transport (browsers, Workers). A message transport needs a core with
//     the message-transport methods (`handleOpen`, `handleText`, `handleBinary`,
//     `handleClose`).
// Nothing here touches Node-only APIs, and nothing runs at module load besides defining
// the class (no Math.random: randomness is the core's, crypto.getRandomValues in browsers).
//
// No drainQueuedMessages() yet. URL and protocols providers answer the Session's request
// for each attempt.

const { CloseEvent, ErrorEvent } = require("./events.js");
const { openMessageTransport } = require("./message-transport.js");

/**
 * The platform: `{ RawSession, openBytes?, arity?, bytes? }` (see lib/platform-node.js).
 * Set once by the entry point (lib/index.js in Node, the browser entry in browsers).
 */
let platform = null;

function configure(p) {
  platform = p;
}

/** An error for the application, reported after the current call (as a listener's exception). */
const report = (err) =>
  setTimeout(() => {
    throw err;
  }, 0);

/** `ws[INSPECT]()`: the session's inner state and raw operations, for scenario agents and tests. */
const INSPECT = Symbol.for("steadysock.inspect");

const CONNECTING = 0;
const OPEN = 1;
const CLOSING = 2;
const CLOSED = 3;

// Output tags of RawSession batches (src/session.rs, `mod tag`).
const T_OPEN_TRANSPORT = 10;
const T_TRANSMIT = 11;
const T_CLOSE_TRANSPORT = 12;
const T_STATE = 13;
const T_OPEN = 14;
const T_TEXT = 15;
const T_BINARY = 16;
const T_CLOSED = 17;
const T_RECONNECTING = 18;
const T_GAVE_UP = 19;
const T_ERROR = 20;
const T_MIGRATED = 21;
const T_NEED_REQUEST = 22;
// Message transport (the wasm core; the napi core once it has a message transport).
const T_OPEN_SOCKET = 23;
const T_SEND_TEXT = 24;
const T_SEND_BINARY = 25;
const T_CLOSE_SOCKET = 26;
/** Values after each tag, as the napi core sends them; a platform may extend them (`arity`). */
const BASE_ARITY = {
  [T_NEED_REQUEST]: 2,
  [T_OPEN_TRANSPORT]: 4,
  [T_TRANSMIT]: 2,
  [T_CLOSE_TRANSPORT]: 1,
  [T_STATE]: 2,
  [T_OPEN]: 3,
  [T_TEXT]: 1,
  [T_BINARY]: 1,
  [T_CLOSED]: 4,
  [T_RECONNECTING]: 3,
  [T_GAVE_UP]: 2,
  [T_ERROR]: 1,
  [T_MIGRATED]: 1,
  [T_OPEN_SOCKET]: 3,
  [T_SEND_TEXT]: 2,
  [T_SEND_BINARY]: 2,
  [T_CLOSE_SOCKET]: 3,
};
/** Names of the tags, for `options.observe`. */
const TAG_NAMES = {
  [T_NEED_REQUEST]: "need_request",
  [T_OPEN_TRANSPORT]: "open_transport",
  [T_TRANSMIT]: "transmit",
  [T_CLOSE_TRANSPORT]: "close_transport",
  [T_STATE]: "state_changed",
  [T_OPEN]: "open",
  [T_TEXT]: "message",
  [T_BINARY]: "message",
  [T_CLOSED]: "closed",
  [T_RECONNECTING]: "reconnecting",
  [T_GAVE_UP]: "gave_up",
  [T_ERROR]: "error",
  [T_MIGRATED]: "migrated",
  [T_OPEN_SOCKET]: "open_transport",
  [T_SEND_TEXT]: "send_message",
  [T_SEND_BINARY]: "send_message",
  [T_CLOSE_SOCKET]: "close_transport",
};

/** partysocket 1.3 defaults. */
const DEFAULTS = {
  maxReconnectionDelay: 10000,
  minReconnectionDelay: 3000,
  reconnectionDelayGrowFactor: 1.3,
  minUptime: 5000,
  connectionTimeout: 4000,
  maxRetries: Infinity,
  maxEnqueuedMessages: Infinity,
  startClosed: false,
  debug: false,
};

const now = () => performance.now();

function protocolList(protocols) {
  if (protocols == null) return [];
  return typeof protocols === "string" ? [protocols] : Array.from(protocols, String);
}

/** UTF-8 length of a string, without encoding it. */
function utf8Length(s) {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}

function byteSize(data) {
  if (typeof data === "string") return utf8Length(data);
  if (data instanceof Blob) return data.size;
  return data.byteLength;
}

/** A byte view of binary data for the core (`platform.bytes`: a Buffer for napi). */
function bytesOf(data) {
  const view = ArrayBuffer.isView(data) ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength) : new Uint8Array(data);
  return platform.bytes ? platform.bytes(view) : view;
}

class ReconnectingWebSocket extends EventTarget {
  static CONNECTING = CONNECTING;
  static OPEN = OPEN;
  static CLOSING = CLOSING;
  static CLOSED = CLOSED;

  /** Plain handler properties, called before the listeners (partysocket). */
  onopen = null;
  onmessage = null;
  onclose = null;
  onerror = null;

  #raw;
  /** Values after each output tag (the core's). */
  #arity;
  /** A `WebSocket` constructor: the Session runs over it as a message transport. */
  #WebSocket = null;
  /** `options.observe`: every session output as a plain object (agents, debugging). */
  #observe = null;
  #url;
  #urlSource;
  #protocolsSource;
  #options;
  #sockets = new Map();
  #timer = null;
  #deadline = null;
  #state = "idle";
  /** The state before the last transition (tells a failed attempt from a lost connection). */
  #from = "idle";
  #protocol = "";
  #binaryType = "blob";
  #started = false;
  /** close() was called and reconnect() was not since: the Session's own close events are not shown. */
  #userClosed = false;
  /** reconnect() dispatched its close event; the Session's matching one is not shown. */
  #skipClosed = false;
  #warnedAfterClose = false;
  /** The cause of the last failed attempt when the Session gave up (shown with its `closed`). */
  #gaveUp = null;
  /** Messages sent after close(), delivered by reconnect() (partysocket). */
  #afterClose = [];
  #pumping = false;
  #drainPending = false;
  #blobsPending = 0;
  #sendChain = Promise.resolve();

  /**
   * @param {string | (() => string | Promise<string>)} url
   * @param {null | string | string[] | (() => ...)} [protocols]
   * @param {object} [options] partysocket's options (see index.d.ts)
   */
  constructor(url, protocols = undefined, options = {}) {
    super();
    if (platform === null) throw new Error("steadysock: no core configured (import the package, not lib/reconnecting.js)");
    this.#options = { ...DEFAULTS, ...options };
    const o = this.#options;
    const { RawSession } = platform;
    // A message transport when a WebSocket class is given and the core can drive one, or
    // when there is no byte transport (browsers).
    const canMessages = typeof RawSession.prototype.handleOpen === "function";
    if (!platform.openBytes || (o.WebSocket && canMessages)) {
      this.#WebSocket = o.WebSocket || globalThis.WebSocket || null;
    }
    this.#arity = platform.arity || BASE_ARITY;
    this.#observe = typeof o.observe === "function" ? o.observe : null;
    // A URL or protocols provider (a function, sync or async) is asked again for every
    // attempt: the Session asks for each attempt's request (NEED_REQUEST).
    const provided = typeof url === "function" || typeof protocols === "function";
    this.#urlSource = url;
    this.#protocolsSource = protocols;
    this.#url = typeof url === "function" ? "" : String(url);
    const int = (v) => Math.max(0, Math.floor(Number(v)));
    const keepalive =
      o.keepalive === null || o.keepalive === false
        ? null
        : o.keepalive
          ? { interval_ms: int(o.keepalive.intervalMs), pong_timeout_ms: int(o.keepalive.pongTimeoutMs) }
          : undefined;
    // The core's SessionOptions (snake_case); absent keys keep the core's defaults.
    const sessionOptions = {
      request_source: provided ? "provided" : "fixed",
      subprotocols: provided ? undefined : protocolList(protocols),
      headers: o.headers ? Object.entries(o.headers).map(([k, v]) => [String(k), String(v)]) : undefined,
      backoff: {
        min_ms: int(o.minReconnectionDelay),
        max_ms: int(o.maxReconnectionDelay),
        factor: Number(o.reconnectionDelayGrowFactor),
        jitter: o.jitter === undefined ? "none" : String(o.jitter),
      },
      max_retries: Number.isFinite(o.maxRetries) ? int(o.maxRetries) : null,
      min_uptime_ms: int(o.minUptime),
      connect_timeout_ms: Number.isFinite(o.connectionTimeout) ? int(o.connectionTimeout) : null,
      handshake_timeout_ms: Number.isFinite(o.connectionTimeout) ? int(o.connectionTimeout) : null,
      // (usize keys: at most 2^32 - 1, the largest a wasm32 core reads)
      queue: { max_messages: Number.isFinite(o.maxEnqueuedMessages) ? int(o.maxEnqueuedMessages) : 0xffffffff },
      keepalive,
    };
    if (this.#WebSocket !== null) {
      sessionOptions.transport = "messages";
      delete sessionOptions.headers; // a browser WebSocket sends none
    }
    if (o.heartbeat) {
      // The application heartbeat (the only keepalive of a message transport): a ping
      // message and a pattern for the reply, as data.
      const h = o.heartbeat;
      const pattern = (p) => (typeof p === "string" ? { exact: p } : p);
      sessionOptions.heartbeat = {
        interval_ms: h.intervalMs === undefined ? undefined : int(h.intervalMs),
        timeout_ms: h.timeoutMs === undefined ? undefined : int(h.timeoutMs),
        ping: h.ping === undefined ? undefined : String(h.ping),
        pong: h.pong === undefined ? undefined : pattern(h.pong),
        any_message_counts: h.anyMessageCounts,
      };
    }
    if (o.disconnectWarning) {
      const w = o.disconnectWarning;
      sessionOptions.disconnect_warning = typeof w === "string" ? { exact: w } : w;
    }
    if (o.recovery !== undefined) sessionOptions.recovery = Boolean(o.recovery);
    // Any of the core's SessionOptions keys, as they are (snake_case), last.
    if (o.sessionOptions) Object.assign(sessionOptions, o.sessionOptions);
    this.#raw = new RawSession(provided ? "ws://provided.invalid/" : this.#url, JSON.stringify(sessionOptions), now());
    if (!o.startClosed) {
      this.#started = true;
      this.#pump(this.#raw.connect(now()));
    }
  }

  get readyState() {
    if (this.#userClosed) return CLOSED;
    switch (this.#state) {
      case "idle":
        return this.#options.startClosed ? CLOSED : CONNECTING;
      case "connecting":
        return CONNECTING;
      case "open":
        return OPEN;
      case "closing":
        return CLOSING;
      default:
        // backoff (the last socket is closed, the next not yet made) and closed
        return CLOSED;
    }
  }

  get retryCount() {
    return Math.max(this.#raw.attempt - 1, 0);
  }

  get shouldReconnect() {
    return !this.#userClosed && this.#state !== "closed";
  }

  get url() {
    return this.#started ? this.#url : "";
  }

  get protocol() {
    return this.#protocol;
  }

  get extensions() {
    return "";
  }

  get binaryType() {
    return this.#binaryType;
  }

  set binaryType(value) {
    if (value === "blob" || value === "arraybuffer") this.#binaryType = value;
  }

  get bufferedAmount() {
    let n = this.#raw.queuedBytes;
    for (const d of this.#afterClose) n += byteSize(d);
    for (const s of this.#sockets.values()) n += s.bufferedAmount;
    return n;
  }

  /**
   * Sends now (true) or queues until open (false). After close(), the message waits for
   * reconnect() (with one warning per close, as partysocket). A full queue is an `error`
   * event, never a silent drop.
   */
  send(data) {
    if (this.#userClosed) {
      if (!this.#warnedAfterClose) {
        this.#warnedAfterClose = true;
        console.warn("ReconnectingWebSocket: send() was called after close(); the message is queued until reconnect()");
      }
      this.#afterClose.push(data);
      return false;
    }
    if (this.#blobsPending > 0 || data instanceof Blob) {
      // A Blob is read asynchronously; it and everything sent after it keep their order.
      this.#blobsPending++;
      this.#sendChain = this.#sendChain
        .then(async () => this.#sendNow(data instanceof Blob ? new Uint8Array(await data.arrayBuffer()) : data))
        .catch((err) => this.#emitError(`could not read a Blob to send: ${err.message}`, err))
        .finally(() => this.#blobsPending--);
      return false;
    }
    return this.#sendNow(data);
  }

  #sendNow(data) {
    const wasOpen = this.#state === "open";
    let out;
    try {
      if (typeof data === "string") out = this.#raw.sendText(data, now());
      else if (ArrayBuffer.isView(data) || data instanceof ArrayBuffer || (typeof SharedArrayBuffer === "function" && data instanceof SharedArrayBuffer)) out = this.#raw.sendBinary(bytesOf(data), now());
      else out = this.#raw.sendText(String(data), now());
    } catch (err) {
      this.#emitError(`message not sent: ${err.message}`, err);
      return false;
    }
    this.#pump(out);
    return wasOpen;
  }

  /** Closes for good (until reconnect()); the close event is dispatched before this returns. */
  close(code = 1000, reason = undefined) {
    const wasActive = this.#state === "open" || this.#state === "connecting";
    const already = this.#userClosed;
    this.#userClosed = true;
    this.#warnedAfterClose = false;
    this.#pump(this.#raw.close(code, reason === undefined ? "" : String(reason), now()));
    if (wasActive && !already) this.#emitClose(code, reason === undefined ? "" : String(reason), true);
  }

  /** Starts again, in any state (also after close() or when retries ran out). */
  reconnect(code = 1000, reason = undefined) {
    if (this.#state === "open" && !this.#userClosed) {
      this.#skipClosed = true;
      this.#emitClose(code, reason === undefined ? "" : String(reason), true);
    }
    this.#userClosed = false;
    this.#started = true;
    const waiting = this.#afterClose;
    this.#afterClose = [];
    this.#pump(this.#raw.reconnect(now()));
    for (const d of waiting) this.send(d);
  }

  /**
   * The session's inner state and raw operations (scenario agents, tests): not part of
   * the partysocket API.
   */
  [INSPECT]() {
    const raw = this.#raw;
    const pump = (out) => this.#pump(out);
    const self = this;
    return {
      get state() {
        return raw.state;
      },
      get timerArmed() {
        return self.#deadline !== null;
      },
      get transports() {
        return raw.transports;
      },
      get queued() {
        return raw.queuedMessages;
      },
      get sockets() {
        return openMessageTransport.live.size + (platform.liveBytes ? platform.liveBytes() : 0);
      },
      connect() {
        self.#started = true;
        self.#userClosed = false;
        pump(raw.connect(now()));
      },
      disconnectWarning() {
        pump(raw.disconnectWarning(now()));
      },
      /** The Session's own answer: "ok", "queue_full", "closed" or "rejected". */
      send(data) {
        try {
          pump(typeof data === "string" ? raw.sendText(data, now()) : raw.sendBinary(bytesOf(data), now()));
          return "ok";
        } catch (err) {
          return String(err.message).split(":")[0];
        }
      },
    };
  }

  // ---------------------------------------------------------------- driving the session

  #pump(out) {
    if (this.#pumping) {
      if (this.#apply(out)) this.#drainPending = true;
      return;
    }
    this.#pumping = true;
    try {
      let more = this.#apply(out);
      while (more || this.#drainPending) {
        this.#drainPending = false;
        more = this.#apply(this.#raw.drain());
      }
    } finally {
      this.#pumping = false;
    }
  }

  /** Applies one batch in order; returns whether more outputs may be pending. */
  #apply(out) {
    const end = out.length - 2;
    const arity = this.#arity;
    for (let i = 0; i < end; i += 1 + arity[out[i]]) {
      const a = out[i + 1];
      const b = out[i + 2];
      const c = out[i + 3];
      const d = out[i + 4];
      if (this.#observe !== null) this.#observe({ output: TAG_NAMES[out[i]], tag: out[i], values: out.slice(i + 1, i + 1 + arity[out[i]]) });
      switch (out[i]) {
        case T_NEED_REQUEST:
          this.#provideRequest(a);
          break;
        case T_OPEN_TRANSPORT:
          this.#openTransport(a, b, c, d);
          break;
        case T_TRANSMIT:
        case T_SEND_TEXT:
        case T_SEND_BINARY: {
          const s = this.#sockets.get(a);
          if (s) s.send(b);
          break;
        }
        case T_OPEN_SOCKET:
          this.#openSocket(a, b, c);
          break;
        case T_CLOSE_TRANSPORT: {
          const s = this.#sockets.get(a);
          this.#sockets.delete(a);
          if (s) s.close();
          break;
        }
        case T_CLOSE_SOCKET: {
          // The WebSocket runs the closing handshake; its close event is still reported
          // (a closing Session waits for it; otherwise the Session ignores it).
          const s = this.#sockets.get(a);
          if (s) s.close(b, c);
          break;
        }
        case T_STATE:
          this.#from = a;
          this.#state = b;
          break;
        case T_OPEN:
          this.#protocol = c;
          this.#emit(new Event("open"), "onopen");
          break;
        case T_TEXT:
          this.#emit(new MessageEvent("message", { data: a }), "onmessage");
          break;
        case T_BINARY:
          this.#emit(new MessageEvent("message", { data: this.#binaryType === "arraybuffer" ? a : new Blob([a]) }), "onmessage");
          break;
        case T_CLOSED:
          if (this.#userClosed) break;
          if (this.#skipClosed) {
            this.#skipClosed = false;
            break;
          }
          if (this.#gaveUp !== null) {
            // The last attempt failed: a close, then the error, as for every failed attempt.
            const cause = this.#gaveUp;
            this.#gaveUp = null;
            this.#emitClose(1006, cause, false);
            this.#emitError(cause);
            break;
          }
          this.#emitClose(a, b, a !== 1006);
          break;
        case T_RECONNECTING:
          // An attempt that never opened failed: partysocket shows a close, then the error.
          if (this.#from === "connecting" && !this.#userClosed) {
            this.#emitClose(1006, c, false);
            this.#emitError(c);
          }
          break;
        case T_GAVE_UP:
          // The Session's `closed` follows at once; it shows this attempt's failure.
          if (this.#state === "connecting") this.#gaveUp = b;
          break;
        case T_ERROR:
          this.#emitError(a);
          break;
        case T_MIGRATED:
          break;
        default:
          throw new Error(`steadysock: unknown session output tag ${out[i]}`);
      }
    }
    this.#arm(out[end]);
    return out[end + 1];
  }

  /** Asks the URL and protocols providers for attempt `id`; their failure fails the attempt. */
  #provideRequest(id) {
    const resolve = (source) => (typeof source === "function" ? source() : source);
    let answer;
    try {
      answer = Promise.all([resolve(this.#urlSource), resolve(this.#protocolsSource)]);
    } catch (err) {
      answer = Promise.reject(err);
    }
    answer.then(
      ([url, protocols]) => {
        this.#url = String(url);
        const headers = this.#options.headers ? Object.entries(this.#options.headers).map(([k, v]) => [String(k), String(v)]) : [];
        this.#pump(this.#raw.provideRequest(id, this.#url, protocolList(protocols), headers, now()));
      },
      (err) => {
        const message = err instanceof Error ? err.message : String(err);
        this.#pump(this.#raw.provideRequestError(id, message, now()));
      },
    );
  }

  /**
   * The callbacks a transport reports through (each a no-op once the Session forgot
   * transport `id`: it closed it, or the transport already ended).
   */
  #reports(id) {
    const live = () => this.#sockets.has(id);
    const ended = () => this.#sockets.delete(id);
    const raw = this.#raw;
    const note = (what) => this.#observe !== null && this.#observe({ note: what, transport: id });
    return {
      connected: () => live() && this.#pump(raw.handleConnected(id, now())),
      bytes: (chunk) => live() && this.#pump(raw.handleBytes(id, chunk, now())),
      open: (protocol) => {
        note("connected");
        if (live()) this.#pump(raw.handleOpen(id, protocol, now()));
      },
      text: (data) => live() && this.#pump(raw.handleText(id, data, now())),
      binary: (data) => live() && this.#pump(raw.handleBinary(id, data, now())),
      // byte transport: end of stream (no code); message transport: the close event's
      // code and reason, as they came
      closed: (code, reason) => {
        note("closed");
        if (!live()) return;
        ended();
        this.#pump(code === undefined ? raw.handleClosed(id, now()) : raw.handleClose(id, code, reason, now()));
      },
      error: (kind, detail) => {
        if (!live()) return;
        ended();
        this.#pump(raw.handleError(id, kind, detail, now()));
      },
    };
  }

  /** Byte transport: a socket to host:port (platform.openBytes: net/tls in Node). */
  #openTransport(id, host, port, secure) {
    this.#observe?.({ note: "requested", transport: id });
    this.#sockets.set(id, platform.openBytes(host, port, secure, this.#options, this.#reports(id)));
  }

  /** Message transport: `new WebSocket(url, protocols)`. */
  #openSocket(id, url, protocols) {
    this.#url = url;
    this.#observe?.({ note: "requested", transport: id });
    this.#sockets.set(id, openMessageTransport(this.#WebSocket, url, protocols, this.#reports(id)));
  }

  /**
   * One timer at the Session's deadline. It holds the process while the session is
   * connecting, open or waiting to retry (a reconnecting client keeps running), not once
   * close() was called.
   */
  #arm(deadline) {
    if (deadline === this.#deadline && this.#timer !== null) {
      this.#refTimer();
      return;
    }
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    this.#deadline = deadline;
    if (deadline === null) return;
    this.#timer = setTimeout(
      () => {
        this.#timer = null;
        this.#deadline = null;
        this.#pump(this.#raw.handleTimeout(now()));
      },
      Math.max(0, Math.ceil(deadline - now())),
    );
    this.#refTimer();
  }

  #refTimer() {
    // Node's timers can stop holding the process; a browser's timer is a number.
    if (this.#timer === null || typeof this.#timer.ref !== "function") return;
    if (this.#userClosed || this.#state === "closed") this.#timer.unref();
    else this.#timer.ref();
  }

  // ---------------------------------------------------------------- events

  #emit(event, handler) {
    const fn = this[handler];
    if (typeof fn === "function") {
      try {
        fn.call(this, event);
      } catch (err) {
        // As a listener's exception: reported, never breaking the socket's handling.
        report(err);
      }
    }
    this.dispatchEvent(event);
  }

  #emitClose(code, reason, wasClean) {
    this.#emit(new CloseEvent("close", { code, reason, wasClean }), "onclose");
  }

  #emitError(message, error = undefined) {
    const text = /^(connect|handshake) timeout/.test(message) ? "TIMEOUT" : message;
    this.#emit(new ErrorEvent("error", { message: text, error: error || new Error(message) }), "onerror");
  }
}

for (const [name, value] of Object.entries({ CONNECTING, OPEN, CLOSING, CLOSED })) {
  Object.defineProperty(ReconnectingWebSocket.prototype, name, { value, enumerable: true });
}

module.exports = { ReconnectingWebSocket, configure, INSPECT };
