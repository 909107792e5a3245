"""websocket-client's own fake-socket tests (its tests/test_websocket.py: ``SockMock``),
written from its documented behaviour and run against ``import steadysock as ws``.

Its server frames are masked (key ``abcd``), which RFC 6455 forbids and websocket-client
accepts: the compat ``WebSocket`` turns on the core's ``accept_masked_frames``. Tests that
need the network (``testIter``, ``testNext``, ``testWebSocket``…) or websocket-client's
internals (``frame_buffer.recv_strict``) are not ported.
"""

from __future__ import annotations

import socket
from typing import Optional, Union

import pytest

import steadysock as ws


def create_mask_key(_: int) -> str:
    return "abcd"


class SockMock:
    def __init__(self) -> None:
        self.data: list[Union[bytes, Exception]] = []
        self.sent: list[bytes] = []

    def add_packet(self, data: Union[bytes, Exception]) -> None:
        self.data.append(data)

    def gettimeout(self) -> Optional[float]:
        return None

    def recv(self, bufsize: int) -> Optional[bytes]:
        if self.data:
            e = self.data.pop(0)
            if isinstance(e, Exception):
                raise e
            if len(e) > bufsize:
                self.data.insert(0, e[bufsize:])
            return e[:bufsize]
        return None

    def send(self, data: bytes) -> int:
        self.sent.append(bytes(data))
        return len(data)

    def close(self) -> None:
        pass


def test_send() -> None:
    sock = ws.WebSocket()
    sock.set_mask_key(create_mask_key)
    s = sock.sock = SockMock()
    sock.send("Hello")
    assert s.sent[0] == b"\x81\x85abcd)\x07\x0f\x08\x0e"
    sock.send("こんにちは")
    assert s.sent[1] == b"\x81\x8fabcd\x82\xe3\xf0\x87\xe3\xf1\x80\xe5\xca\x81\xe2\xc5\x82\xe3\xcc"
    assert sock.send_binary(b"1111111111101") == 19


def test_recv() -> None:
    sock = ws.WebSocket()
    s = sock.sock = SockMock()
    something = b"\x81\x8fabcd\x82\xe3\xf0\x87\xe3\xf1\x80\xe5\xca\x81\xe2\xc5\x82\xe3\xcc"
    s.add_packet(something)
    assert sock.recv() == "こんにちは"
    s.add_packet(b"\x81\x85abcd)\x07\x0f\x08\x0e")
    assert sock.recv() == "Hello"


def test_recv_timeout() -> None:
    sock = ws.WebSocket()
    s = sock.sock = SockMock()
    s.add_packet(b"\x81")
    s.add_packet(socket.timeout())
    s.add_packet(b"\x8dabcd\x29\x07\x0f\x08\x0e")
    s.add_packet(socket.timeout())
    s.add_packet(b"\x4e\x43\x33\x0e\x10\x0f\x00\x40")
    with pytest.raises(ws.WebSocketTimeoutException):
        sock.recv()
    with pytest.raises(ws.WebSocketTimeoutException):
        sock.recv()
    assert sock.recv() == "Hello, World!"
    with pytest.raises(ws.WebSocketConnectionClosedException):
        sock.recv()


def test_recv_with_simple_fragmentation() -> None:
    sock = ws.WebSocket()
    s = sock.sock = SockMock()
    # OPCODE=TEXT, FIN=0, MSG="Brevity is "
    s.add_packet(b"\x01\x8babcd#\x10\x06\x12\x08\x16\x1aD\x08\x11C")
    # OPCODE=CONT, FIN=1, MSG="the soul of wit"
    s.add_packet(b"\x80\x8fabcd\x15\n\x06D\x12\r\x16\x08A\r\x05D\x16\x0b\x17")
    assert sock.recv() == "Brevity is the soul of wit"
    with pytest.raises(ws.WebSocketConnectionClosedException):
        sock.recv()


def test_close() -> None:
    sock = ws.WebSocket()
    s = sock.sock = SockMock()
    sock.connected = True
    # A masked close frame without a payload.
    s.add_packet(b"\x88\x80\x17\x98p\x84")
    sock.recv()
    assert sock.connected is False


