"""Code and tests in the wild replace ``ws.sock`` with an object of their own, as
websocket-client's own tests do. Server frames here are unmasked (RFC 6455 §5.1)."""

from __future__ import annotations

import socket
from typing import Optional, Union

import pytest

import steadysock as websocket


def mask_abcd(_: int) -> str:
    return "abcd"


class FakeSocket:
    def __init__(self) -> None:
        self.data: list[Union[bytes, Exception]] = []
        self.sent: list[bytes] = []

    def add_packet(self, data: Union[bytes, Exception]) -> None:
        self.data.append(data)

    def gettimeout(self) -> Optional[float]:
        return None

    def recv(self, bufsize: int) -> Optional[bytes]:
        if not self.data:
            return None
        e = self.data.pop(0)
        if isinstance(e, Exception):
            raise e
        if len(e) > bufsize:
            self.data.insert(0, e[bufsize:])
        return e[:bufsize]

    def send(self, data: bytes) -> int:
        self.sent.append(bytes(data))
        return len(data)

    def close(self) -> None:
        pass


def test_send_masks_with_the_given_key() -> None:
    ws = websocket.WebSocket()
    ws.set_mask_key(mask_abcd)
    s = ws.sock = FakeSocket()
    ws.send("Hello")
    assert s.sent[0] == b"\x81\x85abcd)\x07\x0f\x08\x0e"
    ws.send("こんにちは")
    assert s.sent[1] == b"\x81\x8fabcd\x82\xe3\xf0\x87\xe3\xf1\x80\xe5\xca\x81\xe2\xc5\x82\xe3\xcc"
    assert ws.send_binary(b"1111111111101") == 19


def test_recv_text() -> None:
    ws = websocket.WebSocket()
    s = ws.sock = FakeSocket()
    s.add_packet(b"\x81\x0f" + "こんにちは".encode())
    assert ws.recv() == "こんにちは"
    s.add_packet(b"\x81\x05Hello")
    assert ws.recv() == "Hello"


def test_recv_timeout_keeps_partial_frames() -> None:
    ws = websocket.WebSocket()
    s = ws.sock = FakeSocket()
    s.add_packet(b"\x81")
    s.add_packet(socket.timeout())
    s.add_packet(b"\x0dHello")
    s.add_packet(socket.timeout())
    s.add_packet(b", World!")
    with pytest.raises(websocket.WebSocketTimeoutException):
        ws.recv()
    with pytest.raises(websocket.WebSocketTimeoutException):
        ws.recv()
    assert ws.recv() == "Hello, World!"
    with pytest.raises(websocket.WebSocketConnectionClosedException):
        ws.recv()


def test_fragments_with_a_ping_between_are_one_message_and_the_ping_is_answered() -> None:
    ws = websocket.WebSocket()
    ws.set_mask_key(mask_abcd)
    s = ws.sock = FakeSocket()
    s.add_packet(b"\x01\x09Too much ")
    s.add_packet(b"\x89\x10Please PONG this")
    s.add_packet(b"\x80\x0fof a good thing")
    assert ws.recv() == "Too much of a good thing"
    with pytest.raises(websocket.WebSocketConnectionClosedException):
        ws.recv()
    assert s.sent[0] == b"\x8a\x90abcd" + websocket.ABNF.mask(b"abcd", b"Please PONG this")


