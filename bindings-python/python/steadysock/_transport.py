"""Opening the byte stream a WebSocket runs over: DNS, TCP with socket options, an HTTP
CONNECT proxy or a SOCKS proxy (``proxy_type`` socks4/socks4a/socks5/socks5h, through the
optional ``python-socks`` package, as websocket-client does), TLS. Plain
``socket``/``ssl``, so ``sockopt``, ``sslopt``, an ``ssl.SSLContext`` and the proxy
options behave as websocket-client users expect. Nothing here looks at WebSocket bytes:
the handshake and framing are the core's.
"""

from __future__ import annotations

import base64
import importlib
import ipaddress
import os
import socket
import ssl
from typing import Any, NamedTuple, Optional, Union
from urllib.parse import urlsplit

from . import _core
from ._exceptions import (
    WebSocketAddressException,
    WebSocketConnectionClosedException,
    WebSocketException,
    WebSocketProxyException,
    WebSocketTimeoutException,
)
from ._logging import debug
from ._socket import DEFAULT_SOCKET_OPTION, sock_opt

__all__ = ["Target", "ProxyInfo", "parse_target", "open_socket", "proxy_info"]

MAX_PROXY_HEAD = 16 << 10


class Target(NamedTuple):
    secure: bool
    host: str
    port: int
    resource: str


def parse_target(url: str) -> Target:
    """Host, port and resource of a ``ws://``/``wss://`` URL (``ValueError`` if unusable)."""
    return Target(*_core.parse_url(url))


class ProxyInfo(NamedTuple):
    host: Optional[str]
    port: int
    auth: Optional[tuple[str, str]]
    no_proxy: Optional[list[str]]
    timeout: Optional[float]
    type: str = "http"


PROXY_TYPES = ("http", "socks4", "socks4a", "socks5", "socks5h")


def proxy_info(**options: Any) -> ProxyInfo:
    """The ``http_proxy_*`` options and ``proxy_type`` (http, socks4, socks4a, socks5,
    socks5h; the ``a``/``h`` forms let the proxy resolve the host name)."""
    proxy_type = options.get("proxy_type") or "http"
    if proxy_type not in PROXY_TYPES:
        raise WebSocketProxyException(f"Proxy type {proxy_type!r} is not supported (one of {', '.join(PROXY_TYPES)})")
    host = options.get("http_proxy_host")
    port = int(options.get("http_proxy_port") or 0)
    if host and not port:
        raise WebSocketProxyException("Cannot use port 0 when proxy_host specified")
    return ProxyInfo(
        host or None,
        port,
        options.get("http_proxy_auth"),
        options.get("http_no_proxy"),
        options.get("http_proxy_timeout"),
        proxy_type,
    )


def _env_proxy(secure: bool) -> Optional[tuple[str, int, Optional[tuple[str, str]]]]:
    for name in ("https_proxy", "HTTPS_PROXY") if secure else ("http_proxy", "HTTP_PROXY"):
        value = os.environ.get(name)
        if value:
            u = urlsplit(value if "://" in value else f"http://{value}")
            if u.hostname:
                auth = (u.username or "", u.password or "") if u.username else None
                return u.hostname, u.port or 80, auth
    return None


DEFAULT_NO_PROXY = ["localhost", "127.0.0.1"]


def _bypass_proxy(host: str, no_proxy: Optional[list[str]]) -> bool:
    """Whether ``host`` is reached directly. ``no_proxy`` None: the ``no_proxy``
    environment variable, else localhost and 127.0.0.1 (as websocket-client); a list
    (even empty) is used as given. Entries: host names, ``.domain`` suffixes, CIDR, ``*``."""
    if no_proxy is None:
        env = os.environ.get("no_proxy") or os.environ.get("NO_PROXY") or ""
        no_proxy = [p.strip() for p in env.split(",") if p.strip()] or DEFAULT_NO_PROXY
    for entry in no_proxy:
        if entry == "*":
            return True
        try:
            if ipaddress.ip_address(host) in ipaddress.ip_network(entry, strict=False):
                return True
            continue
        except ValueError:
            pass
        if entry.startswith("."):
            if host.endswith(entry) or host == entry[1:]:
                return True
        elif host == entry or host.endswith("." + entry):
            return True
    return False


def _connect_tcp(host: str, port: int, opts: sock_opt, timeout: Optional[float]) -> socket.socket:
    try:
        infos = socket.getaddrinfo(host, port, 0, socket.SOCK_STREAM, socket.SOL_TCP)
    except socket.gaierror as e:
        raise WebSocketAddressException(e) from e
    if not infos:
        raise WebSocketException(f"Host not found.: {host}:{port}")
    last: Optional[BaseException] = None
    for family, kind, proto, _, addr in infos:
        sock = socket.socket(family, kind, proto)
        sock.settimeout(timeout)
        for opt in DEFAULT_SOCKET_OPTION:
            sock.setsockopt(*opt)
        for opt in opts.sockopt:
            sock.setsockopt(*opt)
        try:
            sock.connect(addr)
            return sock
        except socket.timeout as e:
            sock.close()
            last = WebSocketTimeoutException(str(e))
        except OSError as e:
            sock.close()
            last = e
    assert last is not None
    raise last


