// The browser platform of lib/reconnecting.js: the core's Session compiled to wasm
// (bindings-wasm/src/lib.rs, built into wasm/ by bindings-wasm/build.sh) and no byte
// transport: every socket is a `WebSocket` used as a message transport.
//
// The module is the separate file wasm/steadysock_wasm_bg.wasm, fetched and compiled while
// it streams in (WebAssembly.compileStreaming; serve it as application/wasm) from
// `new URL("steadysock_wasm_bg.wasm", import.meta.url)` in wasm/steadysock_wasm_fetch.js
// (beside it, as in the wasm-bindgen glue; written by bindings-wasm/build.sh): Vite,
// webpack 5, Parcel and Rollup's URL plugins see that pattern and emit the file; with
// esbuild, copy it next to the bundle. Top-level await: importing this module finishes once
// the module is instantiated. For a synchronous start without an asset, see
// platform-wasm-inline.mjs (the `steadysock/inline` entry).
//
// Nothing else runs at load: no Math.random, randomness is crypto.getRandomValues, called
// by the core.
import { initSync, RawSession as Core } from "../wasm/steadysock_wasm.js";
import compile from "../wasm/steadysock_wasm_fetch.js";
import { wasmSession } from "./wasm-session.mjs";

// (compiled while it streams in, then instantiated: the glue's initSync, so that its own
// async loader is not bundled)
const { memory } = initSync({ module: await compile() });

// Same methods and batches as the napi core (lib/wasm-session.mjs decodes the module's);
// no byte transport (no `net`): every socket is a WebSocket, the global one unless the
// `WebSocket` option names another.
export const platform = { RawSession: wasmSession(Core, memory) };
