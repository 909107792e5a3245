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
use super::pattern::MessagePattern;

/// Application heartbeat configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct Heartbeat {
    /// Ping after this long without a pong (or, with `any_message_counts`, without any
    /// message). At least 1 ms.
    pub interval_ms: u64,
    /// The transport is dead if no reply arrives this long after a ping.
    pub timeout_ms: u64,
    /// The message to send as a ping.
    pub ping: Message,
    /// Which inbound messages are the reply. Replies are consumed, not delivered.
    pub pong: MessagePattern,
    /// Treat any inbound message as proof of life (and postpone the next ping).
    pub any_message_counts: bool,
}

impl Heartbeat {
    /// A heartbeat sending `ping` and recognising replies by `pong`.
    pub fn new(interval_ms: u64, timeout_ms: u64, ping: Message, pong: MessagePattern) -> Self {
        Self {
            interval_ms,
            timeout_ms,
            ping,
            pong,
            any_message_counts: true,
        }
    }

    /// The `ss2` heartbeat: sends `ss2 ping\n`, expects `ss2 pong\n` (or `ss2 pong`).
    pub fn steady(interval_ms: u64, timeout_ms: u64) -> Self {
        Self::new(interval_ms, timeout_ms, encode::ping(), steady_pong())
    }
}

/// The `ss2` heartbeat reply, with or without its line end.
pub(crate) fn steady_pong() -> MessagePattern {
    MessagePattern::Any(vec![
        MessagePattern::Exact(format!("{PREFIX}pong\n")),
        MessagePattern::Exact(format!("{PREFIX}pong")),
    ])
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
        assert!(cfg.pong.matches(&encode::pong()));
        assert!(cfg.pong.matches(&Message::text("ss2 pong")));
        assert!(!cfg.pong.matches(&encode::ping()));
        assert!(!cfg.pong.matches(&Message::text("pong")));
        assert!(!cfg.pong.matches(&Message::binary(b"ss2 pong\n".to_vec())));
    }

    #[test]
    fn saturates_at_the_end_of_time() {
        let cfg = Heartbeat::steady(u64::MAX, u64::MAX);
        let mut t = HeartbeatTimer::start(u64::MAX - 1, &cfg);
        assert_eq!(t.poll(u64::MAX, &cfg), Beat::SendPing);
        assert_eq!(t.poll(u64::MAX, &cfg), Beat::Dead);
    }
}
