"""``WebSocketApp``: websocket-client's callback API, on the core's ``Session``.

The session (``steadysock._core.Session``) decides everything: when to open a transport
and with which request, what to write, reconnect backoff, keepalive, the outbound queue
and the closing handshake. This class only moves bytes between sockets and the session,
arms its one timer (the ``select`` timeout), and turns its events into callbacks. Every
transport is a fresh socket with fresh state (ping times included), so the second, tenth
and hundredth server-side close all reconnect.

Callbacks get the app first: ``on_open(app)``, ``on_reconnect(app)`` (an open after the
first, when given; else ``on_open``), ``on_message(app, data)``, ``on_data(app, data,
opcode, fin)``, ``on_cont_message(app, data, fin)`` (fragments, as websocket-client's
``fire_cont_frame`` delivers them), ``on_error(app, exc)``, ``on_close(app, code, reason)``. An exception in a
callback goes to ``on_error``; one in ``on_error`` is logged, never re-entered.
"""

from __future__ import annotations

import json
import time
from typing import Any, Callable, Optional, Union

from . import _core
from ._abnf import ABNF
from ._exceptions import WebSocketConnectionClosedException, WebSocketException
from ._logging import debug, error, info
from ._session_host import SessionHost
from ._socket import sock_opt
from ._transport import parse_target, proxy_info
from ._websocket import _request_headers

__all__ = ["WebSocketApp", "set_reconnect"]

RECONNECT = 0

Callback = Optional[Callable[..., Any]]


