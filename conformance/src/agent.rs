//! The Rust scenario agent: [`SessionHost`] behind the scenario host protocol.
//!
//! The scenario interpreter ([`crate::scenario`]) drives any host through JSON lines over
//! the host's standard input and output (protocol: `conformance/scenarios/README.md`).
//! This is the first such host, run as the `scenario-agent` binary. An [`Agent`] answers
//! one command at a time ([`Agent::command`]) and renders the session's events
//! ([`Agent::next_event`]); the binary only moves lines.
//!
//! Every name on the wire is the core's canonical one (`as_str()` on its states, events,
//! causes and errors; `steadysock::vocabulary`) and the `options` object is the core's
//! [`SessionOptions`]: this module keeps no name table and no option key of its own.

use crate::session_host::{SessionHost, TransportNote, Waker};
use serde_json::{json, Map, Value};
use std::sync::{Arc, Mutex};
use std::time::Instant;
use steadysock::session::{
    Cause, RequestSource, SessionConfig, SessionError, SessionEvent, SessionOptions, State, TransportRequest,
};
use steadysock::Message;

/// The session configuration an `options` object describes, for `url`: the object is
/// [`SessionOptions`] (`null` gives every default). The session then asks for every
/// attempt's request ([`RequestSource::Provided`]): the agent answers with its target
/// URL at that moment (the `target` command), so the table can move the client between
/// attempts.
pub fn session_config(options: &Value, url: &str) -> Result<SessionConfig, String> {
    let options = match options {
        Value::Null => SessionOptions::default(),
        v => SessionOptions::from_json(&v.to_string()).map_err(|e| e.to_string())?,
    };
    let mut config = options.into_config(url).map_err(|e| e.to_string())?;
    config.request_source = RequestSource::Provided;
    Ok(config)
}

fn cause_fields(c: &Cause, obj: &mut Map<String, Value>) {
    obj.insert("cause".into(), c.as_str().into());
    if let Cause::Transport { kind, .. } = c {
        obj.insert("kind".into(), kind.as_str().into());
    }
    obj.insert("why".into(), c.to_string().into());
}

/// A session event as a protocol event line (without `t_ms`): `{"event": "closed",
/// "code": 1006, "cause": "closed", "will_reconnect": true, …}`.
pub fn event_json(e: &SessionEvent) -> Value {
    let mut obj = Map::new();
    obj.insert("event".into(), e.as_str().into());
    let mut put = |k: &str, v: Value| {
        obj.insert(k.into(), v);
    };
    match e {
        SessionEvent::StateChanged { from, to } => {
            put("from", from.as_str().into());
            put("to", to.as_str().into());
        }
        SessionEvent::Open {
            attempt,
            recovered,
            subprotocol,
            ..
        } => {
            put("attempt", (*attempt).into());
            put("recovered", (*recovered).into());
            put("subprotocol", json!(subprotocol));
        }
        SessionEvent::Migrated { recovered } => put("recovered", (*recovered).into()),
        SessionEvent::Message(m) => match m {
            Message::Text(t) => put("text", t.as_str().into()),
            Message::Binary(b) => put("binary", hex(b).into()),
        },
        SessionEvent::Closed {
            code,
            reason,
            cause,
            will_reconnect,
        } => {
            put("code", (*code).into());
            put("reason", reason.as_str().into());
            put("will_reconnect", (*will_reconnect).into());
            cause_fields(cause, &mut obj);
        }
        SessionEvent::Reconnecting {
            attempt,
            delay_ms,
            cause,
        } => {
            put("attempt", (*attempt).into());
            put("delay_ms", (*delay_ms).into());
            cause_fields(cause, &mut obj);
        }
        SessionEvent::GaveUp { attempts, cause } => {
            put("attempts", (*attempts).into());
            cause_fields(cause, &mut obj);
        }
        SessionEvent::Error(err) => {
            put("error", err.as_str().into());
            let detail = match err {
                SessionError::MigrationFailed { cause, retry_in_ms } => format!("{cause}; retry in {retry_in_ms} ms"),
                SessionError::RecoveryGap { expected, got } => format!("expected {expected}, got {got}"),
                SessionError::Envelope(why) | SessionError::Unsendable(why) => why.clone(),
                other => other.to_string(),
            };
            put("detail", detail.into());
        }
        // Events a newer core may add: the name is all an agent can render.
        _ => {}
    }
    Value::Object(obj)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|x| format!("{x:02x}")).collect()
}

