"""Module-level names: ABNF, STATUS_*, exceptions, timeouts, logging."""

from __future__ import annotations

import logging

import pytest

import steadysock as websocket
from steadysock import ABNF


def test_status_constants() -> None:
    expected = {
        "STATUS_NORMAL": 1000, "STATUS_GOING_AWAY": 1001, "STATUS_PROTOCOL_ERROR": 1002,
        "STATUS_UNSUPPORTED_DATA_TYPE": 1003, "STATUS_STATUS_NOT_AVAILABLE": 1005,
        "STATUS_ABNORMAL_CLOSED": 1006, "STATUS_INVALID_PAYLOAD": 1007, "STATUS_POLICY_VIOLATION": 1008,
        "STATUS_MESSAGE_TOO_BIG": 1009, "STATUS_INVALID_EXTENSION": 1010, "STATUS_UNEXPECTED_CONDITION": 1011,
        "STATUS_SERVICE_RESTART": 1012, "STATUS_TRY_AGAIN_LATER": 1013, "STATUS_BAD_GATEWAY": 1014,
        "STATUS_TLS_HANDSHAKE_ERROR": 1015,
    }  # fmt: skip
    for name, value in expected.items():
        assert getattr(websocket, name) == value


def test_exception_hierarchy() -> None:
    for name in (
        "WebSocketProtocolException", "WebSocketPayloadException", "WebSocketConnectionClosedException",
        "WebSocketTimeoutException", "WebSocketProxyException", "WebSocketBadStatusException",
        "WebSocketAddressException",
    ):  # fmt: skip
        assert issubclass(getattr(websocket, name), websocket.WebSocketException)
    e = websocket.WebSocketBadStatusException("m", 403, "Forbidden", {"a": "b"}, b"body")
    assert (e.status_code, e.status_message, e.resp_headers, e.resp_body) == (403, "Forbidden", {"a": "b"}, b"body")


def test_abnf_constants_and_format() -> None:
    assert (ABNF.OPCODE_CONT, ABNF.OPCODE_TEXT, ABNF.OPCODE_BINARY) == (0, 1, 2)
    assert (ABNF.OPCODE_CLOSE, ABNF.OPCODE_PING, ABNF.OPCODE_PONG) == (8, 9, 0xA)
    assert ABNF.OPCODE_MAP[ABNF.OPCODE_PONG] == "pong" and len(ABNF.OPCODES) == 6
    assert (ABNF.LENGTH_7, ABNF.LENGTH_16, ABNF.LENGTH_63) == (0x7E, 1 << 16, 1 << 63)
    f = ABNF(1, 0, 0, 0, ABNF.OPCODE_TEXT, 0, "hi")
    assert f.format() == b"\x81\x02hi"
    big = ABNF(0, 0, 0, 0, ABNF.OPCODE_BINARY, 0, b"x" * 70000)
    assert big.format()[:10] == b"\x02\x7f" + (70000).to_bytes(8, "big")
    masked = ABNF.create_frame("Hello", ABNF.OPCODE_TEXT)
    masked.get_mask_key = lambda n: b"abcd"
    assert masked.format() == b"\x81\x85abcd)\x07\x0f\x08\x0e"
    assert ABNF(1, 0, 1, 0, ABNF.OPCODE_TEXT, 0, "").format() == b"\xa1\x00"
    with pytest.raises(ValueError):
        ABNF(2, 0, 0, 0, ABNF.OPCODE_TEXT, 0, "").format()
    with pytest.raises(ValueError):
        ABNF(1, 0, 0, 0, 3, 0, "").format()


def test_abnf_mask_round_trip() -> None:
    data = bytes(range(256)) * 40
    assert ABNF.mask("abcd", ABNF.mask(b"abcd", data)) == data
    assert ABNF.mask(b"\x00\x00\x00\x00", b"same") == b"same"


def test_abnf_validate() -> None:
    ABNF(1, 0, 0, 0, ABNF.OPCODE_CLOSE, 0, b"\x03\xe8ok").validate()
    for bad in (b"\x03", b"\x03\xe8\xff", b"\x03\xed", b"\x00\x00"):
        with pytest.raises(websocket.WebSocketProtocolException):
            ABNF(1, 0, 0, 0, ABNF.OPCODE_CLOSE, 0, bad).validate()
    with pytest.raises(websocket.WebSocketProtocolException):
        ABNF(1, 1, 0, 0, ABNF.OPCODE_TEXT, 0, b"").validate()
    with pytest.raises(websocket.WebSocketProtocolException):
        ABNF(0, 0, 0, 0, ABNF.OPCODE_PING, 0, b"").validate()


def test_default_timeout() -> None:
    assert websocket.getdefaulttimeout() is None
    websocket.setdefaulttimeout(10)
    try:
        assert websocket.getdefaulttimeout() == 10
    finally:
        websocket.setdefaulttimeout(None)


def test_enable_trace_logs_through_the_steadysock_logger(caplog: pytest.LogCaptureFixture) -> None:
    handler = logging.NullHandler()
    websocket.enableTrace(True, handler)
    try:
        assert websocket.isEnabledForTrace()
        with caplog.at_level(logging.DEBUG, logger="steadysock"):
            websocket.dump("title", "body")
            websocket.trace("traced")
        assert [r.name for r in caplog.records] == ["steadysock"] * 4
        assert "traced" in caplog.text and "--- title ---" in caplog.text
    finally:
        websocket.enableTrace(False)
    assert not websocket.isEnabledForTrace()
