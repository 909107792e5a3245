"""WebSocketApp: callbacks, run_forever, reconnect — over the core's Session."""

from __future__ import annotations

import json
import select
import threading
import time
from typing import Any, Callable

import pytest

import steadysock as websocket

from wsserver import Server


def test_callbacks_in_order_and_close_from_a_callback(server: Server) -> None:
    calls: list[Any] = []

    def on_open(app: websocket.WebSocketApp) -> None:
        calls.append("open")
        app.send("hello")

    def on_message(app: websocket.WebSocketApp, message: Any) -> None:
        calls.append(("message", message))
        app.close()

    def on_close(app: websocket.WebSocketApp, code: Any, reason: Any) -> None:
        calls.append(("close", code))

    app = websocket.WebSocketApp(server.url + "/echo", on_open=on_open, on_message=on_message, on_close=on_close)
    assert app.run_forever() is False
    assert calls == ["open", ("message", "hello"), ("close", 1000)]
    assert app.sock is None and not app.keep_running


def _fragments_calls(url: str, with_cont: bool) -> list[Any]:
    calls: list[Any] = []

    def on_message(app: websocket.WebSocketApp, message: Any) -> None:
        calls.append(("message", message))
        if message == b"bin":
            app.close()

    def on_cont(app: websocket.WebSocketApp, data: Any, fin: Any) -> None:
        calls.append(("cont", data, fin))

    app = websocket.WebSocketApp(
        url,
        on_message=on_message,
        on_data=lambda app, data, opcode, fin: calls.append(("data", data, opcode, fin)),
        on_cont_message=on_cont if with_cont else None,
    )
    assert app.run_forever() is False
    return calls


def test_on_cont_message_gets_the_frames_of_a_fragmented_message(server: Server) -> None:
    # As websocket-client (fire_cont_frame): the first frame as a message, the rest as
    # continuations, the whole not again.
    assert _fragments_calls(server.url + "/fragments", True) == [
        ("data", "Hé", 1, True),
        ("message", "Hé"),
        ("data", b"l", 0, 0),
        ("cont", b"l", 0),
        ("data", b"lo", 0, 1),
        ("cont", b"lo", 1),
        ("data", b"bin", 2, True),
        ("message", b"bin"),
    ]
    # Without on_cont_message: whole messages.
    assert _fragments_calls(server.url + "/fragments", False) == [
        ("data", "Héllo", 1, True),
        ("message", "Héllo"),
        ("data", b"bin", 2, True),
        ("message", b"bin"),
    ]


class FakeDispatcher:
    """websocket-client's custom dispatcher protocol (as ``rel`` implements it), with a
    select loop of its own, recording every call."""

    def __init__(self) -> None:
        self.reads: dict[Any, Callable[[], bool]] = {}
        self.timers: list[tuple[float, Callable[..., Any], tuple[Any, ...]]] = []
        self.signals: list[tuple[int, Any]] = []
        self.writes: list[bytes] = []
        self.aborted = False

    def read(self, sock: Any, callback: Callable[[], bool]) -> None:
        self.reads[sock] = callback

    def timeout(self, seconds: float, callback: Callable[..., Any], *args: Any) -> None:
        self.timers.append((time.monotonic() + seconds, callback, args))

    def signal(self, sig: int, handler: Any) -> None:
        self.signals.append((sig, handler))

    def abort(self) -> None:
        self.aborted = True

    def buffwrite(self, sock: Any, data: bytes, send: Callable[[Any, bytes], int], on_error: Any) -> None:
        self.writes.append(data)
        while data:
            data = data[send(sock, data) :]

    def dispatch(self, max_steps: int = 10_000) -> None:
        for _ in range(max_steps):
            for sock in [s for s in self.reads if s.fileno() < 0]:
                del self.reads[sock]  # closed by the app (rel forgets such sockets too)
            if self.aborted or not (self.reads or self.timers):
                return
            wait = min((t for t, _, _ in self.timers), default=time.monotonic() + 5) - time.monotonic()
            ready, _, _ = select.select(list(self.reads), [], [], max(0.0, wait))
            for sock in ready:
                if sock in self.reads and not self.reads[sock]():
                    del self.reads[sock]
            now = time.monotonic()
            due = [t for t in self.timers if t[0] <= now]
            self.timers = [t for t in self.timers if t[0] > now]
            for _, callback, args in due:
                callback(*args)
        raise AssertionError("the dispatcher loop did not finish")


