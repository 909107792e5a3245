"""steadysock.asyncio: the plain and the reconnecting connection, on asyncio transports."""

from __future__ import annotations

import asyncio
import gc
import socket
import ssl
from pathlib import Path
from typing import Any

import pytest

import steadysock
import steadysock.asyncio as ssa

from wsserver import ConnectProxy, Server, SocksProxy


def run(coro: Any) -> Any:
    return asyncio.run(coro)


def our_timers(loop: asyncio.AbstractEventLoop) -> list[Any]:
    """Live timer handles whose callback belongs to steadysock."""
    return [
        h
        for h in getattr(loop, "_scheduled", [])
        if not h.cancelled() and "steadysock" in getattr(getattr(h, "_callback", None), "__module__", "")
    ]


def ours_left(loop: asyncio.AbstractEventLoop) -> list[Any]:
    """Our live timers, and tasks other than the current one."""
    tasks = [t for t in asyncio.all_tasks(loop) if t is not asyncio.current_task()]
    return our_timers(loop) + tasks


def test_send_recv_iterate_and_nothing_left_after_close(server: Server) -> None:
    async def main() -> None:
        loop = asyncio.get_running_loop()
        async with ssa.connect(server.url + "/echo") as ws:
            assert isinstance(ws, ssa.ClientConnection)
            await ws.send("hello")
            assert await ws.recv() == "hello"
            await ws.send(b"\x00\x01" * 5000)
            assert await ws.recv() == b"\x00\x01" * 5000
            # the core's keepalive timer is armed while open (and seen by the check below)
            assert len(our_timers(loop)) == 1
        assert ws.closed and ws.close_code == 1000
        assert ours_left(loop) == []
        with pytest.raises(ssa.ConnectionClosedOK):
            await ws.recv()
        with pytest.raises(ssa.ConnectionClosed):
            await ws.send("late")

    run(main())


def test_async_for_ends_on_a_server_close_and_keeps_the_messages_before_it(server: Server) -> None:
    async def main() -> list[Any]:
        async with ssa.connect(server.url + "/hello-then-close") as ws:
            got = [m async for m in ws]
            assert ws.close_code == 1001 and ws.close_reason == "going away"
            return got

    assert run(main()) == ["hello 1"]


def test_ping_resolves_with_the_pong(server: Server) -> None:
    async def main() -> None:
        async with ssa.connect(server.url + "/echo") as ws:
            waiter = await ws.ping(b"abc")
            latency = await asyncio.wait_for(waiter, 5)
            assert latency >= 0
            waiter = await ws.ping()
            await asyncio.wait_for(waiter, 5)

    run(main())


def test_a_cancelled_recv_loses_no_message(server: Server) -> None:
    async def main() -> None:
        async with ssa.connect(server.url + "/echo") as ws:
            task = asyncio.ensure_future(ws.recv())
            await asyncio.sleep(0.01)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            await ws.send("kept")
            assert await asyncio.wait_for(ws.recv(), 5) == "kept"

    run(main())


def test_handshake_rejections_raise_websocket_client_exceptions(server: Server) -> None:
    async def main() -> None:
        with pytest.raises(steadysock.WebSocketBadStatusException) as info:
            await ssa.connect(server.url + "/unauthorized")
        assert info.value.status_code == 401 and info.value.resp_body == b"no token"
        with pytest.raises(steadysock.WebSocketException):
            await ssa.connect(server.url + "/bad-accept")
        assert ours_left(asyncio.get_running_loop()) == []

    run(main())


def test_an_async_url_provider_is_awaited(server: Server) -> None:
    calls: list[int] = []

    async def url() -> tuple[str, dict[str, str]]:
        await asyncio.sleep(0)
        calls.append(1)
        return server.url + "/echo", {"X-Token": f"t{len(calls)}"}

    async def main() -> None:
        async with ssa.connect(url) as ws:
            await ws.send("x")
            assert await ws.recv() == "x"

    run(main())
    assert calls == [1] and server.requests[-1]["x-token"] == "t1"


FAST = {"backoff": {"min_ms": 1, "max_ms": 1, "jitter": "none"}}


def test_the_reconnecting_iterator_survives_reconnects(server: Server) -> None:
    async def main() -> None:
        loop = asyncio.get_running_loop()
        async with ssa.connect(server.url + "/hello-then-close", reconnect=True, session_options=FAST) as ws:
            assert isinstance(ws, ssa.ReconnectingConnection)
            got = []
            async for message in ws:
                got.append(message)
                if len(got) == 5:
                    break
            assert got == [f"hello {n}" for n in range(1, 6)]
            assert ws.opens >= 5 and ws.recovered is False
        assert ws.closed
        assert ours_left(loop) == []

    run(main())


def test_an_async_url_provider_runs_for_every_attempt(server: Server) -> None:
    attempts: list[int] = []

    async def url() -> str:
        await asyncio.sleep(0)
        attempts.append(len(attempts) + 1)
        return f"{server.url}/hello-then-close?n={len(attempts)}"

    async def main() -> None:
        async with ssa.connect(url, reconnect=True, session_options=FAST) as ws:
            for _ in range(3):
                await asyncio.wait_for(ws.recv(), 5)

    run(main())
    assert server.paths[:3] == [f"/hello-then-close?n={n}" for n in (1, 2, 3)]
    assert attempts[:3] == [1, 2, 3]


