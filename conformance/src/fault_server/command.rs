//! The fault server's command vocabulary: one line per command, the same text over the
//! control port, from [`FaultHandle::command`](super::FaultHandle::command), and in the
//! `server` steps of `scenarios/scenarios.json`. See `conformance/scenarios/README.md`.

use serde_json::{json, Value};

/// What newly accepted TCP connections get.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// A WebSocket server speaking the `ss2` envelope.
    Normal,
    /// Closed at once (the client connects, then sees the stream end).
    Refuse,
    /// Kept open, the handshake never answered (a black hole past TCP).
    Hang,
}

impl Mode {
    fn parse(s: &str) -> Result<Self, String> {
        match s {
            "normal" => Ok(Self::Normal),
            "refuse" => Ok(Self::Refuse),
            "hang" => Ok(Self::Hang),
            other => Err(format!("unknown mode {other:?} (normal, refuse or hang)")),
        }
    }

    /// The name used on the wire.
    pub fn name(self) -> &'static str {
        match self {
            Self::Normal => "normal",
            Self::Refuse => "refuse",
            Self::Hang => "hang",
        }
    }
}

/// Settings that only change with `reset` (they shape the recovery log).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FaultConfig {
    /// How long a detached session stays resumable.
    pub max_disconnection_ms: u64,
    /// Messages kept per session for replay.
    pub log_max_messages: usize,
}

impl Default for FaultConfig {
    fn default() -> Self {
        Self {
            max_disconnection_ms: 10_000,
            log_max_messages: 10_000,
        }
    }
}

/// One command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// `mode normal|refuse|hang`: how new connections are treated.
    Mode(Mode),
    /// `drop`: every connection ends without a close frame.
    Drop,
    /// `close <code> [reason]`: every open connection is closed with `code`.
    Close {
        /// Close code.
        code: u16,
        /// Close reason.
        reason: String,
    },
    /// `pings on|off`: answer pings (protocol and `ss2 ping`) or not.
    Pings(bool),
    /// `drain <grace_ms>`: `ss2 drain` on every open connection, closed (1001) after
    /// the grace period.
    Drain {
        /// Grace period.
        grace_ms: u64,
    },
    /// `restart <refuse_ms> keep|lose`: drop everything, refuse connections for
    /// `refuse_ms`, keep or lose the recovery log.
    Restart {
        /// How long new connections are refused.
        refuse_ms: u64,
        /// Whether sessions survive.
        keep_log: bool,
    },
    /// `send <n>`: `n` numbered messages to the current session, now.
    Send {
        /// How many.
        n: u64,
    },
    /// `tick <n> <every_ms>`: `n` numbered messages, the first now, then one every
    /// `every_ms` (replacing any ticking under way).
    Tick {
        /// How many.
        n: u64,
        /// Interval.
        every_ms: u64,
    },
    /// `status`: counters as one JSON line.
    Status,
    /// `reset [max_disconnection_ms=N] [log_max_messages=N]`: forget everything and
    /// start over with these settings (defaults for those not given).
    Reset(FaultConfig),
}

impl Command {
    /// Parses one command line.
    pub fn parse(line: &str) -> Result<Self, String> {
        let mut words = line.split_whitespace();
        let verb = words.next().ok_or("empty command")?;
        let mut arg = |name: &str| words.next().ok_or(format!("{verb}: missing {name}"));
        let num = |s: &str, name: &str| s.parse::<u64>().map_err(|_| format!("{verb}: {name} must be a number"));
        let cmd = match verb {
            "mode" => Self::Mode(Mode::parse(arg("mode")?)?),
            "drop" => Self::Drop,
            "close" => {
                let code = arg("code")?;
                let code = code
                    .parse::<u16>()
                    .map_err(|_| "close: code must be a number".to_string())?;
                let reason = line.split_whitespace().skip(2).collect::<Vec<_>>().join(" ");
                return Ok(Self::Close { code, reason });
            }
            "pings" => match arg("on|off")? {
                "on" => Self::Pings(true),
                "off" => Self::Pings(false),
                other => return Err(format!("pings: expected on or off, got {other:?}")),
            },
            "drain" => Self::Drain {
                grace_ms: num(arg("grace_ms")?, "grace_ms")?,
            },
            "restart" => {
                let refuse_ms = num(arg("refuse_ms")?, "refuse_ms")?;
                let keep_log = match arg("keep|lose")? {
                    "keep" => true,
                    "lose" => false,
                    other => return Err(format!("restart: expected keep or lose, got {other:?}")),
                };
                Self::Restart { refuse_ms, keep_log }
            }
            "send" => Self::Send {
                n: num(arg("n")?, "n")?,
            },
            "tick" => {
                let n = num(arg("n")?, "n")?;
                let every_ms = num(arg("every_ms")?, "every_ms")?;
                Self::Tick { n, every_ms }
            }
            "status" => Self::Status,
            "reset" => {
                let mut config = FaultConfig::default();
                for kv in words.by_ref() {
                    let (k, v) = kv
                        .split_once('=')
                        .ok_or(format!("reset: expected key=value, got {kv:?}"))?;
                    match k {
                        "max_disconnection_ms" => config.max_disconnection_ms = num(v, k)?,
                        "log_max_messages" => config.log_max_messages = num(v, k)? as usize,
                        other => return Err(format!("reset: unknown setting {other:?}")),
                    }
                }
                return Ok(Self::Reset(config));
            }
            other => return Err(format!("unknown command {other:?}")),
        };
        match words.next() {
            None => Ok(cmd),
            Some(extra) => Err(format!("{verb}: unexpected {extra:?}")),
        }
    }
}

