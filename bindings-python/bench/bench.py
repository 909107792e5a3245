"""One contender of the Python client benchmark (bench/run.sh): client CPU (this process's
CPU time, ``time.process_time``) per sequential 16-byte echo round trip and per MiB echoed
(1 MiB binary messages, sent and received back one at a time). Prints one JSON line.

``python bench.py CONTENDER URL ROUNDS MIBS``; contenders: steadysock, steadysock-asyncio,
websocket-client, websocket-client+wsaccel, websockets, aiohttp. Compression is off for
every client (the echo server would otherwise compress for some and not others).
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from typing import Any, Callable

SMALL = os.urandom(16)
BIG = os.urandom(1 << 20)
WARMUP = 200


def measure_sync(send: Callable[[bytes], Any], recv: Callable[[], Any], rounds: int, mibs: int) -> tuple[float, float]:
    for _ in range(WARMUP):
        send(SMALL)
        recv()
    t0 = time.process_time()
    for _ in range(rounds):
        send(SMALL)
        recv()
    rt = time.process_time() - t0
    send(BIG)
    assert len(recv()) == len(BIG)
    t0 = time.process_time()
    for _ in range(mibs):
        send(BIG)
        recv()
    return rt / rounds * 1e6, (time.process_time() - t0) / mibs * 1e3


async def measure_async(send: Any, recv: Any, rounds: int, mibs: int) -> tuple[float, float]:
    for _ in range(WARMUP):
        await send(SMALL)
        await recv()
    t0 = time.process_time()
    for _ in range(rounds):
        await send(SMALL)
        await recv()
    rt = time.process_time() - t0
    await send(BIG)
    assert len(await recv()) == len(BIG)
    t0 = time.process_time()
    for _ in range(mibs):
        await send(BIG)
        await recv()
    return rt / rounds * 1e6, (time.process_time() - t0) / mibs * 1e3


def run(name: str, url: str, rounds: int, mibs: int) -> tuple[float, float]:
    if name == "steadysock":
        import steadysock

        ws = steadysock.create_connection(url, enable_deflate=False)
        r = measure_sync(ws.send_binary, ws.recv, rounds, mibs)
        ws.close()
        return r
    if name.startswith("websocket-client"):
        if "wsaccel" not in name:
            sys.modules["wsaccel"] = None  # type: ignore[assignment]  # websocket-client falls back to pure Python
        import websocket

        ws = websocket.create_connection(url)
        r = measure_sync(ws.send_binary, ws.recv, rounds, mibs)
        ws.close()
        return r
    if name == "steadysock-asyncio":
        import steadysock.asyncio

        async def main() -> tuple[float, float]:
            async with steadysock.asyncio.connect(url, compression=None, ping_interval=None) as ws:
                return await measure_async(ws.send, ws.recv, rounds, mibs)

        return asyncio.run(main())
    if name == "websockets":
        from websockets.asyncio.client import connect

        async def main() -> tuple[float, float]:
            async with connect(url, compression=None, ping_interval=None, max_size=None) as ws:
                return await measure_async(ws.send, ws.recv, rounds, mibs)

        return asyncio.run(main())
    if name == "aiohttp":
        import aiohttp

        async def main() -> tuple[float, float]:
            async with aiohttp.ClientSession() as session:
                async with session.ws_connect(url, max_msg_size=0, autoping=True) as ws:

                    async def recv() -> bytes:
                        msg = await ws.receive()
                        return msg.data  # type: ignore[no-any-return]

                    return await measure_async(ws.send_bytes, recv, rounds, mibs)

        return asyncio.run(main())
    raise SystemExit(f"unknown contender {name}")


if __name__ == "__main__":
    name, url, rounds, mibs = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    rt_us, mib_ms = run(name, url, rounds, mibs)
    print(json.dumps({"contender": name, "rt_us": rt_us, "mib_ms": mib_ms, "rounds": rounds, "mibs": mibs}))
