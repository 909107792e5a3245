// The browser platform of lib/reconnecting.js: the core's Session compiled to wasm
// (bindings-wasm/src/lib.rs, built into wasm/ by bindings-wasm/build.sh) and no byte
// transport: every socket is a `WebSocket` used as a message transport.
//
// The module is instantiated synchronously from bytes that ship inside the package (no
// fetch, no asset for a bundler to copy; works in pages and Workers). Nothing else runs
// at load: no Math.random, randomness is crypto.getRandomValues, called by the core.
import { initSync, RawSession } from "../wasm/steadysock_wasm.js";
import base64 from "../wasm/steadysock_wasm_bytes.js";

function decode(text) {
  const bin = atob(text);
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  return bytes;
}

initSync({ module: decode(base64) });

// Values after each output tag that differ from the napi core's: the wasm core appends the
// canonical cause and transport-error kind (src/lib.rs, `mod tag`).
const arity = {
  10: 4, 11: 2, 12: 1, 13: 2, 14: 3, 15: 1, 16: 1,
  17: 6, // CLOSED: code, reason, why, willReconnect, cause, kind
  18: 5, // RECONNECTING: attempt, delayMs, why, cause, kind
  19: 4, // GAVE_UP: attempts, why, cause, kind
  20: 2, // ERROR: message, kind
  21: 1, 22: 2, 23: 3, 24: 2, 25: 2, 26: 3,
};

export const platform = { RawSession, arity };
