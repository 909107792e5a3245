//! The interpreter of `conformance/scenarios/scenarios.json`: Session scenarios as data.
//!
//! A scenario is client settings plus a list of steps in a small vocabulary (server
//! commands, client operations, expectations and checks — see
//! `conformance/scenarios/README.md`). This module knows the vocabulary and nothing about
//! any particular scenario, so the Python, Node and browser runners can interpret the
//! same file: everything a step compares is either a session event rendered as JSON
//! ([`event_json`]) or a field of the fault server's `status` line.

use crate::fault_server::{FaultConfig, FaultHandle, FaultServer};
use crate::session_host::{SessionHost, TransportNote};
use serde_json::{json, Map, Value};
use std::fmt::Write as _;
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use steadysock::session::{
    Cause, RequestSource, SendError, SessionConfig, SessionError, SessionEvent, SessionOptions, TransportRequest,
};
use steadysock::Message;

/// The scenario table.
#[derive(Debug, Clone)]
pub struct Table {
    /// Client and server settings every scenario starts from.
    pub defaults: Value,
    /// The scenarios, in order.
    pub scenarios: Vec<Value>,
}

impl Table {
    /// Parses the table.
    pub fn parse(text: &str) -> Result<Self, String> {
        let v: Value = serde_json::from_str(text).map_err(|e| format!("scenarios.json: {e}"))?;
        let scenarios = v["scenarios"]
            .as_array()
            .ok_or("scenarios.json: no \"scenarios\" array")?
            .clone();
        for s in &scenarios {
            if s["id"].as_str().is_none() || s["steps"].as_array().is_none() {
                return Err(format!("scenarios.json: a scenario needs an id and steps: {s}"));
            }
        }
        Ok(Self {
            defaults: v["defaults"].clone(),
            scenarios,
        })
    }

    /// Reads and parses the table at `path`.
    pub fn load(path: &str) -> Result<Self, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?;
        Self::parse(&text)
    }

    /// Settings `section` (`client` or `server`) of `scenario`: the defaults with the
    /// scenario's own keys on top.
    pub fn settings(&self, scenario: &Value, section: &str) -> Value {
        let mut merged = self.defaults[section].as_object().cloned().unwrap_or_default();
        if let Some(own) = scenario[section].as_object() {
            for (k, v) in own {
                merged.insert(k.clone(), v.clone());
            }
        }
        Value::Object(merged)
    }

    /// Runs one scenario against a fresh [`FaultServer`] with a [`SessionHost`].
    pub fn run(&self, scenario: &Value, verbose: bool) -> Result<(), String> {
        let server_settings = self.settings(scenario, "server");
        let client_settings = self.settings(scenario, "client");
        let server = FaultServer::start_with(fault_config(&server_settings)?).map_err(|e| e.to_string())?;
        let server_url = server.url("/ws");
        let unused_url = format!("ws://{}/ws", unused_addr().map_err(|e| e.to_string())?);
        let target = Arc::new(Mutex::new(server_url.clone()));
        let config = session_config(&client_settings, target.clone())?;
        let provider_target = target.clone();
        let host = SessionHost::new(config)
            .map_err(|e| e.to_string())?
            .with_request_provider(move |_, _| TransportRequest {
                url: provider_target.lock().unwrap_or_else(|e| e.into_inner()).clone(),
                ..TransportRequest::default()
            });
        let mut run = Run {
            handle: server.handle(),
            host,
            target,
            server_url,
            unused_url,
            history: Vec::new(),
            cursor: 0,
            mark: 0,
            verbose,
            started: Instant::now(),
        };
        let steps = scenario["steps"].as_array().cloned().unwrap_or_default();
        let result = run.steps(&steps);
        run.finish();
        drop(server);
        result
    }
}

/// A local address nothing listens on (bound, then released).
fn unused_addr() -> std::io::Result<std::net::SocketAddr> {
    TcpListener::bind("127.0.0.1:0")?.local_addr()
}

