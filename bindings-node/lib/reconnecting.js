"use strict";
// A partysocket-compatible ReconnectingWebSocket over the core's Session (lib/native.js →
// src/session.rs): reconnect, backoff, keepalive and the outbound queue are the Session's
// decisions; this file opens the `net`/`tls` sockets it asks for, moves their bytes, arms
// its one timer and presents its events as partysocket does.
//
// Transports: our own `net`/`tls` byte transport, or, given a `WebSocket` class (ws, a
// polyfill, Node's global), that class as a message transport. URL and protocols providers
// answer the Session's request for each attempt.
//
// The core and the byte transport are injected (`configure(platform)`), so this one class
// runs in Node and in browsers: lib/platform-node.js (the napi RawSession, the `net`/`tls`
// byte transport, Node's timer and listener details) or lib/platform-wasm.mjs
// (bindings-wasm's RawSession: same methods, same batches; no byte transport, so the
// global `WebSocket` is the transport). No Node-only API is used here without a fallback,
// and nothing runs at module load (no Math.random).

const { CloseEvent, ErrorEvent } = require("./events.js");

/**
 * `{ RawSession, byteTransport?, holdTimer?, setMaxListeners?, bytes? }`: set once by the
 * entry point (lib/platform-node.js in Node, lib/platform-wasm.mjs in browsers).
 */
let platform = null;

function configure(p) {
  platform = p;
}

/** `ws[INSPECT]()`: the session's inner state and raw operations, for scenario agents. */
const INSPECT = Symbol.for("steadysock.inspect");

/** Runs `f` from a later task (setImmediate where there is one). */
const later = (f) => (typeof setImmediate === "function" ? setImmediate(f) : setTimeout(f, 0));

/** Reports an application's exception after the current call, as an uncaught one. */
const report = (err) =>
  later(() => {
    throw err;
  });

/** Binary data as the core takes it: a Buffer for napi (`platform.bytes`), else a Uint8Array. */
function bytesOf(data) {
  const view = ArrayBuffer.isView(data) ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength) : new Uint8Array(data);
  return platform.bytes ? platform.bytes(view) : view;
}

const CONNECTING = 0;
const OPEN = 1;
const CLOSING = 2;
const CLOSED = 3;

// Output tags of RawSession batches (the core's table: core/src/session/batch_tag.rs).
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
const T_OPEN_WEBSOCKET = 23;
const T_SEND_MESSAGE = 24;
/** Values after each tag (indexed by tag - 10). */
const ARITY = [4, 2, 3, 2, 4, 1, 1, 6, 5, 4, 2, 1, 2, 3, 2];

/** Names of the tags (indexed by tag - 10), for `options.observe`. */
const TAG_NAMES = [
  "open_transport",
  "transmit",
  "close_transport",
  "state_changed",
  "open",
  "message",
  "message",
  "closed",
  "reconnecting",
  "gave_up",
  "error",
  "migrated",
  "need_request",
  "open_transport",
  "send_message",
];

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

/**
 * Option key of the `steadysock/reconnecting-websocket` entry point: reconnecting-websocket
 * 4.4's observable differences (close() leaves CLOSING and its close event comes later,
 * with the real code; send() returns nothing).
 */
const RWS44 = Symbol("reconnecting-websocket 4.4");

/**
 * Option key of an entry point's own event classes (`steadysock/reconnecting-websocket`):
 * an object of factories `open(target, recovered)`, `message(target, data)`,
 * `close(target, code, reason, wasClean)`, `error(target, message, error)`.
 */
const EVENTS = Symbol("event factories");

/** The WHATWG events (Node's Event and MessageEvent, lib/events.js's CloseEvent and ErrorEvent). */
const DOM_EVENTS = {
  open(target, recovered) {
    const event = new Event("open");
    // steadysock's own: whether the server resumed the session (`recovery` option).
    Object.defineProperty(event, "recovered", { value: recovered, enumerable: true });
    return event;
  },
  message: (target, data) => new MessageEvent("message", { data }),
  close: (target, code, reason, wasClean) => new CloseEvent("close", { code, reason, wasClean }),
  error: (target, message, error) => new ErrorEvent("error", { message, error }),
};

