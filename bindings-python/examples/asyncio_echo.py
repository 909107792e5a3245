"""The asyncio API: a plain connection, then a reconnecting one with an async URL provider."""

from __future__ import annotations

import asyncio
import sys

import steadysock.asyncio


async def plain(url: str) -> None:
    async with steadysock.asyncio.connect(url) as ws:
        await ws.send("Hello, World")
        print("received:", await ws.recv())
        pong = await ws.ping()
        print("round trip:", await pong)


async def reconnecting(url: str) -> None:
    async def fresh_url() -> str:
        # e.g. fetch a new token here; called before every attempt
        return url

    async with steadysock.asyncio.connect(fresh_url, reconnect=True) as ws:
        await ws.send("hi")
        async for message in ws:  # survives reconnects; ends on close()
            print("received:", message, "recovered:", ws.recovered)
            await ws.close()


if __name__ == "__main__":
    target = sys.argv[1] if len(sys.argv) > 1 else "ws://127.0.0.1:9002/"
    asyncio.run(plain(target))
    asyncio.run(reconnecting(target))
