"use strict";
// A WHATWG `WebSocket` for Node, without reconnection: the browser API over a `net`/`tls`
// socket, with the protocol in the Rust core (lib/native.js → src/lib.rs).
//
// This file owns I/O and presentation only: it moves bytes between the socket and the
// core, arms the one timer the core asks for, and turns the core's outputs into DOM
// events. Everything the protocol decides (handshake, framing, masking, UTF-8, closing
// handshake, timeouts, keepalive) is decided in the core.
//
// Event timing follows the browser: no event is dispatched from inside a constructor,
// `send()` or `close()`; events caused by them are dispatched from a later task.

const { setMaxListeners } = require("node:events");
const net = require("node:net");
const tls = require("node:tls");
const { RawConnection } = require("./native.js");
const { CloseEvent, ErrorEvent } = require("./events.js");

const CONNECTING = 0;
const OPEN = 1;
const CLOSING = 2;
const CLOSED = 3;

// Output tags of RawConnection batches (src/lib.rs, `mod tag`).
const T_TRANSMIT = 0;
const T_OPEN = 1;
const T_TEXT = 2;
const T_BINARY = 3;
const T_ERROR = 4;
const T_CLOSED = 5;

// RFC 7230 token: what a subprotocol name may contain.
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

const now = () => performance.now();

function syntaxError(message) {
  return new DOMException(message, "SyntaxError");
}

/** WHATWG "parse a WebSocket URL": http(s) becomes ws(s); no fragment. */
function parseUrl(url) {
  const text = String(url);
  let parsed;
  try {
    parsed = new URL(text);
  } catch {
    throw syntaxError(`Invalid URL: ${text}`);
  }
  if (parsed.protocol === "http:") parsed.protocol = "ws:";
  else if (parsed.protocol === "https:") parsed.protocol = "wss:";
  else if (parsed.protocol !== "ws:" && parsed.protocol !== "wss:") {
    throw syntaxError(`The URL's scheme must be ws, wss, http or https, not ${parsed.protocol.slice(0, -1)}`);
  }
  if (parsed.href.includes("#")) throw syntaxError("A WebSocket URL must not have a fragment");
  return parsed;
}

function parseProtocols(protocols) {
  let list;
  if (protocols === undefined) list = [];
  else if (typeof protocols === "string") list = [protocols];
  else if (protocols !== null && typeof protocols[Symbol.iterator] === "function") list = Array.from(protocols, String);
  else list = [String(protocols)];
  const seen = new Set();
  for (const p of list) {
    if (!TOKEN.test(p)) throw syntaxError(`Invalid subprotocol ${JSON.stringify(p)}`);
    if (seen.has(p)) throw syntaxError(`Subprotocol ${JSON.stringify(p)} is listed twice`);
    seen.add(p);
  }
  return list;
}

function parseHeaders(headers) {
  if (headers == null) return [];
  const entries = typeof headers[Symbol.iterator] === "function" ? Array.from(headers) : Object.entries(headers);
  return entries.map(([name, value]) => [String(name), String(value)]);
}

/** Native options from the Node-specific third constructor argument. */
function nativeOptions(protocols, options) {
  const ms = (v) => (v === undefined ? undefined : Math.max(0, Math.min(0xffffffff, Math.floor(Number(v)))));
  const keepalive = options.keepalive
    ? { intervalMs: ms(options.keepalive.intervalMs), pongTimeoutMs: ms(options.keepalive.pongTimeoutMs) }
    : undefined;
  return {
    protocols,
    headers: parseHeaders(options.headers),
    maxMessageSize: ms(options.maxMessageSize),
    handshakeTimeoutMs: ms(options.handshakeTimeoutMs),
    closeTimeoutMs: ms(options.closeTimeoutMs),
    keepalive,
    deflate: options.perMessageDeflate === undefined ? undefined : Boolean(options.perMessageDeflate),
  };
}

function byteSize(data) {
  if (typeof data === "string") return Buffer.byteLength(data);
  if (data instanceof Blob) return data.size;
  return data.byteLength;
}

/** WebIDL `[Clamp] unsigned short`. */
function clampCode(code) {
  const n = Number(code);
  if (Number.isNaN(n)) return 0;
  return Math.min(0xffff, Math.max(0, Math.round(n)));
}

class WebSocket extends EventTarget {
  static CONNECTING = CONNECTING;
  static OPEN = OPEN;
  static CLOSING = CLOSING;
  static CLOSED = CLOSED;