def test_recv_frame_returns_each_frame_as_it_came() -> None:
    ws = websocket.WebSocket()
    s = ws.sock = FakeSocket()
    # "é" (c3 a9) is cut between the first two frames; a ping comes between them.
    s.add_packet(b"\x01\x02H\xc3")
    s.add_packet(b"\x89\x01p")
    s.add_packet(b"\x00\x04\xa9llo")
    s.add_packet(b"\x80\x01!")
    s.add_packet(b"\x82\x03bin")
    got = [ws.recv_frame() for _ in range(5)]
    assert [(f.fin, f.opcode, f.data) for f in got] == [
        (0, websocket.ABNF.OPCODE_TEXT, b"H\xc3"),
        (1, websocket.ABNF.OPCODE_PING, b"p"),
        (0, websocket.ABNF.OPCODE_CONT, b"\xa9llo"),
        (1, websocket.ABNF.OPCODE_CONT, b"!"),
        (1, websocket.ABNF.OPCODE_BINARY, b"bin"),
    ]
    assert all(isinstance(f, websocket.ABNF) for f in got)
    # The same stream read by message: whole messages, the fragments not seen.
    ws2 = websocket.WebSocket()
    s2 = ws2.sock = FakeSocket()
    for packet in (b"\x01\x02H\xc3", b"\x89\x01p", b"\x00\x04\xa9llo", b"\x80\x01!", b"\x82\x03bin"):
        s2.add_packet(packet)
    assert ws2.recv() == "Héllo!"
    assert ws2.recv_data_frame()[1].data == b"bin"


def test_fire_cont_frame_keeps_the_utf8_check() -> None:
    ws = websocket.WebSocket(fire_cont_frame=True)
    s = ws.sock = FakeSocket()
    s.add_packet(b"\x01\x02ok")
    s.add_packet(b"\x80\x02\xff!")
    assert ws.recv_data_frame()[1].data == b"ok"
    with pytest.raises(websocket.WebSocketPayloadException):
        ws.recv_data_frame()


def test_continuation_without_start_is_a_protocol_error_and_closes_1002() -> None:
    ws = websocket.WebSocket()
    ws.set_mask_key(mask_abcd)
    s = ws.sock = FakeSocket()
    s.add_packet(b"\x80\x0fthe soul of wit")
    with pytest.raises(websocket.WebSocketProtocolException):
        ws.recv()
    # The core answered with a masked close frame carrying 1002.
    frame = s.sent[-1]
    assert frame[0] == 0x88 and frame[1] & 0x80 and frame[2:6] == b"abcd"
    assert websocket.ABNF.mask(b"abcd", frame[6:])[:2] == b"\x03\xea"


def test_invalid_utf8_is_a_payload_error() -> None:
    ws = websocket.WebSocket()
    s = ws.sock = FakeSocket()
    s.add_packet(b"\x81\x02\xc3\x28")
    with pytest.raises(websocket.WebSocketPayloadException):
        ws.recv()


def test_close_frame_from_peer() -> None:
    ws = websocket.WebSocket()
    s = ws.sock = FakeSocket()
    ws.connected = True
    s.add_packet(b"\x88\x02\x03\xe8")
    assert ws.recv() == ""
    assert ws.connected is False


def test_close_without_socket_does_not_raise() -> None:
    ws = websocket.WebSocket()
    ws.connected = True
    ws.close()
    assert ws.connected is False


def test_monkeypatched_send_sees_close_payload() -> None:
    ws = websocket.WebSocket()
    captured: dict[str, object] = {}

    def fake_send(payload: bytes, opcode: int) -> int:
        captured["payload"], captured["opcode"] = payload, opcode
        return len(payload)

    ws.send = fake_send  # type: ignore[method-assign, assignment]
    ws.connected = True
    ws.send_close(reason="normal close")
    assert captured["opcode"] == websocket.ABNF.OPCODE_CLOSE
    assert isinstance(captured["payload"], bytes) and captured["payload"].endswith(b"normal close")


def test_subclass_keeps_working() -> None:
    class Counting(websocket.WebSocket):
        sends = 0

        def send(self, payload: Union[bytes, str], opcode: int = websocket.ABNF.OPCODE_TEXT) -> int:
            Counting.sends += 1
            return super().send(payload, opcode)

    ws = Counting()
    ws.sock = FakeSocket()
    ws.send_text("a")
    ws.send_binary(b"b")
    assert Counting.sends == 2
