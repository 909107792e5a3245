// The wasm core's RawSession with the napi addon's JavaScript shape (one decoder for both
// browser entries, lib/platform-wasm.mjs and lib/platform-wasm-inline.mjs): its methods
// are the module's inputs by number (bindings-wasm/src/lib.rs, `mod op`).
//
// Each input of the module writes all of the session's pending
// outputs into a buffer in its memory and returns its address: f64 words
// `[n, arena, word…]`, a word ≥ 0 a number, a negative one a code (`mod code` there);
// strings and binary payloads are the byte arena's, in order. This turns them into the
// addon's batches `[TAG, values…, …, deadline, more]` for lib/reconnecting.js, keeping
// its rule that a batch ends after a message: what follows a message is held here and
// comes first in the next answer (`drain()`, or any other call, which then answers the
// held outputs before its own, as the addon's queue would), without a second crossing.

const NULL = -1;
const FALSE = -2;
const TRUE = -3;
const TEXT = -4;
const BYTES = -5;
const INPUT = -6;
const LIST = -7;
const END = -8;

// Inputs (`op` in src/lib.rs): call(op, id, n, a, b, now), bytes(op, id, data, now); the
// byte transport's (5, and bytes 1) are not used: the module has none.
const CONNECT = 0;
const DISCONNECT_WARNING = 1;
const RECONNECT = 2;
const CLOSE = 3;
const SEND_TEXT = 4;
const HANDLE_CLOSED = 6;
const HANDLE_OPEN = 7;
const HANDLE_TEXT = 8;
const HANDLE_ERROR = 9;
const STAGE = 10;
const PROVIDE_REQUEST = 11;
const PROVIDE_REQUEST_ERROR = 12;
const HANDLE_TIMEOUT = 13;
const TAKE_UNSENT = 15;
const SEND_BINARY = 0;
const HANDLE_BINARY = 2;
/** `get(what)`: 0 is the state, an index of these. */
const STATES = ["idle", "connecting", "open", "closing", "backoff", "closed"];