fn fault_config(server: &Value) -> Result<FaultConfig, String> {
    let mut config = FaultConfig::default();
    if let Some(ms) = server.get("max_disconnection_ms") {
        config.max_disconnection_ms = ms.as_u64().ok_or("server.max_disconnection_ms: not a number")?;
    }
    if let Some(n) = server.get("log_max_messages") {
        config.log_max_messages = n.as_u64().ok_or("server.log_max_messages: not a number")? as usize;
    }
    Ok(config)
}

/// The session configuration the client settings describe: the settings are
/// [`SessionOptions`] keys. Every attempt asks the host for its request
/// ([`RequestSource::Provided`]), which answers with the URL in `target` (the `target`
/// client operation switches it).
pub fn session_config(client: &Value, target: Arc<Mutex<String>>) -> Result<SessionConfig, String> {
    let url = target.lock().unwrap_or_else(|e| e.into_inner()).clone();
    let options: SessionOptions =
        serde_json::from_value(client.clone()).map_err(|e| format!("client settings: {e}"))?;
    let mut config = options.into_config(url).map_err(|e| e.to_string())?;
    config.request_source = RequestSource::Provided;
    Ok(config)
}

// ---------------------------------------------------------------------- events as JSON

/// The name scenarios use for a cause (the core's canonical name).
pub fn cause_name(c: &Cause) -> &'static str {
    c.as_str()
}

fn cause_fields(c: &Cause, obj: &mut Map<String, Value>) {
    obj.insert("cause".into(), cause_name(c).into());
    if let Cause::Transport { kind, .. } = c {
        obj.insert("kind".into(), kind.as_str().into());
    }
    obj.insert("why".into(), c.to_string().into());
}

/// A session event as the scenario table sees it: `{"event": "closed", "code": 1006,
/// "cause": "closed", "will_reconnect": true, …}`.
pub fn event_json(e: &SessionEvent) -> Value {
    let mut obj = Map::new();
    let mut put = |k: &str, v: Value| {
        obj.insert(k.into(), v);
    };
    put("event", e.as_str().into());
    match e {
        SessionEvent::StateChanged { from, to } => {
            put("from", from.as_str().into());
            put("to", to.as_str().into());
        }
        SessionEvent::Open {
            attempt,
            recovered,
            subprotocol,
        } => {
            put("attempt", (*attempt).into());
            put("recovered", (*recovered).into());
            put("subprotocol", json!(subprotocol));
        }
        SessionEvent::Migrated { recovered } => {
            put("recovered", (*recovered).into());
        }
        SessionEvent::Message(m) => match m {
            Message::Text(t) => put("text", t.as_str().into()),
            Message::Binary(b) => put(
                "binary",
                b.iter().map(|x| format!("{x:02x}")).collect::<String>().into(),
            ),
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
            let detail = match err {
                SessionError::MigrationFailed { cause, retry_in_ms } => format!("{cause}; retry in {retry_in_ms} ms"),
                SessionError::RecoveryGap { expected, got } => format!("expected {expected}, got {got}"),
                SessionError::Envelope(why) | SessionError::Unsendable(why) => why.clone(),
                other => other.to_string(),
            };
            put("error", err.as_str().into());
            put("detail", detail.into());
        }
        // Events a newer core may add: the name is all a runner can know.
        _ => {}
    }
    Value::Object(obj)
}

// ---------------------------------------------------------------------- the interpreter

/// Keys of a step that say how to match rather than what to match.
const CONTROL_KEYS: &[&str] = &[
    "expect",
    "check",
    "event",
    "within_ms",
    "count",
    "note",
    "eq",
    "min",
    "max",
    "seq",
];