/** A `MessagePattern` of the core (exact string, `{ prefix }`, `{ json }`, …) or null. */
function pattern(value) {
  return value === undefined || value === null ? value : typeof value === "string" ? { exact: value } : value;
}

function protocolList(protocols) {
  if (protocols == null) return [];
  return typeof protocols === "string" ? [protocols] : Array.from(protocols, String);
}

/** A URL partysocket takes: a string (or, as WHATWG WebSocket, a URL object). */
function isUrl(url) {
  return typeof url === "string" || url instanceof URL;
}

/** Protocols partysocket takes: none (any falsy value), a string or an array (of strings). */
function isProtocols(protocols) {
  return !protocols || typeof protocols === "string" || Array.isArray(protocols);
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
  #url;
  #urlSource;
  #protocolsSource;
  #options;
  /** The byte transport's sockets (`platform.byteTransport`), made at the first one. */
  #bytes = null;
  /** Host WebSockets whose close event has not come yet (the ones `released` waits for). */
  #liveHostSockets = new Set();
  /** Host WebSockets the Session asked to close: their close event is still reported. */
  #closingHostSockets = new Set();
  /** `options.observe`: every session output as `{ output, tag, values }` and transport notes. */
  #observe = null;
  /** Message transport: the host WebSockets by transport id. */
  #hostSockets = new Map();
  #timer = null;
  #deadline = null;
  #state = "idle";
  /** The state before the last transition (tells a failed attempt from a lost connection). */
  #from = "idle";
  #protocol = "";
  #extensions = "";
  #binaryType = "blob";
  #started = false;
  /** A socket (byte or host transport) was made for an attempt: `url` shows its URL. */
  #socketMade = false;
  /** What the URL/protocols provider threw or rejected with (partysocket's error message). */
  #providerError = null;
  /** reconnect() closed an open socket: CLOSING until the next task (partysocket's old socket). */
  #reconnectClosing = false;
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
  /**
   * The time of the latest input (ms, performance.now()'s clock). A send passes it as is:
   * the core reads no clock for a send (Session::send), and a clock read costs about as
   * much as the rest of a small send's JavaScript.
   */
  #last = 0;
  /** Outputs of calls made while a batch is being applied, applied after it, in order. */
  #nested = [];
  #rws44 = false;
  #events = DOM_EVENTS;
  /** rws 4.4: close() was called on an active socket; its close event is still to come. */
  #awaitingClose = false;
  #blobsPending = 0;
  /** Bytes waiting in the send chain behind a Blob being read (counted in bufferedAmount). */
  #chainedBytes = 0;
  #sendChain = Promise.resolve();

  /**
   * @param {string | (() => string | Promise<string>)} url
   * @param {null | string | string[] | (() => ...)} [protocols]
   * @param {object} [options] partysocket's options (see index.d.ts)
   */
  constructor(url, protocols = undefined, options = {}) {
    super();
    // Any number of listeners is normal for a socket an app shares (Node's EventTarget
    // would warn above 10 of one type, as it does for partysocket).
    if (platform === null) throw new Error("steadysock: no core configured (import the package, not lib/reconnecting.js)");
    if (platform.setMaxListeners) platform.setMaxListeners(0, this);
    this.#options = { ...DEFAULTS, ...options };
    const o = this.#options;
    // Without a byte transport (browsers, Workers), the global WebSocket is the transport.
    if (!o.WebSocket && !platform.byteTransport) o.WebSocket = globalThis.WebSocket;
    this.#observe = typeof o.observe === "function" ? o.observe : null;
    this.#rws44 = o[RWS44] === true;
    if (o[EVENTS]) this.#events = o[EVENTS];
    // A URL or protocols provider (a function, sync or async) is asked again for every
    // attempt: the Session asks for each attempt's request (NEED_REQUEST).
    // A URL that is not a string (or URL) and protocols that are not null, a string or an
    // array go through the same path, so that they fail each attempt with partysocket's
    // "Invalid URL" / "Invalid protocols" error event.
    const provided = !isUrl(url) || !isProtocols(protocols);
    this.#urlSource = url;
    this.#protocolsSource = protocols;
    this.#url = isUrl(url) ? String(url) : "";
    const int = (v) => Math.max(0, Math.floor(Number(v)));
    /** A whole number of milliseconds, or undefined (the core's default) when not given. */
    const opt = (v) => (v === undefined ? undefined : int(v));
    /** Finite: a whole number; Infinity (partysocket's "no limit"): `none`. */
    const limit = (v, none) => (Number.isFinite(v) ? int(v) : none);
    const ka = o.keepalive;
    const hb = o.heartbeat;
    const keepalive =
      ka === null || ka === false ? null : ka ? { interval_ms: opt(ka.intervalMs), pong_timeout_ms: opt(ka.pongTimeoutMs) } : undefined;
    // The core's SessionOptions (snake_case); absent keys keep the core's defaults.
    const sessionOptions = {
      // With a WebSocket class (ws, a polyfill, Node's global), the Session runs over it as
      // a message transport; without one, over our own net/tls byte transport.
      transport: o.WebSocket ? "messages" : "bytes",
      request_source: provided ? "provided" : "fixed",
      subprotocols: provided ? undefined : protocolList(protocols),
      headers: o.headers ? Object.entries(o.headers).map(([k, v]) => [String(k), String(v)]) : undefined,
      backoff: {
        // partysocket's delay is min(minDelay · grow^n, maxDelay): a minimum above the
        // maximum means the maximum every time.
        min_ms: Math.min(int(o.minReconnectionDelay), int(o.maxReconnectionDelay)),
        max_ms: int(o.maxReconnectionDelay),
        factor: Number(o.reconnectionDelayGrowFactor),
        jitter: o.jitter === undefined ? "none" : String(o.jitter),
      },
      max_retries: limit(o.maxRetries, null),
      min_uptime_ms: int(o.minUptime),
      connect_timeout_ms: limit(o.connectionTimeout, null),
      handshake_timeout_ms: limit(o.connectionTimeout, null),
      // (usize keys: at most 2^32 - 1, the largest a wasm32 core reads)
      queue: { max_messages: limit(o.maxEnqueuedMessages, 0xffffffff) },
      keepalive,
      heartbeat:
        hb === undefined || hb === null || hb === false
          ? hb === undefined
            ? undefined
            : null
          : {
              interval_ms: opt(hb.intervalMs),
              timeout_ms: opt(hb.timeoutMs),
              // (the application heartbeat: a message transport's only keepalive, as
              // browsers cannot send ping frames)
              ping: hb.ping === undefined ? undefined : String(hb.ping),
              pong: pattern(hb.pong),
              any_message_counts: hb.anyMessageCounts,
            },
      disconnect_warning: pattern(o.disconnectWarning),
      recovery: o.recovery === undefined ? undefined : Boolean(o.recovery),
      recovery_placement: o.recovery && typeof o.recovery === "object" ? o.recovery.placement : undefined,
      fatal_close_codes: o.fatalCloseCodes === undefined ? undefined : Array.from(o.fatalCloseCodes, Number),
    };
    // Any of the core's SessionOptions keys, as they are (snake_case), last.
    if (o.sessionOptions) Object.assign(sessionOptions, o.sessionOptions);
    const { RawSession } = platform;
    this.#raw = new RawSession(provided ? "ws://provided.invalid/" : this.#url, JSON.stringify(sessionOptions), this.#now());
    if (!o.startClosed) {
      this.#started = true;
      this.#pump(this.#raw.connect(this.#now()));
    }
  }

  get readyState() {
    if (this.#reconnectClosing) return CLOSING;
    if (this.#userClosed) return this.#awaitingClose ? CLOSING : CLOSED;
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
    // startClosed: false until reconnect() (partysocket).
    return this.#started && !this.#userClosed && this.#state !== "closed";
  }

  /** The URL of the last socket made (partysocket: the inner socket's), "" before one. */
  get url() {
    return this.#socketMade ? this.#url : "";
  }

  get protocol() {
    return this.#protocol;
  }

  get extensions() {
    return this.#extensions;
  }

  get binaryType() {
    return this.#binaryType;
  }

  set binaryType(value) {
    // "nodebuffer": a Node Buffer, as the `ws` package's (code written for rws over `ws`).
    if (value === "blob" || value === "arraybuffer" || value === "nodebuffer") this.#binaryType = value;
  }

  get bufferedAmount() {
    let n = this.#raw.queuedBytes + this.#chainedBytes;
    for (const d of this.#afterClose) n += byteSize(d);
    if (this.#bytes !== null) n += this.#bytes.buffered();
    for (const ws of this.#hostSockets.values()) n += Number(ws.bufferedAmount) || 0;
    return n;
  }

  /**
   * Sends now (true) or queues until open (false). After close(), the message waits for
   * reconnect() (with one warning per close, as partysocket). A full queue is an `error`
   * event, never a silent drop.
   */
  send(data) {
    const sent = this.#send(data);
    return this.#rws44 ? undefined : sent;
  }

  #send(data) {
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
      const size = byteSize(data);
      this.#chainedBytes += size;
      this.#sendChain = this.#sendChain
        .then(async () => {
          let bytes;
          try {
            bytes = data instanceof Blob ? new Uint8Array(await data.arrayBuffer()) : data;
          } finally {
            this.#chainedBytes -= size;
          }
          return this.#sendNow(bytes);
        })
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
      if (typeof data === "string") out = this.#raw.sendText(data, this.#last);
      else if (ArrayBuffer.isView(data)) out = this.#raw.sendBinary(bytesOf(data), this.#last);
      else if (data instanceof ArrayBuffer || (typeof SharedArrayBuffer === "function" && data instanceof SharedArrayBuffer)) out = this.#raw.sendBinary(bytesOf(data), this.#last);
      else out = this.#raw.sendText(String(data), this.#last);
    } catch (err) {
      this.#emitError(`message not sent: ${err.message}`, err);
      return false;
    }
    this.#pump(out);
    return wasOpen;
  }

  /** Removes and returns the messages not sent yet (queued while not open, or after close()). */
  drainQueuedMessages() {
    const queued = [...this.#raw.takeUnsent(), ...this.#afterClose];
    this.#afterClose = [];
    return queued;
  }

  /** Closes for good (until reconnect()); the close event is dispatched before this returns. */
  close(code = 1000, reason = undefined) {
    const wasActive = this.#state === "open" || this.#state === "connecting";
    const already = this.#userClosed;
    this.#userClosed = true;
    this.#warnedAfterClose = false;
    // (A second close() leaves the first one's awaited close event as it is.)
    if (this.#rws44 && !already) this.#awaitingClose = wasActive;
    this.#pump(this.#raw.close(code, reason === undefined ? "" : String(reason), this.#now()));
    if (wasActive && !already && !this.#rws44) this.#emitClose(code, reason === undefined ? "" : String(reason), true);
  }

  /** Starts again, in any state (also after close() or when retries ran out). */
  reconnect(code = 1000, reason = undefined) {
    this.#awaitingClose = false;
    if (this.#state === "open" && !this.#userClosed) {
      // As partysocket, whose new socket is made from a later task: until then the closed
      // one's CLOSING shows.
      this.#reconnectClosing = true;
      later(() => {
        this.#reconnectClosing = false;
      });
      this.#skipClosed = true;
      this.#emitClose(code, reason === undefined ? "" : String(reason), true);
    }
    this.#userClosed = false;
    this.#started = true;
    const waiting = this.#afterClose;
    this.#afterClose = [];
    this.#pump(this.#raw.reconnect(this.#now()));
    for (const d of waiting) this.send(d);
  }

  // ---------------------------------------------------------------- driving the session

  /**
   * The time for an input: the clock, or `stamp` when the input is an event that carries
   * one (a WebSocket message event's `timeStamp`: DOM and Node events keep it on
   * performance.now()'s clock, read once when the event was made; other `WebSocket`
   * classes' events have none) — never before the latest input's time.
   */
  #now(stamp) {
    const t = typeof stamp === "number" && stamp > 0 ? stamp : now();
    return (this.#last = t > this.#last ? t : this.#last);
  }

  #pump(out) {
    if (this.#pumping) {
      // A call from inside an event listener: its outputs come after the rest of the
      // batch being applied (the core made them later), e.g. a send() from an `open`
      // listener goes out after the messages queued before the open.
      this.#nested.push(out);
      return;
    }
    this.#pumping = true;
    try {
      let more = this.#apply(out);
      for (;;) {
        if (this.#nested.length > 0) {
          if (this.#apply(this.#nested.shift())) more = true;
        } else if (more) {
          more = this.#apply(this.#raw.drain());
        } else break;
      }
    } finally {
      this.#pumping = false;
    }
  }

  /** A transport note for `options.observe` (`requested`, `connected`, `closed`). */
  #note(what, id) {
    if (this.#observe !== null) this.#observe({ note: what, transport: id });
  }

  /**
   * The session's inner state and raw operations (scenario agents, tests): not part of
   * the partysocket API.
   */
  [INSPECT]() {
    const self = this;
    const raw = this.#raw;
    return {
      get state() {
        return raw.state;
      },
      get timerArmed() {
        return raw.timerArmed;
      },
      get transports() {
        return raw.transports;
      },
      get queued() {
        return raw.queuedMessages;
      },
      /** Sockets the host still holds (a WebSocket until its close event). */
      get sockets() {
        return (self.#bytes === null ? 0 : self.#bytes.size()) + self.#liveHostSockets.size;
      },
      connect() {
        self.#started = true;
        self.#userClosed = false;
        self.#pump(raw.connect(self.#now()));
      },
      disconnectWarning() {
        self.#pump(raw.disconnectWarning(self.#now()));
      },
      /** The Session's own answer: "ok", "queue_full", "closed" or "rejected". */
      send(data) {
        try {
          self.#pump(typeof data === "string" ? raw.sendText(data, self.#last) : raw.sendBinary(bytesOf(data), self.#last));
          return "ok";
        } catch (err) {
          return String(err.message).split(":")[0];
        }
      },
    };
  }

  /** Applies one batch in order; returns whether more outputs may be pending. */
  #apply(out) {
    const end = out.length - 2;
    for (let i = 0; i < end; i += 1 + ARITY[out[i] - 10]) {
      if (this.#observe !== null) this.#observe({ output: TAG_NAMES[out[i] - 10], tag: out[i], values: out.slice(i + 1, i + 1 + ARITY[out[i] - 10]) });
      const a = out[i + 1];
      const b = out[i + 2];
      const c = out[i + 3];
      const d = out[i + 4];
      switch (out[i]) {
        case T_NEED_REQUEST:
          this.#provideRequest(a);
          break;
        case T_OPEN_TRANSPORT:
          this.#debug("connect", this.retryCount);
          this.#openTransport(a, b, c, d);
          break;
        case T_TRANSMIT:
          this.#bytes.write(a, b);
          break;
        case T_CLOSE_TRANSPORT:
          this.#closeTransport(a, b, c);
          break;
        case T_OPEN_WEBSOCKET:
          this.#debug("connect", this.retryCount);
          this.#openWebSocket(a, b, c);
          break;
        case T_SEND_MESSAGE:
          this.#sendMessage(a, b);
          break;
        case T_STATE:
          this.#from = a;
          this.#state = b;
          break;
        case T_OPEN:
          // A new connection: a skip left from reconnect() no longer applies.
          this.#skipClosed = false;
          this.#protocol = c;
          this.#extensions = d;
          this.#emit(this.#events.open(this, b), "onopen");
          break;
        case T_TEXT:
          this.#emit(this.#events.message(this, a), "onmessage");
          break;
        case T_BINARY:
          this.#emit(this.#events.message(this, this.#binaryData(a)), "onmessage");
          break;
        case T_CLOSED:
          if (this.#userClosed) {
            if (this.#awaitingClose) {
              // rws 4.4: the closed socket's own close event, from a later task.
              const event = this.#events.close(this, a, b, a !== 1006);
              later(() => {
                this.#awaitingClose = false;
                this.#emit(event, "onclose");
              });
            }
            break;
          }
          if (this.#skipClosed) {
            this.#skipClosed = false;
            break;
          }
          if (this.#gaveUp !== null) {
            // The last attempt failed: a close, then the error, as for every failed attempt.
            const { why, cause } = this.#gaveUp;
            this.#gaveUp = null;
            this.#emitClose(1006, why, false);
            this.#emitError(why, undefined, cause);
            break;
          }
          this.#emitClose(a, b, a !== 1006, c);
          break;
        case T_RECONNECTING:
          this.#debug("next reconnect in", b, "ms");
          // An attempt that never opened failed: partysocket shows a close, then the error.
          if (this.#from === "connecting" && !this.#userClosed) {
            const why = out[i + 5];
            this.#emitClose(1006, why, false, true);
            this.#emitError(why, undefined, c);
          }
          break;
        case T_GAVE_UP:
          // The Session's `closed` follows at once; it shows this attempt's failure.
          if (this.#state === "connecting") this.#gaveUp = { why: d, cause: b };
          break;
        case T_ERROR:
          this.#emitError(b);
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

  /** A binary message as `binaryType` asks. */
  #binaryData(data) {
    if (this.#binaryType === "arraybuffer") return data;
    if (this.#binaryType === "nodebuffer" && typeof Buffer === "function") return Buffer.from(data);
    return new Blob([data]);
  }

  /** Asks the URL and protocols providers for attempt `id`; their failure fails the attempt. */
  #provideRequest(id) {
    const resolve = (source) => (typeof source === "function" ? source() : source);
    let answer;
    try {
      answer = Promise.all([resolve(this.#urlSource), resolve(this.#protocolsSource)]).then(([url, protocols]) => {
        if (!isUrl(url)) throw new Error("Invalid URL");
        if (!isProtocols(protocols)) throw new Error("Invalid protocols");
        return [url, protocols];
      });
    } catch (err) {
      answer = Promise.reject(err);
    }
    answer.then(
      ([url, protocols]) => {
        this.#url = String(url);
        const headers = this.#options.headers ? Object.entries(this.#options.headers).map(([k, v]) => [String(k), String(v)]) : [];
        this.#pump(this.#raw.provideRequest(id, this.#url, protocolList(protocols), headers, this.#now()));
      },
      (err) => {
        const message = err instanceof Error ? err.message : String(err);
        this.#providerError = message;
        this.#pump(this.#raw.provideRequestError(id, message, this.#now()));
      },
    );
  }

  /**
   * `url` shows the attempt's URL from here on; partysocket makes its inner socket after
   * the URL promise resolved, so not before the code that made this instance returned.
   */
  #markSocketMade() {
    if (!this.#socketMade) queueMicrotask(() => (this.#socketMade = true));
  }

  /** Byte transport: a socket for attempt `id` (platform.byteTransport); its events go to the Session. */
  #openTransport(id, host, port, secure) {
    this.#markSocketMade();
    this.#note("requested", id);
    if (this.#bytes === null) {
      this.#bytes = platform.byteTransport({
        connected: (id) => this.#pump(this.#raw.handleConnected(id, this.#now())),
        data: (id, chunk) => this.#pump(this.#raw.handleBytes(id, chunk, this.#now())),
        ended: (id) => this.#pump(this.#raw.handleClosed(id, null, null, this.#now())),
        failed: (id, kind, message) => this.#pump(this.#raw.handleError(id, kind, message, this.#now())),
      });
    }
    this.#bytes.open(id, host, port, secure, this.#options.tls);
  }

  /** Message transport: a host WebSocket for attempt `id`; its events go to the Session. */
  #openWebSocket(id, url, protocols) {
    this.#markSocketMade();
    const Ctor = this.#options.WebSocket;
    let ws;
    try {
      ws = new Ctor(url, protocols);
    } catch (err) {
      // Reported from a later task, like any socket failure (never inside the
      // constructor or a call of the application).
      const message = err instanceof Error ? err.message : String(err);
      later(() => this.#pump(this.#raw.handleError(id, "other", message, this.#now())));
      return;
    }
    this.#note("requested", id);
    this.#hostSockets.set(id, ws);
    this.#liveHostSockets.add(ws);
    let opened = false;
    let failed = false;
    const live = () => this.#hostSockets.get(id) === ws;
    try {
      ws.binaryType = "arraybuffer";
    } catch {
      // A WebSocket without binaryType: binary data arrives as whatever it gives.
    }
    ws.onopen = () => {
      opened = true;
      this.#note("connected", id);
      if (live()) this.#pump(this.#raw.handleOpen(id, String(ws.protocol || ""), String(ws.extensions || ""), this.#now()));
    };
    ws.onmessage = (event) => {
      if (!live()) return;
      const data = event.data;
      if (typeof data === "string") this.#pump(this.#raw.handleText(id, data, this.#now(event.timeStamp)));
      else if (data instanceof ArrayBuffer || ArrayBuffer.isView(data)) this.#pump(this.#raw.handleBinary(id, bytesOf(data), this.#now(event.timeStamp)));
      else if (Array.isArray(data)) this.#pump(this.#raw.handleBinary(id, bytesOf(Buffer.concat(data)), this.#now()));
    };
    ws.onclose = (event) => {
      this.#liveHostSockets.delete(ws);
      this.#note("closed", id);
      // A socket the Session asked to close (CLOSE_TRANSPORT) is still reported: a
      // closing Session waits for its close event (any other Session ignores it).
      if (!live() && !this.#closingHostSockets.delete(ws)) return;
      this.#hostSockets.delete(id);
      if (!opened && failed) {
        // Failed before it opened: a browser tells no more (refused, DNS, TLS look alike).
        this.#pump(this.#raw.handleError(id, "other", `the WebSocket failed before it opened (close ${event && event.code})`, this.#now()));
        return;
      }
      this.#pump(this.#raw.handleClosed(id, event && event.code ? event.code : null, (event && event.reason) || "", this.#now()));
    };
    // Stays for the socket's whole life (the `ws` package throws an 'error' nobody
    // listens to); the close event that follows tells the Session.
    ws.onerror = () => {
      failed = true;
    };
  }

  #sendMessage(id, data) {
    const ws = this.#hostSockets.get(id);
    if (!ws) return;
    try {
      ws.send(data);
    } catch (err) {
      this.#hostSockets.delete(id);
      const message = err instanceof Error ? err.message : String(err);
      later(() => this.#pump(this.#raw.handleError(id, "other", message, this.#now())));
    }
  }

  #closeTransport(id, code, reason) {
    const ws = this.#hostSockets.get(id);
    if (ws) {
      this.#hostSockets.delete(id);
      this.#closingHostSockets.add(ws);
      try {
        ws.close(code, reason);
      } catch {
        // Closing is best effort: the Session has already forgotten this socket.
      }
      return;
    }
    if (this.#bytes !== null) this.#bytes.close(id);
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
        this.#pump(this.#raw.handleTimeout(this.#now()));
      },
      Math.max(0, Math.ceil(deadline - now())),
    );
    this.#refTimer();
  }

  #refTimer() {
    // Node's timers can stop holding the process (platform.holdTimer); a browser's cannot.
    if (this.#timer !== null && platform.holdTimer) platform.holdTimer(this.#timer, !this.#userClosed && this.#state !== "closed");
  }

  // ---------------------------------------------------------------- events

  #debug(...args) {
    if (this.#options.debug) (this.#options.debugLogger || console.log)("RWS>", ...args);
  }

  #emit(event, handler) {
    if (this.#options.debug) this.#debug(event.type, ...(event.type === "close" ? [event.code, event.reason] : event.type === "error" ? [event.message] : []));
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

  /**
   * A close event. When the Session will reconnect, the application's
   * `shouldReconnectOnClose(event)` may say no first (partysocket 1.3): that is close().
   */
  #emitClose(code, reason, wasClean, willReconnect = false) {
    const event = this.#events.close(this, code, reason, wasClean);
    const predicate = this.#options.shouldReconnectOnClose;
    if (willReconnect && typeof predicate === "function") {
      let again = true;
      try {
        again = predicate.call(this, event) !== false;
      } catch (err) {
        // Reported like a listener's exception; the Session goes on.
        report(err);
      }
      if (!again) {
        this.#userClosed = true;
        this.#pump(this.#raw.close(1000, "", this.#now()));
      }
    }
    this.#emit(event, "onclose");
  }

  #emitError(message, error = undefined, cause = undefined) {
    let text = cause === "connect_timeout" || cause === "handshake_timeout" ? "TIMEOUT" : message;
    if (cause === "request_failed" && this.#providerError !== null) {
      // partysocket's message: the provider's own ("Invalid URL", or what it threw).
      text = this.#providerError;
      this.#providerError = null;
    }
    this.#emit(this.#events.error(this, text, error || new Error(text)), "onerror");
  }
}

for (const [name, value] of Object.entries({ CONNECTING, OPEN, CLOSING, CLOSED })) {
  Object.defineProperty(ReconnectingWebSocket.prototype, name, { value, enumerable: true });
}

module.exports = { ReconnectingWebSocket, RWS44, EVENTS, configure, INSPECT };
