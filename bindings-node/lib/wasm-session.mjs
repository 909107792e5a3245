// The wasm core's RawSession with the napi addon's JavaScript shape (one decoder for both
// browser entries, lib/platform-wasm.mjs and lib/platform-wasm-inline.mjs).
//
// Each call of the module (bindings-wasm/src/lib.rs) writes all of the session's pending
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
    /** The message of the current handleText/handleBinary/sendText/sendBinary call
     * (`INPUT`: only those calls' answers have it, so one left by a refused send is never read). */
    #input = null;

    constructor(url, optionsJson, now) {
      this.#core = new Core(url, optionsJson, now);
    }

    get state() {
      return this.#core.state;
    }
    get attempt() {
      return this.#core.attempt;
    }
    get timerArmed() {
      return this.#core.timerArmed;
    }
    get transports() {
      return this.#core.transports;
    }
    get queuedMessages() {
      return this.#core.queuedMessages;
    }
    get queuedBytes() {
      return this.#core.queuedBytes;
    }

    connect(now) {
      return this.#take(this.#core.connect(now));
    }
    disconnectWarning(now) {
      return this.#take(this.#core.disconnectWarning(now));
    }
    reconnect(now) {
      return this.#take(this.#core.reconnect(now));
    }
    close(code, reason, now) {
      return this.#take(this.#core.close(code, reason, now));
    }
    sendText(data, now) {
      this.#input = data;
      return this.#take(this.#core.sendText(data, now));
    }
    /** `data`: a Uint8Array; sent as it is when it goes out at once (WebSocket.send copies). */
    sendBinary(data, now) {
      this.#input = data;
      return this.#take(this.#core.sendBinary(data, now));
    }
    handleConnected(id, now) {
      return this.#take(this.#core.handleConnected(id, now));
    }
    handleBytes(id, data, now) {
      return this.#take(this.#core.handleBytes(id, data, now));
    }
    handleClosed(id, code, reason, now) {
      return this.#take(this.#core.handleClosed(id, code, reason, now));
    }
    handleOpen(id, protocol, extensions, now) {
      return this.#take(this.#core.handleOpen(id, protocol, extensions, now));
    }
    handleText(id, data, now) {
      this.#input = data;
      return this.#take(this.#core.handleText(id, data, now));
    }
    /** `data`: a Uint8Array; delivered back as an ArrayBuffer (its own when it spans it all). */
    handleBinary(id, data, now) {
      this.#input = data.byteOffset === 0 && data.byteLength === data.buffer.byteLength && data.buffer instanceof ArrayBuffer ? data.buffer : data.slice().buffer;
      return this.#take(this.#core.handleBinary(id, data, now));
    }
    handleError(id, kind, detail, now) {
      return this.#take(this.#core.handleError(id, kind, detail, now));
    }
    provideRequest(id, url, protocols, headers, now) {
      for (const p of protocols) this.#core.stage(p);
      for (const pair of headers) {
        if (!Array.isArray(pair) || pair.length !== 2) throw new Error("a header must be a [name, value] pair");
        this.#core.stage(pair[0]);
        this.#core.stage(pair[1]);
      }
      return this.#take(this.#core.provideRequest(id, url, protocols.length, now));
    }
    provideRequestError(id, reason, now) {
      return this.#take(this.#core.provideRequestError(id, reason, now));
    }
    handleTimeout(now) {
      return this.#take(this.#core.handleTimeout(now));
    }
    drain() {
      return this.#take(-1);
    }
    /** The queued messages, oldest first (strings and ArrayBuffers). */
    takeUnsent() {
      const out = [];
      decode(this.#core.takeUnsent(), (v) => out.push(v), null);
      return out;
    }

    /** The next batch: the first held one, after the outputs at `ptr` (none: -1) joined them. */
    #take(ptr) {
      if (ptr >= 0) {
        const held = this.#held;
        this.#deadline = decode(
          ptr,
          (v) => {
            if (!this.#open) {
              held.push([]);
              this.#open = true;
            }
            if (v === END) this.#open = false;
            else held[held.length - 1].push(v);
          },
          this.#input,
        );
        this.#input = null;
      }
      const out = this.#held.length > 0 ? this.#held.shift() : [];
      if (this.#held.length === 0) this.#open = false;
      out.push(this.#deadline, this.#held.length > 0);
      return out;
    }
  };

  /** Calls `put` with each value at `ptr` (`END` as itself); returns the last (the deadline). */
  function decode(ptr, put, input) {
    if (f64.length === 0) {
      // (a view of memory that has grown since is detached: length 0)
      f64 = new Float64Array(memory.buffer);
      u8 = new Uint8Array(memory.buffer);
    }
    let i = ptr / 8;
    const end = i + 2 + f64[i];
    let at = f64[i + 1];
    let last = null;
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
          case END:
            break;
        }
      }
      if (i < end - 1) put(v);
      else last = v;
    }
    return last;
  }
}