  /** @type {RawConnection | null} null once the connection has closed */
  #raw;
  #socket;
  #url;
  #origin;
  #state = CONNECTING;
  #protocol = "";
  #extensions = "";
  #binaryType = "blob";
  #handlers = { open: null, message: null, error: null, close: null };
  #timer = null;
  #deadline = null;
  /** The core said the socket is finished with. */
  #transportDone = false;
  /** Inside the dispatch loop: calls from listeners leave events to it. */
  #pumping = false;
  #drainPending = false;
  #drainScheduled = false;
  #socketError = null;
  #errorDispatched = false;
  /** close() was called while connecting: "fail the WebSocket connection" (an error event). */
  #failed = false;
  /** Bytes passed to send() once closing: counted, never sent (WHATWG). */
  #discarded = 0;
  /** Sends waiting behind a Blob being read, in order; null when none. */
  #sendQueue = null;
  #queuedBytes = 0;

  /**
   * @param {string | URL} url
   * @param {string | string[]} [protocols]
   * @param {object} [options] Node-only: headers, tls, keepalive, perMessageDeflate,
   *   maxMessageSize, handshakeTimeoutMs, closeTimeoutMs (see index.d.ts)
   */
  constructor(url, protocols = undefined, options = {}) {
    super();
    // Any number of listeners, without Node's warning above 10 of one type.
    setMaxListeners(0, this);
    const parsed = parseUrl(url);
    const list = parseProtocols(protocols);
    this.#url = parsed.href;
    this.#origin = parsed.origin;
    try {
      this.#raw = new RawConnection(this.#url, nativeOptions(list, options || {}), now());
    } catch (e) {
      throw syntaxError(e.message);
    }
    const { host, port } = this.#raw;
    const socket = this.#raw.secure
      ? tls.connect({ ALPNProtocols: ["http/1.1"], ...(options && options.tls), host, port })
      : net.connect({ host, port });
    this.#socket = socket;
    socket.setNoDelay(true);
    socket.on("data", (chunk) => {
      if (this.#raw && !this.#transportDone) this.#pump(this.#raw.handleInput(chunk, now()));
    });
    socket.on("end", () => this.#eof());
    socket.on("close", () => this.#eof());
    // Stays attached for the socket's whole life: a socket error is never unhandled.
    socket.on("error", (err) => {
      if (!this.#socketError) this.#socketError = err;
      this.#eof();
    });
    // The upgrade request: written now, sent once connected. No event can be pending yet.
    this.#apply(this.#raw.drain());
  }

  get url() {
    return this.#url;
  }

  get readyState() {
    return this.#state;
  }

  get bufferedAmount() {
    const inSocket = this.#socket && !this.#socket.destroyed ? this.#socket.writableLength : 0;
    return inSocket + this.#queuedBytes + this.#discarded;
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
    // An enumerated attribute: other values are ignored.
    if (value === "blob" || value === "arraybuffer") this.#binaryType = value;
  }

  get onopen() {
    return this.#handlers.open;
  }
  set onopen(fn) {
    this.#setHandler("open", fn);
  }
  get onmessage() {
    return this.#handlers.message;
  }
  set onmessage(fn) {
    this.#setHandler("message", fn);
  }
  get onerror() {
    return this.#handlers.error;
  }
  set onerror(fn) {
    this.#setHandler("error", fn);
  }
  get onclose() {
    return this.#handlers.close;
  }
  set onclose(fn) {
    this.#setHandler("close", fn);
  }

  /**
   * Sends a message: text for a string, binary for the rest. Throws an
   * InvalidStateError while connecting; once closing, the data is counted in
   * `bufferedAmount` and dropped, as in the browser.
   * @param {string | ArrayBuffer | ArrayBufferView | Blob} data
   */
  send(data) {
    if (this.#state === CONNECTING) throw new DOMException("Still in CONNECTING state.", "InvalidStateError");
    if (
      !(typeof data === "string" || data instanceof Blob || data instanceof ArrayBuffer || ArrayBuffer.isView(data)) &&
      !(typeof SharedArrayBuffer === "function" && data instanceof SharedArrayBuffer)
    ) {
      data = String(data);
    }
    if (this.#sendQueue || data instanceof Blob) {
      this.#enqueue(data);
      return;
    }
    this.#sendNow(data);
  }

  /**
   * Starts the closing handshake (or abandons the opening one).
   * @param {number} [code] 1000 or 3000–4999, else an InvalidAccessError
   * @param {string} [reason] at most 123 UTF-8 bytes, else a SyntaxError
   */
  close(code = undefined, reason = undefined) {
    if (code !== undefined) {
      code = clampCode(code);
      if (code !== 1000 && (code < 3000 || code > 4999)) {
        throw new DOMException(`The close code must be 1000 or in 3000-4999, not ${code}`, "InvalidAccessError");
      }
    }
    if (reason !== undefined) {
      reason = String(reason).toWellFormed();
      if (Buffer.byteLength(reason) > 123) {
        throw syntaxError("The close reason must not be longer than 123 UTF-8 bytes");
      }
    }
    if (this.#state === CLOSING || this.#state === CLOSED) return;
    if (this.#state === CONNECTING) this.#failed = true;
    this.#state = CLOSING;
    if (code === undefined && reason) code = 1000;
    // 1005: a close frame without a status code.
    this.#applyFromCall(this.#raw.close(code === undefined ? 1005 : code, reason || "", now()));
  }

  // ---------------------------------------------------------------- sending

  #sendNow(data) {
    const size = byteSize(data);
    if (this.#state !== OPEN || !this.#raw) {
      this.#discarded += size;
      return;
    }
    let out;
    if (typeof data === "string") out = this.#raw.sendText(data);
    else if (ArrayBuffer.isView(data)) out = this.#raw.sendBinary(Buffer.from(data.buffer, data.byteOffset, data.byteLength));
    else out = this.#raw.sendBinary(Buffer.from(data));
    // null: the core has already left the open state (e.g. the peer's close frame is in
    // and its event not yet dispatched): the data is dropped like any send once closing.
    if (out === null) this.#discarded += size;
    else this.#applyFromCall(out);
  }

  /** Blobs are read asynchronously; whatever is sent after one waits behind it. */
  #enqueue(data) {
    const size = byteSize(data);
    this.#queuedBytes += size;
    if (this.#sendQueue) {
      this.#sendQueue.push(data);
      return;
    }
    this.#sendQueue = [data];
    (async () => {
      while (this.#sendQueue.length > 0) {
        const item = this.#sendQueue[0];
        let payload = item;
        if (item instanceof Blob) {
          try {
            payload = new Uint8Array(await item.arrayBuffer());
          } catch (err) {
            // An unreadable Blob: the messages after it cannot keep their order, so the
            // connection ends with an error rather than silently skipping one.
            this.#sendQueue = null;
            this.#queuedBytes = 0;
            this.#socketError = err;
            if (this.#raw && this.#state === OPEN) {
              this.#state = CLOSING;
              this.#failed = true;
              this.#applyFromCall(this.#raw.close(1011, "could not read a Blob to send", now()));
            }
            return;
          }
        }
        this.#sendQueue.shift();
        this.#queuedBytes -= byteSize(item);
        this.#sendNow(payload);
      }
      this.#sendQueue = null;
    })();
  }

  // ---------------------------------------------------------------- driving the core

  #eof() {
    if (this.#raw && !this.#transportDone) this.#pump(this.#raw.handleEof(now()));
  }

  /** A batch from an application call (transmits only): events, if any, come later. */
  #applyFromCall(out) {
    if (!this.#apply(out)) return;
    if (this.#pumping) {
      this.#drainPending = true;
    } else if (!this.#drainScheduled) {
      this.#drainScheduled = true;
      setImmediate(() => {
        this.#drainScheduled = false;
        if (this.#raw) this.#pump(this.#raw.drain());
      });
    }
  }

  /** A batch from I/O or the timer: applied, then drained until no event is left. */
  #pump(out) {
    if (this.#pumping) {
      if (this.#apply(out)) this.#drainPending = true;
      return;
    }
    this.#pumping = true;
    try {
      let more = this.#apply(out);
      while ((more || this.#drainPending) && this.#raw) {
        this.#drainPending = false;
        more = this.#apply(this.#raw.drain());
      }
    } finally {
      this.#pumping = false;
    }
  }

  /**
   * Applies one batch: writes its transmits, re-arms the timer, ends the socket if the
   * core is done with it, then dispatches its events. Returns whether more events may
   * be pending. Transmits go first: a batch ends at its first message, so no transmit in
   * it was decided after an event the application could answer.
   */
  #apply(out) {
    const end = out.length - 3;
    const socket = this.#socket;
    let events = false;
    for (let i = 0; i < end; ) {
      if (out[i] === T_TRANSMIT) {
        if (!socket.destroyed) socket.write(out[i + 1]);
        i += 2;
      } else {
        events = true;
        i += out[i] === T_OPEN ? 3 : out[i] === T_CLOSED ? 4 : 2;
      }
    }
    this.#arm(out[end]);
    if (out[end + 1]) this.#endTransport();
    if (events) {
      for (let i = 0; i < end; ) {
        switch (out[i]) {
          case T_TRANSMIT:
            i += 2;
            break;
          case T_OPEN:
            this.#opened(out[i + 1], out[i + 2]);
            i += 3;
            break;
          case T_TEXT:
            this.#message(out[i + 1]);
            i += 2;
            break;
          case T_BINARY:
            this.#message(this.#binaryType === "arraybuffer" ? out[i + 1] : new Blob([out[i + 1]]));
            i += 2;
            break;
          case T_ERROR:
            this.#error(out[i + 1]);
            i += 2;
            break;
          case T_CLOSED:
            this.#closed(out[i + 1], out[i + 2], out[i + 3]);
            i += 4;
            break;
          default:
            throw new Error(`steadysock: unknown output tag ${out[i]}`);
        }
      }
    }
    return out[end + 2];
  }

  /** One timer, at the core's deadline; it never keeps the process alive by itself. */
  #arm(deadline) {
    if (deadline === this.#deadline) return;
    this.#deadline = deadline;
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    if (deadline === null) return;
    this.#timer = setTimeout(
      () => {
        this.#timer = null;
        this.#deadline = null;
        if (this.#raw && !this.#transportDone) this.#pump(this.#raw.handleTimeout(now()));
      },
      Math.max(0, Math.ceil(deadline - now())),
    );
    this.#timer.unref();
  }

  #endTransport() {
    if (this.#transportDone) return;
    this.#transportDone = true;
    this.#arm(null);
    if (this.#state === CLOSED) this.#raw = null;
    const socket = this.#socket;
    if (socket.connecting || socket.destroyed) {
      socket.destroy();
    } else {
      // Flush what is written (a close frame), then release the socket; the process
      // need not wait for that.
      socket.destroySoon();
      socket.unref();
    }
  }

  // ---------------------------------------------------------------- events

  #opened(protocol, extensions) {
    this.#state = OPEN;
    this.#protocol = protocol;
    this.#extensions = extensions;
    this.dispatchEvent(new Event("open"));
  }

  #message(data) {
    // Messages that arrive once close() was called are not delivered (WHATWG).
    if (this.#state !== OPEN) return;
    this.dispatchEvent(new MessageEvent("message", { data, origin: this.#origin }));
  }

  #error(message) {
    this.#errorDispatched = true;
    const cause = this.#socketError;
    const text = cause ? `${message}: ${cause.message}` : message;
    this.dispatchEvent(new ErrorEvent("error", { message: text, error: cause || new Error(text) }));
  }

  #closed(code, reason, wasClean) {
    if (this.#failed && !this.#errorDispatched) {
      this.#error("the connection was closed before it was established");
    }
    this.#state = CLOSED;
    if (this.#transportDone) this.#raw = null;
    // What is left is waiting for the peer to end the TCP connection (the core's close
    // timer bounds it): nothing the application needs to stay alive for.
    else this.#socket.unref();
    this.dispatchEvent(new CloseEvent("close", { code, reason, wasClean }));
  }

  /** An event handler attribute: one listener, registered when first set (HTML). */
  #setHandler(type, fn) {
    const value = typeof fn === "function" || (typeof fn === "object" && fn !== null) ? fn : null;
    if (this.#handlers[type] === null && value !== null && !this.#handlers[`${type}Registered`]) {
      this.#handlers[`${type}Registered`] = true;
      this.addEventListener(type, (event) => {
        const handler = this.#handlers[type];
        if (typeof handler === "function") handler.call(this, event);
      });
    }
    this.#handlers[type] = value;
  }
}

for (const [name, value] of Object.entries({ CONNECTING, OPEN, CLOSING, CLOSED })) {
  Object.defineProperty(WebSocket.prototype, name, { value, enumerable: true });
}

module.exports = { WebSocket };
