//! Session: one logical connection that outlives its transports.
//!
//! A [`Session`] is the sans-IO state machine behind "a WebSocket client that stays
//! connected". It asks the host to open and close transports, reconnects with backoff,
//! keeps each transport alive, queues messages while disconnected, moves to a new
//! transport before a draining server drops the old one, and carries a session id and
//! offset across transports so a cooperating server can replay what was missed. Like the
//! [`Connection`](crate::Connection) it may drive, it never reads a clock, sleeps,
//! spawns, or touches a socket: time comes in as `now` (milliseconds), randomness from
//! the injected [`RandomSource`](crate::RandomSource), and everything it wants done comes
//! out of [`Session::poll_output`].
//!
//! # Host loop
//!
//! ```text
//! session.connect(now)
//! loop {
//!     while let Some(out) = session.poll_output() {
//!         NeedRequest { id, attempt, .. } => start the app's URL provider (sync or async);
//!                                          later: provide_request(id, request, now)
//!                                          or provide_request_error(id, why, now)
//!         OpenTransport { id, request } => open a socket, remember `id`
//!         Transmit { id, bytes }        => write to socket `id`          (byte transport)
//!         SendMessage { id, message }   => ws.send(message)              (message transport)
//!         CloseTransport { id, .. }     => flush, then close socket `id`; forget it
//!         Event(e)                      => hand to the application
//!     }
//!     (or take them all at once: session.poll_outputs(&mut vec); consecutive bytes
//!      for one socket come as one Transmit)
//!     arm one timer at session.poll_timeout()
//!     wait for: socket connected / bytes / message / open / closed / error, a provided
//!     request, or the timer, and call the matching handle_transport_*(id, ..., now),
//!     provide_request*(id, ..., now) or handle_timeout(now)
//! }
//! ```
//!
//! Nothing the application configures is a callback the session calls: disconnect
//! warnings and heartbeat replies are [`MessagePattern`]s, the retry decision is data in
//! [`RetryPolicy`] (fatal close codes and HTTP statuses), the envelope is an
//! [`EnvelopeKind`], and a per-attempt request (a URL provider, a token refresh) is asked
//! for with [`Output::NeedRequest`] when [`SessionConfig::request_source`] is
//! [`RequestSource::Provided`]. A Python callback may raise or call `send()`, a JS
//! provider may return a promise: the session only ever sees the answer, as an input.
//! All settings also come as one JSON object, [`SessionOptions`] (read by the core's own
//! reader, no feature needed; also a serde object with the default `serde` feature), and
//! every state, event and cause has one canonical name
//! ([`vocabulary`](crate::vocabulary)).
//!
//! # Numbers across a language boundary
//!
//! A JavaScript number holds integers exactly up to 2^53 − 1 (`Number.MAX_SAFE_INTEGER`,
//! about 9·10^15). The `u64` values a binding sees, and why they stay in that range:
//!
//! | value | range | safe as a JS number |
//! |-------|-------|---------------------|
//! | `now`, `poll_timeout()` (ms) | the host's clock from an origin it picks (use a monotonic one: `performance.now()`, process start) | yes: 2^53 ms is 285 000 years; deadlines are `now` + configured durations, so keep those durations below 2^53 too |
//! | [`TransportId`] | 1, 2, 3, … one per attempt, never reused | yes: 2^53 attempts is one per microsecond for 285 years |
//! | offsets (`last_offset()`, `ss2 msg <offset>`) | 1 … [`envelope::MAX_OFFSET`] = 2^53 − 1; a larger offset is a decoding error | yes, by that bound |
//! | `delay_ms`, `retry_in_ms` | at most `backoff.max_ms` | yes |
//! | `attempt`, `attempts` | `u32` | yes |
//! | queue sizes (`queued_bytes()`, `QueueFull`) | bounded by the queue limits | yes |
//! | close codes, HTTP statuses | `u16` | yes |
//!
//! So no binding needs BigInt; one that takes a `u64` option from JavaScript
//! (`max_bytes: Infinity`) should clamp it to 2^53 − 1.
//!
//! # The bugs it is built to make impossible
//!
//! | bug in the wild                                              | here                                                                                       |
//! |--------------------------------------------------------------|--------------------------------------------------------------------------------------------|
//! | reconnect works once, never again (stale flags)              | every transport has a fresh [`TransportId`]; news about any other id is ignored             |
//! | ping times out forever after a reconnect                     | keepalive/heartbeat timers live in the per-transport value and die with it                 |
//! | "failed after 3 attempts", then silence                      | unlimited retries by default; `max_retries` ends in `GaveUp` + `Closed`, and `reconnect()` always works |
//! | close 1006 (or even 1000 from the server) with no recovery   | every server-side ending is retried unless the policy says otherwise ([`policy`](RetryPolicy)) |
//! | server "disconnect warning" ignored until the socket dies    | [`Session::disconnect_warning`] / `ss2 drain` / a [`MessagePattern`]: make-before-break     |
//! | crash closing a socket that is still connecting / unreachable| `close()` is valid in every state and ends every timer                                      |
//! | messages lost across a reconnect                             | session id + resume token + offset in the first message, server replay from [`RecoveryLog`], offset de-dup |
//!
//! Timers are fields of the state they belong to (the backoff deadline only exists in
//! `Backoff`, the close deadline only in `Closing`, connect/handshake/keepalive deadlines
//! only inside a live transport), so no timer outlives its reason. `poll_timeout()` is
//! `None` exactly in `Idle` and `Closed`; in every other state a timer is armed or a
//! host notification is pending (with the connect/handshake timeouts on, always a timer).
//!
//! # Transports
//!
//! * **Bytes** ([`TransportKind::Bytes`]): TCP/TLS owned by the host. The session runs
//!   one client [`Connection`](crate::Connection) per attempt (created on
//!   `handle_transport_connected`), feeds it `handle_transport_bytes`, and emits its
//!   output as `Transmit`. Protocol ping/pong keepalive comes from the connection config.
//!   Whatever the connection queues (including while the session handles its events: a
//!   pong, the answer to a close frame, the close frame after a protocol error) leaves
//!   in the same drain, before the call that fed it returns. A protocol error by the peer
//!   fails the connection (RFC 6455 §7.1.7): its close frame is written, then
//!   `CloseTransport` and the retry follow at once, without waiting for the peer's answer.
//! * **Messages** ([`TransportKind::Messages`]): the browser's `WebSocket`, which frames
//!   for us: `handle_transport_open` / `_message` / `_closed(code)`. Keepalive is an
//!   application [`Heartbeat`] (a ping message and a pattern for the reply).
//!
//! # Policy defaults
//!
//! | setting                                   | default                                          |
//! |-------------------------------------------|--------------------------------------------------|
//! | backoff                                   | 1 s → ×2 → 30 s cap, full jitter (`[1 s, 2 s]` first) |
//! | `max_retries`                             | none (retry forever)                             |
//! | `min_uptime_ms` (resets the attempt count)| 5 000                                            |
//! | `connect_timeout_ms` / `handshake_timeout_ms` | 10 000 / 10 000                              |
//! | `close_timeout_ms`                        | 5 000                                            |
//! | retried causes                            | everything except HTTP 401/403 (`fatal_http_statuses`), close codes in `fatal_close_codes` (none) and an unusable request |
//! | outbound queue                            | 1 024 messages / 1 MiB; overflow → `SendError::QueueFull` |
//! | protocol keepalive (`SessionConfig::bytes`) | ping after 20 s idle, dead 10 s later          |
//! | app heartbeat, recovery                   | off (need server cooperation)                    |
//! | request                                   | the same for every attempt (`RequestSource::Fixed`) |
//!
//! # Delivery guarantees
//!
//! * Server → client, with recovery on and a server built on [`RecoveryLog`]: every
//!   message exactly once and in order per session id, across reconnects and
//!   make-before-break; when the server cannot resume, the app learns `recovered: false`
//!   (and a new session id) — never a silent gap.
//! * Client → server: queued messages are flushed in order on open; a message handed to
//!   a transport that then dies may be lost (at most once, no acknowledgements), and
//!   order is per transport (a message sent on the old transport just before a
//!   make-before-break switch may arrive after one sent on the new).
//!
//! The wire format of the recovery envelope is in [`envelope`]; the server half in
//! [`recovery_log`]. The deterministic fault-injection simulation that checks all of the
//! above lives in `tests/sim.rs`.