struct Run {
    handle: FaultHandle,
    host: SessionHost,
    target: Arc<Mutex<String>>,
    server_url: String,
    unused_url: String,
    /// Every event so far.
    history: Vec<Value>,
    /// Events before this index have been looked at by an `expect`.
    cursor: usize,
    /// Checks look at events from this index on (`mark`).
    mark: usize,
    verbose: bool,
    started: Instant,
}

fn deadline(ms: u64) -> Instant {
    Instant::now() + Duration::from_millis(ms)
}

fn within(step: &Value) -> u64 {
    step["within_ms"].as_u64().unwrap_or(5_000)
}

/// Whether `event` is a `name` event with every non-control field of `step` equal.
fn matches(event: &Value, name: &str, step: &Value) -> bool {
    if event["event"] != name {
        return false;
    }
    step.as_object().is_none_or(|fields| {
        fields
            .iter()
            .filter(|(k, _)| !CONTROL_KEYS.contains(&k.as_str()))
            .all(|(k, v)| event.get(k) == Some(v))
    })
}

/// The `seq` spec `{"prefix": "m", "from": 1, "to": 3}` as `["m1", "m2", "m3"]`.
fn sequence(spec: &Value) -> Result<Vec<Value>, String> {
    let prefix = spec["prefix"].as_str().unwrap_or("");
    let from = spec["from"].as_u64().ok_or("seq.from: not a number")?;
    let to = spec["to"].as_u64().ok_or("seq.to: not a number")?;
    Ok((from..=to).map(|i| Value::String(format!("{prefix}{i}"))).collect())
}

/// Checks `value` against the step's `eq` / `min` / `max` / `seq` (`min`/`max` count
/// the elements of an array).
fn compare(what: &str, value: &Value, step: &Value) -> Result<(), String> {
    let n = match value {
        Value::Array(a) => Some(a.len() as u64),
        v => v.as_u64(),
    };
    if let Some(eq) = step.get("eq") {
        if value != eq {
            return Err(format!("{what} is {value}, expected {eq}"));
        }
    }
    if let Some(seq) = step.get("seq") {
        let want = Value::Array(sequence(seq)?);
        if *value != want {
            return Err(format!("{what} is {}, expected {}", short(value), short(&want)));
        }
    }
    if let Some(min) = step.get("min").and_then(Value::as_u64) {
        if n.is_none_or(|n| n < min) {
            return Err(format!("{what} is {}, expected at least {min}", short(value)));
        }
    }
    if let Some(max) = step.get("max").and_then(Value::as_u64) {
        if n.is_none_or(|n| n > max) {
            return Err(format!("{what} is {}, expected at most {max}", short(value)));
        }
    }
    Ok(())
}

/// A JSON value cut to a readable length.
fn short(v: &Value) -> String {
    let s = v.to_string();
    if s.len() <= 300 {
        s
    } else {
        let mut end = 300;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        format!("{}… ({} chars)", &s[..end], s.len())
    }
}

impl Run {
    fn steps(&mut self, steps: &[Value]) -> Result<(), String> {
        for (i, step) in steps.iter().enumerate() {
            if self.verbose {
                println!("  {:>6} ms step {}: {step}", self.started.elapsed().as_millis(), i + 1);
            }
            self.step(step)
                .map_err(|why| format!("step {} {}: {why}", i + 1, short(step)))?;
        }
        Ok(())
    }

