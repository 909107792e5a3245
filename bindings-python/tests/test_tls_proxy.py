"""wss:// against a local TLS server with a test CA (trustme), and an HTTP CONNECT proxy."""

from __future__ import annotations

import ssl
from pathlib import Path
from typing import Any

import pytest

import steadysock as websocket

from wsserver import ConnectProxy, Server


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
