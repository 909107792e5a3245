"""websocket-client's echo example, unchanged but for the import."""

from __future__ import annotations

import sys

import steadysock as websocket


def main(url: str) -> None:
    ws = websocket.create_connection(url, timeout=10)
    ws.send("Hello, World")
    print("received:", ws.recv())
    ws.ping("still there?")
    opcode, data = ws.recv_data(control_frame=True)
    print("control frame:", websocket.ABNF.OPCODE_MAP[opcode], data)
    ws.close()


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "ws://127.0.0.1:9002/")
