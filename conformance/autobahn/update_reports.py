#!/usr/bin/env python3
"""Ask a running `wstest -m fuzzingserver` to write its reports for an agent (/updateReports).

run.sh uses this only as a fallback, when the client under test exited (crashed, timed out)
without doing it, so the cases that did run are still reported.  Standard library only.
"""

from __future__ import annotations

import argparse
import base64
import os
import socket
import sys
import time
import urllib.parse


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--server", default="ws://127.0.0.1:9001")
    p.add_argument("--agent", required=True)
    p.add_argument("--timeout", type=float, default=120.0)
    args = p.parse_args()

    url = urllib.parse.urlsplit(args.server)
    host, port = url.hostname or "127.0.0.1", url.port or 80
    path = "/updateReports?agent=" + urllib.parse.quote(args.agent, safe="")
    key = base64.b64encode(os.urandom(16)).decode()
    request = (
        f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
    deadline = time.monotonic() + args.timeout
    with socket.create_connection((host, port), timeout=args.timeout) as sock:
        sock.sendall(request.encode())
        buf = b""
        while b"\r\n\r\n" not in buf:
            chunk = sock.recv(4096)
            if not chunk:
                print(
                    "update_reports: connection closed during the handshake",
                    file=sys.stderr,
                )
                return 1
            buf += chunk
        head, _, rest = buf.partition(b"\r\n\r\n")
        if b" 101 " not in head.split(b"\r\n", 1)[0]:
            print(
                f"update_reports: handshake refused: {head.decode(errors='replace')}",
                file=sys.stderr,
            )
            return 1
        # The server writes the reports, then sends a close frame: wait for it (or for EOF).
        while not rest:
            sock.settimeout(max(0.1, deadline - time.monotonic()))
            chunk = sock.recv(4096)
            if not chunk:
                break
            rest += chunk
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except OSError as exc:
        print(f"update_reports: {exc}", file=sys.stderr)
        sys.exit(1)