def set_reconnect(reconnectInterval: int) -> None:
    """The default ``reconnect`` of ``run_forever`` (seconds; 0: do not reconnect)."""
    global RECONNECT
    RECONNECT = reconnectInterval


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

    def ping(self, payload: Union[bytes, str] = "") -> None:
        """A protocol ping now (``WebSocketConnectionClosedException`` while not open);
        its pong goes to ``on_pong``."""
        self._app._ping(payload.encode("utf-8") if isinstance(payload, str) else bytes(payload))

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
        disconnect_warning: Optional[dict[str, Any]] = None,
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
        self._skip_message = False
        self.session_options = dict(session_options or {})
        self.disconnect_warning = disconnect_warning
        self._host: Optional[SessionHost] = None
        self._header_options: dict[str, Any] = {}
        self._opened_once = False

    # ------------------------------------------------------------------ user calls

    def send(self, data: Union[bytes, str], opcode: int = ABNF.OPCODE_TEXT) -> None:
        """Sends a message; ``WebSocketConnectionClosedException`` while not open."""
        host = self._host
        if host is None or self.sock is None or not self.sock.connected:
            raise WebSocketConnectionClosedException("Connection is already closed.")
        try:
            if opcode == ABNF.OPCODE_TEXT:
                host.call("send_text", data if isinstance(data, str) else bytes(data).decode("utf-8"))
            elif opcode == ABNF.OPCODE_BINARY:
                host.call("send_binary", data.encode("utf-8") if isinstance(data, str) else bytes(data))
            else:
                raise WebSocketException(f"WebSocketApp.send: opcode {opcode} is not supported")
        except _core.EngineError as e:
            raise WebSocketException(e.args[1]) from e

    def send_text(self, text_data: str) -> None:
        self.send(text_data, ABNF.OPCODE_TEXT)

    def send_bytes(self, data: Union[bytes, bytearray]) -> None:
        self.send(bytes(data), ABNF.OPCODE_BINARY)

    def _ping(self, payload: bytes) -> None:
        host = self._host
        if host is None or self.sock is None or not self.sock.connected:
            raise WebSocketConnectionClosedException("Connection is already closed.")
        self.last_ping_tm = time.time()
        try:
            host.call("ping", payload)
        except _core.EngineError as e:
            raise WebSocketConnectionClosedException(e.args[1]) from e

    def close(self, **kwargs: Any) -> None:
        """Closes (``status``, ``reason`` as for ``WebSocket.close``) and stops
        ``run_forever``, from any thread, at once."""
        self.keep_running = False
        host = self._host
        if host is None:
            return
        reason = kwargs.get("reason", "")
        if isinstance(reason, bytes):
            reason = reason.decode("utf-8", errors="replace")
        host.call("close", int(kwargs.get("status", 1000)), reason)

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
        if self._host is not None:
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
            # on_ping/on_pong and last_pong_tm: the session reports the server's pings and pongs.
            "control_frames": True,
            # on_cont_message: websocket-client's fire_cont_frame, frame by frame.
            "fragments": self.on_cont_message is not None,
        }
        if self.disconnect_warning is not None:
            session_opts["disconnect_warning"] = self.disconnect_warning
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
        opts = sock_opt(sockopt, sslopt)
        proxy = proxy_info(
            http_proxy_host=http_proxy_host,
            http_proxy_port=http_proxy_port,
            http_no_proxy=http_no_proxy,
            http_proxy_auth=http_proxy_auth,
            http_proxy_timeout=http_proxy_timeout,
            proxy_type=proxy_type,
        )
        self.has_errored = False
        self.keep_running = True
        self._opened_once = False
        session = _core.Session(self.url, json.dumps(session_opts), 0)
        if self.get_mask_key is not None:
            # websocket-client's get_mask_key: every frame's masking key (meant for tests).
            session.set_mask_key(self.get_mask_key)
        shost = SessionHost(
            session,
            self._event,
            opts,
            proxy,
            request_for=self._request_for,
            on_transport_error=lambda e: self._callback(self.on_error, e),
            pre_socket=self.prepared_socket,
            dispatcher=dispatcher,
        )
        self.prepared_socket = None
        shost.mask_errors = self.get_mask_key is not None
        self._host = shost
        if dispatcher is not None:
            # websocket-client's custom dispatcher (e.g. rel): run_forever returns at once and
            # the dispatcher's loop drives the connection (and the reconnects) from here on.
            try:
                shost.call("connect")
            except BaseException:
                self._end_run(shost)
                raise
            return self.has_errored
        try:
            shost.call("connect")
            shost.run()
        except KeyboardInterrupt:
            shost.call("close", 1000, "")
        finally:
            self._end_run(shost)
        return self.has_errored

    def _end_run(self, shost: SessionHost) -> None:
        shost.close()
        if self._host is shost:
            self._host = None
        self.keep_running = False
        self.sock = None

    def _request_for(self, _tid: int, _attempt: int) -> tuple[str, list[tuple[str, str]], list[str]]:
        headers = _request_headers(self.url, parse_target(self.url), self._header_options)
        return self.url, headers, list(self.subprotocols or [])

    def _event(self, ev: tuple[Any, ...]) -> None:
        kind = ev[0]
        if kind == "open":
            _, attempt, recovered, _subprotocol = ev
            info(f"Websocket connected (attempt {attempt}, recovered {recovered})")
            host = self._host
            raw = host.sockets.get(host.current) if host is not None and host.current is not None else None
            self.sock = _AppConnection(self, raw)
            self.last_ping_tm = self.last_pong_tm = 0.0
            self.last_close_frame = None
            self._skip_message = False
            if self._opened_once and self.on_reconnect is not None:
                self._callback(self.on_reconnect)
            else:
                self._callback(self.on_open)
            self._opened_once = True
        elif kind == "fragment":
            self._fragment(ev[1], ev[2], ev[3])
        elif kind == "message":
            if self._skip_message:
                # The whole of a message already delivered frame by frame.
                self._skip_message = False
                return
            data = ev[1]
            opcode = ABNF.OPCODE_TEXT if isinstance(data, str) else ABNF.OPCODE_BINARY
            self._callback(self.on_data, data, opcode, True)
            self._callback(self.on_message, data)
        elif kind == "closed":
            _, code, reason, cause, text, will_reconnect, _kind = ev
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
                if self._host is not None:
                    self._host.running = False
                    if self._host.dispatcher is not None:
                        # No loop of ours to return from: let the sockets go now.
                        self._end_run(self._host)
                self.keep_running = False
        elif kind == "ping":
            self._callback(self.on_ping, ev[1])
        elif kind == "pong":
            self.last_pong_tm = time.time()
            self._callback(self.on_pong, ev[1])
        elif kind == "migrated":
            info(f"moved to a new connection after a disconnect warning (recovered {ev[1]})")
            host = self._host
            raw = host.sockets.get(host.current) if host is not None and host.current is not None else None
            if self.sock is not None:
                self.sock.sock = raw
        elif kind == "reconnecting":
            _, attempt, delay_ms, _cause, text, _kind = ev
            info(f"reconnecting (attempt {attempt}) in {delay_ms} ms: {text}")
        elif kind == "gave_up":
            _, attempts, _cause, text, _kind = ev
            self.has_errored = True
            self._callback(self.on_error, WebSocketException(f"gave up after {attempts} attempts: {text}"))
        elif kind == "error":
            self._callback(self.on_error, WebSocketException(ev[2]))
        else:
            debug(f"session: {ev!r}")

    def _fragment(self, opcode: int, fin: bool, data: bytes) -> None:
        """With ``on_cont_message``, websocket-client delivers a fragmented message frame by
        frame: the first frame as a message (``on_data(app, data, opcode, True)`` and
        ``on_message``), the rest to ``on_data(app, data, OPCODE_CONT, fin)`` and
        ``on_cont_message(app, data, fin)``; the whole message is not delivered again."""
        if fin:
            self._skip_message = True
        if opcode == ABNF.OPCODE_CONT:
            self._callback(self.on_data, data, opcode, int(fin))
            self._callback(self.on_cont_message, data, int(fin))
            return
        first: Union[str, bytes] = data
        if opcode == ABNF.OPCODE_TEXT:
            try:
                first = data.decode("utf-8")
            except UnicodeDecodeError as e:
                self._callback(self.on_error, e)
                return
        self._callback(self.on_data, first, opcode, True)
        self._callback(self.on_message, first)

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