mod backoff;
pub mod batch_tag;
mod config;
pub mod envelope;
mod heartbeat;
mod machine;
mod msg;
pub mod options;
mod output;
pub mod pattern;
mod policy;
mod queue;
pub(crate) mod recovery;
#[cfg(not(all(target_arch = "wasm32", target_os = "unknown")))]
pub mod recovery_log;
mod shared_rng;
mod transport;

/// A byte transport's configuration; uninhabited without the `bytes-transport` feature.
#[cfg(feature = "bytes-transport")]
use crate::connection::Config as ConnectionConfig;
#[cfg(not(feature = "bytes-transport"))]
type ConnectionConfig = std::convert::Infallible;

pub use backoff::{BackoffPolicy, Jitter};
pub use config::{RequestSource, SessionConfig, TransportKind};
pub use envelope::{encode, EnvelopeKind, Inbound};
pub use heartbeat::Heartbeat;
pub use machine::Session;
pub use options::{
    BackoffOptions, Headers, HeartbeatOptions, KeepaliveOptions, OptionsError, QueueOptions, RecoveryPlacement,
    SessionOptions, Subprotocols, TransportType,
};
pub use output::{Output, SendError, SessionError, SessionEvent, State, TransportId, TransportRequest};
pub use pattern::{JsonScalar, MessagePattern};
pub use policy::{Cause, RetryPolicy, TransportErrorKind};
pub use queue::QueueLimits;
pub use recovery::{ParamPlacement, RecoveryConfig, Secret};
#[cfg(not(all(target_arch = "wasm32", target_os = "unknown")))]
pub use recovery_log::{
    read_greeting, AttachError, Attachment, Greeting, RecoveryLog, RecoveryLogConfig, Resume, ResumeRequest,
    ResumeToken, MAX_ATTACHMENTS,
};

#[cfg(test)]
mod tests;
