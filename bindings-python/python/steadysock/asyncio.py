"""``steadysock.asyncio``: an asyncio WebSocket client on the Rust core.

>>> async with steadysock.asyncio.connect("ws://127.0.0.1:9002/") as ws:
...     await ws.send("hello")
...     print(await ws.recv())
...     async for message in ws:
...         ...

``connect(url, reconnect=True)`` gives a ``ReconnectingConnection`` on the core's
``Session``: the same methods, and one message iterator that survives reconnects (it
ends only on ``close()`` or when the session gives up); ``recovered`` and ``opens`` say
what the last (re)connection did. ``url`` may be a function (plain or ``async def``)
returning the URL, or ``(url, headers)``; the reconnecting form calls it for every
attempt (the core's ``need_request``).

Built on asyncio transports and protocols — no threads. The protocol decisions
(handshake, framing, masking, UTF-8, keepalive, closing handshake, reconnect backoff) are
the core's; this module writes its bytes, arms its one timer (``loop.call_at``) and
queues its messages. ``recv()`` is cancellation-safe (a cancelled ``recv`` loses no
message); ``close()`` (or leaving ``async with``) returns when the transports are gone,
and leaves no task and no timer behind, even when it is itself cancelled.
"""

from __future__ import annotations

import asyncio
import collections
import inspect
import json
import logging
import os
import socket
import ssl as ssl_module
from collections.abc import AsyncIterator, Awaitable, Coroutine, Generator, Iterable, Mapping
from http import HTTPStatus
from types import TracebackType
from typing import Any, Callable, Optional, Union

from . import _core
from ._exceptions import (
    WebSocketBadStatusException,
    WebSocketConnectionClosedException,
    WebSocketException,
    WebSocketProxyException,
    WebSocketTimeoutException,
)
from ._transport import (
    MAX_PROXY_HEAD,
    ProxyInfo,
    check_connect_response,
    connect_request,
    proxy_info,
    proxy_route,
    socks_error,
    socks_proxy,
    ssl_context,
)

__all__ = [
    "connect",
    "ClientConnection",
    "ReconnectingConnection",
    "ConnectionClosed",
    "ConnectionClosedOK",
    "ConnectionClosedError",
]

logger = logging.getLogger("steadysock")

Data = Union[str, bytes]
HeadersLike = Union[Mapping[str, str], Iterable[tuple[str, str]], None]
UrlResult = Union[str, tuple[str, HeadersLike]]
UrlSource = Union[str, Callable[[], Union[UrlResult, Awaitable[UrlResult]]]]

READ_LIMIT = 64 << 10  # bytes a paused-reading queue may grow by before the transport stops


class ConnectionClosed(WebSocketConnectionClosedException):
    """The connection is closed: ``code`` and ``reason`` of the closing handshake (``code``
    None when it ended without one)."""

    def __init__(self, code: Optional[int], reason: str, detail: str = "") -> None:
        super().__init__(detail or f"connection closed (code {code}, reason {reason!r})")
        self.code = code
        self.reason = reason


class ConnectionClosedOK(ConnectionClosed):
    """Closed with 1000 or 1001."""


class ConnectionClosedError(ConnectionClosed):
    """Closed with another code, or without a closing handshake."""


def _closed(code: Optional[int], reason: str, detail: str = "") -> ConnectionClosed:
    cls = ConnectionClosedOK if code in (1000, 1001) else ConnectionClosedError
    return cls(code, reason, detail)


def _header_list(headers: HeadersLike) -> list[tuple[str, str]]:
    if headers is None:
        return []
    if isinstance(headers, Mapping):
        return [(str(k), str(v)) for k, v in headers.items()]
    return [(str(k), str(v)) for k, v in headers]


async def _resolve_url(source: UrlSource) -> tuple[str, list[tuple[str, str]]]:
    """The URL (and extra headers) from a string or a (sync or async) provider."""
    result: Any = source
    if callable(source):
        result = source()
        if inspect.isawaitable(result):
            result = await result
    if isinstance(result, str):
        return result, []
    url, headers = result
    return str(url), _header_list(headers)


def _ssl_for(
    secure: bool, ssl: Union[ssl_module.SSLContext, bool, None], sslopt: Optional[dict[str, Any]] = None
) -> Optional[ssl_module.SSLContext]:
    if isinstance(ssl, ssl_module.SSLContext):
        return ssl
    if sslopt and (secure or ssl):
        return ssl_context(sslopt)
    if secure or ssl:
        return ssl_module.create_default_context()
    return None


