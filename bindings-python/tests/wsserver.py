"""A small WebSocket test server written with the standard library only: an independent
implementation of the server side, so the client is not tested against its own core.

Routes (by request path):
- ``/echo``: echoes text and binary messages, answers pings, echoes close frames.
- ``/headers``: sends the request headers as one JSON text message, then closes (1000).
- ``/close-1001``: sends close 1001 "going away" right after the handshake.
- ``/ping-then-echo``: sends a ping ``hb``, then behaves like ``/echo``.
- ``/mask-keys``: answers each data frame with the hex of its masking key.
- ``/fragments``: sends the text "Héllo" as three frames ("Hé", "l", "lo") and the
  binary ``bin`` as one, then behaves like ``/echo``.
- ``/subprotocol``: accepts the first subprotocol offered, then echoes.
- ``/bad-accept``: answers 101 with a wrong Sec-WebSocket-Accept.
- ``/redirect``: 301 to ``/echo`` on this server.
- ``/unauthorized``: 401 with a body.
"""

from __future__ import annotations

import base64
import hashlib
import json
import select
import socket
import ssl
import struct
import threading
import time
from typing import Optional

GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


def accept_key(key: str) -> str:
    return base64.b64encode(hashlib.sha1((key + GUID).encode()).digest()).decode()


def encode_frame(opcode: int, payload: bytes, fin: bool = True) -> bytes:
    head = bytes([(0x80 if fin else 0) | opcode])
    n = len(payload)
    if n < 126:
        head += bytes([n])
    elif n < 1 << 16:
        head += bytes([126]) + struct.pack("!H", n)
    else:
        head += bytes([127]) + struct.pack("!Q", n)
    return head + payload


