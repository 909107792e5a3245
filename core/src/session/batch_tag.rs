//! The numbers the JavaScript bindings (the napi addon, `bindings-node/src/session.rs`, and
//! the wasm module, `bindings-wasm/src/lib.rs`) give the session's outputs when they flatten
//! them into one batch `[TAG, values…, TAG, values…, …]`, so that one JavaScript
//! `ReconnectingWebSocket` (`bindings-node/lib/reconnecting.js`, which has the same numbers)
//! reads either. After each tag, the values named here, in this order. Data only: the core
//! itself never makes such a batch.

/// `id, host, port, secure` — byte transport: open a socket and report about it with `id`.
pub const OPEN_TRANSPORT: u32 = 10;
/// `id, bytes` — byte transport: write to socket `id`.
pub const TRANSMIT: u32 = 11;
/// `id, code, reason` — end socket `id` (after what was written; a WebSocket:
/// `close(code, reason)`, the code always one a browser accepts: 1000 or 3000–4999) and
/// forget it.
pub const CLOSE_TRANSPORT: u32 = 12;
/// `from, to` — state names (`idle`, `connecting`, `open`, `closing`, `backoff`, `closed`).
pub const STATE: u32 = 13;
/// `attempt, recovered, protocol, extensions`.
pub const OPEN: u32 = 14;
/// `data: string`.
pub const TEXT: u32 = 15;
/// `data: ArrayBuffer`.
pub const BINARY: u32 = 16;
/// `code, reason, willReconnect, cause, kind, why` — `cause` the canonical name, `kind` the
/// transport error's (or `null`), `why` human text.
pub const CLOSED: u32 = 17;
/// `attempt, delayMs, cause, kind, why`.
pub const RECONNECTING: u32 = 18;
/// `attempts, cause, kind, why`.
pub const GAVE_UP: u32 = 19;
/// `error, detail` — a non-fatal anomaly: its canonical name and human text.
pub const ERROR: u32 = 20;
/// `recovered` — make-before-break finished.
pub const MIGRATED: u32 = 21;
/// `id, attempt` — attempt `id` needs its request (URL provider).
pub const NEED_REQUEST: u32 = 22;
/// `id, url, protocols: string[]` — message transport: `new WebSocket(url, protocols)`.
pub const OPEN_WEBSOCKET: u32 = 23;
/// `id, data: string | ArrayBuffer` — message transport: `send(data)` on socket `id`.
pub const SEND_MESSAGE: u32 = 24;
