// The browser platform with the wasm module inlined (the `steadysock/inline` entry): the
// module ships as base64 inside wasm/steadysock_wasm_bytes.js and is instantiated
// synchronously (no fetch, no asset for a bundler to copy, no top-level await) at the
// cost of about a third more bytes than the separate .wasm file of platform-wasm.mjs.
// Nothing else runs at load: no Math.random, randomness is crypto.getRandomValues.
import { initSync, RawSession as Core } from "../wasm/steadysock_wasm.js";
import base64 from "../wasm/steadysock_wasm_bytes.js";
import { wasmSession } from "./wasm-session.mjs";

function decode(text) {
  const bin = atob(text);
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  return bytes;
}

const { memory } = initSync({ module: decode(base64) });

export const platform = { RawSession: wasmSession(Core, memory) };
