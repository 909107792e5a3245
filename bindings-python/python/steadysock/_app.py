"""``WebSocketApp``: websocket-client's callback API, on the core's ``Session``.

The session (``steadysock._core.Session``) decides everything: when to open a transport
and with which request, what to write, reconnect backoff, keepalive, the outbound queue
and the closing handshake. This class only moves bytes between sockets and the session,
arms its one timer (the ``select`` timeout), and turns its events into callbacks. Every
transport is a fresh socket with fresh state (ping times included), so the second, tenth
and hundredth server-side close all reconnect.

Callbacks get the app first: ``on_open(app)``, ``on_reconnect(app)`` (an open after the
first, when given; else ``on_open``), ``on_message(app, data)``, ``on_data(app, data,
opcode, fin)``, ``on_error(app, exc)``, ``on_close(app, code, reason)``. An exception in a
callback goes to ``on_error``; one in ``on_error`` is logged, never re-entered.
"""

from __future__ import annotations

import collections
import errno
import json
import selectors
import socket
import ssl
import threading
import time
from typing import Any, Callable, Optional, Union

from . import _core
from ._abnf import ABNF
from ._exceptions import (
    WebSocketAddressException,
    WebSocketConnectionClosedException,
    WebSocketException,
    WebSocketTimeoutException,
)
from ._logging import debug, error, info
from ._socket import sock_opt
from ._transport import open_socket, parse_target, proxy_info
from ._websocket import _request_headers

__all__ = ["WebSocketApp", "set_reconnect"]

RECONNECT = 0
READ_SIZE = 64 << 10

Callback = Optional[Callable[..., Any]]


def set_reconnect(reconnectInterval: int) -> None:
    """The default ``reconnect`` of ``run_forever`` (seconds; 0: do not reconnect)."""
    global RECONNECT
    RECONNECT = reconnectInterval


def _now_ms() -> int:
    return int(time.monotonic() * 1000)


def _error_kind(e: BaseException) -> str:
    if isinstance(e, (socket.gaierror, WebSocketAddressException)):
        return "dns"
    if isinstance(e, ConnectionRefusedError):
        return "refused"
    if isinstance(e, (socket.timeout, WebSocketTimeoutException)):
        return "timeout"
    if isinstance(e, ssl.SSLError):
        return "tls"
    if isinstance(e, (ConnectionResetError, BrokenPipeError)):
        return "reset"
    if isinstance(e, OSError) and e.errno in (errno.ENETUNREACH, errno.EHOSTUNREACH):
        return "unreachable"
    return "other"


class _AppConnection:
    """What ``app.sock`` holds while a transport is open: the raw socket as ``sock`` and
    websocket-client's sending methods."""

    def __init__(self, app: WebSocketApp, sock: Any) -> None:
        self._app = app
        self.sock = sock
        self.connected = True

    def send(self, data: Union[bytes, str], opcode: int = ABNF.OPCODE_TEXT) -> None:
        self._app.send(data, opcode)

    def send_text(self, text_data: str) -> None:
        self._app.send(text_data, ABNF.OPCODE_TEXT)

    def send_bytes(self, data: Union[bytes, bytearray]) -> None:
        self._app.send(bytes(data), ABNF.OPCODE_BINARY)

    def close(self, **kwargs: Any) -> None:
        self._app.close(**kwargs)

    def fileno(self) -> int:
        return int(self.sock.fileno())


