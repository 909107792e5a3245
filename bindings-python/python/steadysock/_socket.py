"""Socket options and the module-wide default timeout, as websocket-client has them."""

from __future__ import annotations

import socket
from typing import Any, Optional, Union

__all__ = ["DEFAULT_SOCKET_OPTION", "sock_opt", "setdefaulttimeout", "getdefaulttimeout"]

DEFAULT_SOCKET_OPTION: list[tuple[int, int, int]] = [(socket.SOL_TCP, socket.TCP_NODELAY, 1)]
if hasattr(socket, "SO_KEEPALIVE"):
    DEFAULT_SOCKET_OPTION.append((socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1))
if hasattr(socket, "TCP_KEEPIDLE"):
    DEFAULT_SOCKET_OPTION.append((socket.SOL_TCP, socket.TCP_KEEPIDLE, 30))
if hasattr(socket, "TCP_KEEPINTVL"):
    DEFAULT_SOCKET_OPTION.append((socket.SOL_TCP, socket.TCP_KEEPINTVL, 10))
if hasattr(socket, "TCP_KEEPCNT"):
    DEFAULT_SOCKET_OPTION.append((socket.SOL_TCP, socket.TCP_KEEPCNT, 3))

_default_timeout: Optional[Union[int, float]] = None


class sock_opt:
    """``sockopt`` (tuples for ``setsockopt``), ``sslopt`` (dict) and the timeout of one
    WebSocket."""

    def __init__(self, sockopt: Optional[list[tuple[Any, ...]]], sslopt: Optional[dict[str, Any]]) -> None:
        self.sockopt: list[tuple[Any, ...]] = list(sockopt) if sockopt else []
        self.sslopt: dict[str, Any] = dict(sslopt) if sslopt else {}
        self.timeout: Optional[Union[int, float]] = None


def setdefaulttimeout(timeout: Optional[Union[int, float]]) -> None:
    """Sets the timeout (seconds) that ``create_connection`` uses when given none."""
    global _default_timeout
    _default_timeout = timeout


def getdefaulttimeout() -> Optional[Union[int, float]]:
    """The timeout set by ``setdefaulttimeout`` (None: block)."""
    return _default_timeout