def test_run_forever_with_a_custom_dispatcher(server: Server) -> None:
    calls: list[Any] = []

    def on_message(app: websocket.WebSocketApp, message: Any) -> None:
        calls.append(("message", message))
        if message == "hello 2":
            app.close()

    app = websocket.WebSocketApp(
        server.url + "/hello-then-close",
        on_open=lambda app: calls.append("open"),
        on_reconnect=lambda app: calls.append("reconnect"),
        on_message=on_message,
        on_close=lambda app, code, reason: calls.append(("close", code)),
        session_options={"backoff": {"min_ms": 10, "max_ms": 10, "factor": 1.0, "jitter": "none"}},
    )
    d = FakeDispatcher()
    # Returns at once: the dispatcher drives the connection, reconnects included.
    assert app.run_forever(dispatcher=d, reconnect=1) is False
    assert d.signals == [(2, d.abort)]
    assert calls == [] and len(d.reads) == 1
    d.dispatch()
    assert calls[:3] == ["open", ("message", "hello 1"), ("close", 1001)]
    assert calls[3:5] == ["reconnect", ("message", "hello 2")]
    assert calls[-1] in (("close", 1000), ("close", 1001))
    assert d.writes, "writes went through buffwrite"
    assert app.sock is None and not app.keep_running
    assert len(server.requests) == 2


def test_get_mask_key_masks_every_frame_of_every_connection(server: Server) -> None:
    keys: list[Any] = []
    asked: list[int] = []

    def mask_key(n: int) -> bytes:
        asked.append(n)
        return b"abcd"

    def on_message(app: websocket.WebSocketApp, message: Any) -> None:
        keys.append(message)
        if len(keys) == 2:
            app.close()
        else:
            app.send_bytes(b"again")

    app = websocket.WebSocketApp(
        server.url + "/mask-keys",
        on_open=lambda app: app.send("hi"),
        on_message=on_message,
        get_mask_key=mask_key,
    )
    app.run_forever()
    assert keys == [b"abcd".hex(), b"abcd".hex()]
    assert asked and set(asked) == {4}
    errors: list[Any] = []

    def bad_key(n: int) -> bytes:
        raise RuntimeError("no key")

    app = websocket.WebSocketApp(
        server.url + "/mask-keys",
        on_open=lambda app: app.send("hi"),
        on_message=lambda app, m: (keys.append(m), app.close()),
        on_error=lambda app, e: errors.append(e),
        get_mask_key=bad_key,
    )
    app.run_forever()
    # The frame still went out (an OS-random key), and the failure reached on_error.
    assert len(keys) == 3 and keys[2] != b"abcd".hex()
    assert any(isinstance(e, RuntimeError) for e in errors)


def test_the_second_tenth_and_hundredth_server_close_all_reconnect(server: Server) -> None:
    opens: list[str] = []
    closes: list[Any] = []

    def on_open(app: websocket.WebSocketApp) -> None:
        opens.append("open")

    def on_reconnect(app: websocket.WebSocketApp) -> None:
        opens.append("reconnect")
        if len(opens) == 100:
            app.close()

    def on_close(app: websocket.WebSocketApp, code: Any, reason: Any) -> None:
        closes.append(code)

    app = websocket.WebSocketApp(
        server.url + "/close-1001", on_open=on_open, on_reconnect=on_reconnect, on_close=on_close
    )
    app.run_forever(reconnect=0.01)  # type: ignore[arg-type]
    assert opens == ["open"] + ["reconnect"] * 99
    # 99 server closes (1001), each followed by a reconnect; then the app's close on the
    # hundredth transport (whose 1001 may already be on its way: either code ends it).
    assert closes[:99] == [1001] * 99 and len(closes) == 100 and closes[99] in (1000, 1001)
    assert len(server.requests) == 100


def test_without_reconnect_run_forever_returns_after_the_first_close(server: Server) -> None:
    closes: list[Any] = []
    app = websocket.WebSocketApp(server.url + "/close-1001", on_close=lambda a, c, r: closes.append((c, r)))
    app.run_forever()
    assert closes == [(1001, "going away")]
    assert len(server.requests) == 1


def test_callback_exception_goes_to_on_error_once(server: Server) -> None:
    errors: list[BaseException] = []

    def on_open(app: websocket.WebSocketApp) -> None:
        app.send("boom")

    def on_message(app: websocket.WebSocketApp, message: Any) -> None:
        raise RuntimeError(message)

    def on_error(app: websocket.WebSocketApp, exc: BaseException) -> None:
        errors.append(exc)
        app.close()
        raise ValueError("on_error itself fails: logged, not re-entered")

    app = websocket.WebSocketApp(server.url + "/echo", on_open=on_open, on_message=on_message, on_error=on_error)
    app.run_forever()
    assert len(errors) == 1 and isinstance(errors[0], RuntimeError) and str(errors[0]) == "boom"