class WebSocketApp:
    """websocket-client's ``WebSocketApp``. ``session_options`` (a dict of the core's
    ``SessionOptions`` keys) adds settings websocket-client has no name for, e.g.
    ``{"max_retries": 5, "disconnect_warning": {"json": {"type": "disconnect"}}}``."""

    def __init__(
        self,
        url: str,
        header: Union[list[str], dict[str, str], Callable[[], Any], None] = None,
        on_open: Callback = None,
        on_reconnect: Callback = None,
        on_message: Callback = None,
        on_error: Callback = None,
        on_close: Callback = None,
        on_ping: Callback = None,
        on_pong: Callback = None,
        on_cont_message: Callback = None,
        keep_running: bool = True,
        get_mask_key: Optional[Callable[[int], Union[bytes, str]]] = None,
        cookie: Optional[str] = None,
        subprotocols: Optional[list[str]] = None,
        on_data: Callback = None,
        socket: Any = None,
        session_options: Optional[dict[str, Any]] = None,
    ) -> None:
        self.url = url
        self.header = header if header is not None else []
        self.cookie = cookie
        self.on_open = on_open
        self.on_reconnect = on_reconnect
        self.on_message = on_message
        self.on_data = on_data
        self.on_error = on_error
        self.on_close = on_close
        self.on_ping = on_ping
        self.on_pong = on_pong
        self.on_cont_message = on_cont_message
        self.keep_running = False
        self.get_mask_key = get_mask_key
        self.sock: Optional[_AppConnection] = None
        self.last_close_frame: Optional[ABNF] = None
        self.last_ping_tm = 0.0
        self.last_pong_tm = 0.0
        self.subprotocols = subprotocols
        self.prepared_socket = socket
        self.has_errored = False
        self.session_options = dict(session_options or {})
        self._session: Optional[_core.Session] = None
        self._lock = threading.RLock()
        self._pending: collections.deque[tuple[Any, ...]] = collections.deque()
        self._draining = False
        self._sockets: dict[int, Any] = {}
        self._selector: Optional[selectors.BaseSelector] = None
        self._wake_r: Optional[socket.socket] = None
        self._wake_w: Optional[socket.socket] = None
        self._running = False
        self._opened_once = False
        self._transport_opts: dict[str, Any] = {}
        self._header_options: dict[str, Any] = {}
        self._current = 0

    # ------------------------------------------------------------------ user calls

    def send(self, data: Union[bytes, str], opcode: int = ABNF.OPCODE_TEXT) -> None:
        """Sends a message; ``WebSocketConnectionClosedException`` while not open."""
        session = self._session
        if session is None or self.sock is None or not self.sock.connected:
            raise WebSocketConnectionClosedException("Connection is already closed.")
        with self._lock:
            try:
                if opcode == ABNF.OPCODE_TEXT:
                    text = data if isinstance(data, str) else bytes(data).decode("utf-8")
                    outputs = session.send_text(text, _now_ms())
                elif opcode == ABNF.OPCODE_BINARY:
                    raw = data.encode("utf-8") if isinstance(data, str) else bytes(data)
                    outputs = session.send_binary(raw, _now_ms())
                else:
                    raise WebSocketException(f"WebSocketApp.send: opcode {opcode} is not supported")
            except _core.EngineError as e:
                raise WebSocketException(e.args[1]) from e
            self._handle(outputs)
        self._wake()

    def send_text(self, text_data: str) -> None:
        self.send(text_data, ABNF.OPCODE_TEXT)

    def send_bytes(self, data: Union[bytes, bytearray]) -> None:
        self.send(bytes(data), ABNF.OPCODE_BINARY)

    def close(self, **kwargs: Any) -> None:
        """Closes (``status``, ``reason`` as for ``WebSocket.close``) and stops
        ``run_forever``, from any thread, at once."""
        self.keep_running = False
        session = self._session
        if session is None:
            return
        status = int(kwargs.get("status", 1000))
        reason = kwargs.get("reason", "")
        if isinstance(reason, bytes):
            reason = reason.decode("utf-8", errors="replace")
        with self._lock:
            self._handle(session.close(status, reason, _now_ms()))
        self._wake()

    def ready(self) -> bool:
        return self.sock is not None and self.sock.connected

    # ------------------------------------------------------------------ run_forever

    def run_forever(
        self,
        sockopt: Optional[list[tuple[Any, ...]]] = None,
        sslopt: Optional[dict[str, Any]] = None,
        ping_interval: Union[float, int] = 0,
        ping_timeout: Optional[Union[float, int]] = None,
        ping_payload: str = "",
        http_proxy_host: Optional[str] = None,
        http_proxy_port: Optional[Union[int, str]] = None,
        http_no_proxy: Optional[list[str]] = None,
        http_proxy_auth: Optional[tuple[str, str]] = None,
        http_proxy_timeout: Optional[float] = None,
        skip_utf8_validation: bool = False,
        host: Optional[str] = None,
        origin: Optional[str] = None,
        dispatcher: Any = None,
        suppress_origin: bool = False,
        suppress_host: bool = False,
        proxy_type: Optional[str] = None,
        reconnect: Optional[int] = None,
    ) -> bool:
        """Connects and serves callbacks until ``close()`` or, without ``reconnect``, the
        first disconnection. ``reconnect``: seconds between attempts (default
        ``set_reconnect``'s, 0). Returns False after a clean stop, True after an error."""
        if reconnect is None:
            reconnect = RECONNECT
        if ping_timeout is not None and ping_timeout <= 0:
            raise WebSocketException("Ensure ping_timeout > 0")
        if ping_interval is not None and ping_interval < 0:
            raise WebSocketException("Ensure ping_interval >= 0")
        if ping_timeout and ping_interval and ping_interval <= ping_timeout:
            raise WebSocketException("Ensure ping_interval > ping_timeout")
        if dispatcher is not None:
            raise WebSocketException("a custom dispatcher is not supported yet")
        if self._running:
            raise WebSocketException("socket is already opened")
        target = parse_target(self.url)
        options: dict[str, Any] = {
            "header": self.header,
            "cookie": self.cookie,
            "origin": origin,
            "suppress_origin": suppress_origin,
            "host": host,
            "suppress_host": suppress_host,
        }
        provided = callable(self.header)
        headers = [] if provided else _request_headers(self.url, target, options)
        session_opts: dict[str, Any] = {
            "headers": [[n, v] for n, v in headers],
            "subprotocols": list(self.subprotocols or []),
            "request_source": "provided" if provided else "fixed",
            "keepalive": None,
        }
        if ping_interval:
            timeout_s = ping_timeout if ping_timeout else ping_interval
            session_opts["keepalive"] = {
                "interval_ms": int(ping_interval * 1000),
                "pong_timeout_ms": int(timeout_s * 1000),
            }
        if reconnect and reconnect > 0:
            ms = int(reconnect * 1000)
            session_opts["backoff"] = {"min_ms": ms, "max_ms": ms, "factor": 1.0, "jitter": "none"}
            session_opts["max_retries"] = None
        else:
            session_opts["max_retries"] = 0
        session_opts.update(self.session_options)
        self._header_options = options
        self._transport_opts = {
            "sock_opt": sock_opt(sockopt, sslopt),
            "proxy": proxy_info(
                http_proxy_host=http_proxy_host,
                http_proxy_port=http_proxy_port,
                http_no_proxy=http_no_proxy,
                http_proxy_auth=http_proxy_auth,
                http_proxy_timeout=http_proxy_timeout,
                proxy_type=proxy_type,
            ),
        }
        self._transport_opts["sock_opt"].timeout = None
        self.has_errored = False
        self.keep_running = True
        self._opened_once = False
        self._running = True
        self._selector = selectors.DefaultSelector()
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._selector.register(self._wake_r, selectors.EVENT_READ, None)
        try:
            self._session = _core.Session(self.url, json.dumps(session_opts), _now_ms())
            with self._lock:
                self._handle(self._session.connect(_now_ms()))
            self._loop()
        except KeyboardInterrupt:
            with self._lock:
                if self._session is not None:
                    self._handle(self._session.close(1000, "", _now_ms()))
        finally:
            self._teardown()
        return self.has_errored

    def _loop(self) -> None:
        assert self._session is not None and self._selector is not None
        while self._running:
            deadline = self._session.poll_timeout()
            timeout = None if deadline is None else max(0.0, (deadline - _now_ms()) / 1000)
            for key, _ in self._selector.select(timeout):
                if key.data is None:
                    self._drain_wake()
                    continue
                self._read(int(key.data), key.fileobj)
            deadline = self._session.poll_timeout()
            if deadline is not None and deadline <= _now_ms():
                with self._lock:
                    self._handle(self._session.handle_timeout(_now_ms()))

    def _read(self, tid: int, sock: Any) -> None:
        assert self._session is not None
        chunks: list[bytes] = []
        eof = False
        failure: Optional[BaseException] = None
        try:
            data = sock.recv(READ_SIZE)
            if data:
                chunks.append(data)
                while isinstance(sock, ssl.SSLSocket) and sock.pending():
                    chunks.append(sock.recv(READ_SIZE))
            else:
                eof = True
        except (ssl.SSLWantReadError, BlockingIOError):
            return
        except OSError as e:
            failure = e
        with self._lock:
            for chunk in chunks:
                self._handle(self._session.transport_bytes(tid, chunk, _now_ms()))
            if failure is not None:
                self._handle(self._session.transport_error(tid, _error_kind(failure), str(failure), _now_ms()))
            elif eof:
                self._handle(self._session.transport_closed(tid, None, "", _now_ms()))

    def _teardown(self) -> None:
        self._running = False
        self.keep_running = False
        for sock in self._sockets.values():
            try:
                sock.close()
            except OSError:
                pass
        self._sockets.clear()
        for s in (self._wake_r, self._wake_w):
            if s is not None:
                s.close()
        self._wake_r = self._wake_w = None
        if self._selector is not None:
            self._selector.close()
            self._selector = None
        self._session = None
        self.sock = None

    def _wake(self) -> None:
        w = self._wake_w
        if w is not None:
            try:
                w.send(b"\0")
            except OSError:
                pass

    def _drain_wake(self) -> None:
        assert self._wake_r is not None
        try:
            while self._wake_r.recv(4096):
                pass
        except (BlockingIOError, OSError):
            pass

    # ------------------------------------------------------------------ outputs

    def _handle(self, outputs: list[Any]) -> None:
        """Carries out the session's outputs in order. Outputs produced while carrying
        them out (a callback that sends, a failed write) join the end of the line, so the
        order the session decided is the order of the wire. Call with ``self._lock``."""
        self._pending.extend(outputs)
        if self._draining:
            return
        self._draining = True
        try:
            while self._pending:
                self._process(self._pending.popleft())
        finally:
            self._draining = False

    def _process(self, out: tuple[Any, ...]) -> None:
        session = self._session
        assert session is not None
        kind = out[0]
        if kind == "transmit":
            _, tid, data = out
            sock = self._sockets.get(tid)
            if sock is None:
                return
            try:
                sock.sendall(data)
            except OSError as e:
                self._pending.extend(session.transport_error(tid, _error_kind(e), str(e), _now_ms()))
        elif kind == "open_transport":
            _, tid, url, _headers, _subprotocols = out
            self._open_transport(tid, url)
        elif kind == "close_transport":
            sock = self._sockets.pop(out[1], None)
            if sock is not None:
                if self._selector is not None:
                    self._selector.unregister(sock)
                sock.close()
        elif kind == "need_request":
            _, tid, _attempt, _migration = out
            try:
                headers = _request_headers(self.url, parse_target(self.url), self._header_options)
            except Exception as e:  # noqa: BLE001 - the provider's failure fails this attempt
                self._callback(self.on_error, e)
                self._pending.extend(session.provide_request_error(tid, str(e), _now_ms()))
                return
            self._pending.extend(
                session.provide_request(tid, self.url, headers, list(self.subprotocols or []), _now_ms())
            )
        else:
            self._event(out)

    def _open_transport(self, tid: int, url: str) -> None:
        session = self._session
        assert session is not None and self._selector is not None
        try:
            pre, self.prepared_socket = self.prepared_socket, None
            opts = self._transport_opts
            sock = open_socket(parse_target(url), opts["sock_opt"], opts["proxy"], pre)
        except Exception as e:  # noqa: BLE001 - every failure is reported to the session
            self._callback(self.on_error, e)
            self._pending.extend(session.transport_error(tid, _error_kind(e), str(e), _now_ms()))
            return
        self._sockets[tid] = sock
        self._selector.register(sock, selectors.EVENT_READ, tid)
        self._current = tid
        self._pending.extend(session.transport_connected(tid, _now_ms()))

    def _event(self, ev: tuple[Any, ...]) -> None:
        kind = ev[0]
        if kind == "open":
            _, attempt, recovered, _subprotocol = ev
            info(f"Websocket connected (attempt {attempt}, recovered {recovered})")
            self.sock = _AppConnection(self, self._sockets.get(self._current))
            self.last_ping_tm = self.last_pong_tm = 0.0
            self.last_close_frame = None
            if self._opened_once and self.on_reconnect is not None:
                self._callback(self.on_reconnect)
            else:
                self._callback(self.on_open)
            self._opened_once = True
        elif kind == "message":
            data = ev[1]
            opcode = ABNF.OPCODE_TEXT if isinstance(data, str) else ABNF.OPCODE_BINARY
            self._callback(self.on_data, data, opcode, True)
            self._callback(self.on_message, data)
        elif kind == "closed":
            _, code, reason, cause, text, will_reconnect = ev
            # on_close once per open transport; and once when a run that never opened
            # ends. (A stop while waiting to reconnect already had its on_close.)
            was_open = self.sock is not None and self.sock.connected
            report_close = was_open or (not will_reconnect and not self._opened_once)
            if self.sock is not None:
                self.sock.connected = False
            payload = (code.to_bytes(2, "big") + reason.encode("utf-8")) if code not in (1005, 1006) else b""
            self.last_close_frame = ABNF(1, 0, 0, 0, ABNF.OPCODE_CLOSE, 0, payload)
            # A lost transport (or a server close that leads to a reconnect) is an error.
            if cause != "user_close" and (cause != "closed" or will_reconnect):
                exc = WebSocketConnectionClosedException(text)
                exc.status_code = code  # type: ignore[attr-defined]
                exc.reason = reason  # type: ignore[attr-defined]
                self.has_errored = self.has_errored or not will_reconnect
                self._callback(self.on_error, exc)
            if report_close:
                self._callback(self.on_close, None if code == 1006 else code, reason or None)
            if not will_reconnect:
                self._running = False
                self.keep_running = False
        elif kind == "reconnecting":
            _, attempt, delay_ms, _cause, text = ev
            info(f"reconnecting (attempt {attempt}) in {delay_ms} ms: {text}")
        elif kind == "gave_up":
            _, attempts, _cause, text = ev
            self.has_errored = True
            self._callback(self.on_error, WebSocketException(f"gave up after {attempts} attempts: {text}"))
        elif kind == "error":
            self._callback(self.on_error, WebSocketException(ev[2]))
        else:
            debug(f"session: {ev!r}")

    def _callback(self, callback: Callback, *args: Any) -> None:
        if callback is None:
            return
        try:
            callback(self, *args)
        except Exception as e:
            error(f"error from callback {callback}: {e}")
            if self.on_error is not None and callback is not self.on_error:
                try:
                    self.on_error(self, e)
                except Exception as e2:  # noqa: BLE001 - never re-enter on_error
                    error(f"error from callback {self.on_error}: {e2}")