/// What the server has seen and done since it started (or since `reset`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Status {
    /// Current mode.
    pub mode: String,
    /// Whether a restart is refusing connections right now.
    pub restarting: bool,
    /// How long a detached session stays resumable (set by `reset`).
    pub max_disconnection_ms: u64,
    /// TCP connections accepted, in every mode.
    pub accepted: u64,
    /// Of those, closed at once (mode `refuse` or during a restart).
    pub refused: u64,
    /// Of those, held without a handshake (mode `hang`).
    pub hung: u64,
    /// WebSocket handshakes completed.
    pub handshakes: u64,
    /// TCP connections open now (handshaking, open, closing or hung).
    pub connections: usize,
    /// Messages received from clients, in order (binary ones as `0x…` hex).
    pub received: Vec<String>,
    /// Numbered messages (`m1`, `m2`, …) handed to the recovery log.
    pub sent: u64,
    /// Numbered messages that had no session to go to.
    pub lost: u64,
    /// Attachments that resumed a session (`welcome <sid> 1`).
    pub resumed: u64,
    /// Attachments that started a new session (`welcome <sid> 0`).
    pub new_sessions: u64,
    /// Resumptions that arrived while the session's previous connection was still
    /// attached (make-before-break seen from the server).
    pub make_before_break: u64,
    /// Sessions in the recovery log.
    pub sessions: usize,
    /// The session numbered messages go to.
    pub current_session: Option<String>,
    /// Pings received (protocol pings and `ss2 ping`).
    pub pings_received: u64,
    /// Pings answered.
    pub pings_answered: u64,
    /// Numbered messages still to be ticked.
    pub ticking: u64,
}

impl Status {
    /// The status as the control port prints it.
    pub fn to_json(&self) -> Value {
        json!({
            "mode": self.mode,
            "restarting": self.restarting,
            "max_disconnection_ms": self.max_disconnection_ms,
            "accepted": self.accepted,
            "refused": self.refused,
            "hung": self.hung,
            "handshakes": self.handshakes,
            "connections": self.connections,
            "received": self.received,
            "sent": self.sent,
            "lost": self.lost,
            "resumed": self.resumed,
            "new_sessions": self.new_sessions,
            "make_before_break": self.make_before_break,
            "sessions": self.sessions,
            "current_session": self.current_session,
            "pings_received": self.pings_received,
            "pings_answered": self.pings_answered,
            "ticking": self.ticking,
        })
    }
}

/// The answer to a command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// Done.
    Ok,
    /// The answer to `status`.
    Status(Box<Status>),
    /// Refused, with why.
    Err(String),
}

impl Reply {
    /// The one line the control port answers (without the newline): `ok`, a JSON
    /// object, or `err <why>`.
    pub fn to_line(&self) -> String {
        match self {
            Self::Ok => "ok".into(),
            Self::Status(s) => s.to_json().to_string(),
            Self::Err(why) => format!("err {why}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_vocabulary() {
        assert_eq!(Command::parse("mode hang"), Ok(Command::Mode(Mode::Hang)));
        assert_eq!(Command::parse(" drop "), Ok(Command::Drop));
        assert_eq!(
            Command::parse("close 4000 going  away"),
            Ok(Command::Close {
                code: 4000,
                reason: "going away".into()
            })
        );
        assert_eq!(
            Command::parse("close 1000"),
            Ok(Command::Close {
                code: 1000,
                reason: String::new()
            })
        );
        assert_eq!(Command::parse("pings off"), Ok(Command::Pings(false)));
        assert_eq!(Command::parse("drain 250"), Ok(Command::Drain { grace_ms: 250 }));
        assert_eq!(
            Command::parse("restart 300 keep"),
            Ok(Command::Restart {
                refuse_ms: 300,
                keep_log: true
            })
        );
        assert_eq!(Command::parse("send 5"), Ok(Command::Send { n: 5 }));
        assert_eq!(Command::parse("tick 10 20"), Ok(Command::Tick { n: 10, every_ms: 20 }));
        assert_eq!(Command::parse("status"), Ok(Command::Status));
        assert_eq!(
            Command::parse("reset max_disconnection_ms=500"),
            Ok(Command::Reset(FaultConfig {
                max_disconnection_ms: 500,
                ..FaultConfig::default()
            }))
        );
        for bad in [
            "",
            "fly",
            "mode sideways",
            "close x",
            "send",
            "send -1",
            "drop now",
            "restart 5 maybe",
            "reset x=1",
        ] {
            assert!(Command::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn replies_are_single_lines() {
        assert_eq!(Reply::Ok.to_line(), "ok");
        assert_eq!(Reply::Err("nope".into()).to_line(), "err nope");
        let line = Reply::Status(Box::default()).to_line();
        assert!(line.starts_with('{') && !line.contains('\n'));
        let v: Value = serde_json::from_str(&line).unwrap();
        assert_eq!(v["accepted"], 0);
    }
}
