"""``WebSocket`` and ``create_connection``: websocket-client's synchronous API.

The Python side owns the socket (``self.sock`` is the real ``socket``/``ssl`` object and
may be replaced); ``self._engine``, a ``steadysock._core.ClientConnection``, owns the
protocol: the upgrade request and its validation, framing, masking, UTF-8, ping answers
and the closing handshake. Every engine call returns its outputs in order: ``bytes`` to
write and event tuples, which wait in ``self._events`` until a ``recv*`` takes them.
"""

from __future__ import annotations

import collections
import socket
import struct
import threading
import time
from http import HTTPStatus
from typing import Any, Callable, Iterator, Optional, Union

from . import _core
from ._abnf import ABNF, STATUS_NORMAL
from ._exceptions import (
    WebSocketBadStatusException,
    WebSocketConnectionClosedException,
    WebSocketException,
    WebSocketPayloadException,
    WebSocketProtocolException,
    WebSocketTimeoutException,
)
from ._logging import debug, dump, error, isEnabledForTrace, trace
from ._socket import getdefaulttimeout, sock_opt
from ._transport import open_socket, parse_target, proxy_info, recv_some, send_all

__all__ = ["WebSocket", "create_connection"]

SUPPORTED_REDIRECT_STATUSES = (301, 302, 303, 307, 308)
READ_SIZE = 64 << 10  # the first read size; it grows while reads fill it (large messages)
MAX_READ_SIZE = 1 << 20

Event = tuple[Any, ...]


def _now_ms() -> int:
    return int(time.monotonic() * 1000)


def _reason_bytes(reason: Union[str, bytes, None]) -> bytes:
    if reason is None:
        return b""
    if isinstance(reason, str):
        return reason.encode("utf-8")
    return bytes(reason)


class _NoLock:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *_: object) -> None:
        return None


class handshake_response:
    """The 101 response: ``status``, ``headers`` (lower-case names) and ``subprotocol``."""

    def __init__(self, status: int, headers: dict[str, str], subprotocol: Optional[str]) -> None:
        self.status = status
        self.headers = headers
        self.subprotocol = subprotocol


def _headers_dict(pairs: Optional[list[tuple[str, str]]]) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, value in pairs or []:
        key = name.lower()
        out[key] = f"{out[key]}, {value}" if key in out else value
    return out


def _request_headers(url: str, target: Any, options: dict[str, Any]) -> list[tuple[str, str]]:
    """The headers websocket-client adds besides those the core writes (Upgrade,
    Sec-WebSocket-Key/-Version/-Protocol/-Extensions). ``host``/``suppress_host`` and
    ``connection`` become the core's Host and Connection overrides (an empty Host: none;
    a Connection value must keep the ``Upgrade`` token)."""
    headers: list[tuple[str, str]] = []
    if options.get("suppress_host"):
        headers.append(("Host", ""))
    elif options.get("host"):
        headers.append(("Host", str(options["host"])))
    if options.get("connection"):
        headers.append(("Connection", str(options["connection"])))
    if not options.get("suppress_origin"):
        origin = options.get("origin")
        if origin is None:
            default = 443 if target.secure else 80
            host = f"[{target.host}]" if ":" in target.host else target.host
            hostport = host if target.port == default else f"{host}:{target.port}"
            origin = f"{'https' if target.secure else 'http'}://{hostport}"
        headers.append(("Origin", origin))
    header = options.get("header")
    if callable(header):
        header = header()
    if isinstance(header, dict):
        headers.extend((str(k), str(v)) for k, v in header.items() if v is not None)
    elif header:
        for line in header:
            name, sep, value = str(line).partition(":")
            if not sep:
                raise WebSocketException(f"invalid header {line!r}: expected 'Name: value'")
            headers.append((name.strip(), value.strip()))
    cookie = options.get("cookie")
    if cookie:
        headers.append(("Cookie", cookie))
    return headers