def _read_head(sock: socket.socket) -> bytes:
    """An HTTP response head, read a byte at a time so nothing after it is consumed."""
    head = bytearray()
    while not head.endswith(b"\r\n\r\n"):
        b = sock.recv(1)
        if not b:
            raise WebSocketProxyException("the proxy closed the connection")
        head += b
        if len(head) > MAX_PROXY_HEAD:
            raise WebSocketProxyException("the proxy's response head is too large")
    return bytes(head)


def _tunnel(sock: socket.socket, host: str, port: int, auth: Optional[tuple[str, str]]) -> None:
    sock.sendall(connect_request(host, port, auth))
    try:
        head = _read_head(sock)
    except OSError as e:
        raise WebSocketProxyException(str(e)) from e
    check_connect_response(head)


def socks_proxy(proxy: ProxyInfo, flavour: str) -> tuple[Any, Any]:
    """``python-socks`` (optional, as in websocket-client: ``pip install python-socks``) and
    its ``Proxy`` for ``proxy``; ``flavour``: ``sync`` or ``async_.asyncio``."""
    try:
        socks: Any = importlib.import_module("python_socks")
        impl: Any = importlib.import_module(f"python_socks.{flavour}")
    except ImportError as e:
        raise WebSocketException("Python Socks is needed for SOCKS proxying but is not available") from e
    kind = socks.ProxyType.SOCKS4 if proxy.type.startswith("socks4") else socks.ProxyType.SOCKS5
    user, password = proxy.auth if proxy.auth else (None, None)
    via = impl.Proxy.create(
        proxy_type=kind,
        host=proxy.host,
        port=proxy.port,
        username=user or None,
        password=password or None,
        rdns=proxy.type in ("socks4a", "socks5h"),
    )
    return socks, via


def socks_error(socks: Any, e: Exception) -> Optional[Exception]:
    """websocket-client's exception for a ``python-socks`` failure (None: not one)."""
    if isinstance(e, socks.ProxyTimeoutError):
        return WebSocketTimeoutException(str(e))
    if isinstance(e, (socks.ProxyError, socks.ProxyConnectionError)):
        return WebSocketProxyException(str(e))
    return None


def _socks_connect(proxy: ProxyInfo, host: str, port: int, timeout: Optional[float]) -> socket.socket:
    """A socket to ``host:port`` through the SOCKS proxy."""
    socks, via = socks_proxy(proxy, "sync")
    debug(f"{proxy.type} proxy to {host}:{port}")
    try:
        sock: socket.socket = via.connect(host, port, timeout=proxy.timeout if proxy.timeout is not None else timeout)
    except Exception as e:
        mapped = socks_error(socks, e)
        if mapped is None:
            raise
        raise mapped from e
    sock.settimeout(timeout)
    return sock


def proxy_route(
    target_host: str, secure: bool, proxy: ProxyInfo
) -> Optional[tuple[str, int, Optional[tuple[str, str]]]]:
    """The proxy to go through to ``target_host`` ((host, port, auth); None: direct)."""
    if proxy.type != "http" and not proxy.host:
        raise WebSocketProxyException(f"proxy_type {proxy.type!r} needs http_proxy_host")
    if _bypass_proxy(target_host, proxy.no_proxy):
        return None
    if proxy.host:
        return proxy.host, proxy.port, proxy.auth
    return _env_proxy(secure)


def connect_request(host: str, port: int, auth: Optional[tuple[str, str]]) -> bytes:
    """The HTTP CONNECT request for ``host:port``."""
    hostport = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    req = f"CONNECT {hostport} HTTP/1.1\r\nHost: {hostport}\r\n"
    if auth and auth[0]:
        token = base64.b64encode(f"{auth[0]}:{auth[1] or ''}".encode()).decode()
        req += f"Proxy-Authorization: Basic {token}\r\n"
    debug(f"proxy CONNECT {hostport}")
    return (req + "\r\n").encode()


def check_connect_response(head: bytes) -> None:
    """Raises ``WebSocketProxyException`` unless the proxy's answer is 200."""
    status_line = head.split(b"\r\n", 1)[0].decode("latin-1")
    parts = status_line.split(" ", 2)
    status = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0
    if status != 200:
        raise WebSocketProxyException(f"failed CONNECT via proxy status: {status}")


def ssl_context(sslopt: dict[str, Any]) -> ssl.SSLContext:
    """The ``SSLContext`` websocket-client's ``sslopt`` describe."""
    return _ssl_context(sslopt)