fn unhex(s: &str) -> Result<Vec<u8>, String> {
    if s.len() % 2 != 0 {
        return Err("binary: odd number of hex digits".into());
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).map_err(|_| format!("binary: not hex: {s:?}")))
        .collect()
}

/// The Rust host of the protocol: a [`SessionHost`], made by the first `connect`.
pub struct Agent {
    host: Option<SessionHost>,
    /// Where attempts go (the request provider reads it per attempt).
    target: Arc<Mutex<String>>,
    started: Instant,
}

impl Default for Agent {
    fn default() -> Self {
        Self::new()
    }
}

impl Agent {
    /// An agent with no session yet.
    pub fn new() -> Self {
        Self {
            host: None,
            target: Arc::new(Mutex::new(String::new())),
            started: Instant::now(),
        }
    }

    /// Milliseconds since the agent started: the `t_ms` of its event lines.
    pub fn now_ms(&self) -> u64 {
        self.started.elapsed().as_millis() as u64
    }

    /// The waker of the session host, once there is one.
    pub fn waker(&self) -> Option<Waker> {
        self.host.as_ref().map(SessionHost::waker)
    }

    /// Drives the session until it has an event (rendered, with `t_ms`), `deadline`
    /// passes or the host's waker is woken (`None`). With no session yet, `None` at once.
    pub fn next_event(&mut self, deadline: Instant) -> Option<Value> {
        let e = self.host.as_mut()?.next_event_or_wake(deadline)?;
        let mut v = event_json(&e);
        v["t_ms"] = self.now_ms().into();
        Some(v)
    }

    /// Carries out one command line and returns its reply line (`reply`, the command's
    /// `id` if it had one, `ok`, and the command's answer fields or `error`).
    pub fn command(&mut self, cmd: &Value) -> Value {
        let name = cmd["cmd"].as_str().unwrap_or("").to_string();
        let mut reply = match self.run(&name, cmd) {
            Ok(Value::Object(fields)) => Value::Object(fields),
            Ok(_) => json!({}),
            Err(why) => json!({ "ok": false, "error": why }),
        };
        reply["reply"] = name.into();
        if reply.get("ok").is_none() {
            reply["ok"] = true.into();
        }
        if let Some(id) = cmd.get("id") {
            reply["id"] = id.clone();
        }
        reply
    }

    fn host(&mut self) -> Result<&mut SessionHost, String> {
        self.host
            .as_mut()
            .ok_or_else(|| "no session yet: connect first".to_string())
    }

    fn set_target(&self, cmd: &Value) {
        if let Some(url) = cmd.get("url").and_then(Value::as_str) {
            *self.target.lock().unwrap_or_else(|e| e.into_inner()) = url.to_string();
        }
    }

