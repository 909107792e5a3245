"""The exception hierarchy of websocket-client, with the same names and attributes."""

from __future__ import annotations

from typing import Any, Optional

__all__ = [
    "WebSocketException",
    "WebSocketProtocolException",
    "WebSocketPayloadException",
    "WebSocketConnectionClosedException",
    "WebSocketTimeoutException",
    "WebSocketProxyException",
    "WebSocketBadStatusException",
    "WebSocketAddressException",
]


class WebSocketException(Exception):
    """Base of every exception this package raises on purpose."""


class WebSocketProtocolException(WebSocketException):
    """The peer broke the WebSocket protocol."""


class WebSocketPayloadException(WebSocketException):
    """A payload was invalid (e.g. a text message that is not UTF-8)."""


class WebSocketConnectionClosedException(WebSocketException):
    """The connection is closed, or the peer or the network ended it."""


class WebSocketTimeoutException(WebSocketException):
    """A socket read or write timed out."""


class WebSocketProxyException(WebSocketException):
    """The HTTP proxy refused or failed the tunnel."""


class WebSocketBadStatusException(WebSocketException):
    """The server answered the upgrade with an HTTP status other than 101."""

    def __init__(
        self,
        message: str,
        status_code: int,
        status_message: Optional[str] = None,
        resp_headers: Optional[dict[str, Any]] = None,
        resp_body: Optional[bytes] = None,
    ) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.status_message = status_message
        self.resp_headers = resp_headers
        self.resp_body = resp_body


class WebSocketAddressException(WebSocketException):
    """The host name could not be resolved."""