def unmask(key: bytes, data: bytes) -> bytes:
    n = len(data)
    k = int.from_bytes((key * (n // 4 + 1))[:n], "big")
    return (int.from_bytes(data, "big") ^ k).to_bytes(n, "big")


class Conn:
    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.buf = b""
        self.last_key: Optional[bytes] = None

    def read_exact(self, n: int) -> bytes:
        while len(self.buf) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError
            self.buf += chunk
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def read_head(self) -> bytes:
        while b"\r\n\r\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError
            self.buf += chunk
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        return head

    def read_frame(self) -> tuple[bool, int, bytes]:
        b0, b1 = self.read_exact(2)
        n = b1 & 0x7F
        if n == 126:
            n = struct.unpack("!H", self.read_exact(2))[0]
        elif n == 127:
            n = struct.unpack("!Q", self.read_exact(8))[0]
        key = self.read_exact(4) if b1 & 0x80 else None
        self.last_key = key
        payload = self.read_exact(n)
        if key is not None:
            payload = unmask(key, payload)
        return bool(b0 & 0x80), b0 & 0x0F, payload


class Server:
    """Listens on 127.0.0.1 (port chosen by the OS); one thread per connection."""

    def __init__(self, tls: Optional[ssl.SSLContext] = None, host: str = "127.0.0.1") -> None:
        self.tls = tls
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.url = f"{'wss' if tls else 'ws'}://{host}:{self.port}"
        self.requests: list[dict[str, str]] = []
        self.paths: list[str] = []
        # "open N" / "closed N" of the /slack connections, in the order they happened.
        self.events: list[str] = []
        self.thread = threading.Thread(target=self._accept_loop, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.listener.close()

    def events_once(self, *wanted: str, timeout: float = 5.0) -> list[str]:
        """`events` once every one of `wanted` is in it (each connection's thread records
        its own, so a client can be done before the server has noted its close)."""
        deadline = time.monotonic() + timeout
        while not all(w in self.events for w in wanted) and time.monotonic() < deadline:
            time.sleep(0.005)
        return list(self.events)

    def _accept_loop(self) -> None:
        while True:
            try:
                sock, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(sock,), daemon=True).start()

    def _serve(self, sock: socket.socket) -> None:
        try:
            if self.tls is not None:
                sock = self.tls.wrap_socket(sock, server_side=True)
            self._handle(Conn(sock))
        except (EOFError, OSError):
            pass
        finally:
            sock.close()

    def _handle(self, c: Conn) -> None:
        head = c.read_head().decode("latin-1").split("\r\n")
        path = head[0].split(" ")[1]
        self.paths.append(path)
        headers = {}
        for line in head[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        self.requests.append(headers)
        key = headers.get("sec-websocket-key", "")
        if path == "/redirect":
            c.sock.sendall(
                f"HTTP/1.1 301 Moved Permanently\r\nLocation: {self.url}/echo\r\nContent-Length: 0\r\n\r\n".encode()
            )
            return
        if path == "/unauthorized":
            body = b"no token"
            c.sock.sendall(
                b"HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Bearer\r\nContent-Length: %d\r\n\r\n%s"
                % (len(body), body)
            )
            return
        accept = "bm90IHRoZSByaWdodCBrZXk=" if path == "/bad-accept" else accept_key(key)
        extra = ""
        if path == "/subprotocol" and headers.get("sec-websocket-protocol"):
            extra = f"Sec-WebSocket-Protocol: {headers['sec-websocket-protocol'].split(',')[0].strip()}\r\n"
        slack = 0
        if path == "/slack":
            # Recorded before the 101 goes out: once the client has it, it may close the
            # previous /slack connection (make-before-break), whose thread would otherwise
            # race this one to the log.
            slack = self.paths.count("/slack")
            self.events.append(f"open {slack}")
        c.sock.sendall(
            (
                "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                f"Sec-WebSocket-Accept: {accept}\r\n{extra}X-Test: yes\r\n\r\n"
            ).encode()
        )
        if path == "/bad-accept":
            return
        if path == "/headers":
            c.sock.sendall(encode_frame(1, json.dumps(headers).encode()))
            c.sock.sendall(encode_frame(8, struct.pack("!H", 1000)))
            self._until_close(c)
            return
        if path.startswith("/hello-then-close"):
            c.sock.sendall(encode_frame(1, f"hello {len(self.requests)}".encode()))
            c.sock.sendall(encode_frame(8, struct.pack("!H", 1001) + b"going away"))
            self._until_close(c)
            return
        if path == "/close-1001":
            c.sock.sendall(encode_frame(8, struct.pack("!H", 1001) + b"going away"))
            self._until_close(c)
            return
        if path == "/slack":
            n = slack
            try:
                c.sock.sendall(encode_frame(1, b'{"type":"hello"}'))
                if n == 1:
                    c.sock.sendall(encode_frame(1, b'{"type":"disconnect","reason":"warning"}'))
                self._echo(c)
            finally:
                self.events.append(f"closed {n}")
            return
        if path == "/ping-then-echo":
            c.sock.sendall(encode_frame(9, b"hb"))
        if path == "/mask-keys":
            while True:
                _, op, payload = c.read_frame()
                if op == 8:
                    c.sock.sendall(encode_frame(8, payload[:2]))
                    return
                if op in (1, 2):
                    c.sock.sendall(encode_frame(1, (c.last_key or b"").hex().encode()))
        if path == "/fragments":
            c.sock.sendall(
                encode_frame(1, "Hé".encode(), fin=False)
                + encode_frame(0, b"l", fin=False)
                + encode_frame(0, b"lo")
                + encode_frame(2, b"bin")
            )
        self._echo(c)

    def _until_close(self, c: Conn) -> None:
        while True:
            _, op, _ = c.read_frame()
            if op == 8:
                return

    def _echo(self, c: Conn) -> None:
        message: Optional[tuple[int, list[bytes]]] = None
        while True:
            fin, op, payload = c.read_frame()
            if op == 9:
                c.sock.sendall(encode_frame(10, payload))
            elif op == 10:
                if payload == b"hb":
                    c.sock.sendall(encode_frame(1, b"pong:hb"))
            elif op == 8:
                c.sock.sendall(encode_frame(8, payload[:2]))
                return
            elif op == 1 and payload == b"close-me":
                c.sock.sendall(encode_frame(8, struct.pack("!H", 1001)))
                self._until_close(c)
                return
            else:
                if op != 0:
                    message = (op, [payload])
                elif message is not None:
                    message[1].append(payload)
                if fin and message is not None:
                    c.sock.sendall(encode_frame(message[0], b"".join(message[1])))
                    message = None


class ConnectProxy:
    """An HTTP CONNECT proxy on 127.0.0.1; with ``auth`` it requires that Basic auth."""

    def __init__(self, auth: Optional[tuple[str, str]] = None) -> None:
        self.auth = auth
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.tunnels: list[str] = []
        threading.Thread(target=self._accept_loop, daemon=True).start()

    def close(self) -> None:
        self.listener.close()

    def _accept_loop(self) -> None:
        while True:
            try:
                sock, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(sock,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        try:
            head = Conn(client).read_head().decode("latin-1").split("\r\n")
            target = head[0].split(" ")[1]
            headers = {k.strip().lower(): v.strip() for k, _, v in (h.partition(":") for h in head[1:])}
            if self.auth is not None:
                token = base64.b64encode(f"{self.auth[0]}:{self.auth[1]}".encode()).decode()
                if headers.get("proxy-authorization") != f"Basic {token}":
                    client.sendall(b"HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 0\r\n\r\n")
                    return
            host, _, port = target.rpartition(":")
            upstream = socket.create_connection((host, int(port)))
            self.tunnels.append(target)
            client.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
            pair = {client: upstream, upstream: client}
            while True:
                readable, _, _ = select.select(list(pair), [], [])
                for s in readable:
                    data = s.recv(65536)
                    if not data:
                        return
                    pair[s].sendall(data)
        except (EOFError, OSError):
            pass
        finally:
            client.close()


def relay(a: socket.socket, b: socket.socket) -> None:
    """Copies bytes both ways until either side ends."""
    pair = {a: b, b: a}
    while True:
        readable, _, _ = select.select(list(pair), [], [])
        for s in readable:
            data = s.recv(65536)
            if not data:
                return
            pair[s].sendall(data)


class SocksProxy:
    """A SOCKS4/4a and SOCKS5 proxy on 127.0.0.1 (CONNECT only); with ``auth`` SOCKS5
    requires that username/password (RFC 1929). ``requests`` records each destination as
    (version, "domain" | "ip", host, port): who resolved the name."""

    def __init__(self, auth: Optional[tuple[str, str]] = None) -> None:
        self.auth = auth
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.requests: list[tuple[int, str, str, int]] = []
        threading.Thread(target=self._accept_loop, daemon=True).start()

    def close(self) -> None:
        self.listener.close()

    def _accept_loop(self) -> None:
        while True:
            try:
                sock, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(sock,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        c = Conn(client)
        try:
            version = c.read_exact(1)[0]
            dest = self._socks4(c) if version == 4 else self._socks5(c) if version == 5 else None
            if dest is None:
                return
            upstream = socket.create_connection(dest)
            client.sendall(b"\x00\x5a" + bytes(6) if version == 4 else b"\x05\x00\x00\x01" + bytes(6))
            relay(client, upstream)
        except (EOFError, OSError):
            pass
        finally:
            client.close()

    def _socks4(self, c: Conn) -> Optional[tuple[str, int]]:
        head = c.read_exact(7)  # command, port, address
        port, ip = struct.unpack("!H", head[1:3])[0], socket.inet_ntoa(head[3:7])
        while c.read_exact(1) != b"\0":  # user id
            pass
        kind = "ip"
        if ip.startswith("0.0.0.") and ip != "0.0.0.0":  # SOCKS4a: the name follows
            name = b""
            while (b := c.read_exact(1)) != b"\0":
                name += b
            ip, kind = name.decode(), "domain"
        self.requests.append((4, kind, ip, port))
        return ip, port

    def _socks5(self, c: Conn) -> Optional[tuple[str, int]]:
        methods = c.read_exact(c.read_exact(1)[0])
        if self.auth is not None:
            if 2 not in methods:
                c.sock.sendall(b"\x05\xff")
                return None
            c.sock.sendall(b"\x05\x02")
            c.read_exact(1)
            user = c.read_exact(c.read_exact(1)[0]).decode()
            password = c.read_exact(c.read_exact(1)[0]).decode()
            ok = (user, password) == self.auth
            c.sock.sendall(b"\x01\x00" if ok else b"\x01\x01")
            if not ok:
                return None
        else:
            c.sock.sendall(b"\x05\x00")
        _, _, _, atyp = c.read_exact(4)
        if atyp == 1:
            host, kind = socket.inet_ntoa(c.read_exact(4)), "ip"
        elif atyp == 3:
            host, kind = c.read_exact(c.read_exact(1)[0]).decode(), "domain"
        else:
            host, kind = socket.inet_ntop(socket.AF_INET6, c.read_exact(16)), "ip"
        port = struct.unpack("!H", c.read_exact(2))[0]
        self.requests.append((5, kind, host, port))
        return host, port
