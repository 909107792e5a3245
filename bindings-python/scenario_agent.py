"""The Python host for the scenario table (S1–S8): speaks the host protocol of
conformance/scenarios/README.md (JSON lines: commands on stdin, replies and events on
stdout) over the binding's public pieces — the core's ``Session`` (``steadysock._core``)
and ``SessionHost``, the same socket/timer half ``WebSocketApp`` runs on.

    bash scripts/scenarios.sh --host "target/python-venv/bin/python bindings-python/scenario_agent.py" \\
        --host-name python

Events are rendered with the core's canonical names; the runner judges them.
"""

from __future__ import annotations

import json
import os
import sys
import time
from typing import Any, Optional

from steadysock import _core
from steadysock._session_host import SessionHost
from steadysock._socket import sock_opt
from steadysock._transport import ProxyInfo

STARTED = time.monotonic()


def t_ms() -> int:
    return int((time.monotonic() - STARTED) * 1000)


def emit(obj: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def cause_fields(obj: dict[str, Any], cause: str, text: str, kind: Optional[str]) -> None:
    obj["cause"] = cause
    obj["why"] = text
    if kind is not None:
        obj["kind"] = kind


def render(ev: tuple[Any, ...]) -> dict[str, Any]:
    """A session event tuple as the host protocol's event object."""
    name = ev[0]
    obj: dict[str, Any] = {"event": name}
    if name == "state_changed":
        obj.update({"from": ev[1], "to": ev[2]})
    elif name == "open":
        obj.update({"attempt": ev[1], "recovered": ev[2], "subprotocol": ev[3]})
    elif name == "migrated":
        obj["recovered"] = ev[1]
    elif name == "message":
        data = ev[1]
        if isinstance(data, str):
            obj["text"] = data
        else:
            obj["binary"] = bytes(data).hex()
    elif name == "closed":
        _, code, reason, cause, text, will_reconnect, kind = ev
        obj.update({"code": code, "reason": reason, "will_reconnect": will_reconnect})
        cause_fields(obj, cause, text, kind)
    elif name == "reconnecting":
        _, attempt, delay_ms, cause, text, kind = ev
        obj.update({"attempt": attempt, "delay_ms": delay_ms})
        cause_fields(obj, cause, text, kind)
    elif name == "gave_up":
        _, attempts, cause, text, kind = ev
        obj["attempts"] = attempts
        cause_fields(obj, cause, text, kind)
    elif name == "error":
        obj.update({"error": ev[1], "detail": ev[2]})
    obj["t_ms"] = t_ms()
    return obj


class Agent:
    def __init__(self) -> None:
        self.host: Optional[SessionHost] = None
        self.target = ""
        self.options: dict[str, Any] = {}
        self.buffer = b""
        self.quit = False

    def request_for(self, _tid: int, _attempt: int) -> tuple[str, list[tuple[str, str]], list[str]]:
        headers = [(str(n), str(v)) for n, v in _pairs(self.options.get("headers"))]
        subprotocols = self.options.get("subprotocols") or []
        if isinstance(subprotocols, str):
            subprotocols = [subprotocols]
        return self.target, headers, list(subprotocols)

    def command(self, cmd: dict[str, Any]) -> dict[str, Any]:
        name = str(cmd.get("cmd", ""))
        try:
            fields = self.run(name, cmd)
            reply: dict[str, Any] = {"ok": True, **fields}
        except Exception as e:  # noqa: BLE001 - a wrong command is a reply, not a crash
            reply = {"ok": False, "error": str(e)}
        reply["reply"] = name
        if "id" in cmd:
            reply["id"] = cmd["id"]
        return reply

    def _host(self) -> SessionHost:
        if self.host is None:
            raise ValueError("no session yet: connect first")
        return self.host

    def run(self, name: str, cmd: dict[str, Any]) -> dict[str, Any]:
        if name == "connect":
            if "url" in cmd:
                self.target = cmd["url"]
            if self.host is None:
                self.options = dict(cmd.get("options") or {})
                options = dict(self.options)
                options["request_source"] = "provided"
                session = _core.Session(self.target, json.dumps(options), 0)
                opts = sock_opt(None, None)
                opts.timeout = 10
                self.host = SessionHost(
                    session, lambda ev: emit(render(ev)), opts, ProxyInfo(None, 0, None, [], None), self.request_for
                )
                self.host.watch(sys.stdin.buffer, self.read_commands)
            self._host().call("connect")
        elif name == "target":
            self.target = cmd["url"]
        elif name == "reconnect":
            self._host().call("reconnect")
        elif name == "disconnect_warning":
            self._host().call("disconnect_warning")
        elif name == "close":
            self._host().call("close", int(cmd.get("code", 1000)), str(cmd.get("reason", "")))
        elif name == "send":
            host = self._host()
            try:
                if "text" in cmd:
                    host.call("send_text", cmd["text"])
                elif "binary" in cmd:
                    host.call("send_binary", bytes.fromhex(cmd["binary"]))
                else:
                    raise ValueError("send: needs text or binary")
            except _core.EngineError as e:
                return {"result": e.args[0]}
            return {"result": "ok"}
        elif name == "state?":
            if self.host is None:
                return {"state": "idle", "timer_armed": False, "transports": 0, "queued": 0, "sockets": 0, "threads": 0}
            s = self.host.session
            return {
                "state": s.state,
                "timer_armed": s.poll_timeout() is not None,
                "transports": s.transport_count,
                "queued": s.queued_messages,
                "sockets": len(self.host.sockets),
                "threads": 0,
            }
        elif name == "released?":
            if self.host is None:
                return {"released": True, "detail": "no session"}
            s = self.host.session
            released = not self.host.sockets and s.poll_timeout() is None and s.transport_count == 0
            detail = f"{len(self.host.sockets)} sockets, timer {s.poll_timeout()}, transports {s.transport_count}"
            return {"released": released, "detail": detail}
        elif name == "transport_log?":
            log = list(self.host.transport_log) if self.host is not None else []
            return {"log": [{"note": note, "transport": tid} for note, tid in log]}
        elif name == "quit":
            self.quit = True
            if self.host is not None:
                self.host.running = False
        else:
            raise ValueError(f"unknown command {name!r}")
        return {}

    def read_commands(self) -> None:
        """Reads what stdin has (called by the loop when it is readable, or at start)."""
        chunk = os.read(sys.stdin.fileno(), 65536)
        if not chunk:
            self.quit = True
            if self.host is not None:
                self.host.running = False
            return
        self.buffer += chunk
        while b"\n" in self.buffer:
            line, self.buffer = self.buffer.split(b"\n", 1)
            if line.strip():
                emit(self.command(json.loads(line)))
            if self.quit:
                if self.host is not None:
                    self.host.running = False
                return


def _pairs(headers: Any) -> list[tuple[str, str]]:
    if not headers:
        return []
    if isinstance(headers, dict):
        return [(k, v) for k, v in headers.items()]
    out: list[tuple[str, str]] = []
    for h in headers:
        if isinstance(h, str):
            n, _, v = h.partition(":")
            out.append((n.strip(), v.strip()))
        else:
            out.append((str(h[0]), str(h[1])))
    return out


def main() -> int:
    agent = Agent()
    # Before the session exists, commands are read in a plain loop; afterwards the
    # session host's loop waits for stdin together with its sockets and timer.
    while not agent.quit:
        if agent.host is None:
            agent.read_commands()
        else:
            agent.host.run()
            if not agent.quit:
                continue
    if agent.host is not None:
        agent.host.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
