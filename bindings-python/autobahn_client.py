"""Autobahn|Testsuite client runner for the Python binding (the fuzzing server's client
role): runs every case through steadysock's public websocket-client API, echoing every
message, then asks the server to write its reports.

    python autobahn_client.py --server ws://127.0.0.1:9001 --agent steadysock-python --case-timeout 30

conformance/autobahn/run.sh runs it as a client host (see bindings-python/README.md).
"""

from __future__ import annotations

import argparse
import sys
from typing import Optional

import steadysock as websocket


def run(url: str, echo: bool, timeout: float) -> Optional[str]:
    """One exchange until the connection ends; returns the first text message."""
    ws = websocket.create_connection(url, timeout=timeout)
    first: Optional[str] = None
    try:
        while True:
            try:
                message = ws.recv()
            except (websocket.WebSocketProtocolException, websocket.WebSocketPayloadException):
                continue  # the core has failed the connection (1002/1007); read to its end
            if not ws.connected:
                continue  # a close frame: the core answered it; the server ends the stream
            if first is None and isinstance(message, str):
                first = message
            if echo:
                try:
                    # str goes out as text, bytes as binary, without a copy in Python.
                    text = isinstance(message, str)
                    ws.send(message, websocket.ABNF.OPCODE_TEXT if text else websocket.ABNF.OPCODE_BINARY)
                except websocket.WebSocketConnectionClosedException:
                    pass
    except (websocket.WebSocketConnectionClosedException, websocket.WebSocketTimeoutException, OSError):
        pass
    finally:
        ws.shutdown()
    return first


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--server", default="ws://127.0.0.1:9001")
    p.add_argument("--agent", default="steadysock-python")
    p.add_argument("--case-timeout", type=float, default=60.0)
    a = p.parse_args()
    count = int(run(f"{a.server}/getCaseCount", False, 30) or "0")
    print(f"autobahn_client.py: {count} cases", file=sys.stderr)
    for case in range(1, count + 1):
        try:
            run(f"{a.server}/runCase?case={case}&agent={a.agent}", True, a.case_timeout)
        except Exception as e:  # noqa: BLE001 - one failing case must not stop the run
            print(f"autobahn_client.py: case {case}: {e!r}", file=sys.stderr)
    run(f"{a.server}/updateReports?agent={a.agent}", False, 300)
    return 0 if count else 1


if __name__ == "__main__":
    sys.exit(main())
