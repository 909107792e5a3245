"""``SessionHost``: the I/O half of the core's ``Session`` over Python sockets.

The session decides; the host carries out its outputs in order — open a socket (DNS,
TCP, proxy, TLS through ``_transport``), write bytes, close a socket, answer
``need_request`` — feeds back what the sockets did, and arms the session's one timer as
the ``select`` timeout. Other threads call ``call()`` (an operation plus its outputs,
under the host's lock) and ``wake()`` the loop. Events go to ``on_event`` in order; an
event handler may call ``call()`` again: its outputs queue behind the ones being carried
out, so the wire order is the session's.

With a ``dispatcher`` (websocket-client's custom dispatcher protocol, e.g. ``rel``) the
host runs no loop of its own: it asks the dispatcher to watch each socket
(``dispatcher.read(sock, callback)``; the callback returns False once that socket is
gone), to call it back when the session's timer is due (``dispatcher.timeout(seconds,
callback)``, one-shot; re-armed after every step), to write (``buffwrite(sock, data,
send, on_error)`` when it has it) and to abort on SIGINT (``signal(2, abort)``).

Used by ``WebSocketApp`` and by the scenario agent (``scenario_agent.py``).
"""

from __future__ import annotations

import collections
import errno
import selectors
import socket
import ssl
import threading
import time
from typing import Any, Callable, Optional

from . import _core
from ._exceptions import WebSocketAddressException, WebSocketTimeoutException
from ._socket import sock_opt
from ._transport import ProxyInfo, open_socket, parse_target

__all__ = ["SessionHost", "now_ms"]

READ_SIZE = 64 << 10
TRANSPORT_LOG = 256
Output = tuple[Any, ...]
# (url, [(name, value)], [subprotocol]) for an attempt, or an exception that fails it.
RequestProvider = Callable[[int, int], tuple[str, list[tuple[str, str]], list[str]]]


def now_ms() -> int:
    return int(time.monotonic() * 1000)


def error_kind(e: BaseException) -> str:
    """The core's transport error name for a socket-level failure."""
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