    fn step(&mut self, step: &Value) -> Result<(), String> {
        if let Some(line) = step.get("server").and_then(Value::as_str) {
            let answer = self.handle.command(line);
            return if answer == "ok" || answer.starts_with('{') {
                Ok(())
            } else {
                Err(format!("server answered {answer:?}"))
            };
        }
        if let Some(op) = step.get("client").and_then(Value::as_str) {
            return self.client(op, step);
        }
        if let Some(name) = step.get("expect").and_then(Value::as_str) {
            return if name == "released" {
                self.expect_released(within(step))
            } else {
                self.expect(name, step)
            };
        }
        if let Some(names) = step.get("expect_quiet").and_then(Value::as_array) {
            return self.expect_quiet(names, step["for_ms"].as_u64().unwrap_or(1_000));
        }
        if let Some(field) = step.get("expect_server").and_then(Value::as_str) {
            return self.expect_server(field, step);
        }
        if let Some(what) = step.get("check").and_then(Value::as_str) {
            return self.check(what, step);
        }
        if let Some(ms) = step.get("wait_ms").and_then(Value::as_u64) {
            self.drive_until(deadline(ms));
            return Ok(());
        }
        if step.get("mark").is_some() {
            self.mark = self.history.len();
            self.cursor = self.history.len();
            return Ok(());
        }
        if let Some(n) = step.get("repeat").and_then(Value::as_u64) {
            let inner = step["steps"].as_array().ok_or("repeat: no steps")?;
            for i in 0..n {
                let verbose_now = self.verbose && i == 0;
                let saved = std::mem::replace(&mut self.verbose, verbose_now);
                let result = self.steps(inner);
                self.verbose = saved;
                result.map_err(|why| format!("iteration {} of {n}: {why}", i + 1))?;
            }
            return Ok(());
        }
        Err("unknown step".into())
    }

    // ------------------------------------------------------------------ driving

    /// Takes the next event from the host (before `until`) into the history.
    fn pull(&mut self, until: Instant) -> bool {
        match self.host.next_event(until) {
            Some(e) => {
                let v = event_json(&e);
                if self.verbose && v["event"] != "message" {
                    println!("    {:>6} ms  event {v}", self.started.elapsed().as_millis());
                }
                self.history.push(v);
                true
            }
            None => false,
        }
    }

    fn drive_until(&mut self, until: Instant) {
        while self.pull(until) {}
    }

    /// Closes the client and waits a little for it to finish (best effort).
    fn finish(&mut self) {
        self.host.close(1000, "scenario over");
        let until = deadline(2_000);
        while !self.host.is_released() && Instant::now() < until {
            self.pull(Instant::now() + Duration::from_millis(10).min(until - Instant::now()));
        }
        self.host.shutdown();
    }

    // ------------------------------------------------------------------ steps

    fn client(&mut self, op: &str, step: &Value) -> Result<(), String> {
        let words: Vec<&str> = op.split_whitespace().collect();
        let want = step["result"].as_str().unwrap_or("ok");
        match words.as_slice() {
            ["connect"] => self.host.connect(),
            ["reconnect"] => self.host.reconnect(),
            ["disconnect_warning"] => self.host.disconnect_warning(),
            ["close", code, reason @ ..] => {
                let code = code.parse().map_err(|_| "close: code must be a number")?;
                self.host.close(code, &reason.join(" "));
            }
            ["send", text @ ..] => {
                let result = self.host.send(Message::text(text.join(" ")));
                check_send(result, want)?;
            }
            ["send_many", n, prefix] => {
                let n: u64 = n.parse().map_err(|_| "send_many: n must be a number")?;
                for i in 1..=n {
                    let result = self.host.send(Message::text(format!("{prefix}{i}")));
                    check_send(result, want).map_err(|why| format!("message {prefix}{i}: {why}"))?;
                }
            }
            ["target", "server"] => *self.target.lock().unwrap_or_else(|e| e.into_inner()) = self.server_url.clone(),
            ["target", "unused"] => *self.target.lock().unwrap_or_else(|e| e.into_inner()) = self.unused_url.clone(),
            _ => return Err(format!("unknown client operation {op:?}")),
        }
        Ok(())
    }

