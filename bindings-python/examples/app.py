"""websocket-client's WebSocketApp example, unchanged but for the import and the
reconnect delay: steadysock's session reconnects after every disconnection."""

from __future__ import annotations

import sys
from typing import Optional

import steadysock as websocket


def on_open(ws: websocket.WebSocketApp) -> None:
    print("opened")
    ws.send("Hello, World")


def on_message(ws: websocket.WebSocketApp, message: object) -> None:
    print("received:", message)
    ws.close()


def on_error(ws: websocket.WebSocketApp, error: BaseException) -> None:
    print("error:", error)


def on_close(ws: websocket.WebSocketApp, status: Optional[int], reason: Optional[str]) -> None:
    print("closed:", status, reason)


if __name__ == "__main__":
    app = websocket.WebSocketApp(
        sys.argv[1] if len(sys.argv) > 1 else "ws://127.0.0.1:9002/",
        on_open=on_open,
        on_message=on_message,
        on_error=on_error,
        on_close=on_close,
    )
    app.run_forever(reconnect=5)