async def _proxied_socket(
    loop: asyncio.AbstractEventLoop, proxy: ProxyInfo, secure: bool, host: str, port: int
) -> Optional[socket.socket]:
    """A socket to ``host:port`` through the proxy (None: go direct), with the event loop's
    socket operations: an HTTP CONNECT tunnel, or SOCKS by ``python-socks``'s asyncio
    ``Proxy`` (``proxy_type``)."""
    via = proxy_route(host, secure, proxy)
    if via is None:
        return None
    if proxy.type != "http":
        socks, p = socks_proxy(proxy, "async_.asyncio")
        try:
            sock: socket.socket = await p.connect(host, port, timeout=proxy.timeout)
        except Exception as e:
            mapped = socks_error(socks, e)
            if mapped is None:
                raise
            raise mapped from e
        return sock
    infos = await loop.getaddrinfo(via[0], via[1], type=socket.SOCK_STREAM)
    if not infos:
        raise WebSocketProxyException(f"proxy host not found: {via[0]}")
    family, kind, proto, _, addr = infos[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setblocking(False)
        await asyncio.wait_for(loop.sock_connect(sock, addr), proxy.timeout)
        await loop.sock_sendall(sock, connect_request(host, port, via[2]))
        head = b""
        while not head.endswith(b"\r\n\r\n"):  # a byte at a time: nothing after the head
            b = await asyncio.wait_for(loop.sock_recv(sock, 1), proxy.timeout)
            if not b:
                raise WebSocketProxyException("the proxy closed the connection")
            head += b
            if len(head) > MAX_PROXY_HEAD:
                raise WebSocketProxyException("the proxy's response head is too large")
        check_connect_response(head)
    except BaseException:
        sock.close()
        raise
    return sock


async def _dial(
    loop: asyncio.AbstractEventLoop,
    factory: Callable[[], asyncio.Protocol],
    secure: bool,
    host: str,
    port: int,
    ctx: Optional[ssl_module.SSLContext],
    server_hostname: Optional[str],
    proxy: ProxyInfo,
) -> None:
    """Opens the transport to ``host:port`` (through the proxy, TLS with ``ctx``)."""
    name = (server_hostname or host) if ctx is not None else None
    sock = await _proxied_socket(loop, proxy, secure, host, port)
    if sock is None:
        await loop.create_connection(factory, host, port, ssl=ctx, server_hostname=name)
    else:
        await loop.create_connection(factory, sock=sock, ssl=ctx, server_hostname=name)


def _now_ms(loop: asyncio.AbstractEventLoop) -> int:
    return int(loop.time() * 1000)


class _Timer:
    """The one timer a core object asks for (``poll_timeout``), as a ``TimerHandle``."""

    def __init__(self, loop: asyncio.AbstractEventLoop, fire: Callable[[], None]) -> None:
        self._loop = loop
        self._fire = fire
        self._handle: Optional[asyncio.TimerHandle] = None
        self._at: Optional[int] = None

    def arm(self, deadline_ms: Optional[int]) -> None:
        if deadline_ms == self._at and self._handle is not None:
            return
        self.cancel()
        if deadline_ms is not None:
            self._at = deadline_ms
            self._handle = self._loop.call_at(deadline_ms / 1000, self._run)

    def _run(self) -> None:
        self._handle = None
        self._at = None
        self._fire()

    def cancel(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
        self._handle = None
        self._at = None


class _Protocol(asyncio.Protocol):
    """One transport's bytes, handed to its owner."""

    def __init__(self, owner: _Base, tid: int) -> None:
        self.owner = owner
        self.tid = tid
        self.transport: Optional[asyncio.Transport] = None
        self.lost: asyncio.Future[None] = owner._loop.create_future()
        self.forgotten = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        if not self.forgotten:
            self.owner._data(self, data)

    def eof_received(self) -> Optional[bool]:
        return None  # close the transport; connection_lost reports the end

    def connection_lost(self, exc: Optional[Exception]) -> None:
        if not self.lost.done():
            self.lost.set_result(None)
        if not self.forgotten:
            self.owner._lost(self, exc)
        self.owner._writable_changed()

    def pause_writing(self) -> None:
        self.owner._write_paused.add(self.tid)

    def resume_writing(self) -> None:
        self.owner._write_paused.discard(self.tid)
        self.owner._writable_changed()


class _Base:
    """The message inbox, waiters and write flow control both connection kinds share."""

    def __init__(self, loop: asyncio.AbstractEventLoop, max_queue: Optional[int]) -> None:
        self._loop = loop
        self._max_queue = max_queue
        self._messages: collections.deque[Data] = collections.deque()
        self._waiters: list[asyncio.Future[None]] = []
        self._closed_exc: Optional[ConnectionClosed] = None
        self._write_paused: set[int] = set()
        self._reading_paused = False
        self.subprotocol: Optional[str] = None

    # ------------------------------------------------------------------ hooks

    def _data(self, proto: _Protocol, data: bytes) -> None:
        raise NotImplementedError

    def _lost(self, proto: _Protocol, exc: Optional[Exception]) -> None:
        raise NotImplementedError

    def _reading_transports(self) -> Iterable[asyncio.Transport]:
        raise NotImplementedError

    # ------------------------------------------------------------------ inbox

    def _wake(self) -> None:
        for w in self._waiters:
            if not w.done():
                w.set_result(None)
        self._waiters.clear()

    def _writable_changed(self) -> None:
        self._wake()

    def _push(self, message: Data) -> None:
        self._messages.append(message)
        if self._max_queue is not None and len(self._messages) >= self._max_queue and not self._reading_paused:
            self._reading_paused = True
            for t in self._reading_transports():
                t.pause_reading()
        self._wake()

    def _finish(self, exc: ConnectionClosed) -> None:
        if self._closed_exc is None:
            self._closed_exc = exc
        self._wake()

    async def _wait(self) -> None:
        w: asyncio.Future[None] = self._loop.create_future()
        self._waiters.append(w)
        try:
            await w
        finally:
            if w in self._waiters:
                self._waiters.remove(w)

    async def recv(self) -> Data:
        """The next message (``str`` for text, ``bytes`` for binary); ``ConnectionClosed``
        once the connection is closed and every received message was taken.
        Cancellation-safe: a cancelled ``recv`` takes no message."""
        while not self._messages:
            if self._closed_exc is not None:
                raise self._closed_exc
            await self._wait()
        message = self._messages.popleft()
        if self._reading_paused and (self._max_queue is None or len(self._messages) < self._max_queue // 2 + 1):
            self._reading_paused = False
            for t in self._reading_transports():
                t.resume_reading()
        return message

    def __aiter__(self) -> AsyncIterator[Data]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[Data]:
        while True:
            try:
                yield await self.recv()
            except ConnectionClosedOK:
                return

    async def _drain(self) -> None:
        while self._write_paused and self._closed_exc is None:
            await self._wait()

    @property
    def closed(self) -> bool:
        return self._closed_exc is not None

    @property
    def close_code(self) -> Optional[int]:
        return None if self._closed_exc is None else self._closed_exc.code

    @property
    def close_reason(self) -> Optional[str]:
        return None if self._closed_exc is None else self._closed_exc.reason

    async def __aenter__(self) -> Any:
        return self

    async def __aexit__(
        self, exc_type: Optional[type[BaseException]], exc: Optional[BaseException], tb: Optional[TracebackType]
    ) -> None:
        await self.close()

    async def close(self, code: int = 1000, reason: str = "") -> None:
        raise NotImplementedError


class ClientConnection(_Base):
    """One WebSocket connection (the core's ``Connection``) over one asyncio transport."""

    def __init__(self, loop: asyncio.AbstractEventLoop, core: _core.ClientConnection, max_queue: Optional[int]) -> None:
        super().__init__(loop, max_queue)
        self._core = core
        self._proto = _Protocol(self, 1)
        self._timer = _Timer(loop, self._on_timer)
        self._opened: asyncio.Future[None] = loop.create_future()
        self._pings: dict[bytes, tuple[asyncio.Future[float], float]] = {}
        self._error: Optional[str] = None
        self.response_headers: list[tuple[str, str]] = []

    # ------------------------------------------------------------------ the core's outputs

    def _feed(self, outputs: list[_core.Output]) -> None:
        transport = self._proto.transport
        for item in outputs:
            if isinstance(item, bytes):
                if transport is not None and not transport.is_closing():
                    transport.write(item)
            else:
                self._event(item)
        if transport is not None and self._core.should_close_transport and not transport.is_closing():
            transport.close()
        self._timer.arm(self._core.poll_timeout())

    def _event(self, event: tuple[object, ...]) -> None:
        kind = event[0]
        if kind == "message":
            message = event[1]
            assert isinstance(message, (str, bytes))
            self._push(message)
        elif kind == "pong":
            payload = bytes(event[1])  # type: ignore[call-overload]
            waiter = self._pings.pop(payload, None)
            if waiter is not None and not waiter[0].done():
                waiter[0].set_result(self._loop.time() - waiter[1])
        elif kind == "open":
            self.subprotocol = event[1]  # type: ignore[assignment]
            self.response_headers = list(event[2])  # type: ignore[call-overload]
            if not self._opened.done():
                self._opened.set_result(None)
        elif kind == "handshake_failed":
            if not self._opened.done():
                self._opened.set_exception(_handshake_error(event))
        elif kind == "error":
            self._error = str(event[2])
            logger.debug("connection error: %s", event[2])
        elif kind == "closed":
            code, reason = event[1], event[2]
            assert isinstance(code, int) and isinstance(reason, str)
            exc = _closed(None if code == 1006 else code, reason, self._error or "")
            self._finish(exc)
            for ping_waiter, _ in self._pings.values():
                if not ping_waiter.done():
                    ping_waiter.set_exception(exc)
            self._pings.clear()
            if not self._opened.done():
                self._opened.set_exception(exc)

    def _on_timer(self) -> None:
        self._feed(self._core.handle_timeout(_now_ms(self._loop)))

    def _data(self, proto: _Protocol, data: bytes) -> None:
        self._feed(self._core.receive(data, _now_ms(self._loop)))

    def _lost(self, proto: _Protocol, exc: Optional[Exception]) -> None:
        self._feed(self._core.receive_eof(_now_ms(self._loop)))
        self._timer.cancel()
        self._finish(_closed(None, "", str(exc) if exc else "the connection ended"))

    def _reading_transports(self) -> Iterable[asyncio.Transport]:
        t = self._proto.transport
        return [] if t is None or t.is_closing() else [t]

    # ------------------------------------------------------------------ user calls

    def _check_open(self) -> None:
        if self._closed_exc is not None:
            raise self._closed_exc
        if self._core.state != "open":
            raise _closed(None, "", "the connection is closing")

    async def send(self, message: Union[str, bytes, bytearray, memoryview]) -> None:
        """Sends a text (``str``) or binary message; waits while the transport's write
        buffer is full."""
        self._check_open()
        try:
            if isinstance(message, str):
                outputs = self._core.send_text(message)
            else:
                outputs = self._core.send_binary(bytes(message))
        except _core.EngineError as e:
            raise WebSocketException(e.args[1]) from e
        self._feed(outputs)
        await self._drain()

    async def ping(self, data: Union[str, bytes, None] = None) -> asyncio.Future[float]:
        """Sends a ping; the returned future gives the round trip time (seconds) when its
        pong arrives (``ConnectionClosed`` if the connection closes first)."""
        self._check_open()
        payload = os.urandom(4) if data is None else data.encode() if isinstance(data, str) else bytes(data)
        while data is None and payload in self._pings:
            payload = os.urandom(4)
        waiter: asyncio.Future[float] = self._loop.create_future()
        self._pings[payload] = (waiter, self._loop.time())
        self._feed(self._core.ping(payload))
        await self._drain()
        return waiter

    async def close(self, code: int = 1000, reason: str = "") -> None:
        """The closing handshake (bounded by the core's close timeout); returns when the
        transport is gone."""
        try:
            if self._closed_exc is None:
                self._feed(self._core.close(code, reason, _now_ms(self._loop)))
            if self._proto.transport is not None:
                await asyncio.shield(self._proto.lost)
        finally:
            self._abort()

    def _abort(self) -> None:
        """Lets go at once: the transport, the timer, every waiter."""
        self._timer.cancel()
        t = self._proto.transport
        if t is not None and not self._proto.lost.done():
            t.abort()
        if self._closed_exc is None:
            self._finish(_closed(None, "", "aborted"))
        if not self._opened.done():
            self._opened.cancel()

    async def _open(
        self,
        host: str,
        port: int,
        ssl: Optional[ssl_module.SSLContext],
        server_hostname: Optional[str],
        open_timeout: Optional[float],
        secure: bool = False,
        proxy: Optional[ProxyInfo] = None,
    ) -> None:
        try:
            await asyncio.wait_for(
                _dial(
                    self._loop,
                    lambda: self._proto,
                    secure,
                    host,
                    port,
                    ssl,
                    server_hostname,
                    proxy or proxy_info(),
                ),
                open_timeout,
            )
            self._feed(self._core.take_output())
            await self._opened
        except asyncio.TimeoutError as e:
            self._abort()
            raise WebSocketTimeoutException("timed out opening the connection") from e
        except BaseException:
            self._abort()
            raise


def _handshake_error(event: tuple[object, ...]) -> Exception:
    _, kind, message, status, resp_headers, body = event
    if kind == "rejected":
        assert isinstance(status, int)
        hdrs = {str(k).lower(): str(v) for k, v in resp_headers}  # type: ignore[attr-defined]
        try:
            phrase: Optional[str] = HTTPStatus(status).phrase
        except ValueError:
            phrase = None
        body_bytes = bytes(body) if body else None  # type: ignore[call-overload]
        return WebSocketBadStatusException(f"Handshake status {status} {phrase}", status, phrase, hdrs, body_bytes)
    if kind == "timeout":
        return WebSocketTimeoutException(str(message))
    return WebSocketException(f"handshake failed ({kind}): {message}")


_TRANSPORT_KINDS = {
    ConnectionRefusedError: "refused",
    ConnectionResetError: "reset",
    BrokenPipeError: "reset",
    asyncio.TimeoutError: "timeout",
}


def _error_kind(e: BaseException) -> str:
    import socket

    if isinstance(e, socket.gaierror):
        return "dns"
    if isinstance(e, ssl_module.SSLError) or isinstance(e, ssl_module.CertificateError):
        return "tls"
    for cls, kind in _TRANSPORT_KINDS.items():
        if isinstance(e, cls):
            return kind
    return "other"


class ReconnectingConnection(_Base):
    """A connection that reconnects (the core's ``Session``): one message iterator across
    every transport. ``recovered`` says whether the last (re)connection resumed the
    server-side session (``recovery``); ``opens`` counts opens."""

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        session: _core.Session,
        url_source: Optional[UrlSource],
        headers: list[tuple[str, str]],
        subprotocols: list[str],
        ssl: Union[ssl_module.SSLContext, bool, None],
        server_hostname: Optional[str],
        max_queue: Optional[int],
        proxy: Optional[ProxyInfo] = None,
        sslopt: Optional[dict[str, Any]] = None,
    ) -> None:
        super().__init__(loop, max_queue)
        self._proxy = proxy or proxy_info()
        self._sslopt = sslopt
        self._session = session
        self._url_source = url_source
        self._headers = headers
        self._subprotocols = subprotocols
        self._ssl = ssl
        self._server_hostname = server_hostname
        self._timer = _Timer(loop, self._on_timer)
        self._protos: dict[int, _Protocol] = {}
        self._tasks: dict[int, asyncio.Task[None]] = {}
        self._pending: collections.deque[tuple[Any, ...]] = collections.deque()
        self._draining = False
        self._first_open: asyncio.Future[None] = loop.create_future()
        self._done: asyncio.Future[None] = loop.create_future()
        self._pings: dict[bytes, tuple[asyncio.Future[float], float]] = {}
        self.recovered = False
        self.opens = 0
        self.attempt = 0

    # ------------------------------------------------------------------ the session's outputs

    def _call(self, name: str, *args: Any) -> None:
        self._feed(getattr(self._session, name)(*args, _now_ms(self._loop)))

    def _feed(self, outputs: list[tuple[Any, ...]]) -> None:
        self._pending.extend(outputs)
        if self._draining:
            return
        self._draining = True
        try:
            while self._pending:
                self._process(self._pending.popleft())
        finally:
            self._draining = False
        if self._done.done():
            self._timer.cancel()
        else:
            self._timer.arm(self._session.poll_timeout())

    def _later(self, name: str, *args: Any) -> None:
        self._pending.extend(getattr(self._session, name)(*args, _now_ms(self._loop)))

    def _process(self, out: tuple[Any, ...]) -> None:
        kind = out[0]
        if kind == "transmit":
            proto = self._protos.get(out[1])
            if proto is not None and proto.transport is not None and not proto.transport.is_closing():
                proto.transport.write(out[2])
        elif kind == "open_transport":
            self._start(out[1], self._open_transport(out[1], out[2]))
        elif kind == "close_transport":
            self._forget(out[1])
        elif kind == "need_request":
            self._start(out[1], self._provide(out[1]))
        elif kind == "open":
            _, self.attempt, self.recovered, self.subprotocol = out
            self.opens += 1
            if not self._first_open.done():
                self._first_open.set_result(None)
        elif kind == "migrated":
            self.recovered = out[1]
        elif kind == "pong":
            waiter = self._pings.pop(bytes(out[1]), None)
            if waiter is not None and not waiter[0].done():
                waiter[0].set_result(self._loop.time() - waiter[1])
        elif kind == "message":
            self._push(out[1])
        elif kind == "closed":
            _, code, reason, cause, text, will_reconnect, _tk = out
            logger.debug("transport closed (%s): %s; reconnect: %s", cause, text, will_reconnect)
            if not will_reconnect:
                self._end(_closed(code, reason or "", text))
        elif kind == "gave_up":
            self._end(_closed(None, "", f"gave up after {out[1]} attempts: {out[3]}"))
        elif kind == "reconnecting":
            logger.debug("reconnecting (attempt %s) in %s ms: %s", out[1], out[2], out[4])
        elif kind == "error":
            logger.debug("session error %s: %s", out[1], out[2])

    def _end(self, exc: ConnectionClosed) -> None:
        self._finish(exc)
        for waiter, _ in self._pings.values():
            if not waiter.done():
                waiter.set_exception(exc)
        self._pings.clear()
        if not self._first_open.done():
            self._first_open.set_exception(exc)
        if not self._done.done():
            self._done.set_result(None)

    def _start(self, tid: int, coro: Coroutine[Any, Any, None]) -> None:
        task: asyncio.Task[None] = self._loop.create_task(coro)
        self._tasks[tid] = task
        task.add_done_callback(lambda t: self._tasks.pop(tid, None) if self._tasks.get(tid) is t else None)

    async def _provide(self, tid: int) -> None:
        try:
            source = self._url_source
            assert source is not None
            url, headers = await _resolve_url(source)
        except asyncio.CancelledError:
            raise
        except Exception as e:  # noqa: BLE001 - the provider's failure fails this attempt
            logger.debug("URL provider failed: %s", e)
            self._call("provide_request_error", tid, str(e))
            return
        self._call("provide_request", tid, url, self._headers + headers, self._subprotocols)

    async def _open_transport(self, tid: int, url: str) -> None:
        secure, host, port, _ = _core.parse_url(url)
        proto = _Protocol(self, tid)
        try:
            ctx = _ssl_for(secure, self._ssl, self._sslopt)
            await _dial(self._loop, lambda: proto, secure, host, port, ctx, self._server_hostname, self._proxy)
        except asyncio.CancelledError:
            raise
        except Exception as e:  # noqa: BLE001 - every failure is reported to the session
            self._call("transport_error", tid, _error_kind(e), str(e))
            return
        if proto.lost.done():
            return
        self._protos[tid] = proto
        if self._reading_paused and proto.transport is not None:
            proto.transport.pause_reading()
        self._call("transport_connected", tid)

    def _forget(self, tid: int) -> None:
        task = self._tasks.pop(tid, None)
        if task is not None and not task.done():
            task.cancel()
        proto = self._protos.pop(tid, None)
        if proto is not None:
            proto.forgotten = True
            if proto.transport is not None and not proto.transport.is_closing():
                proto.transport.close()
            self._write_paused.discard(tid)

    def _on_timer(self) -> None:
        self._feed(self._session.handle_timeout(_now_ms(self._loop)))

    def _data(self, proto: _Protocol, data: bytes) -> None:
        self._call("transport_bytes", proto.tid, data)

    def _lost(self, proto: _Protocol, exc: Optional[Exception]) -> None:
        if self._protos.get(proto.tid) is not proto:
            return
        del self._protos[proto.tid]
        self._write_paused.discard(proto.tid)
        if exc is None:
            self._call("transport_closed", proto.tid, None, "")
        else:
            self._call("transport_error", proto.tid, _error_kind(exc), str(exc))

    def _reading_transports(self) -> Iterable[asyncio.Transport]:
        return [p.transport for p in self._protos.values() if p.transport is not None and not p.transport.is_closing()]

    # ------------------------------------------------------------------ user calls

    async def send(self, message: Union[str, bytes, bytearray, memoryview]) -> None:
        """Sends, or queues while reconnecting (the session's bounded queue; a full queue
        raises ``WebSocketException``)."""
        if self._closed_exc is not None:
            raise self._closed_exc
        try:
            if isinstance(message, str):
                outputs = self._session.send_text(message, _now_ms(self._loop))
            else:
                outputs = self._session.send_binary(bytes(message), _now_ms(self._loop))
        except _core.EngineError as e:
            raise WebSocketException(e.args[1]) from e
        self._feed(outputs)
        await self._drain()

    async def ping(self, data: Union[str, bytes, None] = None) -> asyncio.Future[float]:
        """A protocol ping on the current transport (not queued: ``WebSocketException``
        while reconnecting); the returned future gives the round trip time (seconds)."""
        if self._closed_exc is not None:
            raise self._closed_exc
        payload = os.urandom(4) if data is None else data.encode() if isinstance(data, str) else bytes(data)
        try:
            outputs = self._session.ping(payload, _now_ms(self._loop))
        except _core.EngineError as e:
            raise WebSocketException(e.args[1]) from e
        waiter: asyncio.Future[float] = self._loop.create_future()
        self._pings[payload] = (waiter, self._loop.time())
        self._feed(outputs)
        await self._drain()
        return waiter

    async def close(self, code: int = 1000, reason: str = "") -> None:
        """Stops reconnecting and closes (bounded by the session's close timeout); returns
        when every transport and task is gone."""
        try:
            if not self._done.done():
                self._feed(self._session.close(code, reason, _now_ms(self._loop)))
                await asyncio.shield(self._done)
            lost = [p.lost for p in self._protos.values()]
            if lost:
                await asyncio.shield(asyncio.gather(*lost))
        finally:
            self._abort()

    def _abort(self) -> None:
        self._timer.cancel()
        for tid in list(self._tasks):
            self._forget(tid)
        for tid, proto in list(self._protos.items()):
            self._forget(tid)
            if proto.transport is not None:
                proto.transport.abort()
        if not self._done.done():
            self._end(_closed(None, "", "aborted"))
        if not self._first_open.done():
            self._first_open.cancel()

    async def _start_session(self) -> None:
        try:
            self._feed(self._session.connect(_now_ms(self._loop)))
            await self._first_open
        except BaseException:
            self._abort()
            raise


class connect:
    """``await connect(url, …)`` or ``async with connect(url, …) as ws``.

    ``url``: a ``ws://``/``wss://`` URL, or a function (plain or ``async def``) returning the
    URL or ``(url, headers)``. ``reconnect=True``: a ``ReconnectingConnection`` (the core's
    ``Session``; ``session_options`` takes its ``SessionOptions`` keys, e.g. ``backoff``,
    ``max_retries``, ``recovery``); ``disconnect_warning``: a message pattern announcing a
    server disconnect (e.g. Slack's ``{"json": {"type": "disconnect"}}``): the session
    opens the next connection before the old one closes. ``ping_interval``/``ping_timeout``
    (seconds, None: off): the core's keepalive. ``max_queue``: received messages held
    before reading from the socket pauses (None: no limit). ``compression=None`` turns off
    permessage-deflate. ``ssl``: an ``SSLContext`` (default: the system's for wss://);
    ``sslopt``: websocket-client's TLS options instead (``ca_certs``, ``cert_reqs``,
    ``server_hostname``, ``context`` …). ``http_proxy_host``/``_port``/``_auth``/``_timeout``,
    ``http_no_proxy`` and ``proxy_type`` (http, socks4, socks4a, socks5, socks5h — SOCKS
    through the optional ``python-socks``) as in websocket-client, ``http_proxy``/
    ``https_proxy``/``no_proxy`` from the environment included.
    """

    def __init__(
        self,
        url: UrlSource,
        *,
        additional_headers: HeadersLike = None,
        subprotocols: Optional[list[str]] = None,
        ssl: Union[ssl_module.SSLContext, bool, None] = None,
        server_hostname: Optional[str] = None,
        open_timeout: Optional[float] = 10,
        close_timeout: Optional[float] = None,
        ping_interval: Optional[float] = 20,
        ping_timeout: Optional[float] = 20,
        max_size: Optional[int] = None,
        max_queue: Optional[int] = 16,
        compression: Optional[str] = "deflate",
        reconnect: bool = False,
        disconnect_warning: Optional[dict[str, Any]] = None,
        session_options: Optional[dict[str, Any]] = None,
        sslopt: Optional[dict[str, Any]] = None,
        http_proxy_host: Optional[str] = None,
        http_proxy_port: Optional[Union[int, str]] = None,
        http_proxy_auth: Optional[tuple[str, str]] = None,
        http_proxy_timeout: Optional[float] = None,
        http_no_proxy: Optional[list[str]] = None,
        proxy_type: Optional[str] = None,
    ) -> None:
        self.sslopt = dict(sslopt or {})
        self.proxy = proxy_info(
            http_proxy_host=http_proxy_host,
            http_proxy_port=http_proxy_port,
            http_proxy_auth=http_proxy_auth,
            http_proxy_timeout=http_proxy_timeout,
            http_no_proxy=http_no_proxy,
            proxy_type=proxy_type,
        )
        if server_hostname is None and self.sslopt.get("server_hostname"):
            server_hostname = str(self.sslopt["server_hostname"])
        self.url = url
        self.headers = _header_list(additional_headers)
        self.subprotocols = list(subprotocols or [])
        self.ssl = ssl
        self.server_hostname = server_hostname
        self.open_timeout = open_timeout
        self.close_timeout = close_timeout
        self.ping_interval = ping_interval
        self.ping_timeout = ping_timeout
        self.max_size = max_size
        self.max_queue = max_queue
        self.compression = compression
        self.reconnect = reconnect
        self.disconnect_warning = disconnect_warning
        self.session_options = dict(session_options or {})
        self._conn: Optional[Union[ClientConnection, ReconnectingConnection]] = None

    def __await__(self) -> Generator[Any, None, Union[ClientConnection, ReconnectingConnection]]:
        return self._open().__await__()

    async def __aenter__(self) -> Any:
        return await self._open()

    async def __aexit__(
        self, exc_type: Optional[type[BaseException]], exc: Optional[BaseException], tb: Optional[TracebackType]
    ) -> None:
        if self._conn is not None:
            await self._conn.close()

    def _ms(self, seconds: Optional[float]) -> Optional[int]:
        return None if seconds is None else int(seconds * 1000)

    async def _open(self) -> Union[ClientConnection, ReconnectingConnection]:
        loop = asyncio.get_running_loop()
        if self.reconnect:
            return await self._open_session(loop)
        url, extra = await _resolve_url(self.url)
        secure, host, port, _ = _core.parse_url(url)
        kwargs: dict[str, Any] = {
            "handshake_timeout_ms": self._ms(self.open_timeout),
            "deflate": self.compression is not None,
            "keepalive_interval_ms": self._ms(self.ping_interval),
            "keepalive_timeout_ms": self._ms(self.ping_timeout),
        }
        if self.close_timeout is not None:
            kwargs["close_timeout_ms"] = self._ms(self.close_timeout)
        if self.max_size is not None:
            kwargs["max_message_size"] = self.max_size
        core = _core.ClientConnection(url, self.headers + extra, self.subprotocols, _now_ms(loop), **kwargs)
        conn = ClientConnection(loop, core, self.max_queue)
        self._conn = conn
        await conn._open(
            host,
            port,
            _ssl_for(secure, self.ssl, self.sslopt),
            self.server_hostname,
            self.open_timeout,
            secure,
            self.proxy,
        )
        return conn

    async def _open_session(self, loop: asyncio.AbstractEventLoop) -> ReconnectingConnection:
        options: dict[str, Any] = {
            "control_frames": True,  # pongs for ping()
            "disconnect_warning": self.disconnect_warning,
            "subprotocols": self.subprotocols,
            "deflate": self.compression is not None,
            "keepalive": None
            if self.ping_interval is None
            else {
                "interval_ms": self._ms(self.ping_interval),
                "pong_timeout_ms": self._ms(self.ping_timeout) if self.ping_timeout is not None else 2**53 - 1,
            },
        }
        if self.open_timeout is not None:
            options["handshake_timeout_ms"] = self._ms(self.open_timeout)
            options["connect_timeout_ms"] = self._ms(self.open_timeout)
        if self.close_timeout is not None:
            options["close_timeout_ms"] = self._ms(self.close_timeout)
        if self.max_size is not None:
            options["max_message_size"] = self.max_size
        provided = callable(self.url)
        if provided:
            options["request_source"] = "provided"
            url = "ws://provided.invalid/"
        else:
            assert isinstance(self.url, str)
            url = self.url
            options["headers"] = [[k, v] for k, v in self.headers]
        options.update(self.session_options)
        session = _core.Session(url, json.dumps(options), _now_ms(loop))
        conn = ReconnectingConnection(
            loop,
            session,
            self.url if provided else None,
            self.headers,
            self.subprotocols,
            self.ssl,
            self.server_hostname,
            self.max_queue,
            self.proxy,
            self.sslopt,
        )
        self._conn = conn
        await conn._start_session()
        return conn
