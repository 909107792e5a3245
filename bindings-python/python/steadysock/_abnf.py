"""``ABNF`` (one WebSocket frame) and the ``STATUS_*`` close codes, as websocket-client
names them. Encoding, masking and UTF-8 checks run in the Rust core (``steadysock._core``).
"""

from __future__ import annotations

import os
import struct
from typing import Callable, Optional, Union

from . import _core
from ._exceptions import WebSocketProtocolException

__all__ = [
    "ABNF",
    "STATUS_NORMAL",
    "STATUS_GOING_AWAY",
    "STATUS_PROTOCOL_ERROR",
    "STATUS_UNSUPPORTED_DATA_TYPE",
    "STATUS_STATUS_NOT_AVAILABLE",
    "STATUS_ABNORMAL_CLOSED",
    "STATUS_INVALID_PAYLOAD",
    "STATUS_POLICY_VIOLATION",
    "STATUS_MESSAGE_TOO_BIG",
    "STATUS_INVALID_EXTENSION",
    "STATUS_UNEXPECTED_CONDITION",
    "STATUS_SERVICE_RESTART",
    "STATUS_TRY_AGAIN_LATER",
    "STATUS_BAD_GATEWAY",
    "STATUS_TLS_HANDSHAKE_ERROR",
]

STATUS_NORMAL = 1000
STATUS_GOING_AWAY = 1001
STATUS_PROTOCOL_ERROR = 1002
STATUS_UNSUPPORTED_DATA_TYPE = 1003
STATUS_STATUS_NOT_AVAILABLE = 1005
STATUS_ABNORMAL_CLOSED = 1006
STATUS_INVALID_PAYLOAD = 1007
STATUS_POLICY_VIOLATION = 1008
STATUS_MESSAGE_TOO_BIG = 1009
STATUS_INVALID_EXTENSION = 1010
STATUS_UNEXPECTED_CONDITION = 1011
STATUS_SERVICE_RESTART = 1012
STATUS_TRY_AGAIN_LATER = 1013
STATUS_BAD_GATEWAY = 1014
STATUS_TLS_HANDSHAKE_ERROR = 1015


def _as_bytes(data: Union[str, bytes, bytearray, memoryview, None], encoding: str) -> bytes:
    if data is None:
        return b""
    if isinstance(data, str):
        return data.encode(encoding)
    return bytes(data)


class ABNF:
    """One frame (RFC 6455 §5.2). See websocket-client's ``ABNF`` for the meaning of each
    attribute; ``format()`` gives the frame's bytes on the wire."""

    OPCODE_CONT = 0x0
    OPCODE_TEXT = 0x1
    OPCODE_BINARY = 0x2
    OPCODE_CLOSE = 0x8
    OPCODE_PING = 0x9
    OPCODE_PONG = 0xA
    OPCODES = (OPCODE_CONT, OPCODE_TEXT, OPCODE_BINARY, OPCODE_CLOSE, OPCODE_PING, OPCODE_PONG)
    OPCODE_MAP = {
        OPCODE_CONT: "cont",
        OPCODE_TEXT: "text",
        OPCODE_BINARY: "binary",
        OPCODE_CLOSE: "close",
        OPCODE_PING: "ping",
        OPCODE_PONG: "pong",
    }
    LENGTH_7 = 0x7E
    LENGTH_16 = 1 << 16
    LENGTH_63 = 1 << 63

    def __init__(
        self,
        fin: int = 0,
        rsv1: int = 0,
        rsv2: int = 0,
        rsv3: int = 0,
        opcode: int = OPCODE_TEXT,
        mask_value: int = 1,
        data: Optional[Union[str, bytes]] = "",
    ) -> None:
        self.fin = fin
        self.rsv1 = rsv1
        self.rsv2 = rsv2
        self.rsv3 = rsv3
        self.opcode = opcode
        self.mask_value = mask_value
        self.data: Union[str, bytes] = "" if data is None else data
        self.get_mask_key: Callable[[int], Union[bytes, str]] = os.urandom

    def validate(self, skip_utf8_validation: bool = False) -> None:
        """Raises ``WebSocketProtocolException`` for a frame a peer must not send."""
        if self.rsv1 or self.rsv2 or self.rsv3:
            raise WebSocketProtocolException("rsv is not implemented, yet")
        if self.opcode not in ABNF.OPCODES:
            raise WebSocketProtocolException(f"Invalid opcode {self.opcode!r}")
        if self.opcode == ABNF.OPCODE_PING and not self.fin:
            raise WebSocketProtocolException("Invalid ping frame.")
        if self.opcode == ABNF.OPCODE_CLOSE:
            data = _as_bytes(self.data, "utf-8")
            if not data:
                return
            if len(data) == 1 or len(data) >= 126:
                raise WebSocketProtocolException("Invalid close frame.")
            if len(data) > 2 and not skip_utf8_validation and not _core.validate_utf8(data[2:]):
                raise WebSocketProtocolException("Invalid close frame.")
            code = struct.unpack("!H", data[:2])[0]
            if not self._is_valid_close_status(code):
                raise WebSocketProtocolException(f"Invalid close opcode {code!r}")

    @staticmethod
    def _is_valid_close_status(code: int) -> bool:
        return _core.close_code_is_valid(code)

    def __str__(self) -> str:
        data_repr = self.data if isinstance(self.data, str) else repr(self.data)
        return f"fin={self.fin} opcode={self.opcode} data={data_repr}"

    @staticmethod
    def create_frame(data: Union[bytes, str], opcode: int, fin: int = 1) -> ABNF:
        """A frame carrying ``data`` (text is encoded as UTF-8)."""
        if opcode == ABNF.OPCODE_TEXT and isinstance(data, str):
            data = data.encode("utf-8")
        return ABNF(fin, 0, 0, 0, opcode, 1, data)

    def format(self) -> bytes:
        """The frame's bytes on the wire, masked with ``get_mask_key(4)`` when ``mask_value``."""
        if any(x not in (0, 1) for x in (self.fin, self.rsv1, self.rsv2, self.rsv3)):
            raise ValueError("not 0 or 1")
        if self.opcode not in ABNF.OPCODES:
            raise ValueError("Invalid OPCODE")
        data = _as_bytes(self.data, "utf-8")
        if len(data) >= ABNF.LENGTH_63:
            raise ValueError("data is too long")
        key = _as_bytes(self.get_mask_key(4), "latin-1") if self.mask_value else None
        return _core.encode_frame(
            bool(self.fin), bool(self.rsv1), bool(self.rsv2), bool(self.rsv3), self.opcode, key, data
        )

    def _get_masked(self, mask_key: Union[str, bytes]) -> bytes:
        key = _as_bytes(mask_key, "latin-1")
        return key + ABNF.mask(key, self.data)

    @staticmethod
    def mask(mask_key: Union[str, bytes], data: Union[str, bytes, None]) -> bytes:
        """``data`` XORed with the 4-byte ``mask_key`` (masking and unmasking alike)."""
        return _core.mask(_as_bytes(mask_key, "latin-1"), _as_bytes(data, "latin-1"))