def test_reconnecting_sends_echo_and_ping(server: Server) -> None:
    async def main() -> None:
        async with ssa.connect(server.url + "/echo", reconnect=True) as ws:
            await ws.send("one")
            await ws.send(b"two")
            assert [await ws.recv(), await ws.recv()] == ["one", b"two"]
            assert await asyncio.wait_for(await ws.ping(), 5) >= 0

    run(main())


def test_cancelling_a_connect_that_keeps_retrying_leaves_nothing_behind() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # bound, not listening: every attempt is refused

    async def main() -> None:
        loop = asyncio.get_running_loop()
        task = asyncio.ensure_future(
            ssa.connect(f"ws://127.0.0.1:{port}/", reconnect=True, session_options=FAST).__aenter__()
        )
        await asyncio.sleep(0.2)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        gc.collect()
        assert ours_left(loop) == []

    run(main())


def test_closing_from_inside_the_iterator_while_cancelled_leaves_nothing(server: Server) -> None:
    async def main() -> None:
        loop = asyncio.get_running_loop()
        ws = await ssa.connect(server.url + "/echo")
        closer = asyncio.ensure_future(ws.close())
        await asyncio.sleep(0)
        closer.cancel()
        with pytest.raises(asyncio.CancelledError):
            await closer
        assert ws.closed
        await asyncio.sleep(0.01)
        assert ours_left(loop) == []

    run(main())


def test_recovered_is_visible_after_a_resumed_reconnect(fault_server: Any) -> None:
    options = {"recovery": True, "backoff": {"min_ms": 20, "max_ms": 50, "jitter": "none"}}

    async def main() -> None:
        async with ssa.connect(fault_server.url, reconnect=True, session_options=options) as ws:
            assert ws.opens == 1 and ws.recovered is False
            assert fault_server.command("send 3") == "ok"
            assert [await asyncio.wait_for(ws.recv(), 5) for _ in range(3)] == ["m1", "m2", "m3"]
            # The server restarts keeping its log; m4, m5 are sent while the client is away.
            assert fault_server.command("restart 200 keep") == "ok"
            assert fault_server.command("send 2") == "ok"
            assert [await asyncio.wait_for(ws.recv(), 5) for _ in range(2)] == ["m4", "m5"]
            assert ws.opens == 2 and ws.recovered is True

    run(main())
    assert fault_server.status()["resumed"] == 1


def test_a_disconnect_warning_moves_the_reconnecting_iterator_without_a_gap(server: Server) -> None:
    async def main() -> None:
        warning = {"json": {"type": "disconnect"}}
        async with ssa.connect(server.url + "/slack", reconnect=True, disconnect_warning=warning) as ws:
            assert isinstance(ws, ssa.ReconnectingConnection)
            got = [await asyncio.wait_for(ws.recv(), 5) for _ in range(2)]
            assert got == ['{"type":"hello"}'] * 2
            await ws.send("after")
            assert await asyncio.wait_for(ws.recv(), 5) == "after"
            assert ws.opens == 1

    run(main())
    events = server.events_once("open 2", "closed 1")
    assert events.index("open 2") < events.index("closed 1"), events


def test_proxies_and_sslopt(server: Server, tls_server: Server, test_ca: Any, tmp_path: Path) -> None:
    ca_file = tmp_path / "ca.pem"
    test_ca.cert_pem.write_to_path(str(ca_file))
    http_proxy = ConnectProxy(auth=("u", "p"))
    socks = SocksProxy()

    async def echo(url: str, reconnect: bool = False, **options: Any) -> Any:
        async with ssa.connect(url, reconnect=reconnect, http_no_proxy=[], **options) as ws:
            await ws.send("hi")
            return await ws.recv()

    async def main() -> None:
        # wss:// with websocket-client's sslopt, through an HTTP CONNECT proxy with auth.
        for reconnect in (False, True):
            got = await echo(
                tls_server.url + "/echo",
                reconnect,
                sslopt={"ca_certs": str(ca_file)},
                http_proxy_host="127.0.0.1",
                http_proxy_port=http_proxy.port,
                http_proxy_auth=("u", "p"),
            )
            assert got == "hi"
        assert http_proxy.tunnels == [tls_server.url.split("//")[1]] * 2
        with pytest.raises(steadysock.WebSocketProxyException):
            await echo(server.url + "/echo", http_proxy_host="127.0.0.1", http_proxy_port=http_proxy.port)
        # SOCKS5 with the name resolved by the proxy, plain and reconnecting.
        for reconnect in (False, True):
            got = await echo(
                f"ws://localhost:{server.port}/echo",
                reconnect,
                http_proxy_host="127.0.0.1",
                http_proxy_port=socks.port,
                proxy_type="socks5h",
            )
            assert got == "hi"
        assert socks.requests == [(5, "domain", "localhost", server.port)] * 2
        # Without the CA, sslopt verification fails.
        with pytest.raises(ssl.SSLError):
            await echo(tls_server.url + "/echo", sslopt={"cert_reqs": ssl.CERT_REQUIRED})

    try:
        run(main())
    finally:
        http_proxy.close()
        socks.close()