def _ssl_context(sslopt: dict[str, Any]) -> ssl.SSLContext:
    ctx = sslopt.get("context")
    if isinstance(ctx, ssl.SSLContext):
        return ctx
    ctx = ssl.SSLContext(sslopt.get("ssl_version", ssl.PROTOCOL_TLS_CLIENT))
    cert_reqs = sslopt.get("cert_reqs", ssl.CERT_REQUIRED)
    check_hostname = sslopt.get("check_hostname", cert_reqs != ssl.CERT_NONE)
    if check_hostname and cert_reqs == ssl.CERT_NONE:
        raise WebSocketException("check_hostname cannot be enabled when cert_reqs is CERT_NONE")
    ctx.check_hostname = bool(check_hostname)
    ctx.verify_mode = cert_reqs
    if cert_reqs != ssl.CERT_NONE:
        cafile = sslopt.get("ca_certs") or os.environ.get("WEBSOCKET_CLIENT_CA_BUNDLE")
        capath = sslopt.get("ca_cert_path")
        try:
            if cafile and os.path.isdir(cafile):
                ctx.load_verify_locations(capath=cafile)
            elif cafile or capath:
                ctx.load_verify_locations(cafile=cafile, capath=capath)
            else:
                ctx.load_default_certs(ssl.Purpose.SERVER_AUTH)
        except (OSError, ssl.SSLError) as e:
            raise WebSocketException(f"SSL CA certificate loading failed: {e}") from e
    certfile = sslopt.get("certfile") or sslopt.get("cert_chain")
    if certfile:
        try:
            ctx.load_cert_chain(certfile, sslopt.get("keyfile"), sslopt.get("password"))
        except (OSError, ssl.SSLError) as e:
            raise WebSocketException(f"SSL client certificate loading failed: {e}") from e
    if sslopt.get("ciphers"):
        ctx.set_ciphers(sslopt["ciphers"])
    if sslopt.get("ecdh_curve"):
        ctx.set_ecdh_curve(sslopt["ecdh_curve"])
    keylog = os.environ.get("SSLKEYLOGFILE")
    if keylog:
        ctx.keylog_filename = keylog
    return ctx


def _wrap_tls(sock: socket.socket, sslopt: dict[str, Any], host: str) -> ssl.SSLSocket:
    ctx = _ssl_context(sslopt)
    return ctx.wrap_socket(
        sock,
        do_handshake_on_connect=sslopt.get("do_handshake_on_connect", True),
        suppress_ragged_eofs=sslopt.get("suppress_ragged_eofs", True),
        server_hostname=sslopt.get("server_hostname") or host,
    )


def open_socket(
    target: Target, opts: sock_opt, proxy: ProxyInfo, pre: Optional[socket.socket] = None
) -> Union[socket.socket, ssl.SSLSocket]:
    """A connected socket to ``target`` (through the proxy, wrapped in TLS for wss)."""
    if pre is not None:
        sock = pre
        if opts.timeout is not None:
            sock.settimeout(opts.timeout)
    else:
        timeout = None if opts.timeout is None else float(opts.timeout)
        via = proxy_route(target.host, target.secure, proxy)
        if via is not None and proxy.type != "http":
            sock = _socks_connect(proxy, target.host, target.port, timeout)
        elif via is not None:
            ptimeout = proxy.timeout if proxy.timeout is not None else timeout
            sock = _connect_tcp(via[0], via[1], opts, ptimeout)
            try:
                _tunnel(sock, target.host, target.port, via[2])
                sock.settimeout(timeout)
            except BaseException:
                sock.close()
                raise
        else:
            sock = _connect_tcp(target.host, target.port, opts, timeout)
    if target.secure:
        try:
            return _wrap_tls(sock, opts.sslopt, target.host)
        except BaseException:
            sock.close()
            raise
    return sock


def recv_some(sock: Any, bufsize: int) -> bytes:
    """One read; ``b""`` at the end of the stream. Timeouts become
    ``WebSocketTimeoutException`` and a missing socket ``WebSocketConnectionClosedException``."""
    if sock is None:
        raise WebSocketConnectionClosedException("Connection is closed")
    try:
        data = sock.recv(bufsize)
    except socket.timeout as e:
        raise WebSocketTimeoutException(str(e) or "Connection timed out") from e
    except ssl.SSLError as e:
        if "timed out" in str(e):
            raise WebSocketTimeoutException(str(e)) from e
        raise
    return data or b""


def send_all(sock: Any, data: bytes) -> None:
    """Writes all of ``data``: ``sendall`` on real sockets, a ``send`` loop on anything else
    (objects that stand in for a socket in tests usually have only ``send``)."""
    if sock is None:
        raise WebSocketConnectionClosedException("socket is already closed.")
    try:
        if isinstance(sock, socket.socket):
            sock.sendall(data)
            return
        view = memoryview(data)
        while view:
            n = sock.send(view if isinstance(sock, socket.socket) else bytes(view))
            if not n:
                raise WebSocketConnectionClosedException("socket is already closed.")
            view = view[n:]
    except socket.timeout as e:
        raise WebSocketTimeoutException(str(e) or "Connection timed out") from e
    except (ssl.SSLEOFError, BrokenPipeError) as e:
        raise WebSocketConnectionClosedException("socket is already closed.") from e