    fn run(&mut self, name: &str, cmd: &Value) -> Result<Value, String> {
        match name {
            "connect" => {
                self.set_target(cmd);
                if self.host.is_none() {
                    let url = self.target.lock().unwrap_or_else(|e| e.into_inner()).clone();
                    let config = session_config(&cmd["options"], &url)?;
                    // Each attempt's request: the options' headers and subprotocols, the
                    // target's URL (the core adds the recovery parameters).
                    let request = config.request.clone();
                    let target = self.target.clone();
                    let host = SessionHost::new(config)
                        .map_err(|e| e.to_string())?
                        .with_request_provider(move |_attempt, _migration| TransportRequest {
                            url: target.lock().unwrap_or_else(|e| e.into_inner()).clone(),
                            ..request.clone()
                        });
                    self.host = Some(host);
                }
                self.host()?.connect();
            }
            "target" => self.set_target(cmd),
            "reconnect" => self.host()?.reconnect(),
            "disconnect_warning" => self.host()?.disconnect_warning(),
            "close" => {
                let code = cmd["code"].as_u64().unwrap_or(1000);
                let code = u16::try_from(code).map_err(|_| format!("close: bad code {code}"))?;
                let reason = cmd["reason"].as_str().unwrap_or("").to_string();
                self.host()?.close(code, &reason);
            }
            "send" => {
                let message = match (
                    cmd.get("text").and_then(Value::as_str),
                    cmd.get("binary").and_then(Value::as_str),
                ) {
                    (Some(t), _) => Message::text(t),
                    (None, Some(b)) => Message::binary(unhex(b)?),
                    (None, None) => return Err("send: needs text or binary".into()),
                };
                let result = match self.host()?.send(message) {
                    Ok(()) => "ok",
                    Err(e) => e.as_str(),
                };
                return Ok(json!({ "result": result }));
            }
            "state?" => {
                let Some(host) = self.host.as_ref() else {
                    return Ok(
                        json!({"state": State::Idle.as_str(), "timer_armed": false, "transports": 0,
                                     "queued": 0, "sockets": 0, "threads": 0}),
                    );
                };
                let s = host.session();
                return Ok(json!({
                    "state": s.state().as_str(),
                    "timer_armed": s.poll_timeout().is_some(),
                    "transports": s.transports().len(),
                    "queued": s.queued_messages(),
                    "sockets": host.live_sockets(),
                    "threads": host.live_threads(),
                }));
            }
            "released?" => {
                let Some(host) = self.host.as_mut() else {
                    return Ok(json!({ "released": true, "detail": "no session" }));
                };
                let released = host.is_released();
                let s = host.session();
                let detail = format!(
                    "{} sockets, {} threads, timer {:?}, transports {:?}",
                    host.live_sockets(),
                    host.live_threads(),
                    s.poll_timeout(),
                    s.transports()
                );
                return Ok(json!({ "released": released, "detail": detail }));
            }
            "transport_log?" => {
                let log: Vec<Value> = self
                    .host
                    .as_ref()
                    .map_or(&[][..], |h| h.transport_log())
                    .iter()
                    .map(|n| {
                        let (note, id) = match n {
                            TransportNote::Requested(id) => ("requested", id),
                            TransportNote::Connected(id) => ("connected", id),
                            TransportNote::Closed(id) => ("closed", id),
                        };
                        json!({ "note": note, "transport": id.get() })
                    })
                    .collect();
                return Ok(json!({ "log": log }));
            }
            "quit" => {
                if let Some(host) = self.host.as_mut() {
                    host.shutdown();
                }
            }
            other => return Err(format!("unknown command {other:?}")),
        }
        Ok(json!({}))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use steadysock::session::TransportErrorKind;

    #[test]
    fn the_shipped_table_builds_configs() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/scenarios.json");
        let table = crate::scenario::Table::load(path).unwrap().for_host("rust");
        for s in &table.scenarios {
            let config = session_config(&table.settings(s, "client"), "ws://127.0.0.1:1/ws").unwrap();
            assert_eq!(config.request_source, RequestSource::Provided);
            assert!(config.recovery.is_some(), "the table's defaults ask for recovery");
        }
        let bad = json!({ "backoff": { "jitter": "sometimes" } });
        assert!(session_config(&bad, "ws://127.0.0.1:1/ws").is_err());
        assert!(session_config(&json!({ "max_retries": "three" }), "ws://127.0.0.1:1/ws").is_err());
        let unknown = session_config(&json!({ "max_retry": 3 }), "ws://127.0.0.1:1/ws").unwrap_err();
        assert!(unknown.contains("max_retry"), "{unknown}");
    }

    #[test]
    fn events_carry_canonical_names() {
        let e = SessionEvent::Closed {
            code: 1006,
            reason: String::new(),
            cause: Cause::Transport {
                kind: TransportErrorKind::Refused,
                detail: "x".into(),
            },
            will_reconnect: true,
        };
        let v = event_json(&e);
        assert_eq!(v["event"], "closed");
        assert_eq!(v["cause"], "transport");
        assert_eq!(v["kind"], "refused");
        let v = event_json(&SessionEvent::StateChanged {
            from: State::Backoff,
            to: State::Connecting,
        });
        assert_eq!(
            v,
            json!({"event": "state_changed", "from": "backoff", "to": "connecting"})
        );
        let v = event_json(&SessionEvent::Error(SessionError::RecoveryGap { expected: 3, got: 5 }));
        assert_eq!(v["error"], "recovery_gap");
    }

    #[test]
    fn commands_before_a_session_and_unknown_ones_are_answered() {
        let mut agent = Agent::new();
        let r = agent.command(&json!({"cmd": "send", "id": 4, "text": "x"}));
        assert_eq!(r["ok"], false);
        assert_eq!(r["id"], 4);
        assert_eq!(r["reply"], "send");
        let r = agent.command(&json!({"cmd": "fly"}));
        assert_eq!(r["ok"], false);
        let r = agent.command(&json!({"cmd": "state?"}));
        assert_eq!(r["state"], "idle");
        assert_eq!(r["ok"], true);
        let r = agent.command(&json!({"cmd": "released?"}));
        assert_eq!(r["released"], true);
        assert_eq!(unhex("00ff").unwrap(), vec![0, 255]);
        assert!(unhex("0").is_err());
    }
}
