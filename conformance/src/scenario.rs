//! The interpreter of `conformance/scenarios/scenarios.json`: Session scenarios as data,
//! run against any host through the scenario host protocol.
//!
//! A scenario is client settings plus a list of steps in a small vocabulary (server
//! commands, client operations, expectations and checks — see
//! `conformance/scenarios/README.md`). This module knows the vocabulary and nothing about
//! any particular scenario or host: it starts a fresh in-process fault server per scenario
//! and a host *agent* process ([`AgentProcess`]), sends the agent commands as JSON lines
//! on its standard input and reads its replies and events (JSON lines, canonical
//! snake_case names) from its standard output. Everything a step compares is an event
//! line, a reply line, or a field of the fault server's `status` line. The Rust agent is
//! the `scenario-agent` binary ([`crate::agent`]); the Python, Node and browser bindings
//! each add one.

use crate::fault_server::{FaultConfig, FaultHandle, FaultServer};
use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

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

    /// The table as it applies to `host` (the runner's `--host-name`: `rust`, `node`,
    /// `python`, `browser`, …): every step field written as per-host alternatives,
    /// `{"default": X, "<host>": Y, …}`, becomes the host's value, or `X`. For what a
    /// host cannot observe (a browser's WebSocket reports every failure before open the
    /// same way); the table stays one table.
    pub fn for_host(mut self, host: &str) -> Self {
        fn resolve(steps: &mut [Value], host: &str) {
            for step in steps {
                let Some(fields) = step.as_object_mut() else { continue };
                for value in fields.values_mut() {
                    if let Some(alternatives) = value.as_object().filter(|o| o.contains_key("default")) {
                        *value = alternatives.get(host).unwrap_or(&alternatives["default"]).clone();
                    }
                }
                if let Some(inner) = fields.get_mut("steps").and_then(Value::as_array_mut) {
                    resolve(inner, host);
                }
            }
        }
        for scenario in &mut self.scenarios {
            if let Some(steps) = scenario["steps"].as_array_mut() {
                resolve(steps, host);
            }
        }
        self
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

    /// Runs one scenario against a fresh [`FaultServer`] and a fresh agent started with
    /// `agent` (a program and its arguments).
    pub fn run(&self, scenario: &Value, agent: &[String], verbose: bool) -> Result<(), String> {
        let server_settings = self.settings(scenario, "server");
        let options = self.settings(scenario, "client");
        let server = FaultServer::start_with(fault_config(&server_settings)?).map_err(|e| e.to_string())?;
        let server_url = server.url("/ws");
        let unused_url = format!("ws://{}/ws", unused_addr().map_err(|e| e.to_string())?);
        let host = AgentProcess::start(agent)?;
        let mut run = Run {
            handle: server.handle(),
            host,
            options,
            target: server_url.clone(),
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
        let finished = run.finish();
        drop(server);
        result.and(finished)
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

// ---------------------------------------------------------------------- the host protocol

/// How long an agent may take to answer one command.
const REPLY_TIMEOUT: Duration = Duration::from_secs(10);

/// A line the agent wrote.
enum Line {
    /// A JSON object: an event (`event`) or a reply (`reply`).
    Json(Value),
    /// Not JSON, or the agent's output ended (`None`).
    Bad(Option<String>),
}

/// A host agent: a child process speaking the scenario host protocol (JSON lines; see
/// `conformance/scenarios/README.md`). Commands go to its standard input; its standard
/// output is read by a thread into a channel, so waiting for events has a deadline.
pub struct AgentProcess {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: Receiver<Line>,
    /// Events that arrived while a reply was awaited.
    events: std::collections::VecDeque<Value>,
    next_id: u64,
    /// Set when the agent broke the protocol or ended; every later call fails with it.
    broken: Option<String>,
}

impl AgentProcess {
    /// Starts `argv[0]` with the arguments `argv[1..]` (standard error is inherited).
    pub fn start(argv: &[String]) -> Result<Self, String> {
        let (program, args) = argv.split_first().ok_or("no agent command")?;
        let mut child = Command::new(program)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| format!("cannot start agent {program:?}: {e}"))?;
        let stdout = child.stdout.take().ok_or("agent has no stdout")?;
        let (tx, lines) = mpsc::channel();
        std::thread::Builder::new()
            .name("agent-stdout".into())
            .spawn(move || {
                for line in BufReader::new(stdout).lines() {
                    let Ok(line) = line else { break };
                    if line.trim().is_empty() {
                        continue;
                    }
                    let parsed = match serde_json::from_str::<Value>(&line) {
                        Ok(v) if v.is_object() => Line::Json(v),
                        _ => Line::Bad(Some(line)),
                    };
                    if tx.send(parsed).is_err() {
                        return;
                    }
                }
                let _ = tx.send(Line::Bad(None));
            })
            .map_err(|e| e.to_string())?;
        Ok(Self {
            stdin: child.stdin.take(),
            child,
            lines,
            events: Default::default(),
            next_id: 0,
            broken: None,
        })
    }

    fn fail(&mut self, why: String) -> String {
        self.broken.get_or_insert(why).clone()
    }

    /// Reads one line before `until`: `Ok(None)` if none came in time.
    fn read(&mut self, until: Instant) -> Result<Option<Value>, String> {
        if let Some(why) = &self.broken {
            return Err(why.clone());
        }
        match self.lines.recv_timeout(until.saturating_duration_since(Instant::now())) {
            Ok(Line::Json(v)) => Ok(Some(v)),
            Ok(Line::Bad(Some(line))) => {
                Err(self.fail(format!("agent wrote a line that is not a JSON object: {line:?}")))
            }
            Ok(Line::Bad(None)) | Err(RecvTimeoutError::Disconnected) => {
                let status = self.child.try_wait().ok().flatten();
                Err(self.fail(format!("the agent's output ended (exit status {status:?})")))
            }
            Err(RecvTimeoutError::Timeout) => Ok(None),
        }
    }

    /// Sends a command (`{"cmd": NAME, …}`) and returns its reply (`ok` true; a reply
    /// with `ok` false is an error). Events that arrive meanwhile are kept in order for
    /// [`next_event`](Self::next_event).
    pub fn call(&mut self, mut command: Value) -> Result<Value, String> {
        if let Some(why) = &self.broken {
            return Err(why.clone());
        }
        self.next_id += 1;
        let id = self.next_id;
        command["id"] = id.into();
        let line = format!("{command}\n");
        let written = match self.stdin.as_mut() {
            Some(stdin) => stdin.write_all(line.as_bytes()).and_then(|()| stdin.flush()),
            None => Err(std::io::ErrorKind::BrokenPipe.into()),
        };
        if let Err(e) = written {
            return Err(self.fail(format!("cannot write to the agent: {e}")));
        }
        let until = Instant::now() + REPLY_TIMEOUT;
        loop {
            match self.read(until)? {
                Some(v) if v.get("event").is_some() => self.events.push_back(v),
                Some(v) if v.get("reply").is_some() => {
                    if v["id"] != id {
                        return Err(self.fail(format!("reply out of order: {v} (waiting for id {id})")));
                    }
                    if v["ok"] == true {
                        return Ok(v);
                    }
                    return Err(format!(
                        "{} failed: {}",
                        command["cmd"],
                        v["error"].as_str().unwrap_or("no reason given")
                    ));
                }
                Some(v) => return Err(self.fail(format!("agent line is neither event nor reply: {v}"))),
                None => return Err(self.fail(format!("no reply to {command} within {} s", REPLY_TIMEOUT.as_secs()))),
            }
        }
    }

    /// The next event line, waiting until `until` at most (`Ok(None)`: none came).
    pub fn next_event(&mut self, until: Instant) -> Result<Option<Value>, String> {
        if let Some(e) = self.events.pop_front() {
            return Ok(Some(e));
        }
        match self.read(until)? {
            Some(v) if v.get("event").is_some() => Ok(Some(v)),
            Some(v) => Err(self.fail(format!("unexpected line from the agent: {v}"))),
            None => Ok(None),
        }
    }

    /// Asks the agent to quit, closes its input and waits for it to exit (killing it
    /// after `grace`). Returns its exit status.
    pub fn stop(&mut self, grace: Duration) -> Option<std::process::ExitStatus> {
        if self.broken.is_none() {
            let _ = self.call(json!({"cmd": "quit"}));
        }
        drop(self.stdin.take());
        let until = Instant::now() + grace;
        loop {
            match self.child.try_wait() {
                Ok(Some(status)) => return Some(status),
                Ok(None) if Instant::now() < until => std::thread::sleep(Duration::from_millis(10)),
                _ => {
                    let _ = self.child.kill();
                    return self.child.wait().ok();
                }
            }
        }
    }
}

impl Drop for AgentProcess {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
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
    host: AgentProcess,
    /// The scenario's client settings: the `options` of the first `connect`.
    options: Value,
    /// Where the client's attempts go now (`target` steps switch it).
    target: String,
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
            return self.drive_until(deadline(ms));
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

    /// Takes the next event from the agent (before `until`) into the history.
    fn pull(&mut self, until: Instant) -> Result<bool, String> {
        match self.host.next_event(until)? {
            Some(v) => {
                if self.verbose && v["event"] != "message" {
                    println!("    {:>6} ms  event {v}", self.started.elapsed().as_millis());
                }
                self.history.push(v);
                Ok(true)
            }
            None => Ok(false),
        }
    }

    fn drive_until(&mut self, until: Instant) -> Result<(), String> {
        while self.pull(until)? {}
        Ok(())
    }

    /// Sends one command; `pull`s nothing (events wait in the agent process's queue).
    fn call(&mut self, command: Value) -> Result<Value, String> {
        self.host.call(command)
    }

    fn released(&mut self) -> Result<(bool, String), String> {
        let r = self.call(json!({"cmd": "released?"}))?;
        Ok((r["released"] == true, r["detail"].as_str().unwrap_or("").to_string()))
    }

    /// Closes the client, waits a little for it to finish, and stops the agent. Fails
    /// only if the agent broke the protocol or did not exit cleanly.
    fn finish(&mut self) -> Result<(), String> {
        if self
            .call(json!({"cmd": "close", "code": 1000, "reason": "scenario over"}))
            .is_ok()
        {
            let until = deadline(2_000);
            while Instant::now() < until {
                if !matches!(self.released(), Ok((false, _))) {
                    break;
                }
                let _ = self.pull(Instant::now() + Duration::from_millis(10));
            }
        }
        match self.host.stop(Duration::from_secs(5)) {
            Some(status) if status.success() => Ok(()),
            status => Err(format!("the agent did not exit cleanly: {status:?}")),
        }
    }

    // ------------------------------------------------------------------ steps

    fn client(&mut self, op: &str, step: &Value) -> Result<(), String> {
        let words: Vec<&str> = op.split_whitespace().collect();
        let want = step["result"].as_str().unwrap_or("ok");
        match words.as_slice() {
            ["connect"] => {
                let cmd = json!({"cmd": "connect", "url": self.target, "options": self.options});
                self.call(cmd)?;
            }
            [op @ ("reconnect" | "disconnect_warning")] => {
                self.call(json!({ "cmd": op }))?;
            }
            ["close", code, reason @ ..] => {
                let code: u16 = code.parse().map_err(|_| "close: code must be a number")?;
                self.call(json!({"cmd": "close", "code": code, "reason": reason.join(" ")}))?;
            }
            ["send", text @ ..] => self.send(&text.join(" "), want)?,
            ["send_many", n, prefix] => {
                let n: u64 = n.parse().map_err(|_| "send_many: n must be a number")?;
                for i in 1..=n {
                    self.send(&format!("{prefix}{i}"), want)
                        .map_err(|why| format!("message {prefix}{i}: {why}"))?;
                }
            }
            ["target", which @ ("server" | "unused")] => {
                self.target = if *which == "server" {
                    self.server_url.clone()
                } else {
                    self.unused_url.clone()
                };
                self.call(json!({"cmd": "target", "url": self.target}))?;
            }
            _ => return Err(format!("unknown client operation {op:?}")),
        }
        Ok(())
    }

    fn send(&mut self, text: &str, want: &str) -> Result<(), String> {
        let reply = self.call(json!({"cmd": "send", "text": text}))?;
        let got = reply["result"].as_str().unwrap_or("?");
        if got == want {
            Ok(())
        } else {
            Err(format!("send returned {got:?}, expected {want:?}"))
        }
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
            if !self.pull(until)? {
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
        self.drive_until(deadline(ms))?;
        match self.history[start..].iter().find(|e| names.contains(&e["event"])) {
            Some(e) => Err(format!("unexpected event {e}")),
            None => Ok(()),
        }
    }

    fn expect_released(&mut self, ms: u64) -> Result<(), String> {
        let until = deadline(ms);
        loop {
            let (released, detail) = self.released()?;
            if released {
                return Ok(());
            }
            let now = Instant::now();
            if now >= until {
                return Err(format!("still running after {ms} ms: {detail}"));
            }
            self.pull((now + Duration::from_millis(10)).min(until))?;
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
            self.drive_until(slice)?;
        }
    }

    fn since_mark(&self) -> &[Value] {
        &self.history[self.mark..]
    }

    fn check(&mut self, what: &str, step: &Value) -> Result<(), String> {
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
                let state = self.call(json!({"cmd": "state?"}))?;
                compare("state", &state["state"], &json!({ "eq": step["is"] }))
            }
            "timer" => {
                let state = self.call(json!({"cmd": "state?"}))?;
                compare("timer armed", &state["timer_armed"], &json!({ "eq": step["armed"] }))
            }
            "transports" | "sockets" | "queued" => {
                let state = self.call(json!({"cmd": "state?"}))?;
                compare(what, &state[what], step)
            }
            "make_before_break" => {
                let log = self.call(json!({"cmd": "transport_log?"}))?;
                make_before_break(&log["log"])
            }
            other => Err(format!("unknown check {other:?}")),
        }
    }
}

/// Whether, in a host's transport log (`[{"note": "requested"|"connected"|"closed",
/// "transport": N}, …]`, ids increasing), some transport connected while an older one
/// was still held.
fn make_before_break(log: &Value) -> Result<(), String> {
    let notes: Vec<(&str, u64)> = log
        .as_array()
        .ok_or("transport_log?: no log")?
        .iter()
        .map(|n| (n["note"].as_str().unwrap_or(""), n["transport"].as_u64().unwrap_or(0)))
        .collect();
    let closed_at = |id| notes.iter().position(|&n| n == ("closed", id));
    let overlap = notes.iter().enumerate().any(|(i, &(note, new))| {
        note == "connected"
            && notes[..i]
                .iter()
                .any(|&(n, old)| n == "connected" && old < new && closed_at(old).is_none_or(|c| c > i))
    });
    if overlap {
        Ok(())
    } else {
        Err(format!("no transport connected before its predecessor closed: {log}"))
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
    fn the_shipped_table_parses() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/scenarios.json");
        let table = Table::load(path).unwrap();
        assert_eq!(table.scenarios.len(), 8);
        for s in &table.scenarios {
            fault_config(&table.settings(s, "server")).unwrap();
        }
        assert!(Table::parse(r#"{"scenarios": [{"id": "X"}]}"#).is_err());
    }

    #[test]
    fn per_host_alternatives_resolve_for_the_host() {
        let table = Table::parse(
            r#"{"scenarios": [{"id": "X", "steps": [
                {"expect": "reconnecting", "kind": {"default": "refused", "browser": "other"}},
                {"repeat": 2, "steps": [{"expect": "reconnecting", "cause": {"default": "a", "node": "b"}}]},
                {"expect_server": "hung", "seq": {"prefix": "m", "from": 1, "to": 2}}
            ]}]}"#,
        )
        .unwrap();
        let steps = |host: &str| table.clone().for_host(host).scenarios[0]["steps"].clone();
        let (rust, browser, node) = (steps("rust"), steps("browser"), steps("node"));
        assert_eq!(rust[0]["kind"], "refused");
        assert_eq!(browser[0]["kind"], "other");
        assert_eq!(rust[1]["steps"][0]["cause"], "a");
        assert_eq!(node[1]["steps"][0]["cause"], "b");
        assert_eq!(browser[2]["seq"]["prefix"], "m", "objects without \"default\" stay");
        let shipped = Table::load(concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/scenarios.json")).unwrap();
        let s6 = |host: &str| {
            shipped
                .clone()
                .for_host(host)
                .scenarios
                .iter()
                .find(|s| s["id"] == "S6")
                .unwrap()["steps"]
                .to_string()
        };
        assert!(s6("rust").contains(r#""kind":"refused""#) && s6("rust").contains("handshake_timeout"));
        assert!(s6("browser").contains(r#""kind":"other""#) && !s6("browser").contains("handshake_timeout"));
        assert_eq!(s6("rust"), s6("python"));
    }

    #[test]
    fn make_before_break_reads_the_transport_log() {
        let log = |notes: &[(&str, u64)]| {
            Value::Array(notes.iter().map(|(n, t)| json!({"note": n, "transport": t})).collect())
        };
        let overlap = log(&[
            ("requested", 1),
            ("connected", 1),
            ("requested", 2),
            ("connected", 2),
            ("closed", 1),
        ]);
        assert!(make_before_break(&overlap).is_ok());
        let gap = log(&[
            ("requested", 1),
            ("connected", 1),
            ("closed", 1),
            ("requested", 2),
            ("connected", 2),
        ]);
        assert!(make_before_break(&gap).is_err());
        assert!(make_before_break(&json!(null)).is_err());
    }

    fn sh(script: &str) -> Vec<String> {
        vec!["/bin/sh".into(), "-c".into(), script.into()]
    }

    #[test]
    fn an_agent_that_breaks_the_protocol_fails_the_call_without_hanging() {
        let mut agent = AgentProcess::start(&sh("read line; echo 'not json'; sleep 5")).unwrap();
        let err = agent.call(json!({"cmd": "state?"})).unwrap_err();
        assert!(err.contains("not a JSON object"), "{err}");
        // Broken for good: later calls fail at once with the same reason.
        assert_eq!(agent.call(json!({"cmd": "state?"})).unwrap_err(), err);
        let mut gone = AgentProcess::start(&sh("exit 3")).unwrap();
        let err = gone.next_event(deadline(5_000)).unwrap_err();
        assert!(err.contains("output ended"), "{err}");
        assert!(AgentProcess::start(&["/nonexistent/agent".to_string()]).is_err());
    }

    #[test]
    fn replies_are_matched_by_id_and_events_kept_in_order() {
        // A scripted agent: an event, then the reply to command 1, then another event.
        let script = r#"read line; echo '{"event":"open","attempt":1}'; echo '{"reply":"state?","id":1,"ok":true,"state":"open"}'; echo '{"event":"closed","code":1000}'; read line"#;
        let mut agent = AgentProcess::start(&sh(script)).unwrap();
        let reply = agent.call(json!({"cmd": "state?"})).unwrap();
        assert_eq!(reply["state"], "open");
        assert_eq!(agent.next_event(deadline(5_000)).unwrap().unwrap()["event"], "open");
        assert_eq!(agent.next_event(deadline(5_000)).unwrap().unwrap()["event"], "closed");
        assert_eq!(agent.next_event(deadline(50)).unwrap(), None);
    }
}
