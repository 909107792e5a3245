//! Application-level keepalive, for transports where the session cannot send protocol
//! pings (a browser `WebSocket` exposes no ping API) or where an application-level answer
//! is the better proof of life.
//!
//! One ping is outstanding at a time. Timers live in a [`HeartbeatTimer`] owned by the
//! transport it watches, so when that transport is torn down the timer is dropped with
//! it: a new transport always starts from a fresh timer, never from a stale "last pong"
//! (the classic ping-timeout-forever-after-reconnect bug).

use super::envelope::{encode, PREFIX};
use super::msg::Message;
use std::fmt;

/// Recognises the server's heartbeat reply.
pub type PongMatcher = Box<dyn Fn(&Message) -> bool + Send>;

/// Application heartbeat configuration.
pub struct Heartbeat {
    /// Ping after this long without a pong (or, with `any_message_counts`, without any
    /// message). At least 1 ms.
    pub interval_ms: u64,
    /// The transport is dead if no reply arrives this long after a ping.
    pub timeout_ms: u64,
    /// The message to send as a ping.
    pub ping: Message,
    /// Whether an inbound message is the reply. Replies are consumed, not delivered.
    pub is_pong: PongMatcher,
    /// Treat any inbound message as proof of life (and postpone the next ping).
    pub any_message_counts: bool,
}

impl Heartbeat {
    /// A heartbeat sending `ping` and recognising replies with `is_pong`.
    pub fn new(
        interval_ms: u64,
        timeout_ms: u64,
        ping: Message,
        is_pong: impl Fn(&Message) -> bool + Send + 'static,
    ) -> Self {
        Self {
            interval_ms,
            timeout_ms,
            ping,
            is_pong: Box::new(is_pong),
            any_message_counts: true,
        }
    }

    /// The `ss2` heartbeat: sends `ss2 ping\n`, expects `ss2 pong\n`.
    pub fn steady(interval_ms: u64, timeout_ms: u64) -> Self {
        Self::new(
            interval_ms,
            timeout_ms,
            encode::ping(),
            |m| matches!(m, Message::Text(t) if t.as_str().strip_prefix(PREFIX).is_some_and(|r| r.trim_end() == "pong")),
        )
    }
}

impl fmt::Debug for Heartbeat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Heartbeat")
            .field("interval_ms", &self.interval_ms)
            .field("timeout_ms", &self.timeout_ms)
            .field("ping", &self.ping)
            .field("any_message_counts", &self.any_message_counts)
            .finish_non_exhaustive()
    }
}

/// What the timer wants done now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Beat {
    /// Nothing yet.
    Wait,
    /// Send the ping message.
    SendPing,
    /// No reply in time: the transport is dead.
    Dead,
}

/// Heartbeat progress of one transport.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct HeartbeatTimer {
    next_ping_at: Option<u64>,
    reply_deadline: Option<u64>,
}

impl HeartbeatTimer {
    /// Armed from scratch when a transport opens.
    pub(crate) fn start(now: u64, cfg: &Heartbeat) -> Self {
        Self {
            next_ping_at: Some(now.saturating_add(cfg.interval_ms.max(1))),
            reply_deadline: None,
        }
    }

    /// The earliest moment `poll` has something to do.
    pub(crate) fn deadline(&self) -> Option<u64> {
        self.reply_deadline.or(self.next_ping_at)
    }

    /// Proof of life: the reply, or any message when that counts.
    pub(crate) fn alive(&mut self, now: u64, cfg: &Heartbeat) {
        self.reply_deadline = None;
        self.next_ping_at = Some(now.saturating_add(cfg.interval_ms.max(1)));
    }

    /// Advances the timer to `now`.
    pub(crate) fn poll(&mut self, now: u64, cfg: &Heartbeat) -> Beat {
        if let Some(deadline) = self.reply_deadline {
            return if now >= deadline { Beat::Dead } else { Beat::Wait };
        }
        match self.next_ping_at {
            Some(at) if now >= at => {
                self.next_ping_at = None;
                self.reply_deadline = Some(now.saturating_add(cfg.timeout_ms));
                Beat::SendPing
            }
            _ => Beat::Wait,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pings_after_interval_and_dies_after_timeout() {
        let cfg = Heartbeat::steady(1_000, 500);
        let mut t = HeartbeatTimer::start(0, &cfg);
        assert_eq!(t.deadline(), Some(1_000));
        assert_eq!(t.poll(999, &cfg), Beat::Wait);
        assert_eq!(t.poll(1_000, &cfg), Beat::SendPing);
        assert_eq!(t.deadline(), Some(1_500));
        assert_eq!(t.poll(1_200, &cfg), Beat::Wait, "one ping outstanding at a time");
        t.alive(1_200, &cfg);
        assert_eq!(t.deadline(), Some(2_200));
        assert_eq!(t.poll(2_200, &cfg), Beat::SendPing);
        assert_eq!(t.poll(2_700, &cfg), Beat::Dead);
    }

    #[test]
    fn steady_matcher() {
        let cfg = Heartbeat::steady(1, 1);
        assert!((cfg.is_pong)(&encode::pong()));
        assert!(!(cfg.is_pong)(&encode::ping()));
        assert!(!(cfg.is_pong)(&Message::text("pong")));
        assert!(!(cfg.is_pong)(&Message::binary(b"ss2 pong\n".to_vec())));
    }

    #[test]
    fn saturates_at_the_end_of_time() {
        let cfg = Heartbeat::steady(u64::MAX, u64::MAX);
        let mut t = HeartbeatTimer::start(u64::MAX - 1, &cfg);
        assert_eq!(t.poll(u64::MAX, &cfg), Beat::SendPing);
        assert_eq!(t.poll(u64::MAX, &cfg), Beat::Dead);
    }
}
