"""wss:// against a local TLS server with a test CA (trustme), and an HTTP CONNECT proxy."""

from __future__ import annotations

import ssl
import sys
from pathlib import Path
from typing import Any

import pytest

import steadysock as websocket

from wsserver import ConnectProxy, Server, SocksProxy


def test_wss_with_sslopt_ca_certs(tls_server: Server, test_ca: Any, tmp_path: Path) -> None:
    ca_file = tmp_path / "ca.pem"
    test_ca.cert_pem.write_to_path(str(ca_file))
    ws = websocket.create_connection(tls_server.url + "/echo", sslopt={"ca_certs": str(ca_file)}, timeout=5)
    assert ws.is_ssl()
    ws.send("over tls")
    assert ws.recv() == "over tls"
    ws.close()


def test_wss_with_an_ssl_context(tls_server: Server, test_ca: Any) -> None:
    ctx = ssl.create_default_context()
    test_ca.configure_trust(ctx)
    ws = websocket.create_connection(tls_server.url + "/echo", sslopt={"context": ctx}, timeout=5)
    blob = b"\x01" * 300_000
    ws.send_binary(blob)
    assert ws.recv() == blob
    ws.close()


def test_wss_unknown_ca_is_refused(tls_server: Server) -> None:
    with pytest.raises(ssl.SSLCertVerificationError):
        websocket.create_connection(tls_server.url + "/echo", timeout=5)


def test_wss_without_verification_when_asked(tls_server: Server) -> None:
    ws = websocket.create_connection(tls_server.url + "/echo", sslopt={"cert_reqs": ssl.CERT_NONE}, timeout=5)
    ws.send("unverified")
    assert ws.recv() == "unverified"
    ws.close()


def test_http_connect_proxy(server: Server) -> None:
    proxy = ConnectProxy()
    try:
        ws = websocket.create_connection(
            server.url + "/echo", http_proxy_host="127.0.0.1", http_proxy_port=proxy.port, http_no_proxy=[], timeout=5
        )
        ws.send("through the proxy")
        assert ws.recv() == "through the proxy"
        ws.close()
        assert proxy.tunnels == [f"127.0.0.1:{server.port}"]
    finally:
        proxy.close()


def test_http_connect_proxy_with_auth(server: Server) -> None:
    proxy = ConnectProxy(auth=("user", "secret"))
    try:
        with pytest.raises(websocket.WebSocketProxyException, match="407"):
            websocket.create_connection(
                server.url + "/echo",
                http_proxy_host="127.0.0.1",
                http_proxy_port=proxy.port,
                http_no_proxy=[],
                timeout=5,
            )
        ws = websocket.create_connection(
            server.url + "/echo",
            http_proxy_host="127.0.0.1",
            http_proxy_port=proxy.port,
            http_no_proxy=[],
            http_proxy_auth=("user", "secret"),
            timeout=5,
        )
        ws.send("authorized")
        assert ws.recv() == "authorized"
        ws.close()
    finally:
        proxy.close()


def test_wss_through_the_proxy(tls_server: Server, test_ca: Any) -> None:
    ctx = ssl.create_default_context()
    test_ca.configure_trust(ctx)
    proxy = ConnectProxy()
    try:
        ws = websocket.create_connection(
            tls_server.url + "/echo",
            sslopt={"context": ctx},
            http_proxy_host="127.0.0.1",
            http_proxy_port=proxy.port,
            http_no_proxy=[],
            timeout=5,
        )
        ws.send("tls in a tunnel")
        assert ws.recv() == "tls in a tunnel"
        ws.close()
    finally:
        proxy.close()


@pytest.mark.parametrize(
    ("proxy_type", "version", "resolved_by"),
    [("socks4", 4, "ip"), ("socks4a", 4, "domain"), ("socks5", 5, "ip"), ("socks5h", 5, "domain")],
)
def test_socks_proxy(server: Server, proxy_type: str, version: int, resolved_by: str) -> None:
    proxy = SocksProxy()
    try:
        url = f"ws://localhost:{server.port}/echo"
        ws = websocket.create_connection(
            url,
            http_proxy_host="127.0.0.1",
            http_proxy_port=proxy.port,
            proxy_type=proxy_type,
            http_no_proxy=[],
            timeout=5,
        )
        ws.send("through " + proxy_type)
        assert ws.recv() == "through " + proxy_type
        ws.close()
        # socks4a/socks5h hand the name to the proxy; socks4/socks5 resolve it here.
        host = "localhost" if resolved_by == "domain" else "127.0.0.1"
        assert proxy.requests == [(version, resolved_by, host, server.port)]
    finally:
        proxy.close()


def test_socks5_proxy_with_auth_and_the_app(server: Server) -> None:
    proxy = SocksProxy(auth=("user", "secret"))
    try:
        with pytest.raises(websocket.WebSocketProxyException):
            websocket.create_connection(
                server.url + "/echo",
                http_proxy_host="127.0.0.1",
                http_proxy_port=proxy.port,
                http_proxy_auth=("user", "wrong"),
                proxy_type="socks5",
                http_no_proxy=[],
                timeout=5,
            )
        got: list[Any] = []

        def on_message(app: websocket.WebSocketApp, message: Any) -> None:
            got.append(message)
            app.close()

        app = websocket.WebSocketApp(server.url + "/echo", on_open=lambda app: app.send("hi"), on_message=on_message)
        app.run_forever(
            http_proxy_host="127.0.0.1",
            http_proxy_port=proxy.port,
            http_proxy_auth=("user", "secret"),
            proxy_type="socks5",
            http_no_proxy=[],
        )
        assert got == ["hi"]
        assert proxy.requests[-1] == (5, "ip", "127.0.0.1", server.port)
    finally:
        proxy.close()


def test_http_no_proxy_reaches_listed_hosts_directly(server: Server) -> None:
    proxy = SocksProxy()
    try:
        for no_proxy in (["127.0.0.1"], ["127.0.0.0/8"], None):  # None: the default list
            ws = websocket.create_connection(
                server.url + "/echo",
                http_proxy_host="127.0.0.1",
                http_proxy_port=proxy.port,
                proxy_type="socks5",
                http_no_proxy=no_proxy,
                timeout=5,
            )
            ws.close()
        assert proxy.requests == []
    finally:
        proxy.close()


def test_socks_without_python_socks_is_a_clear_error(server: Server, monkeypatch: pytest.MonkeyPatch) -> None:
    # A None entry in sys.modules makes its import fail, as when the package is missing.
    monkeypatch.setitem(sys.modules, "python_socks", None)
    monkeypatch.setitem(sys.modules, "python_socks.sync", None)
    with pytest.raises(websocket.WebSocketException, match="Python Socks is needed"):
        websocket.create_connection(
            server.url + "/echo", http_proxy_host="127.0.0.1", http_proxy_port=1, proxy_type="socks5", http_no_proxy=[]
        )
    with pytest.raises(websocket.WebSocketProxyException, match="not supported"):
        websocket.create_connection(server.url + "/echo", proxy_type="socks6")