class SessionHost:
    def __init__(
        self,
        session: _core.Session,
        on_event: Callable[[Output], None],
        opts: sock_opt,
        proxy: ProxyInfo,
        request_for: Optional[RequestProvider] = None,
        on_transport_error: Optional[Callable[[BaseException], None]] = None,
        pre_socket: Any = None,
        dispatcher: Any = None,
    ) -> None:
        self.session = session
        self.dispatcher = dispatcher
        # The dispatcher timer armed last: (deadline_ms, generation); older ones are stale.
        self._armed: Optional[int] = None
        self._timer_gen = 0
        self.on_event = on_event
        self.opts = opts
        self.proxy = proxy
        self.request_for = request_for
        self.on_transport_error = on_transport_error
        self.pre_socket = pre_socket
        self.lock = threading.RLock()
        self.sockets: dict[int, Any] = {}
        self.current: Optional[int] = None
        # (note, transport id): "requested", "connected", "closed", in order; the last
        # TRANSPORT_LOG entries (a host that runs for months keeps no history).
        self.transport_log: collections.deque[tuple[str, int]] = collections.deque(maxlen=TRANSPORT_LOG)
        self.running = True
        # Set when the session has a masking-key function: its failures go to
        # on_transport_error (the frames went out with OS-random keys).
        self.mask_errors = False
        self._pending: collections.deque[Output] = collections.deque()
        self._draining = False
        self._selector = selectors.DefaultSelector()
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._selector.register(self._wake_r, selectors.EVENT_READ, None)
        self._watched: dict[Any, Callable[[], None]] = {}
        if dispatcher is not None and hasattr(dispatcher, "signal") and hasattr(dispatcher, "abort"):
            dispatcher.signal(2, dispatcher.abort)

    # ------------------------------------------------------------------ from any thread

    def call(self, name: str, *args: Any) -> None:
        """Runs ``session.<name>(*args, now_ms)`` and carries out its outputs."""
        with self.lock:
            self.handle(getattr(self.session, name)(*args, now_ms()))
        self.wake()

    def wake(self) -> None:
        try:
            self._wake_w.send(b"\0")
        except OSError:
            pass

    def watch(self, fileobj: Any, on_readable: Callable[[], None]) -> None:
        """Also waits for ``fileobj`` in the loop (e.g. a command pipe)."""
        self._watched[fileobj] = on_readable
        self._selector.register(fileobj, selectors.EVENT_READ, "watched")

    # ------------------------------------------------------------------ the loop

    def run(self) -> None:
        """Serves sockets and the timer until ``running`` is False."""
        while self.running:
            deadline = self.session.poll_timeout()
            timeout = None if deadline is None else max(0.0, (deadline - now_ms()) / 1000)
            for key, _ in self._selector.select(timeout):
                if key.data is None:
                    self._drain_wake()
                elif key.data == "watched":
                    self._watched[key.fileobj]()
                else:
                    self._read(int(key.data), key.fileobj)
            deadline = self.session.poll_timeout()
            if deadline is not None and deadline <= now_ms():
                with self.lock:
                    self.handle(self.session.handle_timeout(now_ms()))

    def close(self) -> None:
        """Lets every socket go and releases the loop's resources."""
        self.running = False
        for sock in self.sockets.values():
            try:
                sock.close()
            except OSError:
                pass
        self.sockets.clear()
        self._selector.close()
        self._wake_r.close()
        self._wake_w.close()

    def _read(self, tid: int, sock: Any) -> None:
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
        with self.lock:
            for chunk in chunks:
                self.handle(self.session.transport_bytes(tid, chunk, now_ms()))
            if failure is not None:
                self.handle(self.session.transport_error(tid, error_kind(failure), str(failure), now_ms()))
            elif eof:
                self._forget(tid)
                self.handle(self.session.transport_closed(tid, None, "", now_ms()))

    def _drain_wake(self) -> None:
        try:
            while self._wake_r.recv(4096):
                pass
        except (BlockingIOError, OSError):
            pass

    # ------------------------------------------------------------------ outputs

    def handle(self, outputs: list[Output]) -> None:
        """Carries out outputs in order (call with ``lock`` held)."""
        self._pending.extend(outputs)
        if self._draining:
            return
        self._draining = True
        try:
            while self._pending:
                self._process(self._pending.popleft())
        finally:
            self._draining = False
        if self.mask_errors:
            err = self.session.take_mask_error()
            if err is not None and self.on_transport_error is not None:
                self.on_transport_error(err)
        if self.dispatcher is not None:
            self._arm_dispatcher_timer()

    # ------------------------------------------------------------------ with a dispatcher

    def _arm_dispatcher_timer(self) -> None:
        """Asks the dispatcher for a callback when the session's timer is due (unless an
        earlier one is armed already)."""
        deadline = self.session.poll_timeout() if self.running else None
        if deadline is None or (self._armed is not None and self._armed <= deadline):
            return
        self._armed = deadline
        self._timer_gen += 1
        self.dispatcher.timeout(max(0.0, (deadline - now_ms()) / 1000), self._dispatcher_timer, self._timer_gen)

    def _dispatcher_timer(self, gen: int) -> bool:
        if gen != self._timer_gen or not self.running:
            return False
        self._armed = None
        deadline = self.session.poll_timeout()
        with self.lock:
            if deadline is not None and deadline <= now_ms():
                self.handle(self.session.handle_timeout(now_ms()))
            else:
                self._arm_dispatcher_timer()
        return False  # one-shot: the next one is armed by handle()

    def _dispatcher_read(self, tid: int, sock: Any) -> bool:
        if not self.running or self.sockets.get(tid) is not sock:
            return False
        self._read(tid, sock)
        return self.running and self.sockets.get(tid) is sock

    def _write(self, tid: int, sock: Any, data: bytes) -> None:
        if self.dispatcher is not None and hasattr(self.dispatcher, "buffwrite"):

            def failed(message: Any = "write failed") -> None:
                with self.lock:
                    if self.sockets.get(tid) is sock:
                        self.handle(self.session.transport_error(tid, "other", str(message), now_ms()))

            self.dispatcher.buffwrite(sock, data, lambda s, d: s.send(d), failed)
            return
        sock.sendall(data)

    def _forget(self, tid: int) -> None:
        sock = self.sockets.pop(tid, None)
        if sock is not None:
            self.transport_log.append(("closed", tid))
            try:
                if self.dispatcher is None:
                    self._selector.unregister(sock)
            except (KeyError, ValueError):
                pass
            try:
                sock.close()
            except OSError:
                pass

    def _process(self, out: Output) -> None:
        kind = out[0]
        if kind == "transmit":
            _, tid, data = out
            sock = self.sockets.get(tid)
            if sock is None:
                return
            try:
                self._write(tid, sock, data)
            except OSError as e:
                self._pending.extend(self.session.transport_error(tid, error_kind(e), str(e), now_ms()))
        elif kind == "open_transport":
            self._open(out[1], out[2])
        elif kind == "close_transport":
            self._forget(out[1])
        elif kind == "need_request":
            _, tid, attempt, _migration = out
            if self.request_for is None:
                self._pending.extend(self.session.provide_request_error(tid, "no request provider", now_ms()))
                return
            try:
                url, headers, subprotocols = self.request_for(tid, attempt)
            except Exception as e:  # noqa: BLE001 - the provider's failure fails this attempt
                if self.on_transport_error is not None:
                    self.on_transport_error(e)
                self._pending.extend(self.session.provide_request_error(tid, str(e), now_ms()))
                return
            self._pending.extend(self.session.provide_request(tid, url, headers, subprotocols, now_ms()))
        else:
            self.on_event(out)

    def _open(self, tid: int, url: str) -> None:
        self.transport_log.append(("requested", tid))
        try:
            pre, self.pre_socket = self.pre_socket, None
            sock = open_socket(parse_target(url), self.opts, self.proxy, pre)
        except Exception as e:  # noqa: BLE001 - every failure is reported to the session
            if self.on_transport_error is not None:
                self.on_transport_error(e)
            self._pending.extend(self.session.transport_error(tid, error_kind(e), str(e), now_ms()))
            return
        self.sockets[tid] = sock
        self.transport_log.append(("connected", tid))
        if self.dispatcher is not None:
            self.dispatcher.read(sock, lambda: self._dispatcher_read(tid, sock))
        else:
            self._selector.register(sock, selectors.EVENT_READ, tid)
        self.current = tid
        self._pending.extend(self.session.transport_connected(tid, now_ms()))