def test_close_from_another_thread_stops_run_forever(server: Server) -> None:
    opened = threading.Event()
    app = websocket.WebSocketApp(server.url + "/echo", on_open=lambda a: opened.set())
    t = threading.Thread(target=app.run_forever)
    t.start()
    assert opened.wait(10)
    app.send("from another thread")
    app.close()
    t.join(10)
    assert not t.is_alive()


def test_run_forever_validates_ping_options() -> None:
    app = websocket.WebSocketApp("ws://127.0.0.1:1/")
    with pytest.raises(websocket.WebSocketException):
        app.run_forever(ping_timeout=0)
    with pytest.raises(websocket.WebSocketException):
        app.run_forever(ping_interval=-1)
    with pytest.raises(websocket.WebSocketException):
        app.run_forever(ping_interval=5, ping_timeout=10)


def test_send_while_not_connected_raises() -> None:
    app = websocket.WebSocketApp("ws://127.0.0.1:1/")
    with pytest.raises(websocket.WebSocketConnectionClosedException):
        app.send("nobody there")


def test_refused_connection_reports_error_and_returns(server: Server) -> None:
    import socket

    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    listener.close()
    errors: list[BaseException] = []
    app = websocket.WebSocketApp(f"ws://127.0.0.1:{port}/", on_error=lambda a, e: errors.append(e))
    assert app.run_forever() is True
    assert any(isinstance(e, ConnectionRefusedError) for e in errors)


def test_ping_pong_callbacks_and_times_start_fresh_on_every_transport(server: Server) -> None:
    seen: list[Any] = []

    def opened(app: websocket.WebSocketApp) -> None:
        seen.append(("open", app.last_ping_tm, app.last_pong_tm))
        assert app.sock is not None
        app.sock.ping("first" if len([e for e in seen if e[0] == "open"]) == 1 else "second")

    def on_ping(app: websocket.WebSocketApp, data: bytes) -> None:
        seen.append(("ping", data))

    def on_pong(app: websocket.WebSocketApp, data: bytes) -> None:
        seen.append(("pong", data, app.last_pong_tm >= app.last_ping_tm > 0))
        if data == b"first":
            app.send("close-me")  # the server closes (1001): reconnect
        elif data == b"second":
            app.close()

    app = websocket.WebSocketApp(
        server.url + "/ping-then-echo", on_open=opened, on_reconnect=opened, on_ping=on_ping, on_pong=on_pong
    )
    app.run_forever(reconnect=0.01)  # type: ignore[arg-type]
    opens = [e for e in seen if e[0] == "open"]
    # Every transport starts with both times at 0 (websocket-client kept the old ones).
    assert opens == [("open", 0.0, 0.0), ("open", 0.0, 0.0)]
    # The server's ping ("hb") on each transport went to on_ping; each app ping's pong to on_pong.
    assert seen.count(("ping", b"hb")) == 2
    assert [e[1] for e in seen if e[0] == "pong"] == [b"first", b"second"]
    assert all(e[2] for e in seen if e[0] == "pong")


SLACK_DISCONNECT = {"json": {"type": "disconnect"}}


def test_a_slack_disconnect_warning_moves_to_a_new_connection_before_the_old_one_closes(server: Server) -> None:
    got: list[Any] = []
    calls: list[str] = []

    def on_message(app: websocket.WebSocketApp, message: Any) -> None:
        got.append(message)
        if len(got) == 2:
            app.close()

    app = websocket.WebSocketApp(
        server.url + "/slack",
        on_open=lambda app: calls.append("open"),
        on_reconnect=lambda app: calls.append("reconnect"),
        on_close=lambda app, code, reason: calls.append(f"close {code}"),
        on_error=lambda app, e: calls.append(f"error {e}"),
        on_message=on_message,
        disconnect_warning=SLACK_DISCONNECT,
    )
    assert app.run_forever(reconnect=1) is False  # type: ignore[arg-type]
    # The warning itself is consumed; the hello of each connection arrives.
    assert got == ['{"type":"hello"}', '{"type":"hello"}']
    # Make-before-break: the second connection was open before the first closed, and the
    # app saw one open and one close (no reconnect, no error).
    events = server.events_once("open 2", "closed 1")
    assert events.index("open 2") < events.index("closed 1"), events
    assert calls == ["open", "close 1000"]


def test_cookie_and_header_options_reach_the_server(server: Server) -> None:
    seen: list[Any] = []

    def on_message(app: websocket.WebSocketApp, message: Any) -> None:
        seen.append(json.loads(message))
        app.close()

    app = websocket.WebSocketApp(
        server.url + "/headers", header={"X-App": "1"}, cookie="session=abc; theme=dark", on_message=on_message
    )
    app.run_forever(origin="http://example.test")
    assert seen[0]["cookie"] == "session=abc; theme=dark"
    assert seen[0]["x-app"] == "1" and seen[0]["origin"] == "http://example.test"
