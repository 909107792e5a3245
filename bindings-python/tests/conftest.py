from __future__ import annotations

import json
import os
import socket
import ssl
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest

sys.path.insert(0, os.path.dirname(__file__))

from wsserver import Server  # noqa: E402


@pytest.fixture
def server() -> Iterator[Server]:
    s = Server()
    yield s
    s.close()


@pytest.fixture(scope="session")
def test_ca() -> Any:
    trustme = pytest.importorskip("trustme")
    return trustme.CA()


@pytest.fixture
def tls_server(test_ca: Any) -> Iterator[Server]:
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    test_ca.issue_cert("localhost").configure_cert(ctx)
    s = Server(tls=ctx, host="localhost")
    yield s
    s.close()


class FaultServer:
    """The conformance fault server (``fault-server``) as a child process; ``command``
    speaks its control protocol (conformance/scenarios/README.md)."""

    def __init__(self, binary: str) -> None:
        self.proc = subprocess.Popen([binary], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout is not None
        addrs = json.loads(self.proc.stdout.readline())
        self.url = f"ws://{addrs['ws']}/ws"
        host, port = addrs["control"].rsplit(":", 1)
        self.control = socket.create_connection((host, int(port)))
        self.control.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.replies = self.control.makefile("r")

    def command(self, line: str) -> str:
        self.control.sendall(line.encode() + b"\n")
        return self.replies.readline().strip()

    def status(self) -> dict[str, Any]:
        return dict(json.loads(self.command("status")))

    def close(self) -> None:
        self.replies.close()
        self.control.close()
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        self.proc.wait(10)
        assert self.proc.stdout is not None
        self.proc.stdout.close()


@pytest.fixture
def fault_server() -> Iterator[FaultServer]:
    binary = os.environ.get(
        "STEADYSOCK_FAULT_SERVER",
        os.path.join(os.path.dirname(__file__), "..", "..", "target", "release", "fault-server"),
    )
    if not os.path.exists(binary):
        pytest.fail(f"no fault server at {binary}: test.sh builds it")
    s = FaultServer(binary)
    yield s
    s.close()