class WebSocket:
    """A synchronous WebSocket client connection (websocket-client's ``WebSocket``).

    >>> ws = WebSocket()
    >>> ws.connect("ws://127.0.0.1:9001/")
    >>> ws.send("Hello")
    >>> ws.recv()
    >>> ws.close()
    """

    def __init__(
        self,
        get_mask_key: Optional[Callable[[int], Union[bytes, str]]] = None,
        sockopt: Optional[list[tuple[Any, ...]]] = None,
        sslopt: Optional[dict[str, Any]] = None,
        fire_cont_frame: bool = False,
        enable_multithread: bool = True,
        skip_utf8_validation: bool = False,
        dispatcher: Any = None,
        **_: Any,
    ) -> None:
        self.sock_opt = sock_opt(sockopt, sslopt)
        self.handshake_response: Optional[handshake_response] = None
        self.sock: Any = None
        self.connected = False
        self.close_frame: Optional[ABNF] = None
        self.get_mask_key = get_mask_key
        # True: recv_data_frame returns each frame of a fragmented message as it comes (the
        # core's deliver_fragments, always on here; recv() and recv_data() without it take
        # whole messages). The core validates UTF-8 always (see the package README).
        self.fire_cont_frame = fire_cont_frame
        self.skip_utf8_validation = skip_utf8_validation
        self.dispatcher = dispatcher
        self.lock: Any = threading.Lock() if enable_multithread else _NoLock()
        self.readlock: Any = threading.Lock() if enable_multithread else _NoLock()
        self._engine: Optional[_core.ClientConnection] = None
        self._engine_mask: Optional[Callable[[int], Union[bytes, str]]] = None
        self._events: collections.deque[Event] = collections.deque()
        self._read_size = READ_SIZE
        # Fragments given to send_frame, sent as one message when the last arrives.
        self._fragments: Optional[tuple[int, list[bytes]]] = None

    # ------------------------------------------------------------------ properties

    def __iter__(self) -> Iterator[Union[str, bytes]]:
        while True:
            yield self.recv()

    def __next__(self) -> Union[str, bytes]:
        return self.recv()

    def next(self) -> Union[str, bytes]:
        return self.__next__()

    def fileno(self) -> int:
        if self.sock is None:
            raise WebSocketException("Connection not established")
        return int(self.sock.fileno())

    def set_mask_key(self, func: Callable[[int], Union[bytes, str]]) -> None:
        """Uses ``func(4)`` for masking keys (meant for tests)."""
        self.get_mask_key = func

    def gettimeout(self) -> Optional[Union[float, int]]:
        return self.sock_opt.timeout

    def settimeout(self, timeout: Optional[Union[float, int]]) -> None:
        self.sock_opt.timeout = timeout
        if self.sock is not None and hasattr(self.sock, "settimeout"):
            self.sock.settimeout(timeout)

    timeout = property(gettimeout, settimeout)

    def getsubprotocol(self) -> Optional[str]:
        return self.handshake_response.subprotocol if self.handshake_response else None

    subprotocol = property(getsubprotocol)

    def getstatus(self) -> Optional[int]:
        return self.handshake_response.status if self.handshake_response else None

    status = property(getstatus)

    def getheaders(self) -> Optional[dict[str, str]]:
        return self.handshake_response.headers if self.handshake_response else None

    headers = property(getheaders)

    def is_ssl(self) -> bool:
        import ssl

        return isinstance(self.sock, ssl.SSLSocket)

    # ------------------------------------------------------------------ engine plumbing

    def _engine_or_raise(self) -> _core.ClientConnection:
        if self._engine is None:
            if self.sock is None:
                raise WebSocketConnectionClosedException("socket is already closed.")
            # A socket assigned by hand: its handshake happened elsewhere.
            self._engine = _core.ClientConnection.already_open(
                _now_ms(), accept_masked_frames=True, deliver_fragments=True
            )
        if self.get_mask_key is not self._engine_mask:
            self._engine.set_mask_key(self.get_mask_key)
            self._engine_mask = self.get_mask_key
        return self._engine

    def _dispatch(self, outputs: list[Any]) -> int:
        """Writes the ``bytes`` outputs and queues the events; returns the bytes written.
        Call with ``self.lock`` held."""
        written = 0
        for item in outputs:
            if isinstance(item, bytes):
                if isEnabledForTrace():
                    trace(f"++Sent raw: {item!r}")
                self._send(item)
                written += len(item)
            else:
                self._events.append(item)
        if self._engine_mask is not None and self._engine is not None:
            err = self._engine.take_mask_error()
            if err is not None:
                raise err
        return written

    def _send(self, data: bytes) -> None:
        if self.dispatcher is not None and hasattr(self.dispatcher, "send"):
            while data:
                n = self.dispatcher.send(self.sock, data)
                data = data[n:]
            return
        send_all(self.sock, data)

    def _op(self, name: str, *args: Any) -> int:
        with self.lock:
            engine = self._engine_or_raise()
            try:
                outputs = getattr(engine, name)(*args)
            except _core.EngineError as e:
                raise self._op_error(e) from e
            return self._dispatch(outputs)

    @staticmethod
    def _op_error(e: _core.EngineError) -> Exception:
        kind, message = e.args[0], e.args[1]
        if kind == "invalid_state":
            return WebSocketConnectionClosedException("socket is already closed.")
        if kind == "invalid_utf8":
            return WebSocketPayloadException(message)
        if kind in ("control_payload_too_long", "reason_too_long", "invalid_close_code"):
            return WebSocketProtocolException(message)
        return WebSocketException(message)

    def _feed(self, data: bytes) -> None:
        if isEnabledForTrace():
            trace(f"++Rcv raw: {data!r}")
        with self.lock:
            engine = self._engine_or_raise()
            self._dispatch(engine.receive(data, _now_ms()) if data else engine.receive_eof(_now_ms()))

    def _read_once(self) -> None:
        """One socket read fed to the engine (the end of the stream included)."""
        engine = self._engine_or_raise()
        deadline = engine.poll_timeout()
        if deadline is not None and deadline <= _now_ms():
            with self.lock:
                self._dispatch(engine.handle_timeout(_now_ms()))
            return
        if self.sock is None:
            raise WebSocketConnectionClosedException("Connection is closed")
        size = self._read_size
        data = recv_some(self.sock, size)
        # Fewer system calls for large messages, no large buffers for small ones.
        if len(data) == size:
            self._read_size = MAX_READ_SIZE
        elif size > READ_SIZE and len(data) < READ_SIZE // 2:
            self._read_size = READ_SIZE
        self._feed(data)
        if not data and not self._events:
            # The stream ended and the connection had nothing more to say.
            raise self._lost()

    def _next_event(self) -> Event:
        while not self._events:
            self._read_once()
        return self._events.popleft()

    def _lost(self, message: str = "Connection to remote host was lost.") -> WebSocketConnectionClosedException:
        if self.sock is not None:
            try:
                self.sock.close()
            except OSError:
                pass
        self.sock = None
        self.connected = False
        return WebSocketConnectionClosedException(message)

    # ------------------------------------------------------------------ connecting

    def connect(self, url: str, **options: Any) -> None:
        """Connects to ``url`` (``ws://`` or ``wss://``) and completes the handshake.
        Options: ``header`` (list, dict or callable), ``cookie``, ``origin``,
        ``suppress_origin``, ``subprotocols``, ``timeout``, ``redirect_limit`` (3),
        ``http_proxy_host``/``_port``/``_auth``/``_timeout``, ``http_no_proxy``,
        ``proxy_type`` ("http"), ``socket`` (already connected); steadysock's own:
        ``enable_deflate`` (True: offer permessage-deflate)."""
        self.sock_opt.timeout = options.get("timeout", self.sock_opt.timeout)
        pre = options.pop("socket", None)
        redirects = int(options.pop("redirect_limit", 3))
        try:
            while True:
                target = parse_target(url)
                self.sock = open_socket(target, self.sock_opt, proxy_info(**options), pre)
                pre = None
                location = self._handshake(url, target, options)
                if location is None:
                    break
                if redirects <= 0:
                    raise WebSocketException("Redirect limit exhausted")
                redirects -= 1
                self.sock.close()
                self.sock = None
                url = location
            self.connected = True
        except BaseException:
            if self.sock is not None:
                self.sock.close()
                self.sock = None
            raise

    def _handshake(self, url: str, target: Any, options: dict[str, Any]) -> Optional[str]:
        """Runs the upgrade; returns the Location to follow for a redirect, else None."""
        headers = _request_headers(url, target, options)
        try:
            engine = _core.ClientConnection(
                url,
                headers,
                list(options.get("subprotocols") or []),
                _now_ms(),
                handshake_timeout_ms=None,
                accept_masked_frames=True,
                deliver_fragments=True,
                deflate=bool(options.get("enable_deflate", True)),
            )
        except _core.EngineError as e:
            raise WebSocketException(e.args[1]) from e
        self._engine = engine
        self._engine_mask = None
        self._events.clear()
        self.handshake_response = None
        with self.lock:
            outputs = self._engine_or_raise().take_output()
            if isEnabledForTrace() and outputs and isinstance(outputs[0], bytes):
                dump("request header", outputs[0].decode("latin-1"))
            self._dispatch(outputs)
        while True:
            while not self._events:
                self._read_once()
            event = self._events[0]
            kind = event[0]
            if kind == "open":
                self._events.popleft()
                _, subprotocol, resp_headers = event
                hdrs = _headers_dict(resp_headers)
                if isEnabledForTrace():
                    dump("response header", "\n".join(f"{k}: {v}" for k, v in resp_headers))
                self.handshake_response = handshake_response(101, hdrs, subprotocol)
                return None
            if kind == "handshake_failed":
                self._events.clear()
                return self._handshake_failed(event)
            self._events.popleft()

    def _handshake_failed(self, event: Event) -> str:
        _, kind, message, status, resp_headers, body = event
        if kind == "rejected":
            hdrs = _headers_dict(resp_headers)
            if status in SUPPORTED_REDIRECT_STATUSES:
                location = hdrs.get("location")
                if location is None:
                    raise WebSocketException(f"Redirect response without Location header, status {status}")
                try:
                    parse_target(location)
                except ValueError as e:
                    raise WebSocketException(f"Invalid redirect target {location!r}: {e}") from e
                return location
            try:
                phrase: Optional[str] = HTTPStatus(status).phrase
            except ValueError:
                phrase = None
            body_bytes = bytes(body) if body else None
            body_text = body_bytes.decode("utf-8", errors="replace") if body_bytes else None
            raise WebSocketBadStatusException(
                f"Handshake status {status} {phrase} -+-+- {hdrs} -+-+- {body_text}",
                status,
                phrase,
                hdrs,
                body_bytes,
            )
        if kind == "invalid_response":
            error(message)
            raise WebSocketException("Invalid WebSocket Header")
        if kind == "timeout":
            raise WebSocketTimeoutException(message)
        if kind == "connection_closed":
            raise WebSocketConnectionClosedException("Connection to remote host was lost.")
        raise WebSocketException(message)

    # ------------------------------------------------------------------ sending

    def send(self, payload: Union[bytes, str], opcode: int = ABNF.OPCODE_TEXT) -> int:
        """Sends one message (or control frame); returns the bytes written."""
        if opcode == ABNF.OPCODE_TEXT:
            if isinstance(payload, str):
                return self._op("send_text", payload)
            return self._op("send_text_bytes", bytes(payload))
        if opcode == ABNF.OPCODE_BINARY:
            return self._op("send_binary", payload.encode("utf-8") if isinstance(payload, str) else bytes(payload))
        return self.send_frame(ABNF.create_frame(payload, opcode))

    def send_text(self, text_data: str) -> int:
        return self.send(text_data, ABNF.OPCODE_TEXT)

    def send_bytes(self, data: Union[bytes, bytearray]) -> int:
        return self.send(bytes(data), ABNF.OPCODE_BINARY)

    def send_binary(self, payload: bytes) -> int:
        return self.send(payload, ABNF.OPCODE_BINARY)

    def send_frame(self, frame: ABNF) -> int:
        """Sends ``frame``. The core frames messages itself: a data frame with ``fin=0``
        is held (up to the core's message size limit) and sent, as one message, with the
        frame that has ``fin=1``; control frames map to ping, pong and close."""
        data = frame.data.encode("utf-8") if isinstance(frame.data, str) else bytes(frame.data)
        if isEnabledForTrace():
            trace(f"++Sent decoded: {frame}")
        op = frame.opcode
        if op in (ABNF.OPCODE_TEXT, ABNF.OPCODE_BINARY, ABNF.OPCODE_CONT):
            if op == ABNF.OPCODE_CONT:
                if self._fragments is None:
                    raise WebSocketProtocolException("a continuation frame with nothing to continue")
                self._fragments[1].append(data)
            else:
                if self._fragments is not None:
                    raise WebSocketProtocolException("a new message before the last one ended")
                self._fragments = (op, [data])
            if not frame.fin:
                return len(data)
            kind, parts = self._fragments
            self._fragments = None
            whole = b"".join(parts)
            return self._op("send_text_bytes" if kind == ABNF.OPCODE_TEXT else "send_binary", whole)
        if op == ABNF.OPCODE_PING:
            return self._op("ping", data)
        if op == ABNF.OPCODE_PONG:
            return self._op("pong", data)
        if op == ABNF.OPCODE_CLOSE:
            if len(data) >= 2:
                code = struct.unpack("!H", data[:2])[0]
                reason = data[2:].decode("utf-8", errors="replace")
            else:
                code, reason = 1005, ""
            self.connected = False
            return self._op("close", code, reason, _now_ms())
        raise ValueError("Invalid OPCODE")

    def ping(self, payload: Union[str, bytes] = "") -> None:
        self._op("ping", payload.encode("utf-8") if isinstance(payload, str) else bytes(payload))

    def pong(self, payload: Union[str, bytes] = "") -> None:
        self._op("pong", payload.encode("utf-8") if isinstance(payload, str) else bytes(payload))

    # ------------------------------------------------------------------ receiving

    def _recv_item(self, control_frame: bool, frames: bool = False) -> tuple[int, Union[str, bytes], int]:
        """The next message, close or (with ``control_frame``) ping/pong, as (opcode, data,
        fin). ``frames``: each frame of a fragmented message as it comes (opcode as sent,
        its own payload), instead of the whole message."""
        while True:
            event = self._next_event()
            kind = event[0]
            if kind == "message":
                data = event[1]
                return (ABNF.OPCODE_TEXT if isinstance(data, str) else ABNF.OPCODE_BINARY), data, 1
            if kind == "fragment":
                if frames:
                    _, opcode, fin, data = event
                    if fin and self._events and self._events[0][0] == "message":
                        # The whole message, which the core reports right after its last frame.
                        self._events.popleft()
                    return opcode, data, int(fin)
            elif kind == "ping":
                if control_frame:
                    return ABNF.OPCODE_PING, event[1], 1
            elif kind == "pong":
                if control_frame:
                    return ABNF.OPCODE_PONG, event[1], 1
            elif kind == "error":
                _, err_kind, message, code = event
                if code == 1007:
                    raise WebSocketPayloadException(message)
                if err_kind == "keepalive_timeout":
                    raise WebSocketTimeoutException(message)
                raise WebSocketProtocolException(message)
            elif kind == "closed":
                _, code, reason, clean, remote = event
                self.connected = False
                if clean or (remote and code != 1006):
                    payload = b"" if code == 1005 else struct.pack("!H", code) + reason.encode("utf-8")
                    self.close_frame = ABNF(1, 0, 0, 0, ABNF.OPCODE_CLOSE, 1, payload)
                    return ABNF.OPCODE_CLOSE, payload, 1
                raise self._lost()
            elif kind == "handshake_failed":
                raise self._lost()

    def recv(self) -> Union[str, bytes]:
        """The next message: ``str`` for text, ``bytes`` for binary, ``""`` for a close."""
        with self.readlock:
            opcode, data, _ = self._recv_item(False)
        if opcode == ABNF.OPCODE_TEXT or opcode == ABNF.OPCODE_BINARY:
            return data
        return ""

    def recv_data(self, control_frame: bool = False) -> tuple[int, bytes]:
        """(opcode, payload bytes) of the next message (or control frame)."""
        opcode, frame = self.recv_data_frame(control_frame)
        data = frame.data
        return opcode, data.encode("utf-8") if isinstance(data, str) else data

    def recv_data_frame(self, control_frame: bool = False) -> tuple[int, ABNF]:
        """(opcode, frame) of the next message (or control frame). Without
        ``fire_cont_frame`` a fragmented message arrives whole, as one frame with ``fin=1``;
        with it, frame by frame as websocket-client delivers them: the first with the
        message's opcode, the rest as ``OPCODE_CONT``, the last with ``fin=1``."""
        return self._frame(control_frame, bool(self.fire_cont_frame))

    def _frame(self, control_frame: bool, frames: bool) -> tuple[int, ABNF]:
        with self.readlock:
            opcode, data, fin = self._recv_item(control_frame, frames)
        payload = data.encode("utf-8") if isinstance(data, str) else data
        frame = ABNF(fin, 0, 0, 0, opcode, 0, payload)
        if isEnabledForTrace():
            trace(f"++Rcv decoded: {frame}")
        return opcode, frame

    def recv_frame(self) -> ABNF:
        """The next frame as it came: each frame of a fragmented message on its own
        (``fin``, ``opcode``, its payload), control frames and the close frame included."""
        return self._frame(True, True)[1]

    # ------------------------------------------------------------------ closing

    def send_close(self, status: int = STATUS_NORMAL, reason: Union[str, bytes] = b"") -> None:
        """Sends a close frame and does not wait for the answer."""
        if status < 0 or status >= ABNF.LENGTH_16:
            raise ValueError("code is invalid range")
        self.connected = False
        self.send(struct.pack("!H", status) + _reason_bytes(reason), ABNF.OPCODE_CLOSE)

    def close(
        self, status: int = STATUS_NORMAL, reason: Union[str, bytes] = b"", timeout: Optional[Union[int, float]] = 3
    ) -> None:
        """Closing handshake: sends a close frame, waits up to ``timeout`` seconds (None:
        forever) for the peer's (kept in ``close_frame``), then closes the socket."""
        if status < 0 or status >= ABNF.LENGTH_16:
            raise ValueError("code is invalid range")
        if not self.connected:
            self.shutdown()
            return
        self.close_frame = None
        try:
            self.connected = False
            self.send(struct.pack("!H", status) + _reason_bytes(reason), ABNF.OPCODE_CLOSE)
            if self.sock is None:
                return
            old = self.sock.gettimeout() if hasattr(self.sock, "gettimeout") else None
            start = time.monotonic()
            while timeout is None or time.monotonic() - start < timeout:
                if hasattr(self.sock, "settimeout"):
                    left = None if timeout is None else max(0.001, timeout - (time.monotonic() - start))
                    self.sock.settimeout(left)
                try:
                    opcode, data, _ = self._recv_item(True)
                except (WebSocketConnectionClosedException, WebSocketTimeoutException):
                    break
                if opcode == ABNF.OPCODE_CLOSE:
                    if isinstance(data, bytes) and len(data) >= 2:
                        code = struct.unpack("!H", data[:2])[0]
                        if code != STATUS_NORMAL and not 3000 <= code <= 4999:
                            error(f"close status: {code!r}")
                    break
            if self.sock is not None:
                if hasattr(self.sock, "settimeout"):
                    self.sock.settimeout(old)
                self.sock.shutdown(socket.SHUT_RDWR)
        except Exception as e:  # noqa: BLE001 - close() never raises, as in websocket-client
            debug(f"close: {e!r}")
        self.shutdown()

    def abort(self) -> None:
        """Wakes threads blocked in ``recv*`` by shutting the socket down."""
        if self.connected and self.sock is not None:
            try:
                self.sock.shutdown(socket.SHUT_RDWR)
            except (OSError, AttributeError):
                debug("Socket already closed during abort")

    def shutdown(self) -> None:
        """Closes the socket at once."""
        if self.sock is not None:
            try:
                self.sock.close()
            except (OSError, AttributeError):
                debug("Socket already closed during shutdown")
        self.sock = None
        self.connected = False


def create_connection(
    url: str, timeout: Optional[Union[float, int]] = None, class_: type[WebSocket] = WebSocket, **options: Any
) -> WebSocket:
    """Connects to ``url`` and returns the connected ``class_`` instance. ``timeout``
    defaults to ``getdefaulttimeout()``; other options as for ``WebSocket.connect``."""
    sockopt = options.pop("sockopt", [])
    sslopt = options.pop("sslopt", {})
    fire_cont_frame = options.pop("fire_cont_frame", False)
    enable_multithread = options.pop("enable_multithread", True)
    skip_utf8_validation = options.pop("skip_utf8_validation", False)
    websock = class_(
        sockopt=sockopt,
        sslopt=sslopt,
        fire_cont_frame=fire_cont_frame,
        enable_multithread=enable_multithread,
        skip_utf8_validation=skip_utf8_validation,
        **options,
    )
    websock.settimeout(timeout if timeout is not None else getdefaulttimeout())
    websock.connect(url, **options)
    return websock