    fn expect(&mut self, name: &str, step: &Value) -> Result<(), String> {
        let ms = within(step);
        let until = deadline(ms);
        let count = step["count"].as_u64().unwrap_or(1);
        let start = self.cursor;
        let mut found = 0;
        loop {
            while self.cursor < self.history.len() {
                let e = &self.history[self.cursor];
                self.cursor += 1;
                if matches(e, name, step) {
                    found += 1;
                    if found == count {
                        return Ok(());
                    }
                }
            }
            if !self.pull(until) {
                let seen: Vec<String> = self.history[start..]
                    .iter()
                    .filter(|e| e["event"] != "message")
                    .rev()
                    .take(8)
                    .map(|e| e.to_string())
                    .collect();
                return Err(format!(
                    "no{} match within {ms} ms ({found} of {count}); last events, newest first: [{}]",
                    if found > 0 { " further" } else { "" },
                    seen.join(", ")
                ));
            }
        }
    }

    fn expect_quiet(&mut self, names: &[Value], ms: u64) -> Result<(), String> {
        let start = self.history.len();
        self.drive_until(deadline(ms));
        match self.history[start..].iter().find(|e| names.contains(&e["event"])) {
            Some(e) => Err(format!("unexpected event {e}")),
            None => Ok(()),
        }
    }

    fn expect_released(&mut self, ms: u64) -> Result<(), String> {
        let until = deadline(ms);
        loop {
            if self.host.is_released() {
                return Ok(());
            }
            let now = Instant::now();
            if now >= until {
                let s = self.host.session();
                return Err(format!(
                    "still running after {ms} ms: {} sockets, {} threads, timer {:?}, transports {:?}",
                    self.host.live_sockets(),
                    self.host.live_threads(),
                    s.poll_timeout(),
                    s.transports()
                ));
            }
            self.pull((now + Duration::from_millis(10)).min(until));
        }
    }

    fn expect_server(&mut self, field: &str, step: &Value) -> Result<(), String> {
        let ms = within(step);
        let until = deadline(ms);
        loop {
            let status = self.handle.status().to_json();
            let value = status
                .get(field)
                .ok_or(format!("the server has no status field {field:?}"))?;
            let outcome = compare(&format!("server {field}"), value, step);
            if outcome.is_ok() || Instant::now() >= until {
                return outcome.map_err(|why| format!("{why} (after {ms} ms)"));
            }
            // Keep the client going while the server catches up.
            let slice = (Instant::now() + Duration::from_millis(10)).min(until);
            self.drive_until(slice);
        }
    }

    fn since_mark(&self) -> &[Value] {
        &self.history[self.mark..]
    }

    fn check(&mut self, what: &str, step: &Value) -> Result<(), String> {
        let session = self.host.session();
        match what {
            "messages" => {
                let texts: Vec<Value> = self
                    .since_mark()
                    .iter()
                    .filter(|e| e["event"] == "message")
                    .map(|e| e.get("text").cloned().unwrap_or(Value::Null))
                    .collect();
                compare("messages since the mark", &Value::Array(texts), step)
            }
            "count" => {
                let name = step["event"].as_str().ok_or("count: which event?")?;
                let n = self.since_mark().iter().filter(|e| matches(e, name, step)).count();
                compare(&format!("{name} events since the mark"), &json!(n), step)
            }
            "reconnect_delays" => {
                let delays: Vec<u64> = self
                    .since_mark()
                    .iter()
                    .filter(|e| e["event"] == "reconnecting")
                    .filter_map(|e| e["delay_ms"].as_u64())
                    .collect();
                let lo = step["min_ms"].as_u64().unwrap_or(0);
                let hi = step["max_ms"].as_u64().unwrap_or(u64::MAX);
                if let Some(d) = delays.iter().find(|&&d| d < lo || d > hi) {
                    return Err(format!("delay {d} ms outside [{lo}, {hi}] in {delays:?}"));
                }
                let min_count = step["min_count"].as_u64().unwrap_or(1) as usize;
                if delays.len() < min_count {
                    return Err(format!("{} delays, expected at least {min_count}", delays.len()));
                }
                let mut distinct = delays.clone();
                distinct.sort_unstable();
                distinct.dedup();
                let min_distinct = step["min_distinct"].as_u64().unwrap_or(1) as usize;
                if distinct.len() < min_distinct {
                    return Err(format!("only {} distinct delays in {delays:?}", distinct.len()));
                }
                Ok(())
            }
            "state" => {
                let is = session.state().as_str();
                compare("state", &json!(is), &json!({ "eq": step["is"] }))
            }
            "timer" => {
                let armed = session.poll_timeout().is_some();
                compare("timer armed", &json!(armed), &json!({ "eq": step["armed"] }))
            }
            "transports" => compare("session transports", &json!(session.transports().len()), step),
            "sockets" => compare("host sockets", &json!(self.host.live_sockets()), step),
            "queued" => compare("queued messages", &json!(session.queued_messages()), step),
            "make_before_break" => self.check_make_before_break(),
            other => Err(format!("unknown check {other:?}")),
        }
    }