/** `Core`: the wasm-bindgen class; `memory`: the module's memory. */
export function wasmSession(Core, memory) {
  let f64 = new Float64Array(0);
  let u8 = new Uint8Array(0);
  const utf8 = new TextDecoder();
  const text = (at, n) => utf8.decode(u8.subarray(at, at + n));

  return class RawSession {
    #core;
    /** Decoded outputs not answered yet: batches, each but the last ended by a message. */
    #held = [];
    /** The last held batch may take more outputs (no message ended it). */
    #open = false;
    #deadline = null;
    /**
     * The message of the current handleText/handleBinary/sendText/sendBinary call (`INPUT`:
     * only those calls' answers have it, so one left by a refused send is never read).
     */
    #input = null;

    constructor(url, optionsJson, now) {
      this.#core = new Core(url, optionsJson, now);
    }

    get state() {
      return STATES[this.#core.get(0)];
    }
    get attempt() {
      return this.#core.get(1);
    }
    get timerArmed() {
      return this.#core.get(2) === 1;
    }
    get transports() {
      return this.#core.get(3);
    }
    get queuedMessages() {
      return this.#core.get(4);
    }
    get queuedBytes() {
      return this.#core.get(5);
    }

    /** (`a`, `b` left undefined: no string crosses) */
    #call(op, now, id = 0, n = 0, a, b) {
      return this.#take(this.#core.call(op, id, n, a, b, now));
    }
    connect(now) {
      return this.#call(CONNECT, now);
    }
    disconnectWarning(now) {
      return this.#call(DISCONNECT_WARNING, now);
    }
    reconnect(now) {
      return this.#call(RECONNECT, now);
    }
    close(code, reason, now) {
      return this.#call(CLOSE, now, 0, code, reason);
    }
    sendText(data, now) {
      this.#input = data;
      return this.#call(SEND_TEXT, now, 0, 0, data);
    }
    /** `data`: a Uint8Array; sent as it is when it goes out at once (WebSocket.send copies). */
    sendBinary(data, now) {
      this.#input = data;
      return this.#take(this.#core.bytes(SEND_BINARY, 0, data, now));
    }
    // (no handleConnected/handleBytes: the module has no byte transport)
    handleClosed(id, code, reason, now) {
      return this.#call(HANDLE_CLOSED, now, id, code == null ? -1 : code, reason);
    }
    handleOpen(id, protocol, extensions, now) {
      return this.#call(HANDLE_OPEN, now, id, 0, protocol, extensions);
    }
    handleText(id, data, now) {
      this.#input = data;
      return this.#call(HANDLE_TEXT, now, id, 0, data);
    }
    /** `data`: a Uint8Array; delivered back as an ArrayBuffer (its own when it spans it all). */
    handleBinary(id, data, now) {
      this.#input = data.byteOffset === 0 && data.byteLength === data.buffer.byteLength && data.buffer instanceof ArrayBuffer ? data.buffer : data.slice().buffer;
      return this.#take(this.#core.bytes(HANDLE_BINARY, id, data, now));
    }
    handleError(id, kind, detail, now) {
      return this.#call(HANDLE_ERROR, now, id, 0, kind, detail);
    }
    provideRequest(id, url, protocols, headers, now) {
      for (const p of protocols) this.#core.call(STAGE, 0, 0, p, undefined, now);
      for (const [name, value] of headers) {
        this.#core.call(STAGE, 0, 0, name, undefined, now);
        this.#core.call(STAGE, 0, 0, value, undefined, now);
      }
      return this.#call(PROVIDE_REQUEST, now, id, protocols.length, url);
    }
    provideRequestError(id, reason, now) {
      return this.#call(PROVIDE_REQUEST_ERROR, now, id, 0, reason);
    }
    handleTimeout(now) {
      return this.#call(HANDLE_TIMEOUT, now);
    }
    /** The rest of the last answer (no crossing: the module's queue is empty). */
    drain() {
      return this.#take(-1);
    }
    /** The queued messages, oldest first (strings and ArrayBuffers). */
    takeUnsent() {
      const out = decode(this.#core.call(TAKE_UNSENT, 0, 0, undefined, undefined, 0), null);
      out.pop(); // (the deadline's place)
      return out;
    }

    /** The next batch: the first held one, after the outputs at `ptr` (none: -1) joined them. */
    #take(ptr) {
      const held = this.#held;
      if (ptr >= 0) {
        const values = decode(ptr, this.#input);
        this.#input = null;
        this.#deadline = values.pop();
        const end = values.indexOf(END);
        if (held.length === 0 && (end < 0 || end === values.length - 1)) {
          // (the usual answer: at most one message, last)
          if (end >= 0) values.pop();
          values.push(this.#deadline, false);
          return values;
        }
        // Batches: each part up to a message, then the rest (which more outputs may join).
        let from = 0;
        for (let i = 0; i <= values.length; i++) {
          if (i < values.length && values[i] !== END) continue;
          const part = values.slice(from, i);
          const ended = i < values.length;
          from = i + 1;
          if (this.#open) held[held.length - 1].push(...part);
          else if (part.length > 0) held.push(part);
          if (ended) this.#open = false;
          else if (part.length > 0) this.#open = true;
        }
      }
      const out = held.length > 0 ? held.shift() : [];
      if (held.length === 0) this.#open = false;
      out.push(this.#deadline, held.length > 0);
      return out;
    }
  };

  /** The values at `ptr`, `END` as itself; the last is the deadline. */
  function decode(ptr, input) {
    if (f64.length === 0) {
      // (a view of memory that has grown since is detached: length 0)
      f64 = new Float64Array(memory.buffer);
      u8 = new Uint8Array(memory.buffer);
    }
    const out = [];
    let i = ptr / 8;
    const end = i + 2 + f64[i];
    let at = f64[i + 1];
    for (i += 2; i < end; i++) {
      let v = f64[i];
      if (v < 0) {
        switch (v) {
          case NULL:
            v = null;
            break;
          case FALSE:
            v = false;
            break;
          case TRUE:
            v = true;
            break;
          case TEXT:
            v = text(at, f64[++i]);
            at += f64[i];
            break;
          case BYTES:
            v = u8.slice(at, at + f64[++i]).buffer;
            at += f64[i];
            break;
          case INPUT:
            v = input;
            break;
          case LIST: {
            const list = [];
            for (let k = f64[++i]; k > 0; k--) {
              list.push(text(at, f64[(i += 2)]));
              at += f64[i];
            }
            v = list;
            break;
          }
          // END: itself
        }
      }
      out.push(v);
    }
    return out;
  }
}