def test_recv_cont_fragmentation() -> None:
    sock = ws.WebSocket()
    s = sock.sock = SockMock()
    # OPCODE=CONT, FIN=1, MSG="the soul of wit": a continuation with nothing to continue
    s.add_packet(b"\x80\x8fabcd\x15\n\x06D\x12\r\x16\x08A\r\x05D\x16\x0b\x17")
    with pytest.raises(ws.WebSocketException):
        sock.recv()


def test_recv_with_fire_event_of_fragmentation() -> None:
    sock = ws.WebSocket(fire_cont_frame=True)
    s = sock.sock = SockMock()
    # OPCODE=TEXT, FIN=0, MSG="Brevity is "
    s.add_packet(b"\x01\x8babcd#\x10\x06\x12\x08\x16\x1aD\x08\x11C")
    # OPCODE=CONT, FIN=0, MSG="Brevity is "
    s.add_packet(b"\x00\x8babcd#\x10\x06\x12\x08\x16\x1aD\x08\x11C")
    # OPCODE=CONT, FIN=1, MSG="the soul of wit"
    s.add_packet(b"\x80\x8fabcd\x15\n\x06D\x12\r\x16\x08A\r\x05D\x16\x0b\x17")
    assert sock.recv_data(True) == (ws.ABNF.OPCODE_TEXT, b"Brevity is ")
    assert sock.recv_data(True) == (ws.ABNF.OPCODE_CONT, b"Brevity is ")
    assert sock.recv_data(True) == (ws.ABNF.OPCODE_CONT, b"the soul of wit")
    # OPCODE=CONT, FIN=1, MSG="Brevity is ": nothing to continue
    s.add_packet(b"\x80\x8babcd#\x10\x06\x12\x08\x16\x1aD\x08\x11C")
    with pytest.raises(ws.WebSocketProtocolException):
        sock.recv_data()


def test_recv_with_prolonged_fragmentation() -> None:
    sock = ws.WebSocket()
    s = sock.sock = SockMock()
    # OPCODE=TEXT, FIN=0, MSG="Once more unto the breach, "
    s.add_packet(b"\x01\x9babcd.\x0c\x00\x01A\x0f\x0c\x16\x04B\x16\n\x15\rC\x10\t\x07C\x06\x13\x07\x02\x07\tNC")
    # OPCODE=CONT, FIN=0, MSG="dear friends, "
    s.add_packet(b"\x00\x8eabcd\x05\x07\x02\x16A\x04\x11\r\x04\x0c\x07\x17MB")
    # OPCODE=CONT, FIN=1, MSG="once more"
    s.add_packet(b"\x80\x89abcd\x0e\x0c\x00\x01A\x0f\x0c\x16\x04")
    assert sock.recv() == "Once more unto the breach, dear friends, once more"
    with pytest.raises(ws.WebSocketConnectionClosedException):
        sock.recv()


def test_recv_with_fragmentation_and_control_frame() -> None:
    sock = ws.WebSocket()
    sock.set_mask_key(create_mask_key)
    s = sock.sock = SockMock()
    # OPCODE=TEXT, FIN=0, MSG="Too much "
    s.add_packet(b"\x01\x89abcd5\r\x0cD\x0c\x17\x00\x0cA")
    # OPCODE=PING, FIN=1, MSG="Please PONG this"
    s.add_packet(b"\x89\x90abcd1\x0e\x06\x05\x12\x07C4.,$D\x15\n\n\x17")
    # OPCODE=CONT, FIN=1, MSG="of a good thing"
    s.add_packet(b"\x80\x8fabcd\x0e\x04C\x05A\x05\x0c\x0b\x05B\x17\x0c\x08\x0c\x04")
    assert sock.recv() == "Too much of a good thing"
    with pytest.raises(ws.WebSocketConnectionClosedException):
        sock.recv()
    # The ping was answered with its payload, masked with the given key.
    assert s.sent[0] == b"\x8a\x90abcd1\x0e\x06\x05\x12\x07C4.,$D\x15\n\n\x17"


def test_masked_binary_and_ping_through_recv_data() -> None:
    sock = ws.WebSocket()
    s = sock.sock = SockMock()
    # A masked ping ("hb"), then a masked binary message.
    s.add_packet(b"\x89\x82abcd\x09\x00")
    s.add_packet(b"\x82\x83abcd\x60\x60\x60")
    assert sock.recv_data(control_frame=True) == (ws.ABNF.OPCODE_PING, b"hb")
    assert sock.recv_data() == (ws.ABNF.OPCODE_BINARY, b"\x01\x02\x03")