    /// Some transport connected while its predecessor was still held.
    fn check_make_before_break(&self) -> Result<(), String> {
        let log = self.host.transport_log();
        let closed_at = |id| log.iter().position(|n| *n == TransportNote::Closed(id));
        let overlap = log.iter().enumerate().any(|(i, n)| match n {
            TransportNote::Connected(new) => log[..i].iter().any(|m| match m {
                TransportNote::Connected(old) if old < new => closed_at(*old).is_none_or(|c| c > i),
                _ => false,
            }),
            _ => false,
        });
        if overlap {
            Ok(())
        } else {
            let mut s = String::new();
            for n in log {
                let _ = write!(s, "{n:?} ");
            }
            Err(format!("no transport connected before its predecessor closed: {s}"))
        }
    }
}

fn check_send(result: Result<(), SendError>, want: &str) -> Result<(), String> {
    let got = match &result {
        Ok(()) => "ok",
        Err(e) => e.as_str(),
    };
    if got == want {
        Ok(())
    } else {
        Err(format!("send returned {result:?}, expected {want}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matching_and_comparing() {
        let e = json!({"event": "closed", "code": 1006, "will_reconnect": true, "cause": "closed"});
        assert!(matches(
            &e,
            "closed",
            &json!({"expect": "closed", "code": 1006, "within_ms": 5})
        ));
        assert!(!matches(&e, "closed", &json!({"expect": "closed", "code": 1000})));
        assert!(!matches(&e, "open", &json!({})));
        assert!(compare(
            "x",
            &json!(["m1", "m2"]),
            &json!({"seq": {"prefix": "m", "from": 1, "to": 2}})
        )
        .is_ok());
        assert!(compare(
            "x",
            &json!(["m2", "m1"]),
            &json!({"seq": {"prefix": "m", "from": 1, "to": 2}})
        )
        .is_err());
        assert!(compare("x", &json!(3), &json!({"min": 3, "max": 3})).is_ok());
        assert!(compare("x", &json!([1, 2]), &json!({"min": 3})).is_err());
        assert!(compare("x", &json!("a"), &json!({"eq": "b"})).is_err());
    }

    #[test]
    fn the_shipped_table_parses_and_builds_configs() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/scenarios.json");
        let table = Table::load(path).unwrap();
        assert_eq!(table.scenarios.len(), 8);
        for s in &table.scenarios {
            let target = Arc::new(Mutex::new("ws://127.0.0.1:1/ws".to_string()));
            session_config(&table.settings(s, "client"), target).unwrap();
            fault_config(&table.settings(s, "server")).unwrap();
        }
    }

    /// The two cheapest scenarios of the table, end to end (`make scenarios` runs all).
    #[test]
    fn queue_and_close_scenarios_pass() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/scenarios.json");
        let table = Table::load(path).unwrap();
        for s in table.scenarios.iter().filter(|s| s["id"] == "S7" || s["id"] == "S8") {
            table.run(s, false).unwrap_or_else(|why| panic!("{}: {why}", s["id"]));
        }
    }
}
