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

// Same methods and batches as the napi core; no byte transport (no `net`): every socket
// is a WebSocket, the global one unless the `WebSocket` option names another.
export const platform = { RawSession };
